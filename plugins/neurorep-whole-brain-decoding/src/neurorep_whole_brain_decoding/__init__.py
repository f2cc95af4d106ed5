"""Whole-brain contrastive image-fMRI decoding and network ablation (paper #41) for neurorep."""

from .analyzers import ContrastiveDecoder, NetworkAblation
from .network_brain import NetworkBrain

__all__ = ["ContrastiveDecoder", "NetworkAblation", "NetworkBrain"]
__version__ = "0.1.0"
