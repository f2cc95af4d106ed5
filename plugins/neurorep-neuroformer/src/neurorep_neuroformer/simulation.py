"""A simulated spiking network with known directed connectivity, a stimulus drive and a behavioural state.

numpy only (no torch): the ground truth of the plugin's checks, in the spirit of the paper's own first test
(Neuroformer was first trained on simulated circuits whose connectivity was known).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurorep.errors import InvalidInputError

__all__ = ["SpikingNetwork", "simulate_network"]


@dataclass(frozen=True)
class SpikingNetwork:
    """One simulated recording.

    Attributes
    ----------
    spikes : ndarray of shape (n_bins, n_neurons), int
        1 where the neuron spiked in the bin (Bernoulli-GLM neurons: at most one spike per bin).
    stimulus : ndarray of shape (n_bins,)
        The stimulus drive (a smooth, standardised random signal).
    behaviour : ndarray of shape (n_bins,), int
        The behavioural state (0 or 1, a slowly switching two-state Markov chain).
    weights : ndarray of shape (n_neurons, n_neurons)
        ``weights[j, i]``: the coupling (log-odds) of presynaptic ``j`` onto postsynaptic ``i`` at ``lag`` bins.
    stimulus_gain : ndarray of shape (n_neurons,)
        Each neuron's log-odds gain on the stimulus.
    behaviour_gain : ndarray of shape (n_neurons,)
        Each neuron's log-odds shift in behavioural state 1.
    lag : int
        Synaptic delay in bins.
    """

    spikes: np.ndarray
    stimulus: np.ndarray
    behaviour: np.ndarray
    weights: np.ndarray
    stimulus_gain: np.ndarray
    behaviour_gain: np.ndarray
    lag: int

    @property
    def adjacency(self) -> np.ndarray:
        """``adjacency[j, i]`` is True for an edge ``j -> i`` (pre, post)."""
        return self.weights != 0


def _positive_int(v, name: str, owner: str, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidInputError(f"{owner}: {name} must be an integer >= {lo}, got {v!r}.")
    return int(v)


def simulate_network(n_neurons: int = 12, n_bins: int = 6000, out_degree: int = 2, coupling: float = 2.5,
                     base_rate: float = 0.04, stimulus_gain: float = 1.0, behaviour_gain: float = 1.0,
                     lag: int = 1, stimulus_timescale: float = 4.0, switch_probability: float = 0.01,
                     random_state: int = 0, owner: str = "simulate_network") -> SpikingNetwork:
    """Simulate a sparse excitatory network of Bernoulli-GLM neurons.

    Every neuron ``j`` projects to ``out_degree`` distinct other neurons chosen at random, never to one that
    already projects back to it (no reciprocal pairs, so the direction of every edge is identifiable). In each
    bin neuron ``i`` spikes with probability ``sigmoid(logit(base_rate) + g_i s(t) + h_i b(t) +
    coupling * sum_j A[j, i] y_j(t - lag))``, where ``s`` is the stimulus (an AR(1) signal with time constant
    ``stimulus_timescale`` bins, standardised), ``b`` the behavioural state (0/1, switching with
    ``switch_probability`` per bin), ``g_i`` is ``stimulus_gain`` for the first half of the neurons and 0 for the
    rest, and ``h_i`` is ``behaviour_gain`` with a random sign for every neuron.

    Parameters
    ----------
    n_neurons, n_bins, out_degree : int
    coupling : float, default=2.5
        Log-odds added per presynaptic spike.
    base_rate : float, default=0.04
        Spike probability per bin without input.
    stimulus_gain, behaviour_gain : float, default=1.0
    lag : int, default=1
    stimulus_timescale : float, default=4.0
    switch_probability : float, default=0.01
    random_state : int, default=0
    owner : str
        Named in error messages.

    Returns
    -------
    SpikingNetwork
    """
    n = _positive_int(n_neurons, "n_neurons", owner, 3)
    n_bins = _positive_int(n_bins, "n_bins", owner, 10)
    k = _positive_int(out_degree, "out_degree", owner, 1)
    lag = _positive_int(lag, "lag", owner, 1)
    if k > (n - 1) // 2:
        raise InvalidInputError(f"{owner}: out_degree={k} is too large for {n} neurons without reciprocal edges; "
                                f"use at most {(n - 1) // 2}.")
    if not 0 < base_rate < 1 or not 0 <= switch_probability <= 1 or not stimulus_timescale > 0:
        raise InvalidInputError(f"{owner}: need 0 < base_rate < 1, 0 <= switch_probability <= 1 and "
                                f"stimulus_timescale > 0, got {base_rate!r}, {switch_probability!r}, "
                                f"{stimulus_timescale!r}.")
    rng = np.random.default_rng([int(random_state), 83])
    A = np.zeros((n, n), dtype=bool)
    for j in rng.permutation(n):
        allowed = [i for i in range(n) if i != j and not A[i, j] and not A[j, i]]
        if len(allowed) < k:  # cannot happen for k <= (n-1)//2 in most draws; retry deterministically otherwise
            allowed = [i for i in range(n) if i != j and not A[i, j]]
        A[j, rng.choice(allowed, size=k, replace=False)] = True
    W = coupling * A.astype(float)
    a = np.exp(-1.0 / stimulus_timescale)
    e = rng.standard_normal(n_bins)
    s = np.empty(n_bins)
    s[0] = e[0]
    for t in range(1, n_bins):
        s[t] = a * s[t - 1] + np.sqrt(1 - a * a) * e[t]
    s = (s - s.mean()) / s.std()
    b = np.empty(n_bins, dtype=int)
    b[0] = rng.integers(2)
    flips = rng.random(n_bins) < switch_probability
    for t in range(1, n_bins):
        b[t] = 1 - b[t - 1] if flips[t] else b[t - 1]
    g = np.where(np.arange(n) < n // 2, stimulus_gain, 0.0)
    h = behaviour_gain * rng.choice([-1.0, 1.0], size=n)
    base = np.log(base_rate / (1 - base_rate))
    y = np.zeros((n_bins, n), dtype=np.int64)
    u = rng.random((n_bins, n))
    drive = base + s[:, None] * g[None, :] + b[:, None] * h[None, :]
    for t in range(n_bins):
        x = drive[t] + (y[t - lag] @ W if t >= lag else 0.0)
        y[t] = u[t] < 1.0 / (1.0 + np.exp(-x))
    return SpikingNetwork(spikes=y, stimulus=s, behaviour=b, weights=W, stimulus_gain=g, behaviour_gain=h, lag=lag)
