"""Component declarations, parameter models, built-in analyzers against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.spatial.distance import pdist
from scipy.stats import pearsonr, spearmanr

from neurorep import Analyzer, Tags, create
from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.builtin.similarity import LinearCKA
from neurorep.components import validate_component_class
from neurorep.errors import ComponentDeclarationError, InvalidInputError
from neurorep.types import RDMs, Representation, Result


def test_param_model_from_signature_forbids_extra():
    m = CorrelationRSA.param_model()
    assert m.model_validate({"comparison": "pearson"}).comparison == "pearson"
    with pytest.raises(ValidationError):
        m.model_validate({"comparison": "kendall"})
    with pytest.raises(ValidationError):
        m.model_validate({"comparsion": "pearson"})
    c = CorrelationRSA.from_params({"comparison": "pearson"})
    assert c.get_params() == {**CorrelationRSA().get_params(), "comparison": "pearson"}
    assert c.clone().get_params() == c.get_params() and c.clone() is not c
    with pytest.raises(InvalidInputError, match="get_params"):
        c.set_params(bogus=1)


@pytest.mark.parametrize("attrs, needle", [
    ({"id": "NoGood"}, "lowercase"),
    ({"version": "v one"}, "version"),
    ({"tags": Tags(invariances=("rotation",))}, "unknown invariance"),
    ({"tags": Tags(stochastic=True)}, "random_state"),
])
def test_declaration_errors(attrs, needle):
    base = {"id": "toy.x", "version": "1.0", "analyze": lambda self, x, y=None: []}
    cls = type("X", (Analyzer,), {**base, **attrs})
    with pytest.raises(ComponentDeclarationError, match=needle):
        validate_component_class(cls)


def test_varargs_init_rejected():
    class V(Analyzer):
        id = "toy.v"

        def __init__(self, **kw):
            self.kw = kw

        def analyze(self, x, y=None):
            return []

    with pytest.raises(ComponentDeclarationError, match="no \\*args/\\*\\*kwargs"):
        validate_component_class(V)


def test_linear_cka_closed_form(rng):
    X = rng.normal(size=(30, 8))
    Y = X @ rng.normal(size=(8, 5)) + 0.5 * rng.normal(size=(30, 5))
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    expected = np.linalg.norm(Xc.T @ Yc) ** 2 / (np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc))
    ids = [f"s{i}" for i in range(30)]
    got = LinearCKA().analyze(Representation(X, ids), Representation(Y, ids))[0].score
    assert got == pytest.approx(expected, rel=1e-12)
    # Gram path (features > stimuli) gives the same number
    W = rng.normal(size=(30, 100))
    Wc = W - W.mean(0)
    e2 = np.linalg.norm(Xc.T @ Wc) ** 2 / (np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Wc.T @ Wc))
    assert LinearCKA().analyze(Representation(X, ids), Representation(W, ids))[0].score == pytest.approx(e2, rel=1e-10)


def test_correlation_rsa_matches_scipy(rng):
    X, Y = rng.normal(size=(12, 6)), rng.normal(size=(12, 9))
    ids = [f"s{i}" for i in range(12)]
    dx, dy = pdist(X, "correlation"), pdist(Y, "correlation")
    x, y = Representation(X, ids), Representation(Y, ids)
    assert create("rsa.correlation").analyze(x, y)[0].score == pytest.approx(spearmanr(dx, dy)[0], abs=1e-12)
    assert create("rsa.correlation", {"comparison": "pearson"}).analyze(x, y)[0].score == pytest.approx(
        pearsonr(dx, dy)[0], abs=1e-12)
    # several subject RDMs: mean, with per-RDM values
    Z = rng.normal(size=(12, 4))
    subj = RDMs(np.stack([dy, pdist(Z, "correlation")]), ids)
    res = CorrelationRSA().analyze(x, subj)[0]
    per = [spearmanr(dx, dy)[0], spearmanr(dx, pdist(Z, "correlation"))[0]]
    assert res.extra["per_rdm"] == pytest.approx(per, abs=1e-12) and res.score == pytest.approx(np.mean(per))


def test_analyzers_refuse_bad_input(rng):
    ids = [f"s{i}" for i in range(5)]
    x = Representation(rng.normal(size=(5, 3)), ids)
    bad = rng.normal(size=(5, 3))
    bad[0, 0] = np.inf
    with pytest.raises(InvalidInputError, match="NaN/inf"):
        LinearCKA().analyze(x, Representation(bad, ids))
    with pytest.raises(InvalidInputError, match="constant"):
        LinearCKA().analyze(x, Representation(np.ones((5, 2)), ids))
    with pytest.raises(InvalidInputError, match="'comparison' must be one of"):
        CorrelationRSA(comparison="kendal").analyze(x, x)


def test_synthetic_source_streams_like_load():
    s = create("source.synthetic", {"n_stimuli": 23, "batch_size": 5})
    full = s.load("layer1")
    parts = [s.extract_batch(None, b, ["layer1"])["layer1"] for b in s.batches(None)]
    np.testing.assert_array_equal(np.concatenate(parts), full.data)
    assert len(full.stimulus_ids) == 23
    with pytest.raises(InvalidInputError, match="unknown site"):
        s.load("layer9")


def test_npz_source(tmp_path, rng):
    p = tmp_path / "acts.npz"
    np.savez(p, stimulus_ids=np.array(["a", "b", "c"]), conv1=rng.normal(size=(3, 4)),
             conv1__repeats=rng.normal(size=(2, 3, 4)), fc=rng.normal(size=(3, 2)))
    s = create("source.npz", {"path": str(p)})
    assert s.sites() == ["conv1", "fc"]
    r = s.load("conv1")
    assert r.repeats.shape == (2, 3, 4) and r.stimulus_ids == ("a", "b", "c")
    with pytest.raises(InvalidInputError, match="no 'stimulus_ids'"):
        np.savez(tmp_path / "bad.npz", x=np.zeros((2, 2)))
        create("source.npz", {"path": str(tmp_path / "bad.npz")}).sites()
    assert isinstance(Result(score=1.0), Result)
