"""Constants of the plugin that loading it needs, kept free of torch."""

from __future__ import annotations

CITATION = ("Yang, Mao, Liu & Liu (2024). BrainMAE: A Region-aware Self-supervised Learning Framework for Brain "
            "Signals. arXiv:2406.17086")
