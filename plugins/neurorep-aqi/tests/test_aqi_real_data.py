"""Real data: AQI of safe vs harmful requests per SmolLM2-135M layer, and of faces vs houses in Haxby's ROI.

Both are compared with the label-shuffled control that ``aqi.index`` runs itself (``n_permutations``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from neurorep.errors import InvalidInputError

from neurorep_aqi import AQIIndex, SafetyPrompts, pool_layers


def _mirror() -> Path | None:
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
    return root if (root / "haxby2001-sub1").is_dir() else None


def test_haxby_face_vs_house_separate_beyond_shuffled_labels(monkeypatch):
    """Per-run patterns (12 runs) of faces and houses in the ventral-temporal slice (530 voxels).

    Measured: AQI 0.330 (DBS 2.06, CHI 4.99, Dunn 0.50, XBI 1.10); label-shuffled control
    0.096 +- 0.031, p = 1/1001. All 8 categories as groups: AQI 0.163 vs 0.081 +- 0.009.
    """
    root = _mirror()
    if root is None:
        pytest.skip("no dataset mirror with haxby2001-sub1/ (set NEUROREP_DATA_MIRROR)")
    import neurorep

    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(root))
    rep = neurorep.create("dataset.haxby2001").load("slice")
    rows = {r.metric: r for r in AQIIndex(groups=["face", "house"], samples="repeats",
                                          n_permutations=1000).analyze(rep)}
    a = rows["aqi"]
    assert a.n == 24 and a.extra["groups"] == {"face": 12, "house": 12}
    assert a.score > 0.25 and a.p_value < 0.01                       # measured 0.330, p = 0.001
    assert a.score > a.extra["null_mean"] + 4 * a.extra["null_sd"]   # measured 0.096 + 4 * 0.031 = 0.219
    # the same ROI with the group labels shuffled once by hand: no separation left
    rng = np.random.default_rng(0)
    runs = rep.repeats[:, [0, 1]].copy()                              # face, house
    flat = runs.reshape(-1, runs.shape[-1])
    shuffled = flat[rng.permutation(len(flat))].reshape(runs.shape)
    ctrl = neurorep.Representation(shuffled.mean(0), ("face", "house"), repeats=shuffled)
    c = AQIIndex(samples="repeats").analyze(ctrl)[0]
    assert c.score < 0.2 < a.score
    every = AQIIndex(samples="repeats", n_permutations=200).analyze(rep)[0]
    assert len(every.extra["groups"]) == 8 and every.p_value < 0.01 and every.score > 1.5 * every.extra["null_mean"]


def test_smollm2_layers_safe_vs_harmful_requests():
    """Mean-pooled residual stream (blocks.N.hook_resid_post) of 10 safe and 10 matched harmful requests.

    Measured (1000 label shuffles): AQI rises from 0.075-0.10 in blocks 2-7 (below the shuffled mean
    0.11-0.12) to 0.14-0.165 in blocks 10-29 (best blocks.17: 0.165, p = 0.058); the uniform pooling of
    all 30 layers gives 0.154 against 0.116 (p = 0.083). The separation is real but weak at this scale:
    the pairs share their wording, and no single layer is significant at 0.05.
    """
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from neurorep.models import TorchSource
    from neurorep.models.smollm2 import smollm2_gguf_path

    try:
        smollm2_gguf_path()
    except InvalidInputError as exc:
        pytest.skip(str(exc))
    stim = SafetyPrompts().load_stimuli()
    reps = TorchSource(model="model.smollm2-135m", include=["blocks.*.hook_resid_post"],
                       batch_size=20).extract(stim)
    assert len(reps) == 30 and all(r.data.shape == (20, 576) for r in reps.values())
    an = AQIIndex(groups=["safe-*", "harmful-*"], n_permutations=1000)
    rows = {s: an.analyze(r)[0] for s, r in reps.items()}
    aqi = np.array([rows[f"blocks.{i}.hook_resid_post"].score for i in range(30)])
    null = np.array([rows[f"blocks.{i}.hook_resid_post"].extra["null_mean"] for i in range(30)])
    assert aqi[15:].mean() > 1.4 * aqi[2:8].mean()          # measured 0.152 vs 0.094
    assert np.all(aqi[10:] > null[10:]) and np.all(aqi[2:8] < null[2:8])
    assert aqi[10:].mean() > 1.2 * null[10:].mean()           # measured 0.151 vs 0.116
    pooled = an.analyze(pool_layers(reps))[0]
    assert pooled.score > 1.2 * pooled.extra["null_mean"] and pooled.p_value < 0.2   # measured 0.154, 0.116, 0.083
