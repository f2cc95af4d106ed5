"""The ``transform.geo-topological`` component: RDMs -> RGTMs (or RGDMs)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from neurorep import RDMs, Representation, Tags, Transform
from neurorep.errors import InvalidInputError

from .core import CITATION, DISTANCES, check_thresholds, geo_topological, geodesic, pattern_dissimilarities

__all__ = ["GeoTopologicalTransform", "to_rdms"]


def to_rdms(x: Representation | RDMs, distance: str, owner: str) -> RDMs:
    """Return ``x`` as RDMs: RDMs pass through, a Representation gets its ``distance`` RDM.

    Parameters
    ----------
    x : Representation or RDMs
    distance : {"correlation", "euclidean"}
    owner : str
        Named in error messages.
    """
    if isinstance(x, (RDMs, Representation)):
        try:
            x.check_finite()
        except InvalidInputError as exc:
            raise InvalidInputError(f"{owner}: {exc}") from exc
    if isinstance(x, RDMs):
        return x
    if isinstance(x, Representation):
        d = pattern_dissimilarities(x.data, distance, owner=f"{owner} on {x.name!r}")
        return RDMs(d, x.stimulus_ids, dissimilarity_measure=distance, space=dict(x.space), name=x.name)
    raise InvalidInputError(
        f"{owner}: expected a neurorep.Representation (stimuli x features) or neurorep.RDMs, got "
        f"{type(x).__name__}. Wrap arrays with neurorep.Representation(data, stimulus_ids).")


class GeoTopologicalTransform(Transform):
    """Geo-topological transform of RDMs (RGTM), optionally followed by the geodesic transform (RGDM).

    Thresholds are quantiles of each RDM's own dissimilarity distribution. Small
    dissimilarities (at or below the ``l``-quantile) are set to 0 and large ones (at
    or above the ``u``-quantile) to 1, with a linear ramp in between: the result keeps
    which stimuli are neighbours (topology) and how the intermediate distances are
    ordered, and discards the geometry of the extremes. ``l == u`` gives a binary
    neighbourhood graph; ``l=0, u=1`` without ranking is a rescaled copy of the RDM.
    With ``geodesic=True`` each RGTM is read as a graph whose edges are the pairs
    below 1, weighted by their transformed dissimilarity, and replaced by its
    shortest-path lengths divided by the longest finite one (disconnected pairs get 1).

    Parameters
    ----------
    l : float, default=0.2
        Lower threshold, a quantile in [0, 1].
    u : float, default=0.8
        Upper threshold, a quantile in [l, 1].
    rank : bool, default=True
        Rank-transform each RDM before thresholding (the paper's choice).
    geodesic : bool, default=False
        Return the RGDM (shortest paths over the thresholded graph) instead of the RGTM.
    distance : {"correlation", "euclidean"}, default="correlation"
        Dissimilarity used when the input is a Representation (ignored for RDMs).

    Notes
    -----
    Lin & Kriegeskorte (2024), PNAS 121(42) e2317881121.
    """

    id = "transform.geo-topological"
    version = "1.0.0"
    citation = CITATION
    description = "Geo-topological (RGTM) and geodesic (RGDM) transforms of RDMs, thresholds as quantiles"
    tags = Tags(input_type="any")
    #: Always returns RDMs: a Representation is first turned into its RDM.
    output_type = "rdm"

    def __init__(self, l: float = 0.2, u: float = 0.8, rank: bool = True, geodesic: bool = False,  # noqa: E741
                 distance: Literal["correlation", "euclidean"] = "correlation"):
        self.l = l
        self.u = u
        self.rank = rank
        self.geodesic = geodesic
        self.distance = distance

    def _check(self) -> None:
        check_thresholds(self.l, self.u, f"Transform {self.id!r}")
        if self.distance not in DISTANCES:
            raise InvalidInputError(f"Transform {self.id!r}: 'distance' must be one of {list(DISTANCES)}, "
                                    f"{self.distance!r} was provided.")

    def statistic(self) -> str:
        """``"RGDM"`` or ``"RGTM"``: which summary statistic :meth:`transform` returns."""
        return "RGDM" if self.geodesic else "RGTM"

    def transform(self, x: Representation | RDMs) -> RDMs:
        """Return the transformed RDMs (a new object; ``x`` is not modified).

        Parameters
        ----------
        x : Representation or RDMs
            RDMs are transformed one by one; a Representation is first turned into its
            ``distance`` RDM.

        Returns
        -------
        RDMs
            Same stimuli, descriptors and provenance; ``dissimilarity_measure`` records
            the transform, e.g. ``"RGTM(l=0.2,u=0.8,rank)[correlation]"``.
        """
        self._check()
        rdms = to_rdms(x, self.distance, f"Transform {self.id!r}")
        out = geo_topological(rdms.dissimilarities, self.l, self.u, rank=bool(self.rank))
        if self.geodesic:
            out = geodesic(out)
        label = f"{self.statistic()}(l={float(self.l):g},u={float(self.u):g}{',rank' if self.rank else ''})"
        return dataclasses.replace(rdms, dissimilarities=out,
                                   dissimilarity_measure=f"{label}[{rdms.dissimilarity_measure}]",
                                   rdm_descriptors={k: list(v) for k, v in rdms.rdm_descriptors.items()},
                                   space=dict(rdms.space))
