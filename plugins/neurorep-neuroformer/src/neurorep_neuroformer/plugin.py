"""Hook implementations: the ``neurorep`` entry point ``neuroformer`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import FewShotProbe, NextSpikeAnalyzer
from .source import NeuroformerWindowsSource, SpikingNetworkSource


@hookimpl
def register_analyzers(register):
    """Register ``neuroformer.next-spike`` and ``probe.few-shot``."""
    register(NextSpikeAnalyzer)
    register(FewShotProbe)


@hookimpl
def register_sources(register):
    """Register ``synthetic.spiking-network`` and ``neuroformer.windows``."""
    register(SpikingNetworkSource)
    register(NeuroformerWindowsSource)
