"""Resumable, wall-time-bounded training of the pixel UNet and the embedding prior.

Usage::

    python -m neurorep_diffusion_models.train --model unet --out RUN_DIR --seconds 9000 --resume
    python -m neurorep_diffusion_models.train --model prior --out RUN_DIR2 --embedding-from RUN_DIR/ckpt-.../model

A run folder holds::

    config.json            the run's hyperparameters (fixed at the first start)
    LATEST                 name of the newest complete checkpoint (replaced atomically)
    ckpt-0001234/model/    EMA weights in diffusers layout (see pipelines.py)
    ckpt-0001234/state.pt  step, raw weights, EMA, optimizer, RNG states, seed, wall time
    ckpt-0001234/state.json  the same bookkeeping in readable form
    train-log.jsonl        one line per log interval (loss, steps/s, wall time)

Every checkpoint is built in a hidden temporary folder and renamed into place,
then ``LATEST`` is replaced with ``os.replace``; a run killed at any moment
resumes from the last complete checkpoint. Every training step draws its batch,
noise, timesteps and condition dropout from a generator seeded by (seed, step),
so a resumed run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DDPMScheduler
from torch.nn import functional as F

from .data import load_fashion_mnist
from .models import ConditionEncoder, EmbeddingPrior, PixelPCAEmbedding, build_unet
from .pipelines import PixelDiffusion, PriorDiffusion, _local_dir, load_model
from .utils import atomic_write_bytes, images_to_tensor, step_generator

__all__ = ["TrainConfig", "train", "latest_checkpoint", "load_run_model", "main", "RunExistsError"]

LATEST = "LATEST"
CONFIG = "config.json"
LOG = "train-log.jsonl"
STATE_FORMAT = 1

_MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "unet": {"batch_size": 64, "lr": 1e-3, "label_drop": 0.3},
    "prior": {"batch_size": 256, "lr": 5e-4, "label_drop": 0.5},
}


class RunExistsError(RuntimeError):
    """A run folder already holds checkpoints and ``--resume`` was not given."""


@dataclass
class TrainConfig:
    """Hyperparameters of one run; fixed when the run starts, stored in ``config.json``.

    Attributes
    ----------
    model : {"unet", "prior"}
        Pixel-space conditional UNet or embedding-space prior.
    seed : int
        Seeds initialisation and every step's generator.
    batch_size, lr, warmup_steps, grad_clip, ema_decay : optimisation (AdamW, linear warmup, then constant).
    num_train_timesteps, beta_schedule : DDPM noise schedule (epsilon prediction).
    embedding_dim : int
        Components of the whitened pixel-PCA embedding.
    block_out_channels, layers_per_block, norm_num_groups, spatial_condition, cond_hidden_dim : UNet shape.
    label_drop, embedding_drop : condition dropout probabilities (classifier-free guidance).
    prior_hidden_dim, prior_blocks : prior MLP shape.
    observation_drop, max_observation_sigma : prior training: how often the noisy observation is dropped,
        and the largest noise std (whitened units) of the simulated observations (drawn uniformly).
    """

    model: str = "unet"
    seed: int = 0
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 500
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    embedding_dim: int = 64
    block_out_channels: tuple[int, ...] = (32, 64, 64)
    layers_per_block: int = 1
    norm_num_groups: int = 8
    spatial_condition: bool = True
    cond_hidden_dim: int = 256
    label_drop: float = 0.3
    embedding_drop: float = 0.4
    prior_hidden_dim: int = 256
    prior_blocks: int = 4
    observation_drop: float = 0.25
    max_observation_sigma: float = 2.0
    data: dict = field(default_factory=dict)

    @classmethod
    def for_model(cls, model: str, **overrides: Any) -> TrainConfig:
        """Defaults for ``model`` with ``overrides`` applied (``None`` values ignored)."""
        if model not in _MODEL_DEFAULTS:
            raise ValueError(f"model must be one of {sorted(_MODEL_DEFAULTS)}, got {model!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise TypeError(f"unknown TrainConfig fields {sorted(unknown)}; known: {sorted(names)}")
        kw = {**_MODEL_DEFAULTS[model], **{k: v for k, v in overrides.items() if v is not None}}
        if "block_out_channels" in kw:
            kw["block_out_channels"] = tuple(int(c) for c in kw["block_out_channels"])
        return cls(model=model, **kw)

    @classmethod
    def from_json(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["block_out_channels"] = tuple(d["block_out_channels"])
        return cls(**d)


class _EpochSampler:
    """Batch ``step`` = the next ``batch_size`` positions of per-epoch seeded permutations."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        self.n, self.b, self.seed = n, batch_size, seed
        self._perms: dict[int, torch.Tensor] = {}

    def _perm(self, epoch: int) -> torch.Tensor:
        if epoch not in self._perms:
            if len(self._perms) > 4:
                self._perms.pop(min(self._perms))
            self._perms[epoch] = torch.randperm(self.n, generator=step_generator(self.seed, epoch, "epoch"))
        return self._perms[epoch]

    def indices(self, step: int) -> torch.Tensor:
        pos = step * self.b + torch.arange(self.b)
        epochs, within = pos // self.n, pos % self.n
        out = torch.empty(self.b, dtype=torch.long)
        for e in torch.unique(epochs).tolist():
            m = epochs == e
            out[m] = self._perm(int(e))[within[m]]
        return out


def _make_scheduler(cfg: TrainConfig) -> DDPMScheduler:
    # pixels live in [-1, 1], so predicted clean images may be clipped; whitened embeddings are unbounded
    return DDPMScheduler(num_train_timesteps=cfg.num_train_timesteps, beta_schedule=cfg.beta_schedule,
                         prediction_type="epsilon", clip_sample=cfg.model == "unet")


def _build(cfg: TrainConfig, embedding: PixelPCAEmbedding) -> PixelDiffusion | PriorDiffusion:
    torch.manual_seed(cfg.seed)
    if cfg.model == "unet":
        unet = build_unet(cfg.block_out_channels, cfg.layers_per_block, cfg.norm_num_groups,
                          image_size=embedding.config.image_size, spatial_condition=cfg.spatial_condition)
        cond = ConditionEncoder(num_classes=10, embedding_dim=cfg.embedding_dim, hidden_dim=cfg.cond_hidden_dim,
                                out_dim=unet.config.block_out_channels[0] * 4)
        return PixelDiffusion(unet, cond, embedding, _make_scheduler(cfg), spatial_condition=cfg.spatial_condition)
    prior = EmbeddingPrior(embedding_dim=cfg.embedding_dim, hidden_dim=cfg.prior_hidden_dim,
                           n_blocks=cfg.prior_blocks, num_classes=10)
    return PriorDiffusion(prior, embedding, _make_scheduler(cfg))


def _named_params(pipe) -> dict[str, torch.nn.Parameter]:
    return {f"{m}.{n}": p for m, mod in pipe.modules().items() for n, p in mod.named_parameters()}


@contextmanager
def _swapped(params: dict[str, torch.nn.Parameter], values: dict[str, torch.Tensor]):
    backup = {k: p.detach().clone() for k, p in params.items()}
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(values[k])
    try:
        yield
    finally:
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(backup[k])


def latest_checkpoint(out: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint folder of a run (what ``LATEST`` names), or ``None``."""
    out = Path(out)
    f = out / LATEST
    if not f.is_file():
        return None
    ckpt = out / f.read_text().strip()
    if not (ckpt / "state.pt").is_file():
        raise RuntimeError(f"{f} names {ckpt.name}, which has no state.pt; the run folder was altered by hand. "
                           f"Point {LATEST} at a complete ckpt-* folder.")
    return ckpt


def load_run_model(out: str | os.PathLike) -> PixelDiffusion | PriorDiffusion:
    """Load the EMA model of a run's newest checkpoint."""
    ckpt = latest_checkpoint(out)
    if ckpt is None:
        raise FileNotFoundError(f"{out} has no checkpoint yet ({LATEST} is missing)")
    return load_model(ckpt / "model")


def _clean_stale(out: Path) -> None:
    for p in out.glob(".tmp-ckpt-*"):
        shutil.rmtree(p, ignore_errors=True)


def _np_state() -> list:
    s = np.random.get_state()
    return [s[0], s[1].tolist(), int(s[2]), int(s[3]), float(s[4])]


def _save_checkpoint(out: Path, step: int, pipe, params, ema, opt, cfg: TrainConfig, wall_seconds: float,
                     extra: dict, keep: int) -> Path:
    name = f"ckpt-{step:07d}"
    final = out / name
    current = latest_checkpoint(out)
    if current is not None and current.name == name:
        return final
    if final.exists():  # a complete folder from an earlier, abandoned branch of this run
        shutil.rmtree(final)
    tmp = out / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        info = {"step": step, "seed": cfg.seed, "wall_seconds": round(wall_seconds, 1), "model": cfg.model,
                "weights": "EMA", "ema_decay": cfg.ema_decay, **extra}
        with _swapped(params, ema):
            pipe.save_pretrained(tmp / "model", extra={"training": info})
        state = {
            "format": STATE_FORMAT, "step": step, "seed": cfg.seed, "wall_seconds": wall_seconds,
            "config": asdict(cfg),
            "model": {m: mod.state_dict() for m, mod in pipe.modules().items()},
            "ema": ema, "optimizer": opt.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": _np_state()},
            "extra": extra,
        }
        torch.save(state, tmp / "state.pt")
        (tmp / "state.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic_write_bytes(out / LATEST, (name + "\n").encode())
    ckpts = sorted(p for p in out.glob("ckpt-*") if p.is_dir())
    for old in ckpts[:-keep] if keep > 0 else []:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return final


def _log_line(out: Path, record: dict, log) -> None:
    log(" ".join(f"{k}={v}" for k, v in record.items()))
    with open(out / LOG, "a") as fh:
        fh.write(json.dumps(record) + "\n")


def train(
    out: str | os.PathLike,
    model: str | None = None,
    *,
    resume: bool = False,
    seconds: float | None = None,
    max_steps: int | None = None,
    threads: int | None = 1,
    checkpoint_seconds: float = 600.0,
    log_every: int = 25,
    keep: int = 2,
    data_dir: str | os.PathLike | None = None,
    embedding_from: str | os.PathLike | None = None,
    log=print,
    **overrides: Any,
) -> dict:
    """Train (or continue training) one model in the run folder ``out``.

    Parameters
    ----------
    out : path-like
        Run folder (created).
    model : {"unet", "prior"}, optional
        Required for a new run; on resume the stored config decides (a different value is an error).
    resume : bool
        Continue from ``out``'s newest checkpoint; a fresh run starts if there is none.
    seconds : float, optional
        Wall-time budget of this invocation (setup included); training stops before a step that would exceed it.
    max_steps : int, optional
        Total step count (across resumes) at which to stop.
    threads : int, optional
        ``torch.set_num_threads``; 1 makes runs bitwise reproducible on the CPU.
    checkpoint_seconds : float
        Save a checkpoint at least this often (and always at the end).
    log_every : int
        Steps between log lines.
    keep : int
        Complete checkpoints kept (older ones deleted after a new one is in place).
    data_dir : path-like, optional
        Folder with the Fashion-MNIST IDX files (default: Debian's location).
    embedding_from : path-like, optional
        A saved model folder (or its ``embedding/`` sub-folder) whose PCA embedding to reuse, so that a prior
        and a UNet share one embedding space; by default the PCA is fitted on the training images.
    **overrides
        :class:`TrainConfig` fields for a new run.

    Returns
    -------
    dict
        ``step``, ``stopped`` (reason), ``checkpoint`` (path), ``wall_seconds`` (total across sessions),
        ``session_seconds``, ``steps_per_second``.
    """
    prev_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _train(out, model, resume, seconds, max_steps, checkpoint_seconds, log_every, keep, data_dir,
                      embedding_from, log, overrides)
    finally:
        torch.set_num_threads(prev_threads)


def _train(out, model, resume, seconds, max_steps, checkpoint_seconds, log_every, keep, data_dir, embedding_from,
           log, overrides) -> dict:
    t_start = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean_stale(out)
    ckpt = latest_checkpoint(out)
    if ckpt is not None and not resume:
        raise RunExistsError(f"{out} already holds a run (newest checkpoint {ckpt.name}); pass --resume to "
                             f"continue it, or choose another --out")
    if ckpt is not None:
        cfg = TrainConfig.from_json(json.loads((out / CONFIG).read_text()))
        if model is not None and model != cfg.model:
            raise ValueError(f"{out} trains model {cfg.model!r}, not {model!r}")
        fresh = TrainConfig.for_model(cfg.model, **overrides)
        clash = {k: (getattr(cfg, k), v) for k, v in overrides.items()
                 if v is not None and getattr(fresh, k) != getattr(cfg, k)}
        if clash:
            raise ValueError(f"cannot change hyperparameters of an existing run: {clash} (stored, given); "
                             f"drop those options or start a new --out")
    else:
        if model is None:
            raise ValueError("model ('unet' or 'prior') is required to start a new run")
        cfg = TrainConfig.for_model(model, **overrides)

    data = load_fashion_mnist("train", data_dir)
    x = images_to_tensor(data.images)[:, None]
    y = torch.as_tensor(data.labels, dtype=torch.long)
    cfg.data = {"name": "Fashion-MNIST", "split": "train", "n": len(data), "source": str(data_dir or "debian")}

    if ckpt is not None:
        embedding = PixelPCAEmbedding.from_pretrained(ckpt / "model" / "embedding", low_cpu_mem_usage=False)
    elif embedding_from is not None:
        src = _local_dir(embedding_from, "embedding_from")
        embedding = PixelPCAEmbedding.from_pretrained(src / "embedding" if (src / "embedding").is_dir() else src,
                                                      low_cpu_mem_usage=False)
        if embedding.config.n_components != cfg.embedding_dim:
            raise ValueError(f"embedding from {src} has {embedding.config.n_components} components but "
                             f"embedding_dim={cfg.embedding_dim}")
    else:
        embedding = PixelPCAEmbedding(n_components=cfg.embedding_dim, image_size=x.shape[-1]).fit(x)
    with torch.no_grad():
        z_all = embedding.embed(x).float()

    pipe = _build(cfg, embedding)
    params = _named_params(pipe)
    opt = torch.optim.AdamW(list(params.values()), lr=cfg.lr, weight_decay=0.0)
    ema = {k: p.detach().clone() for k, p in params.items()}
    step, wall_offset = 0, 0.0
    if ckpt is not None:
        state = torch.load(ckpt / "state.pt", map_location="cpu", weights_only=True)
        for m, mod in pipe.modules().items():
            mod.load_state_dict(state["model"][m])
        ema = {k: state["ema"][k].clone() for k in params}
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"]["torch"])
        random.setstate(_to_tuple(state["rng"]["python"]))
        np_s = state["rng"]["numpy"]
        np.random.set_state((np_s[0], np.array(np_s[1], dtype=np.uint32), np_s[2], np_s[3], np_s[4]))
        step, wall_offset = int(state["step"]), float(state["wall_seconds"])
        log(f"resumed {out} from {ckpt.name}: step {step}, {wall_offset:.0f} s trained so far")
    else:
        atomic_write_bytes(out / CONFIG, (json.dumps(asdict(cfg), indent=2) + "\n").encode())
        log(f"new {cfg.model} run in {out}: {sum(p.numel() for p in params.values()):,} parameters, "
            f"embedding {embedding.fingerprint()}")

    stop = {"signal": None}

    def _on_signal(signum, frame):  # finish the current step, save, exit
        stop["signal"] = signal.Signals(signum).name

    old_handlers = {}
    for s in (signal.SIGTERM, signal.SIGINT):
        try:
            old_handlers[s] = signal.signal(s, _on_signal)
        except ValueError:  # not in the main thread
            pass

    sampler = _EpochSampler(len(x), cfg.batch_size, cfg.seed)
    null = 10
    pipe_modules = list(pipe.modules().values())
    for mod in pipe_modules:
        mod.train()
    t_train = time.monotonic()
    last_ckpt_t, last_log_t, last_log_step = t_train, t_train, step
    loss_sum, loss_n, step_time = 0.0, 0, 0.0
    start_step = step
    extra_info = {"embedding_fingerprint": embedding.fingerprint(), "torch": str(torch.__version__)}
    saved = ckpt
    reason = "max_steps"

    def wall_now() -> float:
        return wall_offset + (time.monotonic() - t_train)

    try:
        while True:
            if max_steps is not None and step >= max_steps:
                reason = "max_steps"
                break
            if stop["signal"]:
                reason = f"signal {stop['signal']}"
                break
            if seconds is not None and (time.monotonic() - t_start) + 1.5 * step_time >= seconds:
                reason = "seconds"
                break
            t0 = time.monotonic()
            g = step_generator(cfg.seed, step, cfg.model)
            idx = sampler.indices(step)
            b = len(idx)
            t = torch.randint(0, cfg.num_train_timesteps, (b,), generator=g)
            labels = torch.where(torch.rand(b, generator=g) >= cfg.label_drop, y[idx], torch.full((b,), null))
            if cfg.model == "unet":
                x0 = x[idx]
                noise = torch.randn(x0.shape, generator=g)
                z_keep = torch.rand(b, generator=g) >= cfg.embedding_drop
                x_t = pipe.scheduler.add_noise(x0, noise, t)
                pred = pipe.predict_noise(x_t, t, labels, z_all[idx], z_keep)
            else:
                z0 = z_all[idx]
                noise = torch.randn(z0.shape, generator=g)
                sigma = torch.rand(b, generator=g) * cfg.max_observation_sigma
                obs = z0 + sigma[:, None] * torch.randn(z0.shape, generator=g)
                obs_keep = torch.rand(b, generator=g) >= cfg.observation_drop
                z_t = pipe.scheduler.add_noise(z0, noise, t)
                pred = pipe.prior(z_t, t, obs, sigma, obs_keep, labels)
            loss = F.mse_loss(pred, noise)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(list(params.values()), cfg.grad_clip)
            lr = cfg.lr * min(1.0, (step + 1) / max(cfg.warmup_steps, 1))
            for grp in opt.param_groups:
                grp["lr"] = lr
            opt.step()
            decay = min(cfg.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():
                torch._foreach_lerp_(list(ema.values()), [p.detach() for p in params.values()], 1.0 - decay)
            step += 1
            loss_sum += float(loss.detach())
            loss_n += 1
            dt = time.monotonic() - t0
            step_time = dt if step_time == 0 else 0.9 * step_time + 0.1 * dt
            now = time.monotonic()
            if log_every and step % log_every == 0:
                _log_line(out, {"step": step, "loss": round(loss_sum / max(loss_n, 1), 5),
                                "steps_per_s": round((step - last_log_step) / max(now - last_log_t, 1e-9), 3),
                                "lr": lr, "session_s": round(now - t_start, 1), "wall_s": round(wall_now(), 1)},
                          log)
                loss_sum, loss_n, last_log_t, last_log_step = 0.0, 0, now, step
            if now - last_ckpt_t >= checkpoint_seconds:
                saved = _save_checkpoint(out, step, pipe, params, ema, opt, cfg, wall_now(), extra_info, keep)
                log(f"checkpoint {saved.name}")
                last_ckpt_t = time.monotonic()
        if saved is None or step != _ckpt_step(saved):
            saved = _save_checkpoint(out, step, pipe, params, ema, opt, cfg, wall_now(), extra_info, keep)
            log(f"checkpoint {saved.name}")
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
    session = time.monotonic() - t_start
    done = step - start_step
    summary = {"step": step, "stopped": reason, "checkpoint": str(saved), "wall_seconds": round(wall_now(), 1),
               "session_seconds": round(session, 1),
               "steps_per_second": round(done / max(time.monotonic() - t_train, 1e-9), 3)}
    log(f"stopped ({reason}) at step {step}; {json.dumps(summary)}")
    return summary


def _ckpt_step(path: Path) -> int:
    return int(path.name.split("-")[1])


def _to_tuple(v):
    return tuple(_to_tuple(i) for i in v) if isinstance(v, (list, tuple)) else v


def _channels(s: str) -> tuple[int, ...]:
    try:
        return tuple(int(c) for c in s.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints like 32,64,64, got {s!r}") from exc


def main(argv: list[str] | None = None) -> int:
    """CLI entry: see the module docstring."""
    p = argparse.ArgumentParser(prog="python -m neurorep_diffusion_models.train",
                                description="Train neurorep's small Fashion-MNIST diffusion models (resumable).")
    p.add_argument("--model", choices=sorted(_MODEL_DEFAULTS), help="required for a new run")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (starts one if none)")
    p.add_argument("--seconds", type=float, default=None, help="wall-time budget of this invocation")
    p.add_argument("--max-steps", type=int, default=None, help="total steps (across resumes) to stop at")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--checkpoint-seconds", type=float, default=600.0)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--keep", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--embedding-from", default=None)
    g = p.add_argument_group("hyperparameters (new runs only)")
    g.add_argument("--seed", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--lr", type=float)
    g.add_argument("--warmup-steps", type=int)
    g.add_argument("--ema-decay", type=float)
    g.add_argument("--embedding-dim", type=int)
    g.add_argument("--channels", type=_channels, dest="block_out_channels")
    g.add_argument("--layers-per-block", type=int)
    g.add_argument("--norm-groups", type=int, dest="norm_num_groups")
    g.add_argument("--no-spatial-condition", action="store_const", const=False, dest="spatial_condition")
    g.add_argument("--cond-hidden-dim", type=int)
    g.add_argument("--label-drop", type=float)
    g.add_argument("--embedding-drop", type=float)
    g.add_argument("--prior-hidden-dim", type=int)
    g.add_argument("--prior-blocks", type=int)
    g.add_argument("--observation-drop", type=float)
    a = vars(p.parse_args(argv))
    session = {k: a.pop(k) for k in ("model", "out", "resume", "seconds", "max_steps", "threads",
                                     "checkpoint_seconds", "log_every", "keep", "data_dir", "embedding_from")}
    try:
        train(log=lambda m: print(m, flush=True), **session, **a)
    except (RunExistsError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
