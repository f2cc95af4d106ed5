"""Hook implementations: the ``neurorep`` entry point ``whole-brain-decoding`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzers import ContrastiveDecoder, NetworkAblation
from .network_brain import NetworkBrain


@hookimpl
def register_analyzers(register):
    """Register ``decoding.contrastive`` and ``decoding.network-ablation``."""
    register(ContrastiveDecoder)
    register(NetworkAblation)


@hookimpl
def register_datasets(register):
    """Register ``synthetic.network-brain``."""
    register(NetworkBrain)
