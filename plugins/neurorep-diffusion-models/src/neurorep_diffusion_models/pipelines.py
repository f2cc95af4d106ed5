"""Loading, saving and DDIM sampling with classifier-free guidance for the two model kinds.

A saved model is a folder in diffusers layout::

    neurorep_model.json         {"kind": "pixel-diffusion" | "embedding-prior", ...}
    unet/ or prior/             config.json + diffusion_pytorch_model.safetensors
    conditioner/                (pixel-diffusion only)
    embedding/                  the PixelPCAEmbedding that defines the embedding space
    scheduler/                  scheduler_config.json (DDPM training schedule)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel

from .models import ConditionEncoder, EmbeddingPrior, PixelPCAEmbedding

__all__ = ["PixelDiffusion", "PriorDiffusion", "load_model", "MODEL_INDEX", "FashionMNISTDiffusionPipeline",
           "FashionMNISTPriorPipeline", "save_diffusers_folder"]

MODEL_INDEX = "neurorep_model.json"


def _labels_tensor(labels, n: int, null: int) -> torch.Tensor:
    if labels is None:
        return torch.full((n,), null, dtype=torch.long)
    lab = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    if len(lab) != n:
        raise ValueError(f"got {len(lab)} labels for {n} samples")
    if ((lab < 0) | (lab > null)).any():
        raise ValueError(f"labels must be in 0..{null - 1} (or {null} for no label), got {lab.tolist()[:10]}")
    return lab


def _local_dir(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path if it is an existing folder; never let diffusers treat it as a hub id."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{what}: {path} is not an existing local folder (models are only loaded from "
                                f"local diffusers-format folders here)")
    return path


def _ddim(scheduler_config) -> DDIMScheduler:
    return DDIMScheduler.from_config(scheduler_config)


class PixelDiffusion:
    """Class- and embedding-conditional pixel-space diffusion model (UNet + condition encoder + PCA embedding).

    Parameters
    ----------
    unet : diffusers.UNet2DModel
    conditioner : ConditionEncoder
    embedding : PixelPCAEmbedding
    scheduler : diffusers.DDPMScheduler
        The training noise schedule; sampling uses DDIM built from its config.
    spatial_condition : bool
        Whether the PCA reconstruction of the embedding is fed as a second UNet input channel.
    """

    kind = "pixel-diffusion"

    def __init__(self, unet: UNet2DModel, conditioner: ConditionEncoder, embedding: PixelPCAEmbedding,
                 scheduler: DDPMScheduler, spatial_condition: bool = True) -> None:
        self.unet = unet
        self.conditioner = conditioner
        self.embedding = embedding
        self.scheduler = scheduler
        self.spatial_condition = spatial_condition

    @property
    def num_classes(self) -> int:
        return int(self.conditioner.config.num_classes)

    def modules(self) -> dict[str, torch.nn.Module]:
        """The trainable modules by sub-folder name."""
        return {"unet": self.unet, "conditioner": self.conditioner}

    def predict_noise(self, x_t: torch.Tensor, t: torch.Tensor, labels: torch.Tensor, z: torch.Tensor,
                      z_keep: torch.Tensor) -> torch.Tensor:
        """UNet noise prediction for noisy images ``x_t`` at steps ``t`` under the given conditions."""
        cond = self.conditioner(labels, z, z_keep)
        if self.spatial_condition:
            spatial = self.embedding.decode(z) * z_keep.to(x_t.dtype)[:, None, None, None]
            x_t = torch.cat([x_t, spatial.to(x_t.dtype)], dim=1)
        return self.unet(x_t, t, class_labels=cond).sample

    @torch.no_grad()
    def sample(self, n: int | None = None, labels=None, embeddings: torch.Tensor | None = None,
               guidance_scale: float = 3.0, num_inference_steps: int = 25, seed: int = 0, eta: float = 0.0,
               batch_size: int = 250, generator: torch.Generator | None = None, readout=None,
               readout_scale: float = 0.0) -> torch.Tensor:
        """Draw images with DDIM and classifier-free guidance.

        Parameters
        ----------
        n : int, optional
            Number of samples (inferred from ``labels``/``embeddings`` when omitted).
        labels : array-like of int, optional
            Class per sample; omitted = unconditional on class.
        embeddings : torch.Tensor, optional
            ``(n, E)`` whitened embeddings to condition on; omitted = no embedding condition.
        guidance_scale : float
            1.0 = purely conditional, 0.0 = unconditional, >1 = guided.
        num_inference_steps, eta : DDIM settings.
        seed : int
            Seeds the initial noise (and the eta>0 noise); the same seed gives the same images.
        generator : torch.Generator, optional
            Draw the noise from this generator instead of one seeded with ``seed``.
        readout : callable, optional
            Differentiable ``images (b, 1, 28, 28) -> (b,)`` objective to raise during sampling
            (brain-guided synthesis, see :mod:`neurorep_diffusion_models.guidance`).
        readout_scale : float
            Step size of the readout guidance (per-pixel RMS change of the predicted clean image per
            DDIM step); 0 disables it.

        Returns
        -------
        torch.Tensor
            ``(n, 1, 28, 28)`` images in [-1, 1].
        """
        if n is None:
            n = len(labels) if labels is not None else (len(embeddings) if embeddings is not None else None)
        if n is None:
            raise ValueError("give n, labels or embeddings")
        null = self.num_classes
        lab = _labels_tensor(labels, n, null)
        e_dim = int(self.conditioner.config.embedding_dim)
        if embeddings is None:
            z = torch.zeros(n, e_dim)
            keep = torch.zeros(n, dtype=torch.bool)
        else:
            z = torch.as_tensor(embeddings, dtype=torch.float32)
            if z.shape != (n, e_dim):
                raise ValueError(f"embeddings must be ({n}, {e_dim}), got {tuple(z.shape)}")
            keep = torch.ones(n, dtype=torch.bool)
        self.unet.eval()
        self.conditioner.eval()
        gen = generator if generator is not None else torch.Generator().manual_seed(seed)
        s = int(self.unet.config.sample_size)
        x_all = torch.randn(n, 1, s, s, generator=gen)
        if readout is not None and readout_scale != 0.0:
            from .guidance import readout_guided_eps
            guide = (readout, float(readout_scale), readout_guided_eps)
        else:
            guide = None
        out = []
        for i in range(0, n, batch_size):
            sl = slice(i, i + batch_size)
            out.append(self._sample_batch(x_all[sl], lab[sl], z[sl], keep[sl], guidance_scale,
                                          num_inference_steps, eta, gen, guide))
        return torch.cat(out)

    def _sample_batch(self, x, lab, z, keep, g, steps, eta, gen, guide=None):
        sched = _ddim(self.scheduler.config)
        sched.set_timesteps(steps)
        b = len(x)
        null_lab = torch.full_like(lab, self.num_classes)
        no_keep = torch.zeros_like(keep)
        has_cond = bool((lab != self.num_classes).any() or keep.any())
        use_cfg = has_cond and g != 1.0
        for t in sched.timesteps:
            tt = torch.full((b,), int(t), dtype=torch.long)
            if use_cfg:
                eps = self.predict_noise(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([lab, null_lab]),
                                         torch.cat([z, z]), torch.cat([keep, no_keep]))
                e_c, e_u = eps.chunk(2)
                eps = e_u + g * (e_c - e_u)
            else:
                eps = self.predict_noise(x, tt, lab, z, keep)
            if guide is not None:
                readout, scale, fn = guide
                eps = fn(x, eps, sched.alphas_cumprod[int(t)], readout, scale)
            x = sched.step(eps, t, x, eta=eta, generator=gen).prev_sample
        return x.clamp(-1, 1)

    def save_pretrained(self, path: str | os.PathLike, extra: dict | None = None) -> Path:
        """Write the model folder (diffusers layout) at ``path`` (created; existing files overwritten)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(path / "unet")
        self.conditioner.save_pretrained(path / "conditioner")
        self.embedding.save_pretrained(path / "embedding")
        self.scheduler.save_pretrained(path / "scheduler")
        index = {"kind": self.kind, "format_version": 1, "spatial_condition": self.spatial_condition,
                 "embedding_fingerprint": self.embedding.fingerprint(), **(extra or {})}
        (path / MODEL_INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> PixelDiffusion:
        """Load a folder written by :meth:`save_pretrained`."""
        path = _local_dir(path, "PixelDiffusion.from_pretrained")
        index = json.loads((path / MODEL_INDEX).read_text())
        kw = {"low_cpu_mem_usage": False}
        return cls(UNet2DModel.from_pretrained(path / "unet", **kw),
                   ConditionEncoder.from_pretrained(path / "conditioner", **kw),
                   PixelPCAEmbedding.from_pretrained(path / "embedding", **kw),
                   DDPMScheduler.from_pretrained(path / "scheduler"),
                   spatial_condition=bool(index.get("spatial_condition", True)))


class PriorDiffusion:
    """Embedding-space diffusion prior (MLP denoiser + the PCA embedding that defines the space).

    Parameters
    ----------
    prior : EmbeddingPrior
    embedding : PixelPCAEmbedding
    scheduler : diffusers.DDPMScheduler
    """

    kind = "embedding-prior"

    def __init__(self, prior: EmbeddingPrior, embedding: PixelPCAEmbedding, scheduler: DDPMScheduler) -> None:
        self.prior = prior
        self.embedding = embedding
        self.scheduler = scheduler

    @property
    def num_classes(self) -> int:
        return int(self.prior.config.num_classes)

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"prior": self.prior}

    @torch.no_grad()
    def sample(self, n: int | None = None, observation: torch.Tensor | None = None, observation_sigma=None,
               labels=None, guidance_scale: float = 1.0, num_inference_steps: int = 50, seed: int = 0,
               eta: float = 0.0) -> torch.Tensor:
        """Draw whitened embeddings, optionally given noisy observations and/or labels.

        Parameters
        ----------
        n : int, optional
            Number of samples (inferred from ``observation``/``labels`` when omitted).
        observation : torch.Tensor, optional
            ``(n, E)`` observed (noisy or predicted) embeddings.
        observation_sigma : float or array-like, optional
            Noise std of the observations in whitened units (required with ``observation``).
        labels : array-like of int, optional
            Class per sample.
        guidance_scale : float
            Classifier-free guidance on the joint condition (1.0 = plain conditional).

        Returns
        -------
        torch.Tensor
            ``(n, E)`` embeddings.
        """
        if n is None:
            n = len(observation) if observation is not None else (len(labels) if labels is not None else None)
        if n is None:
            raise ValueError("give n, observation or labels")
        e_dim = int(self.prior.config.embedding_dim)
        lab = _labels_tensor(labels, n, self.num_classes)
        if observation is None:
            obs = torch.zeros(n, e_dim)
            keep = torch.zeros(n, dtype=torch.bool)
            sig = torch.zeros(n)
        else:
            if observation_sigma is None:
                raise ValueError("observation_sigma (noise std of the observation, whitened units) is required "
                                 "with observation")
            obs = torch.as_tensor(observation, dtype=torch.float32)
            if obs.shape != (n, e_dim):
                raise ValueError(f"observation must be ({n}, {e_dim}), got {tuple(obs.shape)}")
            keep = torch.ones(n, dtype=torch.bool)
            sig = torch.as_tensor(observation_sigma, dtype=torch.float32).expand(n).clone()
        self.prior.eval()
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, e_dim, generator=gen)
        sched = DDIMScheduler.from_config(self.scheduler.config, clip_sample=False)  # embeddings are unbounded
        sched.set_timesteps(num_inference_steps)
        null_lab = torch.full_like(lab, self.num_classes)
        use_cfg = bool(keep.any() or (lab != self.num_classes).any()) and guidance_scale != 1.0
        for t in sched.timesteps:
            tt = torch.full((n,), int(t), dtype=torch.long)
            if use_cfg:
                eps = self.prior(torch.cat([z, z]), torch.cat([tt, tt]), torch.cat([obs, obs]), torch.cat([sig, sig]),
                                 torch.cat([keep, torch.zeros_like(keep)]), torch.cat([lab, null_lab]))
                e_c, e_u = eps.chunk(2)
                eps = e_u + guidance_scale * (e_c - e_u)
            else:
                eps = self.prior(z, tt, obs, sig, keep, lab)
            z = sched.step(eps, t, z, eta=eta, generator=gen).prev_sample
        return z

    def save_pretrained(self, path: str | os.PathLike, extra: dict | None = None) -> Path:
        """Write the model folder (diffusers layout) at ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.prior.save_pretrained(path / "prior")
        self.embedding.save_pretrained(path / "embedding")
        self.scheduler.save_pretrained(path / "scheduler")
        index = {"kind": self.kind, "format_version": 1, "embedding_fingerprint": self.embedding.fingerprint(),
                 **(extra or {})}
        (path / MODEL_INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> PriorDiffusion:
        path = _local_dir(path, "PriorDiffusion.from_pretrained")
        kw = {"low_cpu_mem_usage": False}
        return cls(EmbeddingPrior.from_pretrained(path / "prior", **kw),
                   PixelPCAEmbedding.from_pretrained(path / "embedding", **kw),
                   DDPMScheduler.from_pretrained(path / "scheduler"))


def load_model(path: str | os.PathLike) -> PixelDiffusion | PriorDiffusion:
    """Load a saved model folder of either kind (reads ``neurorep_model.json``)."""
    path = _local_dir(path, "load_model")
    index_file = path / MODEL_INDEX
    if not index_file.is_file():
        raise FileNotFoundError(f"{path} is not a neurorep diffusion model folder: {MODEL_INDEX} is missing")
    kind = json.loads(index_file.read_text()).get("kind")
    classes = {PixelDiffusion.kind: PixelDiffusion, PriorDiffusion.kind: PriorDiffusion}
    if kind not in classes:
        raise ValueError(f"{index_file}: unknown kind {kind!r}; expected one of {sorted(classes)}")
    return classes[kind].from_pretrained(path)


# --------------------------------------------------------------------------- diffusers pipelines
# The shipped folders also carry a ``model_index.json``, so that diffusers' own loader reads them:
# ``FashionMNISTDiffusionPipeline.from_pretrained(folder)`` (the components' library is this package,
# which diffusers resolves once it has been imported).

from diffusers import DiffusionPipeline  # noqa: E402
from diffusers.pipelines.pipeline_utils import ImagePipelineOutput  # noqa: E402


def _seed_from(generator) -> torch.Generator:
    if generator is None:
        return torch.Generator().manual_seed(0)
    if isinstance(generator, list):
        raise ValueError("pass one torch.Generator (a list of generators is not supported)")
    return generator


class FashionMNISTDiffusionPipeline(DiffusionPipeline):
    """The class- and embedding-conditional Fashion-MNIST model as a diffusers pipeline.

    Parameters
    ----------
    unet : diffusers.UNet2DModel
    conditioner : ConditionEncoder
    embedding : PixelPCAEmbedding
    scheduler : diffusers.DDPMScheduler
    """

    model_cpu_offload_seq = "conditioner->unet"

    def __init__(self, unet: UNet2DModel, conditioner: ConditionEncoder, embedding: PixelPCAEmbedding,
                 scheduler: DDPMScheduler) -> None:
        super().__init__()
        self.register_modules(unet=unet, conditioner=conditioner, embedding=embedding, scheduler=scheduler)

    def as_model(self) -> PixelDiffusion:
        """The same weights as a :class:`PixelDiffusion` (the sampler used everywhere else)."""
        return PixelDiffusion(self.unet, self.conditioner, self.embedding, self.scheduler,
                              spatial_condition=int(self.unet.config.in_channels) == 2)

    @torch.no_grad()
    def __call__(self, batch_size: int = 1, class_labels=None, embeddings=None, guidance_scale: float = 1.0,
                 num_inference_steps: int = 25, generator: torch.Generator | None = None, eta: float = 0.0,
                 output_type: str = "np", return_dict: bool = True):
        """Sample ``batch_size`` images (or one per class label / embedding given).

        Returns an :class:`~diffusers.pipelines.pipeline_utils.ImagePipelineOutput` whose ``images`` are
        ``(n, 28, 28, 1)`` floats in [0, 1] (``output_type="np"``), PIL images (``"pil"``) or the raw
        ``(n, 1, 28, 28)`` tensor in [-1, 1] (``"pt"``).
        """
        n = len(class_labels) if class_labels is not None else (
            len(embeddings) if embeddings is not None else batch_size)
        x = self.as_model().sample(n, labels=class_labels, embeddings=embeddings, guidance_scale=guidance_scale,
                                   num_inference_steps=num_inference_steps, eta=eta,
                                   generator=_seed_from(generator))
        if output_type == "pt":
            images = x
        else:
            images = ((x + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1).numpy()
            if output_type == "pil":
                images = self.numpy_to_pil(images)
        return ImagePipelineOutput(images=images) if return_dict else (images,)


class FashionMNISTPriorPipeline(DiffusionPipeline):
    """The embedding-space diffusion prior as a diffusers pipeline (returns embeddings, not images).

    Parameters
    ----------
    prior : EmbeddingPrior
    embedding : PixelPCAEmbedding
    scheduler : diffusers.DDPMScheduler
    """

    def __init__(self, prior: EmbeddingPrior, embedding: PixelPCAEmbedding, scheduler: DDPMScheduler) -> None:
        super().__init__()
        self.register_modules(prior=prior, embedding=embedding, scheduler=scheduler)

    def as_model(self) -> PriorDiffusion:
        """The same weights as a :class:`PriorDiffusion`."""
        return PriorDiffusion(self.prior, self.embedding, self.scheduler)

    @torch.no_grad()
    def __call__(self, batch_size: int = 1, observation=None, observation_sigma=None, class_labels=None,
                 guidance_scale: float = 1.0, num_inference_steps: int = 50,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Whitened embeddings ``(n, E)`` drawn from the prior (see :meth:`PriorDiffusion.sample`)."""
        seed = int(_seed_from(generator).initial_seed())
        n = None if (observation is not None or class_labels is not None) else batch_size
        return self.as_model().sample(n, observation=observation, observation_sigma=observation_sigma,
                                      labels=class_labels, guidance_scale=guidance_scale,
                                      num_inference_steps=num_inference_steps, seed=seed)


def save_diffusers_folder(model: PixelDiffusion | PriorDiffusion, path: str | os.PathLike,
                          extra: dict | None = None) -> Path:
    """Write ``model`` as a diffusers pipeline folder that :func:`load_model` reads as well.

    The folder holds ``model_index.json`` (:class:`FashionMNISTDiffusionPipeline` or
    :class:`FashionMNISTPriorPipeline`), one sub-folder per component (``config.json`` +
    ``diffusion_pytorch_model.safetensors``; the scheduler's ``scheduler_config.json``) and
    ``neurorep_model.json``. The same weights give byte-identical files.
    """
    path = Path(path)
    if isinstance(model, PixelDiffusion):
        pipe = FashionMNISTDiffusionPipeline(model.unet, model.conditioner, model.embedding, model.scheduler)
    elif isinstance(model, PriorDiffusion):
        pipe = FashionMNISTPriorPipeline(model.prior, model.embedding, model.scheduler)
    else:
        raise TypeError(f"save_diffusers_folder: expected a PixelDiffusion or PriorDiffusion, got {type(model)}")
    pipe.save_pretrained(path, safe_serialization=True)
    model.save_pretrained(path, extra=extra)  # the same component files again, plus neurorep_model.json
    return path
