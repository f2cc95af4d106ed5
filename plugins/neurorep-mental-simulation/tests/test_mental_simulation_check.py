"""The paper's check at toy scale: planted neurons track an occluded ball's latent dynamics.

A predictor that rolls out the (learned) latent dynamics must be more predictive of held-out neural
time series than a pixel-space next-frame predictor and a static first-frame encoder, and the
noise-ceiling-normalised scores must stay <= 1 within their bootstrap CI.
"""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation

from neurorep_mental_simulation import DynamicPredictivity
from neurorep_mental_simulation.scenes import (
    BallWorld,
    LatentRollout,
    PixelRollout,
    StaticEncoder,
    dynamics_matrix,
    planted_neurons,
)

N_SCENES = 96


@pytest.fixture(scope="module")
def world():
    w = BallWorld(n_time=10, n_visible=3, size=12)
    s_train, f_train, _ = w.sample(200, random_state=1)
    s, _, seen = w.sample(N_SCENES, random_state=2)
    reps, signal = planted_neurons(s, n_units=20, n_repeats=4, noise=0.6, random_state=3)
    ids = [f"scene-{i:03d}" for i in range(N_SCENES)]
    latent = LatentRollout(w.n_visible).fit(f_train, s_train)
    states = {
        "truth": s,
        "latent": latent.states(seen),
        "pixel": PixelRollout(w.n_visible).fit(f_train).states(seen),
        "static": StaticEncoder().states(seen),
    }
    neural = Representation(reps.mean(0), ids, repeats=reps, name="planted-neurons")
    an = DynamicPredictivity(n_time=w.n_time, n_splits=4, n_bootstrap=100, random_state=0)
    results = {k: an.analyze(Representation(v.reshape(N_SCENES, -1), ids, name=k), neural)[0]
               for k, v in states.items()}
    return w, latent, states, s, results


def test_latent_rollout_learns_the_dynamics(world):
    w, latent, states, s, _ = world
    np.testing.assert_allclose(latent.A_, dynamics_matrix(w.stiffness), atol=1e-8)
    # behind the occluder the rollout tracks the true state (the read-out of position is near exact)
    assert np.abs(states["latent"] - s).max() < 0.02


def test_latent_rollout_beats_pixel_and_static(world):
    *_, res = world
    lat, pix, sta = res["latent"], res["pixel"], res["static"]
    assert lat.score > pix.score > sta.score
    # separated beyond the bootstrap intervals over stimuli
    assert lat.ci_low > pix.ci_high
    assert lat.ci_low > sta.ci_high
    # behind the occluder (t >= n_visible) the rollout wins at every time bin
    v = 3
    for t in range(v, 10):
        assert lat.extra["score_per_time"][t] > pix.extra["score_per_time"][t]
        assert lat.extra["score_per_time"][t] > sta.extra["score_per_time"][t]


def test_normalised_scores_at_most_one(world):
    *_, res = world
    for r in res.values():
        assert r.metric == "normalized_pearson"
        assert r.ci_low <= 1.0
        assert np.isfinite(r.score) and r.ci_low <= r.ci_high
    # the true latent trajectory (the noiseless generator up to a linear map) reaches the ceiling
    assert 0.9 <= res["truth"].score <= 1.02
