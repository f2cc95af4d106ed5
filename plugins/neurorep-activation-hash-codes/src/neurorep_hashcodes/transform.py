"""The ``transform.activation-code`` component: pre-activations -> binary activation pattern (neural code)."""

from __future__ import annotations

import dataclasses

import numpy as np
from neurorep import Representation, Tags, Transform
from neurorep.errors import InvalidInputError

from .core import CITATION, binary_codes, constant_units

__all__ = ["ActivationCodeTransform", "check_representation"]


def check_representation(x: object, owner: str, which: str = "input") -> Representation:
    """Raise a message naming ``owner`` unless ``x`` is a finite :class:`neurorep.Representation`."""
    if not isinstance(x, Representation):
        raise InvalidInputError(
            f"{owner}: {which} must be a neurorep.Representation of ReLU pre-activations, post-ReLU activations or "
            f"0/1 codes (stimuli x units), got {type(x).__name__}. Wrap arrays with "
            "neurorep.Representation(data, stimulus_ids).")
    try:
        x.check_finite()
    except InvalidInputError as exc:
        raise InvalidInputError(f"{owner}: {exc}") from exc
    return x


class ActivationCodeTransform(Transform):
    """Neural code: each stimulus's binary activation pattern over the units (He et al., 2021).

    ``code[i, j] = 1 if x[i, j] > threshold else 0``. On the pre-activations of a ReLU
    network's units (or on their post-ReLU/ReLU6 outputs: the pattern is the same at
    ``threshold=0``), the code identifies the linear region of the input space the stimulus
    lies in; two stimuli share a code exactly when they share a region.

    Parameters
    ----------
    threshold : float, default=0.0
        A unit is "on" when its value is above it (0 for ReLU-like units).
    drop_constant : bool, default=False
        Drop the units whose bit is the same for every stimulus of the input (the reference
        code does; it changes neither which codes are equal nor Hamming-distance ranks).

    Notes
    -----
    The output holds uint8 0/1 values, the input's stimulus ids and (kept units') channel
    descriptors, no ``repeats``, and ``space["activation_code"]`` records the threshold and the
    number of units dropped.
    """

    id = "transform.activation-code"
    version = "1.0.0"
    citation = CITATION
    description = "Binary activation pattern (unit value > threshold) of each stimulus: its linear-region code"
    tags = Tags()

    def __init__(self, threshold: float = 0.0, drop_constant: bool = False):
        self.threshold = threshold
        self.drop_constant = drop_constant

    def transform(self, x: Representation) -> Representation:
        """Return the codes of ``x`` (a new object; ``x`` is not modified).

        Parameters
        ----------
        x : Representation
            Pre-activations (or activations, or codes) of shape (n_stimuli, n_units).

        Returns
        -------
        Representation
            uint8 codes, shape (n_stimuli, n_kept_units).
        """
        owner = f"Transform {self.id!r}"
        x = check_representation(x, owner)
        codes = binary_codes(x.data, self.threshold, owner=f"{owner} on {x.name!r}")
        keep = np.ones(codes.shape[1], dtype=bool)
        if self.drop_constant:
            keep = ~constant_units(codes)
            if not keep.any():
                raise InvalidInputError(f"{owner}: every unit of {x.name!r} has the same bit for all "
                                        f"{x.n_stimuli} stimuli, so drop_constant=True leaves no unit; use "
                                        "drop_constant=False or more varied stimuli.")
            codes = codes[:, keep]
        space = dict(x.space)
        space["activation_code"] = {"threshold": float(self.threshold), "n_dropped": int((~keep).sum())}
        chans = {k: np.asarray(v)[keep] for k, v in x.channel_descriptors.items()}
        return dataclasses.replace(x, data=codes, repeats=None, space=space, channel_descriptors=chans,
                                   name=f"code({x.name})")
