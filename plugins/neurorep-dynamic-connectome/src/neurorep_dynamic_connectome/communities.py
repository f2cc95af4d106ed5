"""Stage 3: weighted community detection on the NTF affinity factors.

The paper fits a nested weighted stochastic block model (graph-tool) to each component's affinity
matrix. graph-tool is not installable from the package registries this project uses, so we run
weighted Louvain modularity maximisation (Blondel et al., 2008, J. Stat. Mech. P10008; networkx's
``louvain_communities``) on the same weighted graph instead, and also report the simpler argmax
membership of each unit over the components.
"""

from __future__ import annotations

import numpy as np

__all__ = ["factor_communities", "unit_strengths", "argmax_membership", "active_intervals"]


def factor_communities(affinity: np.ndarray, *, resolution: float = 1.0, random_state: int | None = 0,
                       min_size: int = 2) -> tuple[list[list[int]], float]:
    """Louvain communities of the weighted graph whose edge weights are ``affinity`` (symmetric, >= 0).

    Returns the communities of at least ``min_size`` units (each a sorted list of unit indices, largest
    total internal weight first) and the modularity of the whole partition (NaN for an empty graph).
    """
    import networkx as nx

    W = np.asarray(affinity, dtype=float)
    n = W.shape[0]
    G = nx.Graph()
    G.add_nodes_from(range(n))
    iu = np.triu_indices(n, k=1)
    w = W[iu]
    keep = w > 0
    G.add_weighted_edges_from(zip(iu[0][keep].tolist(), iu[1][keep].tolist(), w[keep].tolist(), strict=True))
    if G.number_of_edges() == 0:
        return [], float("nan")
    parts = nx.community.louvain_communities(G, weight="weight", resolution=resolution, seed=random_state)
    q = float(nx.community.modularity(G, parts, weight="weight", resolution=resolution))
    comms = [sorted(int(u) for u in p) for p in parts if len(p) >= min_size]

    def internal(c: list[int]) -> float:
        return float(W[np.ix_(c, c)].sum())

    comms.sort(key=lambda c: (-internal(c), c[0]))
    return comms, q


def unit_strengths(affinity_matrices: np.ndarray) -> np.ndarray:
    """Weighted degree of every unit in every component's affinity graph, shape (n_components, n_units)."""
    return np.asarray(affinity_matrices).sum(axis=-1)


def argmax_membership(affinity_matrices: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Assign each unit to the component where its strength, relative to that component's mean strength, is largest.

    A component spread evenly over all units (a background) gives every unit a relative strength of
    about 1, so units fall to the components in which they stand out.
    """
    s = unit_strengths(affinity_matrices)
    if weights is not None:
        s = s * np.asarray(weights)[:, None]
    mean = s.mean(axis=1, keepdims=True)
    rel = np.divide(s, mean, out=np.zeros_like(s), where=mean > 0)
    return np.argmax(rel, axis=0)


def active_intervals(loadings: np.ndarray, threshold: float = 0.5) -> list[tuple[int, int]]:
    """Runs of windows whose loading is at least ``threshold`` times the maximum: ``[(first, last), ...]`` (inclusive)."""
    v = np.asarray(loadings, dtype=float)
    if v.size == 0 or v.max() <= 0:
        return []
    on = v >= threshold * v.max()
    out: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate(on):
        if flag and start is None:
            start = i
        if not flag and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(on) - 1))
    return out
