"""Hook implementations: the ``neurorep`` entry point ``diffusion-models`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .components import DiffusersLocalGenerator, FashionMNISTDiffusionGenerator, FashionMNISTPriorGenerator


@hookimpl
def register_generators(register):
    """Register ``generator.fmnist-diffusion``, ``generator.fmnist-prior`` and ``generator.diffusers-local``."""
    register(FashionMNISTDiffusionGenerator)
    register(FashionMNISTPriorGenerator)
    register(DiffusersLocalGenerator)
