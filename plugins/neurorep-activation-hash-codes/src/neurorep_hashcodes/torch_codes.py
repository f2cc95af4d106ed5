"""Neural codes read from a torch module with forward pre-hooks, and the small ReLU MLPs of the paper's experiments.

torch is imported inside the functions, never when this module is imported.

Every ReLU-like module (``nn.ReLU``, ``nn.ReLU6``, ``nn.LeakyReLU``, ``nn.PReLU``) gets a
forward *pre*-hook that records ``input > 0`` for each of its units before the module runs
(so in-place activations and negative PReLU slopes cannot change what is read). A module
that runs several times in one forward pass (EfficientNet's shared ``_swish``) contributes one
block of units per call, named ``<module>#<call>``. The code of an input is the
concatenation of the blocks in the order the calls happen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = ["CodeSet", "relu_modules", "activation_codes", "relu_preactivations", "make_relu_mlp", "train_relu_mlp", "predict_classes"]

_OWNER = "neurorep_hashcodes.activation_codes"


def _relu_types() -> tuple[type, ...]:
    import torch.nn as nn

    return (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU)


@dataclass
class CodeSet:
    """Codes of a set of inputs and the unit blocks they are made of.

    Attributes
    ----------
    codes : ndarray of shape (n_inputs, n_units), uint8
        1 where the unit's pre-activation is > 0 (and, with ``saturation``, a second bit where a
        ReLU6 unit's pre-activation is > 6).
    blocks : list of (str, int)
        ``(name, n_units)`` of each block in column order; ``name`` is the module path, with
        ``#k`` for the k-th call of a module that runs several times and ``:sat`` for saturation bits.
    """

    codes: np.ndarray
    blocks: list[tuple[str, int]] = field(default_factory=list)

    def block_slices(self) -> dict[str, slice]:
        """Column range of each block."""
        out, start = {}, 0
        for name, n in self.blocks:
            out[name] = slice(start, start + n)
            start += n
        return out

    def select(self, globs: Sequence[str]) -> np.ndarray:
        """The columns of the blocks whose names match any of the fnmatch ``globs``."""
        parts = [self.codes[:, sl] for name, sl in self.block_slices().items()
                 if any(fnmatchcase(name, g) for g in globs)]
        if not parts:
            raise InvalidInputError(f"{_OWNER}: no block matches {list(globs)}; blocks are "
                                    f"{[b for b, _ in self.blocks][:8]}.")
        return np.concatenate(parts, axis=1)


def relu_modules(model: Any, include: Sequence[str] | None = None) -> list[tuple[str, Any]]:
    """The ReLU-like modules of ``model`` as ``(name, module)`` in ``named_modules()`` order.

    Parameters
    ----------
    model : torch.nn.Module
    include : list of str, optional
        fnmatch globs over module paths (e.g. ``["_blocks.15.*"]``); default every ReLU-like module.
    """
    if not (hasattr(model, "named_modules") and hasattr(model, "register_forward_pre_hook")):
        raise InvalidInputError(f"{_OWNER}: expected a torch.nn.Module, got {type(model).__name__}.")
    if isinstance(include, str):
        raise InvalidInputError(f"{_OWNER}: include must be a list of globs, got the string {include!r}; "
                                f"write include=[{include!r}].")
    types = _relu_types()
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, types)]
    if include is not None:
        found = [(n, m) for n, m in found if any(fnmatchcase(n, g) for g in include)]
    if not found:
        allr = [n for n, m in model.named_modules() if isinstance(m, types)]
        raise InvalidInputError(f"{_OWNER}: no ReLU-like module (nn.ReLU, ReLU6, LeakyReLU, PReLU) "
                                f"{'matches ' + repr(list(include)) if include is not None else 'in the model'}; "
                                f"ReLU-like modules: {allr[:8]}{'...' if len(allr) > 8 else ''}. Activations applied "
                                "as functions (F.relu) cannot be hooked: use nn.ReLU modules.")
    return found


def activation_codes(model: Any, inputs: Any, include: Sequence[str] | None = None, batch_size: int = 256,
                     saturation: bool = False, device: str | None = None, stop_after: str | None = None) -> CodeSet:
    """Binary activation patterns of ``inputs`` over the ReLU-like units of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        Run in eval mode under ``torch.no_grad()`` (its train/eval mode is restored afterwards).
    inputs : tensor or ndarray of shape (n_inputs, ...)
        The model's input, batched along the first axis.
    include : list of str, optional
        fnmatch globs over module paths restricting the hooked modules.
    batch_size : int, default=256
    saturation : bool, default=False
        Add a second bit per ReLU6 unit (pre-activation > 6): the upper kink of ReLU6 also
        bounds a linear region. Off by default, as in the paper (ReLU units, threshold 0).
    device : str, optional
        Where to run (default: where the model's first parameter is, else CPU).
    stop_after : str, optional
        Path of a module after whose first call the forward pass is abandoned (saves the rest of
        a large network when only early units are read); it must run after every hooked call.

    Returns
    -------
    CodeSet
    """
    return _read_relu_inputs(model, inputs, include, batch_size, saturation, device, raw=False,
                             stop_after=stop_after)


def relu_preactivations(model: Any, inputs: Any, include: Sequence[str] | None = None, batch_size: int = 256,
                        device: str | None = None, stop_after: str | None = None) -> CodeSet:
    """The pre-activations (inputs) of the ReLU-like units, in the model's dtype, laid out as :func:`activation_codes`'s columns.

    ``(relu_preactivations(...).codes > 0)`` equals ``activation_codes(...).codes``.
    """
    return _read_relu_inputs(model, inputs, include, batch_size, False, device, raw=True, stop_after=stop_after)


class _StopForward(Exception):
    """Raised by the ``stop_after`` hook to abandon the rest of a forward pass."""


def _read_relu_inputs(model: Any, inputs: Any, include: Sequence[str] | None, batch_size: int, saturation: bool,
                      device: str | None, raw: bool, stop_after: str | None = None) -> CodeSet:
    import torch

    mods = relu_modules(model, include)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"{_OWNER}: batch_size must be an int >= 1, got {batch_size!r}.")
    if isinstance(inputs, np.ndarray):
        inputs = torch.from_numpy(np.ascontiguousarray(inputs))
    if not isinstance(inputs, torch.Tensor) or inputs.ndim < 1 or inputs.shape[0] == 0:
        raise InvalidInputError(f"{_OWNER}: inputs must be a non-empty tensor or array batched on axis 0, got "
                                f"{type(inputs).__name__}{tuple(getattr(inputs, 'shape', ()))}.")
    if device is None:
        p = next(iter(model.parameters()), None)
        device = str(p.device) if p is not None else "cpu"
    relu6 = torch.nn.ReLU6
    calls: list[tuple[str, int, str, np.ndarray]] = []
    n_calls: dict[str, int] = {}

    def make(name: str, is_relu6: bool) -> Callable[..., None]:
        def pre_hook(mod: Any, args: tuple) -> None:
            z = args[0].detach()
            k = n_calls.get(name, 0)
            n_calls[name] = k + 1
            if raw:
                calls.append((name, k, "", z.reshape(z.shape[0], -1).to("cpu").numpy().copy()))
                return
            calls.append((name, k, "", (z > 0).reshape(z.shape[0], -1).to("cpu", torch.uint8).numpy()))
            if saturation and is_relu6:
                calls.append((name, k, ":sat", (z > 6).reshape(z.shape[0], -1).to("cpu", torch.uint8).numpy()))
        return pre_hook

    handles = [m.register_forward_pre_hook(make(n, isinstance(m, relu6))) for n, m in mods]
    if stop_after is not None:
        named = dict(model.named_modules())
        if stop_after not in named:
            for h in handles:
                h.remove()
            raise InvalidInputError(f"{_OWNER}: stop_after={stop_after!r} is not a module of the model; modules "
                                    f"include {list(named)[1:6]}...")

        def stop(mod: Any, args: tuple, output: Any) -> None:
            raise _StopForward

        handles.append(named[stop_after].register_forward_hook(stop))
    was_training = bool(model.training)
    chunks: list[np.ndarray] = []
    layout: list[tuple[str, int]] | None = None
    try:
        model.eval()
        with torch.no_grad():
            for s in range(0, inputs.shape[0], batch_size):
                calls.clear()
                n_calls.clear()
                xb = inputs[s:s + batch_size].to(device)
                if xb.is_floating_point():
                    p = next(iter(model.parameters()), None)
                    if p is not None and p.dtype != xb.dtype:
                        xb = xb.to(p.dtype)
                try:
                    model(xb)
                except _StopForward:
                    pass
                if not calls:
                    raise InvalidInputError(f"{_OWNER}: none of the hooked modules ran in the forward pass "
                                            f"({[n for n, _ in mods][:5]}).")
                this = [(f"{n}#{k}{sfx}" if n_calls[n] > 1 else f"{n}{sfx}", b.shape[1]) for n, k, sfx, b in calls]
                if layout is None:
                    layout = this
                elif this != layout:
                    raise InvalidInputError(f"{_OWNER}: the hooked modules ran differently for inputs {s}.. than for "
                                            "the first batch (data-dependent control flow); codes would not align.")
                chunks.append(np.concatenate([c[3] for c in calls], axis=1))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return CodeSet(codes=np.concatenate(chunks, axis=0), blocks=list(layout or []))


# --------------------------------------------------------------------------- small ReLU MLPs

def make_relu_mlp(n_inputs: int, width: int, depth: int = 1, n_classes: int = 10, random_state: int = 0) -> Any:
    """``nn.Sequential`` of ``depth`` (Linear -> ReLU) hidden layers of ``width`` units and a Linear read-out.

    PyTorch's default initialisation, drawn from a generator seeded by ``random_state``.
    """
    import torch
    import torch.nn as nn

    for name, v, lo in (("n_inputs", n_inputs, 1), ("width", width, 1), ("depth", depth, 1), ("n_classes", n_classes, 2)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InvalidInputError(f"make_relu_mlp: {name} must be an int >= {lo}, got {v!r}.")
    layers: list[Any] = []
    prev = int(n_inputs)
    for _ in range(int(depth)):
        layers += [nn.Linear(prev, int(width)), nn.ReLU()]
        prev = int(width)
    layers.append(nn.Linear(prev, int(n_classes)))
    net = nn.Sequential(*layers)
    g = torch.Generator().manual_seed(int(random_state))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                bound = 1.0 / np.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=g)
                m.bias.uniform_(-bound, bound, generator=g)
    return net


def train_relu_mlp(X: np.ndarray, y: np.ndarray, width: int, depth: int = 1, epochs: int = 30,
                   learning_rate: float = 1e-3, batch_size: int = 64, weight_decay: float = 0.0,
                   random_state: int = 0, checkpoints: Sequence[int] | None = None,
                   on_checkpoint: Callable[[int, Any], None] | None = None) -> Any:
    """Train a ReLU MLP classifier with Adam and cross-entropy; return it (eval mode).

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    y : ndarray of shape (n,), int class labels 0..K-1
    width, depth : int
        Units per hidden layer and number of hidden layers.
    epochs : int, default=30
        Passes over the data (minibatches in a seeded random order).
    learning_rate, batch_size, weight_decay
        Adam's step size, minibatch size and L2 penalty.
    random_state : int, default=0
        Seeds the initialisation and the minibatch order.
    checkpoints : sequence of int, optional
        Epochs (0 = before training) after which ``on_checkpoint(epoch, model)`` is called.
    """
    import torch
    import torch.nn.functional as F

    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise InvalidInputError(f"train_relu_mlp: expected X (n, n_features) and y (n,), got {X.shape} and {y.shape}.")
    n_classes = int(y.max()) + 1
    net = make_relu_mlp(X.shape[1], width, depth, max(n_classes, 2), random_state)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=float(learning_rate), weight_decay=float(weight_decay))
    g = torch.Generator().manual_seed(int(random_state) + 1)
    marks = set(int(c) for c in (checkpoints or ()))
    if 0 in marks and on_checkpoint is not None:
        on_checkpoint(0, net.eval())
    for epoch in range(1, int(epochs) + 1):
        net.train()
        order = torch.randperm(X.shape[0], generator=g)
        for s in range(0, X.shape[0], int(batch_size)):
            idx = order[s:s + int(batch_size)]
            opt.zero_grad()
            F.cross_entropy(net(Xt[idx]), yt[idx]).backward()
            opt.step()
        if epoch in marks and on_checkpoint is not None:
            on_checkpoint(epoch, net.eval())
    return net.eval()


def predict_classes(model: Any, X: np.ndarray) -> np.ndarray:
    """Arg-max class of a classifier's outputs (eval mode, no gradients)."""
    import torch

    was = bool(model.training)
    model.eval()
    try:
        with torch.no_grad():
            p = next(iter(model.parameters()))
            out = model(torch.from_numpy(np.asarray(X)).to(p.dtype))
    finally:
        model.train(was)
    return out.argmax(1).numpy()
