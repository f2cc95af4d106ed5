"""Numerical core: tasks with tunable input/label alignment, one-hidden-layer networks, RDM alignments.

Everything here is plain numpy except :func:`train_one_hidden_layer`, which imports torch when called.

The task family (our construction, in the spirit of the paper's parameterised tasks): ``n_conditions``
conditions each carry ``n_targets`` balanced binary labels (random dichotomies of the conditions; the
target geometry). Each condition also has an unstructured position, a random Gaussian point (the input
geometry the labels know nothing about). The condition centre in input space is

    c = cos(alignment * pi / 2) * p + sin(alignment * pi / 2) * t

where ``p`` is the unstructured point and ``t`` the condition's label code embedded by an orthonormal
map, both scaled to unit mean squared norm. ``alignment = 0`` gives inputs whose geometry is unrelated to
the labels (random points, random dichotomies: still linearly separable when ``n_conditions`` does not
exceed ``n_features``); ``alignment = 1`` gives inputs that are the label code itself (input RDM ==
target RDM up to scale when ``noise = 0``). Every condition is sampled ``n_per_condition`` times with
isotropic Gaussian noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = [
    "CITATION",
    "ACTIVATIONS",
    "Task",
    "make_alignment_task",
    "make_digits_task",
    "checkpoint_steps",
    "TrainedNet",
    "train_one_hidden_layer",
    "hidden_forward",
    "rdm_alignment",
    "alignment_curve",
]

CITATION = ("Alleman, M., Lindsey, J. W. & Fusi, S. (2024) Task structure and nonlinearity jointly determine "
            "learned representational geometry. ICLR 2024. arXiv:2401.13558")

ACTIVATIONS = ("tanh", "relu")
DIGITS_LABELS = ("parity", "parity-magnitude", "one-hot")


@dataclass(frozen=True)
class Task:
    """A supervised task: stimulus ids, inputs (n_stimuli, n_inputs), targets (n_stimuli, n_targets).

    ``condition`` gives each stimulus' condition (or class) index; ``info`` holds descriptive numbers.
    """

    stimulus_ids: tuple[str, ...]
    inputs: np.ndarray
    targets: np.ndarray
    condition: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def _unit_rms(a: np.ndarray) -> np.ndarray:
    a = a - a.mean(0)
    return a / np.sqrt((a ** 2).sum(1).mean())


def make_alignment_task(n_conditions: int = 16, n_targets: int = 2, n_features: int = 32, n_per_condition: int = 4,
                        alignment: float = 0.0, noise: float = 0.1, random_state: int = 0,
                        owner: str = "make_alignment_task") -> Task:
    """The parameterised task family described in the module docstring.

    Parameters
    ----------
    n_conditions : int, default=16
        Even; every target is a balanced dichotomy of the conditions.
    n_targets : int, default=2
        Number of binary (+1/-1) targets, i.e. the dimensionality of the target geometry.
    n_features : int, default=32
        Input dimensionality; must be >= n_targets.
    n_per_condition : int, default=4
        Noisy samples (stimuli) per condition.
    alignment : float, default=0.0
        In [0, 1]: 0 = input geometry unrelated to the labels, 1 = inputs are the label code.
    noise : float, default=0.1
        Root-mean-square norm of the per-sample noise, relative to the unit RMS norm of the condition centres.
    random_state : int, default=0
    owner : str
        Named in error messages.
    """
    if n_conditions < 4 or n_conditions % 2:
        raise InvalidInputError(f"{owner}: n_conditions must be an even number >= 4 (balanced dichotomies), "
                                f"got {n_conditions}.")
    if not 1 <= n_targets <= n_features:
        raise InvalidInputError(f"{owner}: need 1 <= n_targets <= n_features, got n_targets={n_targets}, "
                                f"n_features={n_features}.")
    if n_per_condition < 1:
        raise InvalidInputError(f"{owner}: n_per_condition must be >= 1, got {n_per_condition}.")
    if not 0.0 <= float(alignment) <= 1.0:
        raise InvalidInputError(f"{owner}: alignment must lie in [0, 1] (0 = misaligned, 1 = aligned), "
                                f"got {alignment}.")
    if noise < 0:
        raise InvalidInputError(f"{owner}: noise must be >= 0, got {noise}.")
    rng = np.random.default_rng([int(random_state), 72])
    half = np.repeat([-1.0, 1.0], n_conditions // 2)
    codes = np.stack([rng.permutation(half) for _ in range(n_targets)], 1)
    points = _unit_rms(rng.standard_normal((n_conditions, n_features)))
    embed = np.linalg.qr(rng.standard_normal((n_features, n_targets)))[0].T  # orthonormal rows
    label_code = _unit_rms(codes @ embed)
    theta = float(alignment) * np.pi / 2
    centres = np.cos(theta) * points + np.sin(theta) * label_code
    cond = np.repeat(np.arange(n_conditions), n_per_condition)
    eps = rng.standard_normal((cond.size, n_features)) * (noise / np.sqrt(n_features))
    X = centres[cond] + eps
    ids = tuple(f"cond-{c:02d}_sample-{r}" for c in range(n_conditions) for r in range(n_per_condition))
    return Task(ids, X, codes[cond].copy(), cond,
                info={"alignment": float(alignment), "n_conditions": n_conditions, "n_targets": n_targets})


def make_digits_task(n_per_class: int = 20, labels: str = "parity", random_state: int = 0,
                     owner: str = "make_digits_task") -> Task:
    """scikit-learn's 8 x 8 digits (bundled with the package; nothing is downloaded) with a relabelled target.

    Inputs are the 64 pixels scaled to [0, 1], centred and scaled to unit RMS norm. Targets (+1/-1):
    ``"parity"`` (even vs odd, 1 target), ``"parity-magnitude"`` (even vs odd and >= 5 vs < 5, 2 targets)
    or ``"one-hot"`` (10 targets). Parity and magnitude group digits that look different, so their
    geometry is misaligned with the pixel geometry; one-hot labels are better aligned with it.

    Parameters
    ----------
    n_per_class : int, default=20
        Digits drawn per class (10 classes), without replacement.
    labels : {"parity", "parity-magnitude", "one-hot"}, default="parity"
    random_state : int, default=0
        Seeds which digits are drawn.
    owner : str
        Named in error messages.
    """
    if labels not in DIGITS_LABELS:
        raise InvalidInputError(f"{owner}: labels must be one of {list(DIGITS_LABELS)}, got {labels!r}.")
    if not 1 <= n_per_class <= 170:
        raise InvalidInputError(f"{owner}: n_per_class must be in [1, 170] (the rarest digit has 174 images), "
                                f"got {n_per_class}.")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng([int(random_state), 8])
    idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), n_per_class, replace=False)
                                  for c in range(10)]))
    X, y = _unit_rms(X[idx] / 16.0), y[idx]
    if labels == "parity":
        Y = np.where(y % 2 == 0, 1.0, -1.0)[:, None]
    elif labels == "parity-magnitude":
        Y = np.stack([np.where(y % 2 == 0, 1.0, -1.0), np.where(y >= 5, 1.0, -1.0)], 1)
    else:
        Y = 2.0 * np.eye(10)[y] - 1.0
    ids = tuple(f"digit-{i:04d}" for i in idx)
    return Task(ids, X, Y, y.copy(), info={"labels": labels, "n_per_class": n_per_class})


def checkpoint_steps(n_steps: int, n_checkpoints: int) -> tuple[int, ...]:
    """Training steps at which hidden representations are recorded: 0, n_steps and log-spaced steps between.

    Returns ``min(n_checkpoints, n_steps + 1)`` distinct increasing steps (fewer when rounding merges some).
    """
    if n_steps < 0 or n_checkpoints < 1:
        raise InvalidInputError(f"checkpoint_steps: need n_steps >= 0 and n_checkpoints >= 1, got {n_steps}, "
                                f"{n_checkpoints}.")
    if n_checkpoints == 1 or n_steps == 0:
        return (int(n_steps),)
    inner = np.geomspace(1, n_steps, n_checkpoints - 1) if n_checkpoints > 2 else np.array([])
    steps = sorted({0, *(int(round(s)) for s in inner), int(n_steps)})
    return tuple(steps)


def hidden_forward(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, activation: str) -> np.ndarray:
    """Hidden-layer activations ``f(X W1 + b1)`` in numpy (float64)."""
    a = np.asarray(X, dtype=np.float64) @ W1 + b1
    return np.tanh(a) if activation == "tanh" else np.maximum(a, 0.0)


@dataclass
class TrainedNet:
    """Weights of a trained one-hidden-layer network and what was recorded while training it.

    ``hidden[i]`` is the hidden representation of the training inputs at ``steps[i]``; ``loss[t]`` is the
    full-batch loss before update ``t`` (``loss[n_steps]``: after the last update).
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    activation: str
    steps: tuple[int, ...]
    hidden: list[np.ndarray]
    loss: np.ndarray


def train_one_hidden_layer(X: np.ndarray, Y: np.ndarray, activation: str = "tanh", n_hidden: int = 100,
                           n_steps: int = 300, learning_rate: float = 0.2, init_scale: float = 0.1,
                           n_checkpoints: int = 8, random_state: int = 0,
                           owner: str = "train_one_hidden_layer") -> TrainedNet:
    """Full-batch gradient descent on the mean squared error of ``y = f(X W1 + b1) W2 + b2``.

    Weights start as ``N(0, init_scale**2 / fan_in)`` (biases at 0): a small ``init_scale`` puts the
    network in the feature-learning ("rich") regime studied by the paper. Deterministic for a given
    ``random_state`` (a private torch generator; no global random state is touched). torch is imported
    here, not at module import.

    Parameters
    ----------
    X : ndarray (n_samples, n_inputs)
    Y : ndarray (n_samples, n_outputs)
    activation : {"tanh", "relu"}, default="tanh"
    n_hidden : int, default=100
    n_steps : int, default=300
        Full-batch gradient steps.
    learning_rate : float, default=0.2
        Plain gradient descent step size.
    init_scale : float, default=0.1
    n_checkpoints : int, default=8
        Hidden representations are recorded at :func:`checkpoint_steps` ``(n_steps, n_checkpoints)``.
    random_state : int, default=0
    owner : str
        Named in error messages.
    """
    if activation not in ACTIVATIONS:
        raise InvalidInputError(f"{owner}: activation must be one of {list(ACTIVATIONS)}, got {activation!r}.")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise InvalidInputError(f"{owner}: expected X (n_samples, n_inputs) and Y (n_samples, n_outputs) with the "
                                f"same number of rows, got shapes {X.shape} and {Y.shape}.")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InvalidInputError(f"{owner}: expected finite X and Y, got NaN/inf values; remove or impute them.")
    if n_hidden < 1 or n_steps < 0 or learning_rate <= 0 or init_scale < 0:
        raise InvalidInputError(f"{owner}: need n_hidden >= 1, n_steps >= 0, learning_rate > 0 and init_scale >= 0, "
                                f"got {n_hidden}, {n_steps}, {learning_rate}, {init_scale}.")
    import torch

    steps = checkpoint_steps(n_steps, n_checkpoints)
    want = set(steps)
    gen = torch.Generator().manual_seed(int(random_state))
    d, k = X.shape[1], Y.shape[1]
    dt = torch.float64
    W1 = (torch.randn(d, n_hidden, generator=gen, dtype=dt) * (init_scale / np.sqrt(d))).requires_grad_()
    b1 = torch.zeros(n_hidden, dtype=dt, requires_grad=True)
    W2 = (torch.randn(n_hidden, k, generator=gen, dtype=dt) * (init_scale / np.sqrt(n_hidden))).requires_grad_()
    b2 = torch.zeros(k, dtype=dt, requires_grad=True)
    f = torch.tanh if activation == "tanh" else torch.relu
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    params = (W1, b1, W2, b2)
    hidden: list[np.ndarray] = []
    losses = np.empty(n_steps + 1)
    for t in range(n_steps + 1):
        h = f(Xt @ W1 + b1)
        loss = ((h @ W2 + b2 - Yt) ** 2).mean()
        losses[t] = float(loss.detach())
        if t in want:
            hidden.append(h.detach().numpy().copy())
        if t == n_steps:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= learning_rate * g
    if not np.all(np.isfinite(losses)):
        raise InvalidInputError(f"{owner}: training diverged (non-finite loss); lower learning_rate "
                                f"(got {learning_rate}) or init_scale (got {init_scale}).")
    w = [p.detach().numpy().copy() for p in params]
    return TrainedNet(w[0], w[1], w[2], w[3], activation, steps, hidden, losses)


def rdm_alignment(hidden: np.ndarray, reference: np.ndarray, distance: str = "euclidean",
                  comparison: str = "pearson") -> float:
    """Correlation between the RDM of ``hidden`` and the RDM of ``reference`` (both stimuli-first).

    RDMs come from :func:`neurorep.rsa.calc_rdm` and are compared with :func:`neurorep.rsa.compare`.
    """
    from neurorep.rsa import calc_rdm, compare
    from neurorep.types import Representation

    ids = tuple(str(i) for i in range(len(hidden)))
    a = calc_rdm(Representation(np.asarray(hidden, dtype=float), ids, name="hidden"), distance)
    b = calc_rdm(Representation(np.asarray(reference, dtype=float), ids, name="reference"), distance)
    return float(compare(a, b, comparison)[0, 0])


def alignment_curve(net: TrainedNet, task: Task, distance: str = "euclidean",
                    comparison: str = "pearson") -> dict[str, np.ndarray]:
    """corr(hidden RDM, input RDM) and corr(hidden RDM, target RDM) at every recorded training step.

    Returns ``{"step", "input", "target"}`` arrays of length ``len(net.steps)``.
    """
    inp = [rdm_alignment(h, task.inputs, distance, comparison) for h in net.hidden]
    tgt = [rdm_alignment(h, task.targets, distance, comparison) for h in net.hidden]
    return {"step": np.array(net.steps), "input": np.array(inp), "target": np.array(tgt)}
