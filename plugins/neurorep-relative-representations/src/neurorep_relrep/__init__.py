"""neurorep-relative-representations: relative representations (Moschella et al., ICLR 2023).

Components (registered through the ``neurorep`` entry point ``relrep``):

* ``transform.relative`` (:class:`RelativeTransform`): responses -> cosine similarity to anchor stimuli.
* ``relrep.similarity`` (:class:`RelativeSimilarity`): compare two spaces through their relative representations.
* ``relrep.decoder`` (:class:`RelativeDecoder`): a decoder on relative representations, for zero-shot stitching.

Functions: :func:`relative_projection`, :func:`select_anchors`, :func:`relative_from_rdm`,
:func:`row_agreement` and :func:`zero_shot_stitch`.
"""

from __future__ import annotations

from .analyzer import RelativeSimilarity
from .core import (
    AGREEMENTS,
    CITATION,
    anchor_positions,
    relative_from_rdm,
    relative_projection,
    row_agreement,
    select_anchors,
)
from .stitching import RelativeDecoder, zero_shot_stitch
from .transform import RelativeTransform

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-relative-representations")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "AGREEMENTS", "CITATION", "RelativeDecoder", "RelativeSimilarity", "RelativeTransform", "anchor_positions",
    "relative_from_rdm", "relative_projection", "row_agreement", "select_anchors", "zero_shot_stitch",
    "__version__",
]
