"""Small shared helpers: pixel scaling, per-step seeded generators, atomic file writes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

__all__ = ["images_to_tensor", "tensor_to_uint8", "derive_seed", "step_generator", "atomic_write_bytes"]


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images (0..255) to float32 in [-1, 1], same shape."""
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 images in 0..255, got dtype {arr.dtype}")
    return torch.from_numpy(arr.astype(np.float32) / 127.5 - 1.0)


def tensor_to_uint8(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Float images in [-1, 1] to uint8 0..255 (clipped), same shape."""
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return np.clip(np.rint((arr + 1.0) * 127.5), 0, 255).astype(np.uint8)


def derive_seed(seed: int, step: int, stream: str = "") -> int:
    """A 63-bit seed derived from (seed, step, stream), stable across runs and platforms."""
    digest = hashlib.blake2b(f"{seed}/{step}/{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def step_generator(seed: int, step: int, stream: str = "") -> torch.Generator:
    """A fresh CPU ``torch.Generator`` for one training step.

    Seeding every step from (seed, step) makes a resumed run draw exactly the
    batches, noise and dropout masks an uninterrupted run would.
    """
    g = torch.Generator()
    g.manual_seed(derive_seed(seed, step, stream))
    return g


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
