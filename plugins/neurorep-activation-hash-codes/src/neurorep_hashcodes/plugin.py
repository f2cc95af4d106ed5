"""Hook implementations: the ``neurorep`` entry point ``hashcodes`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzers import CodeCategorisation, CodeDeterminism
from .source import ReluMlpDigits
from .transform import ActivationCodeTransform


@hookimpl
def register_transforms(register):
    """Register ``transform.activation-code``."""
    register(ActivationCodeTransform)


@hookimpl
def register_analyzers(register):
    """Register ``hashcode.determinism`` and ``hashcode.categorisation``."""
    register(CodeDeterminism)
    register(CodeCategorisation)


@hookimpl
def register_sources(register):
    """Register ``source.relu-mlp-digits``."""
    register(ReluMlpDigits)
