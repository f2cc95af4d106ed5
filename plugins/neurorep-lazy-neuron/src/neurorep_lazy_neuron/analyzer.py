"""``sparsity.nonzero``: the fraction of non-zero entries per input, with population-sparseness extras."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Tags
from neurorep.errors import InvalidInputError

from .core import CITATION, hoyer_sparseness, summarize, treves_rolls_sparseness

__all__ = ["NonzeroSparsity", "sparsity_profile"]


class NonzeroSparsity(Analyzer):
    """Activation sparsity of one representation: the fraction of non-zero entries in each input's response.

    Every row of the representation is one input (a stimulus; for token- or position-resolved model
    activations, one token or position), every column a unit (an MLP neuron, a channel, a voxel, a
    recorded cell). Li et al. (2023) report the mean over inputs of the fraction of entries of the
    post-ReLU MLP activation that are non-zero (3.0% for T5-Base, 6.3% for ViT-B/16). For smooth
    activations (SiLU, GELU) or measured responses, an entry counts as non-zero when ``|a| > tol``.

    Result rows: ``nonzero_fraction`` (the headline: the mean over inputs; ``extra`` holds its std,
    min, max and quantiles, the fraction of units never active, ``dead_units``, and always active,
    ``always_on_units``), then, with ``population_measures``, the mean over inputs of the normalised
    Treves-Rolls population sparseness (``treves_rolls_sparseness``) and of Hoyer's sparseness
    (``hoyer_sparseness``), both 0 for a flat response and 1 for a single active unit (NaN for inputs
    with no activity at all, which are left out of the mean). ``n`` is the number of inputs. A
    representation's ``data`` is measured (the mean over repeats, when it has them).

    Parameters
    ----------
    tol : float, default=0.0
        An entry is non-zero when ``|a| > tol`` (0.0 counts exact non-zeros, the paper's measure for ReLU).
    tol_mode : {"absolute", "relative"}, default="absolute"
        ``"relative"``: the threshold is ``tol`` times each input's largest ``|a|``, so the count does not
        depend on the scale of the responses.
    side : {"abs", "positive"}, default="abs"
        ``"positive"``: count only ``a > threshold`` (units that fire). For SiLU/GELU activations, whose
        negative side is small and bounded (SiLU >= -0.278), this is the count comparable with ReLU's;
        for ReLU outputs both give the same count.
    population_measures : bool, default=True
        Also report the Treves-Rolls and Hoyer population sparseness.

    Notes
    -----
    Treves & Rolls (1991) Network 2:371-397; normalised as in Vinje & Gallant (2000) Science
    287:1273-1276. Hoyer (2004) JMLR 5:1457-1469.
    """

    id = "sparsity.nonzero"
    version = "1.0.0"
    citation = CITATION
    description = "Fraction of non-zero entries per input (activation sparsity), with population sparseness"
    n_inputs = 1
    tags = Tags(larger_is_more_similar=None, invariances=("feature_permutation",))

    def __init__(self, tol: float = 0.0, tol_mode: Literal["absolute", "relative"] = "absolute",
                 side: Literal["abs", "positive"] = "abs", population_measures: bool = True):
        self.tol = tol
        self.tol_mode = tol_mode
        self.side = side
        self.population_measures = population_measures

    def _owner(self) -> str:
        return f"Analyzer {self.id!r}"

    def _data(self, x: object) -> np.ndarray:
        owner = self._owner()
        if not isinstance(x, Representation):
            raise InvalidInputError(f"{owner}: expected a Representation (inputs x units), got {type(x).__name__}; "
                                    "sparsity is defined on responses, not on RDMs.")
        if isinstance(self.tol, bool) or not isinstance(self.tol, (int, float)) or not self.tol >= 0:
            raise InvalidInputError(f"{owner}: tol must be a number >= 0, got {self.tol!r}.")
        if self.tol_mode not in ("absolute", "relative"):
            raise InvalidInputError(f"{owner}: tol_mode must be 'absolute' or 'relative', got {self.tol_mode!r}.")
        if self.side not in ("abs", "positive"):
            raise InvalidInputError(f"{owner}: side must be 'abs' or 'positive', got {self.side!r}.")
        if self.tol_mode == "relative" and self.tol >= 1:
            raise InvalidInputError(f"{owner}: with tol_mode='relative', tol must be < 1 (a fraction of each input's "
                                    f"largest |a|), got {self.tol!r}.")
        x.check_finite(owner=owner)
        return x.data

    def analyze(self, x, y=None):
        """Return the ``nonzero_fraction`` row (and the population-sparseness rows) for ``x``."""
        if y is not None:
            raise InvalidInputError(f"{self._owner()} takes one input (a representation); got two.")
        a = self._data(x)
        s = summarize(a, float(self.tol), self.tol_mode, self.side)
        n = s["n_inputs"]
        extra = {k: v for k, v in s.items() if k != "mean"}
        extra.update(tol=float(self.tol), tol_mode=self.tol_mode, side=self.side)
        rows = [Result(score=s["mean"], metric="nonzero_fraction", n=n, extra=extra)]
        if self.population_measures:
            for name, f in (("treves_rolls_sparseness", treves_rolls_sparseness), ("hoyer_sparseness",
                                                                                     hoyer_sparseness)):
                v = f(a)
                ok = np.isfinite(v)
                rows.append(Result(score=float(v[ok].mean()) if ok.any() else float("nan"), metric=name,
                                   n=int(ok.sum()) if ok.any() else n,
                                   extra={"n_undefined": int((~ok).sum()),
                                          "median": float(np.median(v[ok])) if ok.any() else float("nan")}))
        return rows


def sparsity_profile(reps: Mapping[str, Representation], tol: float = 0.0,
                     tol_mode: Literal["absolute", "relative"] = "absolute",
                     side: Literal["abs", "positive"] = "abs") -> dict[str, dict]:
    """``sparsity.nonzero`` on several sites (layers) at once: ``{site: summary}`` in the given order.

    Each summary is the ``nonzero_fraction`` row's figures: ``mean`` plus its ``extra`` (std, min, max,
    quantiles, dead and always-on units, ``n_inputs``, ``n_units``).
    """
    an = NonzeroSparsity(tol=tol, tol_mode=tol_mode, side=side, population_measures=False)
    out = {}
    for site, rep in reps.items():
        row = an.analyze(rep)[0]
        out[site] = {"mean": row.score, **row.extra}
    return out
