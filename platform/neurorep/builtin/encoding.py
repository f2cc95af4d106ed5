"""Built-in encoding models, probes and identification (numerics in :mod:`neurorep.encoding`).

* ``encoding.ridge``: ridge from ``x`` (model features) to ``y`` (brain targets), one alpha per
  target chosen by K-fold CV inside each outer training set; held-out R2 and R per target,
  the NCSNR noise ceiling when ``y`` has repeats, permutation p-values and a bootstrap CI.
* ``encoding.banded-ridge``: the same with ``x``'s features split into bands (feature spaces),
  one penalty per band and target, and the split of each target's R2 between the bands.
* ``probe.ridge``: cross-validated ridge regression or one-vs-rest ridge classification of
  ``y``'s columns (stimulus descriptors) from ``x``.
* ``probe.logistic``: cross-validated logistic regression (scikit-learn) of ``y``'s label columns.
* ``identification.correlation``: each stimulus's held-out predicted pattern ranked against the
  measured patterns of every stimulus; top-1 / top-k accuracy against chance 1/N, k/N.

Every analyzer sorts its inputs by stimulus id before forming folds, so results do not depend
on the order of the rows.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .. import hookimpl
from ..components import Analyzer, Tags
from ..encoding.banded import band_slices, banded_ridge_cv
from ..encoding.identification import identification_ranks, pattern_correlations, topk_accuracy, topk_null
from ..encoding.ridge import (
    DEFAULT_ALPHAS,
    check_alphas,
    cv_ridge_predictions,
    kfold_indices,
    ridge_cv,
    ridge_predict,
)
from ..encoding.scoring import (
    bootstrap_mean_r2,
    ncsnr_ceiling,
    pearson_per_target,
    permutation_null,
    r2_per_target,
    r2_split,
)
from ..errors import InvalidInputError
from ..types import Representation, Result, align

_ALIGN = Literal["strict", "reorder", "intersection"]
_RIDGE_CITATION = ("Hoerl & Kennard (1970). Ridge regression: biased estimation for nonorthogonal problems. "
                   "Technometrics 12:55-67. doi:10.1080/00401706.1970.10488634; encoding models: Naselaris, Kay, "
                   "Nishimoto & Gallant (2011). Encoding and decoding in fMRI. NeuroImage 56:400-410. "
                   "doi:10.1016/j.neuroimage.2010.07.073")
_BANDED_CITATION = ("Nunez-Elizalde, Huth & Gallant (2019). Voxelwise encoding models with non-spherical "
                    "multivariate normal priors. NeuroImage 197:482-492. doi:10.1016/j.neuroimage.2019.04.012; "
                    "Dupre la Tour, Eickenberg, Nunez-Elizalde & Gallant (2022). Feature-space selection with "
                    "banded ridge regression. NeuroImage 264:119728. doi:10.1016/j.neuroimage.2022.119728")
_PROBE_CITATION = ("Alain & Bengio (2017). Understanding intermediate layers using linear classifier probes. "
                   "ICLR workshop. arXiv:1610.01644")
_KAY2008 = ("Kay, Naselaris, Prenger & Gallant (2008). Identifying natural images from human brain activity. "
            "Nature 452:352-355. doi:10.1038/nature06713")


# =========================================================================== shared input handling

def _as_rep(v, owner: str, side: str) -> Representation:
    if not isinstance(v, Representation):
        raise InvalidInputError(f"{owner}: expected a Representation (stimuli x features) as {side}, got "
                                f"{type(v).__name__}. Encoding models and probes need response patterns, not RDMs.")
    try:
        return v.check_finite()
    except InvalidInputError as exc:
        raise InvalidInputError(f"{owner}: {exc}") from exc


def _canonical(x, y, owner: str, how: str, dtype: str):
    """Align on stimulus ids, then sort by id: (X, Y, ids, y_repeats, x_rep, y_rep)."""
    if y is None:
        raise InvalidInputError(f"{owner}: expected two inputs (x: features, y: targets), got one.")
    x, y = _as_rep(x, owner, "x"), _as_rep(y, owner, "y")
    x, y = align(x, y, how=how, owner=owner)
    order = np.argsort(np.asarray(x.stimulus_ids, dtype=object).astype(str), kind="stable")
    dt = np.float32 if dtype == "float32" else np.float64
    X = np.ascontiguousarray(x.data[order], dtype=dt)
    Y = np.ascontiguousarray(y.data[order], dtype=dt)
    rep = None if y.repeats is None else np.asarray(y.repeats, dtype=float)[:, order]
    return X, Y, tuple(x.stimulus_ids[i] for i in order), rep, x, y


def _check_int(owner: str, name: str, v, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InvalidInputError(f"{owner}: {name!r} must be an integer >= {lo}, got {v!r}.")


def _check_common(self) -> None:
    owner = f"Analyzer {self.id!r}"
    for name, lo in (("outer_cv", 2), ("n_permutations", 0), ("n_bootstrap", 0)):
        if hasattr(self, name):
            _check_int(owner, name, getattr(self, name), lo)
    if hasattr(self, "inner_cv") and self.inner_cv != "loo":
        _check_int(owner, "inner_cv", self.inner_cv, 2)
    if hasattr(self, "confidence") and not 0 < self.confidence < 1:
        raise InvalidInputError(f"{owner}: 'confidence' must be in (0, 1), got {self.confidence!r}.")
    if getattr(self, "dtype", "float64") not in ("float64", "float32"):
        raise InvalidInputError(f"{owner}: 'dtype' must be 'float64' or 'float32', got {self.dtype!r}.")
    if getattr(self, "scoring", "mse") not in ("mse", "r2"):
        raise InvalidInputError(f"{owner}: 'scoring' must be 'mse' or 'r2', got {self.scoring!r}.")
    if hasattr(self, "alphas"):
        check_alphas(self.alphas, owner)


def _outer_folds(n: int, k: int, random_state, owner: str):
    return kfold_indices(n, min(k, n), shuffle=True, random_state=random_state, owner=owner)


def _floats(a) -> list[float]:
    return [float(v) for v in np.asarray(a, dtype=float).ravel()]


def _inference(res: Result, Y: np.ndarray, pred: np.ndarray, r2: np.ndarray, r: np.ndarray, *,
               n_permutations: int, n_bootstrap: int, confidence: float, random_state):
    """Permutation p-values (per target, FWER, and of the mean R2) and a bootstrap CI of the mean R2.

    Returns the permutation null (or None).
    """
    null = None
    if n_permutations > 0:
        null = permutation_null(Y, pred, n_permutations, random_state=[0 if random_state is None else random_state,
                                                                          101])
        mean_null = null.r2.mean(1)
        obs = float(r2.mean())
        res.p_value = float((1 + np.sum(mean_null >= obs - 1e-12 * max(1.0, abs(obs)))) / (1 + n_permutations))
        res.extra.update(n_permutations=n_permutations, p_per_target=_floats(null.p_values(r2)),
                         p_per_target_fwer=_floats(null.p_values_fwer(r2)),
                         p_r_per_target=_floats(null.p_values(r, "r")))
    if n_bootstrap > 0:
        bs = bootstrap_mean_r2(Y, pred, n_bootstrap, random_state=[0 if random_state is None else random_state, 202])
        lo = (1 - confidence) / 2
        res.ci_low, res.ci_high = (float(v) for v in np.percentile(bs, [100 * lo, 100 * (1 - lo)]))
        res.extra.update(n_bootstrap=n_bootstrap, confidence=confidence, se=float(np.std(bs, ddof=1)))
    return null


def _ceiling(res: Result, rep: np.ndarray | None, r2: np.ndarray, enabled: bool) -> None:
    if not enabled or rep is None or rep.shape[0] < 2:
        return
    nc, snr = ncsnr_ceiling(rep)
    res.ceiling_upper = float(nc.mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(nc > 0, r2 / nc, np.nan)
    res.extra.update(noise_ceiling_per_target=_floats(nc), ncsnr_per_target=_floats(snr),
                     per_channel_normalised=[None if not np.isfinite(v) else float(v) for v in norm],
                     score_normalised=float(r2.mean() / nc.mean()) if nc.mean() > 0 else None,
                     n_repeats=int(rep.shape[0]))


_ENCODING_PARAMS_DOC = """\
alphas : list of float, default=ten values from 1e-2 to 1e7 (log-spaced)
    Candidate ridge penalties; one is chosen per target.
inner_cv : int or "loo", default=5
    Folds of the K-fold CV (inside each outer training set) that chooses the alphas, or
    "loo" for closed-form leave-one-out.
outer_cv : int, default=5
    Outer K-fold split: every stimulus is predicted by a model fit without it; the scores
    are computed on these held-out predictions.
scoring : {"mse", "r2"}, default="mse"
    Validation score averaged over the inner folds to choose the alphas.
fit_intercept : bool, default=True
noise_ceiling : bool, default=True
    When ``y`` has repeats, report the NCSNR noise ceiling (``ceiling_upper`` = its mean over
    targets) and the normalised R2.
n_permutations : int, default=0
    Stimulus relabellings of the held-out predictions for per-target and headline p-values.
n_bootstrap : int, default=0
    Stimulus-bootstrap resamples for a CI of the mean R2.
confidence : float, default=0.95
random_state : int, default=0
    Seed of the folds, permutations and resamples.
dtype : {"float64", "float32"}, default="float64"
    Precision of the linear algebra.
align : {"strict", "reorder", "intersection"}, default="reorder"
    How the two inputs' stimulus ids are matched (see :func:`neurorep.align`)."""


# =========================================================================== encoding.ridge

class RidgeEncoding(Analyzer):
    """Voxel-wise ridge encoding model: predict every target of ``y`` from the features of ``x``.

    Parameters
    ----------
    {params}

    Notes
    -----
    Headline: the mean over targets of the held-out R2 (metric ``"r2"``); a second row gives
    the mean held-out Pearson R. ``extra`` holds per-target values in ``y``'s feature order:
    ``per_channel`` (R2, what the report draws as a map when ``y``'s channel descriptors give
    MNI ``x``, ``y``, ``z``), ``per_target_r``, ``alpha_per_target`` (median over outer folds),
    and with repeats ``noise_ceiling_per_target`` and ``per_channel_normalised``.
    """

    id = "encoding.ridge"
    version = "1.0.0"
    citation = _RIDGE_CITATION
    tags = Tags(larger_is_more_similar=True, stochastic=True,
                invariances=("orthogonal", "translation", "feature_permutation"))

    def __init__(self, alphas: list[float] = list(DEFAULT_ALPHAS), inner_cv: int | Literal["loo"] = 5,  # noqa: B006
                 outer_cv: int = 5, scoring: Literal["mse", "r2"] = "mse", fit_intercept: bool = True,
                 noise_ceiling: bool = True, n_permutations: int = 0, n_bootstrap: int = 0,
                 confidence: float = 0.95, random_state: int = 0,
                 dtype: Literal["float64", "float32"] = "float64", align: _ALIGN = "reorder"):
        self.alphas = alphas
        self.inner_cv = inner_cv
        self.outer_cv = outer_cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.noise_ceiling = noise_ceiling
        self.n_permutations = n_permutations
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.random_state = random_state
        self.dtype = dtype
        self.align = align

    def _predict(self, X, Y, owner):
        folds = _outer_folds(X.shape[0], self.outer_cv, self.random_state, owner)
        if self.inner_cv == "loo":
            pred = np.empty(Y.shape, dtype=np.result_type(X.dtype, Y.dtype))
            chosen = []
            for tr, te in folds:
                fit = ridge_cv(X[tr], Y[tr], self.alphas, cv="loo", fit_intercept=self.fit_intercept, owner=owner)
                pred[te] = fit.predict(X[te])
                chosen.append(fit.best_alpha)
            return pred, np.asarray(chosen)
        min_train = min(len(tr) for tr, _ in folds)
        return cv_ridge_predictions(X, Y, self.alphas, outer_folds=folds, inner_cv=min(self.inner_cv, min_train),
                                    scoring=self.scoring, fit_intercept=self.fit_intercept,
                                    random_state=self.random_state, owner=owner)

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        _check_common(self)
        X, Y, _, rep, _, yrep = _canonical(x, y, owner, self.align, self.dtype)
        if X.shape[0] < 4:
            raise InvalidInputError(f"{owner}: need at least 4 stimuli for cross-validated encoding, got {X.shape[0]}.")
        pred, chosen = self._predict(X, Y, owner)
        Y64, pred = Y.astype(float), pred.astype(float)
        r2 = r2_per_target(Y64, pred)
        r = pearson_per_target(Y64, pred)
        res = Result(score=float(r2.mean()), metric="r2", n=int(X.shape[0]),
                     extra={"n_targets": int(Y.shape[1]), "n_features": int(X.shape[1]),
                            "outer_cv": int(self.outer_cv), "median_r2": float(np.median(r2)),
                            "per_channel": _floats(r2), "per_target_r": _floats(r),
                            "alpha_per_target": _floats(np.median(chosen, axis=0))})
        _ceiling(res, rep, r2, self.noise_ceiling)
        null = _inference(res, Y64, pred, r2, r, n_permutations=self.n_permutations, n_bootstrap=self.n_bootstrap,
                          confidence=self.confidence, random_state=self.random_state)
        rrow = Result(score=float(r.mean()), metric="pearson_r", n=int(X.shape[0]),
                      extra={"n_targets": int(Y.shape[1])})
        if null is not None:
            obs = float(r.mean())
            rrow.p_value = float((1 + np.sum(null.r.mean(1) >= obs - 1e-12 * max(1.0, abs(obs))))
                                 / (1 + self.n_permutations))
        return [res, rrow]

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_permutations=20, n_bootstrap=20), cls(inner_cv="loo", scoring="r2")]


RidgeEncoding.__doc__ = RidgeEncoding.__doc__.replace("{params}", _ENCODING_PARAMS_DOC.replace("\n", "\n    "))


# =========================================================================== encoding.banded-ridge

class BandedRidgeEncoding(Analyzer):
    """Banded ridge encoding model: ``x``'s features form several bands (feature spaces), each with its own penalty.

    The bands are consecutive blocks of ``x``'s features: give their widths in ``band_sizes``
    (e.g. a source site holding two models' features side by side, ``band_sizes = [768, 300]``),
    or leave it empty and give ``x`` a channel descriptor ``"band"`` (one label per feature;
    features of a band must be contiguous). Per target, the band weighting ``gamma`` (on the
    simplex; penalty of band ``b`` = ``alpha / gamma_b``) and ``alpha`` are chosen by inner
    K-fold CV among ``n_iter`` candidates (the uniform weighting and Dirichlet samples).

    Parameters
    ----------
    band_sizes : list of int, default=[]
        Widths of the bands, in order; empty: use ``x.channel_descriptors["band"]``.
    band_names : list of str, default=[]
        Names of the bands in the results (default ``band0``, ``band1``... or the descriptor labels).
    n_iter : int, default=20
        Candidate band weightings searched.
    {params}

    Notes
    -----
    Rows: the mean held-out R2 (metric ``"r2"``), then one row per band (metric
    ``"r2_split"``, ``extra["band"]``) with the band's share of the R2 (product measure; the
    shares of a target sum to its R2 up to the unattributed intercept offset, which is
    reported as ``extra["r2_unattributed"]``).
    """

    id = "encoding.banded-ridge"
    version = "1.0.0"
    citation = _BANDED_CITATION
    tags = Tags(larger_is_more_similar=True, stochastic=True, invariances=("translation",))

    def __init__(self, band_sizes: list[int] = [], band_names: list[str] = [], n_iter: int = 20,  # noqa: B006
                 alphas: list[float] = list(DEFAULT_ALPHAS), inner_cv: int | Literal["loo"] = 5,  # noqa: B006
                 outer_cv: int = 5, scoring: Literal["mse", "r2"] = "mse", fit_intercept: bool = True,
                 noise_ceiling: bool = True, n_permutations: int = 0, n_bootstrap: int = 0,
                 confidence: float = 0.95, random_state: int = 0,
                 dtype: Literal["float64", "float32"] = "float64", align: _ALIGN = "reorder"):
        self.band_sizes = band_sizes
        self.band_names = band_names
        self.n_iter = n_iter
        self.alphas = alphas
        self.inner_cv = inner_cv
        self.outer_cv = outer_cv
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.noise_ceiling = noise_ceiling
        self.n_permutations = n_permutations
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.random_state = random_state
        self.dtype = dtype
        self.align = align

    def _bands(self, xrep: Representation, owner: str) -> tuple[list[slice], list[str]]:
        p = xrep.n_features
        if self.band_sizes:
            slices = band_slices(self.band_sizes, p, owner)
            names = [f"band{i}" for i in range(len(slices))]
        else:
            lab = xrep.channel_descriptors.get("band")
            if lab is None:
                raise InvalidInputError(
                    f"{owner}: expected the feature bands, got neither band_sizes nor a 'band' channel descriptor on "
                    f"x ({xrep.name!r}, {p} features). Give band_sizes = [width1, width2, ...] in the recipe params.")
            lab = np.asarray(lab).astype(str)
            change = np.flatnonzero(lab[1:] != lab[:-1]) + 1
            starts = np.concatenate([[0], change])
            names = [str(lab[s]) for s in starts]
            if len(set(names)) != len(names):
                raise InvalidInputError(f"{owner}: the features of each band must be contiguous in x; the 'band' "
                                        f"descriptor has labels {sorted(set(names))} in {len(names)} runs.")
            slices = band_slices(np.diff(np.concatenate([starts, [p]])).tolist(), p, owner)
        if self.band_names:
            if len(self.band_names) != len(slices):
                raise InvalidInputError(f"{owner}: band_names lists {len(self.band_names)} name(s) for "
                                        f"{len(slices)} bands; give one name per band.")
            names = [str(v) for v in self.band_names]
        return slices, names

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        _check_common(self)
        _check_int(owner, "n_iter", self.n_iter, 1)
        X, Y, _, rep, xrep, _ = _canonical(x, y, owner, self.align, self.dtype)
        slices, names = self._bands(xrep, owner)
        if X.shape[0] < 4:
            raise InvalidInputError(f"{owner}: need at least 4 stimuli for cross-validated encoding, got {X.shape[0]}.")
        folds = _outer_folds(X.shape[0], self.outer_cv, self.random_state, owner)
        pred = np.empty(Y.shape)
        parts = np.empty((len(slices),) + Y.shape)
        gammas, alphas = [], []
        for k, (tr, te) in enumerate(folds):
            inner = ("loo" if self.inner_cv == "loo" else
                     kfold_indices(len(tr), min(self.inner_cv, len(tr)), shuffle=True,
                                   random_state=[self.random_state, k], owner=owner))
            if inner == "loo":
                inner = [(np.delete(np.arange(len(tr)), i), np.array([i])) for i in range(len(tr))]
            fit = banded_ridge_cv(X[tr], Y[tr], slices, self.alphas, n_iter=self.n_iter, cv=inner,
                                  scoring=self.scoring, fit_intercept=self.fit_intercept,
                                  random_state=self.random_state, owner=owner)
            pred[te] = fit.predict(X[te])
            parts[:, te] = fit.band_predictions(X[te])
            gammas.append(fit.best_gamma)
            alphas.append(fit.band_alpha)
        Y64 = Y.astype(float)
        r2 = r2_per_target(Y64, pred)
        r = pearson_per_target(Y64, pred)
        split = r2_split(Y64, parts)
        res = Result(score=float(r2.mean()), metric="r2", n=int(X.shape[0]),
                     extra={"n_targets": int(Y.shape[1]), "bands": names,
                            "band_sizes": [s.stop - s.start for s in slices],
                            "r2_split": {nm: float(v) for nm, v in zip(names, split.mean(1))},
                            "r2_unattributed": float((r2 - split.sum(0)).mean()),
                            "per_channel": _floats(r2), "per_target_r": _floats(r),
                            "per_target_split": {nm: _floats(v) for nm, v in zip(names, split)},
                            "band_alpha_per_target": {nm: _floats(np.median(np.asarray(alphas)[:, :, b], axis=0))
                                                      for b, nm in enumerate(names)}})
        _ceiling(res, rep, r2, self.noise_ceiling)
        _inference(res, Y64, pred, r2, r, n_permutations=self.n_permutations, n_bootstrap=self.n_bootstrap,
                   confidence=self.confidence, random_state=self.random_state)
        rows = [res]
        for nm, v in zip(names, split):
            rows.append(Result(score=float(v.mean()), metric="r2_split", n=int(X.shape[0]),
                               extra={"band": nm, "n_targets": int(Y.shape[1])}))
        return rows

    @classmethod
    def _conformance_instances(cls):
        return [cls(band_sizes=[3, 5], n_iter=4, n_permutations=10, n_bootstrap=10)]


BandedRidgeEncoding.__doc__ = BandedRidgeEncoding.__doc__.replace(
    "{params}", _ENCODING_PARAMS_DOC.replace("\n", "\n    "))


# =========================================================================== probes

def _label_columns(Y: np.ndarray, owner: str, discretize: int = 0) -> list[np.ndarray]:
    cols = []
    if isinstance(discretize, bool) or not isinstance(discretize, (int, np.integer)) or discretize == 1 \
            or discretize < 0:
        raise InvalidInputError(f"{owner}: 'discretize' must be 0 (y holds labels) or an integer >= 2 (quantile "
                                f"bins), got {discretize!r}.")
    for j in range(Y.shape[1]):
        c = Y[:, j]
        if discretize:
            # quantile bins of a continuous descriptor (ranks, so ties and scale do not matter)
            ranks = np.argsort(np.argsort(c, kind="stable"), kind="stable")
            c = (ranks * discretize) // c.size
        u = np.unique(c)
        if u.size < 2:
            raise InvalidInputError(f"{owner}: label column {j} of y has a single class ({u[0]!r}); a probe needs at "
                                    "least 2 classes per column.")
        if u.size > max(2, Y.shape[0] // 2):
            raise InvalidInputError(
                f"{owner}: expected class labels in y (a few distinct values per column), got {u.size} distinct "
                f"values in column {j} for {Y.shape[0]} stimuli. Use probe.ridge with task='regression' for "
                "continuous descriptors.")
        cols.append(c)
    return cols


def _stratified_folds(labels: np.ndarray, k: int, random_state, owner: str):
    """K folds with every class dealt round-robin across them (after a seeded shuffle)."""
    n = labels.size
    k = min(k, n)
    rng = np.random.default_rng(random_state)
    fold = np.empty(n, dtype=int)
    offset = 0
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        fold[idx] = (offset + np.arange(idx.size)) % k
        offset += idx.size
    out = []
    for f in range(k):
        te = np.flatnonzero(fold == f)
        if te.size == 0:
            raise InvalidInputError(f"{owner}: {k}-fold CV left fold {f} empty; use fewer folds.")
        out.append((np.flatnonzero(fold != f), te))
    return out


def _accuracy_inference(res: Result, preds: list[np.ndarray], labels: list[np.ndarray], n_permutations: int,
                        random_state) -> None:
    """Permutation p-value of the mean accuracy: the true labels of the held-out predictions relabelled (batched)."""
    if n_permutations <= 0:
        return
    rng = np.random.default_rng([0 if random_state is None else random_state, 303])
    n = labels[0].size
    perms = np.argsort(rng.random((n_permutations, n)), axis=1)
    null = np.mean([(lab[perms] == p[None]).mean(1) for p, lab in zip(preds, labels)], axis=0)
    res.p_value = float((1 + np.sum(null >= res.score - 1e-12)) / (1 + n_permutations))
    res.extra.update(n_permutations=n_permutations, null_mean=float(null.mean()))


class RidgeProbe(Analyzer):
    """Cross-validated linear ridge probe: predict ``y``'s columns (stimulus descriptors) from ``x``.

    ``task="regression"``: ridge with one alpha per column (inner CV), scored by the held-out
    R2 averaged over columns (chance 0). ``task="classification"``: every column of ``y`` is a
    label vector; one-vs-rest ridge on +-1 codes with one alpha per column (as scikit-learn's
    ``RidgeClassifierCV``), the class with the largest output wins; scored by held-out
    accuracy (chance ``1/n_classes``; the majority-class rate is in ``extra``).
    Descriptors enter as a second representation, e.g. a ``source.npz`` site holding them.

    Parameters
    ----------
    task : {"regression", "classification"}, default="regression"
    alphas : list of float, default=ten values from 1e-2 to 1e7 (log-spaced)
    inner_cv : int or "loo", default="loo"
        CV that chooses alpha inside each outer training set (closed-form leave-one-out by default).
    outer_cv : int, default=5
        Outer folds (stratified by class for a single label column).
    discretize : int, default=0
        Classification only. 0: ``y`` holds class labels; ``k >= 2``: cut each continuous
        column of ``y`` into ``k`` equal-count bins (by rank) and classify the bin.
    n_permutations : int, default=0
        Relabellings of the held-out predictions for the p-value.
    random_state : int, default=0
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "probe.ridge"
    version = "1.0.0"
    citation = _PROBE_CITATION
    tags = Tags(larger_is_more_similar=None, stochastic=True,
                invariances=("orthogonal", "translation", "feature_permutation"))

    def __init__(self, task: Literal["regression", "classification"] = "regression",
                 alphas: list[float] = list(DEFAULT_ALPHAS), inner_cv: int | Literal["loo"] = "loo",  # noqa: B006
                 outer_cv: int = 5, discretize: int = 0, n_permutations: int = 0, random_state: int = 0,
                 align: _ALIGN = "reorder"):
        self.task = task
        self.alphas = alphas
        self.inner_cv = inner_cv
        self.outer_cv = outer_cv
        self.discretize = discretize
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def _fit_predict(self, X, T, tr, te, owner, seed):
        cv = "loo" if self.inner_cv == "loo" else kfold_indices(len(tr), min(self.inner_cv, len(tr)), shuffle=True,
                                                                random_state=seed, owner=owner)
        return ridge_cv(X[tr], T[tr], self.alphas, cv=cv, owner=owner)

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        _check_common(self)
        if self.task not in ("regression", "classification"):
            raise InvalidInputError(f"{owner}: 'task' must be 'regression' or 'classification', got {self.task!r}.")
        X, Y, _, _, _, _ = _canonical(x, y, owner, self.align, "float64")
        n = X.shape[0]
        if self.task == "regression":
            folds = _outer_folds(n, self.outer_cv, self.random_state, owner)
            pred = np.empty(Y.shape)
            for k, (tr, te) in enumerate(folds):
                pred[te] = self._fit_predict(X, Y, tr, te, owner, [self.random_state, k]).predict(X[te])
            r2 = r2_per_target(Y, pred)
            res = Result(score=float(r2.mean()), metric="r2", n=n,
                         extra={"task": "regression", "chance": 0.0, "per_target_r2": _floats(r2),
                                "per_target_r": _floats(pearson_per_target(Y, pred))})
            _inference(res, Y, pred, r2, pearson_per_target(Y, pred), n_permutations=self.n_permutations,
                       n_bootstrap=0, confidence=0.95, random_state=self.random_state)
            return [res]
        labels = _label_columns(Y, owner, self.discretize)
        folds = (_stratified_folds(labels[0], self.outer_cv, self.random_state, owner) if len(labels) == 1
                 else _outer_folds(n, self.outer_cv, self.random_state, owner))
        preds, coded, accs, chance, majority = [], [], [], [], []
        for lab in labels:
            classes, code = np.unique(lab, return_inverse=True)
            T = np.where(code[:, None] == np.arange(classes.size)[None], 1.0, -1.0)
            if classes.size == 2:
                T = T[:, 1:]                       # one +-1 column, as scikit-learn's LabelBinarizer
            out = np.empty(n, dtype=int)
            for k, (tr, te) in enumerate(folds):
                fit = self._fit_predict(X, T, tr, te, owner, [self.random_state, k])
                # one alpha per label vector, chosen on the score averaged over its class columns
                a = fit.alphas[int(np.argmax(fit.cv_scores.mean(1) + 1e-10 * np.log(fit.alphas)))]
                s = ridge_predict(X[tr], T[tr], X[te], a, dec=fit.decomposition)
                out[te] = (s[:, 0] > 0).astype(int) if classes.size == 2 else np.argmax(s, axis=1)
            preds.append(out)
            coded.append(code)
            accs.append(float(np.mean(out == code)))
            chance.append(1.0 / classes.size)
            majority.append(float(np.bincount(code).max() / n))
        res = Result(score=float(np.mean(accs)), metric="accuracy", n=n,
                     extra={"task": "classification", "chance": float(np.mean(chance)),
                            "majority_rate": float(np.mean(majority)), "per_column_accuracy": accs})
        _accuracy_inference(res, preds, coded, self.n_permutations, self.random_state)
        return [res]

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_permutations=20), cls(inner_cv=3),
                cls(task="classification", discretize=2, n_permutations=20)]


class LogisticProbe(Analyzer):
    """Cross-validated logistic-regression probe of ``y``'s label columns from ``x`` (scikit-learn).

    Every column of ``y`` is a label vector (a few distinct values); for each, an L2-penalised
    multinomial ``LogisticRegression`` on standardised features (means and scales from each
    training fold) predicts the held-out stimuli of stratified outer folds. Score: accuracy
    averaged over columns; chance ``1/n_classes`` (the majority-class rate is in ``extra``).

    Parameters
    ----------
    C : float, default=1.0
        Inverse L2 penalty (scikit-learn's ``C``).
    standardize : bool, default=True
        Scale features to unit variance within each training fold.
    outer_cv : int, default=5
    max_iter : int, default=1000
    discretize : int, default=0
        0: ``y`` holds class labels. ``k >= 2``: cut each continuous column of ``y`` into ``k``
        equal-count bins (by rank) and probe the bin.
    n_permutations : int, default=0
        Relabellings of the held-out predictions for the p-value.
    random_state : int, default=0
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "probe.logistic"
    version = "1.0.0"
    citation = _PROBE_CITATION
    tags = Tags(larger_is_more_similar=None, stochastic=True, invariances=("feature_permutation",))

    def __init__(self, C: float = 1.0, standardize: bool = True, outer_cv: int = 5, max_iter: int = 1000,
                 discretize: int = 0, n_permutations: int = 0, random_state: int = 0, align: _ALIGN = "reorder"):
        self.C = C
        self.standardize = standardize
        self.outer_cv = outer_cv
        self.max_iter = max_iter
        self.discretize = discretize
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        try:
            from sklearn.linear_model import LogisticRegression
            from threadpoolctl import threadpool_limits
        except ImportError as exc:  # pragma: no cover - scikit-learn comes with the fmri and torch extras
            raise ImportError(f"{owner} needs scikit-learn; install it (pip install scikit-learn, or the host's "
                              "'fmri' extra).") from exc
        _check_common(self)
        if not self.C > 0:
            raise InvalidInputError(f"{owner}: 'C' must be > 0, got {self.C!r}.")
        X, Y, _, _, _, _ = _canonical(x, y, owner, self.align, "float64")
        n = X.shape[0]
        labels = _label_columns(Y, owner, self.discretize)
        folds = (_stratified_folds(labels[0], self.outer_cv, self.random_state, owner) if len(labels) == 1
                 else _outer_folds(n, self.outer_cv, self.random_state, owner))
        preds, coded, accs, chance, majority = [], [], [], [], []
        for lab in labels:
            classes, code = np.unique(lab, return_inverse=True)
            out = np.empty(n, dtype=int)
            for tr, te in folds:
                Xtr, Xte = X[tr], X[te]
                if self.standardize:
                    mu, sd = Xtr.mean(0), Xtr.std(0)
                    sd[sd == 0] = 1.0
                    Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
                if np.unique(code[tr]).size < 2:
                    out[te] = code[tr][0]
                    continue
                clf = LogisticRegression(C=self.C, max_iter=self.max_iter)
                # small problems: L-BFGS-B's tiny BLAS calls only pay thread start-up with several threads
                with threadpool_limits(1 if Xtr.size < 2_000_000 else None, user_api="blas"):
                    clf.fit(Xtr, code[tr])
                out[te] = clf.predict(Xte)
            preds.append(out)
            coded.append(code)
            accs.append(float(np.mean(out == code)))
            chance.append(1.0 / classes.size)
            majority.append(float(np.bincount(code).max() / n))
        res = Result(score=float(np.mean(accs)), metric="accuracy", n=n,
                     extra={"chance": float(np.mean(chance)), "majority_rate": float(np.mean(majority)),
                            "per_column_accuracy": accs})
        _accuracy_inference(res, preds, coded, self.n_permutations, self.random_state)
        return [res]

    @classmethod
    def _conformance_instances(cls):
        return [cls(discretize=2, n_permutations=20)]


# =========================================================================== identification

class CorrelationIdentification(Analyzer):
    """Identification of held-out stimuli from predicted patterns (Kay et al., 2008).

    A ridge encoding model (per-target alpha by inner CV) predicts each stimulus's ``y``
    pattern from ``x`` in outer K-fold CV; each predicted pattern is correlated (Pearson,
    across ``y``'s targets) with the measured pattern of every stimulus. Scores: top-1
    accuracy (chance ``1/N``), a second row with top-``k`` accuracy (chance ``k/N``); the mean
    normalised rank of the true stimulus is in ``extra`` (chance 0.5).

    Parameters
    ----------
    top_k : int, default=5
    alphas : list of float, default=ten values from 1e-2 to 1e7 (log-spaced)
    inner_cv : int or "loo", default=5
    outer_cv : int, default=5
    n_permutations : int, default=0
        Random relabellings of the candidates for p-values (batched).
    random_state : int, default=0
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "identification.correlation"
    version = "1.0.0"
    citation = _KAY2008
    tags = Tags(larger_is_more_similar=True, stochastic=True,
                invariances=("orthogonal", "translation", "feature_permutation"))

    def __init__(self, top_k: int = 5, alphas: list[float] = list(DEFAULT_ALPHAS),  # noqa: B006
                 inner_cv: int | Literal["loo"] = 5, outer_cv: int = 5, n_permutations: int = 0,
                 random_state: int = 0, align: _ALIGN = "reorder"):
        self.top_k = top_k
        self.alphas = alphas
        self.inner_cv = inner_cv
        self.outer_cv = outer_cv
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        _check_common(self)
        _check_int(owner, "top_k", self.top_k, 1)
        X, Y, _, _, _, _ = _canonical(x, y, owner, self.align, "float64")
        n = X.shape[0]
        if Y.shape[1] < 2:
            raise InvalidInputError(f"{owner}: identification correlates patterns across y's targets; y has "
                                    f"{Y.shape[1]} target. Give a y with several voxels/units.")
        enc = RidgeEncoding(alphas=self.alphas, inner_cv=self.inner_cv, outer_cv=self.outer_cv,
                            random_state=self.random_state)
        pred, _ = enc._predict(X, Y, owner)
        corr = pattern_correlations(pred, Y)
        ranks = identification_ranks(corr)
        k = min(self.top_k, n)
        top1, topk = topk_accuracy(ranks, 1), topk_accuracy(ranks, k)
        extra = {"chance": 1.0 / n, "n_candidates": n, "mean_normalised_rank": float(np.mean(ranks) / (n - 1)),
                 "top_k": k}
        r1 = Result(score=top1, metric="top1_accuracy", n=n, extra=dict(extra))
        rk = Result(score=topk, metric=f"top{k}_accuracy", n=n, extra=dict(extra, chance=k / n))
        if self.n_permutations > 0:
            for row, kk, obs in ((r1, 1, top1), (rk, k, topk)):
                null = topk_null(corr, kk, self.n_permutations, random_state=[self.random_state, 404])
                row.p_value = float((1 + np.sum(null >= obs - 1e-12)) / (1 + self.n_permutations))
                row.extra["n_permutations"] = self.n_permutations
        return [r1, rk]

    @classmethod
    def _conformance_instances(cls):
        return [cls(top_k=3, n_permutations=20)]


ENCODING_ANALYZERS: tuple[type[Analyzer], ...] = (RidgeEncoding, BandedRidgeEncoding, RidgeProbe, LogisticProbe,
                                                  CorrelationIdentification)


@hookimpl
def register_analyzers(register):
    for cls in ENCODING_ANALYZERS:
        register(cls)
