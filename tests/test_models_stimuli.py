"""Stimulus sets: sentence lists from TOML/CSV (dataset.sentences) and the scikit-image/scikit-learn sample
images (dataset.skimage-samples), with stable ids; their use in recipes."""

from __future__ import annotations

import numpy as np
import pytest

from neurorep.errors import InvalidInputError
from neurorep.models import SentenceDataset, SkimageSamples
from neurorep.models.stimuli import sentence_ids
from neurorep.testing import parametrize_with_checks


def test_sentence_ids_are_one_based_and_padded():
    assert sentence_ids(3) == ("sent-0001", "sent-0002", "sent-0003")
    assert sentence_ids(12000)[-1] == "sent-12000" and sentence_ids(12000)[0] == "sent-00001"


def test_toml_list_of_strings(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('sentences = ["The cat sat.", "Dogs bark loudly.", "It rained all day."]\n')
    stim = SentenceDataset(str(p)).load_stimuli()
    assert stim.modality == "text" and stim.ids == ("sent-0001", "sent-0002", "sent-0003")
    assert stim.payload == ["The cat sat.", "Dogs bark loudly.", "It rained all day."]
    assert SentenceDataset(str(p)).load_stimuli().fingerprint() == stim.fingerprint()  # stable


def test_toml_tables_with_ids_and_descriptors(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[[sentences]]\nid = "anim-1"\ntext = "The cat sat."\ncategory = "animal"\n\n'
                 '[[sentences]]\nid = "veh-1"\ntext = "A car passed."\ncategory = "vehicle"\n')
    stim = SentenceDataset(str(p)).load_stimuli()
    assert stim.ids == ("anim-1", "veh-1")
    assert list(stim.descriptors["category"]) == ["animal", "vehicle"]
    p.write_text('[[sentences]]\nid = "a"\ntext = "One."\n\n[[sentences]]\ntext = "Two."\n')
    with pytest.raises(InvalidInputError, match=r"some \(e.g. sentences\[1\]\) do not; give all or none"):
        SentenceDataset(str(p)).load_stimuli()


def test_csv_with_and_without_ids(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text('id,sentence,condition\ns-b,"Hello, world.",greeting\ns-a,Goodbye.,farewell\n')
    stim = SentenceDataset(str(p)).load_stimuli()
    assert stim.ids == ("s-b", "s-a") and stim.payload == ["Hello, world.", "Goodbye."]
    assert list(stim.descriptors["condition"]) == ["greeting", "farewell"]
    q = tmp_path / "t.csv"
    q.write_text("words\nfirst one\nsecond one\n")
    stim = SentenceDataset(str(q), column="words").load_stimuli()
    assert stim.ids == ("sent-0001", "sent-0002") and stim.name == "t"


def test_sentence_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="expected a sentence file at .*found none"):
        SentenceDataset(str(tmp_path / "missing.csv")).load_stimuli()
    p = tmp_path / "s.csv"
    p.write_text("phrase\nhello\n")
    with pytest.raises(InvalidInputError, match=r"has no column 'text' or 'sentence'; its columns are \['phrase'\]"):
        SentenceDataset(str(p)).load_stimuli()
    p.write_text("text,kind\nYes, it did.,answer\n")
    with pytest.raises(InvalidInputError, match=r"row 2 of .* has 3 fields but the header has 2 .*quote texts"):
        SentenceDataset(str(p)).load_stimuli()
    p.write_text("text\nhello\nhello\n")
    assert SentenceDataset(str(p)).load_stimuli().ids == ("sent-0001", "sent-0002")  # duplicate texts are fine
    p.write_text("id,text\na,hello\na,bye\n")
    with pytest.raises(InvalidInputError, match="stimulus ids must be unique"):
        SentenceDataset(str(p)).load_stimuli()
    p.write_text("text\nhello\n\"  \"\n")
    with pytest.raises(InvalidInputError, match="sentence 1 of .* is empty"):
        SentenceDataset(str(p)).load_stimuli()
    t = tmp_path / "bad.toml"
    t.write_text("sentences = [\n")
    with pytest.raises(InvalidInputError, match="is not valid TOML"):
        SentenceDataset(str(t)).load_stimuli()
    t.write_text('words = ["a"]\n')
    with pytest.raises(InvalidInputError, match=r"needs a non-empty array 'sentences'.*\['words'\]"):
        SentenceDataset(str(t)).load_stimuli()
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="neither .toml nor .csv"):
        SentenceDataset(str(tmp_path / "x.json")).load_stimuli()


def test_skimage_samples_ids_and_images():
    pytest.importorskip("skimage")
    ds = SkimageSamples(names=["skimage-camera", "skimage-chelsea", "skimage-logo", "skimage-horse"])
    stim = ds.load_stimuli()
    assert stim.ids == ("skimage-camera", "skimage-chelsea", "skimage-logo", "skimage-horse")
    assert all(a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 for a in stim.payload)
    import skimage.data

    cam = skimage.data.camera()
    np.testing.assert_array_equal(stim.payload[0], np.repeat(cam[:, :, None], 3, axis=2))  # grey -> RGB
    np.testing.assert_array_equal(stim.payload[1], skimage.data.chelsea())
    np.testing.assert_array_equal(stim.payload[2], skimage.data.logo()[:, :, :3])  # alpha dropped
    assert set(np.unique(stim.payload[3])) == {0, 255}  # binary -> 0/255
    assert list(stim.descriptors["grayscale"]) == [True, False, False, True]
    assert list(stim.descriptors["height"]) == [cam.shape[0], 300, 500, 328]
    raw = SkimageSamples(names=["skimage-horse"], rgb=False).load_stimuli()
    assert raw.payload[0].dtype == bool


def test_skimage_samples_default_set_and_errors():
    pytest.importorskip("skimage")
    pytest.importorskip("sklearn")
    assert SkimageSamples.ALL[0] == "skimage-astronaut" and SkimageSamples.ALL[-2:] == ("sklearn-china",
                                                                                         "sklearn-flower")
    china = SkimageSamples(names=["sklearn-china"]).load_stimuli()
    assert china.payload[0].shape == (427, 640, 3)
    with pytest.raises(InvalidInputError, match=r"unknown image id\(s\) \['skimage-chelse'\] \(did you mean "
                                                r"'skimage-chelsea'\?\)"):
        SkimageSamples(names=["skimage-chelse"]).load_stimuli()
    with pytest.raises(InvalidInputError, match=r"names must be a list.*names = \['skimage-moon'\]"):
        SkimageSamples(names="skimage-moon").load_stimuli()


def test_recipe_with_sentence_stimuli_validates_and_plans(tmp_path):
    from neurorep.recipes import plan_text, validate_text

    p = tmp_path / "s.csv"
    p.write_text("text\nThe cat sat.\nA dog ran.\nBirds sing.\n")
    text = f"""
[recipe]
name = "lm"

[stimuli.sents]
component = "dataset.sentences"
params = {{ path = "{p}" }}

[sources.lm]
component = "source.torch"
params = {{ model = "model.smollm2-135m", batch_size = 8 }}
stimuli = "sents"
sites = ["blocks.*.hook_resid_post"]

[[analyses]]
name = "rsa"
component = "rsa.correlation"
inputs = ["lm"]
pairing = "within"
"""
    assert validate_text(text) == []
    plan = plan_text(text)
    src = next(t for t in plan.tasks if t.kind == "source")
    assert list(src.sites) == [f"blocks.{i}.hook_resid_post" for i in range(30)]
    bad = text.replace('sites = ["blocks.*.hook_resid_post"]', 'sites = ["layers.*"]')
    issues = validate_text(bad)
    assert any("layers.*" in str(i) for i in issues)


@parametrize_with_checks([SentenceDataset, SkimageSamples(), SkimageSamples(names=["skimage-moon"], rgb=False)])
def test_stimulus_dataset_conformance(component, check):
    check(component)
