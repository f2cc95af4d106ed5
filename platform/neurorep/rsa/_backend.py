"""Array backends for the RDM kernels: numpy (default) and torch (lazy import, CUDA when present).

The kernels in :mod:`neurorep.rsa.rdm` are written once against the small set of
operations below, so the same code runs on numpy arrays or torch tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = ["Backend", "get_backend", "resolve_dtype"]

_DTYPES = {"float64": np.float64, "float32": np.float32}


def resolve_dtype(dtype: Any, like: np.ndarray | None = None) -> np.dtype:
    """The float dtype to compute in: ``dtype`` when given, else the input's float dtype (float64 for ints).

    Parameters
    ----------
    dtype : {"float64", "float32"}, numpy dtype or None
    like : ndarray, optional
        The input whose dtype is kept when ``dtype`` is None.
    """
    if dtype is None:
        if like is not None and like.dtype in (np.float32, np.float64):
            return np.dtype(like.dtype)
        return np.dtype(np.float64)
    key = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if key not in _DTYPES:
        raise InvalidInputError(f"dtype must be 'float64' or 'float32', got {dtype!r}.")
    return np.dtype(_DTYPES[key])


class Backend:
    """Operations the RDM kernels need, on numpy arrays or torch tensors.

    Parameters
    ----------
    name : {"numpy", "torch"}
    device : str or None
        torch device (``"cuda"``, ``"cpu"``); None picks CUDA when available.
    """

    def __init__(self, name: str = "numpy", device: str | None = None):
        if name not in ("numpy", "torch"):
            raise InvalidInputError(f"backend must be 'numpy' or 'torch', got {name!r}.")
        self.name = name
        self.torch = None
        self.device = None
        if name == "torch":
            try:
                import torch
            except ImportError as exc:  # pragma: no cover - torch is installed in the dev env
                raise InvalidInputError(
                    "backend='torch' needs PyTorch, which is not installed. Install torch (CPU or CUDA build) "
                    "or use backend='numpy'.") from exc
            self.torch = torch
            if device is None:
                device = "cuda" if torch.cuda.is_available() else "cpu"
            self.device = torch.device(device)

    # ------------------------------------------------------------------ conversion
    def asarray(self, x: Any, dtype: np.dtype) -> Any:
        if self.torch is None:
            return np.ascontiguousarray(x, dtype=dtype)
        t = self.torch
        tdt = t.float64 if dtype == np.float64 else t.float32
        if isinstance(x, t.Tensor):
            return x.to(device=self.device, dtype=tdt)
        return t.as_tensor(np.ascontiguousarray(x), dtype=tdt, device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        if self.torch is None:
            return np.asarray(x)
        return x.detach().to("cpu").numpy()

    def index(self, idx: np.ndarray) -> Any:
        if self.torch is None:
            return idx
        return self.torch.as_tensor(idx, dtype=self.torch.long, device=self.device)

    # ------------------------------------------------------------------ arithmetic
    def mean(self, x: Any, axis: int) -> Any:
        if self.torch is None:
            return x.mean(axis=axis, keepdims=True)
        return x.mean(dim=axis, keepdim=True)

    def sum(self, x: Any, axis: int, keepdims: bool = False) -> Any:
        if self.torch is None:
            return x.sum(axis=axis, keepdims=keepdims)
        return x.sum(dim=axis, keepdim=keepdims)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x) if self.torch is None else self.torch.sqrt(x)

    def log(self, x: Any) -> Any:
        return np.log(x) if self.torch is None else self.torch.log(x)

    def clip_min(self, x: Any, lo: float) -> Any:
        return np.maximum(x, lo) if self.torch is None else self.torch.clamp(x, min=lo)

    def gram(self, a: Any, b: Any | None = None) -> Any:
        """``a @ b^T`` over the last two axes (``a @ a^T`` when ``b`` is None: BLAS syrk for numpy)."""
        if b is None:
            b = a
        if self.torch is None:
            return a @ np.swapaxes(b, -1, -2)
        return a @ b.transpose(-1, -2)

    def diagonal(self, x: Any) -> Any:
        if self.torch is None:
            return np.diagonal(x, axis1=-2, axis2=-1)
        return self.torch.diagonal(x, dim1=-2, dim2=-1)

    def matmul(self, a: Any, b: Any) -> Any:
        return a @ b

    def any_zero(self, x: Any) -> bool:
        return bool((x == 0).any())

    def any_nonpositive(self, x: Any) -> bool:
        return bool((x <= 0).any())


_CACHE: dict[tuple[str, str | None], Backend] = {}


def get_backend(name: str = "numpy", device: str | None = None) -> Backend:
    """The :class:`Backend` for ``name`` (instances are cached)."""
    key = (name, device)
    if key not in _CACHE:
        _CACHE[key] = Backend(name, device)
    return _CACHE[key]
