"""The conformance suite tested on itself (like scikit-learn's test_estimator_checks.py).

Each deliberately broken component below has one defect; the test asserts that the check
meant to catch it fails with a message naming the component, and that the other checks pass
(so every check is shown able to fail, and not to fire on unrelated defects). Well-behaved
components of every checked kind pass everything.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import rankdata

from neurorep import Analyzer, Estimator, Generator, InvalidInputError, Source, StimulusSet, Tags, Transform, align
from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.builtin.similarity import LinearCKA as RegisteredLinearCKA
from neurorep.builtin.sources import NpzSource, SyntheticSource
from neurorep.testing import (
    CheckOutcome,
    ConformanceError,
    check_component,
    check_component_ids,
    check_distribution,
    check_distribution_metadata,
    check_entry_point_loads,
    check_hookimpls_match_specs,
    check_name,
    parametrize_with_checks,
    toy_stimuli,
    yield_checks,
)
from neurorep.types import RDMs, Representation, Result

# =========================================================================== well-behaved components


class LinearCKA(Analyzer):
    """Plain linear CKA with one parameter: the base of the deliberately broken analyzers below.

    Parameters
    ----------
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "test.linear-cka"
    version = "1.0.0"
    citation = ("Kornblith, Norouzi, Lee & Hinton (2019). Similarity of neural network representations "
                "revisited. ICML. arXiv:1905.00414")
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0,
                invariances=("orthogonal", "isotropic_scaling", "translation", "feature_permutation"))

    def __init__(self, align: str = "reorder"):
        self.align = align

    def analyze(self, x, y=None):
        if y is None:
            raise InvalidInputError(f"Analyzer {self.id!r}: expected two representations, got one.")
        for r in (x, y):
            if not isinstance(r, Representation):
                raise InvalidInputError(f"Analyzer {self.id!r}: expected a Representation, got {type(r).__name__}.")
            r.check_finite(owner=f"Analyzer {self.id!r}")
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        X, Y = x.data - x.data.mean(0), y.data - y.data.mean(0)
        den = float(np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y))
        if den == 0.0:
            raise InvalidInputError(f"Analyzer {self.id!r}: an input is constant across stimuli.")
        return [Result(score=float(np.linalg.norm(Y.T @ X) ** 2) / den, metric="cka", n=x.n_stimuli)]


class GoodCKA(LinearCKA):
    """Linear CKA under another id (a subclass that changes nothing must pass everything).

    Parameters
    ----------
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "good.cka"


class R2Encoding(Analyzer):
    """Variance of ``y`` explained by a least-squares linear map from ``x`` (an asymmetric analyzer).

    Parameters
    ----------
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "good.r2"
    version = "1.0.0"
    citation = "Naselaris, Kay, Nishimoto & Gallant (2011). Encoding and decoding in fMRI. NeuroImage 56(2)."
    tags = Tags(larger_is_more_similar=True, maximum=1.0,
                invariances=("orthogonal", "isotropic_scaling", "translation", "invertible_linear",
                             "feature_permutation"))

    def __init__(self, align: str = "reorder"):
        self.align = align

    def analyze(self, x, y=None):
        for r in (x, y):
            try:
                r.check_finite()
            except InvalidInputError as exc:
                raise InvalidInputError(f"Analyzer {self.id!r}: {exc}") from exc
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        X = x.data - x.data.mean(0)
        Y = y.data - y.data.mean(0)
        B, *_ = np.linalg.lstsq(X, Y, rcond=None)
        r2 = 1.0 - float(np.sum((Y - X @ B) ** 2) / np.sum(Y**2))
        return [Result(score=r2, metric="r2", n=x.n_stimuli)]


class Dimensionality(Analyzer):
    """Participation ratio of one representation's covariance spectrum (a one-input analyzer)."""

    id = "good.participation-ratio"
    version = "1.0.0"
    citation = "Gao, Trautmann, Yu et al. (2017). A theory of multineuronal dimensionality. bioRxiv 214262."
    tags = Tags(invariances=("orthogonal", "isotropic_scaling", "translation", "feature_permutation"))
    n_inputs = 1

    def analyze(self, x, y=None):
        try:
            x.check_finite()
        except InvalidInputError as exc:
            raise InvalidInputError(f"Analyzer {self.id!r}: {exc}") from exc
        ev = np.linalg.eigvalsh(np.cov(x.data, rowvar=False))
        return [Result(score=float(ev.sum() ** 2 / np.sum(ev**2)), metric="participation_ratio", n=x.n_stimuli)]


class RDMSpearman(Analyzer):
    """Spearman correlation between two precomputed RDMs (an RDM-input analyzer).

    Parameters
    ----------
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "good.rdm-spearman"
    version = "1.0.0"
    citation = ("Kriegeskorte, Mur & Bandettini (2008). Representational similarity analysis. "
                "Front. Syst. Neurosci. 2:4.")
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="rdm",
                invariances=("isotropic_scaling", "orthogonal", "translation"))

    def __init__(self, align: str = "reorder"):
        self.align = align

    def analyze(self, x, y=None):
        for r in (x, y):
            if not isinstance(r, RDMs):
                raise InvalidInputError(f"Analyzer {self.id!r}: expected RDMs, got {type(r).__name__}.")
            try:
                r.check_finite()
            except InvalidInputError as exc:
                raise InvalidInputError(f"Analyzer {self.id!r}: {exc}") from exc
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        a, b = rankdata(x.dissimilarities[0]), rankdata(y.dissimilarities[0])
        return [Result(score=float(np.corrcoef(a, b)[0, 1]), metric="spearman", n=a.size)]


class PixelStats(Source):
    """Per-channel mean and spread of image stimuli, streamed in batches.

    Parameters
    ----------
    batch_size : int, default=5
    """

    id = "good.pixel-stats"
    version = "1.0.0"
    citation = None  # a utility: no publication

    def __init__(self, batch_size: int = 5):
        self.batch_size = batch_size

    def _conformance_stimuli(self):
        return toy_stimuli(12)

    def sites(self, stimuli=None):
        return ["channel-mean", "channel-std"]

    def _features(self, stimuli, site, rows):
        imgs = np.asarray(stimuli.payload[rows], dtype=float) / 255.0
        return imgs.mean(axis=(1, 2)) if site == "channel-mean" else imgs.std(axis=(1, 2))

    def batches(self, stimuli):
        n = len(stimuli)
        return [slice(s, min(s + self.batch_size, n)) for s in range(0, n, self.batch_size)]

    def extract_batch(self, stimuli, batch, sites):
        return {s: self._features(stimuli, s, batch) for s in sites}

    def load(self, site, stimuli=None):
        return Representation(self._features(stimuli, site, slice(None)), stimuli.ids, name=site)


class RankTransform(Transform):
    """Rank-transform RDMs (each RDM) or representations (each feature across stimuli)."""

    id = "good.rank"
    version = "1.0.0"
    citation = ("Nili, Wingfield, Walther, Su, Marslen-Wilson & Kriegeskorte (2014). A toolbox for "
                "representational similarity analysis. PLoS Comput Biol 10(4): e1003553.")
    tags = Tags(input_type="any")

    def transform(self, x):
        if isinstance(x, RDMs):
            return dataclasses.replace(x, dissimilarities=rankdata(x.dissimilarities, axis=1))
        return dataclasses.replace(x, data=rankdata(x.data, axis=0), repeats=None)


class PCA(Estimator):
    """Principal component analysis by SVD of the centred data.

    Parameters
    ----------
    n_components : int, default=3
    """

    id = "good.pca"
    version = "1.0.0"
    citation = "Pearson (1901). On lines and planes of closest fit to systems of points in space. Phil. Mag. 2(11)."

    def __init__(self, n_components: int = 3):
        self.n_components = n_components

    def fit(self, X, y=None):
        self.mean_ = X.mean(0)
        _, _, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        vt = vt * np.sign(vt[:, [0]])  # a deterministic sign
        self.components_ = vt[: self.n_components]
        return self

    def transform(self, X):
        return (X - self.mean_) @ self.components_.T


class Ridge(Estimator):
    """Ridge regression with an intercept.

    Parameters
    ----------
    alpha : float, default=1.0
    """

    id = "good.ridge"
    version = "1.0.0"
    citation = "Hoerl & Kennard (1970). Ridge regression: biased estimation for nonorthogonal problems. Technometrics."

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X, y=None):
        self.x_mean_, self.y_mean_ = X.mean(0), y.mean(0)
        Xc = X - self.x_mean_
        self.coef_ = np.linalg.solve(Xc.T @ Xc + self.alpha * np.eye(X.shape[1]), Xc.T @ (y - self.y_mean_))
        return self

    def predict(self, X):
        return (X - self.x_mean_) @ self.coef_ + self.y_mean_


class NoiseImages(Generator):
    """Gaussian white-noise images, clipped to uint8.

    Parameters
    ----------
    size : int, default=8
    """

    id = "good.noise-images"
    version = "1.0.0"
    citation = "Marmarelis & Marmarelis (1978). Analysis of Physiological Systems: The White-Noise Approach. Plenum."

    def __init__(self, size: int = 8):
        self.size = size

    def generate(self, n, target=None, random_state=None):
        rng = np.random.default_rng(random_state)
        imgs = np.clip(128 + 40 * rng.standard_normal((n, self.size, self.size, 3)), 0, 255).astype(np.uint8)
        return StimulusSet(tuple(f"noise-{i}" for i in range(n)), modality="image", payload=imgs, name="noise")


GOOD = [GoodCKA(), GoodCKA(align="strict"), R2Encoding(), Dimensionality(), RDMSpearman(), PixelStats(),
        RankTransform(), PCA(), Ridge(), NoiseImages(), LinearCKA(), RegisteredLinearCKA(), CorrelationRSA(), SyntheticSource(), NpzSource]


@pytest.mark.parametrize("component", GOOD, ids=lambda c: getattr(c, "id", str(c)))
def test_good_components_pass_every_check(component):
    outcomes = check_component(component)
    assert outcomes
    failed = [(o.check, o.message) for o in outcomes if not o.passed]
    assert not failed, failed


def test_checks_follow_kind_and_tags():
    names = {check_name(c) for c in yield_checks(GoodCKA())}
    assert {"check_symmetry", "check_identity_max", "check_informative_errors_nan",
            "check_declared_invariances(invariance=orthogonal)"} <= names
    assert "check_declared_invariances(invariance=invertible_linear)" not in names
    names = {check_name(c) for c in yield_checks(R2Encoding())}
    assert "check_symmetry" not in names and "check_declared_invariances(invariance=invertible_linear)" in names
    names = {check_name(c) for c in yield_checks(Dimensionality())}  # one input: no two-input checks
    assert not names & {"check_symmetry", "check_identity_max", "check_informative_errors_mismatched_ids",
                        "check_aligns_by_stimulus_id"}
    assert "check_informative_errors_nan" in names
    names = {check_name(c) for c in yield_checks(PixelStats())}
    assert {"check_sites_cheap_and_valid", "check_load_shape", "check_streaming_matches_load"} <= names
    npz = NpzSource._conformance_instances()[0]
    assert "check_streaming_matches_load" not in {check_name(c) for c in yield_checks(npz)}
    assert {"check_fit_returns_self", "check_estimator_output_shape"} <= {check_name(c) for c in yield_checks(PCA())}
    assert "check_seeded_output" in {check_name(c) for c in yield_checks(NoiseImages())}


# =========================================================================== broken analyzers


class InitWork(LinearCKA):
    """CKA whose constructor sets derived state.

    Parameters
    ----------
    align : str, default="reorder"
    """

    id = "broken.init-work"

    def __init__(self, align: str = "reorder"):
        self.align = align
        self.cache_ = {}


class InitOpensFile(LinearCKA):
    """CKA whose constructor reads a file.

    Parameters
    ----------
    align : str, default="reorder"
    """

    id = "broken.init-opens-file"

    def __init__(self, align: str = "reorder"):
        with open(__file__) as f:
            f.read(1)
        self.align = align


class NoStore(LinearCKA):
    """CKA that keeps a parameter under another name.

    Parameters
    ----------
    align : str, default="reorder"
    debiased : bool, default=False
    """

    id = "broken.no-store"

    def __init__(self, align: str = "reorder", debiased: bool = False):
        self.align = align
        self._debiased = debiased


class Mutating(LinearCKA):
    """CKA that centres its input in place."""

    id = "broken.mutating"

    def analyze(self, x, y=None):
        x.data[...] -= x.data.mean(0)
        return super().analyze(x, y)


class Asymmetric(R2Encoding):
    """R2 wrongly tagged symmetric.

    Parameters
    ----------
    align : str, default="reorder"
    """

    id = "broken.asymmetric"
    tags = dataclasses.replace(R2Encoding.tags, symmetric=True)


class FakeOrthogonal(LinearCKA):
    """CKA of the squared responses, wrongly declared invariant to rotations."""

    id = "broken.fake-orthogonal"
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0,
                invariances=("orthogonal", "feature_permutation"))

    def analyze(self, x, y=None):
        sq = lambda r: dataclasses.replace(r, data=r.data**2)  # noqa: E731
        return super().analyze(sq(x), sq(y))


class Negated(LinearCKA):
    """Minus CKA, still declaring maximum 1."""

    id = "broken.negated"

    def analyze(self, x, y=None):
        [row] = super().analyze(x, y)
        return [dataclasses.replace(row, score=-row.score)]


class DistanceAsSimilarity(LinearCKA):
    """1 - CKA (a distance) tagged as a similarity without a maximum."""

    id = "broken.distance-as-similarity"
    tags = Tags(symmetric=True, larger_is_more_similar=True)

    def analyze(self, x, y=None):
        [row] = super().analyze(x, y)
        return [dataclasses.replace(row, score=1.0 - row.score)]


class NanSilent(LinearCKA):
    """CKA that replaces NaN by zero without a word."""

    id = "broken.nan-silent"

    def analyze(self, x, y=None):
        fill = lambda r: dataclasses.replace(  # noqa: E731
            r, data=np.nan_to_num(r.data), repeats=None if r.repeats is None else np.nan_to_num(r.repeats))
        return super().analyze(fill(x), fill(y))


class IgnoresIds(LinearCKA):
    """CKA that pairs rows by position, whatever their stimulus ids."""

    id = "broken.ignores-ids"

    def analyze(self, x, y=None):
        y = dataclasses.replace(y, stimulus_ids=x.stimulus_ids)
        return super().analyze(x, y)


class Nondeterministic(LinearCKA):
    """CKA plus noise from the global random state, not tagged stochastic."""

    id = "broken.nondeterministic"

    def analyze(self, x, y=None):
        [row] = super().analyze(x, y)
        return [dataclasses.replace(row, score=row.score + 1e-3 * np.random.standard_normal())]


class IgnoresSeed(LinearCKA):
    """Bootstrap CKA tagged stochastic whose resampling ignores random_state.

    Parameters
    ----------
    align : str, default="reorder"
    random_state : int or None, default=0
    """

    id = "broken.ignores-seed"
    tags = Tags(stochastic=True, larger_is_more_similar=True)

    def __init__(self, align: str = "reorder", random_state: int | None = 0):
        self.align = align
        self.random_state = random_state

    def analyze(self, x, y=None):
        x, y = align(x, y, owner=f"Analyzer {self.id!r}")
        idx = np.random.permutation(x.n_stimuli)[: x.n_stimuli - 2]  # the global state, not self.random_state
        ids = [x.stimulus_ids[i] for i in sorted(idx)]
        return super().analyze(x.select(ids), y.select(ids))


class HoldsLambda(LinearCKA):
    """CKA that caches a lambda on the instance."""

    id = "broken.holds-lambda"

    def analyze(self, x, y=None):
        self.kernel_ = lambda a: a @ a.T
        return super().analyze(x, y)


class BadId(LinearCKA):
    """CKA with an id that breaks the grammar."""

    id = "CKA_Linear"


class NoCitation(LinearCKA):
    """CKA without a citation."""

    id = "broken.no-citation"
    citation = None


class PlaceholderCitation(LinearCKA):
    """CKA whose citation is an instruction, not a reference."""

    id = "broken.placeholder-citation"
    citation = "cite your paper here"


class UndocumentedParam(LinearCKA):
    """CKA whose docstring forgets a parameter.

    Parameters
    ----------
    align : str, default="reorder"
    """

    id = "broken.undocumented"

    def __init__(self, align: str = "reorder", debiased: bool = False):
        self.align = align
        self.debiased = debiased


class NoneNotDefault(LinearCKA):
    """CKA with a parameter a TOML recipe cannot set to None.

    Parameters
    ----------
    align : str, default="reorder"
    scale : float or None, default=1.0
    """

    id = "broken.none-not-default"

    def __init__(self, align: str = "reorder", scale: float | None = 1.0):
        self.align = align
        self.scale = scale


class ArrayParam(LinearCKA):
    """CKA with an array parameter (not JSON).

    Parameters
    ----------
    align : str, default="reorder"
    weights : object, default=None
    """

    id = "broken.array-param"

    def __init__(self, align: str = "reorder", weights: object = None):
        self.align = align
        self.weights = weights


# =========================================================================== broken sources, transforms, ...


class DuplicateSites(PixelStats):
    """Sites listed twice.

    Parameters
    ----------
    batch_size : int, default=5
    """

    id = "broken.duplicate-sites"

    def sites(self, stimuli=None):
        return ["channel-mean", "channel-std", "channel-mean"]


class UnstableIds(SyntheticSource):
    """Synthetic source whose ids come from a counter."""

    id = "broken.unstable-ids"
    _counter = [0]

    def stimulus_ids(self, stimuli=None):
        self._counter[0] += 1
        return tuple(f"s{self._counter[0]}-{i}" for i in range(self.n_stimuli))


class ReorderedLoad(PixelStats):
    """load() returns the rows in reverse order (ids reversed with them).

    Parameters
    ----------
    batch_size : int, default=5
    """

    id = "broken.reordered-load"

    def batches(self, stimuli):
        return None

    def load(self, site, stimuli=None):
        rep = super().load(site, stimuli)
        return rep.select(list(reversed(rep.stimulus_ids)))


class BatchNormalised(PixelStats):
    """Streams batches z-scored per batch, so they disagree with load().

    Parameters
    ----------
    batch_size : int, default=5
    """

    id = "broken.batch-normalised"

    def extract_batch(self, stimuli, batch, sites):
        out = super().extract_batch(stimuli, batch, sites)
        return {s: (a - a.mean(0)) / (a.std(0) + 1e-9) for s, a in out.items()}


class MutatingTransform(RankTransform):
    """Ranks in place."""

    id = "broken.mutating-transform"

    def transform(self, x):
        if isinstance(x, RDMs):
            x.dissimilarities[:] = rankdata(x.dissimilarities, axis=1)
        else:
            x.data[:] = rankdata(x.data, axis=0)
        return dataclasses.replace(x)


class TypeChangingTransform(RankTransform):
    """Returns RDMs for representations."""

    id = "broken.type-changing"

    def transform(self, x):
        from neurorep.testing._data import to_rdms

        return super().transform(to_rdms(x) if isinstance(x, Representation) else x)


class FitReturnsNone(PCA):
    """PCA whose fit forgets to return self.

    Parameters
    ----------
    n_components : int, default=3
    """

    id = "broken.fit-returns-none"

    def fit(self, X, y=None):
        super().fit(X, y)


class WrongRows(PCA):
    """PCA that returns the components instead of the projected samples.

    Parameters
    ----------
    n_components : int, default=3
    """

    id = "broken.wrong-rows"

    def transform(self, X):
        return self.components_


class SeedlessGenerator(NoiseImages):
    """Noise images from the global random state.

    Parameters
    ----------
    size : int, default=8
    """

    id = "broken.seedless-generator"

    def generate(self, n, target=None, random_state=None):
        return super().generate(n, target, random_state=np.random.randint(1 << 30))


# expected failing checks for each broken component: exactly these fail, everything else passes
BROKEN = [
    (InitWork(), {"check_init_stores_params_only"}, "no attribute set in __init__ apart from the parameters"),
    (InitOpensFile(), {"check_init_stores_params_only"}, "opens no file"),
    (NoStore(), {"check_init_stores_params_only", "check_get_params_roundtrip"}, "'debiased'"),
    (Mutating(), {"check_inputs_not_mutated"}, "modified in place"),
    (Asymmetric(), {"check_symmetry"}, "tagged symmetric"),
    (FakeOrthogonal(), {"check_declared_invariances(invariance=orthogonal)"}, "orthogonal transform"),
    (Negated(), {"check_identity_max"}, "tags.maximum == 1.0"),
    (DistanceAsSimilarity(), {"check_identity_max"}, "larger_is_more_similar=True"),
    (NanSilent(), {"check_informative_errors_nan"}, "no error: it returned"),
    (IgnoresIds(), {"check_aligns_by_stimulus_id", "check_informative_errors_mismatched_ids"}, "stimulus id"),
    (HoldsLambda(), {"check_pickle"}, "picklable"),
    (BadId(), {"check_declaration"}, "'CKA_Linear'"),
    (NoCitation(), {"check_citation"}, "citation is None"),
    (PlaceholderCitation(), {"check_citation"}, "publication year"),
    (UndocumentedParam(), {"check_docstring_params"}, "['debiased']"),
    (NoneNotDefault(scale=None), {"check_get_params_roundtrip"}, "TOML has no null"),
    (ArrayParam(weights=np.ones(3)), {"check_get_params_roundtrip"}, "JSON-serialisable"),
    (DuplicateSites(), {"check_sites_cheap_and_valid"}, "unique site names"),
    (ReorderedLoad(), {"check_load_shape"}, "in the order of stimulus_ids()"),
    (BatchNormalised(), {"check_streaming_matches_load"}, "to equal load("),
    (MutatingTransform(), {"check_inputs_not_mutated"}, "modified in place"),
    (TypeChangingTransform(), {"check_transform_output"}, "a Representation back"),
    (FitReturnsNone(), {"check_fit_returns_self"}, "fit() to return self"),
    (WrongRows(), {"check_estimator_output_shape"}, "to return 24 rows"),
    (SeedlessGenerator(), {"check_seeded_output"}, "same random_state"),
]


@pytest.mark.parametrize("component, expected, phrase", BROKEN, ids=[type(b[0]).__name__ for b in BROKEN])
def test_broken_component_caught_by_intended_check(component, expected, phrase):
    outcomes = check_component(component)
    failed = {o.check: o.message for o in outcomes if not o.passed}
    assert set(failed) == expected, failed
    cid = type(component).id
    for msg in failed.values():
        assert repr(cid) in msg, msg  # the message names the component
    assert any(phrase in m for m in failed.values()), failed
    # the check raises an AssertionError subclass when called directly
    check = next(c for c in yield_checks(component) if check_name(c) in expected)
    with pytest.raises(ConformanceError, match=re.escape(repr(cid))):
        check(component)


@pytest.mark.parametrize("component", [Nondeterministic(), IgnoresSeed()], ids=lambda c: type(c).__name__)
def test_nondeterminism_caught(component):
    outcomes = {o.check: o for o in check_component(component)}
    o = outcomes["check_determinism"]
    assert not o.passed and repr(type(component).id) in o.message
    if type(component).tags.stochastic:
        assert "random_state=0" in o.message
    # the static checks are unaffected
    assert outcomes["check_declaration"].passed and outcomes["check_init_stores_params_only"].passed


def test_unstable_source_ids_caught():
    outcomes = {o.check: o for o in check_component(UnstableIds())}
    assert not outcomes["check_stimulus_ids_unique_stable"].passed
    assert "the same ids on every call" in outcomes["check_stimulus_ids_unique_stable"].message


def test_bad_declaration_stops_other_checks():
    assert [check_name(c) for c in yield_checks(BadId())] == ["check_declaration"]


def test_good_component_checks_do_not_modify_it():
    c = GoodCKA(align="strict")
    check_component(c)
    assert vars(c) == {"align": "strict"}


# =========================================================================== API: outcomes, xfail, pytest marks


def test_expected_failed_checks_marks_outcomes():
    out = {o.check: o for o in check_component(Asymmetric(), expected_failed_checks={"check_symmetry": "R2 is not"})}
    assert isinstance(out["check_symmetry"], CheckOutcome)
    assert not out["check_symmetry"].passed and out["check_symmetry"].expected
    assert out["check_pickle"].passed and not out["check_pickle"].expected
    # a base name matches keyword-parametrised checks; a passing expected failure says so
    out = {o.check: o for o in check_component(
        GoodCKA(), expected_failed_checks=lambda c: {"check_declared_invariances": "why"})}
    o = out["check_declared_invariances(invariance=orthogonal)"]
    assert o.passed and o.expected and "expected to fail (why) but passed" in o.message


def test_class_level_expected_failures_are_honoured():
    class KnownAsymmetric(Asymmetric):
        """R2 with its known failure declared.

        Parameters
        ----------
        align : str, default="reorder"
        """

        id = "broken.known-asymmetric"
        _conformance_expected_failed_checks = {"check_symmetry": "declared"}

    out = {o.check: o for o in check_component(KnownAsymmetric())}
    assert out["check_symmetry"].expected and not out["check_symmetry"].passed


def test_class_without_defaults_needs_conformance_instances():
    class NeedsPath(NpzSource):
        """Npz source without the factory.

        Parameters
        ----------
        path : str
        """

        id = "broken.needs-path"
        _conformance_instances = None

    [o] = check_component(NeedsPath)
    assert o.check == "check_instantiate" and not o.passed and "_conformance_instances" in o.message


def test_parametrize_with_checks_ids_and_marks():
    mark = parametrize_with_checks([GoodCKA(), Asymmetric()], expected_failed_checks={"check_symmetry": "known"})
    assert mark.name == "parametrize" and mark.args[0] == "component, check"
    params = {p.id: p for p in mark.args[1]}
    assert "good.cka-check_symmetry" in params
    assert "good.cka-check_declared_invariances(invariance=orthogonal)" in params
    xfail = params["broken.asymmetric-check_symmetry"].marks
    assert [m.name for m in xfail] == ["xfail"] and xfail[0].kwargs["reason"] == "known"
    assert list(params["broken.asymmetric-check_pickle"].marks) == []
    comp, check = params["good.cka-check_symmetry"].values
    assert isinstance(comp, GoodCKA) and check_name(check) == "check_symmetry"


def test_gpu_tagged_components_get_the_gpu_mark_on_behavioural_checks():
    class GpuCKA(GoodCKA):
        """CKA tagged as needing a GPU.

        Parameters
        ----------
        align : str, default="reorder"
        """

        id = "good.gpu-cka"
        tags = dataclasses.replace(GoodCKA.tags, needs_gpu=True)

    params = {p.id: p for p in parametrize_with_checks([GpuCKA()]).args[1]}
    assert [m.name for m in params["good.gpu-cka-check_symmetry"].marks] == ["gpu"]
    assert list(params["good.gpu-cka-check_declaration"].marks) == []


@parametrize_with_checks([GoodCKA(), Dimensionality(), PixelStats, NoiseImages()])
def test_parametrize_with_checks_runs_under_pytest(component, check):
    check(component)


def test_toml_writer_round_trips_through_tomllib():
    import tomllib

    from neurorep.testing._toml import toml_params_fragment

    params = {"a": 1, "b": -2.5e-7, "c": "quote\" back\\slash \x7f tab\t ünï", "d": [1, 2.0, "x"], "e": True,
              "f": {"g h": [float("inf")], "k": {}}, "n": float("nan")}
    back = tomllib.loads(toml_params_fragment(params))["params"]
    nan = back.pop("n")
    assert nan != nan
    params.pop("n")
    assert back == params
    with pytest.raises(TypeError, match="it has no null"):
        toml_params_fragment({"a": None})


# =========================================================================== plugin-level checks

GOOD_PLUGIN = '''
import neurorep
from neurorep.builtin.similarity import LinearCKA


class {cls}(LinearCKA):
    __doc__ = LinearCKA.__doc__  # CKA shipped by a test distribution

    id = "{cid}"


@neurorep.hookimpl
def {hook}(register):
    register({cls})
'''


def _make_dist(site: Path, dist: str, module: str, source: str, *, requires: str = "neurorep>=0.1,<2") -> None:
    """An installed distribution without pip: ``module.py`` plus a ``.dist-info`` with an entry point."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-1.0.0.dist-info"
    info.mkdir()
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0.0\n"
    if requires:
        meta += f"Requires-Dist: {requires}\n"
    (info / "METADATA").write_text(meta)
    (info / "entry_points.txt").write_text(f"[neurorep]\n{module} = {module}\n")
    (info / "RECORD").write_text("")


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROREP_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("NEUROREP_BLOCK_PLUGINS", raising=False)
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


def _plugin(n: str, **kw) -> str:
    kw.setdefault("cls", f"Cka{n}")
    kw.setdefault("cid", f"fake{n}.cka")
    kw.setdefault("hook", "register_analyzers")
    return GOOD_PLUGIN.format(**kw)


def test_good_distribution_passes(site):
    _make_dist(site, "neurorep-fakegood", "nr_fakegood", _plugin("good"))
    outcomes = check_distribution("neurorep_FakeGood")  # - _ and case are normalised
    failed = [(o.component, o.check, o.message) for o in outcomes if not o.passed]
    assert not failed, failed
    plugin_level = [o.check for o in outcomes if o.component == "neurorep_FakeGood"]
    assert plugin_level == ["check_entry_point_loads", "check_hookimpls_match_specs", "check_component_ids",
                            "check_distribution_metadata"]
    assert "fakegood.cka" in {o.component for o in outcomes}


def test_import_error_fails_entry_point_check(site):
    _make_dist(site, "neurorep-fakeimport", "nr_fakeimport", "import a_module_that_does_not_exist\n")
    with pytest.raises(ConformanceError, match=r"'neurorep-fakeimport'.*nr_fakeimport.*ModuleNotFoundError"):
        check_entry_point_loads("neurorep-fakeimport")


def test_network_at_import_fails_entry_point_check(site):
    source = textwrap.dedent('''
        import socket
        try:  # swallowed, but the probe still sees the attempt
            socket.create_connection(("127.0.0.1", 9), timeout=0.1)
        except OSError:
            pass
        ''') + _plugin("net")
    _make_dist(site, "neurorep-fakenet", "nr_fakenet", source)
    with pytest.raises(ConformanceError, match=r"'neurorep-fakenet'.*no network access"):
        check_entry_point_loads("neurorep-fakenet")


def test_misspelled_hook_fails_hookimpl_check(site):
    _make_dist(site, "neurorep-fakehook", "nr_fakehook", _plugin("hook", hook="register_analyser"))
    with pytest.raises(ConformanceError, match=r"'neurorep-fakehook'.*register_analyser"):
        check_hookimpls_match_specs("neurorep-fakehook")
    check_component_ids("neurorep-fakehook")  # nothing was registered, nothing was rejected


def test_bad_component_id_fails_id_check(site):
    _make_dist(site, "neurorep-fakeid", "nr_fakeid", _plugin("id", cid="Fake_ID"))
    with pytest.raises(ConformanceError, match=r"'neurorep-fakeid'.*'Fake_ID'"):
        check_component_ids("neurorep-fakeid")
    check_hookimpls_match_specs("neurorep-fakeid")  # the hook itself is fine


def test_duplicate_component_id_fails_id_check(site):
    _make_dist(site, "neurorep-fakedup", "nr_fakedup", _plugin("dup", cid="cka.linear"))
    with pytest.raises(ConformanceError, match=r"'neurorep-fakedup'.*'cka.linear' is registered twice"):
        check_component_ids("neurorep-fakedup")


def test_empty_register_hook_fails_id_check(site):
    _make_dist(site, "neurorep-fakeempty", "nr_fakeempty",
               "import neurorep\n\n@neurorep.hookimpl\ndef register_analyzers(register):\n    pass\n")
    with pytest.raises(ConformanceError, match=r"registered none"):
        check_component_ids("neurorep-fakeempty")


@pytest.mark.parametrize("n, requires, phrase", [(1, "", "a dependency on neurorep"),
                                                 (2, "neurorep>=0.1", "an upper bound"),
                                                 (3, "neurorep-extras<2", "a dependency on neurorep")])
def test_metadata_needs_bounded_neurorep(site, n, requires, phrase):
    _make_dist(site, f"neurorep-fakemeta{n}", f"nr_fakemeta{n}", _plugin(f"meta{n}"), requires=requires)
    with pytest.raises(ConformanceError, match=phrase):
        check_distribution_metadata(f"neurorep-fakemeta{n}")


def test_unknown_distribution_is_one_clear_failure():
    [o] = check_distribution("neurorep-not-installed-anywhere")
    assert not o.passed and o.check == "check_distribution_installed"
    assert "'neurorep-not-installed-anywhere' is not installed" in o.message and "pip install -e" in o.message


def test_host_distribution_passes():
    outcomes = check_distribution("neurorep")
    # expected failures (declared by the component, with a reason) are not failures, as for `neurorep check`
    assert not [(o.component, o.check, o.message) for o in outcomes if not (o.passed or o.expected)]
    assert {"cka.linear", "rsa.correlation", "source.synthetic", "source.npz"} <= {o.component for o in outcomes}
    assert "check_distribution_metadata" not in {o.check for o in outcomes}


def test_cli_check_exit_codes(site):
    from _distmaker import run_neurorep

    _make_dist(site, "neurorep-fakecli", "nr_fakecli", _plugin("cli", cid="Bad_Id"))
    bad = run_neurorep(["check", "neurorep-fakecli"], pythonpath=[site])
    assert bad.returncode == 1 and "FAIL neurorep-fakecli check_component_ids" in bad.stdout, bad.stdout
    missing = run_neurorep(["check", "neurorep-not-installed-anywhere"])
    assert missing.returncode == 1 and "check_distribution_installed" in missing.stdout
