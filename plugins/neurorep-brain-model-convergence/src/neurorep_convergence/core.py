"""The three brain-model convergence metrics, computed from a layer x target similarity matrix.

A model's layers (in depth order) are compared with brain targets by an existing analyzer
(``rsa.correlation`` by default). That gives a matrix ``S`` of shape ``(n_layers, n_targets)``.
The targets are either brain regions (fMRI) in cortical-hierarchy order, or MEG time points.

* **Overall similarity** (:func:`overall_similarity`): for each target, the best score over layers
  (``max_l S[l, t]``); the headline is their mean over targets.
* **Topography** (:func:`topography`): for each region, the depth of its best-matching layer; the
  score is Spearman's rho between the regions' hierarchy rank and those depths.
* **Temporal dynamics** (:func:`temporal`): for each layer, the time at which its similarity with the
  MEG peaks; the score is Spearman's rho between layer depth and peak time.

:func:`similarity_matrix` fills ``S`` from representations with any registered analyzer;
:func:`convergence_from_cube` fills it from a run's results cube.

The paper does not give exact formulas in its abstract; these definitions are this plugin's reading
(see the README).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from neurorep.errors import InvalidInputError

__all__ = [
    "CITATION", "ConvergenceMetrics", "overall_similarity", "topography", "temporal", "similarity_matrix",
    "convergence_from_cube", "meg_times",
]

CITATION = ("Raugel J, ..., King J-R (2025). Disentangling the factors of convergence between brains and "
            "computer vision models. arXiv:2508.18226")

_MEG_SITE = re.compile(r"(?:^|[:.])t(\d+(?:\.\d+)?)$")


def _matrix(scores: Any, owner: str) -> np.ndarray:
    S = np.asarray(scores, dtype=float)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 1:
        raise InvalidInputError(f"{owner}: expected a (n_layers, n_targets) score matrix, got shape {S.shape}. "
                                "Rows are model layers in depth order, columns are brain targets.")
    if np.isnan(S).all(axis=0).any() or np.isnan(S).all(axis=1).any():
        raise InvalidInputError(f"{owner}: a layer or a target has no finite score in the {S.shape} matrix; "
                                "drop it, or compute the missing cells.")
    return S


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # undefined: fewer than 2 points or a constant sequence
    return float(spearmanr(a, b)[0])


def overall_similarity(scores: Any) -> tuple[float, np.ndarray, np.ndarray]:
    """Best score over layers for every target, and their mean.

    Parameters
    ----------
    scores : array-like of shape (n_layers, n_targets)
        Similarity of each layer (rows, depth order) with each target (columns); larger is more similar.

    Returns
    -------
    mean : float
        Mean over targets of the best layer's score.
    best_score : ndarray of shape (n_targets,)
    best_layer : ndarray of int, shape (n_targets,)
        Index (depth) of the best layer of each target.
    """
    S = _matrix(scores, "convergence.overall_similarity")
    best = np.nanargmax(S, axis=0)
    vals = S[best, np.arange(S.shape[1])]
    return float(np.mean(vals)), vals, best


def topography(scores: Any, region_rank: Sequence[float] | None = None) -> tuple[float, np.ndarray]:
    """Spearman's rho between the regions' cortical-hierarchy rank and the depth of their best layer.

    Parameters
    ----------
    scores : array-like of shape (n_layers, n_regions)
        Layer x region similarities, layers in depth order.
    region_rank : sequence of float, optional
        Hierarchy position of each region (columns); default: the column order.

    Returns
    -------
    rho : float
        NaN when undefined (fewer than two regions, or every region picks the same layer).
    best_layer : ndarray of int, shape (n_regions,)
    """
    S = _matrix(scores, "convergence.topography")
    rank = np.arange(S.shape[1]) if region_rank is None else np.asarray(region_rank, float)
    if rank.shape != (S.shape[1],):
        raise InvalidInputError(f"convergence.topography: region_rank needs one value per region "
                                f"({S.shape[1]}), got {rank.shape}.")
    best = np.nanargmax(S, axis=0)
    return _spearman(rank, best), best


def temporal(scores: Any, times: Sequence[float], layer_depth: Sequence[float] | None = None
             ) -> tuple[float, np.ndarray]:
    """Spearman's rho between layer depth and the time of each layer's peak similarity with MEG.

    Parameters
    ----------
    scores : array-like of shape (n_layers, n_times)
        Layer x MEG-time similarities.
    times : sequence of float
        The time of each column (e.g. ms after stimulus onset).
    layer_depth : sequence of float, optional
        Depth of each row; default: the row order.

    Returns
    -------
    rho : float
        NaN when undefined (fewer than two layers, or every layer peaks at the same time).
    peak_time : ndarray of shape (n_layers,)
    """
    S = _matrix(scores, "convergence.temporal")
    t = np.asarray(times, float)
    if t.shape != (S.shape[1],):
        raise InvalidInputError(f"convergence.temporal: times needs one value per column ({S.shape[1]}), "
                                f"got shape {t.shape}.")
    depth = np.arange(S.shape[0]) if layer_depth is None else np.asarray(layer_depth, float)
    if depth.shape != (S.shape[0],):
        raise InvalidInputError(f"convergence.temporal: layer_depth needs one value per layer ({S.shape[0]}), "
                                f"got {depth.shape}.")
    peak = t[np.nanargmax(S, axis=1)]
    return _spearman(depth, peak), peak


def similarity_matrix(layers: Mapping[str, Any], targets: Mapping[str, Any], analyzer: Any = "rsa.correlation",
                      params: Mapping[str, Any] | None = None) -> np.ndarray:
    """Score every layer against every target with an existing analyzer.

    Parameters
    ----------
    layers : mapping of str to Representation or RDMs
        The model's layers, in depth order.
    targets : mapping of str to Representation or RDMs
        Brain regions (hierarchy order) or MEG time points (time order).
    analyzer : str or Analyzer, default="rsa.correlation"
        A registered analyzer id (built with ``params``) or an analyzer instance; larger must be more similar.
    params : mapping, optional
        Parameters of the analyzer when given by id.

    Returns
    -------
    ndarray of shape (len(layers), len(targets))
        The headline score of each pair.
    """
    if isinstance(analyzer, str):
        from neurorep.plugins import create

        analyzer = create(analyzer, dict(params or {}), kind="analyzer")
    if getattr(type(analyzer), "tags", None) is not None and analyzer.tags.larger_is_more_similar is False:
        raise InvalidInputError(f"convergence.similarity_matrix: analyzer {analyzer.id!r} is a distance "
                                "(larger_is_more_similar=False); the metrics take the best layer as the maximum. "
                                "Use a similarity (rsa.correlation, cka.linear, encoding.ridge).")
    if not layers or not targets:
        raise InvalidInputError(f"convergence.similarity_matrix: needs at least one layer and one target, got "
                                f"{len(layers)} layers and {len(targets)} targets.")
    S = np.empty((len(layers), len(targets)))
    for i, x in enumerate(layers.values()):
        for j, y in enumerate(targets.values()):
            S[i, j] = float(analyzer.analyze(x, y)[0].score)
    return S


def meg_times(labels: Sequence[str]) -> np.ndarray:
    """Times parsed from MEG site labels ending in ``t<time>`` (e.g. ``"planted:meg.t120"`` -> 120.0)."""
    out = []
    for lab in labels:
        m = _MEG_SITE.search(str(lab))
        if m is None:
            raise InvalidInputError(f"convergence.meg_times: cannot read a time from the site {lab!r}; expected a "
                                    "label ending in 't<time>' such as 'meg.t120', or pass times= explicitly.")
        out.append(float(m.group(1)))
    return np.asarray(out)


@dataclass
class ConvergenceMetrics:
    """The three metrics of one model (one run, one checkpoint).

    Attributes
    ----------
    layers : list of str
        Model layers in depth order.
    overall : float
        Mean over regions of the best layer's score (NaN without regions).
    topography : float
        Spearman rho, region hierarchy vs best-layer depth (NaN without regions or when undefined).
    temporal : float
        Spearman rho, layer depth vs MEG peak time (NaN without MEG times or when undefined).
    regions : list of str
    best_layer : dict of str to str
        Region -> its best layer.
    best_score : dict of str to float
        Region -> the best layer's score.
    peak_time : dict of str to float
        Layer -> time of its peak similarity with MEG.
    """

    layers: list[str]
    overall: float = float("nan")
    topography: float = float("nan")
    temporal: float = float("nan")
    regions: list[str] = field(default_factory=list)
    best_layer: dict[str, str] = field(default_factory=dict)
    best_score: dict[str, float] = field(default_factory=dict)
    peak_time: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"layers": list(self.layers), "overall": self.overall, "topography": self.topography,
                "temporal": self.temporal, "regions": list(self.regions), "best_layer": dict(self.best_layer),
                "best_score": dict(self.best_score), "peak_time": dict(self.peak_time)}


def metrics_from_matrices(layers: Sequence[str], region_scores: Any = None, regions: Sequence[str] = (),
                          time_scores: Any = None, times: Sequence[float] = ()) -> ConvergenceMetrics:
    """All three metrics from a layer x region matrix and/or a layer x time matrix."""
    out = ConvergenceMetrics(layers=list(layers), regions=list(regions))
    if region_scores is not None:
        mean, vals, best = overall_similarity(region_scores)
        out.overall = mean
        out.topography = topography(region_scores)[0]
        out.best_layer = {r: out.layers[b] for r, b in zip(regions, best)}
        out.best_score = {r: float(v) for r, v in zip(regions, vals)}
    if time_scores is not None:
        out.temporal, peak = temporal(time_scores, times)
        out.peak_time = {lay: float(p) for lay, p in zip(layers, peak)}
    return out


def convergence_from_cube(cube: Any, *, regions: Sequence[str] = (), meg: Sequence[str] = (),
                          times: Sequence[float] | None = None, layers: Sequence[str] | None = None,
                          metric: str | None = None) -> ConvergenceMetrics:
    """The three metrics from a run's results cube (:func:`neurorep.results.cube`).

    Parameters
    ----------
    cube : neurorep.results.Cube, pandas.DataFrame or path-like
        A cube, or a results table / run folder (turned into a cube).
    regions : sequence of str
        Cube targets that are brain regions, in cortical-hierarchy order (e.g. ``"planted:Calcarine.subjects"``).
    meg : sequence of str
        Cube targets that are MEG time points (e.g. ``"planted:meg.t120"``).
    times : sequence of float, optional
        The time of each ``meg`` target; default: parsed from the labels (:func:`meg_times`).
    layers : sequence of str, optional
        Cube sources that are the model's layers, in depth order; default: every source in cube order.
    metric : str, optional
        The cube metric (``"<analysis>/<metric>"``); may be omitted when the cube holds one.

    Returns
    -------
    ConvergenceMetrics
    """
    from neurorep.results import cube as make_cube

    c = cube if hasattr(cube, "score") and hasattr(cube, "targets") else make_cube(cube)
    if not regions and not meg:
        raise InvalidInputError("convergence.convergence_from_cube: name the cube targets to use: regions=[...] "
                                f"(hierarchy order) and/or meg=[...]; the cube's targets are {c.targets}.")
    if metric is None:
        if len(c.metrics) != 1:
            raise InvalidInputError(f"convergence.convergence_from_cube: the cube holds the metrics {c.metrics}; "
                                    "name one with metric=...")
        metric = c.metrics[0]
    if metric not in c.metrics:
        raise InvalidInputError(f"convergence.convergence_from_cube: no metric {metric!r}; the cube has {c.metrics}.")
    k = c.metrics.index(metric)
    layers = list(c.sources) if layers is None else list(layers)

    def block(names: Sequence[str], axis: str, labels: list[str]) -> list[int]:
        missing = [n for n in names if n not in labels]
        if missing:
            raise InvalidInputError(f"convergence.convergence_from_cube: no {axis} {missing} in the cube; its "
                                    f"{axis}s are {labels}.")
        return [labels.index(n) for n in names]

    li = block(layers, "source", c.sources)
    S_reg = c.score[np.ix_(li, block(regions, "target", c.targets), [k])][..., 0] if regions else None
    S_meg = c.score[np.ix_(li, block(meg, "target", c.targets), [k])][..., 0] if meg else None
    t = (meg_times(meg) if times is None else np.asarray(times, float)) if meg else ()
    return metrics_from_matrices(layers, S_reg, regions, S_meg, t)
