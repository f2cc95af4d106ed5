"""DemoVAE on REAL functional connectivity: sliding-window FC of nitime's resting-state ROI series.

No multi-subject cohort with demographics is available offline (the paper's PNC and BSNIP are
access-controlled), so the "subjects" are 231 overlapping 20-volume windows of the 28 grey-matter ROI
series of dataset.nitime-fmri (378 edges, real FC variability) and the covariate is PLANTED: each window gets
a random standardised "age" and a +-0.3 Fisher-z effect per unit of it on a random 10 % of the edges
(about 0.85 SD of the real window-to-window variability of an edge). Training uses the first 70 % of the
windows; held-out are the last windows after a gap of one window length (no overlap with training).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurorep_demovae import DemoVAE, sliding_window_fc

pytest.importorskip("neurorep_datasets")
WINDOW, EFFECT = 20, 0.3


def max_abs_corr(Z, v):
    return float(max(abs(np.corrcoef(Z[:, k], v)[0, 1]) for k in range(Z.shape[1])))


@pytest.fixture(scope="module")
def windows():
    from neurorep_datasets import NitimeFMRI

    rep = NitimeFMRI(standardize=True).load("roi-timeseries")
    keep = [i for i, n in enumerate(rep.channel_descriptors["roi"]) if str(n) not in ("WM", "Vent", "Brain")]
    fc = sliding_window_fc(rep.data[:, keep], WINDOW, 1)
    rng = np.random.default_rng(0)
    n, p = fc.shape
    cov = rng.uniform(-1.7, 1.7, n)
    planted = np.zeros(p, bool)
    planted[rng.permutation(p)[:p // 10]] = True
    effect = np.where(planted, np.where(rng.random(p) < 0.5, 1.0, -1.0) * EFFECT, 0.0)
    return fc + cov[:, None] * effect, cov, effect, planted


def test_demovae_on_real_sliding_window_fc(windows):
    X, cov, effect, planted = windows
    assert X.shape == (231, 378)
    n_train = int(0.7 * len(X))
    train, test = slice(0, n_train), slice(n_train + WINDOW, len(X))
    raw = max_abs_corr(X[train][:, planted], cov[train])
    est = DemoVAE(latent_dim=4, hidden=64, epochs=150, batch_size=64, random_state=0).fit(X[train], cov[train])
    r_train = max_abs_corr(est.transform(X[train]), cov[train])
    r_test = max_abs_corr(est.transform(X[test]), cov[test])
    Z = np.random.default_rng(0).standard_normal((2000, 4))
    diff = (est.inverse_transform(Z, [1.0]) - est.inverse_transform(Z, [-1.0])).mean(0) / 2.0
    r_map = float(np.corrcoef(diff, effect)[0, 1])
    slope = float(np.polyfit(effect, diff, 1)[0])
    off_on = float(np.abs(diff[~planted]).mean() / np.abs(diff[planted]).mean())
    print(f"nitime windows: raw FC max|r| with the covariate {raw:.3f}; DemoVAE latents max|r| train {r_train:.3f}, "
          f"held-out ({len(X) - n_train - WINDOW}) {r_test:.3f}; decoded vs planted map r = {r_map:.3f}, "
          f"slope {slope:.3f}, off/on {off_on:.3f}")
    assert raw > 0.5
    assert r_train < 0.1
    assert r_test < 0.35          # 50 held-out windows: the null max over 4 latents is about 0.2
    assert r_map > 0.8
    assert 0.6 < slope < 1.4
    assert off_on < 0.25
