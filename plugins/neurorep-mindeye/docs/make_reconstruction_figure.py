"""Write docs/mindeye-reconstruction.png: held-out reconstructions of SYNTHETIC Fashion-MNIST voxels.

    .venv/bin/python plugins/neurorep-mindeye/docs/make_reconstruction_figure.py

Rows, for the first stimulus of each class (100 stimuli, 200 voxels, 5 folds, ridge): the images; the
reconstructions at noise 0.25 through the prior + UNet, without the prior, and by the linear PCA decoder;
then the same three at noise 1.0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from neurorep_diffusion_models.evaluate import save_grid
from neurorep_mindeye import FashionMNISTEmbeddingBrain, MindEyeReconstruction


def main() -> Path:
    torch.set_num_threads(1)
    pixels = FashionMNISTEmbeddingBrain(n_per_class=10).load("pixels")
    rows = []
    for noise in (0.25, 1.0):
        brain = FashionMNISTEmbeddingBrain(n_per_class=10, noise=noise).load("brain")
        with_prior = MindEyeReconstruction(folds=5, pixel_range=(0, 255)).reconstruct(brain, pixels)
        direct = MindEyeReconstruction(folds=5, pixel_range=(0, 255), prior=False).reconstruct(brain, pixels)
        ids = with_prior["stimulus_ids"]
        pick = [ids.index(s) for s in pixels.stimulus_ids[::10]]   # one per class (ids are class-ordered)
        if not rows:
            rows.append(with_prior["images"][pick])
        rows += [with_prior["diffusion"][pick], direct["diffusion"][pick], with_prior["pca"][pick]]
    out = Path(__file__).with_name("mindeye-reconstruction.png")
    return save_grid(np.concatenate(rows), out, nrow=10, scale=3)


if __name__ == "__main__":
    print(main())
