"""The ``relrep.similarity`` analyzer: compare two spaces through their relative representations."""

from __future__ import annotations

from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Tags, align
from neurorep.errors import InvalidInputError

from .core import AGREEMENTS, CITATION, anchor_positions, relative_projection, row_agreement
from .transform import RelativeTransform, check_representation

__all__ = ["RelativeSimilarity"]


class RelativeSimilarity(Analyzer):
    """Latent-space similarity through relative representations (Moschella et al., 2023).

    Both inputs are aligned on their stimulus ids; the same anchor stimuli (drawn with
    ``n_anchors``/``random_state`` from the shared ids, or given as ``anchor_ids``) are
    used in both spaces; each stimulus becomes its vector of cosine similarities to the
    anchors, and the score is the mean agreement (cosine, or Pearson r) of the two relative
    vectors of the same stimulus. Two spaces related by an orthogonal map and a rescaling
    score exactly 1, whatever their unit order; the feature counts of ``x`` and ``y`` may
    differ.

    Parameters
    ----------
    n_anchors : int, default=10
        Number of anchors drawn at random from the shared stimuli (ignored with ``anchor_ids``).
    anchor_ids : list of str or None, default=None
        Explicit anchor stimuli.
    agreement : {"cosine", "pearson"}, default="cosine"
        How the two relative vectors of one stimulus are compared (the paper uses the cosine).
    exclude_anchors : bool, default=False
        Average only over non-anchor stimuli (anchor rows contain a self-similarity of 1 in both spaces).
    center : bool, default=False
        Centre both spaces on their anchor mean first (adds translation invariance).
    n_permutations : int, default=0
        When > 0, a permutation test: ``y``'s rows are shuffled relative to its stimulus
        ids (anchors included) and the score recomputed; ``p_value = (1 + #{null >= score}) / (1 + n)``.
    random_state : int or None, default=0
        Seed of the anchor draw and of the permutations.
    align : {"strict", "reorder", "intersection"}, default="reorder"
        How to match the inputs' stimulus ids (see :func:`neurorep.align`).
    """

    id = "relrep.similarity"
    version = "1.0.0"
    citation = CITATION
    description = "Mean agreement of matched rows of two relative representations (shared anchor stimuli)"
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, stochastic=True,
                invariances=("orthogonal", "isotropic_scaling", "feature_permutation"))

    def __init__(self, n_anchors: int = 10, anchor_ids: list[str] | None = None,
                 agreement: Literal["cosine", "pearson"] = "cosine", exclude_anchors: bool = False,
                 center: bool = False, n_permutations: int = 0, random_state: int | None = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.n_anchors = n_anchors
        self.anchor_ids = anchor_ids
        self.agreement = agreement
        self.exclude_anchors = exclude_anchors
        self.center = center
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    def transformer(self) -> RelativeTransform:
        """The ``transform.relative`` applied to both inputs."""
        return RelativeTransform(n_anchors=self.n_anchors, anchor_ids=self.anchor_ids, center=self.center,
                                 random_state=self.random_state)

    def _score(self, rx: np.ndarray, y: np.ndarray, idx: np.ndarray, keep: np.ndarray) -> tuple[float, np.ndarray]:
        ry = relative_projection(y, y[idx], center=bool(self.center), owner=f"Analyzer {self.id!r}")
        per = row_agreement(rx[keep], ry[keep], self.agreement, owner=f"Analyzer {self.id!r}")
        return float(per.mean()), per

    def analyze(self, x: Representation, y: Representation | None = None) -> list[Result]:
        """Return one row: the mean agreement of the relative representations of ``x`` and ``y``.

        Parameters
        ----------
        x, y : Representation
            Absolute responses of two spaces to (at least partly) the same stimuli.

        Returns
        -------
        list of Result
            ``score`` (mean per-stimulus agreement), ``metric`` = the agreement, ``n`` =
            stimuli averaged, ``p_value`` with permutations, and ``extra`` with the anchors,
            ``per_stimulus`` agreements and their ``stimulus_ids``.
        """
        owner = f"Analyzer {self.id!r}"
        if self.agreement not in AGREEMENTS:
            raise InvalidInputError(f"{owner}: 'agreement' must be one of {list(AGREEMENTS)}, "
                                    f"{self.agreement!r} was provided.")
        if y is None:
            raise InvalidInputError(f"{owner}: expected two inputs (x and y), got one.")
        check_representation(x, owner, "x")
        check_representation(y, owner, "y")
        n_perm = int(self.n_permutations)
        if n_perm < 0:
            raise InvalidInputError(f"{owner}: n_permutations must be >= 0, got {self.n_permutations!r}.")
        x, y = align(x, y, how=self.align, owner=owner)
        t = self.transformer()
        anchors = t.anchors_for(x.stimulus_ids)
        idx = anchor_positions(x.stimulus_ids, anchors, owner=owner)
        keep = np.ones(x.n_stimuli, dtype=bool)
        if self.exclude_anchors:
            keep[idx] = False
            if not keep.any():
                raise InvalidInputError(f"{owner}: exclude_anchors=True leaves no stimulus to compare; use fewer "
                                        "anchors than stimuli.")
        rx = relative_projection(x.data, x.data[idx], center=bool(self.center), owner=owner)
        score, per = self._score(rx, y.data, idx, keep)
        p = float("nan")
        null: list[float] = []
        if n_perm:
            rng = np.random.default_rng([0 if self.random_state is None else int(self.random_state), 32])
            for _ in range(n_perm):
                null.append(self._score(rx, y.data[rng.permutation(y.n_stimuli)], idx, keep)[0])
            p = (1 + int(np.sum(np.asarray(null) >= score - 1e-12))) / (1 + n_perm)
        ids = [s for s, k in zip(x.stimulus_ids, keep) if k]
        extra = {"anchors": list(anchors), "per_stimulus": [float(v) for v in per], "stimulus_ids": ids,
                 "center": bool(self.center)}
        if n_perm:
            extra["null_mean"] = float(np.mean(null))
        return [Result(score=score, metric=f"relative-{self.agreement}", n=int(keep.sum()), p_value=p, extra=extra)]
