"""Constants of the plugin that loading it needs, kept free of torch."""

from __future__ import annotations

CITATION = ("Scotti, P. S., Banerjee, A., Goode, J., Shabalin, S., Nguyen, A., Cohen, E., Dempster, A. J., "
            "Verlinde, N., Yundler, E., Weisberg, D., Norman, K. A. & Abraham, T. M. (2023). Reconstructing "
            "the Mind's Eye: fMRI-to-Image with Contrastive Learning and Diffusion Priors. Advances in Neural "
            "Information Processing Systems 36 (NeurIPS 2023). arXiv:2305.18274")
