"""neurorep's own small diffusion models, trained on Fashion-MNIST, and the judge that scores generators.

Modules
-------
data       Fashion-MNIST IDX reader (Debian's ``dataset-fashion-mnist`` or any folder).
models     PixelPCAEmbedding, ConditionEncoder, EmbeddingPrior, build_unet (diffusers ModelMixin classes).
pipelines  PixelDiffusion / PriorDiffusion: save, load, DDIM sampling with classifier-free guidance.
train      resumable, wall-time-bounded training (``python -m neurorep_diffusion_models.train``).
judge      the judge CNN (shipped weights in ``weights/``; ``python -m neurorep_diffusion_models.judge``).
evaluate   class agreement, pixel correlation, SSIM, 2-way identification, linear decoders, sample grids.
"""

__version__ = "0.1.0"
