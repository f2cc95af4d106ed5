"""Sources: the parameterised alignment task, the relabelled digits task, and networks trained on them."""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
from neurorep import Representation, StimulusSet, Tags
from neurorep.components import Source
from neurorep.errors import InvalidInputError

from .core import (ACTIVATIONS, CITATION, Task, checkpoint_steps, make_alignment_task, make_digits_task,
                   train_one_hidden_layer)

__all__ = ["AlignmentTaskSource", "DigitsTaskSource", "TrainedNetworkSource", "TASK_SITES", "task_representation"]

#: Sites of the task sources: the inputs, the targets, and both side by side (columns marked by role).
TASK_SITES = ("input", "target", "task")


def task_representation(task: Task, site: str, source_id: str) -> Representation:
    """``"input"``, ``"target"`` or ``"task"`` (inputs then targets, ``channel_descriptors["role"]``)."""
    space = {"kind": "task", "source": source_id, "site": site, **task.info}
    name = f"{source_id}:{site}"
    if site == "input":
        return Representation(task.inputs.copy(), task.stimulus_ids, space=space, name=name)
    if site == "target":
        return Representation(task.targets.copy(), task.stimulus_ids, space=space, name=name)
    if site == "task":
        role = np.array(["input"] * task.inputs.shape[1] + ["target"] * task.targets.shape[1])
        return Representation(np.hstack([task.inputs, task.targets]), task.stimulus_ids, space=space,
                              channel_descriptors={"role": role}, name=name)
    raise InvalidInputError(f"Source {source_id!r}: unknown site {site!r}; expected one of {list(TASK_SITES)}.")


class AlignmentTaskSource(Source):
    """A task whose input geometry is aligned with its label geometry to a tunable degree.

    ``n_conditions`` conditions carry ``n_targets`` random balanced binary labels (the target geometry)
    and a random unstructured position; their input centres rotate from the unstructured positions
    (``alignment=0``) to the embedded label code (``alignment=1``) by the angle ``alignment * 90``
    degrees. Each condition is sampled ``n_per_condition`` times with Gaussian noise. Sites: ``"input"``
    (n_stimuli, n_features), ``"target"`` (n_stimuli, n_targets) and ``"task"`` (both, columns marked by
    ``channel_descriptors["role"]``, for ``geometry.task-alignment``). SYNTHETIC: our construction of a
    task family like the paper's, not its exact tasks.

    Parameters
    ----------
    n_conditions : int, default=16
        Even number of conditions.
    n_targets : int, default=2
        Binary targets: the dimensionality of the label geometry.
    n_features : int, default=32
        Input dimensionality.
    n_per_condition : int, default=4
        Samples (stimuli) per condition.
    alignment : float, default=0.0
        In [0, 1]: 0 = input geometry unrelated to the labels, 1 = inputs are the label code.
    noise : float, default=0.1
        RMS norm of the per-sample noise relative to the condition centres'.
    random_state : int, default=0
    """

    id = "task.factor-alignment"
    version = "1.0.0"
    citation = CITATION
    description = "Inputs and binary targets whose geometries are aligned to a tunable degree"
    tags = Tags(stochastic=True)

    def __init__(self, n_conditions: int = 16, n_targets: int = 2, n_features: int = 32, n_per_condition: int = 4,
                 alignment: float = 0.0, noise: float = 0.1, random_state: int = 0):
        self.n_conditions = n_conditions
        self.n_targets = n_targets
        self.n_features = n_features
        self.n_per_condition = n_per_condition
        self.alignment = alignment
        self.noise = noise
        self.random_state = random_state

    def make_task(self) -> Task:
        """The task (ids, inputs, targets, condition of each stimulus)."""
        return make_alignment_task(self.n_conditions, self.n_targets, self.n_features, self.n_per_condition,
                                   self.alignment, self.noise, self.random_state, owner=f"Source {self.id!r}")

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(TASK_SITES)

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return tuple(f"cond-{c:02d}_sample-{r}" for c in range(self.n_conditions)
                     for r in range(self.n_per_condition))

    def site_space(self, site: str) -> dict:
        return {"kind": "task", "source": self.id, "site": site}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in TASK_SITES:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {list(TASK_SITES)}.")
        return task_representation(self.make_task(), site, self.id)


class DigitsTaskSource(Source):
    """scikit-learn's 8 x 8 handwritten digits with a relabelled (misaligned) target structure.

    Inputs are the 64 pixels (scaled, centred, unit RMS norm) of ``n_per_class`` digits per class;
    targets are +1/-1 codes of ``"parity"`` (even/odd), ``"parity-magnitude"`` (even/odd and >= 5) or
    ``"one-hot"`` class labels. The images ship with scikit-learn (no download). Sites as
    ``task.factor-alignment``: ``"input"``, ``"target"``, ``"task"``.

    Parameters
    ----------
    n_per_class : int, default=20
        Digits per class (10 classes).
    labels : str, default="parity"
        ``"parity"``, ``"parity-magnitude"`` or ``"one-hot"``.
    random_state : int, default=0
        Seeds which digits are drawn.
    """

    id = "task.digits-relabelled"
    version = "1.0.0"
    citation = ("Alpaydin, E. & Kaynak, C. (1998) Optical Recognition of Handwritten Digits, UCI ML Repository "
                "(scikit-learn's load_digits); task design after " + CITATION)
    description = "8x8 digits (pixels) with parity / magnitude / one-hot targets"
    tags = Tags(stochastic=True)

    def __init__(self, n_per_class: int = 20, labels: str = "parity", random_state: int = 0):
        self.n_per_class = n_per_class
        self.labels = labels
        self.random_state = random_state

    @classmethod
    def _conformance_instances(cls) -> list[DigitsTaskSource]:
        return [cls(n_per_class=3), cls(n_per_class=2, labels="one-hot", random_state=1)]

    def make_task(self) -> Task:
        """The task (ids, pixels, relabelled targets, digit class of each stimulus)."""
        return make_digits_task(self.n_per_class, self.labels, self.random_state, owner=f"Source {self.id!r}")

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(TASK_SITES)

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return self.make_task().stimulus_ids

    def site_space(self, site: str) -> dict:
        return {"kind": "task", "source": self.id, "site": site}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in TASK_SITES:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {list(TASK_SITES)}.")
        return task_representation(self.make_task(), site, self.id)


TASKS = {AlignmentTaskSource.id: AlignmentTaskSource, DigitsTaskSource.id: DigitsTaskSource}


@functools.lru_cache(maxsize=8)
def _trained(key: str) -> tuple[Task, Any]:
    p = json.loads(key)
    task = TASKS[p["task"]](**p["task_params"]).make_task()
    net = train_one_hidden_layer(task.inputs, task.targets, p["activation"], p["n_hidden"], p["n_steps"],
                                 p["learning_rate"], p["init_scale"], p["n_checkpoints"], p["random_state"],
                                 owner=f"Source {TrainedNetworkSource.id!r}")
    return task, net


class TrainedNetworkSource(Source):
    """Hidden representations of a one-hidden-layer network over its training on a task source's task.

    The task (``task`` = ``"task.factor-alignment"`` or ``"task.digits-relabelled"``, built with
    ``task_params``) is learned by full-batch gradient descent on the squared error (see
    ``mlp.one-hidden-layer``); sites ``"hidden.step-NNNN"`` hold the hidden activations of all task
    stimuli at the recorded steps (0, log-spaced, ``n_steps``), ``"output"`` the final outputs. Pair the
    hidden sites with the task source's ``"task"`` site in ``geometry.task-alignment``.

    Parameters
    ----------
    task : str, default="task.factor-alignment"
        Id of the task source.
    task_params : dict, optional
        Parameters of the task source (its defaults when omitted).
    activation : str, default="tanh"
        ``"tanh"`` or ``"relu"``.
    n_hidden : int, default=100
    n_steps : int, default=300
    learning_rate : float, default=0.2
    init_scale : float, default=0.1
        Weight scale at initialisation relative to 1/sqrt(fan_in) (small: feature-learning regime).
    n_checkpoints : int, default=8
        Recorded steps: 0, ``n_steps`` and log-spaced steps between.
    random_state : int, default=0
        Seeds the network's initialisation (the task has its own ``random_state`` in ``task_params``).
    """

    id = "trained.one-hidden-layer"
    version = "1.0.0"
    citation = CITATION
    description = "Hidden layer of a Tanh/ReLU one-hidden-layer network at checkpoints over training"
    tags = Tags(stochastic=True)

    def __init__(self, task: str = "task.factor-alignment", task_params: dict[str, Any] | None = None,
                 activation: str = "tanh", n_hidden: int = 100, n_steps: int = 300, learning_rate: float = 0.2,
                 init_scale: float = 0.1, n_checkpoints: int = 8, random_state: int = 0):
        self.task = task
        self.task_params = task_params
        self.activation = activation
        self.n_hidden = n_hidden
        self.n_steps = n_steps
        self.learning_rate = learning_rate
        self.init_scale = init_scale
        self.n_checkpoints = n_checkpoints
        self.random_state = random_state

    @classmethod
    def _conformance_instances(cls) -> list[TrainedNetworkSource]:
        small = {"n_conditions": 4, "n_per_condition": 2, "n_features": 6}
        return [cls(task_params=small, n_hidden=8, n_steps=20, n_checkpoints=3),
                cls(task="task.digits-relabelled", task_params={"n_per_class": 2}, activation="relu", n_hidden=8,
                    n_steps=10, n_checkpoints=2, random_state=1)]

    def _task_source(self) -> Source:
        if self.task not in TASKS:
            raise InvalidInputError(f"Source {self.id!r}: task must be one of {sorted(TASKS)}, got {self.task!r}.")
        try:
            return TASKS[self.task](**dict(self.task_params or {}))
        except TypeError as exc:
            raise InvalidInputError(f"Source {self.id!r}: task_params {self.task_params!r} do not fit {self.task!r} "
                                    f"({exc}); see `neurorep components` for its parameters.") from None

    def steps(self) -> tuple[int, ...]:
        """The recorded training steps."""
        return checkpoint_steps(int(self.n_steps), int(self.n_checkpoints))

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return [f"hidden.step-{s:04d}" for s in self.steps()] + ["output"]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return self._task_source().stimulus_ids()

    def site_space(self, site: str) -> dict:
        out = {"kind": "model", "source": self.id, "site": site, "activation": self.activation}
        if site.startswith("hidden.step-"):
            out["step"] = int(site.rsplit("-", 1)[1])
        return out

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        sites = self.sites()
        if site not in sites:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {sites}.")
        if self.activation not in ACTIVATIONS:
            raise InvalidInputError(f"Source {self.id!r}: activation must be one of {list(ACTIVATIONS)}, "
                                    f"got {self.activation!r}.")
        src = self._task_source()
        key = json.dumps({"task": self.task, "task_params": src.get_params(), "activation": self.activation,
                          "n_hidden": int(self.n_hidden), "n_steps": int(self.n_steps),
                          "learning_rate": float(self.learning_rate), "init_scale": float(self.init_scale),
                          "n_checkpoints": int(self.n_checkpoints), "random_state": int(self.random_state)},
                         sort_keys=True)
        task, net = _trained(key)
        if site == "output":
            from .core import hidden_forward

            data = hidden_forward(task.inputs, net.W1, net.b1, net.activation) @ net.W2 + net.b2
        else:
            data = net.hidden[sites.index(site)].copy()
        return Representation(data, task.stimulus_ids, space=self.site_space(site), name=f"{self.id}:{site}")
