"""Pooling of module outputs into stimuli-first rows ``(n_stimuli, n_features)``.

Modes
-----
``auto``
    ``(N, F)`` as is, ``(N, T, F)`` -> ``mean``, ``(N, C, H, W)`` -> ``spatial``, anything else -> ``flatten``.
``none``
    The output must already be ``(N, F)``.
``mean``
    Average over tokens (``(N, T, F)``, only the real tokens when a token mask is given) or over
    positions (``(N, C, *spatial)``, the same as ``spatial``).
``last``
    The last real token of ``(N, T, F)`` (right padding: the last position whose mask is set).
``cls``
    The first position of ``(N, T, F)`` (a CLS or BOS token), whatever the mask says.
``spatial``
    Channels-first feature maps ``(N, C, *spatial)`` -> ``(N, C)``: the average over every axis after C.
``flatten``
    ``(N, ...)`` -> ``(N, prod(...))``. For token sequences only when no row is padded (the
    length would otherwise depend on the batch).

torch is imported inside the functions only.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInputError

__all__ = ["POOLING_MODES", "first_tensor", "pool", "resolve_pooling"]

POOLING_MODES: tuple[str, ...] = ("auto", "none", "mean", "last", "cls", "spatial", "flatten")


def first_tensor(value: Any) -> Any:
    """The tensor a module returned: itself, the first element of a tuple/list, or a ModelOutput's first field."""
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return first_tensor(value[0])
    if isinstance(value, dict) and value:  # transformers ModelOutput is an OrderedDict
        return first_tensor(next(iter(value.values())))
    raise InvalidInputError(f"expected a module to return a tensor (or a tuple whose first item is one), "
                            f"got {type(value).__name__}.")


def resolve_pooling(pooling: str | dict[str, str], site: str) -> str:
    """The pooling mode for ``site``: ``pooling`` itself, or the value of the first glob in it that matches."""
    from fnmatch import fnmatchcase

    if isinstance(pooling, str):
        mode = pooling
    else:
        mode = next((m for g, m in pooling.items() if fnmatchcase(site, g)), "auto")
    if mode not in POOLING_MODES:
        raise InvalidInputError(f"pooling for site {site!r}: expected one of {list(POOLING_MODES)}, got {mode!r}.")
    return mode


def pool(x: Any, mode: str, token_mask: Any = None, *, padding_mask: Any = None, site: str = "?",
         owner: str = "Source") -> Any:
    """Pool a module output ``x`` (a torch tensor, batch first) into ``(N, F)``.

    Parameters
    ----------
    x : torch.Tensor
        Batch-first output of a module.
    mode : str
        One of :data:`POOLING_MODES`.
    token_mask : torch.Tensor of shape (N, T), optional
        True (or 1) at the tokens to pool over; used by ``mean`` and ``last`` on ``(N, T, F)``.
    padding_mask : torch.Tensor of shape (N, T), optional
        True at the real (non-padding) positions; ``flatten`` refuses padded batches. Default: ``token_mask``.
    site, owner : str
        Named in error messages.
    """
    import torch

    x = first_tensor(x)
    if x.ndim == 0:
        raise InvalidInputError(f"{owner}: site {site!r} produced a scalar; expected a batch-first tensor.")
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    if mode == "auto":
        mode = {2: "none", 3: "mean", 4: "spatial"}.get(x.ndim, "flatten")
    shape = tuple(x.shape)
    if mode == "none":
        if x.ndim != 2:
            raise InvalidInputError(f"{owner}: site {site!r} has output shape {shape}, not (n_stimuli, n_features); "
                                    "choose pooling 'mean', 'last', 'cls', 'spatial' or 'flatten'.")
        return x
    if mode == "flatten":
        real = padding_mask if padding_mask is not None else token_mask
        if x.ndim == 3 and real is not None and not bool(real[:, : x.shape[1]].bool().all()):
            raise InvalidInputError(f"{owner}: site {site!r}: pooling 'flatten' on padded token sequences would make "
                                    "the row length depend on the batch; use 'mean' or 'last', or batch_size=1 with "
                                    "equal-length texts.")
        return x.reshape(n, -1)
    if mode == "spatial":
        if x.ndim < 3:
            raise InvalidInputError(f"{owner}: site {site!r}: pooling 'spatial' needs a (N, C, H, W) feature map, "
                                    f"got shape {shape}; use 'none' for (N, F) outputs.")
        return x.mean(dim=tuple(range(2, x.ndim)))
    if mode == "mean" and x.ndim >= 4:
        return x.mean(dim=tuple(range(2, x.ndim)))
    if x.ndim != 3:
        raise InvalidInputError(f"{owner}: site {site!r}: pooling {mode!r} needs a token axis (N, T, F), got shape "
                                f"{shape}; use 'spatial' for feature maps or 'none' for (N, F) outputs.")
    if mode == "cls":
        return x[:, 0]
    if token_mask is None:
        mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    else:
        mask = token_mask.to(device=x.device).bool()
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise InvalidInputError(f"{owner}: site {site!r} has output shape {shape} but the token mask is "
                                    f"{tuple(mask.shape)}; the site does not have one position per input token, "
                                    "so choose pooling 'flatten' or 'cls'.")
    counts = mask.sum(dim=1)
    if bool((counts == 0).any()):
        raise InvalidInputError(f"{owner}: site {site!r}: a stimulus has no token to pool over (an empty text?).")
    if mode == "mean":  # one batched matrix product: (N, 1, T) @ (N, T, F)
        m = mask.to(x.dtype).unsqueeze(1)
        return torch.bmm(m, x).squeeze(1) / counts.to(x.dtype).unsqueeze(-1)
    if mode == "last":
        positions = torch.arange(x.shape[1], device=x.device).expand_as(mask)
        last = torch.where(mask, positions, torch.full_like(positions, -1)).max(dim=1).values
        return x[torch.arange(n, device=x.device), last]
    raise InvalidInputError(f"{owner}: unknown pooling {mode!r} for site {site!r}; expected one of "
                            f"{list(POOLING_MODES)}.")
