"""Built-in CKA, shape-metric and CCA analyzers, each with stimulus-bootstrap CIs and permutation p-values.

* ``cka.linear``, ``cka.rbf``, ``cka.debiased``: centred kernel alignment (Kornblith et al., 2019;
  unbiased HSIC of Song et al., 2012 as in Nguyen, Raghu & Kornblith, 2021).
* ``shape.procrustes``, ``shape.angular``: orthogonal Procrustes distance and the angular shape
  distance with partial whitening (Williams et al., 2021).
* ``cca.mean``, ``cca.svcca``, ``cca.pwcca``: mean canonical correlation, SVCCA (Raghu et al., 2017)
  and projection-weighted CCA (Morcos et al., 2018).

The numerics live in :mod:`neurorep.similarity`. Inference is the same for all: ``n_bootstrap``
stimulus-bootstrap samples give a percentile CI (``ci_low``/``ci_high``), ``n_permutations``
relabellings of ``y``'s stimuli give a one-sided p-value (for the distances, small is similar);
both are computed for all resamples at once (weighted GEMMs / batched SVDs), never by re-slicing
the data in a Python loop.

When a recipe pairs many sites (``pairing = "within"`` or ``"product"``), the CKA analyzers keep
each site's kernel matrix in a small in-process cache keyed by the data's content hash, so a
``k x k`` layer-by-layer matrix costs ``k`` kernel matrices and ``k^2`` inner products, as
:func:`neurorep.similarity.cka_matrix` does in one call.
"""

from __future__ import annotations

import hashlib
import inspect
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from .. import hookimpl
from ..components import Analyzer, Tags
from ..errors import InvalidInputError
from ..similarity import kernel_alignment as _cka
from ..similarity import shape as _shape
from ..similarity.inference import (
    draw_permutations,
    percentile_interval,
    permutation_p_value,
    stimulus_bootstrap_counts,
)
from ..types import Representation, Result, align

__all__ = ["LinearCKA", "RBFCKA", "DebiasedCKA", "ProcrustesDistance", "AngularShapeDistance", "MeanCCA", "SVCCA",
           "PWCCA", "SIMILARITY_ANALYZERS", "clear_kernel_cache"]

_INFERENCE_DOC = """\
n_bootstrap : int, default=0
    Stimulus-bootstrap samples for ``ci_low``/``ci_high`` (0: no CI). Each sample draws the
    stimuli with replacement and recomputes the whole score (centring included) on the draw.
confidence : float, default=0.95
    Coverage of the percentile bootstrap interval.
n_permutations : int, default=0
    Relabellings of ``y``'s stimuli for a one-sided ``p_value`` (0: no test).
random_state : int or None, default=0
    Seed of the bootstrap draws and the permutations.
align : {"strict", "reorder", "intersection"}, default="reorder"
    How the two inputs' stimulus ids are matched (see :func:`neurorep.align`).
"""

_KORNBLITH = ("Kornblith, Norouzi, Lee & Hinton (2019). Similarity of neural network representations revisited. "
              "ICML. arXiv:1905.00414")
_WILLIAMS = ("Williams, Kunz, Kornblith & Linderman (2021). Generalized shape metrics on neural representations. "
             "NeurIPS. arXiv:2110.14739")


def _docstring(cls: type) -> type:
    """Append the shared inference parameters to a component's Parameters section."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    head, sep, rest = doc.partition("Parameters\n----------")
    own, nsep, notes = rest.partition("\nNotes\n-----\n")
    own = own.strip("\n")
    params = "Parameters\n----------\n" + (own + "\n" if own else "") + _INFERENCE_DOC
    cls.__doc__ = head.rstrip() + "\n\n" + params + (("\nNotes\n-----\n" + notes) if nsep else "")
    return cls


# =========================================================================== kernel cache

@dataclass(frozen=True)
class _Kernel:
    """A centred kernel matrix and what every pair needs of it (so a pair costs one pass over n^2 values)."""

    K: np.ndarray          # centred, read-only
    diag: np.ndarray
    rows: np.ndarray       # row sums with the diagonal left out
    total: float           # sum with the diagonal left out
    self_biased: float     # <K, K>
    self_unbiased: float   # HSIC_u(K, K)

    @classmethod
    def build(cls, K: np.ndarray) -> _Kernel:
        K = _cka.center_gram(K)     # linear Grams are centred already; RBF kernels are not (once per site)
        K.setflags(write=False)
        d = np.diag(K).copy()
        rows = K.sum(1) - d
        kk = float(np.vdot(K, K))
        return cls(K, d, rows, float(rows.sum()), kk, _unbiased(K.shape[0], kk - float(d @ d), float(rows.sum()),
                                                                   float(rows.sum()), float(rows @ rows)))

    def cka(self, other: _Kernel, debiased: bool) -> float:
        ip = float(np.vdot(self.K, other.K))
        if not debiased:
            num, a, b = ip, self.self_biased, other.self_biased
        else:
            n = self.K.shape[0]
            num = _unbiased(n, ip - float(self.diag @ other.diag), self.total, other.total,
                            float(self.rows @ other.rows))
            a, b = self.self_unbiased, other.self_unbiased
        return num / np.sqrt(a * b) if a > 0 and b > 0 else float("nan")


def _unbiased(n: int, t1: float, sk: float, sl: float, t3: float) -> float:
    return (t1 + sk * sl / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * t3) / (n * (n - 3))


_KERNEL_CACHE: OrderedDict[tuple, _Kernel] = OrderedDict()
_KERNEL_CACHE_BYTES = 512 * 2 ** 20


def clear_kernel_cache() -> None:
    """Empty the in-process cache of kernel matrices used by the ``cka.*`` analyzers."""
    _KERNEL_CACHE.clear()


def _content_key(a: np.ndarray) -> tuple[str, str, tuple[int, ...]]:
    """A content hash of an array without copying it (sha1 over its buffer: a cache key, not security)."""
    c = np.ascontiguousarray(a)
    return hashlib.sha1(memoryview(c).cast("B"), usedforsecurity=False).hexdigest(), str(c.dtype), c.shape


def _cached_kernel(rep: Representation, kind: str, sigma_scale: float) -> _Kernel:
    key = (_content_key(rep.data), rep.stimulus_ids, kind, float(sigma_scale))
    k = _KERNEL_CACHE.get(key)
    if k is not None:
        _KERNEL_CACHE.move_to_end(key)
        return k
    k = _Kernel.build(_cka.gram_linear(rep.data) if kind == "linear" else _cka.gram_rbf(rep.data, sigma_scale))
    if k.K.nbytes <= _KERNEL_CACHE_BYTES // 4:
        _KERNEL_CACHE[key] = k
        while sum(v.K.nbytes for v in _KERNEL_CACHE.values()) > _KERNEL_CACHE_BYTES:
            _KERNEL_CACHE.popitem(last=False)
    return k


# =========================================================================== shared machinery

class _SimilarityAnalyzer(Analyzer):
    """Validation, alignment and inference shared by the analyzers of this module (not registered)."""

    version = "1.0.0"
    metric: ClassVar[str] = "score"

    def _owner(self) -> str:
        return f"Analyzer {self.id!r}"

    def _validate(self) -> None:
        owner = self._owner()
        for name in ("n_bootstrap", "n_permutations"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise InvalidInputError(f"{owner}: {name!r} must be a non-negative integer, got {v!r}.")
        if not 0 < self.confidence < 1:
            raise InvalidInputError(f"{owner}: 'confidence' must be in (0, 1), got {self.confidence!r}.")

    def _inputs(self, x: Any, y: Any) -> tuple[Representation, Representation]:
        owner = self._owner()
        if y is None:
            raise InvalidInputError(f"{owner}: expected two representations (x and y), got one.")
        reps = []
        for name, v in (("x", x), ("y", y)):
            if not isinstance(v, Representation):
                raise InvalidInputError(f"{owner}: expected {name} to be a Representation (stimuli x features), got "
                                        f"{type(v).__name__}; {self.metric} needs response patterns, not RDMs.")
            reps.append(v.check_finite(owner=owner))
        a, b = align(reps[0], reps[1], how=self.align, owner=owner)
        if a.n_stimuli < self._min_stimuli:
            raise InvalidInputError(f"{owner}: needs at least {self._min_stimuli} stimuli, got {a.n_stimuli}.")
        return a, b

    _min_stimuli: ClassVar[int] = 3

    def _result(self, score: float, n: int, boot: Any, null: Any, extra: dict[str, Any] | None = None) -> Result:
        res = Result(score=float(score), metric=self.metric, n=n, extra=dict(extra or {}))
        if boot is not None:
            lo, hi, se = percentile_interval(boot, self.confidence)
            res.ci_low, res.ci_high = lo, hi
            res.extra.update(n_bootstrap=int(self.n_bootstrap), confidence=float(self.confidence), se=se,
                             n_bootstrap_valid=int(np.isfinite(boot).sum()))
        if null is not None:
            res.p_value = permutation_p_value(float(score), null, bool(self.tags.larger_is_more_similar))
            res.extra.update(n_permutations=int(self.n_permutations))
        return res

    def _draws(self, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        rng = np.random.default_rng(self.random_state)
        counts = stimulus_bootstrap_counts(n, int(self.n_bootstrap), rng) if self.n_bootstrap > 0 else None
        perms = draw_permutations(n, int(self.n_permutations), rng) if self.n_permutations > 0 else None
        return counts, perms


_CKA_TAGS = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, stochastic=True,
                 invariances=("orthogonal", "isotropic_scaling", "translation", "feature_permutation"))


class _CKABase(_SimilarityAnalyzer):
    citation = _KORNBLITH
    tags = _CKA_TAGS
    metric = "cka"
    _unbiased_hsic: ClassVar[bool] = False

    def _kernel_spec(self) -> tuple[str, float]:
        return "linear", 1.0

    def _observed_without_kernels(self, x: Representation, y: Representation) -> float | None:
        return None

    def analyze(self, x, y=None):
        self._validate()
        x, y = self._inputs(x, y)
        owner = self._owner()
        n = x.n_stimuli
        counts, perms = self._draws(n)
        score = None
        if counts is None and perms is None:
            score = self._observed_without_kernels(x, y)
        boot = null = None
        if score is None:
            kind, scale = self._kernel_spec()
            try:
                kx, ky = _cached_kernel(x, kind, scale), _cached_kernel(y, kind, scale)
            except InvalidInputError as exc:
                raise InvalidInputError(f"{owner}: {exc}") from exc
            score = kx.cka(ky, self._unbiased_hsic)
            K, L = kx.K, ky.K
            if not np.isfinite(score):
                raise InvalidInputError(f"{owner}: an input is constant across stimuli (zero variance: its HSIC "
                                        "with itself is not positive); CKA is undefined.")
            if counts is not None:
                boot = _cka.cka_bootstrap(K, L, counts, debiased=self._unbiased_hsic)
            if perms is not None:
                null = _cka.cka_permutation_null(K, L, perms, debiased=self._unbiased_hsic)
        return [self._result(score, n, boot, null, self._extra())]

    def _extra(self) -> dict[str, Any]:
        return {}


@_docstring
class LinearCKA(_CKABase):
    """Linear centred kernel alignment between two representations.

    ``CKA(X, Y) = ||Yc' Xc||_F^2 / (||Xc' Xc||_F ||Yc' Yc||_F)`` with column-centred ``X``
    and ``Y`` (Kornblith et al., 2019), equal to the RV coefficient of the centred inputs.
    1 for identical representations; invariant to orthogonal transforms, isotropic scaling
    and translation of either input.

    Parameters
    ----------
    """

    id = "cka.linear"
    version = "1.1.0"

    def __init__(self, n_bootstrap: int = 0, confidence: float = 0.95, n_permutations: int = 0,
                 random_state: int | None = 0, align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def _observed_without_kernels(self, x, y):
        n, p, q = x.n_stimuli, x.n_features, y.n_features
        gram_flops = n * n * (p + q) + 2 * n * n            # two syrks, one inner product
        feature_flops = 2 * n * (p * q + p * p + q * q)      # Y'X, X'X, Y'Y
        if gram_flops <= feature_flops and 8 * n * n <= _KERNEL_CACHE_BYTES // 4:
            return None            # Gram form: kernels are cached, so the other pairs of a recipe reuse them
        X = x.data - x.data.mean(0)
        Y = y.data - y.data.mean(0)
        num = float(np.linalg.norm(Y.T @ X) ** 2)
        den = float(np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y))
        if den == 0.0:
            raise InvalidInputError(f"Analyzer {self.id!r}: an input is constant across stimuli "
                                    "(zero variance); CKA is undefined.")
        return num / den


@_docstring
class RBFCKA(_CKABase):
    """CKA with Gaussian (RBF) kernels, ``k(x_i, x_j) = exp(-||x_i - x_j||^2 / (2 sigma^2))``.

    ``sigma`` is ``sigma_scale`` times the median distance between stimuli of each input (the
    median over the full matrix of squared distances, as in Kornblith et al., 2019, whose
    ``threshold`` is ``sigma_scale``), so the score is invariant to isotropic scaling. As
    ``sigma_scale`` grows, RBF CKA tends to linear CKA.

    Parameters
    ----------
    sigma_scale : float, default=1.0
        Bandwidth as a multiple of the median inter-stimulus distance.

    Notes
    -----
    Bootstrap samples keep the full-sample bandwidth (a resample only reweights stimuli).
    """

    id = "cka.rbf"
    metric = "cka-rbf"

    def __init__(self, sigma_scale: float = 1.0, n_bootstrap: int = 0, confidence: float = 0.95,
                 n_permutations: int = 0, random_state: int | None = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.sigma_scale = sigma_scale
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def _validate(self) -> None:
        super()._validate()
        if not self.sigma_scale > 0:
            raise InvalidInputError(f"{self._owner()}: 'sigma_scale' must be > 0, got {self.sigma_scale!r}.")

    def _kernel_spec(self):
        return "rbf", float(self.sigma_scale)

    def _extra(self):
        return {"sigma_scale": float(self.sigma_scale)}


@_docstring
class DebiasedCKA(_CKABase):
    """CKA with the unbiased HSIC estimator (Song et al., 2012), as in Nguyen, Raghu & Kornblith (2021).

    ``HSIC_u(K, L) = [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))`` with the
    kernels' diagonals zeroed; ``CKA_u = HSIC_u(K, L) / sqrt(HSIC_u(K, K) HSIC_u(L, L))``. Unlike
    the biased CKA it does not drift towards 1 when features outnumber stimuli; it can be negative.

    Parameters
    ----------
    kernel : {"linear", "rbf"}, default="linear"
    sigma_scale : float, default=1.0
        RBF bandwidth as a multiple of the median inter-stimulus distance (``kernel="rbf"``).
    """

    id = "cka.debiased"
    metric = "cka-debiased"
    _unbiased_hsic = True
    _min_stimuli = 4
    citation = ("Song, Smola, Gretton, Bedo & Borgwardt (2012). Feature selection via dependence maximization. "
                "JMLR 13:1393-1434; Nguyen, Raghu & Kornblith (2021). Do wide and deep networks learn the same "
                "things? ICLR. arXiv:2010.15327")

    def __init__(self, kernel: Literal["linear", "rbf"] = "linear", sigma_scale: float = 1.0, n_bootstrap: int = 0,
                 confidence: float = 0.95, n_permutations: int = 0, random_state: int | None = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.kernel = kernel
        self.sigma_scale = sigma_scale
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def _validate(self) -> None:
        super()._validate()
        if self.kernel not in ("linear", "rbf"):
            raise InvalidInputError(f"{self._owner()}: 'kernel' must be 'linear' or 'rbf', got {self.kernel!r}.")
        if not self.sigma_scale > 0:
            raise InvalidInputError(f"{self._owner()}: 'sigma_scale' must be > 0, got {self.sigma_scale!r}.")

    def _kernel_spec(self):
        return self.kernel, float(self.sigma_scale)

    def _extra(self):
        return {"kernel": self.kernel}


# =========================================================================== shape metrics and CCA

class _ShapeBase(_SimilarityAnalyzer):
    shape_metric: ClassVar[str] = "procrustes"

    def _shape_params(self) -> dict[str, float]:
        return {}

    def analyze(self, x, y=None):
        self._validate()
        x, y = self._inputs(x, y)
        n = x.n_stimuli
        for name, r in (("x", x), ("y", y)):
            if not np.any(r.data != r.data[:1]):
                raise InvalidInputError(f"{self._owner()}: {name} is constant across stimuli (zero variance); "
                                        f"{self.metric} is undefined.")
        prep = _shape.prepare(x.data, y.data, self.shape_metric, **self._shape_params())
        score = _shape.observed_score(prep)
        if not np.isfinite(score):
            raise InvalidInputError(f"{self._owner()}: an input is constant across stimuli (zero variance); "
                                    f"{self.metric} is undefined.")
        counts, perms = self._draws(n)
        boot = None if counts is None else _shape.scores_from_counts(prep, counts)
        null = None if perms is None else _shape.scores_from_permutations(prep, perms)
        return [self._result(score, n, boot, null, self._extra(prep))]

    def _extra(self, prep) -> dict[str, Any]:
        return {}


_DIST_TAGS = Tags(symmetric=True, larger_is_more_similar=False, maximum=0.0, stochastic=True,
                  invariances=("orthogonal", "isotropic_scaling", "translation", "feature_permutation"))


@_docstring
class ProcrustesDistance(_ShapeBase):
    """Orthogonal Procrustes distance between centred, unit-norm representations.

    ``d(X, Y) = min_Q ||X~ - Y~ Q||_F = sqrt(2 - 2 ||X~' Y~||_*)`` over matrices ``Q`` with
    orthonormal columns, where ``X~ = Xc / ||Xc||_F`` (Schoenemann, 1966; used as a
    representation metric by Ding, Denain & Steinhardt, 2021 and Williams et al., 2021). 0 for
    representations equal up to rotation, translation and scale; at most ``sqrt(2)``.
    Features may differ in number (the smaller side is zero-padded, which changes nothing).

    Parameters
    ----------
    """

    id = "shape.procrustes"
    metric = "procrustes"
    shape_metric = "procrustes"
    citation = ("Schoenemann (1966). A generalized solution of the orthogonal Procrustes problem. Psychometrika "
                "31:1-10; Ding, Denain & Steinhardt (2021). Grounding representation similarity with statistical "
                "testing. NeurIPS. arXiv:2108.01661")
    tags = _DIST_TAGS

    def __init__(self, n_bootstrap: int = 0, confidence: float = 0.95, n_permutations: int = 0,
                 random_state: int | None = 0, align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align


@_docstring
class AngularShapeDistance(_ShapeBase):
    """Angular shape distance with partial whitening (Williams et al., 2021), as netrep's ``LinearMetric``.

    ``theta = arccos(||Xw' Yw||_* / (||Xw||_F ||Yw||_F))`` in radians (0 to pi/2), with the
    centred inputs partially whitened, ``Xw = Xc V diag(alpha + (1 - alpha) lam^-1/2) V'`` where
    ``V diag(lam) V' = Xc' Xc`` (eigenvalues floored at 1e-7). ``alpha = 1`` allows rotations only
    (the Procrustes angle); ``alpha = 0`` any invertible linear map (the CCA angle).

    Parameters
    ----------
    alpha : float, default=1.0
        Partial-whitening parameter in [0, 1].

    Notes
    -----
    For ``0 < alpha < 1`` the whitening mixes the identity with the inverse square root of the
    unnormalised covariance (netrep's definition), so the distance then depends on the inputs'
    scale; it is scale-invariant at ``alpha`` 0 and 1.
    """

    id = "shape.angular"
    metric = "angular"
    shape_metric = "angular"
    citation = _WILLIAMS
    tags = _DIST_TAGS

    def __init__(self, alpha: float = 1.0, n_bootstrap: int = 0, confidence: float = 0.95, n_permutations: int = 0,
                 random_state: int | None = 0, align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.alpha = alpha
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def _validate(self) -> None:
        super()._validate()
        if not 0 <= self.alpha <= 1:
            raise InvalidInputError(f"{self._owner()}: 'alpha' must be in [0, 1], got {self.alpha!r}.")

    def _shape_params(self):
        return {"alpha": float(self.alpha)}

    def _extra(self, prep):
        return {"alpha": float(self.alpha)}


_CCA_INVARIANCES = ("orthogonal", "isotropic_scaling", "translation", "feature_permutation")


@_docstring
class MeanCCA(_ShapeBase):
    """Mean canonical correlation between two representations.

    The canonical correlations are the singular values of ``Cxx^-1/2 Cxy Cyy^-1/2`` (centred
    cross products; pseudo-inverse square roots), averaged over ``min(rank X, rank Y)``
    (Hotelling, 1936; the ``rho-bar`` of Raghu et al., 2017). Invariant to any invertible linear
    map of either input. When ``rank X + rank Y > n_stimuli`` some correlations are 1 whatever
    the data; use ``cca.svcca`` or fewer features then.

    Parameters
    ----------

    Notes
    -----
    A bootstrap sample holds fewer distinct stimuli than the data, and canonical correlations
    grow as stimuli per feature shrink, so the percentile interval of the CCA family can sit
    slightly above the full-sample estimate.
    """

    id = "cca.mean"
    metric = "cca"
    shape_metric = "cca"
    citation = "Hotelling (1936). Relations between two sets of variates. Biometrika 28:321-377"
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, stochastic=True,
                invariances=(*_CCA_INVARIANCES, "invertible_linear"))

    def __init__(self, n_bootstrap: int = 0, confidence: float = 0.95, n_permutations: int = 0,
                 random_state: int | None = 0, align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align


@_docstring
class SVCCA(_ShapeBase):
    """Singular vector CCA (Raghu et al., 2017): keep each side's leading principal directions, then CCA.

    Each centred input is cut to the fewest leading singular directions that hold ``variance``
    of its variance (99% in the paper); the score is the mean canonical correlation of the two
    reduced representations.

    Parameters
    ----------
    variance : float, default=0.99
        Fraction of each input's variance the kept directions must hold, in (0, 1].
    """

    id = "cca.svcca"
    metric = "svcca"
    shape_metric = "svcca"
    citation = ("Raghu, Gilmer, Yosinski & Sohl-Dickstein (2017). SVCCA: Singular vector canonical correlation "
                "analysis for deep learning dynamics and interpretability. NeurIPS. arXiv:1706.05806")
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, stochastic=True,
                invariances=_CCA_INVARIANCES)

    def __init__(self, variance: float = 0.99, n_bootstrap: int = 0, confidence: float = 0.95,
                 n_permutations: int = 0, random_state: int | None = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.variance = variance
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def _validate(self) -> None:
        super()._validate()
        if not 0 < self.variance <= 1:
            raise InvalidInputError(f"{self._owner()}: 'variance' must be in (0, 1], got {self.variance!r}.")

    def _shape_params(self):
        return {"variance": float(self.variance)}

    def _extra(self, prep):
        return {"variance": float(self.variance)}


@_docstring
class PWCCA(_ShapeBase):
    """Projection-weighted CCA (Morcos, Raghu & Bengio, 2018).

    ``PWCCA = sum_i a_i rho_i / sum_i a_i`` over the canonical correlations ``rho_i``, with
    ``a_i = sum_j |<h_i, x_j>|``: how much of ``x``'s units (centred columns ``x_j``) the
    ``i``-th canonical variate ``h_i`` (unit norm) accounts for. The weights come from ``x``
    (the paper's convention), so the score is not symmetric, nor invariant to rotations of
    ``x``'s units.

    Parameters
    ----------
    """

    id = "cca.pwcca"
    metric = "pwcca"
    shape_metric = "pwcca"
    citation = ("Morcos, Raghu & Bengio (2018). Insights on representational similarity in neural networks with "
                "canonical correlation. NeurIPS. arXiv:1806.05759")
    tags = Tags(symmetric=False, larger_is_more_similar=True, maximum=1.0, stochastic=True,
                invariances=("isotropic_scaling", "translation", "feature_permutation"))

    def __init__(self, n_bootstrap: int = 0, confidence: float = 0.95, n_permutations: int = 0,
                 random_state: int | None = 0, align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.n_bootstrap = n_bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align


SIMILARITY_ANALYZERS: tuple[type[Analyzer], ...] = (LinearCKA, RBFCKA, DebiasedCKA, ProcrustesDistance,
                                                    AngularShapeDistance, MeanCCA, SVCCA, PWCCA)


@hookimpl
def register_analyzers(register):
    for cls in SIMILARITY_ANALYZERS:
        register(cls)
