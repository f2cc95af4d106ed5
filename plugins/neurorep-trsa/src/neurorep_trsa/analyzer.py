"""The ``rsa.topological`` analyzer: geo-topological transform of both inputs, then an RDM comparison."""

from __future__ import annotations

from typing import Literal

import numpy as np
from neurorep import Analyzer, RDMs, Representation, Result, Tags, align
from neurorep.errors import InvalidInputError

from .core import CITATION, COMPARISONS, compare_rdm_vectors
from .transform import GeoTopologicalTransform

__all__ = ["TopologicalRSA"]


class TopologicalRSA(Analyzer):
    """Topological RSA: compare two representations through their geo-topological matrices.

    Both inputs (Representations, whose RDMs are computed with ``distance``, or
    precomputed RDMs) are aligned on their stimulus ids, transformed with
    ``transform.geo-topological`` (same ``l``, ``u``, ``rank``, ``geodesic``) and
    compared. When ``y`` holds several RDMs (subjects, network instances), the score
    is the mean comparison and each RDM's value is reported in ``extra["per_rdm"]``,
    as in ``rsa.correlation``.

    Parameters
    ----------
    l : float, default=0.2
        Lower threshold, a quantile in [0, 1].
    u : float, default=0.8
        Upper threshold, a quantile in [l, 1].
    rank : bool, default=True
        Rank-transform each RDM before thresholding.
    geodesic : bool, default=False
        Compare RGDMs (shortest paths over the thresholded graph) instead of RGTMs.
    distance : {"correlation", "euclidean"}, default="correlation"
        Dissimilarity for Representation inputs.
    comparison : {"spearman", "pearson", "cosine"}, default="spearman"
        How the transformed RDMs are compared.
    align : {"strict", "reorder", "intersection"}, default="reorder"
        How to match the inputs' stimulus ids (see :func:`neurorep.align`).

    Notes
    -----
    With ``l=0, u=1, rank=False, geodesic=False`` the transform is a min-max rescaling,
    so the score equals classic RSA (``rsa.correlation``) with the same comparison.
    """

    id = "rsa.topological"
    version = "1.0.0"
    citation = CITATION
    description = "Topological RSA: compare geo-topological (RGTM) or geodesic (RGDM) matrices"
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="any",
                invariances=("isotropic_scaling", "feature_permutation"))

    def __init__(self, l: float = 0.2, u: float = 0.8, rank: bool = True, geodesic: bool = False,  # noqa: E741
                 distance: Literal["correlation", "euclidean"] = "correlation",
                 comparison: Literal["spearman", "pearson", "cosine"] = "spearman",
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.l = l
        self.u = u
        self.rank = rank
        self.geodesic = geodesic
        self.distance = distance
        self.comparison = comparison
        self.align = align

    def transformer(self) -> GeoTopologicalTransform:
        """The ``transform.geo-topological`` component applied to both inputs."""
        return GeoTopologicalTransform(l=self.l, u=self.u, rank=self.rank, geodesic=self.geodesic,
                                       distance=self.distance)

    def _check_input(self, x: object, which: str) -> None:
        if not isinstance(x, (Representation, RDMs)):
            raise InvalidInputError(
                f"Analyzer {self.id!r}: input {which} must be a neurorep.Representation or neurorep.RDMs, got "
                f"{type(x).__name__}. Wrap arrays with neurorep.Representation(data, stimulus_ids).")

    def analyze(self, x: Representation | RDMs, y: Representation | RDMs | None = None) -> list[Result]:
        """Return one row: the mean comparison of the transformed RDMs of ``x`` and ``y``.

        Parameters
        ----------
        x, y : Representation or RDMs

        Returns
        -------
        list of Result
            ``score`` (mean over RDM pairs), ``metric`` = the comparison, ``n`` = stimulus
            pairs, ``extra`` with ``per_rdm`` (one value per RDM of ``y``; of ``x`` when
            ``y`` holds a single RDM), the thresholds and the statistic (RGTM/RGDM).
        """
        if self.comparison not in COMPARISONS:
            raise InvalidInputError(f"Analyzer {self.id!r}: 'comparison' must be one of {list(COMPARISONS)}, "
                                    f"{self.comparison!r} was provided.")
        if y is None:
            raise InvalidInputError(f"Analyzer {self.id!r}: expected two inputs (x and y), got one.")
        self._check_input(x, "x")
        self._check_input(y, "y")
        for value in (x, y):
            try:
                value.check_finite()
            except InvalidInputError as exc:
                raise InvalidInputError(f"Analyzer {self.id!r}: {exc}") from exc
        gt = self.transformer()
        gt._check()
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        rx, ry = gt.transform(x), gt.transform(y)
        r = compare_rdm_vectors(rx.dissimilarities, ry.dissimilarities, self.comparison,
                                owner=f"Analyzer {self.id!r}")
        per = r.mean(0) if r.shape[0] > 1 else r[0]
        extra = {
            "per_rdm": [float(v) for v in np.atleast_1d(per)],
            "statistic": gt.statistic(), "l": float(self.l), "u": float(self.u), "rank": bool(self.rank),
            "distance": self.distance if not isinstance(x, RDMs) or not isinstance(y, RDMs) else None,
        }
        return [Result(score=float(r.mean()), metric=self.comparison, n=int(rx.dissimilarities.shape[1]),
                       extra=extra)]
