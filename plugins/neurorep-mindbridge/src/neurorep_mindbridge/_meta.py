"""Constants of the plugin that loading it needs, kept free of torch."""

from __future__ import annotations

CITATION = ("Wang, S., Liu, S., Tan, Z. & Wang, X. (2024). MindBridge: A Cross-Subject Brain Decoding "
            "Framework. Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition "
            "(CVPR 2024). arXiv:2404.07850")

POOLINGS = ("max", "avg")
