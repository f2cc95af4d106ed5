"""The rsa.* analyzers and transform.* components, through the registry, on synthetic and real data."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import pearsonr, spearmanr

import neurorep
from neurorep import RDMs, Representation
from neurorep.builtin.analyzers import RSA_ANALYZERS, CorrelationRSA, CrossnobisRSA, MahalanobisRSA
from neurorep.errors import InvalidInputError, StimulusMismatchError
from neurorep.rsa import calc_rdm, compare, noise_ceiling

REPO = Path(__file__).resolve().parents[1]
IDS = tuple(f"img-{i:02d}" for i in range(14))


@pytest.fixture
def reps():
    """A model representation and four noisy 'subject' measurements of the same latent structure, with runs."""
    rng = np.random.default_rng(99)
    z = rng.normal(size=(14, 5))
    model = Representation(np.tanh(z @ rng.normal(size=(5, 30))), IDS, name="model")
    subjects = []
    for s in range(4):
        W = rng.normal(size=(5, 20))
        runs = (z @ W)[None] + 0.8 * rng.normal(size=(3, 14, 20))
        subjects.append(Representation(runs.mean(0), IDS, repeats=runs, name=f"sub{s}"))
    return model, subjects


def test_every_rsa_analyzer_is_registered():
    reg = neurorep.get_registry()
    ids = {cls.id for cls in RSA_ANALYZERS}
    assert ids == {"rsa.correlation", "rsa.cosine", "rsa.euclidean", "rsa.sqeuclidean", "rsa.mahalanobis",
                   "rsa.crossnobis"}
    assert ids | {"transform.rank", "transform.sqrt", "cka.linear"} <= set(reg.ids())
    assert reg.get("rsa.crossnobis").cls is CrossnobisRSA


def test_correlation_rsa_default_behaviour_is_kept(reps):
    model, subjects = reps
    dx, dy = pdist(model.data, "correlation"), pdist(subjects[0].data, "correlation")
    res = neurorep.create("rsa.correlation").analyze(model, subjects[0])[0]
    assert res.score == pytest.approx(spearmanr(dx, dy)[0], abs=1e-12)
    assert res.metric == "spearman" and res.n == 91 and res.extra["per_rdm"] == [pytest.approx(res.score)]
    assert np.isnan(res.ceiling_lower) and np.isnan(res.ci_low) and np.isnan(res.p_value)
    pr = neurorep.create("rsa.correlation", {"comparison": "pearson"}).analyze(model, subjects[0])[0]
    assert pr.score == pytest.approx(pearsonr(dx, dy)[0], abs=1e-12)


@pytest.mark.parametrize("cls", RSA_ANALYZERS)
def test_score_is_the_comparison_of_the_rdms(reps, cls):
    model, subjects = reps
    a = cls(comparison="pearson")
    res = a.analyze(subjects[0], subjects[1])[0]
    if cls is MahalanobisRSA:
        rx = calc_rdm(subjects[0], "mahalanobis", noise="repeats")
        ry = calc_rdm(subjects[1], "mahalanobis", noise="repeats")
    elif cls is CrossnobisRSA:
        rx = calc_rdm(subjects[0], "crossnobis", noise="repeats")
        ry = calc_rdm(subjects[1], "crossnobis", noise="repeats")
    else:
        rx, ry = calc_rdm(subjects[0], cls.distance), calc_rdm(subjects[1], cls.distance)
    assert res.score == pytest.approx(compare(rx, ry, "pearson")[0, 0], abs=1e-12)
    assert res.extra["dissimilarity"] == rx.dissimilarity_measure


def test_ceiling_ci_and_p_value_with_subject_rdms(reps):
    model, subjects = reps
    data = calc_rdm(subjects, "correlation")
    a = neurorep.create("rsa.correlation", {"n_bootstrap": 200, "n_permutations": 199, "random_state": 5})
    res = a.analyze(model, data)[0]
    nc = noise_ceiling(data, "spearman")
    assert res.ceiling_lower == pytest.approx(nc.lower) and res.ceiling_upper == pytest.approx(nc.upper)
    assert res.score == pytest.approx(compare(calc_rdm(model), data, "spearman").mean())
    assert res.ci_low < res.score < res.ci_high
    assert res.p_value == pytest.approx(1 / 200)  # planted relation: no relabelling does as well
    assert res.extra["n_bootstrap"] == 200 and res.extra["se"] > 0 and len(res.extra["per_rdm"]) == 4
    again = a.analyze(model, data)[0]
    assert (again.ci_low, again.ci_high, again.p_value) == (res.ci_low, res.ci_high, res.p_value)
    other = a.clone().set_params(random_state=6).analyze(model, data)[0]
    assert other.ci_low != res.ci_low
    subj = neurorep.create("rsa.correlation", {"n_bootstrap": 100, "bootstrap": "both"}).analyze(model, data)[0]
    assert subj.ci_low < subj.score < subj.ci_high
    off = neurorep.create("rsa.correlation", {"noise_ceiling": False}).analyze(model, data)[0]
    assert np.isnan(off.ceiling_lower)


def test_unrelated_model_is_not_significant(reps):
    _, subjects = reps
    rng = np.random.default_rng(1)
    noise = Representation(rng.normal(size=(14, 30)), IDS)
    res = CorrelationRSA(n_permutations=199, random_state=0).analyze(noise, calc_rdm(subjects))[0]
    assert res.p_value > 0.05


def test_crossnobis_properties_with_repeats(reps):
    """Symmetry, identity, order invariance, the declared invariances (applied to the data and the repeats
    alike), rotation invariance with identity noise, and the error messages."""
    _, subjects = reps
    x, y = subjects[0], subjects[1]
    a = CrossnobisRSA()
    base = a.analyze(x, y)[0].score
    assert a.analyze(y, x)[0].score == pytest.approx(base, abs=1e-12)
    assert a.analyze(x, x)[0].score == pytest.approx(1.0)
    perm = np.random.default_rng(2).permutation(14)

    def permuted(r):
        return dataclasses.replace(r, data=r.data[perm], repeats=r.repeats[:, perm],
                                   stimulus_ids=tuple(r.stimulus_ids[i] for i in perm))

    assert a.analyze(permuted(x), permuted(y))[0].score == pytest.approx(base, abs=1e-12)
    assert a.analyze(x, permuted(y))[0].score == pytest.approx(base, abs=1e-12)  # aligned by id
    rng = np.random.default_rng(3)
    fp = rng.permutation(20)
    shift = rng.normal(size=(1, 20)) * 5
    for f in (lambda m: 3.7 * m, lambda m: m + shift, lambda m: m[..., fp]):
        tx = dataclasses.replace(x, data=f(x.data), repeats=f(x.repeats))
        assert a.analyze(tx, y)[0].score == pytest.approx(base, abs=1e-9)
    # with identity noise, rotations of the feature space do not matter either
    q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    ident = CrossnobisRSA(noise_method="identity")
    rot = dataclasses.replace(x, data=x.data @ q, repeats=x.repeats @ q)
    assert ident.analyze(rot, y)[0].score == pytest.approx(ident.analyze(x, y)[0].score, abs=1e-9)
    with pytest.raises(InvalidInputError, match="rsa.crossnobis.*repeated measurements"):
        a.analyze(Representation(x.data, IDS), y)
    bad = x.repeats.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(InvalidInputError, match="rsa.crossnobis"):
        a.analyze(dataclasses.replace(x, repeats=bad), y)
    with pytest.raises(StimulusMismatchError, match="rsa.crossnobis"):
        a.analyze(x, dataclasses.replace(y, stimulus_ids=tuple(f"o{i}" for i in range(14))))


def test_mahalanobis_uses_repeats_when_present(reps):
    _, subjects = reps
    x, y = subjects[0], subjects[1]
    auto = MahalanobisRSA().analyze(x, y)[0].score
    from_repeats = MahalanobisRSA(noise="repeats").analyze(x, y)[0].score
    from_patterns = MahalanobisRSA(noise="patterns").analyze(x, y)[0].score
    assert auto == from_repeats and auto != from_patterns
    with pytest.raises(InvalidInputError, match="rsa.mahalanobis.*at least 2 repeats"):
        MahalanobisRSA(noise="repeats").analyze(Representation(x.data, IDS), y)


def test_analyzer_errors_name_the_component(reps):
    model, subjects = reps
    with pytest.raises(InvalidInputError, match="'comparison' must be one of"):
        CorrelationRSA(comparison="kendall").analyze(model, model)
    with pytest.raises(InvalidInputError, match="rsa.correlation.*one"):
        CorrelationRSA(n_bootstrap=10, bootstrap="subjects").analyze(model, subjects[0])
    with pytest.raises(InvalidInputError, match="rsa.correlation.*over='subjects'"):
        CorrelationRSA(n_bootstrap=10, comparison="bures").analyze(model, subjects[0])
    with pytest.raises(InvalidInputError, match="rsa.euclidean.*n_permutations"):
        neurorep.create("rsa.euclidean").set_params(n_permutations=-1).analyze(model, model)


def test_float32_and_torch_backends_agree(reps):
    model, subjects = reps
    ref = CorrelationRSA(comparison="pearson").analyze(model, subjects[0])[0].score
    f32 = CorrelationRSA(comparison="pearson", dtype="float32").analyze(model, subjects[0])[0].score
    assert f32 == pytest.approx(ref, abs=1e-5)
    pytest.importorskip("torch")
    tor = CorrelationRSA(comparison="pearson", backend="torch").analyze(model, subjects[0])[0].score
    assert tor == pytest.approx(ref, abs=1e-10)


def test_transforms_through_the_registry(reps):
    model, _ = reps
    rank = neurorep.create("transform.rank")
    out = rank.transform(model)
    assert isinstance(out, RDMs) and out.dissimilarities.max() == 91
    assert np.allclose(out.dissimilarities[0], np.argsort(np.argsort(pdist(model.data, "correlation"))) + 1)
    sq = neurorep.create("transform.sqrt").transform(calc_rdm(model, "sqeuclidean"))
    assert np.allclose(sq.dissimilarities, calc_rdm(model, "euclidean").dissimilarities)


# --------------------------------------------------------------------------- the real-data figure

def _mirror() -> Path | None:
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = Path(env) if env else REPO.parent / "shared" / "datasets"
    return root if (root / "kriegeskorte2008-92images").is_dir() else None


def test_kriegeskorte_noise_ceiling_and_monkey_it(monkeypatch, tmp_path):
    """Kriegeskorte et al. (2008), 92 images: the noise ceiling of the 4 human-IT subject RDMs and the Spearman
    correlation of the monkey-IT RDM with them, equal to rsatoolbox's."""
    root = _mirror()
    if root is None:
        pytest.skip("no dataset mirror with kriegeskorte2008-92images (set NEUROREP_DATA_MIRROR)")
    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(root))
    monkeypatch.setenv("NEUROREP_DATA", str(tmp_path / "user-store"))
    rt = pytest.importorskip("rsatoolbox")
    from rsatoolbox.inference import boot_noise_ceiling

    ds = neurorep.create("dataset.kriegeskorte2008-92")
    hit, mit = ds.load("hIT-subjects"), ds.load("mIT-fig1")
    assert hit.n_rdms == 4 and hit.n_stimuli == 92
    res = neurorep.create("rsa.correlation", {"n_bootstrap": 200, "random_state": 0}).analyze(mit, hit)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, hi = boot_noise_ceiling(rt.rdm.RDMs(hit.dissimilarities), method="spearman")
        ref = rt.rdm.compare(rt.rdm.RDMs(mit.dissimilarities), rt.rdm.RDMs(hit.dissimilarities), "spearman")
    assert res.ceiling_lower == pytest.approx(lo, abs=1e-12) and res.ceiling_upper == pytest.approx(hi, abs=1e-12)
    assert res.score == pytest.approx(ref.mean(), abs=1e-12)
    assert res.extra["per_rdm"] == pytest.approx(list(ref[0]), abs=1e-12)
    # the figures reported in the RSA work (Spearman; lower, upper bound; monkey IT vs the 4 subjects)
    assert (res.ceiling_lower, res.ceiling_upper, res.score) == pytest.approx((0.37231, 0.66572, 0.29632), abs=1e-5)
    assert res.ci_low < res.score < res.ci_high
