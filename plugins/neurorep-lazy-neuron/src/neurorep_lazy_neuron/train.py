"""Tiny ReLU networks for the paper's check: a 2-layer MLP and a small ReLU vision transformer on sklearn digits.

Li et al. (2023) measure the fraction of non-zero entries of the MLP activation map (the output of
the ReLU inside each transformer MLP, one row per token) and find that it falls far below the ~50%
of a randomly initialised network during training, for true and for random labels, and that wider
MLPs are sparser. The networks here are small enough to train on the 1,797 8 x 8 images of
:func:`sklearn.datasets.load_digits` in seconds on one CPU thread.

Every post-ReLU activation passes through an identity module named ``hook_post`` (TransformerLens'
name for the MLP activation), so the sites are plain ``named_modules()`` paths:
``layers.{i}.hook_post`` for :class:`TinyReLUMLP` and ``blocks.{i}.mlp.hook_post`` for
:class:`TinyReLUTransformer`.

torch is imported inside the functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["digits_data", "build_mlp", "build_transformer", "train_classifier", "TrainingRecord",
           "mlp_sites", "transformer_sites"]


def digits_data(random_labels: bool = False, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's digits as float32 images ``(1797, 8, 8)`` in [0, 1] and int labels (optionally shuffled).

    Parameters
    ----------
    random_labels : bool, default=False
        Replace the labels by a random permutation of them (the paper's random-label condition: the
        label histogram is kept, any relation to the image is destroyed).
    random_state : int, default=0
        Seed of the label permutation.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    if random_labels:
        y = np.random.default_rng([random_state, 39]).permutation(y)
    return X, y


def mlp_sites(n_layers: int) -> list[str]:
    """Post-ReLU sites of :func:`build_mlp`."""
    return [f"layers.{i}.hook_post" for i in range(n_layers)]


def transformer_sites(n_layers: int) -> list[str]:
    """Post-ReLU MLP sites of :func:`build_transformer`."""
    return [f"blocks.{i}.mlp.hook_post" for i in range(n_layers)]


def _modules() -> dict[str, Any]:
    """The torch module classes, defined on first use so importing this module does not import torch."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    import torch
    from torch import nn

    class Hook(nn.Identity):
        """An identity module whose output is a named site (TransformerLens' HookPoint)."""

    class MLPLayer(nn.Module):
        def __init__(self, d_in: int, width: int):
            super().__init__()
            self.fc = nn.Linear(d_in, width)
            self.act = nn.ReLU()
            self.hook_post = Hook()

        def forward(self, x):
            return self.hook_post(self.act(self.fc(x)))

    class TinyReLUMLP(nn.Module):
        """``n_layers`` ReLU layers of ``width`` units and a linear read-out; input images are flattened."""

        def __init__(self, d_in: int, width: int, n_layers: int, n_classes: int):
            super().__init__()
            dims = [d_in] + [width] * n_layers
            self.layers = nn.ModuleList(MLPLayer(a, b) for a, b in zip(dims[:-1], dims[1:]))
            self.out = nn.Linear(width, n_classes)

        def forward(self, x):
            h = x.flatten(1)
            for layer in self.layers:
                h = layer(h)
            return self.out(h)

    class MLPBlock(nn.Module):
        def __init__(self, d_model: int, d_mlp: int):
            super().__init__()
            self.fc_in = nn.Linear(d_model, d_mlp)
            self.act = nn.ReLU()
            self.hook_post = Hook()
            self.fc_out = nn.Linear(d_mlp, d_model)

        def forward(self, x):
            return self.fc_out(self.hook_post(self.act(self.fc_in(x))))

    class Block(nn.Module):
        def __init__(self, d_model: int, d_mlp: int, n_heads: int):
            super().__init__()
            self.ln1 = nn.LayerNorm(d_model)
            self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
            self.ln2 = nn.LayerNorm(d_model)
            self.mlp = MLPBlock(d_model, d_mlp)

        def forward(self, x):
            h = self.ln1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.ln2(x))

    class TinyReLUTransformer(nn.Module):
        """A pre-LayerNorm vision transformer: ``patch x patch`` pixel patches -> tokens, ReLU MLPs, mean pooling."""

        def __init__(self, image_size: int, patch: int, d_model: int, d_mlp: int, n_layers: int, n_heads: int,
                     n_classes: int):
            super().__init__()
            self.patch = patch
            n_tokens = (image_size // patch) ** 2
            self.embed = nn.Linear(patch * patch, d_model)
            self.pos = nn.Parameter(0.02 * torch.randn(1, n_tokens, d_model))
            self.blocks = nn.ModuleList(Block(d_model, d_mlp, n_heads) for _ in range(n_layers))
            self.ln_final = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, n_classes)

        def tokens(self, x):
            n, h, w = x.shape
            p = self.patch
            t = x.reshape(n, h // p, p, w // p, p).permute(0, 1, 3, 2, 4).reshape(n, (h // p) * (w // p), p * p)
            return self.embed(t) + self.pos

        def forward(self, x):
            h = self.tokens(x)
            for block in self.blocks:
                h = block(h)
            return self.head(self.ln_final(h).mean(1))

    _CLASSES = {"mlp": TinyReLUMLP, "transformer": TinyReLUTransformer}
    return _CLASSES


_CLASSES: dict[str, Any] | None = None


def build_mlp(width: int = 256, n_layers: int = 2, d_in: int = 64, n_classes: int = 10,
              random_state: int = 0) -> Any:
    """A seeded :class:`TinyReLUMLP` (PyTorch's default initialisation under ``torch.manual_seed``)."""
    import torch

    torch.manual_seed(random_state)
    return _modules()["mlp"](d_in, width, n_layers, n_classes)


def build_transformer(d_mlp: int = 128, n_layers: int = 2, d_model: int = 32, n_heads: int = 4, patch: int = 2,
                      image_size: int = 8, n_classes: int = 10, random_state: int = 0) -> Any:
    """A seeded :class:`TinyReLUTransformer` (``(image_size / patch)^2`` tokens of ``d_model``)."""
    import torch

    torch.manual_seed(random_state)
    return _modules()["transformer"](image_size, patch, d_model, d_mlp, n_layers, n_heads, n_classes)


@dataclass
class TrainingRecord:
    """What :func:`train_classifier` measured after each recorded epoch.

    Attributes
    ----------
    epochs : list of int
        Epoch numbers (0 is the network before training).
    nonzero : dict of str to list of float
        Per site, the mean over inputs (tokens) of the fraction of non-zero entries.
    train_accuracy : list of float
    """

    epochs: list[int] = field(default_factory=list)
    nonzero: dict[str, list[float]] = field(default_factory=dict)
    train_accuracy: list[float] = field(default_factory=list)


def _measure(model: Any, X: Any, y: Any, sites: Sequence[str], record: TrainingRecord, epoch: int) -> None:
    import torch

    from .core import nonzero_fraction
    from .hooks import collect_activations

    model.eval()
    with torch.no_grad():
        acts, logits = collect_activations(model, sites, lambda m: m(X))
    model.train()
    record.epochs.append(epoch)
    record.train_accuracy.append(float((logits.argmax(1) == y).float().mean()))
    for s in sites:
        a = acts[s].reshape(-1, acts[s].shape[-1]).numpy()
        record.nonzero.setdefault(s, []).append(float(nonzero_fraction(a).mean()))


def train_classifier(model: Any, X: np.ndarray, y: np.ndarray, sites: Sequence[str], *, epochs: int = 20,
                     lr: float = 1e-3, batch_size: int = 64, weight_decay: float = 0.0, random_state: int = 0,
                     record_every: int = 0) -> TrainingRecord:
    """Train ``model`` (in place) with AdamW on cross-entropy and record the sparsity of ``sites``.

    Parameters
    ----------
    model : torch.nn.Module
    X, y : ndarray
        Inputs (as the model takes them) and integer labels.
    sites : sequence of str
        Module paths whose outputs are measured (e.g. :func:`mlp_sites`).
    epochs : int, default=20
    lr : float, default=1e-3
    batch_size : int, default=64
    weight_decay : float, default=0.0
    random_state : int, default=0
        Seed of the mini-batch order.
    record_every : int, default=0
        Also measure every this many epochs (0: before and after training only).

    Returns
    -------
    TrainingRecord
        Measured on the whole of ``X`` before training (epoch 0), at the requested epochs and at the end.
    """
    import torch
    import torch.nn.functional as F

    Xt = torch.as_tensor(np.asarray(X, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    record = TrainingRecord()
    _measure(model, Xt, yt, sites, record, 0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(int(random_state))
    n = Xt.shape[0]
    model.train()
    for ep in range(1, epochs + 1):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if ep == epochs or (record_every and ep % record_every == 0):
            _measure(model, Xt, yt, sites, record, ep)
    model.eval()
    return record
