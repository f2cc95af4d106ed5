"""Built-in model plugin: model-activation sources, the EfficientNet-Lite0 and SmolLM2 models, stimulus sets,
and site-name adapters. Registering imports no torch (models are built on first use)."""

from __future__ import annotations

from typing import Any

from .. import hookimpl
from ..models import EfficientNetLite0, SentenceDataset, SkimageSamples, SmolLM2, TorchSource
from ..models.adapters import adapter_for_module
from ..models.dcgan import DCGANFaces, GaussianLatents
from ..models.minilm import AllMiniLML6V2
from ..models.stimuli import FashionMNIST


@hookimpl
def register_sources(register):
    register(TorchSource)


@hookimpl
def register_models(register):
    register(EfficientNetLite0)
    register(SmolLM2)
    register(AllMiniLML6V2)
    register(DCGANFaces)


@hookimpl
def register_datasets(register):
    register(SentenceDataset)
    register(SkimageSamples)
    register(GaussianLatents)
    register(FashionMNIST)


@hookimpl
def resolve_adapter(model: Any, model_id: str) -> dict[str, str] | None:
    """Canonical site names for Hugging Face Llama models and EfficientNet-Lite (None for other models)."""
    return adapter_for_module(model)
