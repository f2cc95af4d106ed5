"""Sources: ``synthetic.spiking-network`` (the simulated recording) and ``neuroformer.windows`` (the trained
model's per-window representations of it)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from neurorep.components import Source, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet

from ._meta import CITATION, core
from .analyzer import check_model_params
from .simulation import SpikingNetwork, simulate_network

__all__ = ["SpikingNetworkSource", "NeuroformerWindowsSource"]

_NET_DOC = """\
n_neurons : int, default=12
n_bins : int, default=4000
    Time bins simulated.
out_degree : int, default=2
    Postsynaptic targets per neuron (no reciprocal pairs).
coupling : float, default=2.5
    Log-odds added to a target per presynaptic spike, one bin later.
base_rate : float, default=0.04
    Spike probability per bin without input.
stimulus_gain : float, default=1.0
    Log-odds gain of the first half of the neurons on the stimulus.
behaviour_gain : float, default=1.0
    Log-odds shift (random sign per neuron) in behavioural state 1.
random_state : int, default=0
    Seed of the simulation."""


def _bin_ids(bins) -> tuple[str, ...]:
    return tuple(f"bin-{int(t):06d}" for t in bins)


class _NetworkParams:
    def network(self) -> SpikingNetwork:
        """The simulated recording (:class:`~neurorep_neuroformer.simulation.SpikingNetwork`, with its ground truth)."""
        return simulate_network(n_neurons=self.n_neurons, n_bins=self.n_bins, out_degree=self.out_degree,
                                coupling=self.coupling, base_rate=self.base_rate, stimulus_gain=self.stimulus_gain,
                                behaviour_gain=self.behaviour_gain, random_state=self.random_state,
                                owner=f"Source {self.id!r}")


class SpikingNetworkSource(_NetworkParams, Source):
    __doc__ = f"""A simulated spiking network with known directed connectivity, a stimulus and a behavioural state.

    Bernoulli-GLM neurons on a sparse excitatory graph with a one-bin synaptic delay (see
    :func:`neurorep_neuroformer.simulation.simulate_network`); :meth:`network` returns the recording with its
    ground truth (``weights[j, i]``, presynaptic ``j``). Rows are time bins (ids ``bin-000000`` ...).

    Sites: ``"spikes"`` (n_bins, n_neurons) 0/1; ``"stimulus"`` (n_bins, 1); ``"behaviour"`` (n_bins, 1) the
    0/1 state; ``"context"`` (n_bins, 2) stimulus and behaviour.

    Parameters
    ----------
    {_NET_DOC.replace(chr(10), chr(10) + '    ')}
    """

    id = "synthetic.spiking-network"
    version = "0.1.0"
    citation = CITATION
    description = "Simulated Bernoulli-GLM spiking network with known directed connectivity, stimulus, behaviour"
    tags = Tags(stochastic=True)
    SITES = ("spikes", "stimulus", "behaviour", "context")

    def __init__(self, n_neurons: int = 12, n_bins: int = 4000, out_degree: int = 2, coupling: float = 2.5,
                 base_rate: float = 0.04, stimulus_gain: float = 1.0, behaviour_gain: float = 1.0,
                 random_state: int = 0):
        self.n_neurons = n_neurons
        self.n_bins = n_bins
        self.out_degree = out_degree
        self.coupling = coupling
        self.base_rate = base_rate
        self.stimulus_gain = stimulus_gain
        self.behaviour_gain = behaviour_gain
        self.random_state = random_state

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_bins=200)]

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(self.SITES)

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return _bin_ids(range(int(self.n_bins)))

    def site_space(self, site: str) -> dict:
        return {"kind": "brain" if site == "spikes" else "task", "source": self.id, "site": site, "synthetic": True}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in self.SITES:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {list(self.SITES)}.")
        net = self.network()
        if site == "spikes":
            data = net.spikes.astype(float)
            desc = {"unit": np.array([f"n{i:02d}" for i in range(net.spikes.shape[1])])}
        elif site == "stimulus":
            data, desc = net.stimulus[:, None], {"name": np.array(["stimulus"])}
        elif site == "behaviour":
            data, desc = net.behaviour[:, None].astype(float), {"name": np.array(["behaviour"])}
        else:
            data = np.column_stack([net.stimulus, net.behaviour.astype(float)])
            desc = {"name": np.array(["stimulus", "behaviour"])}
        return Representation(data, self.stimulus_ids(), space=self.site_space(site), channel_descriptors=desc,
                              name=f"{self.id}:{site}")


class NeuroformerWindowsSource(_NetworkParams, Source):
    __doc__ = f"""Per-window representations of a tiny Neuroformer pretrained on the simulated spiking network.

    The network of ``synthetic.spiking-network`` (same parameters, same recording) is simulated, and a tiny
    Neuroformer (:mod:`neurorep_neuroformer.core`) is trained, without labels, to generate each bin's spike
    tokens from the ``n_past`` bins before it and the conditioning modalities named by ``condition_on``.
    Rows are the predicted bins (ids ``bin-000002`` ... for ``n_past=2``).

    Sites: ``"blocks.K.hook_resid_post"`` (block K's residual stream at the SOS position: the model's state
    before it emits the bin's first spike), ``"memory"`` (mean of the embedded past-state and context
    tokens), ``"counts"`` (the raw data the model sees: spike counts of each neuron in each of the ``n_past``
    past bins, the comparison for few-shot decoding) and ``"behaviour"`` (the 0/1 state, the label).

    Parameters
    ----------
    {_NET_DOC.replace(chr(10), chr(10) + '    ')}
    condition_on : {{"stimulus", "stimulus+behaviour", "none"}}, default="stimulus"
        Modalities the model is conditioned on. Keep behaviour out to probe for it without leakage.
    n_past : int, default=2
    max_past_tokens : int, default=32
    d_model : int, default=32
    n_heads : int, default=2
    n_layers : int, default=1
    n_epochs : int, default=5
    lr : float, default=0.003
    batch_size : int, default=128
    """

    id = "neuroformer.windows"
    version = "0.1.0"
    citation = CITATION
    description = "Tiny Neuroformer pretrained on a simulated spiking network: per-window representations"
    tags = Tags(stochastic=True)

    def __init__(self, n_neurons: int = 12, n_bins: int = 4000, out_degree: int = 2, coupling: float = 2.5,
                 base_rate: float = 0.04, stimulus_gain: float = 1.0, behaviour_gain: float = 1.0,
                 random_state: int = 0, condition_on: Literal["stimulus", "stimulus+behaviour", "none"] = "stimulus",
                 n_past: int = 2, max_past_tokens: int = 32, d_model: int = 32, n_heads: int = 2, n_layers: int = 1,
                 n_epochs: int = 5, lr: float = 0.003, batch_size: int = 128):
        self.n_neurons = n_neurons
        self.n_bins = n_bins
        self.out_degree = out_degree
        self.coupling = coupling
        self.base_rate = base_rate
        self.stimulus_gain = stimulus_gain
        self.behaviour_gain = behaviour_gain
        self.random_state = random_state
        self.condition_on = condition_on
        self.n_past = n_past
        self.max_past_tokens = max_past_tokens
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.n_epochs = n_epochs
        self.lr = lr
        self.batch_size = batch_size

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_bins=200, n_epochs=1, d_model=8)]

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        n = self.n_layers if isinstance(self.n_layers, int) and self.n_layers > 0 else 1
        return [f"blocks.{k}.hook_resid_post" for k in range(n)] + ["memory", "counts", "behaviour"]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return _bin_ids(range(int(self.n_past), int(self.n_bins)))

    def site_space(self, site: str) -> dict:
        kind = "task" if site == "behaviour" else ("brain" if site == "counts" else "model")
        return {"kind": kind, "source": self.id, "site": site, "synthetic": True,
                "condition_on": self.condition_on}

    def _compute(self) -> dict[str, np.ndarray]:
        owner = f"Source {self.id!r}"
        check_model_params(self, owner)
        if self.condition_on not in ("stimulus", "stimulus+behaviour", "none"):
            raise InvalidInputError(f"{owner}: 'condition_on' must be one of ['stimulus', 'stimulus+behaviour', "
                                    f"'none']; {self.condition_on!r} was provided.")
        key = tuple(sorted((k, repr(v)) for k, v in self.get_params().items()))
        cached = self.__dict__.get("_windows_")
        if cached is not None and cached[0] == key:
            return cached[1]
        net = self.network()
        ctx = {"stimulus": net.stimulus[:, None], "none": None,
               "stimulus+behaviour": np.column_stack([net.stimulus, net.behaviour])}[self.condition_on]
        tok = core.tokenize(net.spikes.astype(bool), ctx, self.n_past, self.max_past_tokens)
        model = core.fit_model(tok, 0 if ctx is None else ctx.shape[1], d_model=self.d_model, n_heads=self.n_heads,
                               n_layers=self.n_layers, n_epochs=self.n_epochs, lr=self.lr,
                               batch_size=self.batch_size, random_state=self.random_state)
        out = core.window_embeddings(model, tok)
        window = tok.bins[:, None] - np.arange(self.n_past, 0, -1)[None, :]
        out["counts"] = net.spikes[window].reshape(tok.bins.size, -1).astype(float)
        out["behaviour"] = net.behaviour[tok.bins][:, None].astype(float)
        self.__dict__["_windows_"] = (key, out)
        return out

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        sites = self.sites()
        if site not in sites:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {sites}.")
        data = self._compute()[site]
        return Representation(data, self.stimulus_ids(), space=self.site_space(site), name=f"{self.id}:{site}")
