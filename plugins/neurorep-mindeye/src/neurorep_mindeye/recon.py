"""Numerics of MindEye's reconstruction path at small scale: ridge mapping, decoding, scores, permutation nulls.

The numpy parts (ridge with leave-one-out alpha choice, pairwise image metrics, two-way identification and
its pairing-permutation null) import nothing heavy. The generator parts (:func:`shipped_models`,
:func:`embed_images`, :func:`decode`) import torch and ``neurorep_diffusion_models`` (diffusers) on call.

Two-way identification follows MindEye and Brain-Diffuser: reconstruction ``i`` is scored against every other
stimulus ``j``; a trial is correct when its features correlate more with the features of image ``i`` than with
those of image ``j`` (Pearson over features); chance is 0.5.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["RIDGE_ALPHAS", "ridge_loo", "pairwise_correlation", "pairwise_ssim", "two_way_from_blocks",
           "two_way_ranks", "permutation_null_two_way", "permutation_null_diagonal", "shipped_models",
           "embed_images", "decode"]

#: The ridge penalties searched (on z-scored voxels) by efficient leave-one-out cross-validation.
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 6, 17))


def ridge_loo(X: np.ndarray, Y: np.ndarray, alphas=RIDGE_ALPHAS) -> dict:
    """Multi-output ridge regression with intercept; the penalty is chosen by exact leave-one-out error.

    One penalty for all outputs (the one with the smallest leave-one-out mean squared error summed over
    outputs), computed from one SVD of the centred ``X`` (the hat-matrix shortcut of ridge LOO residuals).

    Parameters
    ----------
    X : ndarray (n, p)
    Y : ndarray (n, k)
    alphas : sequence of float

    Returns
    -------
    dict
        ``coef`` (p, k), ``intercept`` (k,), ``x_mean`` (p,), ``alpha``, ``loo_residuals`` (n, k) at the
        chosen alpha, ``loo_mse`` (per alpha).
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    n = len(X)
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    UtY = U.T @ Yc
    best = None
    mses = []
    for a in alphas:
        d = s**2 / (s**2 + a)
        fitted = U @ (d[:, None] * UtY)
        # leverage of the centred design plus 1/n for the intercept
        h = (U**2) @ d + 1.0 / n
        res = (Yc - fitted) / (1.0 - h)[:, None]
        mse = float(np.mean(res**2))
        mses.append(mse)
        if best is None or mse < best[0] - 1e-15:
            best = (mse, a, res)
    _, a, res = best
    coef = Vt.T @ ((s / (s**2 + a))[:, None] * UtY)
    return {"coef": coef, "intercept": ym - xm @ coef, "x_mean": xm, "alpha": float(a), "loo_residuals": res,
            "loo_mse": mses}


def _zrows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float).reshape(len(a), -1)
    a = a - a.mean(1, keepdims=True)
    nrm = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.where(nrm > 0, nrm, 1.0)


def pairwise_correlation(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation of every prediction row with every target row over features, ``(n_pred, n_target)``."""
    return _zrows(pred) @ _zrows(target).T


def pairwise_ssim(a: np.ndarray, b: np.ndarray, data_range: float = 2.0, sigma: float = 1.5,
                  chunk: int = 4096) -> np.ndarray:
    """SSIM (Wang et al. 2004, Gaussian window sigma 1.5 truncated at 3.5 sigma) of every image of ``a``
    with every image of ``b``, ``(n_a, n_b)``; the mean map over the interior the full window covers.

    The diagonal equals ``neurorep_diffusion_models.evaluate.ssim`` (itself equal to scikit-image's
    Gaussian-window SSIM) on the matched pairs.
    """
    from scipy.ndimage import gaussian_filter

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    truncate = 3.5
    pad = int(truncate * sigma + 0.5)

    def filt(v):
        return gaussian_filter(v, sigma=(0, sigma, sigma), truncate=truncate, mode="reflect")

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ma, mb = filt(a), filt(b)
    va, vb = filt(a * a) - ma * ma, filt(b * b) - mb * mb
    na, nb = len(a), len(b)
    out = np.empty((na, nb))
    pairs = [(i, j) for i in range(na) for j in range(nb)]
    for start in range(0, len(pairs), chunk):
        idx = np.array(pairs[start:start + chunk])
        i, j = idx[:, 0], idx[:, 1]
        cab = filt(a[i] * b[j]) - ma[i] * mb[j]
        s = ((2 * ma[i] * mb[j] + c1) * (2 * cab + c2)) / ((ma[i] ** 2 + mb[j] ** 2 + c1) * (va[i] + vb[j] + c2))
        out[i, j] = s[:, pad:-pad, pad:-pad].mean(axis=(1, 2))
    return out


def two_way_ranks(sim: np.ndarray) -> np.ndarray:
    """``R[i, k]``: the number of columns ``j`` with ``sim[i, j] < sim[i, k]`` (strictly; ties count as wrong)."""
    sim = np.asarray(sim, dtype=float)
    return (sim[:, None, :] < sim[:, :, None]).sum(-1)


def two_way_from_blocks(blocks) -> float:
    """Two-way identification pooled over (prediction x target) similarity blocks whose diagonals hold the matches.

    The fraction of ordered pairs ``(i, j != i)`` within a block with ``sim[i, i] > sim[i, j]``; chance 0.5.
    One block is the usual definition (MindEye, Brain-Diffuser). Blocks are cross-validation folds: every
    prediction of a block comes from the same fitted model, as in MindEye's test set, so a fold's shared
    offset (e.g. its training mean) cannot favour or penalise the matched pair.
    """
    blocks = [np.asarray(b, dtype=float) for b in blocks]
    if any(len(b) < 2 for b in blocks):
        raise ValueError(f"two-way identification needs at least 2 items per block, got {[len(b) for b in blocks]}")
    hits = sum(float(np.trace(two_way_ranks(b))) for b in blocks)
    return hits / sum(len(b) * (len(b) - 1) for b in blocks)


def permutation_null_two_way(blocks, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Null of :func:`two_way_from_blocks` when the prediction-target pairing is permuted within each block."""
    hits = np.zeros(n_permutations)
    total = 0
    for b in blocks:
        ranks = two_way_ranks(b)
        n = len(b)
        perms = rng.permuted(np.broadcast_to(np.arange(n), (n_permutations, n)), axis=-1)
        hits += ranks[np.arange(n)[None, :], perms].sum(-1)
        total += n * (n - 1)
    return hits / total


def permutation_null_diagonal(blocks, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Null of the mean matched value (the pooled diagonals of ``blocks``) when the pairing is permuted within
    each block, ``(n_permutations,)``."""
    sums = np.zeros(n_permutations)
    total = 0
    for b in blocks:
        n = len(b)
        perms = rng.permuted(np.broadcast_to(np.arange(n), (n_permutations, n)), axis=-1)
        sums += np.asarray(b)[np.arange(n)[None, :], perms].sum(-1)
        total += n
    return sums / total


# ----------------------------------------------------------------------------- generator side (torch, diffusers)

@functools.lru_cache(maxsize=1)
def shipped_models():
    """The shipped Fashion-MNIST UNet decoder, embedding prior and judge (loaded once per process).

    Returns
    -------
    (PixelDiffusion, PriorDiffusion, Judge)
    """
    from neurorep_diffusion_models.export import shipped_model_path
    from neurorep_diffusion_models.judge import load_judge
    from neurorep_diffusion_models.pipelines import load_model

    decoder = load_model(shipped_model_path("fmnist-diffusion"))
    prior = load_model(shipped_model_path("fmnist-prior"))
    if decoder.embedding.fingerprint() != prior.embedding.fingerprint():  # pragma: no cover - shipped together
        raise RuntimeError("the shipped prior and decoder use different embeddings")
    return decoder, prior, load_judge()


def embed_images(images: np.ndarray) -> np.ndarray:
    """The decoder's 64-d whitened pixel-PCA embedding of ``(n, 28, 28)`` images in [-1, 1], as float64."""
    import torch

    decoder, _, _ = shipped_models()
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))[:, None]
    with torch.no_grad():
        return decoder.embedding.embed(x).double().numpy()


def decode(pred: np.ndarray, *, prior: bool, observation_sigma: float, prior_samples: int, prior_guidance: float,
           prior_steps: int, decoder_steps: int, decoder_guidance: float, seed: int) -> dict[str, np.ndarray]:
    """Reconstruct images from predicted embeddings.

    Returns
    -------
    dict
        ``diffusion`` (n, 28, 28) in [-1, 1]: the UNet's decoding of the predicted embedding or, with
        ``prior``, of the mean of ``prior_samples`` posterior samples of the prior given the prediction as
        an observation with noise ``observation_sigma``; ``pca`` (n, 28, 28): the linear PCA inverse of the
        prediction, clipped to [-1, 1]; ``embedding`` (n, 64): what the UNet was given.
    """
    import torch

    decoder, prior_model, _ = shipped_models()
    obs = torch.as_tensor(np.asarray(pred, dtype=np.float32))
    cond = obs
    if prior:
        cond = torch.stack([prior_model.sample(observation=obs, observation_sigma=float(observation_sigma),
                                               guidance_scale=float(prior_guidance),
                                               num_inference_steps=int(prior_steps), seed=int(seed) + 7 * k)
                            for k in range(int(prior_samples))]).mean(0)
    recon = decoder.sample(embeddings=cond, guidance_scale=float(decoder_guidance),
                           num_inference_steps=int(decoder_steps), seed=int(seed))
    with torch.no_grad():
        linear = decoder.embedding.decode(obs).clamp(-1, 1)
    return {"diffusion": recon[:, 0].double().numpy(), "pca": linear[:, 0].double().numpy(),
            "embedding": cond.double().numpy()}
