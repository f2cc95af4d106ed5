"""The ``geometry.task-alignment`` analyzer: how much a representation's RDM follows a task's inputs and targets."""

from __future__ import annotations

import numpy as np
from neurorep import Representation, Tags, align
from neurorep.components import Analyzer
from neurorep.errors import InvalidInputError
from neurorep.types import Result

from .core import CITATION

__all__ = ["TaskAlignment"]


class TaskAlignment(Analyzer):
    """Correlation of a representation's RDM with the task's input RDM and target RDM.

    ``x`` is the representation to assess (a hidden layer at one training checkpoint, a brain region);
    ``y`` is the task: its features marked ``channel_descriptors[role_key] == "input"`` give the input
    RDM, those marked ``"target"`` the target RDM (e.g. the ``"task"`` site of ``task.factor-alignment``).
    When ``y`` has no ``role_key`` descriptor, all of ``y`` is the target and only the target row is
    returned. RDMs are :func:`neurorep.rsa.calc_rdm` (``distance``), compared with
    :func:`neurorep.rsa.compare` (``comparison``) over the stimuli both inputs share.

    Rows: ``"target-alignment"`` (headline: corr(RDM_x, RDM_target)), ``"input-alignment"``
    (corr(RDM_x, RDM_input)) and ``"target-minus-input"``; ``extra`` holds ``step`` when ``x.space``
    has one, and corr(RDM_input, RDM_target) as ``input_target_alignment``. The paper's finding: over
    training, Tanh hidden layers rise in target alignment, ReLU hidden layers keep more input alignment.

    Parameters
    ----------
    distance : str, default="euclidean"
        RDM distance (any of :data:`neurorep.rsa.DISTANCES` that needs no repeats), the same for all RDMs.
    comparison : str, default="pearson"
        RDM comparison (any of :data:`neurorep.rsa.COMPARISONS`).
    role_key : str, default="role"
        Channel descriptor of ``y`` that marks input and target features.
    align : str, default="reorder"
        How stimulus ids are matched: ``"strict"``, ``"reorder"`` or ``"intersection"``.
    """

    id = "geometry.task-alignment"
    version = "1.0.0"
    citation = CITATION
    description = "corr(RDM, input RDM) and corr(RDM, target RDM) of a representation on a task"
    n_inputs = 2
    tags = Tags(larger_is_more_similar=True, maximum=1.0, invariances=("isotropic_scaling", "feature_permutation"))

    def __init__(self, distance: str = "euclidean", comparison: str = "pearson", role_key: str = "role",
                 align: str = "reorder"):
        self.distance = distance
        self.comparison = comparison
        self.role_key = role_key
        self.align = align

    def _split(self, y: Representation) -> tuple[np.ndarray | None, np.ndarray]:
        roles = y.channel_descriptors.get(self.role_key)
        if roles is None:
            return None, y.data
        roles = np.asarray(roles).astype(str)
        inp, tgt = roles == "input", roles == "target"
        if not tgt.any():
            raise InvalidInputError(
                f"Analyzer {self.id!r}: y's channel descriptor {self.role_key!r} marks no 'target' feature "
                f"(found {sorted(set(roles.tolist()))}); mark target columns 'target' and input columns 'input', "
                "e.g. use the 'task' site of task.factor-alignment.")
        return (y.data[:, inp] if inp.any() else None), y.data[:, tgt]

    def analyze(self, x: Representation, y: Representation | None = None) -> list[Result]:
        from neurorep.rsa import COMPARISONS, DISTANCES, calc_rdm, compare

        own = f"Analyzer {self.id!r}"
        if y is None:
            raise InvalidInputError(f"{own}: needs two inputs (a representation and a task representation); got one.")
        for what, v in (("x", x), ("y", y)):
            if not isinstance(v, Representation):
                raise InvalidInputError(f"{own}: {what} must be a neurorep.Representation, got {type(v).__name__}.")
        if self.distance not in DISTANCES or self.distance in ("crossnobis", "poisson-cv"):
            raise InvalidInputError(f"{own}: distance must be one of "
                                    f"{[d for d in DISTANCES if d not in ('crossnobis', 'poisson-cv')]}, "
                                    f"got {self.distance!r}.")
        if self.align not in ("strict", "reorder", "intersection"):
            raise InvalidInputError(f"{own}: align must be one of ['strict', 'reorder', 'intersection'], "
                                    f"got {self.align!r}.")
        if self.comparison not in COMPARISONS:
            raise InvalidInputError(f"{own}: comparison must be one of {list(COMPARISONS)}, got {self.comparison!r}.")
        x.check_finite(owner=own)
        y.check_finite(owner=own)
        x, y = align(x, y, how=self.align, owner=own)
        inp, tgt = self._split(y)
        ids = x.stimulus_ids

        def rdm(a: np.ndarray, name: str):
            return calc_rdm(Representation(np.asarray(a, dtype=float), ids, name=name), self.distance)

        rx = rdm(x.data, "x")
        rt = rdm(tgt, "target")
        n_pairs = len(ids) * (len(ids) - 1) // 2
        extra = {"distance": self.distance, "comparison": self.comparison}
        step = dict(x.space or {}).get("step")
        if step is not None:
            extra["step"] = int(step)
        s_t = float(compare(rx, rt, self.comparison)[0, 0])
        if inp is None:
            return [Result(score=s_t, metric="target-alignment", n=n_pairs, extra=extra)]
        ri = rdm(inp, "input")
        s_i = float(compare(rx, ri, self.comparison)[0, 0])
        extra["input_target_alignment"] = float(compare(ri, rt, self.comparison)[0, 0])
        return [Result(score=s_t, metric="target-alignment", n=n_pairs, extra=dict(extra)),
                Result(score=s_i, metric="input-alignment", n=n_pairs, extra=dict(extra)),
                Result(score=s_t - s_i, metric="target-minus-input", n=n_pairs, extra=dict(extra))]
