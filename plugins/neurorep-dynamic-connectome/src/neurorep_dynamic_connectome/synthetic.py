"""Synthetic calcium-like traces with planted communities active in known epochs (the plugin's ground truth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = ["PlantedCommunities", "planted_calcium"]


@dataclass(frozen=True)
class PlantedCommunities:
    """Traces and their ground truth.

    Attributes
    ----------
    traces : ndarray of shape (n_animals, n_timepoints, n_units)
    labels : ndarray of shape (n_units,)
        The community of each unit (0 .. n_communities - 1).
    epochs : ndarray of shape (n_communities, 2)
        ``(start, stop)`` sample of the epoch in which each community is co-active.
    animals : ndarray of shape (n_communities, n_animals) of bool
        Whether the community is co-active in each animal.
    """

    traces: np.ndarray
    labels: np.ndarray
    epochs: np.ndarray
    animals: np.ndarray


def _calcium(events: np.ndarray, tau: float) -> np.ndarray:
    """Convolve event trains (time on axis 0) with a unit-peak exponential decay (a calcium transient)."""
    out = np.empty_like(events, dtype=float)
    decay = np.exp(-1.0 / tau)
    acc = np.zeros(events.shape[1:])
    for t in range(events.shape[0]):
        acc = acc * decay + events[t]
        out[t] = acc
    return out


def planted_calcium(n_communities: int = 3, units_per_community: int = 8, n_timepoints: int = 600,
                    n_animals: int = 2, shared_rate: float = 0.08, private_rate: float = 0.02,
                    tau: float = 8.0, noise: float = 0.1, absent: dict[int, tuple[int, ...]] | None = None,
                    random_state: int | None = 0) -> PlantedCommunities:
    """Calcium-like traces in which community ``c`` fires together only during epoch ``c``.

    The recording is cut into ``n_communities + 1`` equal epochs; in epoch ``c`` (c < n_communities) the
    units of community ``c`` share one Poisson event train (rate ``shared_rate`` per sample), which a
    calcium kernel (exponential decay, time constant ``tau`` samples) turns into co-varying transients.
    The last epoch is a baseline. At all times every unit also has private events (``private_rate``)
    and Gaussian measurement noise (SD ``noise`` in units of one transient's peak).

    Parameters
    ----------
    absent : dict of int to tuple of int, optional
        ``{community: (animal, ...)}``: animals in which that community is never co-active (its units
        only fire privately there), to plant an animal factor.
    random_state : int or None
    """
    if n_communities < 1 or units_per_community < 2 or n_animals < 1:
        raise InvalidInputError(
            f"planted_calcium: need n_communities >= 1, units_per_community >= 2 and n_animals >= 1; got "
            f"{n_communities}, {units_per_community}, {n_animals}.")
    rng = np.random.default_rng(random_state)
    n_units = n_communities * units_per_community
    labels = np.repeat(np.arange(n_communities), units_per_community)
    edges = np.linspace(0, n_timepoints, n_communities + 2).astype(int)
    epochs = np.stack([edges[:-2], edges[1:-1]], axis=1)
    present = np.ones((n_communities, n_animals), dtype=bool)
    for c, animals in (absent or {}).items():
        present[c, list(animals)] = False
    traces = np.empty((n_animals, n_timepoints, n_units))
    for a in range(n_animals):
        events = (rng.random((n_timepoints, n_units)) < private_rate).astype(float)
        for c in range(n_communities):
            if not present[c, a]:
                continue
            s, e = epochs[c]
            shared = rng.random(e - s) < shared_rate
            events[s:e, labels == c] += shared[:, None]
        traces[a] = _calcium(events, tau) + noise * rng.standard_normal((n_timepoints, n_units))
    return PlantedCommunities(traces=traces, labels=labels, epochs=epochs, animals=present)
