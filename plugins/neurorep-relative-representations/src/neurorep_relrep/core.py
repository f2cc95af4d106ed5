"""Array-level functions of relative representations (Moschella et al., 2023).

A relative representation describes each sample by its cosine similarity to a fixed
set of *anchor* samples embedded in the same space:
``r(x)_j = cos(e(x), e(a_j))``. Any map of the latent space that preserves angles
(orthogonal transforms, reflections, permutations of units, a global rescaling)
leaves ``r`` unchanged, so two latent spaces that differ by such a map give the same
relative representation of the same samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = [
    "CITATION", "AGREEMENTS", "relative_projection", "select_anchors", "anchor_positions",
    "relative_from_rdm", "row_agreement",
]

CITATION = ("Moschella L, Maiorca V, Fumero M, Norelli A, Locatello F, Rodola E (2023). Relative "
            "representations enable zero-shot latent space communication. ICLR 2023. arXiv:2209.15430")

#: How matched rows of two relative representations are compared.
AGREEMENTS = ("cosine", "pearson")

_EPS = 1e-12


def _unit_rows(a: np.ndarray, owner: str, what: str) -> np.ndarray:
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    if np.any(norms <= _EPS):
        bad = int(np.flatnonzero(norms.ravel() <= _EPS)[0])
        raise InvalidInputError(
            f"{owner}: {what} row {bad} has zero norm, so its cosine similarity is undefined. Drop all-zero "
            "samples or anchors (or set center=True when the zero vector is not the problem).")
    return a / norms


def relative_projection(x: np.ndarray, anchors: np.ndarray, *, center: bool = False,
                        owner: str = "relative_projection") -> np.ndarray:
    """Cosine similarity of every sample to every anchor.

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_features)
        Absolute embeddings.
    anchors : ndarray of shape (n_anchors, n_features)
        Embeddings of the anchor samples in the same space.
    center : bool, default=False
        Subtract the anchors' mean from samples and anchors first: the result is then
        also invariant to a translation of the space (not part of the original method).
    owner : str
        Named in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_anchors)
        ``out[i, j] = cos(x_i, anchors_j)``, in [-1, 1].
    """
    x = np.asarray(x, dtype=float)
    anchors = np.asarray(anchors, dtype=float)
    if x.ndim != 2 or anchors.ndim != 2 or x.shape[1] != anchors.shape[1]:
        raise InvalidInputError(
            f"{owner}: expected samples (n_samples, n_features) and anchors (n_anchors, n_features) with the "
            f"same n_features, got shapes {x.shape} and {anchors.shape}. Embed the anchors with the same encoder.")
    if center:
        mu = anchors.mean(axis=0, keepdims=True)
        x, anchors = x - mu, anchors - mu
    return np.clip(_unit_rows(x, owner, "sample") @ _unit_rows(anchors, owner, "anchor").T, -1.0, 1.0)


def select_anchors(stimulus_ids: Sequence[str], n_anchors: int, random_state: int | None = 0, *,
                   owner: str = "select_anchors") -> tuple[str, ...]:
    """Choose ``n_anchors`` stimulus ids uniformly at random (the paper's default rule), reproducibly.

    The draw is made from the *sorted* ids, so the same set of stimuli gives the same
    anchors whatever order its rows are in; the anchors are returned in sorted order.

    Parameters
    ----------
    stimulus_ids : sequence of str
    n_anchors : int
        1 <= n_anchors <= len(stimulus_ids).
    random_state : int or None, default=0
    owner : str
        Named in error messages.
    """
    ids = sorted(str(s) for s in stimulus_ids)
    n = int(n_anchors)
    if not 1 <= n <= len(ids):
        raise InvalidInputError(
            f"{owner}: n_anchors must be between 1 and the number of stimuli ({len(ids)}), got {n_anchors}. "
            "Lower n_anchors or pass anchor_ids explicitly.")
    pick = np.random.default_rng(random_state).choice(len(ids), size=n, replace=False)
    return tuple(ids[i] for i in np.sort(pick))


def anchor_positions(stimulus_ids: Sequence[str], anchor_ids: Sequence[str], *,
                     owner: str = "anchor_positions") -> np.ndarray:
    """Row index of each anchor id in ``stimulus_ids`` (an error names the missing ones)."""
    pos = {s: i for i, s in enumerate(stimulus_ids)}
    missing = [a for a in anchor_ids if a not in pos]
    if missing:
        raise InvalidInputError(
            f"{owner}: {len(missing)} anchor id(s) are not among the input's stimulus ids, e.g. {missing[:3]}; "
            f"the input has e.g. {list(stimulus_ids)[:3]}. Anchors must be stimuli present in every input.")
    if len(set(anchor_ids)) != len(anchor_ids):
        raise InvalidInputError(f"{owner}: anchor ids must be unique, got duplicates in {list(anchor_ids)[:10]}.")
    if len(anchor_ids) == 0:
        raise InvalidInputError(f"{owner}: expected at least one anchor id, got none.")
    return np.fromiter((pos[a] for a in anchor_ids), dtype=np.intp, count=len(anchor_ids))


def relative_from_rdm(dissimilarities: np.ndarray, anchor_index: np.ndarray, *,
                      owner: str = "relative_from_rdm") -> np.ndarray:
    """Relative representation from a square correlation- or cosine-distance matrix: ``1 - D[:, anchors]``.

    With the correlation distance ``1 - r`` this is each stimulus' Pearson correlation
    with every anchor pattern, i.e. the cosine similarity of row-centred patterns: the
    relative representation of a space known only through its RDM (e.g. fMRI).

    Parameters
    ----------
    dissimilarities : ndarray of shape (n_stimuli, n_stimuli)
    anchor_index : ndarray of int
    owner : str
    """
    d = np.asarray(dissimilarities, dtype=float)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise InvalidInputError(f"{owner}: expected a square RDM, got shape {d.shape}.")
    return 1.0 - d[:, np.asarray(anchor_index)]


def row_agreement(a: np.ndarray, b: np.ndarray, how: str = "cosine", *, owner: str = "row_agreement") -> np.ndarray:
    """Per-row agreement of two matrices with matched rows and columns (cosine or Pearson r).

    Parameters
    ----------
    a, b : ndarray of shape (n_samples, n_columns)
    how : {"cosine", "pearson"}
    owner : str

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    if how not in AGREEMENTS:
        raise InvalidInputError(f"{owner}: agreement must be one of {list(AGREEMENTS)}, got {how!r}.")
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise InvalidInputError(f"{owner}: both matrices must have the same shape, got {a.shape} and {b.shape}.")
    if how == "pearson":
        if a.shape[1] < 2:
            raise InvalidInputError(f"{owner}: the Pearson agreement needs at least 2 anchors, got {a.shape[1]}.")
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    den = na * nb
    out = np.where(den > _EPS, (a * b).sum(axis=1) / np.where(den > _EPS, den, 1.0), 0.0)
    # two constant rows (e.g. a sample identical to every anchor) agree perfectly
    both_flat = (na <= _EPS) & (nb <= _EPS)
    return np.clip(np.where(both_flat, 1.0, out), -1.0, 1.0)
