"""Resumable training on a tiny UNet / prior and tiny random data: determinism, atomic checkpoints, time bound."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from neurorep_diffusion_models import pipelines
from neurorep_diffusion_models.data import write_idx
from neurorep_diffusion_models.pipelines import PixelDiffusion, PriorDiffusion, load_model
from neurorep_diffusion_models.train import RunExistsError, latest_checkpoint, load_run_model, main, train

TINY_UNET = dict(block_out_channels=(8, 16), norm_num_groups=4, embedding_dim=4, cond_hidden_dim=16,
                 batch_size=4, warmup_steps=2)
TINY_PRIOR = dict(embedding_dim=4, prior_hidden_dim=16, prior_blocks=1, batch_size=8, warmup_steps=2)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-fmnist")
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labs = (np.arange(20) % 10).astype(np.uint8)
    for prefix in ("train", "t10k"):
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", imgs)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labs)
    return root


def _run(out, data, steps, model="unet", resume=False, **kw):
    cfg = TINY_UNET if model == "unet" else TINY_PRIOR
    return train(out, model, resume=resume, max_steps=steps, data_dir=data, log=lambda m: None,
                 checkpoint_seconds=1e9, **{**cfg, **kw})


def _state(out):
    return torch.load(latest_checkpoint(out) / "state.pt", map_location="cpu", weights_only=True)


def _assert_same_run(a, b):
    sa, sb = _state(a), _state(b)
    assert sa["step"] == sb["step"]
    for m in sa["model"]:
        for k, v in sa["model"][m].items():
            assert torch.equal(v, sb["model"][m][k]), f"{m}.{k} differs"
    for k, v in sa["ema"].items():
        assert torch.equal(v, sb["ema"][k]), f"EMA {k} differs"
    for pid, st in sa["optimizer"]["state"].items():
        assert torch.equal(st["exp_avg"], sb["optimizer"]["state"][pid]["exp_avg"])


@pytest.mark.parametrize("model", ["unet", "prior"])
def test_stop_and_resume_equals_uninterrupted(tmp_path, tiny_data, model):
    full = tmp_path / "full"
    _run(full, tiny_data, 6, model)
    part = tmp_path / "part"
    first = _run(part, tiny_data, 3, model)
    assert first["step"] == 3 and latest_checkpoint(part).name == "ckpt-0000003"
    at3 = _state(part)
    second = _run(part, tiny_data, 6, model, resume=True)
    assert second["step"] == 6
    _assert_same_run(full, part)
    # steps 4-6 moved the weights, so the equality above is not between two copies of the step-3 state
    at6 = _state(part)
    assert any(not torch.equal(v, at6["model"][m][k]) for m in at3["model"] for k, v in at3["model"][m].items())


def test_killed_process_resumes_identically(tmp_path, tiny_data):
    """A real SIGTERM mid-run: the CLI saves, exits 0, and a resume reaches the uninterrupted state."""
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "neurorep_diffusion_models.train", "--model", "unet", "--out", str(run),
           "--data-dir", str(tiny_data), "--max-steps", "400", "--log-every", "1",
           "--channels", "8,16", "--norm-groups", "4", "--embedding-dim", "4", "--cond-hidden-dim", "16",
           "--batch-size", "4", "--warmup-steps", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("step=2 "):
            proc.send_signal(signal.SIGTERM)
            break
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + rest
    assert "stopped (signal SIGTERM)" in rest
    stopped_at = _state(run)["step"]
    assert 2 <= stopped_at < 400
    target = stopped_at + 2
    _run(run, tiny_data, target, resume=True)
    ref = tmp_path / "ref"
    _run(ref, tiny_data, target)
    _assert_same_run(ref, run)


def test_interrupted_save_leaves_no_partial_checkpoint(tmp_path, tiny_data, monkeypatch):
    run = tmp_path / "run"
    _run(run, tiny_data, 2)
    real = pipelines.PixelDiffusion.save_pretrained

    def broken(self, path, extra=None):
        Path(path).mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(Path(path) / "unet")  # some files written, then the "crash"
        raise KeyboardInterrupt("simulated interruption while saving")

    monkeypatch.setattr(pipelines.PixelDiffusion, "save_pretrained", broken)
    with pytest.raises(KeyboardInterrupt):
        _run(run, tiny_data, 4, resume=True)
    assert latest_checkpoint(run).name == "ckpt-0000002"
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(("ckpt-", ".tmp"))) == ["ckpt-0000002"]
    # a leftover from a hard kill (SIGKILL mid-save) is ignored and cleaned up on the next start
    monkeypatch.setattr(pipelines.PixelDiffusion, "save_pretrained", real)
    stale = run / ".tmp-ckpt-0000004-99999" / "model"
    stale.mkdir(parents=True)
    (stale / "half-written.safetensors").write_bytes(b"\x00" * 10)
    _run(run, tiny_data, 4, resume=True)
    assert not stale.parent.exists()
    ref = tmp_path / "ref"
    _run(ref, tiny_data, 4)
    _assert_same_run(ref, run)


def test_wall_time_bound_stops_training(tmp_path, tiny_data):
    t0 = time.monotonic()
    res = train(tmp_path / "run", "unet", seconds=3.0, data_dir=tiny_data, log=lambda m: None, **TINY_UNET)
    took = time.monotonic() - t0
    assert res["stopped"] == "seconds"
    assert took < 3.0 + 5.0  # the loop stops at the budget; the final checkpoint save follows
    assert latest_checkpoint(tmp_path / "run").name == f"ckpt-{res['step']:07d}"
    # resuming with a new budget continues from there
    res2 = train(tmp_path / "run", resume=True, seconds=2.0, data_dir=tiny_data, log=lambda m: None)
    assert res2["step"] >= res["step"] and res2["wall_seconds"] >= res["wall_seconds"]


def test_existing_run_needs_resume_and_fixed_hyperparameters(tmp_path, tiny_data):
    run = tmp_path / "run"
    _run(run, tiny_data, 1)
    with pytest.raises(RunExistsError, match="--resume"):
        _run(run, tiny_data, 2)
    with pytest.raises(ValueError, match="cannot change hyperparameters"):
        _run(run, tiny_data, 2, resume=True, lr=0.5)
    assert main(["--out", str(run), "--data-dir", str(tiny_data), "--max-steps", "2", "--lr", "0.5",
                 "--resume"]) == 2


def test_saved_model_loads_and_samples_reproducibly(tmp_path, tiny_data):
    run = tmp_path / "run"
    _run(run, tiny_data, 2)
    model = load_run_model(run)
    assert isinstance(model, PixelDiffusion)
    again = load_model(latest_checkpoint(run) / "model")
    a = model.sample(labels=[0, 3, 7], guidance_scale=2.0, num_inference_steps=3, seed=5)
    b = again.sample(labels=[0, 3, 7], guidance_scale=2.0, num_inference_steps=3, seed=5)
    assert a.shape == (3, 1, 28, 28) and torch.equal(a, b)
    assert float(a.min()) >= -1 and float(a.max()) <= 1
    z = torch.randn(3, 4)
    c = model.sample(embeddings=z, guidance_scale=1.5, num_inference_steps=3, seed=5)
    assert not torch.equal(a, c)
    # the saved folder is diffusers layout with safetensors weights
    folder = latest_checkpoint(run) / "model"
    for sub in ("unet", "conditioner", "embedding"):
        assert (folder / sub / "diffusion_pytorch_model.safetensors").is_file()
    assert (folder / "scheduler" / "scheduler_config.json").is_file()


def test_prior_samples_track_the_observation(tmp_path, tiny_data):
    run = tmp_path / "prior"
    _run(run, tiny_data, 2, model="prior")
    prior = load_run_model(run)
    assert isinstance(prior, PriorDiffusion)
    obs = torch.randn(5, 4)
    z1 = prior.sample(observation=obs, observation_sigma=0.5, num_inference_steps=4, seed=1)
    z2 = prior.sample(observation=obs, observation_sigma=0.5, num_inference_steps=4, seed=1)
    assert z1.shape == (5, 4) and torch.equal(z1, z2)
    with pytest.raises(ValueError, match="observation_sigma"):
        prior.sample(observation=obs)
    # whitened embeddings are unbounded: DDIM must not clip the predicted clean embedding to [-1, 1]
    assert prior.scheduler.config.clip_sample is False
    with torch.no_grad():  # a denoiser that predicts no noise: DDIM then only rescales the start noise
        prior.prior.out.weight.zero_()
        prior.prior.out.bias.zero_()
    z0 = prior.sample(n=50, num_inference_steps=4, seed=2)
    start = torch.randn(50, 4, generator=torch.Generator().manual_seed(2))
    assert float(z0.abs().max()) > 1.0
    assert torch.allclose(z0 / start, (z0 / start).flatten()[0].expand_as(z0), rtol=1e-4)


def test_training_restores_thread_count(tmp_path, tiny_data):
    before = torch.get_num_threads()
    train(tmp_path / "run", "unet", max_steps=1, threads=before + 1, data_dir=tiny_data, log=lambda m: None,
          **TINY_UNET)
    assert torch.get_num_threads() == before


def test_evaluation_harness_runs_on_tiny_models(tmp_path, tiny_data):
    from neurorep_diffusion_models.data import load_fashion_mnist
    from neurorep_diffusion_models.evaluate import evaluate_class_conditional, evaluate_decoding, evaluate_images
    from neurorep_diffusion_models.judge import Judge, JudgeCNN

    _run(tmp_path / "u", tiny_data, 1)
    _run(tmp_path / "p", tiny_data, 1, model="prior")
    model, prior = load_run_model(tmp_path / "u"), load_run_model(tmp_path / "p")
    assert prior.embedding.fingerprint() == model.embedding.fingerprint()  # same data, deterministic PCA
    torch.manual_seed(0)
    judge = Judge(JudgeCNN())
    m, x = evaluate_class_conditional(model, judge, n_per_class=1, num_inference_steps=2)
    assert m["n"] == 10 and len(m["per_class"]) == 10 and x.shape == (10, 1, 28, 28)
    te = load_fashion_mnist("test", tiny_data)
    clean = evaluate_decoding(model, judge, te.images[:6], te.labels[:6], num_inference_steps=2)
    assert clean["settings"]["embedding_correlation"] == pytest.approx(1.0)
    # the linear baseline is the PCA reconstruction of the clean embedding
    xs = torch.as_tensor(te.images[:6].astype(np.float64) / 127.5 - 1, dtype=torch.float32)[:, None]
    recon = model.embedding.decode(model.embedding.embed(xs)).clamp(-1, 1)
    assert clean["linear_pca"] == pytest.approx(evaluate_images(judge, recon, xs, te.labels[:6]), abs=1e-6)
    noisy = evaluate_decoding(model, judge, te.images[:6], te.labels[:6], prior=prior, sigma=1.0,
                              num_inference_steps=2)
    assert noisy["settings"]["prior"] and noisy["settings"]["embedding_correlation"] < 0.99
