"""The data model: stimulus sets, representations, RDMs and result rows.

numpy only at this boundary (no torch, no nibabel). Arrays are stimuli-first,
``(n_stimuli, n_features)``; the stimulus ids are the join key between any two
representations. The vocabulary follows rsatoolbox (``dissimilarities``,
``dissimilarity_measure``, ``rdm_descriptors``, ``channel_descriptors``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .errors import InvalidInputError, StimulusMismatchError

__all__ = [
    "StimulusSet",
    "Representation",
    "RDMs",
    "Result",
    "RESULT_COLUMNS",
    "align",
    "stack_sites",
    "as_stimulus_ids",
    "hash_array",
]


# --------------------------------------------------------------------------- helpers

def as_stimulus_ids(ids: Sequence[Any] | np.ndarray, *, owner: str = "input") -> tuple[str, ...]:
    """Return ``ids`` as a tuple of str, refusing duplicates.

    Parameters
    ----------
    ids : sequence
        Stimulus identifiers; anything with a stable ``str()``.
    owner : str, default="input"
        Named in the error message.
    """
    out = tuple(str(i) for i in (ids.tolist() if isinstance(ids, np.ndarray) else ids))
    if len(set(out)) != len(out):
        seen: set[str] = set()
        dup = sorted({i for i in out if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
        raise StimulusMismatchError(
            f"{owner}: stimulus ids must be unique; {len(dup)} duplicated id(s) were given, "
            f"e.g. {dup[:5]}. Give every stimulus its own id (e.g. append the repeat index).")
    return out


def hash_array(a: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes (C order)."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256()
    h.update(str(a.dtype).encode())
    h.update(str(a.shape).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def _check_finite(a: np.ndarray, what: str) -> None:
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        n_bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise InvalidInputError(
            f"{what}: expected finite values, got {n_bad} NaN/inf value(s) out of {a.size}. "
            "Remove or impute them first (e.g. drop the voxels/units with NaNs, or use "
            "nilearn's masker with a brain mask).")


# --------------------------------------------------------------------------- stimuli

@dataclass(frozen=True, eq=False)
class StimulusSet:
    """An ordered set of stimuli with stable ids.

    Parameters
    ----------
    ids : tuple of str
        Unique stimulus ids, the join key of every representation.
    modality : {"image", "text", "audio", "other"}
        What the stimuli are.
    payload : sequence or ndarray, optional
        The stimuli themselves (an ``(n, H, W, C)`` uint8 array, a list of str, ...).
    paths : tuple of str, optional
        Files holding the stimuli, when not in memory.
    descriptors : dict of str to ndarray
        Per-stimulus annotations (category labels, ...), each of length ``n``.
    name : str
        A short name used in store paths and provenance.
    """

    ids: tuple[str, ...]
    modality: str = "other"
    payload: Any = None
    paths: tuple[str, ...] | None = None
    descriptors: Mapping[str, np.ndarray] = field(default_factory=dict)
    name: str = "stimuli"

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", as_stimulus_ids(self.ids, owner=f"StimulusSet {self.name!r}"))
        n = len(self.ids)
        if self.payload is not None and len(self.payload) != n:
            raise InvalidInputError(
                f"StimulusSet {self.name!r}: payload has {len(self.payload)} items but {n} ids were given; "
                "give one id per stimulus.")
        if self.paths is not None and len(self.paths) != n:
            raise InvalidInputError(
                f"StimulusSet {self.name!r}: {len(self.paths)} paths but {n} ids; give one path per stimulus.")
        for k, v in self.descriptors.items():
            if len(v) != n:
                raise InvalidInputError(
                    f"StimulusSet {self.name!r}: descriptor {k!r} has length {len(v)}, expected {n} (one per stimulus).")

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: slice | Sequence[int] | np.ndarray) -> StimulusSet:
        """Return the stimuli at positional ``index`` (a slice or integer array)."""
        idx = np.arange(len(self))[index]
        pay = None
        if self.payload is not None:
            pay = self.payload[idx] if isinstance(self.payload, np.ndarray) else [self.payload[i] for i in idx]
        return StimulusSet(
            ids=tuple(self.ids[i] for i in idx), modality=self.modality, payload=pay,
            paths=None if self.paths is None else tuple(self.paths[i] for i in idx),
            descriptors={k: np.asarray(v)[idx] for k, v in self.descriptors.items()}, name=self.name)

    def fingerprint(self) -> str:
        """A content hash of ids, modality and payload (used in cache keys)."""
        h = hashlib.sha256()
        h.update(self.modality.encode())
        h.update("\x00".join(self.ids).encode())
        if isinstance(self.payload, np.ndarray):
            h.update(hash_array(self.payload).encode())
        elif self.payload is not None:
            for p in self.payload:  # arrays by content (repr() abbreviates large arrays)
                h.update(hash_array(np.asarray(p)).encode() if isinstance(p, np.ndarray) else repr(p).encode())
        if self.paths is not None:
            h.update("\x00".join(self.paths).encode())
        return h.hexdigest()[:16]


# --------------------------------------------------------------------------- representations

@dataclass(frozen=True, eq=False)
class Representation:
    """Responses of one space (a model site, a brain ROI) to a set of stimuli.

    Parameters
    ----------
    data : ndarray of shape (n_stimuli, n_features)
        The response pattern of each stimulus (the mean over repeats when ``repeats`` is given).
    stimulus_ids : tuple of str
        One id per row of ``data``.
    repeats : ndarray of shape (n_repeats, n_stimuli, n_features), optional
        Independent measurements (runs, sessions, trials) for noise ceilings and
        cross-validated distances.
    space : dict
        Provenance of the feature space, e.g. ``{"kind": "model", "model": "...", "site": "blocks.3"}``
        or ``{"kind": "brain", "subject": "sub-01", "roi": "IT"}``.
    channel_descriptors : dict of str to ndarray
        Per-feature annotations (voxel coordinates, unit indices), each of length ``n_features``.
    name : str
        Label used in results.
    """

    data: np.ndarray
    stimulus_ids: tuple[str, ...]
    repeats: np.ndarray | None = None
    space: Mapping[str, Any] = field(default_factory=dict)
    channel_descriptors: Mapping[str, np.ndarray] = field(default_factory=dict)
    name: str = "representation"

    def __post_init__(self) -> None:
        data = np.asarray(self.data)
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise InvalidInputError(
                f"Representation {self.name!r}: expected a stimuli-first 2D array (n_stimuli, n_features), "
                f"got shape {data.shape}. Flatten or pool the feature axes first.")
        if data.dtype.kind not in "fiub":
            raise InvalidInputError(
                f"Representation {self.name!r}: expected a numeric array, got dtype {data.dtype}.")
        ids = as_stimulus_ids(self.stimulus_ids, owner=f"Representation {self.name!r}")
        if len(ids) != data.shape[0]:
            raise StimulusMismatchError(
                f"Representation {self.name!r}: {data.shape[0]} rows but {len(ids)} stimulus ids; "
                "arrays are stimuli-first (n_stimuli, n_features), transpose it if it is (n_features, n_stimuli).")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "stimulus_ids", ids)
        if self.repeats is not None:
            rep = np.asarray(self.repeats)
            if rep.ndim != 3 or rep.shape[1:] != data.shape:
                raise InvalidInputError(
                    f"Representation {self.name!r}: repeats must have shape (n_repeats, {data.shape[0]}, "
                    f"{data.shape[1]}), got {rep.shape}.")
            object.__setattr__(self, "repeats", rep)
        for k, v in self.channel_descriptors.items():
            if len(v) != data.shape[1]:
                raise InvalidInputError(
                    f"Representation {self.name!r}: channel descriptor {k!r} has length {len(v)}, "
                    f"expected n_features={data.shape[1]}.")

    @property
    def n_stimuli(self) -> int:
        return self.data.shape[0]

    @property
    def n_features(self) -> int:
        return self.data.shape[1]

    def check_finite(self, owner: str | None = None) -> Representation:
        """Raise :class:`InvalidInputError` if ``data`` (or ``repeats``) holds NaN/inf; return self.

        Parameters
        ----------
        owner : str, optional
            The component checking its input (e.g. ``"Analyzer 'cka.linear'"``), named in the message.
        """
        who = (f"{owner}: " if owner else "") + f"Representation {self.name!r}"
        _check_finite(self.data, who)
        if self.repeats is not None:
            _check_finite(self.repeats, who + " (repeats)")
        return self

    def select(self, ids: Sequence[str]) -> Representation:
        """Return the rows for ``ids``, in that order."""
        pos = {s: i for i, s in enumerate(self.stimulus_ids)}
        missing = [s for s in ids if s not in pos]
        if missing:
            raise StimulusMismatchError(
                f"Representation {self.name!r}: {len(missing)} requested stimulus id(s) are absent, "
                f"e.g. {missing[:5]}.")
        idx = np.fromiter((pos[s] for s in ids), dtype=np.intp, count=len(ids))
        return dataclasses.replace(
            self, data=self.data[idx], stimulus_ids=tuple(ids),
            repeats=None if self.repeats is None else self.repeats[:, idx])

    def fingerprint(self) -> str:
        """Content hash of data, ids and repeats."""
        h = hashlib.sha256(hash_array(self.data).encode())
        h.update("\x00".join(self.stimulus_ids).encode())
        if self.repeats is not None:
            h.update(hash_array(self.repeats).encode())
        return h.hexdigest()[:16]


# --------------------------------------------------------------------------- RDMs

def _condensed_index(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


@dataclass(frozen=True, eq=False)
class RDMs:
    """One or more representational dissimilarity matrices over the same stimuli.

    Stored condensed, like rsatoolbox and ``scipy.spatial.distance.squareform``: the
    upper triangle (k=1) in row-major order.

    Parameters
    ----------
    dissimilarities : ndarray of shape (n_rdms, n_pairs)
        ``n_pairs = n_stimuli * (n_stimuli - 1) / 2``. A 1D vector is one RDM.
    stimulus_ids : tuple of str
    dissimilarity_measure : str
        E.g. ``"correlation"``, ``"euclidean"``, ``"crossnobis"``.
    rdm_descriptors : dict of str to list
        Per-RDM annotations (subject, session, site), each of length ``n_rdms``.
    space : dict
        Provenance shared by all RDMs.
    name : str
    """

    dissimilarities: np.ndarray
    stimulus_ids: tuple[str, ...]
    dissimilarity_measure: str = "unknown"
    rdm_descriptors: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    space: Mapping[str, Any] = field(default_factory=dict)
    name: str = "rdms"

    def __post_init__(self) -> None:
        d = np.asarray(self.dissimilarities, dtype=float)
        if d.ndim == 1:
            d = d[None, :]
        if d.ndim != 2:
            raise InvalidInputError(
                f"RDMs {self.name!r}: expected condensed dissimilarities of shape (n_rdms, n_pairs), got {d.shape}. "
                "Use RDMs.from_matrices for square matrices.")
        ids = as_stimulus_ids(self.stimulus_ids, owner=f"RDMs {self.name!r}")
        n = len(ids)
        if d.shape[1] != n * (n - 1) // 2:
            raise StimulusMismatchError(
                f"RDMs {self.name!r}: {d.shape[1]} dissimilarities per RDM, expected n*(n-1)/2 = "
                f"{n * (n - 1) // 2} for {n} stimulus ids.")
        for k, v in self.rdm_descriptors.items():
            if len(v) != d.shape[0]:
                raise InvalidInputError(
                    f"RDMs {self.name!r}: rdm descriptor {k!r} has length {len(v)}, expected n_rdms={d.shape[0]}.")
        object.__setattr__(self, "dissimilarities", d)
        object.__setattr__(self, "stimulus_ids", ids)

    @classmethod
    def from_matrices(cls, matrices: np.ndarray, stimulus_ids: Sequence[str], *,
                      atol: float = 1e-8, **kwargs: Any) -> RDMs:
        """Build from square matrices of shape (n, n) or (n_rdms, n, n); checks symmetry and zero diagonal."""
        m = np.asarray(matrices, dtype=float)
        if m.ndim == 2:
            m = m[None]
        if m.ndim != 3 or m.shape[1] != m.shape[2]:
            raise InvalidInputError(f"RDMs.from_matrices: expected (n_rdms, n, n) square matrices, got {m.shape}.")
        asym = np.nanmax(np.abs(m - m.transpose(0, 2, 1))) if m.size else 0.0
        if asym > atol * max(1.0, float(np.nanmax(np.abs(m)))):
            raise InvalidInputError(
                f"RDMs.from_matrices: matrices must be symmetric; max |D - D.T| = {asym:.3g}. "
                "Symmetrise with (D + D.T) / 2 if the asymmetry is numerical noise.")
        diag = np.abs(np.diagonal(m, axis1=1, axis2=2)).max() if m.size else 0.0
        if diag > atol * max(1.0, float(np.nanmax(np.abs(m)))):
            raise InvalidInputError(f"RDMs.from_matrices: the diagonal must be zero; max |diag| = {diag:.3g}.")
        iu = _condensed_index(m.shape[1])
        return cls(m[:, iu[0], iu[1]], tuple(stimulus_ids), **kwargs)

    @property
    def n_rdms(self) -> int:
        return self.dissimilarities.shape[0]

    @property
    def n_stimuli(self) -> int:
        return len(self.stimulus_ids)

    def get_matrices(self) -> np.ndarray:
        """Square form, shape (n_rdms, n, n)."""
        n = self.n_stimuli
        out = np.zeros((self.n_rdms, n, n))
        iu = _condensed_index(n)
        out[:, iu[0], iu[1]] = self.dissimilarities
        out[:, iu[1], iu[0]] = self.dissimilarities
        return out

    def select(self, ids: Sequence[str]) -> RDMs:
        """Return the RDMs restricted to (and reordered as) ``ids``."""
        pos = {s: i for i, s in enumerate(self.stimulus_ids)}
        missing = [s for s in ids if s not in pos]
        if missing:
            raise StimulusMismatchError(
                f"RDMs {self.name!r}: {len(missing)} requested stimulus id(s) are absent, e.g. {missing[:5]}.")
        idx = np.array([pos[s] for s in ids], dtype=np.intp)
        m = self.get_matrices()[:, idx][:, :, idx]
        iu = _condensed_index(len(idx))
        return dataclasses.replace(self, dissimilarities=m[:, iu[0], iu[1]], stimulus_ids=tuple(ids))

    def subset_rdms(self, index: Sequence[int] | np.ndarray | slice) -> RDMs:
        """Return a subset of the RDMs (rows), keeping descriptors in step."""
        idx = np.arange(self.n_rdms)[index]
        return dataclasses.replace(
            self, dissimilarities=self.dissimilarities[idx],
            rdm_descriptors={k: [list(v)[i] for i in idx] for k, v in self.rdm_descriptors.items()})

    def check_finite(self, owner: str | None = None) -> RDMs:
        """Raise :class:`InvalidInputError` if the dissimilarities hold NaN/inf; return self."""
        _check_finite(self.dissimilarities, (f"{owner}: " if owner else "") + f"RDMs {self.name!r}")
        return self

    def fingerprint(self) -> str:
        h = hashlib.sha256(hash_array(self.dissimilarities).encode())
        h.update("\x00".join(self.stimulus_ids).encode())
        h.update(self.dissimilarity_measure.encode())
        return h.hexdigest()[:16]


# --------------------------------------------------------------------------- alignment

def align(a: Any, b: Any, *, how: Literal["strict", "reorder", "intersection"] = "reorder",
          min_common: int = 3, owner: str = "align") -> tuple[Any, Any]:
    """Align two representations (or RDMs) on their stimulus ids.

    Parameters
    ----------
    a, b : Representation or RDMs
    how : {"strict", "reorder", "intersection"}, default="reorder"
        ``"strict"``: ids must be identical and in the same order. ``"reorder"``: the same
        set of ids; ``b`` is reordered to ``a``'s order. ``"intersection"``: both are restricted
        to their common ids (in ``a``'s order); at least ``min_common`` must remain.
    owner : str
        Component id or caller named in the error message.

    Returns
    -------
    a, b : aligned copies (the inputs themselves when nothing had to change).
    """
    ia, ib = tuple(a.stimulus_ids), tuple(b.stimulus_ids)
    if ia == ib:
        return a, b
    sa, sb = set(ia), set(ib)
    if how == "strict":
        raise StimulusMismatchError(
            f"{owner}: the two inputs must list the same stimulus ids in the same order; "
            f"got {len(ia)} ids in {getattr(a, 'name', 'x')!r} and {len(ib)} in {getattr(b, 'name', 'y')!r}"
            f"{' (same ids, different order)' if sa == sb else ''}. Reorder one with .select(other.stimulus_ids).")
    if sa == sb:
        return a, b.select(ia)
    if how == "intersection":
        common = [s for s in ia if s in sb]
        if len(common) < min_common:
            raise StimulusMismatchError(
                f"{owner}: only {len(common)} stimulus id(s) are shared between {getattr(a, 'name', 'x')!r} and "
                f"{getattr(b, 'name', 'y')!r}; at least {min_common} are needed. Check that both inputs use the "
                "same stimulus set and id scheme.")
        return a.select(common), b.select(common)
    only_a, only_b = sorted(sa - sb), sorted(sb - sa)
    raise StimulusMismatchError(
        f"{owner}: the two inputs must describe the same stimuli; {getattr(a, 'name', 'x')!r} has "
        f"{len(only_a)} id(s) that {getattr(b, 'name', 'y')!r} lacks (e.g. {only_a[:3]}) and the other way round "
        f"{len(only_b)} (e.g. {only_b[:3]}). Use the same stimulus set for both, or align on the common ids "
        "with how='intersection' (recipe: align = \"intersection\").")


# --------------------------------------------------------------------------- results

RESULT_COLUMNS: tuple[str, ...] = (
    "metric", "score", "ceiling_lower", "ceiling_upper", "ci_low", "ci_high", "p_value", "n",
)


def _nan() -> float:
    return math.nan


def _merge_descriptors(dicts: Sequence[Mapping[str, Any]], lengths: Sequence[int], skip: str) -> dict[str, np.ndarray]:
    """Descriptors every item has, concatenated (object arrays where the dtypes differ)."""
    common = set(dicts[0]) if dicts else set()
    for d in dicts[1:]:
        common &= set(d)
    out = {}
    for k in sorted(common - {skip}):
        parts = [np.asarray(d[k]) for d in dicts]
        if all(p.ndim == 1 and len(p) == n for p, n in zip(parts, lengths)):
            try:
                out[k] = np.concatenate(parts)
            except (TypeError, ValueError):
                out[k] = np.concatenate([p.astype(object) for p in parts])
    return out


def stack_sites(items: Sequence[Representation | RDMs], names: Sequence[str], *, descriptor: str = "site",
                owner: str = "stack_sites") -> Representation | RDMs:
    """Several sites' representations (or RDMs) of the same stimuli as ONE input.

    Representations are put side by side (features of ``names[0]`` first), each feature labelled
    with its site in the channel descriptor ``descriptor``; ``repeats`` are kept when every site has
    the same number. RDMs become one multi-RDM object whose ``rdm_descriptors[descriptor]`` names
    each RDM's site. Rows follow the first item's stimulus order; every item must hold the same
    stimuli (any order). This is what a recipe analysis with ``stack = "x"`` gives the analyzer.

    Parameters
    ----------
    items : sequence of Representation, or sequence of RDMs
    names : sequence of str
        The site of each item.
    descriptor : str, default="site"
    owner : str
        Named in errors.
    """
    if not items or len(items) != len(names):
        raise InvalidInputError(f"{owner}: expected one or more items with one site name each, got {len(items)} "
                                f"item(s) and {len(names)} name(s).")
    names = [str(n) for n in names]
    ref_ids = items[0].stimulus_ids
    kinds = {type(it) for it in items}
    if kinds not in ({Representation}, {RDMs}):
        got = sorted(f"{n}: {type(it).__name__}" for n, it in zip(names, items))
        raise InvalidInputError(f"{owner}: can stack representations or RDMs, not a mix; got {got}. Stack sites of "
                                "one kind (or add a transform that turns every site into RDMs).")
    aligned = []
    for it, nm in zip(items, names):
        if tuple(it.stimulus_ids) != tuple(ref_ids):
            if set(it.stimulus_ids) != set(ref_ids):
                only = sorted(set(it.stimulus_ids) ^ set(ref_ids))
                raise StimulusMismatchError(
                    f"{owner}: site {nm!r} holds other stimuli than site {names[0]!r} ({len(only)} ids differ, e.g. "
                    f"{only[:5]}); stacked sites must share their stimuli. Select common sites or stimuli.")
            it = it.select(list(ref_ids))
        aligned.append(it)
    spaces = [dict(it.space) for it in aligned]
    kind = {sp.get("kind") for sp in spaces}
    space: dict[str, Any] = {"stacked_sites": names, "kind": kind.pop() if len(kind) == 1 else "mixed"}
    label = f"stack({names[0]}..{names[-1]})" if len(names) > 1 else f"stack({names[0]})"
    if kinds == {Representation}:
        widths = [it.n_features for it in aligned]
        data = np.concatenate([np.asarray(it.data) for it in aligned], axis=1)
        reps = [it.repeats for it in aligned]
        repeats = None
        if all(r is not None for r in reps) and len({r.shape[0] for r in reps}) == 1:
            repeats = np.concatenate(reps, axis=2)
        cd = _merge_descriptors([it.channel_descriptors for it in aligned], widths, descriptor)
        cd[descriptor] = np.repeat(np.asarray(names, dtype=object).astype(str), widths)
        return Representation(data, tuple(ref_ids), repeats=repeats, space=space, channel_descriptors=cd,
                              name=label)
    counts = [it.n_rdms for it in aligned]
    measures = {it.dissimilarity_measure for it in aligned}
    rd = _merge_descriptors([{k: list(v) for k, v in it.rdm_descriptors.items()} for it in aligned], counts,
                            descriptor)
    rd = {k: list(v) for k, v in rd.items()}
    rd[descriptor] = [n for n, c in zip(names, counts) for _ in range(c)]
    return RDMs(np.concatenate([np.atleast_2d(it.dissimilarities) for it in aligned], axis=0), tuple(ref_ids),
                dissimilarity_measure=measures.pop() if len(measures) == 1 else "mixed", rdm_descriptors=rd,
                space=space, name=label)


@dataclass
class Result:
    """One tidy result row as an analyzer returns it.

    The runner adds the provenance columns (analysis name, component id and version,
    the two inputs' source/site labels, task key, recipe hash).

    Parameters
    ----------
    score : float
        The statistic (e.g. Spearman rho between RDMs, CKA, held-out R2).
    metric : str
        What ``score`` measures, e.g. ``"spearman"``.
    ceiling_lower, ceiling_upper : float
        Noise-ceiling bounds (NaN when not computed).
    ci_low, ci_high : float
        Confidence interval of ``score`` (NaN when not computed).
    p_value : float
        NaN when no test was run.
    n : int
        Number of observations behind ``score`` (stimuli, stimulus pairs, targets...).
    extra : dict
        Further JSON-serialisable fields (e.g. the chosen ``alpha``, a target index).
    """

    score: float
    metric: str = "score"
    ceiling_lower: float = field(default_factory=_nan)
    ceiling_upper: float = field(default_factory=_nan)
    ci_low: float = field(default_factory=_nan)
    ci_high: float = field(default_factory=_nan)
    p_value: float = field(default_factory=_nan)
    n: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        row = {k: getattr(self, k) for k in RESULT_COLUMNS}
        row["score"] = float(row["score"])
        row["n"] = int(row["n"])
        return row
