"""EfficientNet-Lite0 block activations through neurorep's ``source.torch``, cached per process (and on disk).

Each block's output map ``(N, C, H, W)`` is kept pooled over space (``spatial``, the mean; what
drives ordinary planted voxels) and, for the blocks that need it (routing), whole; the whole map
gives the spatial maximum per channel (position-invariant "routing" drive) and the value at a fixed
position (fixed-location drive).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from neurorep.errors import InvalidInputError
from neurorep.types import StimulusSet

__all__ = ["BLOCK_CHANNELS", "MODEL_ID", "block_features", "clear_feature_cache"]

MODEL_ID = "model.efficientnet-lite0"
#: Output channels of EfficientNet-Lite0's 16 MBConv blocks (``blocks.0`` ... ``blocks.15``).
BLOCK_CHANNELS: dict[str, int] = {f"blocks.{i}": c for i, c in enumerate(
    (16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320))}

_LOCK = threading.Lock()
_CACHE: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
_MAX = 6


def clear_feature_cache() -> None:
    """Forget the activations kept in this process."""
    with _LOCK:
        _CACHE.clear()


def _key(stimuli: StimulusSet, pooled: tuple[str, ...], maps: tuple[str, ...]) -> str:
    h = hashlib.sha256(f"{stimuli.fingerprint()}|{','.join(pooled)}|{','.join(maps)}".encode())
    return h.hexdigest()[:20]


def block_features(stimuli: StimulusSet, pooled: list[str], maps: list[str] | None = None,
                   cache_dir: str | None = None, owner: str = "synthetic.planted-brain") -> dict[str, np.ndarray]:
    """Activations of EfficientNet-Lite0 blocks to ``stimuli``.

    Parameters
    ----------
    stimuli : StimulusSet
        Images (any size; the model's own preprocessing crops and resizes them to 224 x 224).
    pooled : list of str
        Blocks needed as ``{block: (N, C)}``, the spatial mean of the block's output (every block
        is returned: they come from the same forward pass).
    maps : list of str, optional
        Blocks also returned whole as ``{"<block>:map": (N, C, H, W)}``.
    cache_dir : str, optional
        Folder where the arrays are also kept as ``.npz`` (keyed by the stimuli's fingerprint).
    owner : str
        Named in error messages.

    Returns
    -------
    dict of str to ndarray (float64)
    """
    maps = sorted(set(maps or ()))
    bad = [b for b in set(pooled) | set(maps) if b not in BLOCK_CHANNELS]
    if bad:
        raise InvalidInputError(f"Dataset {owner!r}: unknown EfficientNet-Lite0 block(s) {bad}; expected names among "
                                f"{list(BLOCK_CHANNELS)}.")
    # every block is pooled in the same forward pass (it costs nothing more), so one cached pass
    # serves any later request for other blocks of the same stimuli
    pooled_t = tuple(BLOCK_CHANNELS)
    key = _key(stimuli, pooled_t, tuple(maps))
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    disk = Path(cache_dir) / f"planted-brain-features-{key}.npz" if cache_dir else None
    if disk is not None and disk.is_file():
        with np.load(disk) as z:
            out = {k: z[k] for k in z.files}
    else:
        from neurorep.models import TorchSource

        pooling = {b: ("flatten" if b in maps else "spatial") for b in pooled_t}
        src = TorchSource(model=MODEL_ID, include=list(pooled_t), pooling=pooling, batch_size=32)
        reps = src.extract(stimuli, list(pooled_t))
        out = {}
        for b in pooled_t:
            a = np.asarray(reps[b].data, dtype=np.float64)
            if b in maps:
                c = BLOCK_CHANNELS[b]
                hw = a.shape[1] // c
                side = int(round(np.sqrt(hw)))
                if side * side * c != a.shape[1]:
                    raise InvalidInputError(f"Dataset {owner!r}: block {b} gave {a.shape[1]} features, not "
                                            f"{c} channels x a square map.")
                full = a.reshape(a.shape[0], c, side, side)
                out[f"{b}:map"] = full
                out[b] = full.mean(axis=(2, 3))
            else:
                out[b] = a
        if disk is not None:
            disk.parent.mkdir(parents=True, exist_ok=True)
            tmp = disk.with_suffix(".tmp.npz")
            np.savez(tmp, **out)
            tmp.replace(disk)
    with _LOCK:
        _CACHE[key] = out
        while len(_CACHE) > _MAX:
            _CACHE.popitem(last=False)
    return out
