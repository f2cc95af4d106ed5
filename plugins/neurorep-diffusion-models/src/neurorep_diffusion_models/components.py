"""neurorep components: the shipped Fashion-MNIST generators and a generic local diffusers generator.

* ``generator.fmnist-diffusion`` -- class- and/or embedding-conditioned samples of the shipped UNet,
  optionally brain-guided (a linear readout of the judge's features, BrainDiVE-style);
* ``generator.fmnist-prior`` -- embeddings from the shipped diffusion prior (unconditional, per class,
  or the posterior given noisy/predicted embeddings), decoded to images by the shipped UNet;
* ``generator.diffusers-local`` -- any local diffusers pipeline folder (``model_index.json``), e.g. a
  downloaded SD-Turbo or the shipped ``fmnist-diffusion`` folder.

Constructors only store parameters; weights are loaded on first use and cached per process
(keyed by folder and modification time).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from neurorep import Generator, StimulusSet, Tags
from neurorep.errors import InvalidInputError

__all__ = ["FashionMNISTDiffusionGenerator", "FashionMNISTPriorGenerator", "DiffusersLocalGenerator"]

_FMNIST_CITATION = ("Ho, Jain & Abbeel (2020) Denoising diffusion probabilistic models, NeurIPS, arXiv:2006.11239; "
                    "Ho & Salimans (2022) Classifier-free diffusion guidance, arXiv:2207.12598; data: Xiao, Rasul & "
                    "Vollgraf (2017) Fashion-MNIST, arXiv:1708.07747")


def _mtime_key(path: Path) -> tuple[str, float]:
    index = path / "model_index.json"
    return str(path.resolve()), index.stat().st_mtime if index.is_file() else 0.0


@functools.lru_cache(maxsize=4)
def _load_neurorep_model(path: str, mtime: float):
    from .pipelines import load_model

    return load_model(path)


@functools.lru_cache(maxsize=1)
def _judge():
    from .judge import load_judge

    return load_judge()


def _model_folder(owner: str, weights: str | None, default: str) -> Path:
    from .export import shipped_model_path

    if weights is None:
        return shipped_model_path(default)
    path = Path(weights).expanduser()
    if not path.is_dir():
        raise InvalidInputError(f"{owner}: weights={weights!r} is not an existing folder; give a model folder written "
                                f"by `python -m neurorep_diffusion_models.export` (or leave weights unset for the "
                                f"shipped one).")
    return path


def _load(owner: str, weights: str | None, default: str, kind: type):
    path = _model_folder(owner, weights, default)
    model = _load_neurorep_model(*_mtime_key(path))
    if not isinstance(model, kind):
        raise InvalidInputError(f"{owner}: {path} holds a {type(model).__name__}, expected a {kind.__name__}.")
    return model


def _seed(random_state: int | None) -> int:
    return 0 if random_state is None else int(random_state)


def _labels(owner: str, n: int, class_label: int | None, conditioned: bool, num_classes: int) -> np.ndarray:
    """Class label per sample: ``class_label``; none (null) with an embedding target; else cycling 0..9."""
    if class_label is not None:
        if not 0 <= int(class_label) < num_classes:
            raise InvalidInputError(f"{owner}: class_label must be in 0..{num_classes - 1}, got {class_label}.")
        return np.full(n, int(class_label))
    if conditioned:
        return np.full(n, num_classes)  # the null label
    return np.arange(n) % num_classes


def _as_embeddings(owner: str, value: Any, n: int, dim: int, what: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.shape != (n, dim):
        raise InvalidInputError(f"{owner}: {what} must be an array of shape ({n}, {dim}) for generate({n}), got "
                                f"shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{owner}: {what} contains NaN or inf; give finite whitened embeddings.")
    return arr


def _to_uint8(x) -> np.ndarray:
    from .utils import tensor_to_uint8

    return tensor_to_uint8(x[:, 0])


class FashionMNISTDiffusionGenerator(Generator):
    """Samples of neurorep's shipped Fashion-MNIST diffusion model (28x28 greyscale, 10 classes).

    A diffusers ``UNet2DModel`` conditioned on a class label and/or a 64-d whitened pixel-PCA
    embedding, sampled with DDIM and classifier-free guidance; optionally steered up a linear
    readout of the judge CNN's 128 features (brain-guided synthesis after BrainDiVE; see
    :mod:`neurorep_diffusion_models.guidance`). Figures in ``weights/MODEL_CARD.md``.

    ``generate(n, target, random_state)``: ``target`` may be None (class-conditional samples,
    ``class_label`` or classes 0..9 in turn), an ``(n, 64)`` array of embeddings to decode, an
    ``(n,)`` integer array of class labels, or a mapping with any of ``"labels"``, ``"embeddings"``
    and ``"readout_weights"`` (a ``(128,)`` judge-feature readout to raise, e.g. a fitted voxel's
    encoding weights). The payload is ``(n, 28, 28)`` uint8; descriptors ``class`` (10 = none) and,
    with a readout, ``readout`` (its value on each image).

    Parameters
    ----------
    class_label : int or None, default=None
        Class of every sample (0..9); None cycles through the classes (or, with target embeddings,
        uses no class condition).
    guidance : float, default=1.5
        Classifier-free guidance scale (1 = plain conditional, 0 = unconditional).
    steps : int, default=25
        DDIM steps.
    readout_class : int or None, default=None
        Brain-guidance objective: the judge's logit for this class.
    readout_seed : int or None, default=None
        Brain-guidance objective: a random fixed readout of the judge's features (a stand-in voxel).
    readout_scale : float, default=0.0
        Brain-guidance step size (per-pixel RMS change of the predicted clean image per step; the model
        card records the range that works). 0 = no brain guidance.
    weights : str or None, default=None
        A model folder to use instead of the shipped one.
    """

    id = "generator.fmnist-diffusion"
    version = "0.1.0"
    citation = _FMNIST_CITATION + "; brain guidance: Luo et al. (2023) BrainDiVE, NeurIPS, arXiv:2306.03089"
    tags = Tags(needs_weights=True)

    def __init__(self, class_label: int | None = None, guidance: float = 1.5, steps: int = 25,
                 readout_class: int | None = None, readout_seed: int | None = None, readout_scale: float = 0.0,
                 weights: str | None = None) -> None:
        self.class_label = class_label
        self.guidance = guidance
        self.steps = steps
        self.readout_class = readout_class
        self.readout_seed = readout_seed
        self.readout_scale = readout_scale
        self.weights = weights

    def _readout(self, weights):
        from .guidance import JudgeReadout

        owner = f"Generator {self.id!r}"
        chosen = [k for k, v in (("target readout_weights", weights), ("readout_class", self.readout_class),
                                 ("readout_seed", self.readout_seed)) if v is not None]
        if len(chosen) > 1:
            raise InvalidInputError(f"{owner}: give one brain-guidance objective, got {chosen}.")
        if not chosen:
            if self.readout_scale:
                raise InvalidInputError(f"{owner}: readout_scale={self.readout_scale} needs an objective: set "
                                        "readout_class or readout_seed, or pass target={'readout_weights': w}.")
            return None
        judge = _judge()
        try:
            if weights is not None:
                return JudgeReadout(judge, weights)
            if self.readout_class is not None:
                return JudgeReadout.class_logit(judge, self.readout_class)
            return JudgeReadout.random(judge, int(self.readout_seed))
        except ValueError as exc:
            raise InvalidInputError(f"{owner}: {exc}") from exc

    def generate(self, n: int, target: Any = None, random_state: int | None = None) -> StimulusSet:
        """``n`` images, the same for the same ``random_state`` (see the class docstring for ``target``)."""
        from .pipelines import PixelDiffusion

        owner = f"Generator {self.id!r}"
        model = _load(owner, self.weights, "fmnist-diffusion", PixelDiffusion)
        e_dim = int(model.conditioner.config.embedding_dim)
        labels = embeddings = readout_w = None
        if isinstance(target, Mapping):
            unknown = set(target) - {"labels", "embeddings", "readout_weights"}
            if unknown:
                raise InvalidInputError(f"{owner}: unknown target keys {sorted(unknown)}; expected 'labels', "
                                        "'embeddings' and/or 'readout_weights'.")
            labels, embeddings, readout_w = target.get("labels"), target.get("embeddings"), \
                target.get("readout_weights")
        elif target is not None:
            arr = np.asarray(target)
            if arr.ndim == 2:
                embeddings = arr
            elif arr.ndim == 1 and arr.dtype.kind in "iu":
                labels = arr
            else:
                raise InvalidInputError(f"{owner}: target must be None, an ({n}, {e_dim}) embedding array, an ({n},) "
                                        f"integer label array or a mapping; got an array of shape {arr.shape} and "
                                        f"dtype {arr.dtype}.")
        if embeddings is not None:
            embeddings = _as_embeddings(owner, embeddings, n, e_dim, "target embeddings")
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)
            if len(labels) != n or labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
                raise InvalidInputError(f"{owner}: target labels must be {n} integers in 0..9, got {labels[:10]}.")
        else:
            labels = _labels(owner, n, self.class_label, embeddings is not None, model.num_classes)
        readout = self._readout(readout_w)
        x = model.sample(labels=labels, embeddings=embeddings, guidance_scale=float(self.guidance),
                         num_inference_steps=int(self.steps), seed=_seed(random_state), readout=readout,
                         readout_scale=float(self.readout_scale))
        desc: dict[str, np.ndarray] = {"class": np.asarray(labels, dtype=np.int64)}
        if readout is not None:
            desc["readout"] = readout.score(x)
        return StimulusSet(tuple(f"fmnist-diffusion-{i:04d}" for i in range(n)), modality="image",
                           payload=_to_uint8(x), descriptors=desc, name="fmnist-diffusion")


class FashionMNISTPriorGenerator(Generator):
    """Images from neurorep's shipped embedding-space diffusion prior, decoded by the shipped UNet.

    The prior (after MindEye's diffusion prior) draws 64-d whitened pixel-PCA embeddings --
    unconditionally, per class, or from the posterior given observed noisy or brain-predicted
    embeddings ``y = z + sigma * noise`` -- and the UNet turns each into an image.

    ``generate(n, target, random_state)``: ``target`` may be None or an ``(n, 64)`` array of
    observed embeddings. The payload is ``(n, 28, 28)`` uint8 images (or, with ``decode=False``,
    the ``(n, 64)`` embeddings); descriptors ``class`` and ``embedding``.

    Parameters
    ----------
    class_label : int or None, default=None
        Class condition of every sample; None cycles through 0..9 (or, with observed embeddings,
        uses no class condition).
    guidance : float, default=2.0
        Classifier-free guidance of the prior on its condition.
    steps : int, default=50
        DDIM steps of the prior.
    observation_sigma : float, default=1.02
        Noise std of observed embeddings in whitened units (1.02 = correlation about 0.7).
    n_average : int, default=1
        Average this many posterior samples per observation (a Monte-Carlo posterior mean; the model
        card decodes noisy embeddings with 8). Only with observed embeddings.
    decode : bool, default=True
        Decode the embeddings to images with the UNet (else return the embeddings).
    decoder_steps : int, default=25
        DDIM steps of the UNet.
    weights : str or None, default=None
        A prior folder to use instead of the shipped one.
    decoder_weights : str or None, default=None
        A UNet folder to use instead of the shipped one.
    """

    id = "generator.fmnist-prior"
    version = "0.1.0"
    citation = ("Scotti et al. (2023) MindEye, NeurIPS, arXiv:2305.18274 (diffusion prior); Ramesh et al. (2022) "
                "arXiv:2204.06125; " + _FMNIST_CITATION)
    tags = Tags(needs_weights=True)

    def __init__(self, class_label: int | None = None, guidance: float = 2.0, steps: int = 50,
                 observation_sigma: float = 1.02, n_average: int = 1, decode: bool = True, decoder_steps: int = 25,
                 weights: str | None = None, decoder_weights: str | None = None) -> None:
        self.class_label = class_label
        self.guidance = guidance
        self.steps = steps
        self.observation_sigma = observation_sigma
        self.n_average = n_average
        self.decode = decode
        self.decoder_steps = decoder_steps
        self.weights = weights
        self.decoder_weights = decoder_weights

    def generate(self, n: int, target: Any = None, random_state: int | None = None) -> StimulusSet:
        """``n`` images (or embeddings), the same for the same ``random_state``."""
        from .pipelines import PixelDiffusion, PriorDiffusion

        owner = f"Generator {self.id!r}"
        prior = _load(owner, self.weights, "fmnist-prior", PriorDiffusion)
        e_dim = int(prior.prior.config.embedding_dim)
        obs = None if target is None else _as_embeddings(owner, target, n, e_dim, "target (observed embeddings)")
        labels = _labels(owner, n, self.class_label, obs is not None, prior.num_classes)
        seed = _seed(random_state)
        if int(self.n_average) < 1 or (int(self.n_average) > 1 and obs is None):
            raise InvalidInputError(f"{owner}: n_average must be >= 1, and > 1 only with observed embeddings "
                                    f"(a posterior mean); got n_average={self.n_average} with "
                                    f"{'no' if obs is None else 'a'} target.")
        import torch

        z = torch.stack([
            prior.sample(observation=obs, observation_sigma=None if obs is None else float(self.observation_sigma),
                         labels=labels, guidance_scale=float(self.guidance), num_inference_steps=int(self.steps),
                         seed=seed + k)
            for k in range(int(self.n_average))]).mean(0)
        desc = {"class": labels.astype(np.int64), "embedding": z.numpy()}
        ids = tuple(f"fmnist-prior-{i:04d}" for i in range(n))
        if not self.decode:
            return StimulusSet(ids, modality="other", payload=z.numpy(), descriptors=desc, name="fmnist-prior")
        unet = _load(owner, self.decoder_weights, "fmnist-diffusion", PixelDiffusion)
        if unet.embedding.fingerprint() != prior.embedding.fingerprint():
            raise InvalidInputError(f"{owner}: the prior and the decoder use different embeddings (fingerprints "
                                    f"{prior.embedding.fingerprint()} vs {unet.embedding.fingerprint()}); give "
                                    "models trained in the same embedding space.")
        x = unet.sample(embeddings=z, guidance_scale=1.0, num_inference_steps=int(self.decoder_steps), seed=seed)
        return StimulusSet(ids, modality="image", payload=_to_uint8(x), descriptors=desc, name="fmnist-prior")


def _resolve_pipeline_class(owner: str, path: Path, pipeline_class: str | None):
    import diffusers

    if pipeline_class:
        module, _, name = pipeline_class.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise InvalidInputError(f"{owner}: pipeline_class={pipeline_class!r} cannot be imported ({exc}); give "
                                    "'package.module:ClassName'.") from exc
    name = json.loads((path / "model_index.json").read_text()).get("_class_name")
    if name and hasattr(diffusers, name):
        return getattr(diffusers, name)
    from . import pipelines

    if name and hasattr(pipelines, name):
        return getattr(pipelines, name)
    raise InvalidInputError(f"{owner}: {path}/model_index.json names pipeline class {name!r}, which neither diffusers "
                            "nor neurorep_diffusion_models provides; pass pipeline_class='package.module:ClassName'.")


@functools.lru_cache(maxsize=2)
def _load_pipeline(path: str, mtime: float, pipeline_class: str | None):
    owner = f"Generator {DiffusersLocalGenerator.id!r}"
    cls = _resolve_pipeline_class(owner, Path(path), pipeline_class)
    pipe = cls.from_pretrained(path, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _images_array(images) -> np.ndarray:
    if isinstance(images, list):  # PIL images
        images = np.stack([np.asarray(im) for im in images])
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        arr = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return arr


class DiffusersLocalGenerator(Generator):
    """Images from any local diffusers pipeline folder (``model_index.json`` + component folders).

    The pipeline is loaded with ``from_pretrained(path, local_files_only=True)`` -- never from the
    network -- and called with the arguments its ``__call__`` accepts: ``num_inference_steps``,
    ``generator`` (seeded from ``random_state``), ``guidance_scale``, ``prompt`` (with
    ``num_images_per_prompt``), ``class_labels``, or ``batch_size``. Works for unconditional
    (``DDPMPipeline``), class-conditional (``DiTPipeline``, neurorep's ``fmnist-diffusion``) and
    text-to-image pipelines (e.g. a downloaded SD-Turbo folder; ``needs_gpu`` is not declared
    because the small ones run on the CPU). The payload is ``(n, H, W)`` (greyscale) or
    ``(n, H, W, C)`` uint8.

    Parameters
    ----------
    path : str
        The pipeline folder.
    prompt : str or None, default=None
        Text prompt, for pipelines that take one.
    class_labels : list of int or None, default=None
        Class labels, used in turn, for class-conditional pipelines.
    guidance_scale : float or None, default=None
        Passed when set (None keeps the pipeline's default).
    num_inference_steps : int, default=25
        Denoising steps.
    pipeline_class : str or None, default=None
        ``"package.module:ClassName"`` when ``model_index.json`` names a class outside diffusers.
    """

    id = "generator.diffusers-local"
    version = "0.1.0"
    citation = ("von Platen et al. (2022) Diffusers: state-of-the-art diffusion models, "
                "https://github.com/huggingface/diffusers")
    tags = Tags(needs_weights=True)

    def __init__(self, path: str, prompt: str | None = None, class_labels: list[int] | None = None,
                 guidance_scale: float | None = None, num_inference_steps: int = 25,
                 pipeline_class: str | None = None) -> None:
        self.path = path
        self.prompt = prompt
        self.class_labels = class_labels
        self.guidance_scale = guidance_scale
        self.num_inference_steps = num_inference_steps
        self.pipeline_class = pipeline_class

    @classmethod
    def _conformance_instances(cls) -> list[DiffusersLocalGenerator]:
        from .export import shipped_model_path

        return [cls(str(shipped_model_path("fmnist-diffusion")), class_labels=[0, 5, 9], num_inference_steps=5)]

    def generate(self, n: int, target: Any = None, random_state: int | None = None) -> StimulusSet:
        """``n`` images from the pipeline, the same for the same ``random_state`` (``target`` is not used)."""
        import torch

        owner = f"Generator {self.id!r}"
        path = Path(self.path).expanduser()
        if not (path / "model_index.json").is_file():
            raise InvalidInputError(f"{owner}: {path} is not a diffusers pipeline folder (no model_index.json); give "
                                    "the folder that holds model_index.json and the component sub-folders.")
        if target is not None:
            raise InvalidInputError(f"{owner}: target is not used by this generator; condition with prompt or "
                                    "class_labels instead.")
        pipe = _load_pipeline(*_mtime_key(path), self.pipeline_class)
        accepted = set(inspect.signature(pipe.__call__).parameters)
        kw: dict[str, Any] = {"generator": torch.Generator().manual_seed(_seed(random_state))}
        if "num_inference_steps" in accepted:
            kw["num_inference_steps"] = int(self.num_inference_steps)
        if self.guidance_scale is not None:
            if "guidance_scale" not in accepted:
                raise InvalidInputError(f"{owner}: {type(pipe).__name__} takes no guidance_scale; leave it unset.")
            kw["guidance_scale"] = float(self.guidance_scale)
        if "output_type" in accepted:
            kw["output_type"] = "np"
        if self.prompt is not None:
            if "prompt" not in accepted:
                raise InvalidInputError(f"{owner}: {type(pipe).__name__} takes no prompt; leave prompt unset.")
            kw["prompt"] = self.prompt
            kw["num_images_per_prompt"] = n
        elif self.class_labels is not None:
            if "class_labels" not in accepted:
                raise InvalidInputError(f"{owner}: {type(pipe).__name__} takes no class_labels; leave them unset.")
            labels = [int(c) for c in self.class_labels]
            if not labels:
                raise InvalidInputError(f"{owner}: class_labels is empty; give at least one label or None.")
            kw["class_labels"] = [labels[i % len(labels)] for i in range(n)]
        elif "batch_size" in accepted:
            kw["batch_size"] = n
        elif "num_images_per_prompt" in accepted:
            kw["num_images_per_prompt"] = n
        else:
            raise InvalidInputError(f"{owner}: cannot ask {type(pipe).__name__} for {n} images (its __call__ takes "
                                    f"none of batch_size, num_images_per_prompt, class_labels).")
        out = pipe(**kw)
        arr = _images_array(out.images if hasattr(out, "images") else out[0])
        if len(arr) != n:
            raise InvalidInputError(f"{owner}: {type(pipe).__name__} returned {len(arr)} images for {n} requested.")
        desc = {"class": np.asarray(kw["class_labels"], dtype=np.int64)} if "class_labels" in kw else {}
        return StimulusSet(tuple(f"diffusers-{i:04d}" for i in range(n)), modality="image", payload=arr,
                           descriptors=desc, name=path.name or "diffusers")
