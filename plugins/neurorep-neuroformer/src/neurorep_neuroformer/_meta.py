"""Constants of the plugin that loading it needs, kept free of torch."""

from __future__ import annotations

CITATION = ("Antoniades A, Yu Y, Canzano J, Wang W, Smith SL (2024). Neuroformer: Multimodal and Multitask "
            "Generative Pretraining for Brain Data. International Conference on Learning Representations "
            "(ICLR 2024). arXiv:2311.00136")


class _LazyCore:
    """The torch-backed numerics (``core``), imported on first use: loading the plugin must not import torch."""

    def __getattr__(self, name):
        from . import core

        return getattr(core, name)


core = _LazyCore()
