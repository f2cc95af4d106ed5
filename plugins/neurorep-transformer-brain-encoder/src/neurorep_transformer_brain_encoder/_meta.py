"""Constants of the plugin that loading it needs, kept free of torch."""

from __future__ import annotations

CITATION = ("Adeli, Sun & Kriegeskorte (2025). Transformer brain encoders explain human high-level visual "
            "responses. arXiv preprint (title as in the project's paper list)")

FACTORIZED_CITATION = ("Klindt, Ecker, Euler & Bethge (2017). Neural system identification for large populations "
                       "separating 'what' and 'where'. NeurIPS 30. arXiv:1711.02653; St-Yves & Naselaris (2018). "
                       "The feature-weighted receptive field: an interpretable encoding model for complex feature "
                       "spaces. NeuroImage 180:188-202. doi:10.1016/j.neuroimage.2017.06.035")
