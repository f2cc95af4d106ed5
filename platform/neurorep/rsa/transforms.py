"""Transforms of dissimilarities applied before comparing RDMs (the functions behind ``transform.*``)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
from scipy.stats import rankdata

from ..errors import InvalidInputError
from ..types import RDMs

__all__ = ["rank_rdms", "sqrt_rdms"]


def rank_rdms(rdms: RDMs) -> RDMs:
    """Replace each RDM's dissimilarities by their ranks (1..n_pairs, ties averaged).

    Parameters
    ----------
    rdms : RDMs

    Returns
    -------
    RDMs
        A new object; ``dissimilarity_measure`` gets a ``"rank "`` prefix. Pearson on ranked
        RDMs is the Spearman correlation of the originals.
    """
    ranked = rankdata(rdms.dissimilarities, axis=1)
    return dataclasses.replace(rdms, dissimilarities=ranked,
                               dissimilarity_measure=f"rank {rdms.dissimilarity_measure}")


def sqrt_rdms(rdms: RDMs, negative: Literal["raise", "clip", "signed"] = "raise", owner: str = "sqrt_rdms") -> RDMs:
    """Square root of each dissimilarity (e.g. squared Euclidean or crossnobis -> a distance scale).

    Parameters
    ----------
    rdms : RDMs
    negative : {"raise", "clip", "signed"}, default="raise"
        What to do with negative dissimilarities (crossnobis estimates can be negative):
        refuse them, set them to 0 first, or return ``sign(d) * sqrt(|d|)``.
    owner : str
        Named in the error message.

    Returns
    -------
    RDMs
    """
    d = rdms.dissimilarities
    neg = d < 0
    if neg.any():
        if negative == "raise":
            raise InvalidInputError(
                f"{owner}: {int(neg.sum())} dissimilarit(y/ies) of {rdms.name!r} are negative (min {d.min():.3g}); "
                "the square root is undefined. Set negative='clip' (to 0) or 'signed' (sign(d) * sqrt(|d|)).")
        if negative == "clip":
            d = np.maximum(d, 0.0)
        elif negative != "signed":
            raise InvalidInputError(f"{owner}: negative must be 'raise', 'clip' or 'signed', got {negative!r}.")
    out = np.sign(d) * np.sqrt(np.abs(d))
    return dataclasses.replace(rdms, dissimilarities=out, dissimilarity_measure=f"sqrt {rdms.dissimilarity_measure}")
