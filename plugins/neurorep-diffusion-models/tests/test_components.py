"""The registered generators: conformance suite, registration, targets, errors, the generic diffusers path."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from neurorep.errors import InvalidInputError
from neurorep.testing import parametrize_with_checks
from neurorep_diffusion_models.components import (
    DiffusersLocalGenerator,
    FashionMNISTDiffusionGenerator,
    FashionMNISTPriorGenerator,
)
from neurorep_diffusion_models.export import shipped_model_path
from neurorep_diffusion_models.pipelines import FashionMNISTDiffusionPipeline, load_model


@parametrize_with_checks([
    FashionMNISTDiffusionGenerator(steps=4),
    FashionMNISTDiffusionGenerator(steps=4, class_label=3, readout_seed=1, readout_scale=0.01),
    FashionMNISTPriorGenerator(steps=8, decoder_steps=4),
    FashionMNISTPriorGenerator(steps=8, decode=False),
    DiffusersLocalGenerator,  # its _conformance_instances() points it at the shipped fmnist-diffusion folder
])
def test_conformance(component, check):
    check(component)


def test_registered_through_the_entry_point():
    import neurorep

    reg = neurorep.get_registry()
    assert {"generator.fmnist-diffusion", "generator.fmnist-prior", "generator.diffusers-local"} <= set(
        reg.ids("generator"))
    gen = reg.create("generator.fmnist-diffusion", {"class_label": 4, "steps": 3})
    assert isinstance(gen, FashionMNISTDiffusionGenerator) and gen.class_label == 4


def test_fmnist_diffusion_targets_and_descriptors():
    gen = FashionMNISTDiffusionGenerator(steps=4)
    s = gen.generate(12, random_state=3)
    assert s.payload.shape == (12, 28, 28) and s.payload.dtype == np.uint8
    np.testing.assert_array_equal(s.descriptors["class"], np.arange(12) % 10)
    s2 = gen.generate(3, target=np.array([7, 7, 1]), random_state=3)
    np.testing.assert_array_equal(s2.descriptors["class"], [7, 7, 1])
    # embedding target: no class condition (label 10), and the embedding is followed
    model = load_model(shipped_model_path())
    z = torch.zeros(2, 64)
    s3 = gen.generate(2, target=z.numpy(), random_state=0)
    np.testing.assert_array_equal(s3.descriptors["class"], [10, 10])
    ref = model.sample(embeddings=z, guidance_scale=1.5, num_inference_steps=4, seed=0)
    np.testing.assert_array_equal(s3.payload, np.clip(np.rint((ref[:, 0].numpy() + 1) * 127.5), 0, 255))


def test_fmnist_diffusion_bad_inputs_name_the_component():
    gen = FashionMNISTDiffusionGenerator(steps=2)
    with pytest.raises(InvalidInputError, match="generator.fmnist-diffusion.*shape"):
        gen.generate(3, target=np.zeros((3, 5)))
    with pytest.raises(InvalidInputError, match="generator.fmnist-diffusion.*unknown target keys"):
        gen.generate(2, target={"label": [1, 2]})
    with pytest.raises(InvalidInputError, match="generator.fmnist-diffusion.*objective"):
        FashionMNISTDiffusionGenerator(readout_scale=0.1).generate(2)
    with pytest.raises(InvalidInputError, match="generator.fmnist-diffusion.*class_label"):
        FashionMNISTDiffusionGenerator(class_label=12).generate(2)
    with pytest.raises(InvalidInputError, match="generator.fmnist-diffusion.*not an existing folder"):
        FashionMNISTDiffusionGenerator(weights="/nonexistent/folder").generate(2)


def test_prior_generator_follows_observations():
    """Posterior samples given observed embeddings correlate with them far more than with shuffled ones."""
    model = load_model(shipped_model_path("fmnist-prior"))
    z = model.sample(n=16, labels=np.arange(16) % 10, seed=5)  # realistic embeddings
    gen = FashionMNISTPriorGenerator(steps=20, decode=False, observation_sigma=0.3)
    out = gen.generate(16, target=z.numpy(), random_state=1).payload

    def corr(a, b):
        return np.mean([np.corrcoef(u, v)[0, 1] for u, v in zip(a, b, strict=True)])

    assert corr(out, z.numpy()) > 0.8
    assert corr(out, z.numpy()[::-1]) < 0.5
    # n_average = the mean of that many posterior samples with seeds random_state, random_state + 1, ...
    avg = FashionMNISTPriorGenerator(steps=20, decode=False, observation_sigma=0.3, n_average=2)
    two = [gen.generate(16, target=z.numpy(), random_state=s).payload for s in (1, 2)]
    np.testing.assert_allclose(avg.generate(16, target=z.numpy(), random_state=1).payload, (two[0] + two[1]) / 2,
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(InvalidInputError, match="generator.fmnist-prior.*n_average"):
        avg.generate(2)


def test_diffusers_local_matches_the_diffusers_pipeline_and_errors(tmp_path):
    path = shipped_model_path()
    gen = DiffusersLocalGenerator(str(path), class_labels=[2, 8], num_inference_steps=3, guidance_scale=1.5)
    s = gen.generate(4, random_state=7)
    pipe = FashionMNISTDiffusionPipeline.from_pretrained(str(path))
    ref = pipe(class_labels=[2, 8, 2, 8], num_inference_steps=3, guidance_scale=1.5,
               generator=torch.Generator().manual_seed(7)).images
    np.testing.assert_array_equal(s.payload, np.clip(np.rint(ref[..., 0] * 255), 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(s.descriptors["class"], [2, 8, 2, 8])
    with pytest.raises(InvalidInputError, match="generator.diffusers-local.*takes no prompt"):
        DiffusersLocalGenerator(str(path), prompt="a shoe").generate(1)
    with pytest.raises(InvalidInputError, match="generator.diffusers-local.*model_index.json"):
        DiffusersLocalGenerator(str(tmp_path)).generate(1)
    # a pipeline class that neither diffusers nor this package provides: the error names the fix
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    idx = json.loads((copy / "model_index.json").read_text())
    idx["_class_name"] = "SomeoneElsesPipeline"
    (copy / "model_index.json").write_text(json.dumps(idx))
    with pytest.raises(InvalidInputError, match="pipeline_class="):
        DiffusersLocalGenerator(str(copy)).generate(1)
    # ... and naming it explicitly works
    s2 = DiffusersLocalGenerator(str(copy), class_labels=[2, 8], num_inference_steps=3, guidance_scale=1.5,
                                 pipeline_class="neurorep_diffusion_models.pipelines:FashionMNISTDiffusionPipeline",
                                 ).generate(4, random_state=7)
    np.testing.assert_array_equal(s2.payload, s.payload)


def test_diffusers_local_runs_a_stock_diffusers_pipeline(tmp_path):
    """A plain diffusers DDPMPipeline folder (random tiny UNet) goes through the generic path unchanged."""
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=8, in_channels=1, out_channels=1, layers_per_block=1,
                       block_out_channels=(8, 8), down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4)
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler(num_train_timesteps=50)).save_pretrained(tmp_path / "ddpm")
    gen = DiffusersLocalGenerator(str(tmp_path / "ddpm"), num_inference_steps=3)
    a, b = gen.generate(2, random_state=1), gen.generate(2, random_state=1)
    assert a.payload.shape == (2, 8, 8) and a.payload.dtype == np.uint8
    np.testing.assert_array_equal(a.payload, b.payload)
    assert not np.array_equal(a.payload, gen.generate(2, random_state=2).payload)
