"""Seeded toy data for the conformance checks (numpy only, a few kilobytes)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy.spatial.distance import pdist

from ..types import RDMs, Representation, StimulusSet

__all__ = [
    "N_STIMULI",
    "stimulus_ids",
    "toy_triplet",
    "to_rdms",
    "as_analyzer_input",
    "permute",
    "rename_ids",
    "transform_features",
    "with_nan",
    "toy_stimuli",
    "snapshot",
    "same_snapshot",
]

#: Stimuli in every toy representation: small, but more than the features (regressions are determined).
N_STIMULI = 16


def stimulus_ids(n: int = N_STIMULI, prefix: str = "stim") -> tuple[str, ...]:
    return tuple(f"{prefix}-{i:02d}" for i in range(n))


def toy_triplet(seed: int = 0) -> tuple[Representation, Representation, Representation]:
    """Three representations of the same 16 stimuli: ``x``, a related ``y`` and an unrelated ``u``.

    ``x`` (8 features) and ``y`` (6 features) share a 3-dimensional latent stimulus
    structure (``y`` through a tanh); ``u`` (6 features) is independent noise. Each has
    ``repeats`` (3 noisy measurements; ``data`` is their mean), so analyzers that need runs
    (cross-validated distances, leave-one-run-out decoding) can be checked too.
    """
    rng = np.random.default_rng([seed, 2024])
    z = rng.standard_normal((N_STIMULI, 3))
    x_true = z @ rng.standard_normal((3, 8))
    y_true = np.tanh(z @ rng.standard_normal((3, 6)))
    x_rep = x_true[None] + 0.5 * rng.standard_normal((3, N_STIMULI, 8))
    y_rep = y_true[None] + 0.5 * rng.standard_normal((3, N_STIMULI, 6))
    u_rep = rng.standard_normal((3, N_STIMULI, 6))
    ids = stimulus_ids()
    return (Representation(x_rep.mean(0), ids, repeats=x_rep, space={"kind": "toy", "site": "x"}, name="toy-x"),
            Representation(y_rep.mean(0), ids, repeats=y_rep, space={"kind": "toy", "site": "y"}, name="toy-y"),
            Representation(u_rep.mean(0), ids, repeats=u_rep, space={"kind": "toy", "site": "u"},
                           name="toy-unrelated"))


def to_rdms(rep: Representation) -> RDMs:
    """Euclidean-distance RDM of a representation."""
    return RDMs(pdist(rep.data, metric="euclidean"), rep.stimulus_ids, dissimilarity_measure="euclidean",
                space=dict(rep.space), name=rep.name)


def as_analyzer_input(rep: Representation, input_type: str) -> Representation | RDMs:
    """The toy input an analyzer or transform of ``input_type`` takes (RDMs for ``"rdm"``)."""
    return to_rdms(rep) if input_type == "rdm" else rep


def permute(obj: Representation | RDMs, perm: np.ndarray) -> Representation | RDMs:
    """Reorder the stimuli (rows and ids together)."""
    ids = [obj.stimulus_ids[i] for i in perm]
    if isinstance(obj, Representation):
        return dataclasses.replace(obj, data=obj.data[perm], stimulus_ids=tuple(ids),
                                   repeats=None if obj.repeats is None else obj.repeats[:, perm])
    return obj.select(ids)


def rename_ids(obj: Representation | RDMs, prefix: str) -> Representation | RDMs:
    """The same values under disjoint stimulus ids."""
    ids = tuple(f"{prefix}-{i:02d}" for i in range(len(obj.stimulus_ids)))
    return dataclasses.replace(obj, stimulus_ids=ids)


def _orthogonal(p: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((p, p)))
    return q * np.sign(np.diag(r))


def transform_features(rep: Representation, invariance: str, seed: int = 1) -> Representation:
    """Apply the feature-space transformation that ``invariance`` names to ``rep`` (and its repeats)."""
    rng = np.random.default_rng([seed, 7])
    X = rep.data.astype(float)
    p = X.shape[1]
    if invariance == "orthogonal":
        q = _orthogonal(p, rng)
        f = lambda a: a @ q  # noqa: E731
    elif invariance == "isotropic_scaling":
        f = lambda a: 3.7 * a  # noqa: E731
    elif invariance == "translation":
        b = 5.0 * rng.standard_normal((1, p))
        f = lambda a: a + b  # noqa: E731
    elif invariance == "invertible_linear":
        # well conditioned: singular values in [0.5, 2]
        m = _orthogonal(p, rng) @ np.diag(np.linspace(0.5, 2.0, p)) @ _orthogonal(p, rng)
        f = lambda a: a @ m  # noqa: E731
    elif invariance == "feature_permutation":
        perm = rng.permutation(p)
        f = lambda a: a[..., perm]  # noqa: E731
    else:  # pragma: no cover - guarded by validate_component_class
        raise ValueError(f"unknown invariance {invariance!r}")
    reps = None if rep.repeats is None else f(rep.repeats.astype(float))
    return dataclasses.replace(rep, data=f(X), repeats=reps, channel_descriptors={})


def with_nan(obj: Representation | RDMs) -> Representation | RDMs:
    """A copy with one NaN value."""
    if isinstance(obj, Representation):
        d = obj.data.astype(float).copy()
        d[1, 0] = np.nan
        reps = None
        if obj.repeats is not None:
            reps = obj.repeats.astype(float).copy()
            reps[:, 1, 0] = np.nan
        return dataclasses.replace(obj, data=d, repeats=reps)
    d = obj.dissimilarities.copy()
    d[0, 1] = np.nan
    return dataclasses.replace(obj, dissimilarities=d)


def toy_stimuli(n: int = N_STIMULI) -> StimulusSet:
    """A small seeded image-like stimulus set (``(n, 8, 8, 3)`` uint8)."""
    rng = np.random.default_rng(11)
    return StimulusSet(stimulus_ids(n), modality="image", payload=rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8),
                       name="conformance-toy")


# --------------------------------------------------------------------------- mutation detection

def snapshot(obj: Any) -> Any:
    """A deep copy of the array content and ids of a representation, RDMs, array or tuple of them."""
    if isinstance(obj, Representation):
        return ("rep", obj.data.copy(), obj.stimulus_ids, None if obj.repeats is None else obj.repeats.copy(),
                {k: np.array(v, copy=True) for k, v in obj.channel_descriptors.items()}, dict(obj.space))
    if isinstance(obj, RDMs):
        return ("rdm", obj.dissimilarities.copy(), obj.stimulus_ids,
                {k: list(v) for k, v in obj.rdm_descriptors.items()}, dict(obj.space))
    if isinstance(obj, np.ndarray):
        return ("arr", obj.copy())
    return ("other", obj)


def same_snapshot(a: Any, b: Any) -> bool:
    from ._common import values_equal

    return values_equal(a, b)
