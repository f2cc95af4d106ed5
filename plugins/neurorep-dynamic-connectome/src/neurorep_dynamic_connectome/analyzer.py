"""``connectome.dynamic``: the whole pipeline on one representation, as tidy result rows."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import Result

from .communities import active_intervals, argmax_membership, factor_communities
from .estimator import CITATION, NonnegativeTensorFactorization, _check_int

__all__ = ["DynamicConnectome", "time_order"]


def _natural_key(s: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))


def time_order(stimulus_ids: tuple[str, ...]) -> np.ndarray:
    """Positions that put ids in natural order (``vol-2`` before ``vol-10``): the time order of id-coded samples."""
    return np.array(sorted(range(len(stimulus_ids)), key=lambda i: _natural_key(stimulus_ids[i])), dtype=np.intp)


def _unit_labels(x: Representation) -> list[str]:
    for key in ("roi", "unit", "units", "name", "names", "neuron"):
        v = x.channel_descriptors.get(key)
        if v is not None:
            return [str(u) for u in np.asarray(v).tolist()]
    return [f"unit-{i}" for i in range(x.n_features)]


class DynamicConnectome(Analyzer):
    """Dynamic functional connectome (Dyballa et al., 2024): communities of units and the windows they are active in.

    The rows of ``x`` are time points (volumes, imaging frames, tokens) and its features are units (ROIs,
    neurons, model units). When ``x`` carries ``repeats`` (n_repeats, n_time, n_units), each repeat is one
    animal/subject/session of the same units and becomes the tensor's animal mode; otherwise ``x.data``
    is one recording. The pipeline: windowed pairwise affinities -> non-negative tensor factorisation
    (:class:`~neurorep_dynamic_connectome.NonnegativeTensorFactorization`) -> weighted Louvain
    communities on each component's affinity graph (the paper fits a nested weighted SBM instead).

    Rows (first = headline):

    * ``metric="ntf_fit"``: ``1 - ||T - model||^2 / ||T||^2``, the share of the affinity tensor's energy
      the ``n_components`` components capture; ``n`` = tensor entries; ``extra`` has the loss curve's length,
      the component weights, the unit membership (argmax of relative strength) and the window bounds.
    * one ``metric="community_enrichment"`` row per Louvain community (>= 2 units) of every component:
      ``score`` = the community's mean internal affinity divided by the component graph's mean affinity
      (> 1: denser than the component overall); ``extra`` = component, weight, units (names from
      ``channel_descriptors['roi'|'unit'|...]``), the component's active windows as stimulus-id intervals
      (loading >= ``active_threshold`` x its maximum), the window loadings, animal loadings and modularity.

    Parameters
    ----------
    n_components : int, default=3
        Rank of the factorisation.
    window : int, default=20
        Time points per window (at least 3).
    step : int or None, default=None
        Time points between window starts (None: tiled windows).
    affinity : {"differential", "correlation"}, default="differential"
        Pairwise affinity inside a window (see :mod:`neurorep_dynamic_connectome.affinity`).
    smoothing : float, default=0.0
        Gaussian smoothing SD (time points) of each trace before the affinities.
    solver : {"hals", "mu"}, default="hals"
    max_iter : int, default=300
    n_init : int, default=1
        Random restarts of the factorisation (the lowest loss is kept).
    resolution : float, default=1.0
        Louvain modularity resolution (larger: smaller communities).
    active_threshold : float, default=0.5
        A window is active for a component when its loading is at least this fraction of the maximum.
    order : {"ids", "rows"}, default="ids"
        ``"ids"``: time order is the natural order of the stimulus ids (``vol-000``, ``vol-001``, ... or
        ``tok-2`` before ``tok-10``), so the result does not depend on how rows are stored; ``"rows"``:
        the rows are already in time order.
    random_state : int or None, default=0
        Seeds the factorisation's initialisation and Louvain.

    References
    ----------
    Dyballa et al. (2024), ICLR, arXiv:2402.14102; Blondel et al. (2008), J. Stat. Mech. P10008 (Louvain).
    """

    id = "connectome.dynamic"
    version = "0.1.0"
    citation = CITATION
    description = "Windowed affinities -> NTF -> weighted communities: which units interact, and in which windows"
    n_inputs = 1
    tags = Tags(stochastic=True)

    def __init__(self, n_components: int = 3, window: int = 20, step: int | None = None,
                 affinity: Literal["differential", "correlation"] = "differential", smoothing: float = 0.0,
                 solver: Literal["hals", "mu"] = "hals", max_iter: int = 300, n_init: int = 1, resolution: float = 1.0,
                 active_threshold: float = 0.5, order: Literal["ids", "rows"] = "ids", random_state: int | None = 0):
        self.n_components = n_components
        self.window = window
        self.step = step
        self.affinity = affinity
        self.smoothing = smoothing
        self.solver = solver
        self.max_iter = max_iter
        self.n_init = n_init
        self.resolution = resolution
        self.active_threshold = active_threshold
        self.order = order
        self.random_state = random_state

    def estimator(self) -> NonnegativeTensorFactorization:
        """The unfitted ``ntf.nonnegative`` this analyzer runs."""
        return NonnegativeTensorFactorization(
            n_components=self.n_components, window=self.window, step=self.step, affinity=self.affinity,
            smoothing=self.smoothing, solver=self.solver, max_iter=self.max_iter, n_init=self.n_init,
            random_state=self.random_state)

    def analyze(self, x: Representation, y: Representation | None = None) -> list[Result]:
        owner = f"Analyzer {self.id!r}"
        if not isinstance(x, Representation):
            raise InvalidInputError(f"{owner}: expected a neurorep.Representation (rows = time points, features = "
                                    f"units), got {type(x).__name__}.")
        if y is not None:
            raise InvalidInputError(f"{owner}: takes one input (n_inputs=1); a second was given.")
        x.check_finite(owner)
        if self.order not in ("ids", "rows"):
            raise InvalidInputError(f"{owner}: 'order' must be one of ['ids', 'rows']; {self.order!r} was provided.")
        if not (0.0 < float(self.active_threshold) <= 1.0):
            raise InvalidInputError(f"{owner}: 'active_threshold' must be in (0, 1]; {self.active_threshold!r} was "
                                    "provided.")
        if not (float(self.resolution) > 0):
            raise InvalidInputError(f"{owner}: 'resolution' must be > 0; {self.resolution!r} was provided.")
        _check_int(self.n_components, "n_components", owner, 1)
        pos = time_order(x.stimulus_ids) if self.order == "ids" else np.arange(x.n_stimuli)
        ids = [x.stimulus_ids[i] for i in pos]
        data = x.repeats[:, pos] if x.repeats is not None else x.data[pos]
        try:
            est = self.estimator().fit(data)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{owner}: {exc}") from exc
        units = _unit_labels(x)
        windows = est.windows_
        labels = argmax_membership(est.affinity_matrices_, est.weights_)
        sq_fit = 1.0 - est.relative_error_ ** 2
        head = Result(score=float(sq_fit), metric="ntf_fit", n=int(est.pair_factors_.shape[0] * len(windows)
                                                                     * est.n_animals_),
                      extra={"n_components": int(est.weights_.size), "n_units": int(est.n_units_),
                             "n_windows": int(len(windows)), "n_animals": int(est.n_animals_),
                             "relative_error": float(est.relative_error_), "n_iter": int(est.n_iter_),
                             "weights": [float(w) for w in est.weights_],
                             "membership": {u: int(k) for u, k in zip(units, labels.tolist(), strict=True)},
                             "windows": [[ids[int(s)], ids[int(e) - 1]] for s, e in windows],
                             "affinity": self.affinity})
        rows = [head]
        for k in range(est.weights_.size):
            W = est.affinity_matrices_[k]
            n = W.shape[0]
            mean_all = float(W.sum() / (n * (n - 1))) if n > 1 else 0.0
            comms, q = factor_communities(W, resolution=float(self.resolution), random_state=self.random_state)
            load = est.window_factors_[:, k]
            spans = active_intervals(load, float(self.active_threshold))
            active = [[ids[int(windows[a, 0])], ids[int(windows[b, 1]) - 1]] for a, b in spans]
            for c, members in enumerate(comms):
                sub = W[np.ix_(members, members)]
                m = len(members)
                inner = float(sub.sum() / (m * (m - 1)))
                score = inner / mean_all if mean_all > 0 else 0.0
                rows.append(Result(score=float(score), metric="community_enrichment", n=m, extra={
                    "component": k, "community": c, "weight": float(est.weights_[k]),
                    "units": [units[i] for i in members], "unit_index": [int(i) for i in members],
                    "mean_affinity": inner, "active_windows": active,
                    "window_loadings": [float(v) for v in load],
                    "animal_loadings": [float(v) for v in est.animal_factors_[:, k]],
                    "modularity": q}))
        return rows
