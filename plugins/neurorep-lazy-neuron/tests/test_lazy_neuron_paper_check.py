"""The paper's check at toy scale: in a tiny ReLU vision transformer trained on sklearn digits, the MLP activation
map's non-zero fraction falls well below the ~50% of initialisation, with true and with random labels, and the
last block's map is sparser with a wider MLP.

Setting (one CPU thread, a few seconds per run): 384 digits, 8 x 8 images cut into four 4 x 4 patches (4 tokens),
d_model 16, 2 pre-LayerNorm blocks with ReLU MLPs, AdamW (lr 1e-2, weight decay 0.1), batch 32, 20 epochs.
Measured over seeds 0 / 1 / 2 (mean of the two layers, every token of every training image):

* MLP width 32, true labels: initialisation 0.564 / 0.515 / 0.531 -> 0.372 / 0.328 / 0.322 (100% train accuracy);
* MLP width 16, random labels: 0.49 / 0.63 / 0.54 -> 0.285 / 0.389 / 0.319 (18-24% train accuracy: memorising);
* last block, width 32 -> 512: 0.384 -> 0.304, 0.323 -> 0.291, 0.312 -> 0.286 (the first block does not follow:
  0.36 -> 0.39, 0.33 -> 0.40, 0.33 -> 0.41; examples/width_sweep.py shows the effect at a larger scale).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurorep import Representation  # noqa: E402

from neurorep_lazy_neuron import NonzeroSparsity, collect_activations  # noqa: E402
from neurorep_lazy_neuron.train import build_transformer, digits_data, train_classifier, transformer_sites  # noqa: E402

N, EPOCHS, SEED = 384, 20, 0
CONFIG = dict(patch=4, d_model=16, n_layers=2, n_heads=4)
TRAIN = dict(epochs=EPOCHS, lr=1e-2, weight_decay=0.1, batch_size=32, random_state=SEED)


def _run(random_labels: bool, d_mlp: int = 16):
    X, y = digits_data(random_labels=random_labels, random_state=SEED)
    X, y = X[:N], y[:N]
    net = build_transformer(d_mlp=d_mlp, random_state=SEED, **CONFIG)
    sites = transformer_sites(2)
    record = train_classifier(net, X, y, sites, **TRAIN)
    return net, X, record, sites


@pytest.fixture(scope="module")
def true_labels():
    return _run(False, d_mlp=32)


def test_trained_relu_transformer_mlp_is_sparser_than_at_initialisation(true_labels):
    net, X, record, sites = true_labels
    init = np.mean([record.nonzero[s][0] for s in sites])
    final = np.mean([record.nonzero[s][-1] for s in sites])
    assert record.train_accuracy[-1] > 0.95
    assert 0.4 < init < 0.7          # ReLU of a zero-centred pre-activation: about half the units are on
    assert final < 0.42 and init - final > 0.1
    # the analyzer, on the recorded activations (tokens as inputs), gives the training record's figure
    with torch.no_grad():
        acts, _ = collect_activations(net, sites, lambda m: m(torch.as_tensor(X)))
    for s in sites:
        a = acts[s].reshape(-1, acts[s].shape[-1]).numpy().astype(float)
        rep = Representation(a, tuple(f"t{i}" for i in range(a.shape[0])))
        assert NonzeroSparsity().analyze(rep)[0].score == pytest.approx(record.nonzero[s][-1], abs=1e-9)


def test_sparsity_also_emerges_with_random_labels():
    _, _, record, sites = _run(True, d_mlp=16)
    init = np.mean([record.nonzero[s][0] for s in sites])
    final = np.mean([record.nonzero[s][-1] for s in sites])
    assert record.train_accuracy[-1] < 0.5   # no generalisable signal: the network can only memorise
    assert final < 0.42 and init - final > 0.1


def test_a_wider_mlp_gives_a_sparser_last_block(true_labels):
    _, _, narrow, sites = true_labels
    _, _, wide, _ = _run(False, d_mlp=512)
    last = sites[-1]
    assert wide.train_accuracy[-1] > 0.95
    assert wide.nonzero[last][-1] < narrow.nonzero[last][-1] - 0.03    # measured 0.304 vs 0.384 (seed 0)
