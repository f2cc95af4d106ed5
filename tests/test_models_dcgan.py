"""The DCGAN face generator of gan-face-generate through the platform's source: extraction equals a direct forward
of the package's generator, its images are faces (scikit-image's LBP frontal-face cascade finds a face in far more
of them than in pixel-shuffled or noise images), seeded latents have stable ids."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gan_face_generate")

from neurorep.errors import InvalidInputError  # noqa: E402
from neurorep.models import DCGANFaces, GaussianLatents, TorchSource, images_to_uint8  # noqa: E402
from neurorep.testing import parametrize_with_checks  # noqa: E402
from neurorep.types import StimulusSet  # noqa: E402


@pytest.fixture(scope="module")
def latents():
    return GaussianLatents(n_stimuli=64, seed=0).load_stimuli()


@pytest.fixture(scope="module")
def images(latents):
    rep = TorchSource(model="model.dcgan-faces", include=["image"], batch_size=32).extract(latents)["image"]
    return images_to_uint8(rep.data)


def test_extraction_equals_a_direct_forward_of_the_packages_generator(latents):
    from gan_face_generate.models import Generator

    from neurorep.models.dcgan import dcgan_weights_path

    net = Generator(ngpu=0, nc=3, nz=100, ngf=64)
    net.load_state_dict(torch.load(dcgan_weights_path(), map_location="cpu", weights_only=True)["netG_state_dict"])
    net.eval()
    stim = latents.subset(slice(0, 12))
    z = torch.from_numpy(stim.payload)[:, :, None, None]
    acts: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        x = z
        for name, layer in net.main.named_children():  # the forward, layer by layer, by hand
            x = layer(x)
            acts[f"main.{name}"] = x.clone()
    comp = DCGANFaces()
    assert comp.sites() == [f"main.{i}" for i in range(14)] + ["image"]
    flat = TorchSource(model="model.dcgan-faces", pooling="flatten", batch_size=5).extract(stim)
    for site in comp.sites():
        ref = acts["main.13" if site == "image" else site].reshape(12, -1).numpy()
        np.testing.assert_allclose(flat[site].data, ref, rtol=1e-5, atol=1e-5, err_msg=site)
    # in-place ReLU after each BatchNorm: the BatchNorm site keeps its negative values
    assert (flat["main.1"].data < 0).any() and (flat["main.2"].data >= 0).all()
    # default pooling: feature maps averaged over space, the image kept whole
    auto = TorchSource(model="model.dcgan-faces", include=["main.0", "main.9", "image"]).extract(stim)
    assert auto["main.0"].n_features == 512 and auto["main.9"].n_features == 64
    np.testing.assert_allclose(auto["main.9"].data, acts["main.9"].mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-5)
    assert auto["image"].n_features == 3 * 64 * 64 and np.abs(auto["image"].data).max() <= 1.0
    # the image of a latent does not depend on its batch (BatchNorm in eval mode; batch sizes 16 and 5
    # differ only in the float rounding of the convolutions)
    np.testing.assert_allclose(auto["image"].data, flat["image"].data, rtol=0, atol=1e-6)


def test_the_images_are_faces(images):
    """Figures (64 latents, seed 0): the cascade finds a face in 22 generated images, 0 shuffled, 0 noise images.

    With these settings on 100 latents (seed 0): 31 / 0 / 0; on 200 latents (seed 1): 63 / 0 / 0. The cascade
    is a frontal-face detector and many generated faces are turned or tilted, hence about a third.
    """
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    det = Cascade(lbp_frontal_face_cascade_filename())

    def n_with_face(arr: np.ndarray) -> int:
        return sum(len(det.detect_multi_scale(img=a, scale_factor=1.2, step_ratio=1, min_size=(24, 24),
                                              max_size=(64, 64))) > 0 for a in arr)

    rng = np.random.default_rng(1)
    shuffled = np.stack([a.reshape(-1, 3)[rng.permutation(64 * 64)].reshape(64, 64, 3) for a in images])
    noise = rng.integers(0, 256, size=images.shape).astype(np.uint8)
    gan, shuf, nois = n_with_face(images), n_with_face(shuffled), n_with_face(noise)
    assert images.shape == (64, 64, 64, 3)
    assert gan >= 12 and shuf <= 1 and nois <= 1, (gan, shuf, nois)
    # the detector itself works on a real photograph (scikit-image's astronaut, a frontal portrait)
    from skimage.data import astronaut

    assert len(det.detect_multi_scale(img=astronaut(), scale_factor=1.2, step_ratio=1, min_size=(60, 60),
                                      max_size=(300, 300))) > 0


def test_latents_have_stable_ids_and_extend():
    small = GaussianLatents(n_stimuli=3, seed=7).load_stimuli()
    big = GaussianLatents(n_stimuli=10, seed=7).load_stimuli()
    assert small.ids == ("z7-00000", "z7-00001", "z7-00002") and big.ids[:3] == small.ids
    np.testing.assert_array_equal(big.payload[:3], small.payload)  # latent i is the same in any set size
    assert big.payload.shape == (10, 100) and big.payload.dtype == np.float32
    other = GaussianLatents(n_stimuli=3, seed=8).load_stimuli()
    assert not set(other.ids) & set(small.ids) and not np.allclose(other.payload, small.payload)
    z = GaussianLatents(n_stimuli=2000, seed=0).load_stimuli().payload
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    with pytest.raises(InvalidInputError, match=r"'dataset.gaussian-latents': n_stimuli must be an int >= 1, got 0"):
        GaussianLatents(n_stimuli=0).load_stimuli()


def test_bad_latents_are_refused():
    comp = DCGANFaces()
    with pytest.raises(InvalidInputError, match=r"expected latents of shape \(n, 100\), got \(2, 50\)"):
        comp.latents_to_tensor(np.zeros((2, 50)))
    with pytest.raises(InvalidInputError, match="NaN or inf"):
        comp.latents_to_tensor(np.full((1, 100), np.nan))
    with pytest.raises(InvalidInputError, match="latent_scale must be a positive number"):
        DCGANFaces(latent_scale=0.0).latents_to_tensor(np.zeros((1, 100)))
    with pytest.raises(InvalidInputError, match="takes other stimuli"):
        TorchSource(model=comp).extract(StimulusSet(("t",), modality="text", payload=["hello"]))
    # latent_scale multiplies the latents before the generator
    z = np.ones((1, 100), np.float32)
    assert float(DCGANFaces(latent_scale=0.5).latents_to_tensor(z).sum()) == 50.0


def test_images_to_uint8_round_trip():
    x = np.array([-1.0, 0.0, 1.0], np.float32)
    img = np.broadcast_to(x[None, :, None, None], (1, 3, 2, 2))
    out = images_to_uint8(img)
    assert out.shape == (1, 2, 2, 3) and out[0, 0, 0].tolist() == [0, 128, 255]
    np.testing.assert_array_equal(images_to_uint8(img.reshape(1, -1)), out)
    with pytest.raises(InvalidInputError, match="not 3 x H x H"):
        images_to_uint8(np.zeros((1, 10)))


RECIPE = """
[recipe]
name = "faces"
[stimuli.z]
component = "dataset.gaussian-latents"
params = { n_stimuli = 24, seed = 3 }
[sources.gan]
component = "source.torch"
params = { model = "model.dcgan-faces", batch_size = 8 }
stimuli = "z"
[[analyses]]
name = "cka"
component = "cka.linear"
inputs = ["gan:main.2", "gan:image"]
"""


def test_recipe_streams_every_site_into_the_store(tmp_path):
    runner = pytest.importorskip("neurorep.runner")
    from neurorep.recipes import plan_file
    from neurorep.store import RepresentationStore

    recipe = tmp_path / "faces.toml"
    recipe.write_text(RECIPE)
    plan = plan_file(recipe)
    task = next(t for t in plan.tasks if t.kind == "source")
    assert list(task.sites) == DCGANFaces().sites()
    summary = runner.run_recipe(recipe, tmp_path / "out", progress=False)
    assert summary["n_failed"] == 0, summary
    store = RepresentationStore(tmp_path / "out" / "store")
    stim = GaussianLatents(n_stimuli=24, seed=3).load_stimuli()
    direct = TorchSource(model="model.dcgan-faces", include=["main.5", "image"], batch_size=24).extract(stim)
    for site, rep in direct.items():
        stored = store.read(task.key, site)
        assert stored.stimulus_ids == stim.ids
        np.testing.assert_allclose(stored.data, rep.data, rtol=1e-5, atol=1e-6, err_msg=site)
    state = tmp_path / "out" / "store" / task.key / "state"
    assert len(list(state.glob("batch-*.json"))) == 3 and not list(state.glob("rows-*.bin"))  # rows now in zarr


def test_a_crash_while_the_rows_are_copied_into_the_arrays_is_repaired_on_resume(tmp_path, monkeypatch):
    """Batches go to rows files first; the copy into zarr happens once, at the end. A crash in that copy leaves
    the task incomplete with every batch committed: the resumed run recomputes nothing and finishes the copy."""
    runner = pytest.importorskip("neurorep.runner")
    import neurorep.store as store_mod
    from neurorep.recipes import plan_file
    from neurorep.store import RepresentationStore

    recipe = tmp_path / "faces.toml"
    recipe.write_text(RECIPE)
    task = next(t for t in plan_file(recipe).tasks if t.kind == "source")
    real = store_mod._write_rows_concurrently

    def crash(writes):
        real(writes[:3])  # some chunks land, then the process "dies"
        raise KeyboardInterrupt("simulated kill during the copy")

    monkeypatch.setattr(store_mod, "_write_rows_concurrently", crash)
    with pytest.raises(KeyboardInterrupt):
        runner.execute_task(task, runner.RunContext(out_dir=str(tmp_path / "out"), stimuli=_stimuli_spec()))
    state = tmp_path / "out" / "store" / task.key / "state"
    assert not (state / "complete.json").exists() and len(list(state.glob("rows-*.bin"))) == 3
    monkeypatch.setattr(store_mod, "_write_rows_concurrently", real)
    calls = []
    real_extract = TorchSource.extract_batch
    monkeypatch.setattr(TorchSource, "extract_batch", lambda self, *a: calls.append(1) or real_extract(self, *a))
    res = runner.execute_task(task, runner.RunContext(out_dir=str(tmp_path / "out"), stimuli=_stimuli_spec()))
    assert res["status"] == "ok" and res["n_new"] == 0 and calls == []  # nothing recomputed
    stim = GaussianLatents(n_stimuli=24, seed=3).load_stimuli()
    direct = TorchSource(model="model.dcgan-faces", batch_size=8).extract(stim)
    stored = RepresentationStore(tmp_path / "out" / "store")
    for site, rep in direct.items():
        np.testing.assert_allclose(stored.read(task.key, site).data, rep.data, rtol=1e-5, atol=1e-6, err_msg=site)


def _stimuli_spec() -> dict:
    from neurorep.plugins import get_registry

    info = get_registry().get("dataset.gaussian-latents")
    return {"z": {"component_id": info.id, "component_ref": info.ref, "kind": "dataset",
                  "params": {"n_stimuli": 24, "seed": 3}}}


@parametrize_with_checks([DCGANFaces(), DCGANFaces(latent_scale=0.7), GaussianLatents(),
                          GaussianLatents(n_stimuli=5, n_dims=3, seed=2)])
def test_dcgan_component_conformance(component, check):
    check(component)
