"""Citation and shared constants (no heavy imports)."""

from __future__ import annotations

CITATION = ("Orlichenko A, Qu G, Zhou Z, Liu A, Deng H-W, Ding Z, Stephen JM, Wilson TW, Calhoun VD, Wang Y-P "
            "(2024). A Demographic-Conditioned Variational Autoencoder for fMRI Distribution Sampling and "
            "Removal of Confounds. arXiv:2405.07977")

#: ``channel_descriptors["role"]`` value marking a column that holds a demographic (not an FC edge).
DEMOGRAPHIC_ROLE = "demographic"
#: ``channel_descriptors["role"]`` value of an FC edge column.
EDGE_ROLE = "edge"
