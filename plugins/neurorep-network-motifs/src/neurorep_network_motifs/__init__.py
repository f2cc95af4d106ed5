"""neurorep-network-motifs: voxel-wise correlation networks, per-voxel motif maps and PCA-LDA.

The method of Dey, Rao & Shah (2012), "Exploiting the brain's network structure in identifying
ADHD subjects" (Frontiers in Systems Neuroscience 6:75): per-voxel network features (3-cycle
participation above all) of resting-state correlation networks, a discriminative mask, and a
PCA-LDA classifier of subject groups.
"""

from .analyzers import CITATION, PCALDA, NetworkFeatures
from .core import FEATURES, correlation_network, motif_features, phase_randomize, transitivity
from .source import MotifMaps
from .synthetic import NetworkGroups

__all__ = ["CITATION", "FEATURES", "MotifMaps", "NetworkFeatures", "NetworkGroups", "PCALDA",
           "correlation_network", "motif_features", "phase_randomize", "transitivity"]
__version__ = "0.1.0"
