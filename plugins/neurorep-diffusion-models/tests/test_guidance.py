"""Readout guidance: exact identities of the guided step and the readout definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neurorep_diffusion_models.guidance import JudgeReadout, readout_guided_eps
from neurorep_diffusion_models.judge import Judge, JudgeCNN


@pytest.fixture(scope="module")
def judge() -> Judge:
    torch.manual_seed(0)
    return Judge(JudgeCNN())


def test_guided_step_moves_predicted_image_along_normalised_gradient():
    torch.manual_seed(1)
    x_t, eps = torch.randn(3, 1, 28, 28), torch.randn(3, 1, 28, 28)
    a = torch.tensor(0.6)
    w = torch.randn(1, 28, 28)

    def readout(x):  # linear in the image: its gradient is w wherever |x0| < 1
        return (x * w).flatten(1).sum(1)

    x_t = x_t * 0.1  # keep the predicted clean image inside [-1, 1] so the clamp passes the gradient
    eps = eps * 0.1
    torch.testing.assert_close(readout_guided_eps(x_t, eps, a, readout, 0.0), eps, rtol=1e-5, atol=1e-5)
    s = 0.05
    e2 = readout_guided_eps(x_t, eps, a, readout, s)
    x0 = (x_t - (1 - a).sqrt() * eps) / a.sqrt()
    x0g = (x_t - (1 - a).sqrt() * e2) / a.sqrt()
    g = w / w.pow(2).mean().sqrt()
    torch.testing.assert_close(x0g - x0, s * g.expand_as(x0), rtol=1e-4, atol=1e-5)


def test_readouts_are_linear_in_judge_features(judge):
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    feats = judge.features(x.numpy())
    r = JudgeReadout.random(judge, seed=0)
    w = np.random.default_rng(0).standard_normal(128) / np.sqrt(128)
    np.testing.assert_allclose(r.score(x), feats @ w, rtol=1e-5, atol=1e-5)
    c = JudgeReadout.class_logit(judge, 4)
    np.testing.assert_allclose(c.score(x), judge.logits(x.numpy())[:, 4], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="128"):
        JudgeReadout(judge, np.ones(5))
    with pytest.raises(ValueError, match="0..9"):
        JudgeReadout.class_logit(judge, 10)
