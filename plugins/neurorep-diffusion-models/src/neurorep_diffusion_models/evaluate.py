"""Generator evaluation: judge agreement, pixel correlation, SSIM, 2-way identification, linear baselines.

All image arguments are stimuli-first: ``(n, 28, 28)`` or ``(n, 1, 28, 28)`` floats in
[-1, 1] (uint8 0..255 is accepted where noted).

CLI (monitoring a run)::

    python -m neurorep_diffusion_models.evaluate --run RUN_DIR [--prior PRIOR_RUN_DIR] [--n-per-class 10]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from .judge import Judge, load_judge

__all__ = [
    "as_images",
    "class_agreement",
    "pixel_correlation",
    "ssim",
    "two_way_identification",
    "RidgeDecoder",
    "evaluate_images",
    "evaluate_class_conditional",
    "noisy_embeddings",
    "evaluate_decoding",
    "save_grid",
    "main",
]


def as_images(images) -> np.ndarray:
    """``(n, 28, 28)`` float64 in [-1, 1] from a tensor/array of shape (n, h, w) or (n, 1, h, w); uint8 rescaled."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float64) / 127.5 - 1.0
    arr = arr.astype(np.float64)
    if arr.ndim == 4:
        if arr.shape[1] != 1:
            raise ValueError(f"expected single-channel images (n, 1, h, w), got {arr.shape}")
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise ValueError(f"expected images (n, h, w) or (n, 1, h, w), got shape {arr.shape}")
    return arr


def class_agreement(judge: Judge, images, labels) -> float:
    """Fraction of images the judge assigns to ``labels``."""
    labels = np.asarray(labels).reshape(-1)
    pred = judge.predict(as_images(images).astype(np.float32))
    if len(pred) != len(labels):
        raise ValueError(f"{len(pred)} images but {len(labels)} labels")
    return float(np.mean(pred == labels))


def pixel_correlation(a, b) -> np.ndarray:
    """Pearson correlation between corresponding images over pixels, ``(n,)``."""
    x = as_images(a).reshape(len(a), -1)
    y = as_images(b).reshape(len(b), -1)
    if x.shape != y.shape:
        raise ValueError(f"image sets differ in shape: {x.shape} vs {y.shape}")
    x = x - x.mean(1, keepdims=True)
    y = y - y.mean(1, keepdims=True)
    den = np.sqrt((x * x).sum(1) * (y * y).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (x * y).sum(1) / np.where(den > 0, den, 1), 0.0)


def ssim(a, b, data_range: float = 2.0, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> np.ndarray:
    """Structural similarity of corresponding images (Wang et al. 2004), ``(n,)``.

    Gaussian-weighted local statistics (``sigma`` 1.5, window truncated at 3.5 sigma,
    i.e. 11x11), population covariances, and the mean SSIM map over the interior
    that the full window covers (as in the reference implementation).

    Parameters
    ----------
    a, b : image sets of equal shape.
    data_range : float
        Dynamic range of the pixel values (2.0 for images in [-1, 1]).
    """
    x, y = as_images(a), as_images(b)
    if x.shape != y.shape:
        raise ValueError(f"image sets differ in shape: {x.shape} vs {y.shape}")
    truncate = 3.5
    pad = int(truncate * sigma + 0.5)
    if min(x.shape[1:]) <= 2 * pad:
        raise ValueError(f"images {x.shape[1:]} are too small for an SSIM window of radius {pad}")

    def filt(v):
        return gaussian_filter(v, sigma=(0, sigma, sigma), truncate=truncate, mode="reflect")

    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mx, my = filt(x), filt(y)
    vx = filt(x * x) - mx * mx
    vy = filt(y * y) - my * my
    cxy = filt(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s[:, pad:-pad, pad:-pad].mean(axis=(1, 2))


def two_way_identification(predicted: np.ndarray, target: np.ndarray) -> float:
    """2-way identification accuracy (as in MindEye / Brain-Diffuser).

    For each item ``i`` and every other item ``j``, a trial is correct when the
    prediction for ``i`` correlates more with target ``i`` than with target ``j``.

    Parameters
    ----------
    predicted, target : numpy.ndarray
        ``(n, n_features)`` feature vectors (stimuli first), n >= 2.

    Returns
    -------
    float
        Mean fraction of correct trials (chance 0.5).
    """
    p = np.asarray(predicted, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 2 or len(p) < 2:
        raise ValueError(f"expected two (n >= 2, n_features) arrays of one shape, got {p.shape} and {t.shape}")

    def z(v):
        v = v - v.mean(1, keepdims=True)
        nrm = np.linalg.norm(v, axis=1, keepdims=True)
        return v / np.where(nrm > 0, nrm, 1)

    c = z(p) @ z(t).T
    diag = np.diag(c)[:, None]
    off = ~np.eye(len(c), dtype=bool)
    return float(((diag > c) & off).sum() / off.sum())


class RidgeDecoder:
    """Linear decoder from features to pixels: closed-form ridge regression with intercept.

    Parameters
    ----------
    alpha : float
        L2 penalty.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, features: np.ndarray, images) -> RidgeDecoder:
        """``(n, k)`` features and their images -> fitted decoder."""
        f = np.asarray(features, dtype=np.float64)
        y = as_images(images).reshape(len(f), -1)
        self.f_mean_, self.y_mean_ = f.mean(0), y.mean(0)
        fc = f - self.f_mean_
        a = fc.T @ fc + self.alpha * np.eye(f.shape[1])
        self.coef_ = np.linalg.solve(a, fc.T @ (y - self.y_mean_))
        self.shape_ = as_images(images).shape[1:]
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Decoded images ``(n, h, w)``, clipped to [-1, 1]."""
        f = np.asarray(features, dtype=np.float64)
        y = (f - self.f_mean_) @ self.coef_ + self.y_mean_
        return np.clip(y, -1, 1).reshape(len(f), *self.shape_)


def evaluate_images(judge: Judge, generated, reference, labels=None) -> dict[str, float]:
    """Metrics of generated images against reference images (reconstruction setting).

    Returns
    -------
    dict
        ``class_agreement`` (judge(generated) == labels, if given), ``judge_agreement`` (judge(generated) ==
        judge(reference)), ``pixel_correlation`` and ``ssim`` (means), ``two_way_identification`` (judge
        features), ``n``.
    """
    g = as_images(generated).astype(np.float32)
    r = as_images(reference).astype(np.float32)
    out = {
        "n": int(len(g)),
        "judge_agreement": float(np.mean(judge.predict(g) == judge.predict(r))),
        "pixel_correlation": float(np.mean(pixel_correlation(g, r))),
        "ssim": float(np.mean(ssim(g, r))),
        "two_way_identification": two_way_identification(judge.features(g), judge.features(r)),
    }
    if labels is not None:
        out["class_agreement"] = class_agreement(judge, g, labels)
    return out


def evaluate_class_conditional(model, judge: Judge, n_per_class: int = 10, guidance_scale: float = 3.0,
                               num_inference_steps: int = 25, seed: int = 0) -> tuple[dict, torch.Tensor]:
    """Sample ``n_per_class`` images per class and report the judge's class agreement.

    Returns
    -------
    (dict, torch.Tensor)
        Metrics (overall and per-class agreement) and the samples ``(10 * n_per_class, 1, 28, 28)``.
    """
    labels = np.repeat(np.arange(model.num_classes), n_per_class)
    x = model.sample(labels=labels, guidance_scale=guidance_scale, num_inference_steps=num_inference_steps,
                     seed=seed)
    pred = judge.predict(x.numpy())
    per_class = [float(np.mean(pred[labels == c] == c)) for c in range(model.num_classes)]
    return {"class_agreement": float(np.mean(pred == labels)), "per_class": per_class, "n": int(len(labels)),
            "guidance_scale": guidance_scale, "num_inference_steps": num_inference_steps, "seed": seed}, x


def noisy_embeddings(z: torch.Tensor, sigma: float, seed: int = 0) -> torch.Tensor:
    """``z + sigma * noise`` (whitened units; sigma 1.02 gives correlation about 0.7 with ``z``)."""
    g = torch.Generator().manual_seed(seed)
    return z + sigma * torch.randn(z.shape, generator=g)


def evaluate_decoding(model, judge: Judge, images, labels, prior=None, sigma: float = 0.0,
                      guidance_scale: float = 1.0, prior_guidance: float = 1.0, num_inference_steps: int = 25,
                      seed: int = 0, return_images: bool = False, prior_samples: int = 1) -> dict[str, dict]:
    """Decode images from their (optionally noisy) embeddings; compare with the PCA linear decoder.

    Parameters
    ----------
    model : PixelDiffusion
    images, labels : held-out images (uint8 or [-1, 1]) and their classes.
    prior : PriorDiffusion, optional
        If given and ``sigma > 0``, the noisy embedding is first mapped through the prior.
    sigma : float
        Observation noise std in whitened units.
    prior_samples : int
        With a prior: average this many posterior samples (seeds ``seed, seed + 1, ...``), a Monte-Carlo
        estimate of the posterior mean, before decoding.
    return_images : bool
        Also return the images under ``"images"``: ``{"original", "diffusion", "linear_pca"}``, each
        ``(n, 1, 28, 28)`` in [-1, 1].

    Returns
    -------
    dict
        ``{"diffusion": metrics, "linear_pca": metrics, "settings": ...}``; metrics as :func:`evaluate_images`.
    """
    x = torch.as_tensor(as_images(images), dtype=torch.float32)[:, None]
    with torch.no_grad():
        z = model.embedding.embed(x)
    obs = noisy_embeddings(z, sigma, seed=seed) if sigma > 0 else z
    cond = obs
    if prior is not None and sigma > 0:
        cond = torch.stack([prior.sample(observation=obs, observation_sigma=sigma, guidance_scale=prior_guidance,
                                         num_inference_steps=50, seed=seed + k)
                            for k in range(max(1, int(prior_samples)))]).mean(0)
    recon = model.sample(embeddings=cond, guidance_scale=guidance_scale, num_inference_steps=num_inference_steps,
                         seed=seed)
    with torch.no_grad():
        linear = model.embedding.decode(obs).clamp(-1, 1)
    corr = float(np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(z.numpy(), obs.numpy(), strict=False)]))
    out = {
        "diffusion": evaluate_images(judge, recon, x, labels),
        "linear_pca": evaluate_images(judge, linear, x, labels),
        "settings": {"sigma": sigma, "embedding_correlation": corr, "prior": prior is not None,
                     "guidance_scale": guidance_scale, "prior_guidance": prior_guidance,
                     "prior_samples": int(prior_samples) if prior is not None else 0,
                     "num_inference_steps": num_inference_steps, "seed": seed, "n": int(len(x))},
    }
    if return_images:
        out["images"] = {"original": x, "diffusion": recon, "linear_pca": linear}
    return out


def save_grid(images, path: str | Path, nrow: int = 10, scale: int = 2) -> Path:
    """Save images ``(n, 1, h, w)`` / ``(n, h, w)`` in [-1, 1] as one PNG grid (``nrow`` per row)."""
    from PIL import Image

    arr = np.clip(np.rint((as_images(images) + 1) * 127.5), 0, 255).astype(np.uint8)
    n, h, w = arr.shape
    rows = -(-n // nrow)
    grid = np.full((rows * (h + 2) + 2, nrow * (w + 2) + 2), 255, dtype=np.uint8)
    for i, im in enumerate(arr):
        r, c = divmod(i, nrow)
        grid[2 + r * (h + 2):2 + r * (h + 2) + h, 2 + c * (w + 2):2 + c * (w + 2) + w] = im
    img = Image.fromarray(grid, mode="L")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    """CLI: class-conditional agreement (and optional decoding) of a run's newest checkpoint."""
    from .data import load_fashion_mnist
    from .train import latest_checkpoint, load_run_model

    p = argparse.ArgumentParser(prog="python -m neurorep_diffusion_models.evaluate",
                                description="Evaluate a training run's newest EMA checkpoint with the judge.")
    p.add_argument("--run", required=True, help="pixel UNet run folder")
    p.add_argument("--prior", default=None, help="prior run folder (for noisy-embedding decoding)")
    p.add_argument("--n-per-class", type=int, default=10)
    p.add_argument("--guidance", type=float, nargs="+", default=[3.0])
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--decode", type=int, default=0, help="number of test images to decode (0 = skip)")
    p.add_argument("--sigma", type=float, default=1.02, help="noise std for the noisy-embedding decoding")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--grid", default=None, help="PNG path for a class-conditional sample grid")
    p.add_argument("--judge", default=None, help="judge weights (default: the shipped ones)")
    p.add_argument("--out", default=None, help="write the report as JSON here")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    judge = load_judge(a.judge)
    model = load_run_model(a.run)
    prior = load_run_model(a.prior) if a.prior else None
    report: dict = {"checkpoint": str(latest_checkpoint(a.run)), "class_conditional": []}
    for g in a.guidance:
        m, x = evaluate_class_conditional(model, judge, a.n_per_class, g, a.steps)
        report["class_conditional"].append(m)
        print(json.dumps(m), flush=True)
        if a.grid:
            save_grid(x, Path(a.grid).with_name(f"{Path(a.grid).stem}-g{g:g}.png"), nrow=a.n_per_class)
    if a.decode:
        test = load_fashion_mnist("test")
        imgs, labs = test.images[:a.decode], test.labels[:a.decode]
        report["decode_clean"] = evaluate_decoding(model, judge, imgs, labs, num_inference_steps=a.steps)
        print(json.dumps(report["decode_clean"]), flush=True)
        report["decode_noisy"] = evaluate_decoding(model, judge, imgs, labs, prior=prior, sigma=a.sigma,
                                                   num_inference_steps=a.steps)
        print(json.dumps(report["decode_noisy"]), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
