"""Cluster-quality indices of a labelled point cloud and the Alignment Quality Index (numpy/scipy only).

Every function takes ``X`` of shape (n_samples, n_features) and integer ``labels`` (one per row, at
least two distinct values, every group with at least one sample) and uses Euclidean geometry.
Notation: ``K`` groups, ``N`` samples, ``mu_k`` the centroid of group ``k``, ``mu`` the grand mean,
``W = sum_i ||x_i - mu_{k(i)}||^2`` the within-group and ``B = sum_k n_k ||mu_k - mu||^2`` the
between-group sum of squares (``W + B`` is the total sum of squares).

* Calinski-Harabasz (1974): ``CHI = (B / (K - 1)) / (W / (N - K))``; larger is better.
* Davies-Bouldin (1979): ``s_k`` = mean distance of group ``k``'s points to ``mu_k``;
  ``DBS = mean_k max_{l != k} (s_k + s_l) / ||mu_k - mu_l||``; smaller is better.
* Dunn (1974): the smallest distance between two points of different groups over the largest
  within-group diameter (largest distance between two points of one group); larger is better.
* Xie-Beni (1991), hard partition: ``XBI = W / (N * min_{k != l} ||mu_k - mu_l||^2)``; smaller is better.
* AQI (Borah et al., 2025): ``lam * (1 / XBI) + (1 - lam) * CHI`` on a common scale; see :func:`aqi`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform

__all__ = [
    "ClusterScatter",
    "scatter",
    "calinski_harabasz",
    "davies_bouldin",
    "dunn",
    "xie_beni",
    "aqi",
    "bounded_components",
    "all_indices",
]


@dataclass(frozen=True)
class ClusterScatter:
    """Sufficient statistics of a labelled point cloud (see the module docstring for the notation)."""

    n: int
    k: int
    counts: np.ndarray          # (K,)
    centroids: np.ndarray       # (K, p)
    within: float               # W
    between: float              # B
    spread: np.ndarray          # (K,) mean distance of each group's points to its centroid (s_k)
    centroid_sq_dists: np.ndarray  # (K, K) squared distances between centroids


def scatter(X: np.ndarray, labels: np.ndarray) -> ClusterScatter:
    """Group sizes, centroids, ``W``, ``B``, ``s_k`` and the squared centroid distances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,), int
        Group codes ``0 .. K-1``, each present at least once.
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    k = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k)
    if np.any(counts == 0):
        raise ValueError(f"scatter: every group code 0..{k - 1} needs at least one sample; counts {counts.tolist()}.")
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    centroids = sums / counts[:, None]
    resid = X - centroids[labels]
    dist = np.sqrt(np.einsum("ij,ij->i", resid, resid))
    within = float(np.einsum("ij,ij->", resid, resid))
    grand = X.mean(0)
    dc = centroids - grand
    between = float(np.sum(counts * np.einsum("ij,ij->i", dc, dc)))
    spread = np.bincount(labels, weights=dist, minlength=k) / counts
    csq = cdist(centroids, centroids, "sqeuclidean")
    return ClusterScatter(n=X.shape[0], k=k, counts=counts, centroids=centroids, within=within, between=between,
                          spread=spread, centroid_sq_dists=csq)


def calinski_harabasz(s: ClusterScatter) -> float:
    """Calinski-Harabasz index ``(B / (K - 1)) / (W / (N - K))`` (1.0 when ``W = 0``, as scikit-learn)."""
    if s.within == 0.0:
        return 1.0
    return float(s.between * (s.n - s.k) / (s.within * (s.k - 1.0)))


def davies_bouldin(s: ClusterScatter) -> float:
    """Davies-Bouldin score ``mean_k max_{l != k} (s_k + s_l) / d(mu_k, mu_l)`` (inf when two centroids coincide)."""
    d = np.sqrt(s.centroid_sq_dists)
    num = s.spread[:, None] + s.spread[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(d > 0, num / np.where(d > 0, d, 1.0), np.inf)
    np.fill_diagonal(r, -np.inf)
    return float(np.mean(r.max(axis=1)))


def xie_beni(s: ClusterScatter) -> float:
    """Xie-Beni index of a hard partition ``W / (N * min_{k != l} ||mu_k - mu_l||^2)`` (inf: coinciding centroids)."""
    off = s.centroid_sq_dists[~np.eye(s.k, dtype=bool)]
    sep = float(off.min())
    if sep == 0.0:
        return float("inf")
    return float(s.within / (s.n * sep))


def dunn(X: np.ndarray, labels: np.ndarray, distances: np.ndarray | None = None) -> float:
    """Dunn index: min distance between points of different groups / max within-group diameter.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,), int
    distances : ndarray of shape (n_samples, n_samples), optional
        Precomputed Euclidean distance matrix of ``X`` (reused by permutation tests).

    Returns
    -------
    float
        ``inf`` when every group is a single point or all within-group distances are 0.
    """
    D = squareform(pdist(np.asarray(X, dtype=np.float64))) if distances is None else distances
    labels = np.asarray(labels)
    same = labels[:, None] == labels[None, :]
    diam = float(D[same].max()) if same.any() else 0.0
    gap = float(D[~same].min())
    if diam == 0.0:
        return float("inf")
    return gap / diam


def bounded_components(s: ClusterScatter) -> tuple[float, float]:
    """The two AQI components mapped monotonically onto [0, 1].

    Returns
    -------
    xb : float
        ``1 / (1 + XBI)``: 1 for perfectly compact groups, towards 0 as the groups overlap.
    ch : float
        ``B / (B + W)``, the share of the total scatter that lies between the groups; it equals
        ``CHI (K - 1) / (CHI (K - 1) + N - K)``, a strictly increasing map of CHI for given ``N`` and ``K``.
    """
    xbi = xie_beni(s)
    xb = 0.0 if np.isinf(xbi) else 1.0 / (1.0 + xbi)
    tot = s.between + s.within
    ch = s.between / tot if tot > 0 else 0.0
    return float(xb), float(ch)


def aqi(s: ClusterScatter, lam: float = 0.5, normalization: str = "bounded") -> float:
    """The Alignment Quality Index ``lam * XB' + (1 - lam) * CH'``.

    Parameters
    ----------
    s : ClusterScatter
    lam : float, default=0.5
        Weight of the Xie-Beni term (the paper's lambda in [0, 1]).
    normalization : {"bounded", "none"}, default="bounded"
        ``"bounded"``: ``XB' = 1 / (1 + XBI)`` and ``CH' = B / (B + W)`` (see :func:`bounded_components`),
        so AQI lies in [0, 1]. ``"none"``: ``XB' = 1 / XBI`` and ``CH' = CHI`` as written in the paper,
        unbounded and dominated by CHI unless ``lam`` is close to 1.
    """
    if normalization == "bounded":
        xb, ch = bounded_components(s)
    elif normalization == "none":
        xbi = xie_beni(s)
        xb = 0.0 if np.isinf(xbi) else (np.inf if xbi == 0.0 else 1.0 / xbi)
        ch = calinski_harabasz(s)
    else:
        raise ValueError(f"aqi: 'normalization' must be one of ['bounded', 'none'], {normalization!r} was provided.")
    return float(lam * xb + (1.0 - lam) * ch)


def all_indices(X: np.ndarray, labels: np.ndarray, lam: float = 0.5) -> dict[str, float]:
    """Every index and AQI formulation for one labelled point cloud.

    Returns
    -------
    dict
        ``aqi_bounded``, ``aqi_unnormalized``, ``aqi_dbs_dunn``, ``xie_beni``, ``xie_beni_bounded``,
        ``calinski_harabasz``, ``calinski_harabasz_bounded``, ``davies_bouldin``, ``dunn``.
        ``aqi_dbs_dunn = lam / (1 + DBS) + (1 - lam) * DI / (1 + DI)`` is the same convex combination
        built from the other two indices (both mapped onto [0, 1], larger is better).
    """
    s = scatter(X, labels)
    xb_b, ch_b = bounded_components(s)
    dbs = davies_bouldin(s)
    di = dunn(X, labels)
    db_b = 0.0 if np.isinf(dbs) else 1.0 / (1.0 + dbs)
    di_b = 1.0 if np.isinf(di) else di / (1.0 + di)
    return {
        "aqi_bounded": aqi(s, lam, "bounded"),
        "aqi_unnormalized": aqi(s, lam, "none"),
        "aqi_dbs_dunn": float(lam * db_b + (1.0 - lam) * di_b),
        "xie_beni": xie_beni(s),
        "xie_beni_bounded": xb_b,
        "calinski_harabasz": calinski_harabasz(s),
        "calinski_harabasz_bounded": ch_b,
        "davies_bouldin": dbs,
        "dunn": di,
    }


def aqi_permutations(X: np.ndarray, labels: np.ndarray, perms: np.ndarray, lam: float = 0.5,
                     normalization: str = "bounded") -> np.ndarray:
    """AQI for many relabellings of the same points at once (the permutation null), through the Gram matrix.

    With ``X`` centred and ``G = X X^T``, every quantity AQI needs follows from ``C = M G M^T`` for
    the one-hot group matrix ``M``: ``||mu_k||^2``-type terms are ``C_kl / (n_k n_l)``, ``B`` is
    ``sum_k C_kk / n_k`` and ``W = tr(G) - B``; a batch of label vectors is one matrix product.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,), int
        Group codes ``0 .. K-1``.
    perms : ndarray of shape (n_perms, n_samples), int
        Each row a permutation of ``range(n_samples)``; relabelling ``b`` is ``labels[perms[b]]``.
    lam : float, default=0.5
    normalization : {"bounded", "none"}, default="bounded"

    Returns
    -------
    ndarray of shape (n_perms,)
    """
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(0)
    G = Xc @ Xc.T
    k = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    lab = np.asarray(labels)[np.asarray(perms)]                           # (P, N)
    M = (lab[:, None, :] == np.arange(k)[None, :, None]).astype(np.float64)  # (P, K, N)
    C = np.einsum("pkn,nm,plm->pkl", M, G, M)
    inv = 1.0 / counts
    diag = np.diagonal(C, axis1=1, axis2=2)                                 # (P, K)
    between = np.sum(diag * inv, axis=1)
    total = float(np.trace(G))
    within = np.maximum(total - between, 0.0)
    sq = (diag * inv**2)[:, :, None] + (diag * inv**2)[:, None, :] - 2.0 * C * np.outer(inv, inv)[None]
    sq[:, np.arange(k), np.arange(k)] = np.inf
    sep = sq.reshape(len(lab), -1).min(axis=1)
    n = X.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        xbi = np.where(sep > 0, within / (n * np.where(sep > 0, sep, 1.0)), np.inf)
        if normalization == "bounded":
            xb = np.where(np.isinf(xbi), 0.0, 1.0 / (1.0 + xbi))
            ch = between / total if total > 0 else np.zeros_like(between)
        elif normalization == "none":
            xb = np.where(np.isinf(xbi), 0.0, 1.0 / xbi)
            ch = np.where(within > 0, between * (n - k) / (within * (k - 1.0)), 1.0)
        else:
            raise ValueError(f"aqi_permutations: 'normalization' must be one of ['bounded', 'none'], "
                             f"{normalization!r} was provided.")
    return lam * xb + (1.0 - lam) * ch
