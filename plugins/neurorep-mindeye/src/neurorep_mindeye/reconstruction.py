"""The ``mindeye.reconstruction`` analyzer: brain -> image embedding -> diffusion prior -> image, cross-validated."""

from __future__ import annotations

from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Tags, align
from neurorep.errors import InvalidInputError

from ._meta import CITATION

__all__ = ["MindEyeReconstruction"]

_DECODERS = ("diffusion", "pca")


class MindEyeReconstruction(Analyzer):
    """MindEye reconstruction: voxels -> predicted image embedding -> diffusion prior -> generator -> image.

    ``x`` is the brain representation (stimuli x voxels, optionally with ``repeats``); ``y`` holds the
    **images** the stimuli were, flattened (stimuli x pixels, e.g. 784 for the 28 x 28 Fashion-MNIST images;
    ``synthetic.fmnist-embedding-brain`` serves them as its ``pixels`` site). Images are the input rather than
    embeddings because the image is what a reconstruction is scored against, and because the target
    embedding is the generator's own: the analyzer embeds the images with the shipped decoder's 64-d
    whitened pixel-PCA embedding (``neurorep-diffusion-models``), as MindEye embeds the seen images with
    the frozen CLIP image encoder that its generator is conditioned on. Images of another size are resized
    (bilinear) to 28 x 28; pixel values are mapped from ``pixel_range`` to [-1, 1].

    Both inputs are aligned on stimulus ids and put in sorted-id order. The stimuli are split into
    ``folds`` folds; for each fold the brain -> embedding mapping is trained on the others (voxels z-scored
    with training statistics) and predicts the held-out stimuli's embeddings (with ``repeats``, the query
    is the mean over repeats):

    * ``mapping="ridge"``: multi-output ridge regression with one penalty chosen by exact leave-one-out
      error on the training fold (the linear baseline of the decoding literature);
    * ``mapping="mlp"``: MindEye's residual MLP backbone + projector (:class:`~neurorep_mindeye.core.BrainMLP`)
      trained with a mean-squared error between the backbone output and the embedding plus
      ``contrastive_weight`` x the bidirectional MixCo / InfoNCE loss on the projector (MindEye trains its
      backbone through the diffusion prior's loss plus 0.3 x BiMixCo; the prior here is frozen, so the
      regression loss takes its place). Every repeat of a training stimulus is one training sample.

    The predicted embeddings are decoded two ways: ``diffusion`` -- with ``prior``, the shipped diffusion
    prior draws ``prior_samples`` posterior samples of the clean embedding given the prediction as an
    observation with noise ``observation_sigma`` (averaged), which the shipped embedding-conditioned UNet
    turns into an image (DDIM, ``decoder_steps``, seeded); without it the UNet decodes the prediction
    directly -- and ``pca``, the linear PCA inverse of the prediction (the linear decoder baseline).

    Rows, each over all ``n`` stimuli (every stimulus is held out once), for each decoder ``d`` in
    (``diffusion``, ``pca``): ``two_way_judge_{d}`` (headline: two-way identification in the 128-d feature
    space of the shipped judge CNN; chance 0.5), ``two_way_pixel_{d}`` (two-way identification on pixels),
    ``pixel_correlation_{d}`` and ``ssim_{d}`` (means over the matched pairs), ``judge_agreement_{d}``
    (the judge's class of the reconstruction equals its class of the image); and ``two_way_embedding``
    (the predicted embeddings against the images' embeddings, before any decoding). Two-way pairs ``(i, j)``
    are taken within folds, where every prediction comes from one fitted model (as MindEye's test set): a
    fold's own training mean anti-correlates with its held-out images and would push a null brain below 0.5
    if pairs crossed folds. ``p_value`` is a permutation test that shuffles the reconstruction-image pairing
    within folds (``n_permutations`` draws; none for ``judge_agreement``). ``extra`` holds ``chance``, ``decoder``, ``mapping``, ``prior``, the
    per-fold ``alpha`` and ``observation_sigma`` used, and ``per_stimulus`` values for the matched metrics.

    Parameters
    ----------
    mapping : {"ridge", "mlp"}, default="ridge"
        The brain -> embedding mapping (see above).
    folds : int, default=5
        Cross-validation folds over the stimuli.
    prior : bool, default=True
        Pass the predicted embeddings through the diffusion prior before the UNet.
    observation_sigma : float or None, default=None
        Noise std of the predicted embedding (whitened units) given to the prior; None estimates it per fold
        as the root-mean-square leave-one-out residual of the ridge mapping on the training fold.
    prior_samples : int, default=4
        Posterior samples averaged per stimulus (a Monte-Carlo posterior mean).
    prior_guidance : float, default=2.0
        Classifier-free guidance of the prior on the observation.
    prior_steps : int, default=20
        DDIM steps of the prior.
    decoder_steps : int, default=10
        DDIM steps of the UNet.
    decoder_guidance : float, default=1.0
        Classifier-free guidance of the UNet on the embedding (1 = plain conditional).
    image_shape : tuple of int or None, default=None
        ``(height, width)`` of ``y``'s flattened images; None = square.
    pixel_range : tuple of float or None, default=None
        ``(black, white)`` pixel values of ``y`` mapped to -1 and 1 (e.g. ``(0, 255)`` for uint8 images);
        None = the minimum and maximum of ``y``.
    hidden : int, default=256
        Width of the MLP backbone (``mapping="mlp"``).
    n_blocks : int, default=2
        Residual blocks of the MLP backbone.
    dropout : float, default=0.15
        Dropout in the MLP backbone.
    epochs : int, default=100
        Training epochs of the MLP.
    lr : float, default=0.003
        Peak learning rate (AdamW, one-cycle).
    weight_decay : float, default=0.01
        AdamW weight decay.
    batch_size : int, default=64
        MLP batch size.
    contrastive_weight : float, default=0.3
        Weight of the contrastive projector loss relative to the regression loss (MindEye's alpha = 0.3).
    temperature : float, default=0.05
        Temperature of the contrastive loss.
    mixco_fraction : float, default=0.33
        Fraction of the epochs trained with MixCo instead of InfoNCE.
    n_permutations : int, default=1000
        Permutations for the p-values (0: no test).
    random_state : int, default=0
        Seeds the folds, the MLP, the prior's and the UNet's noise, and the permutations.
    align : {"strict", "reorder", "intersection"}, default="reorder"
        How to match the inputs' stimulus ids (see :func:`neurorep.align`).
    """

    id = "mindeye.reconstruction"
    version = "1.0.0"
    citation = CITATION
    description = ("MindEye reconstruction: brain -> image embedding -> diffusion prior -> UNet image; two-way "
                   "identification, pixel correlation and SSIM against a linear PCA decoder")
    n_inputs = 2
    tags = Tags(symmetric=False, larger_is_more_similar=None, stochastic=True, needs_weights=True,
                input_type="representation")

    def __init__(self, mapping: Literal["ridge", "mlp"] = "ridge", folds: int = 5, prior: bool = True,
                 observation_sigma: float | None = None, prior_samples: int = 4, prior_guidance: float = 2.0,
                 prior_steps: int = 20, decoder_steps: int = 10, decoder_guidance: float = 1.0,
                 image_shape: tuple[int, int] | None = None, pixel_range: tuple[float, float] | None = None,
                 hidden: int = 256, n_blocks: int = 2, dropout: float = 0.15, epochs: int = 100, lr: float = 3e-3,
                 weight_decay: float = 1e-2, batch_size: int = 64, contrastive_weight: float = 0.3,
                 temperature: float = 0.05, mixco_fraction: float = 0.33, n_permutations: int = 1000,
                 random_state: int = 0, align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.mapping = mapping
        self.folds = folds
        self.prior = prior
        self.observation_sigma = observation_sigma
        self.prior_samples = prior_samples
        self.prior_guidance = prior_guidance
        self.prior_steps = prior_steps
        self.decoder_steps = decoder_steps
        self.decoder_guidance = decoder_guidance
        self.image_shape = image_shape
        self.pixel_range = pixel_range
        self.hidden = hidden
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.contrastive_weight = contrastive_weight
        self.temperature = temperature
        self.mixco_fraction = mixco_fraction
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    # ------------------------------------------------------------------ checks
    def _fail(self, what: str) -> None:
        raise InvalidInputError(f"Analyzer {self.id!r}: {what}")

    def _check_params(self) -> None:
        ints = {"folds": 2, "prior_samples": 1, "prior_steps": 1, "decoder_steps": 1, "hidden": 1, "n_blocks": 0,
                "epochs": 1, "batch_size": 2, "n_permutations": 0}
        for name, low in ints.items():
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
                self._fail(f"{name} must be an integer >= {low}, got {v!r}.")
        if self.mapping not in ("ridge", "mlp"):
            self._fail(f"mapping must be one of ['mlp', 'ridge'], got {self.mapping!r}.")
        if self.observation_sigma is not None and not self.observation_sigma > 0:
            self._fail(f"observation_sigma must be > 0 or None (estimated), got {self.observation_sigma!r}.")
        for name in ("lr", "temperature"):
            if not getattr(self, name) > 0:
                self._fail(f"{name} must be > 0, got {getattr(self, name)!r}.")
        if not 0.0 <= self.dropout < 1.0:
            self._fail(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not 0.0 <= self.mixco_fraction <= 1.0:
            self._fail(f"mixco_fraction must be in [0, 1], got {self.mixco_fraction!r}.")
        if not self.contrastive_weight >= 0:
            self._fail(f"contrastive_weight must be >= 0, got {self.contrastive_weight!r}.")
        if self.pixel_range is not None and (len(self.pixel_range) != 2
                                             or not float(self.pixel_range[1]) > float(self.pixel_range[0])):
            self._fail(f"pixel_range must be (black, white) with white > black, or None; got {self.pixel_range!r}.")

    def _requirements(self):
        try:
            import neurorep_diffusion_models  # noqa: F401
        except ImportError:
            self._fail("needs the plugin neurorep-diffusion-models (the shipped Fashion-MNIST prior, decoder and "
                       "judge); install it with pip install -e plugins/neurorep-diffusion-models, or the extra "
                       "neurorep-mindeye[reconstruction].")
        from . import recon

        return recon

    def _inputs(self, x, y) -> tuple[Representation, Representation]:
        for name, r in (("x (brain)", x), ("y (images, stimuli x pixels)", y)):
            if not isinstance(r, Representation):
                self._fail(f"expected {name} to be a Representation, got {type(r).__name__}. Pass a brain source "
                           "as x and the stimuli's flattened images (e.g. synthetic.fmnist-embedding-brain's "
                           "'pixels' site) as y.")
            r.check_finite(owner=f"Analyzer {self.id!r}")
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        order = np.argsort(np.asarray(x.stimulus_ids, dtype=object).astype(str), kind="stable")
        ids = [x.stimulus_ids[i] for i in order]
        return x.select(ids), y.select(ids)

    def _images(self, pixels: np.ndarray) -> np.ndarray:
        """``(n, 28, 28)`` images in [-1, 1] from ``(n, h * w)`` pixel rows."""
        n, p = pixels.shape
        if self.image_shape is None:
            side = int(round(np.sqrt(p)))
            if side * side != p:
                self._fail(f"y must hold square images (stimuli x side**2 pixels) when image_shape is None, got "
                           f"{p} features. Give image_shape=(height, width), or pass the flattened images.")
            h = w = side
        else:
            h, w = (int(v) for v in self.image_shape)
            if h * w != p or h < 1 or w < 1:
                self._fail(f"image_shape={tuple(self.image_shape)!r} has {h * w} pixels but y has {p} features.")
        lo, hi = (float(pixels.min()), float(pixels.max())) if self.pixel_range is None else \
            (float(self.pixel_range[0]), float(self.pixel_range[1]))
        if hi <= lo:
            self._fail(f"y is constant ({lo!r}); it must hold images.")
        tol = 1e-6 * (hi - lo)
        if pixels.min() < lo - tol or pixels.max() > hi + tol:
            self._fail(f"y's values span [{pixels.min():g}, {pixels.max():g}], outside pixel_range=({lo:g}, {hi:g}); "
                       "set pixel_range to the images' black and white values (or None for y's own range).")
        img = (2.0 * (pixels - lo) / (hi - lo) - 1.0).reshape(n, h, w)
        if (h, w) != (28, 28):
            import torch
            from torch.nn import functional as F

            t = torch.as_tensor(img, dtype=torch.float64)[:, None]
            img = F.interpolate(t, size=(28, 28), mode="bilinear", align_corners=False)[:, 0].numpy()
        return np.clip(img, -1.0, 1.0)

    def _folds(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        if n < 4:
            self._fail(f"needs at least 4 stimuli, got {n}.")
        k = min(int(self.folds), n // 2)
        perm = rng.permutation(n)
        return [np.sort(f) for f in np.array_split(perm, k)]

    # ------------------------------------------------------------------ mapping
    def _predict(self, recon, X, R, Z, train, test, seed) -> tuple[np.ndarray, float, float]:
        """Predicted embeddings of ``test``, the ridge alpha and the LOO residual RMS on ``train``."""
        mu, sd = X[train].mean(0), X[train].std(0)
        sd[sd == 0] = 1.0
        fit = recon.ridge_loo((X[train] - mu) / sd, Z[train])
        loo_rms = float(np.sqrt(np.mean(fit["loo_residuals"] ** 2)))
        if self.mapping == "ridge":
            pred = ((X[test] - mu) / sd) @ fit["coef"] + fit["intercept"]
            return pred, fit["alpha"], loo_rms
        from . import core

        n_rep = 1 if R is None else R.shape[0]
        Xtr = X[train] if R is None else R[:, train].reshape(-1, X.shape[1])
        zmu = Z[train].mean(0)
        Ttr = np.tile(Z[train] - zmu, (n_rep, 1))
        cfg = core.TrainConfig(hidden=int(self.hidden), n_blocks=int(self.n_blocks), dropout=float(self.dropout),
                               epochs=int(self.epochs), lr=float(self.lr), weight_decay=float(self.weight_decay),
                               batch_size=int(self.batch_size), temperature=float(self.temperature),
                               mixco_fraction=float(self.mixco_fraction), regression_weight=1.0,
                               contrastive_weight=float(self.contrastive_weight))
        model = core.train_brain_mlp((Xtr - mu) / sd, Ttr, cfg, seed=seed)
        return core.backbone_output(model, (X[test] - mu) / sd) + zmu, float("nan"), loo_rms

    # ------------------------------------------------------------------ analyze
    def reconstruct(self, x, y) -> dict:
        """The cross-validated reconstructions, without scores (for figures and further analysis).

        Returns
        -------
        dict
            ``stimulus_ids`` (sorted), ``images`` (n, 28, 28) in [-1, 1], ``diffusion`` and ``pca``
            reconstructions (n, 28, 28), ``embedding`` (n, 64) and ``predicted`` (n, 64), ``folds`` (index
            arrays), ``alpha`` and ``observation_sigma`` per fold.
        """
        self._check_params()
        x, y = self._inputs(x, y)
        recon = self._requirements()
        images = self._images(np.asarray(y.data, dtype=float))
        X = np.asarray(x.data, dtype=float)
        R = None if x.repeats is None else np.asarray(x.repeats, dtype=float)
        Z = recon.embed_images(images)
        n = len(X)
        rng = np.random.default_rng(self.random_state)
        seed0 = int(rng.integers(2**31 - 1))
        folds = self._folds(n, rng)
        pred = np.zeros_like(Z)
        out = {d: np.zeros_like(images) for d in _DECODERS}
        alphas, sigmas = [], []
        for f, test in enumerate(folds):
            train = np.setdiff1d(np.arange(n), test)
            p, alpha, loo_rms = self._predict(recon, X, R, Z, train, test, seed0 + 104729 * f)
            sigma = loo_rms if self.observation_sigma is None else float(self.observation_sigma)
            dec = recon.decode(p, prior=bool(self.prior), observation_sigma=sigma,
                               prior_samples=int(self.prior_samples), prior_guidance=float(self.prior_guidance),
                               prior_steps=int(self.prior_steps), decoder_steps=int(self.decoder_steps),
                               decoder_guidance=float(self.decoder_guidance), seed=seed0 + 15485863 * (f + 1))
            pred[test] = p
            for d in _DECODERS:
                out[d][test] = dec[d]
            alphas.append(alpha)
            sigmas.append(sigma)
        return {"stimulus_ids": tuple(x.stimulus_ids), "images": images, "embedding": Z, "predicted": pred,
                "folds": folds, "alpha": alphas, "observation_sigma": sigmas, **out}

    def analyze(self, x, y=None):
        if y is None:
            self._fail("takes two inputs: x (brain, stimuli x voxels) and y (the stimuli's images, stimuli x "
                       "pixels); got one.")
        r = self.reconstruct(x, y)
        from . import recon

        return self._score(recon, r["images"], r["embedding"], r["predicted"], {d: r[d] for d in _DECODERS},
                           r["folds"], r["alpha"], r["observation_sigma"])

    def _score(self, recon, images, Z, pred, out, folds, alphas, sigmas) -> list[Result]:
        _, _, judge = recon.shipped_models()
        n = len(images)
        perm_rng = np.random.default_rng([int(self.random_state), 2])
        base = {"mapping": self.mapping, "prior": bool(self.prior), "folds": len(folds),
                "alpha": [None if not np.isfinite(a) else float(a) for a in alphas],
                "observation_sigma": [float(s) for s in sigmas]}
        feats_true = judge.features(images.astype(np.float32))
        class_true = judge.predict(images.astype(np.float32))
        flat_true = images.reshape(n, -1)
        rows: list[Result] = []

        def p_of(score, null):
            if null is None:
                return float("nan")
            return (1 + int(np.sum(null >= score - 1e-12))) / (1 + len(null))

        def add(metric, score, null, chance, decoder, per_stimulus=None):
            extra = dict(base, chance=chance, decoder=decoder)
            if per_stimulus is not None:
                extra["per_stimulus"] = [float(v) for v in per_stimulus]
            rows.append(Result(score=float(score), metric=metric, p_value=float(p_of(score, null)), n=n,
                               extra=extra))

        k = int(self.n_permutations)

        def blocks(fn, a, b):
            return [fn(a[t], b[t]) for t in folds]

        def two_way(bl, metric, decoder):
            score = recon.two_way_from_blocks(bl)
            null = recon.permutation_null_two_way(bl, k, perm_rng) if k else None
            add(metric, score, null, 0.5, decoder)

        def matched(bl, metric, decoder):
            diag = np.zeros(n)
            for t, blk in zip(folds, bl, strict=True):
                diag[t] = np.diag(blk)
            null = recon.permutation_null_diagonal(bl, k, perm_rng) if k else None
            add(metric, float(diag.mean()), null, None, decoder, diag)

        for d in _DECODERS:
            imgs = out[d]
            flat = imgs.reshape(n, -1)
            two_way(blocks(recon.pairwise_correlation, judge.features(imgs.astype(np.float32)), feats_true),
                    f"two_way_judge_{d}", d)
            pix = blocks(recon.pairwise_correlation, flat, flat_true)
            two_way(pix, f"two_way_pixel_{d}", d)
            matched(pix, f"pixel_correlation_{d}", d)
            matched(blocks(recon.pairwise_ssim, imgs, images), f"ssim_{d}", d)
            agree = judge.predict(imgs.astype(np.float32)) == class_true
            add(f"judge_agreement_{d}", float(agree.mean()), None, None, d, agree.astype(float))
        two_way(blocks(recon.pairwise_correlation, pred, Z), "two_way_embedding", "none")
        return rows

    @classmethod
    def _conformance_instances(cls):
        return [cls(folds=2, prior_samples=1, prior_steps=3, decoder_steps=2, image_shape=(2, 3),
                    n_permutations=20)]
