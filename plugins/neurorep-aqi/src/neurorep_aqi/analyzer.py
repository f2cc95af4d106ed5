"""``aqi.index``: the Alignment Quality Index and its cluster-quality components for one representation."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from neurorep.components import Analyzer, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, Result, align
from scipy.spatial.distance import pdist, squareform

from .indices import (aqi, aqi_permutations, bounded_components, calinski_harabasz, davies_bouldin, dunn, scatter,
                      xie_beni)

__all__ = ["AQIIndex", "AQI_CITATION", "pool_layers"]

AQI_CITATION = ("Borah A, Sharma C, Khanna D, Bhatt U, Singh G, Abdullah HM, Ravi RK, Jain V, Patel J, Singh S, "
                "Sharma V, Vats A, Raja R, Chadha A, Das A (2025). Alignment Quality Index (AQI): Beyond Refusals: "
                "AQI as an Intrinsic Alignment Diagnostic via Latent Geometry, Cluster Divergence, and Layer wise "
                "Pooled Representations. arXiv:2506.13901 (EMNLP 2025)")

#: (metric, larger is better) of the rows after the headline, in order.
_ROWS: tuple[tuple[str, bool], ...] = (
    ("aqi_bounded", True), ("aqi_unnormalized", True), ("aqi_dbs_dunn", True),
    ("xie_beni", False), ("xie_beni_bounded", True), ("calinski_harabasz", True),
    ("calinski_harabasz_bounded", True), ("davies_bouldin", False), ("dunn", True),
)


class AQIIndex(Analyzer):
    """Alignment Quality Index: how well two (or more) groups of samples separate in one representation.

    The samples of one representation are split into groups (e.g. the activations of safe and of
    harmful prompts at one layer, or the per-run patterns of faces and of houses in an ROI); the
    cluster-quality indices of that labelled point cloud are computed in Euclidean geometry and
    combined into AQI (Borah et al., 2025): ``AQI = lam * XB' + (1 - lam) * CH'`` where ``XB'``
    grows with ``1 / XBI`` (Xie-Beni) and ``CH'`` with the Calinski-Harabasz index. The headline
    row is ``aqi``; further rows give every component and formulation (see Notes). Pooling over
    tokens is the source's job (e.g. ``source.torch`` with ``pooling="mean"``); to pool several
    layers into one representation first, use :func:`neurorep_aqi.pool_layers`.

    Parameters
    ----------
    groups : list of str, default=[]
        One fnmatch glob over stimulus ids per group, e.g. ``["safe-*", "harmful-*"]`` or
        ``["face", "house"]``; a stimulus matching none is left out, one matching two is an error.
        Empty: with ``samples="repeats"`` every stimulus is its own group; with ``samples="rows"``
        a stimulus's group is its id up to the last ``separator`` (``safe-07`` -> ``safe``).
    samples : {"rows", "repeats"}, default="rows"
        What the points are. ``"rows"``: one point per stimulus (prompts, images). ``"repeats"``:
        one point per repeat of each stimulus (runs x conditions of a brain ROI such as
        ``dataset.haxby2001``; the stimuli are the conditions and name the groups).
    separator : str, default="-"
        Splits the group name off a stimulus id when ``groups`` is empty and ``samples="rows"``.
    lam : float, default=0.5
        Weight of the Xie-Beni term in [0, 1] (the paper's lambda); ``1 - lam`` weighs Calinski-Harabasz.
    normalization : {"bounded", "none"}, default="bounded"
        Scale of the headline AQI. ``"bounded"``: ``XB' = 1 / (1 + XBI)`` and ``CH' = B / (B + W)``
        (between-group share of the scatter; a strictly increasing map of CHI for fixed sample and
        group counts), so AQI is in [0, 1]. ``"none"``: ``XB' = 1 / XBI`` and ``CH' = CHI`` as written.
    l2_normalize : bool, default=False
        Scale every sample to unit Euclidean norm first (cosine geometry); the score is then no
        longer invariant to translations of the features.
    n_permutations : int, default=0
        Group-label shuffles for a one-sided permutation ``p_value`` of the headline AQI (the
        label-shuffled control; its mean and standard deviation go to ``extra``). 0: no test.
    random_state : int, default=0
        Seed of the shuffles.

    Notes
    -----
    Rows after the headline ``aqi``: ``aqi_bounded`` and ``aqi_unnormalized`` (the two scales),
    ``aqi_dbs_dunn`` (the same convex combination of ``1 / (1 + DBS)`` and ``DI / (1 + DI)``),
    ``xie_beni``, ``xie_beni_bounded``, ``calinski_harabasz``, ``calinski_harabasz_bounded``,
    ``davies_bouldin`` and ``dunn``; ``extra["larger_is_better"]`` says each one's direction.
    ``davies_bouldin`` and ``calinski_harabasz`` equal scikit-learn's ``davies_bouldin_score`` and
    ``calinski_harabasz_score``. Samples are put in a canonical order (by stimulus id, then repeat)
    before anything is summed, so reordering the stimuli leaves every number bit-identical. The
    paper also learns a sparse attention pooling over layers; that is not reproduced here.
    """

    id = "aqi.index"
    version = "1.0.0"
    citation = AQI_CITATION
    n_inputs = 1
    tags = Tags(larger_is_more_similar=None, stochastic=True,
                invariances=("orthogonal", "isotropic_scaling", "feature_permutation"))

    def __init__(self, groups: list[str] = [],  # noqa: B006  (parameters are stored, never mutated)
                 samples: Literal["rows", "repeats"] = "rows", separator: str = "-", lam: float = 0.5,
                 normalization: Literal["bounded", "none"] = "bounded", l2_normalize: bool = False,
                 n_permutations: int = 0, random_state: int = 0):
        self.groups = groups
        self.samples = samples
        self.separator = separator
        self.lam = lam
        self.normalization = normalization
        self.l2_normalize = l2_normalize
        self.n_permutations = n_permutations
        self.random_state = random_state

    @classmethod
    def _conformance_instances(cls) -> list[AQIIndex]:
        # the toy stimuli are stim-00 .. stim-15 (3 repeats each)
        return [cls(groups=["stim-0*", "stim-1*"], n_permutations=20),
                cls(groups=["stim-0[0-3]", "stim-0[4-7]", "stim-1*"], normalization="none", lam=0.3),
                cls(groups=["stim-0*", "stim-1*"], samples="repeats", l2_normalize=True)]

    # ------------------------------------------------------------------ inputs
    def _owner(self) -> str:
        return f"Analyzer {self.id!r}"

    def _validate_params(self) -> None:
        owner = self._owner()
        if self.samples not in ("rows", "repeats"):
            raise InvalidInputError(f"{owner}: 'samples' must be one of ['rows', 'repeats'], {self.samples!r} was "
                                    "provided.")
        if self.normalization not in ("bounded", "none"):
            raise InvalidInputError(f"{owner}: 'normalization' must be one of ['bounded', 'none'], "
                                    f"{self.normalization!r} was provided.")
        if not (isinstance(self.lam, (int, float)) and 0.0 <= float(self.lam) <= 1.0):
            raise InvalidInputError(f"{owner}: 'lam' must be a number in [0, 1], {self.lam!r} was provided.")
        if not isinstance(self.n_permutations, int) or self.n_permutations < 0:
            raise InvalidInputError(f"{owner}: 'n_permutations' must be an integer >= 0, {self.n_permutations!r} "
                                    "was provided.")
        if isinstance(self.groups, str) or not all(isinstance(g, str) and g for g in self.groups):
            raise InvalidInputError(f"{owner}: 'groups' must be a list of non-empty fnmatch globs over stimulus ids "
                                    f"(e.g. ['safe-*', 'harmful-*']), {self.groups!r} was provided.")
        if not self.groups and self.samples == "rows" and not self.separator:
            raise InvalidInputError(f"{owner}: without 'groups', 'separator' must be a non-empty string that splits "
                                    "the group name off each stimulus id; give groups or a separator.")

    def _group_of_ids(self, ids: Sequence[str]) -> tuple[list[str], dict[str, int]]:
        """Group names, and the group code of every stimulus id that belongs to one."""
        owner = self._owner()
        if self.groups:
            names = list(self.groups)
            code: dict[str, int] = {}
            for s in ids:
                hit = [j for j, g in enumerate(names) if fnmatch.fnmatchcase(s, g)]
                if len(hit) > 1:
                    raise InvalidInputError(
                        f"{owner}: stimulus {s!r} matches several groups {[names[j] for j in hit]}; make the globs in "
                        "'groups' disjoint.")
                if hit:
                    code[s] = hit[0]
            return names, code
        if self.samples == "repeats":
            names = sorted(ids)
            return names, {s: names.index(s) for s in ids}
        stem = {s: s.rsplit(self.separator, 1)[0] for s in ids}
        names = sorted(set(stem.values()))
        return names, {s: names.index(stem[s]) for s in ids}

    def labelled_samples(self, x: Representation) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
        """The points, their group codes, the group names and the sample keys, in canonical order.

        Parameters
        ----------
        x : Representation

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), float64
        labels : ndarray of shape (n_samples,), int
        names : list of str
            Group names (codes index this list).
        keys : list of str
            ``stimulus_id`` (rows) or ``stimulus_id#repeat`` (repeats) of each sample.
        """
        owner = self._owner()
        self._validate_params()
        if not isinstance(x, Representation):
            raise InvalidInputError(f"{owner}: expected a Representation (stimuli x features), got "
                                    f"{type(x).__name__}. AQI needs the samples' coordinates, not an RDM.")
        x.check_finite(owner=owner)
        names, code = self._group_of_ids(x.stimulus_ids)
        order = sorted(range(x.n_stimuli), key=lambda i: x.stimulus_ids[i])
        order = [i for i in order if x.stimulus_ids[i] in code]
        if self.samples == "rows":
            X = np.asarray(x.data, dtype=np.float64)[order]
            labels = np.array([code[x.stimulus_ids[i]] for i in order], dtype=np.intp)
            keys = [x.stimulus_ids[i] for i in order]
        else:
            if x.repeats is None:
                raise InvalidInputError(
                    f"{owner}: samples='repeats' needs a representation with repeats (runs x stimuli x features), "
                    f"got none in {x.name!r}. Use samples='rows', or a source that keeps runs (dataset.haxby2001).")
            rep = np.asarray(x.repeats, dtype=np.float64)
            X = rep[:, order].transpose(1, 0, 2).reshape(-1, rep.shape[2])   # stimulus-major, then repeat
            labels = np.repeat([code[x.stimulus_ids[i]] for i in order], rep.shape[0]).astype(np.intp)
            keys = [f"{x.stimulus_ids[i]}#{r}" for i in order for r in range(rep.shape[0])]
        counts = np.bincount(labels, minlength=len(names)) if labels.size else np.zeros(len(names), int)
        present = [j for j in range(len(names)) if counts[j] > 0]
        if len(present) < 2:
            raise InvalidInputError(
                f"{owner}: expected samples in at least 2 groups, got {len(present)} non-empty group(s) "
                f"({dict(zip(names, counts.tolist(), strict=True))}) among the stimulus ids of {x.name!r} "
                f"(e.g. {list(x.stimulus_ids[:3])}). Give 'groups' globs that match the ids.")
        if len(present) < len(names):   # drop empty groups, renumber
            remap = {j: i for i, j in enumerate(present)}
            labels = np.array([remap[j] for j in labels], dtype=np.intp)
            names = [names[j] for j in present]
            counts = counts[present]
        if counts.min() < 2:
            small = [n for n, c in zip(names, counts, strict=True) if c < 2]
            raise InvalidInputError(f"{owner}: every group needs at least 2 samples; {small} have fewer "
                                    f"(counts {dict(zip(names, counts.tolist(), strict=True))}).")
        if self.l2_normalize:
            norm = np.linalg.norm(X, axis=1, keepdims=True)
            if np.any(norm == 0):
                raise InvalidInputError(f"{owner}: l2_normalize=True but {int(np.sum(norm == 0))} sample(s) are all "
                                        "zeros; drop them or set l2_normalize=False.")
            X = X / norm
        return X, labels, names, keys

    # ------------------------------------------------------------------ analysis
    def analyze(self, x, y=None):
        owner = self._owner()
        if y is not None:
            raise InvalidInputError(f"{owner} takes one input (the groups are given by its stimulus ids); got two.")
        X, labels, names, _ = self.labelled_samples(x)
        lam = float(self.lam)
        s = scatter(X, labels)
        D = squareform(pdist(X))
        xbi = xie_beni(s)
        xb_b, ch_b = bounded_components(s)
        dbs = davies_bouldin(s)
        di = dunn(X, labels, distances=D)
        values = {
            "aqi_bounded": aqi(s, lam, "bounded"),
            "aqi_unnormalized": aqi(s, lam, "none"),
            "aqi_dbs_dunn": float(lam * (0.0 if np.isinf(dbs) else 1.0 / (1.0 + dbs))
                                  + (1.0 - lam) * (1.0 if np.isinf(di) else di / (1.0 + di))),
            "xie_beni": xbi, "xie_beni_bounded": xb_b,
            "calinski_harabasz": calinski_harabasz(s), "calinski_harabasz_bounded": ch_b,
            "davies_bouldin": dbs, "dunn": di,
        }
        head = values["aqi_bounded" if self.normalization == "bounded" else "aqi_unnormalized"]
        n = int(X.shape[0])
        extra: dict[str, Any] = {
            "groups": {g: int(c) for g, c in zip(names, s.counts.tolist(), strict=True)},
            "lam": lam, "normalization": self.normalization, "samples": self.samples,
            "l2_normalize": bool(self.l2_normalize), "n_features": int(X.shape[1]), "larger_is_better": True,
        }
        p = float("nan")
        if self.n_permutations > 0:
            rng = np.random.default_rng(self.random_state)
            perms = np.stack([rng.permutation(X.shape[0]) for _ in range(self.n_permutations)])
            # the observed value through the same Gram-matrix route, so exact ties compare equal
            obs = aqi_permutations(X, labels, np.arange(X.shape[0])[None], lam, self.normalization)[0]
            null = np.empty(self.n_permutations)
            for start in range(0, self.n_permutations, 256):
                null[start:start + 256] = aqi_permutations(X, labels, perms[start:start + 256], lam,
                                                           self.normalization)
            p = (1 + int(np.sum(null >= obs - 1e-12 * abs(obs)))) / (1 + self.n_permutations)
            extra.update(null_mean=float(null.mean()), null_sd=float(null.std(ddof=1)) if null.size > 1 else 0.0,
                         n_permutations=int(self.n_permutations))
        rows = [Result(score=float(head), metric="aqi", p_value=p, n=n, extra=extra)]
        rows += [Result(score=float(values[m]), metric=m, n=n, extra={"larger_is_better": better})
                 for m, better in _ROWS]
        return rows


def pool_layers(reps: Sequence[Representation] | Mapping[str, Representation],
                weights: Sequence[float] | None = None, name: str = "layer-pooled") -> Representation:
    """Weighted mean of several layers' representations of the same stimuli (one pooled point per stimulus).

    The paper pools a model's layers into one vector per prompt with learned sparse weights; this is
    the fixed-weight version (uniform by default). Layers are aligned on their stimulus ids; repeats
    are pooled the same way when every layer has them.

    Parameters
    ----------
    reps : sequence or mapping of Representation
        The layers (all of the same width).
    weights : sequence of float, optional
        One non-negative weight per layer (normalised to sum 1); default uniform.
    name : str, default="layer-pooled"

    Returns
    -------
    Representation
    """
    items = list(reps.values()) if isinstance(reps, Mapping) else list(reps)
    if not items:
        raise InvalidInputError("pool_layers: expected at least one representation, got none.")
    widths = {r.n_features for r in items}
    if len(widths) != 1:
        raise InvalidInputError(f"pool_layers: the layers must have the same width to be averaged, got widths "
                                f"{sorted(widths)}. Pool layers of one residual stream (e.g. blocks.*.hook_resid_post)."
                                )
    w = np.full(len(items), 1.0 / len(items)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(items),) or np.any(w < 0) or not w.sum() > 0:
        raise InvalidInputError(f"pool_layers: expected {len(items)} non-negative weights with a positive sum, got "
                                f"{list(np.atleast_1d(w))}.")
    w = w / w.sum()
    first = items[0]
    aligned = [align(first, r, how="reorder", owner="pool_layers")[1] for r in items]
    data = sum(wi * r.data.astype(np.float64) for wi, r in zip(w, aligned, strict=True))
    reps_ = None
    if all(r.repeats is not None for r in aligned):
        reps_ = sum(wi * r.repeats.astype(np.float64) for wi, r in zip(w, aligned, strict=True))
    return Representation(data, first.stimulus_ids, repeats=reps_,
                          space={"kind": "pooled", "layers": [dict(r.space).get("site", r.name) for r in aligned],
                                 "weights": w.tolist()}, name=name)
