"""decoding.correlation: planted classes, chance, the Haxby figure, conformance."""

from __future__ import annotations

import numpy as np
import pytest

from neurorep import create
from neurorep.builtin.decoding import CorrelationDecoder, loro_correlation_predictions
from neurorep.errors import InvalidInputError
from neurorep.testing import parametrize_with_checks
from neurorep.types import Representation


def planted(signal: float, n_runs=6, n_cond=5, n_feat=40, seed=0):
    rng = np.random.default_rng(seed)
    proto = rng.standard_normal((n_cond, n_feat))
    reps = signal * proto[None] + rng.standard_normal((n_runs, n_cond, n_feat))
    return Representation(reps.mean(0), [f"c{i}" for i in range(n_cond)], repeats=reps, name="planted")


def test_loro_predictions_match_a_loop():
    r = planted(0.5).repeats
    pred, _ = loro_correlation_predictions(r)
    for k in range(r.shape[0]):
        train = np.delete(r, k, axis=0).mean(0)
        c = np.corrcoef(r[k], train)[: r.shape[1], r.shape[1]:]
        np.testing.assert_array_equal(pred[k], c.argmax(1))


def test_planted_signal_decoded_and_noise_at_chance():
    strong = CorrelationDecoder(n_permutations=500).analyze(planted(2.0))[0]
    assert strong.score == 1.0 and strong.p_value < 0.01 and strong.ci_low > 0.8
    accs = [CorrelationDecoder(n_permutations=200, random_state=s).analyze(planted(0.0, seed=s))[0]
            for s in range(30)]
    assert abs(np.mean([a.score for a in accs]) - 0.2) < 0.05  # chance = 1/5
    # permutation p-values under the null are not piled up near zero
    assert np.mean([a.p_value < 0.05 for a in accs]) < 0.2


def test_errors_name_the_component():
    with pytest.raises(InvalidInputError, match="decoding.correlation.*at least 2 repeats"):
        CorrelationDecoder().analyze(Representation(np.zeros((3, 2)), list("abc")))
    with pytest.raises(InvalidInputError, match="takes one input"):
        CorrelationDecoder().analyze(planted(1.0), planted(1.0))


def test_haxby_slice_figure():
    ds = create("dataset.haxby2001")
    try:
        rep = ds.load("slice")
    except Exception as exc:  # mirror absent: say so
        pytest.skip(f"Haxby data not available: {exc}")
    res = create("decoding.correlation", {"n_permutations": 200}).analyze(rep)[0]
    assert res.extra["n_conditions"] == 8 and res.n == 96
    assert res.score > 0.40 and res.p_value < 0.01  # chance 12.5%; SOURCES.md reports ~51%


@parametrize_with_checks([CorrelationDecoder(n_permutations=50)])
def test_conformance(component, check):
    check(component)
