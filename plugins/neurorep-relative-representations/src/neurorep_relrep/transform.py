"""The ``transform.relative`` component: a representation -> its relative representation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from neurorep import Representation, Tags, Transform
from neurorep.errors import InvalidInputError

from .core import CITATION, anchor_positions, relative_projection, select_anchors

__all__ = ["RelativeTransform", "check_representation"]


def check_representation(x: object, owner: str, which: str = "input") -> Representation:
    """Raise a message naming ``owner`` unless ``x`` is a finite :class:`neurorep.Representation`."""
    if not isinstance(x, Representation):
        raise InvalidInputError(
            f"{owner}: {which} must be a neurorep.Representation (stimuli x features), got {type(x).__name__}. "
            "Wrap arrays with neurorep.Representation(data, stimulus_ids); relative representations need "
            "feature vectors, not RDMs (see neurorep_relrep.relative_from_rdm for correlation-distance RDMs).")
    try:
        x.check_finite()
    except InvalidInputError as exc:
        raise InvalidInputError(f"{owner}: {exc}") from exc
    return x


class RelativeTransform(Transform):
    """Relative representation: each stimulus as its cosine similarity to a fixed set of anchor stimuli.

    ``out[i, j] = cos(x_i, x_{a_j})`` where ``a_1 .. a_k`` are anchor stimuli of the
    same input. The result is unchanged by any angle-preserving map of the feature space
    (orthogonal transforms, unit permutations, reflections) and by a global rescaling,
    which is what makes two latent spaces directly comparable (Moschella et al., 2023).

    Parameters
    ----------
    n_anchors : int, default=10
        Number of anchors drawn uniformly at random from the input's (sorted) stimulus
        ids when ``anchor_ids`` is None.
    anchor_ids : list of str or None, default=None
        Explicit anchor stimuli (must be among the input's ids); overrides ``n_anchors``.
    center : bool, default=False
        Subtract the anchors' mean before the cosine, which adds invariance to
        translations (an extension; the paper uses the plain cosine).
    random_state : int or None, default=0
        Seed of the anchor draw.

    Notes
    -----
    The output is a Representation with one feature per anchor, ``channel_descriptors
    ["anchor"]`` naming them, and no ``repeats`` (the relative representation of a mean
    is not the mean of relative representations).
    """

    id = "transform.relative"
    version = "1.0.0"
    citation = CITATION
    description = "Relative representation: cosine similarity of each stimulus to a fixed set of anchor stimuli"
    tags = Tags(stochastic=True, invariances=("orthogonal", "isotropic_scaling"))

    def __init__(self, n_anchors: int = 10, anchor_ids: list[str] | None = None, center: bool = False,
                 random_state: int | None = 0):
        self.n_anchors = n_anchors
        self.anchor_ids = anchor_ids
        self.center = center
        self.random_state = random_state

    def anchors_for(self, stimulus_ids: Sequence[str]) -> tuple[str, ...]:
        """The anchor ids this transform uses for an input with these stimulus ids."""
        owner = f"Transform {self.id!r}"
        if self.anchor_ids is not None:
            anchors = tuple(str(a) for a in self.anchor_ids)
            anchor_positions(stimulus_ids, anchors, owner=owner)
            return anchors
        if isinstance(self.n_anchors, bool) or not isinstance(self.n_anchors, (int, np.integer)):
            raise InvalidInputError(f"{owner}: n_anchors must be an int, got {self.n_anchors!r}.")
        return select_anchors(stimulus_ids, int(self.n_anchors), self.random_state, owner=owner)

    def transform(self, x: Representation) -> Representation:
        """Return the relative representation of ``x`` (a new object; ``x`` is not modified).

        Parameters
        ----------
        x : Representation
            Absolute responses (n_stimuli, n_features).

        Returns
        -------
        Representation
            Shape (n_stimuli, n_anchors), same stimulus ids and order; ``space["relative"]``
            records the anchors and ``center``.
        """
        owner = f"Transform {self.id!r}"
        x = check_representation(x, owner)
        anchors = self.anchors_for(x.stimulus_ids)
        idx = anchor_positions(x.stimulus_ids, anchors, owner=owner)
        rel = relative_projection(x.data, x.data[idx], center=bool(self.center), owner=f"{owner} on {x.name!r}")
        space = dict(x.space)
        space["relative"] = {"anchors": list(anchors), "center": bool(self.center), "measure": "cosine"}
        return dataclasses.replace(x, data=rel, repeats=None, space=space,
                                   channel_descriptors={"anchor": np.array(anchors)}, name=f"relative({x.name})")
