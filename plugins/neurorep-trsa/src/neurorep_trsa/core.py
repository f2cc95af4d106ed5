"""Numerical core of topological RSA: pattern dissimilarities, geo-topological and geodesic transforms, comparators.

Everything here works on plain numpy arrays in the condensed RDM layout used by
:class:`neurorep.RDMs` (the upper triangle, ``k=1``, row-major), one RDM per row.
The component classes in :mod:`neurorep_trsa.transform` and
:mod:`neurorep_trsa.analyzer` wrap these functions.
"""

from __future__ import annotations

import math

import numpy as np
from neurorep.errors import InvalidInputError
from scipy.sparse.csgraph import csgraph_from_dense, shortest_path
from scipy.spatial.distance import pdist
from scipy.stats import rankdata

__all__ = [
    "DISTANCES",
    "COMPARISONS",
    "CITATION",
    "check_thresholds",
    "pattern_dissimilarities",
    "geo_topological",
    "geodesic",
    "compare_rdm_vectors",
]

#: How a Representation is turned into an RDM before the transform.
DISTANCES: tuple[str, ...] = ("correlation", "euclidean")
#: How two (transformed) RDMs are compared.
COMPARISONS: tuple[str, ...] = ("spearman", "pearson", "cosine")

CITATION = ("Lin, B. & Kriegeskorte, N. (2024). The topology and geometry of neural representations. "
            "Proc. Natl. Acad. Sci. USA 121(42), e2317881121. doi:10.1073/pnas.2317881121 "
            "(preprint: arXiv:2309.11028, 2023)")


def check_thresholds(l: float, u: float, owner: str) -> tuple[float, float]:  # noqa: E741
    """Return ``(l, u)`` as floats after checking ``0 <= l <= u <= 1``.

    Parameters
    ----------
    l, u : float
        Lower and upper threshold, as quantiles of the dissimilarity distribution.
    owner : str
        Named in the error message.

    Raises
    ------
    InvalidInputError
        When a threshold is not a finite number in [0, 1] or ``l > u``.
    """
    try:
        lo, hi = float(l), float(u)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{owner}: thresholds l and u must be numbers in [0, 1], got l={l!r}, u={u!r}.") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo <= 1.0 and 0.0 <= hi <= 1.0):
        raise InvalidInputError(
            f"{owner}: thresholds l and u are quantiles of the dissimilarity distribution and must lie in "
            f"[0, 1]; got l={l!r}, u={u!r}. For example l=0.2, u=0.8 (l=0, u=1 is plain rescaled RSA).")
    if lo > hi:
        raise InvalidInputError(
            f"{owner}: the lower threshold must not exceed the upper one; got l={lo} > u={hi}. "
            f"Swap them (l={hi}, u={lo}), or set l == u for a binary neighbourhood graph.")
    return lo, hi


def pattern_dissimilarities(data: np.ndarray, distance: str, *, owner: str = "tRSA") -> np.ndarray:
    """Condensed RDM of stimulus patterns.

    Parameters
    ----------
    data : ndarray of shape (n_stimuli, n_features)
        Stimuli-first response patterns.
    distance : {"correlation", "euclidean"}
        ``"correlation"``: 1 - Pearson r between two stimuli's patterns (each pattern
        centred across features). ``"euclidean"``: Euclidean distance.
    owner : str
        Named in error messages.

    Returns
    -------
    ndarray of shape (n_stimuli * (n_stimuli - 1) / 2,)
    """
    X = np.asarray(data, dtype=float)
    if X.ndim != 2 or X.shape[0] < 3:
        raise InvalidInputError(
            f"{owner}: expected response patterns of shape (n_stimuli, n_features) with at least 3 stimuli, "
            f"got shape {X.shape}. An RDM of fewer than 3 stimuli has no distribution to threshold.")
    if distance == "correlation":
        Xc = X - X.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(Xc, axis=1)
        flat = np.flatnonzero(norms == 0)
        if flat.size:
            raise InvalidInputError(
                f"{owner}: {flat.size} stimulus pattern(s) are constant across features (rows {flat[:5].tolist()}), "
                "so their correlation distance is undefined. Use distance='euclidean', or drop those stimuli.")
        Xn = Xc / norms[:, None]
        iu = np.triu_indices(X.shape[0], k=1)
        return 1.0 - (Xn @ Xn.T)[iu]
    if distance == "euclidean":
        return pdist(X, metric="euclidean")
    raise InvalidInputError(f"{owner}: 'distance' must be one of {list(DISTANCES)}, {distance!r} was provided.")


def _as_rows(d: np.ndarray) -> np.ndarray:
    d = np.asarray(d, dtype=float)
    return d[None, :] if d.ndim == 1 else d


def geo_topological(d: np.ndarray, l: float, u: float, *, rank: bool = True) -> np.ndarray:  # noqa: E741
    """Geo-topological transform of condensed RDMs (the RGTM).

    For each RDM (row) separately, the thresholds are the ``l``- and ``u``-quantiles
    of its dissimilarities (linear interpolation, as :func:`numpy.quantile`). Values at
    or below the lower threshold become 0, values at or above the upper threshold
    become 1, and values in between are mapped linearly onto [0, 1]. When the two
    thresholds coincide (``l == u``, or ties) the result is the binary graph
    ``d > threshold`` (a value equal to the threshold counts as near: 0).

    Parameters
    ----------
    d : ndarray of shape (n_pairs,) or (n_rdms, n_pairs)
        Condensed dissimilarities.
    l, u : float
        Lower and upper threshold as quantiles, ``0 <= l <= u <= 1``.
    rank : bool, default=True
        Rank-transform each RDM (ties get their average rank) before thresholding, as
        the paper does. With ``l=0, u=1`` and ``rank=False`` the transform is the
        min-max rescaling ``(d - min) / (max - min)``.

    Returns
    -------
    ndarray of shape (n_rdms, n_pairs)
        Values in [0, 1].
    """
    lo_q, hi_q = check_thresholds(l, u, "geo_topological")
    rows = _as_rows(d)
    out = np.empty_like(rows)
    for i, v in enumerate(rows):
        if rank:
            v = rankdata(v, method="average")
        lo, hi = np.quantile(v, [lo_q, hi_q])
        if hi > lo:
            out[i] = np.clip((v - lo) / (hi - lo), 0.0, 1.0)
        else:
            out[i] = (v > lo).astype(float)
    return out


def _n_stimuli(n_pairs: int) -> int:
    n = int(round((1 + math.sqrt(1 + 8 * n_pairs)) / 2))
    if n * (n - 1) // 2 != n_pairs:
        raise InvalidInputError(f"geodesic: {n_pairs} dissimilarities per RDM is not n*(n-1)/2 for any n.")
    return n


#: Edge lengths are quantised to multiples of 1 / _LENGTH_SCALE before the shortest-path search.
_LENGTH_SCALE = 2 ** 36


def geodesic(g: np.ndarray) -> np.ndarray:
    """Geodesic transform of geo-topological RDMs (the RGDM).

    Each RDM is read as a weighted graph over the stimuli: the edge between two
    stimuli has the transformed dissimilarity as its length, and pairs at 1 (at or
    above the upper threshold) have no edge. The result is the shortest-path length
    between every pair (Dijkstra, :func:`scipy.sparse.csgraph.shortest_path`; edges of
    length 0 are kept), divided by the longest finite path so values lie in [0, 1].
    Pairs in different connected components get 1, the maximum.

    Edge lengths are rounded to multiples of 2**-36 first, so that path sums are exact
    and the result (ties included) does not depend on the order of the stimuli.

    Parameters
    ----------
    g : ndarray of shape (n_pairs,) or (n_rdms, n_pairs)
        Output of :func:`geo_topological` (values in [0, 1]).

    Returns
    -------
    ndarray of shape (n_rdms, n_pairs)
    """
    rows = _as_rows(g)
    if rows.size and (np.nanmin(rows) < 0 or np.nanmax(rows) > 1 or not np.all(np.isfinite(rows))):
        raise InvalidInputError(
            "geodesic: expected geo-topologically transformed dissimilarities in [0, 1] (the output of "
            f"geo_topological), got values in [{np.nanmin(rows):.3g}, {np.nanmax(rows):.3g}]. "
            "Apply geo_topological(d, l, u) first.")
    n = _n_stimuli(rows.shape[1])
    if n >= 2 ** 53 // _LENGTH_SCALE:
        raise InvalidInputError(f"geodesic: at most {2 ** 53 // _LENGTH_SCALE - 1} stimuli are supported, got {n}.")
    iu = np.triu_indices(n, k=1)
    out = np.empty_like(rows)
    for i, v in enumerate(rows):
        W = np.full((n, n), np.inf)
        # Edge lengths on an integer grid (steps of 2**-36): every path sum is then exact in float64, so the
        # result cannot depend on the order in which the stimuli (and the edges along a path) are visited.
        lengths = np.where(v < 1.0, np.round(v * _LENGTH_SCALE), np.inf)
        W[iu] = lengths
        W[iu[1], iu[0]] = lengths
        graph = csgraph_from_dense(W, null_value=np.inf)  # zeros stay edges; inf means no edge
        D = shortest_path(graph, method="D", directed=False)[iu]
        finite = np.isfinite(D)
        longest = float(D[finite].max()) if finite.any() else 0.0
        if longest > 0:
            D = np.where(finite, D / longest, 1.0)
        else:
            D = np.where(finite, 0.0, 1.0)
        out[i] = D
    return out


def compare_rdm_vectors(a: np.ndarray, b: np.ndarray, comparison: str, *, owner: str = "tRSA") -> np.ndarray:
    """Compare every RDM in ``a`` with every RDM in ``b``.

    Parameters
    ----------
    a : ndarray of shape (n_a, n_pairs)
    b : ndarray of shape (n_b, n_pairs)
    comparison : {"spearman", "pearson", "cosine"}
        ``"pearson"``: correlation of the dissimilarities; ``"spearman"``: Pearson
        correlation of their ranks (average ranks for ties); ``"cosine"``: cosine of the
        angle between the uncentred dissimilarity vectors.
    owner : str
        Named in error messages.

    Returns
    -------
    ndarray of shape (n_a, n_b)
    """
    a, b = _as_rows(a), _as_rows(b)
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError(f"{owner}: RDMs to compare have {a.shape[1]} and {b.shape[1]} pairs; align them first.")
    if comparison not in COMPARISONS:
        raise InvalidInputError(
            f"{owner}: 'comparison' must be one of {list(COMPARISONS)}, {comparison!r} was provided.")
    if comparison == "spearman":
        a, b = rankdata(a, axis=1), rankdata(b, axis=1)
    if comparison in ("spearman", "pearson"):
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    if np.any(na == 0) or np.any(nb == 0):
        what = "zero" if comparison == "cosine" else "constant"
        raise InvalidInputError(
            f"{owner}: a (transformed) RDM is {what}, so its {comparison} comparison is undefined. With "
            "thresholds this happens when every dissimilarity falls on the same side of them (e.g. l = u = 1, "
            "or many tied values): move l and u apart or towards the middle (e.g. l=0.2, u=0.8). With "
            "geodesic=True, pairs at or below l become zero-length edges, and once they connect every stimulus "
            "all geodesic distances are 0: use a smaller l (e.g. l=0).")
    return (a / na[:, None]) @ (b / nb[:, None]).T
