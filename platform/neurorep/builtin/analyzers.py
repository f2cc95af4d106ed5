"""Built-in analyzers and transforms of the host: linear CKA, RSA with every RDM distance, RDM transforms.

* ``cka.linear`` (linear centred kernel alignment) is registered by :mod:`neurorep.builtin.similarity`
  and re-exported here for code that imported it from this module.
* ``rsa.correlation``, ``rsa.cosine``, ``rsa.euclidean``, ``rsa.sqeuclidean``, ``rsa.mahalanobis``,
  ``rsa.crossnobis``: RSA with that RDM distance; ``comparison`` picks how RDMs are compared,
  and each reports the noise ceiling, bootstrap CIs and a permutation p-value on request.
  The numerics live in :mod:`neurorep.rsa`.
* ``transform.rank``, ``transform.sqrt``: transforms of RDMs applied before an analysis.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Literal

import numpy as np

from .. import hookimpl
from ..components import Analyzer, Tags, Transform
from ..errors import InvalidInputError
from ..rsa.comparisons import compare
from ..rsa.inference import bootstrap, noise_ceiling, permutation_test
from ..rsa.rdm import calc_rdm
from ..rsa.transforms import rank_rdms, sqrt_rdms
from ..types import RDMs, Representation, Result, align
from .similarity import LinearCKA  # noqa: F401  (cka.linear lives in neurorep.builtin.similarity; re-exported)


# =========================================================================== RSA

_SHARED_PARAMS_DOC = """\
comparison : {"spearman", "pearson", "tau-a", "rho-a", "cosine", "whitened-pearson", "whitened-cosine", "bures"}, \
default="spearman"
    How two RDMs are compared (see :mod:`neurorep.rsa.comparisons`; rsatoolbox's "corr", "corr_cov" and
    "cosine_cov" are "pearson", "whitened-pearson" and "whitened-cosine").
noise_ceiling : bool, default=True
    When ``y`` holds several RDMs (subjects), report the leave-one-subject-out noise ceiling
    of ``y`` (``ceiling_lower``/``ceiling_upper``, rsatoolbox's ``boot_noise_ceiling``).
n_bootstrap : int, default=0
    Bootstrap resamples for ``ci_low``/``ci_high`` (0: no CI).
bootstrap : {"stimuli", "subjects", "both"}, default="stimuli"
    What is resampled; "subjects" and "both" need several RDMs in ``y``. Resampling stimuli
    supports the "pearson", "spearman", "tau-a", "rho-a" and "cosine" comparisons.
confidence : float, default=0.95
    Coverage of the percentile bootstrap interval.
n_permutations : int, default=0
    Stimulus-relabelling permutations for a one-sided ``p_value`` (0: no test).
random_state : int or None, default=0
    Seed of the resampling and the permutations.
backend : {"numpy", "torch"}, default="numpy"
    Where representations' RDMs are computed ("torch" uses CUDA when available).
dtype : {"float64", "float32"}, default="float64"
    Precision of the RDM computation (comparisons run in float64).
align : {"strict", "reorder", "intersection"}, default="reorder"
    How the two inputs' stimulus ids are matched (see :func:`neurorep.align`).
"""

_RSA_NOTES = """
Inputs may be representations (their RDMs are computed, all rows of a ``Representation``
being one pattern per stimulus) or precomputed :class:`~neurorep.RDMs`, which pass through
unchanged. The headline ``score`` is the mean comparison over every pair of an ``x`` RDM
and a ``y`` RDM; ``extra["per_rdm"]`` holds the mean for each ``y`` RDM. ``n`` is the
number of stimulus pairs.
"""

_COMPARISON_CHOICES = ("spearman", "pearson", "tau-a", "rho-a", "cosine", "whitened-pearson", "whitened-cosine",
                       "bures")
Comparison = Literal["spearman", "pearson", "tau-a", "rho-a", "cosine", "whitened-pearson", "whitened-cosine",
                     "bures"]
_RSA_CITATION = ("Kriegeskorte, Mur & Bandettini (2008). Representational similarity analysis - connecting the "
                 "branches of systems neuroscience. Front. Syst. Neurosci. 2:4. doi:10.3389/neuro.06.004.2008")


def _rsa_docstring(cls: type) -> type:
    """Complete an RSA analyzer's docstring: its own parameters, then the shared ones, then the notes."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    head, sep, own = doc.partition("Parameters\n----------\n")
    own = own.strip("\n")
    params = "Parameters\n----------\n" + (own + "\n" if own else "") + _SHARED_PARAMS_DOC
    cls.__doc__ = head.rstrip() + "\n\n" + params + "\nNotes\n-----" + _RSA_NOTES
    return cls


class _RSAAnalyzer(Analyzer):
    """Shared machinery of the ``rsa.<distance>`` analyzers (not registered itself)."""

    distance: ClassVar[str] = "correlation"
    version = "2.0.0"
    citation = _RSA_CITATION
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="any", stochastic=True,
                invariances=("isotropic_scaling", "feature_permutation"))

    def __init__(self, comparison: Comparison = "spearman", noise_ceiling: bool = True, n_bootstrap: int = 0,
                 bootstrap: Literal["stimuli", "subjects", "both"] = "stimuli", confidence: float = 0.95,
                 n_permutations: int = 0, random_state: int | None = 0,
                 backend: Literal["numpy", "torch"] = "numpy", dtype: Literal["float64", "float32"] = "float64",
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.comparison = comparison
        self.noise_ceiling = noise_ceiling
        self.n_bootstrap = n_bootstrap
        self.bootstrap = bootstrap
        self.confidence = confidence
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.backend = backend
        self.dtype = dtype
        self.align = align

    # ------------------------------------------------------------------ inputs
    def _owner(self) -> str:
        return f"Analyzer {self.id!r}"

    def _validate(self) -> None:
        owner = self._owner()
        if self.comparison not in _COMPARISON_CHOICES:
            raise InvalidInputError(f"{owner}: 'comparison' must be one of {list(_COMPARISON_CHOICES)}, "
                                    f"{self.comparison!r} was provided.")
        for name in ("n_bootstrap", "n_permutations"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 0:
                raise InvalidInputError(f"{owner}: {name!r} must be a non-negative integer, got {v!r}.")
        if self.bootstrap not in ("stimuli", "subjects", "both"):
            raise InvalidInputError(f"{owner}: 'bootstrap' must be 'stimuli', 'subjects' or 'both', "
                                    f"got {self.bootstrap!r}.")
        if not 0 < self.confidence < 1:
            raise InvalidInputError(f"{owner}: 'confidence' must be in (0, 1), got {self.confidence!r}.")

    def _representation_rdm(self, rep: Representation) -> RDMs:
        return calc_rdm(rep, self.distance, dtype=self.dtype, backend=self.backend)

    def _rdms(self, x: Any) -> RDMs:
        owner = self._owner()
        try:
            if isinstance(x, RDMs):
                return x.check_finite()
            if isinstance(x, Representation):
                return self._representation_rdm(x.check_finite())
        except InvalidInputError as exc:
            raise InvalidInputError(f"{owner}: {exc}") from exc
        raise InvalidInputError(f"{owner}: expected a Representation or RDMs, got {type(x).__name__}.")

    # ------------------------------------------------------------------ analysis
    def analyze(self, x, y=None):
        self._validate()
        owner = self._owner()
        if y is None:
            raise InvalidInputError(f"{owner}: expected two inputs (a model and data), got one.")
        rx, ry = self._rdms(x), self._rdms(y)
        rx, ry = align(rx, ry, how=self.align, owner=owner)
        a, b = rx.dissimilarities, ry.dissimilarities
        if a.shape[1] < 3:
            raise InvalidInputError(f"{owner}: need at least 3 stimuli to compare RDMs, got {rx.n_stimuli}.")
        try:
            r = compare(a, b, self.comparison)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{owner}: {exc}") from exc
        per = r.mean(0)
        res = Result(score=float(r.mean()), metric=self.comparison, n=a.shape[1],
                     extra={"per_rdm": [float(v) for v in per], "n_stimuli": rx.n_stimuli,
                            "dissimilarity": rx.dissimilarity_measure})
        if self.noise_ceiling and ry.n_rdms >= 2:
            nc = noise_ceiling(b, self.comparison)
            res.ceiling_lower, res.ceiling_upper = nc.lower, nc.upper
        rng = np.random.default_rng(self.random_state)
        if self.n_bootstrap > 0:
            if self.bootstrap != "stimuli" and ry.n_rdms < 2:
                raise InvalidInputError(f"{owner}: bootstrap={self.bootstrap!r} resamples the RDMs of y (subjects), "
                                        "but y holds only one; use bootstrap='stimuli'.")
            try:
                bs = bootstrap(a, b, self.comparison, n_bootstrap=self.n_bootstrap, over=self.bootstrap,
                               random_state=rng, confidence=self.confidence)
            except InvalidInputError as exc:
                raise InvalidInputError(f"{owner}: {exc}") from exc
            mean_samples = bs.samples.mean(1)
            alpha = (1 - self.confidence) / 2
            res.ci_low, res.ci_high = (float(v) for v in np.nanpercentile(mean_samples, [100 * alpha,
                                                                                           100 * (1 - alpha)]))
            res.extra.update(n_bootstrap=self.n_bootstrap, bootstrap=self.bootstrap, confidence=self.confidence,
                             se=float(np.nanstd(mean_samples, ddof=1)))
        if self.n_permutations > 0:
            pt = permutation_test(a, b, self.comparison, n_permutations=self.n_permutations, random_state=rng)
            null = pt.null.mean(1)
            obs = float(pt.observed.mean())
            res.p_value = float((1 + np.sum(null >= obs - 1e-12 * max(1.0, abs(obs)))) / (1 + null.size))
            res.extra.update(n_permutations=self.n_permutations)
        return [res]


#: Walther et al. (2016): Mahalanobis and crossnobis RDMs, and square-rooted distances.
_WALTHER2016 = ("Walther, Nili, Ejaz, Alink, Kriegeskorte & Diedrichsen (2016). Reliability of dissimilarity "
                "measures for multi-voxel pattern analysis. NeuroImage 137:188-200. "
                "doi:10.1016/j.neuroimage.2015.12.012")


@_rsa_docstring
class CorrelationRSA(_RSAAnalyzer):
    """RSA with correlation-distance RDMs (1 - Pearson r between stimulus patterns)."""

    id = "rsa.correlation"
    distance = "correlation"


@_rsa_docstring
class CosineRSA(_RSAAnalyzer):
    """RSA with cosine-distance RDMs (1 - cosine between stimulus patterns)."""

    id = "rsa.cosine"
    distance = "cosine"
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="any", stochastic=True,
                invariances=("orthogonal", "isotropic_scaling", "feature_permutation"))


_EUCLIDEAN_TAGS = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="any", stochastic=True,
                       invariances=("orthogonal", "isotropic_scaling", "translation", "feature_permutation"))


@_rsa_docstring
class EuclideanRSA(_RSAAnalyzer):
    """RSA with Euclidean-distance RDMs (``||x_i - x_j|| / sqrt(n_features)``).

    The per-feature normalisation scales every dissimilarity alike, so it changes no
    comparison offered here.
    """

    id = "rsa.euclidean"
    distance = "euclidean"
    tags = _EUCLIDEAN_TAGS


@_rsa_docstring
class SquaredEuclideanRSA(_RSAAnalyzer):
    """RSA with squared-Euclidean RDMs (``||x_i - x_j||^2 / n_features``, rsatoolbox's "euclidean")."""

    id = "rsa.sqeuclidean"
    distance = "sqeuclidean"
    tags = _EUCLIDEAN_TAGS


@_rsa_docstring
class MahalanobisRSA(_RSAAnalyzer):
    """RSA with squared Mahalanobis RDMs, ``(x_i - x_j)' P (x_i - x_j) / n_features``.

    ``P`` is the inverse of a shrinkage estimate of the noise covariance (rsatoolbox's
    ``prec_from_residuals``).

    Parameters
    ----------
    noise : {"auto", "repeats", "patterns"}, default="auto"
        Where the noise covariance comes from: the residuals of the representation's
        repeats around the stimulus means ("repeats"), the stimulus patterns centred across
        stimuli ("patterns", the classical Mahalanobis distance), or repeats when the
        representation has them and patterns otherwise ("auto").
    noise_method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
        Covariance estimator (see :func:`neurorep.rsa.rdm.cov_from_residuals`).
    """

    id = "rsa.mahalanobis"
    distance = "mahalanobis"
    citation = _WALTHER2016
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="any", stochastic=True,
                invariances=("isotropic_scaling", "translation", "feature_permutation"))

    def __init__(self, noise: Literal["auto", "repeats", "patterns"] = "auto",
                 noise_method: Literal["shrinkage_diag", "shrinkage_eye", "diag", "full"] = "shrinkage_diag",
                 comparison: Comparison = "spearman", noise_ceiling: bool = True, n_bootstrap: int = 0,
                 bootstrap: Literal["stimuli", "subjects", "both"] = "stimuli", confidence: float = 0.95,
                 n_permutations: int = 0, random_state: int | None = 0,
                 backend: Literal["numpy", "torch"] = "numpy", dtype: Literal["float64", "float32"] = "float64",
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        super().__init__(comparison=comparison, noise_ceiling=noise_ceiling, n_bootstrap=n_bootstrap,
                         bootstrap=bootstrap, confidence=confidence, n_permutations=n_permutations,
                         random_state=random_state, backend=backend, dtype=dtype, align=align)
        self.noise = noise
        self.noise_method = noise_method

    def _representation_rdm(self, rep: Representation) -> RDMs:
        if self.noise not in ("auto", "repeats", "patterns"):
            raise InvalidInputError(f"{self._owner()}: 'noise' must be 'auto', 'repeats' or 'patterns', "
                                    f"got {self.noise!r}.")
        source = self.noise
        if source == "auto":
            source = "repeats" if rep.repeats is not None and rep.repeats.shape[0] >= 2 else "patterns"
        return calc_rdm(rep, "mahalanobis", noise=source, noise_method=self.noise_method, dtype=self.dtype,
                        backend=self.backend)


@_rsa_docstring
class CrossnobisRSA(_RSAAnalyzer):
    """RSA with crossnobis RDMs: cross-validated squared Mahalanobis distances, runs as folds.

    Needs representations with ``repeats`` (one pattern per run and stimulus); the noise
    precision is estimated from the residuals of the repeats around the stimulus means.
    Crossnobis distances are unbiased (zero in expectation for identical patterns) and can
    be negative.

    Parameters
    ----------
    noise_method : {"shrinkage_diag", "shrinkage_eye", "diag", "full", "identity"}, default="shrinkage_diag"
        Noise covariance estimator; "identity" gives cross-validated Euclidean distances.
    """

    id = "rsa.crossnobis"
    distance = "crossnobis"
    citation = _WALTHER2016
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="any", stochastic=True,
                invariances=("isotropic_scaling", "translation", "feature_permutation"))

    def __init__(self, noise_method: Literal["shrinkage_diag", "shrinkage_eye", "diag", "full",
                                             "identity"] = "shrinkage_diag",
                 comparison: Comparison = "spearman", noise_ceiling: bool = True, n_bootstrap: int = 0,
                 bootstrap: Literal["stimuli", "subjects", "both"] = "stimuli", confidence: float = 0.95,
                 n_permutations: int = 0, random_state: int | None = 0,
                 backend: Literal["numpy", "torch"] = "numpy", dtype: Literal["float64", "float32"] = "float64",
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        super().__init__(comparison=comparison, noise_ceiling=noise_ceiling, n_bootstrap=n_bootstrap,
                         bootstrap=bootstrap, confidence=confidence, n_permutations=n_permutations,
                         random_state=random_state, backend=backend, dtype=dtype, align=align)
        self.noise_method = noise_method

    def _representation_rdm(self, rep: Representation) -> RDMs:
        noise = None if self.noise_method == "identity" else "repeats"
        method = "shrinkage_diag" if noise is None else self.noise_method
        return calc_rdm(rep, "crossnobis", noise=noise, noise_method=method, dtype=self.dtype,
                        backend=self.backend)


# =========================================================================== transforms

_TRANSFORM_DISTANCES = Literal["correlation", "cosine", "euclidean", "sqeuclidean"]


def _transform_input(x: Any, distance: str, owner: str) -> RDMs:
    try:
        if isinstance(x, RDMs):
            return x.check_finite()
        if isinstance(x, Representation):
            return calc_rdm(x.check_finite(), distance)  # type: ignore[arg-type]
    except InvalidInputError as exc:
        raise InvalidInputError(f"{owner}: {exc}") from exc
    raise InvalidInputError(f"{owner}: expected RDMs or a Representation, got {type(x).__name__}.")


class RankTransform(Transform):
    """Rank-transform RDMs: each RDM's dissimilarities become their ranks (ties averaged).

    Comparing rank-transformed RDMs with Pearson gives the Spearman correlation; the
    transform is the usual first step before averaging RDMs across subjects or plotting
    them on a common scale.

    Parameters
    ----------
    distance : {"correlation", "cosine", "euclidean", "sqeuclidean"}, default="correlation"
        Dissimilarity used to turn a Representation input into its RDM first (RDMs pass as they are).
    """

    id = "transform.rank"
    version = "1.0.0"
    citation = ("Nili, Wingfield, Walther, Su, Marslen-Wilson & Kriegeskorte (2014). A toolbox for "
                "representational similarity analysis. PLoS Comput. Biol. 10(4):e1003553. "
                "doi:10.1371/journal.pcbi.1003553")
    tags = Tags(input_type="any")
    output_type = "rdm"

    def __init__(self, distance: _TRANSFORM_DISTANCES = "correlation"):
        self.distance = distance

    def transform(self, x):
        return rank_rdms(_transform_input(x, self.distance, f"Transform {self.id!r}"))


class SqrtTransform(Transform):
    """Square root of every dissimilarity (squared Euclidean, Mahalanobis or crossnobis -> a distance scale).

    Parameters
    ----------
    negative : {"raise", "clip", "signed"}, default="raise"
        Negative dissimilarities (crossnobis estimates can be negative): refuse them, set them
        to 0 first, or use ``sign(d) * sqrt(|d|)``.
    distance : {"correlation", "cosine", "euclidean", "sqeuclidean"}, default="sqeuclidean"
        Dissimilarity used to turn a Representation input into its RDM first.
    """

    id = "transform.sqrt"
    version = "1.0.0"
    citation = _WALTHER2016
    tags = Tags(input_type="any")
    output_type = "rdm"

    def __init__(self, negative: Literal["raise", "clip", "signed"] = "raise",
                 distance: _TRANSFORM_DISTANCES = "sqeuclidean"):
        self.negative = negative
        self.distance = distance

    def transform(self, x):
        owner = f"Transform {self.id!r}"
        return sqrt_rdms(_transform_input(x, self.distance, owner), self.negative, owner=owner)


#: The RSA analyzers registered by the host, one per RDM distance.
RSA_ANALYZERS: tuple[type[_RSAAnalyzer], ...] = (CorrelationRSA, CosineRSA, EuclideanRSA, SquaredEuclideanRSA,
                                                  MahalanobisRSA, CrossnobisRSA)


@hookimpl
def register_analyzers(register):
    for cls in RSA_ANALYZERS:
        register(cls)


@hookimpl
def register_transforms(register):
    register(RankTransform)
    register(SqrtTransform)
