"""Hook implementations: the ``neurorep`` entry point ``network-motifs`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzers import NetworkFeatures, PCALDA
from .source import MotifMaps
from .synthetic import NetworkGroups


@hookimpl
def register_analyzers(register):
    """Register ``motifs.network-features`` and ``motifs.pca-lda``."""
    register(NetworkFeatures)
    register(PCALDA)


@hookimpl
def register_sources(register):
    """Register ``source.motif-maps``."""
    register(MotifMaps)


@hookimpl
def register_datasets(register):
    """Register ``synthetic.network-groups``."""
    register(NetworkGroups)
