"""Export: a run's newest checkpoint -> a diffusers pipeline folder, byte-identical across exports."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from neurorep_diffusion_models.data import write_idx
from neurorep_diffusion_models.export import copy_latest, export_model
from neurorep_diffusion_models.pipelines import FashionMNISTDiffusionPipeline, load_model
from neurorep_diffusion_models.train import latest_checkpoint, train

TINY_UNET = dict(block_out_channels=(8, 16), norm_num_groups=4, embedding_dim=4, cond_hidden_dim=16,
                 batch_size=4, warmup_steps=2)


def _digests(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def test_export_is_deterministic_and_loads_with_diffusers(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        write_idx(data / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (20, 28, 28), dtype=np.uint8))
        write_idx(data / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(20) % 10).astype(np.uint8))
    run = tmp_path / "run"
    train(run, "unet", max_steps=3, data_dir=data, log=lambda m: None, checkpoint_seconds=1e9, **TINY_UNET)
    outs = []
    for k in range(2):
        src = tmp_path / f"copy{k}"
        ckpt = copy_latest(run, src)
        assert ckpt == latest_checkpoint(run)
        training = export_model(src, tmp_path / f"out{k}")
        assert training["step"] == 3 and training["seed"] == 0
        outs.append(tmp_path / f"out{k}")
    assert _digests(outs[0]) == _digests(outs[1])  # no temporary paths or timestamps in the files
    assert "_name_or_path" not in (outs[0] / "unet" / "config.json").read_text()
    pipe = FashionMNISTDiffusionPipeline.from_pretrained(str(outs[0]))
    pipe.set_progress_bar_config(disable=True)
    model = load_model(outs[0])
    x = pipe(class_labels=[1, 2], num_inference_steps=2, output_type="pt",
             generator=torch.Generator().manual_seed(0)).images
    assert torch.equal(x, model.sample(labels=[1, 2], guidance_scale=1.0, num_inference_steps=2, seed=0))
