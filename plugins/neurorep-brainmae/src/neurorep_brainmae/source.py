"""The ``brainmae.roi-embeddings`` source: BrainMAE's ROI representations, one row per ROI."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from neurorep import Representation, Source, StimulusSet, Tags
from neurorep.errors import InvalidInputError

from ._meta import CITATION
from .estimator import BrainMAEPretrain
from .synthetic import coupled_roi_series

__all__ = ["BrainMAERoiSource", "atlas_coordinates"]

ATLASES = ("dosenbach2010", "power2011")

#: Fitted models of recent parameter sets, by ``repr`` of the sorted parameters (at most 4).
_FITTED: dict[str, tuple] = {}


def atlas_coordinates(atlas: str, n_rois: int, data_dir: str | None = None) -> tuple[np.ndarray, list[str]]:
    """MNI coordinates and names of the first ``n_rois`` regions of a coordinate atlas (``dataset.nilearn-atlases``).

    Parameters
    ----------
    atlas : {"dosenbach2010", "power2011"}
    n_rois : int
    data_dir : str, optional
        Passed to the dataset (a folder holding copies of its files).
    """
    if atlas not in ATLASES:
        raise InvalidInputError(f"atlas_coordinates: atlas must be one of {list(ATLASES)}, got {atlas!r}.")
    try:
        from neurorep_datasets.nilearn_data import NilearnAtlases
    except ImportError as exc:  # pragma: no cover - neurorep-datasets is a dependency
        raise InvalidInputError("atlas_coordinates: needs neurorep-datasets for the atlas coordinates "
                                "(pip install -e datasets).") from exc
    table = NilearnAtlases(data_dir=data_dir).coordinates(atlas)
    if not 3 <= n_rois <= len(table):
        raise InvalidInputError(f"atlas_coordinates: n_rois must be between 3 and {len(table)} for {atlas!r}, "
                                f"got {n_rois!r}.")
    t = table.iloc[:n_rois]
    return t[["x", "y", "z"]].to_numpy(float), [str(n) for n in t["name"]]


class BrainMAERoiSource(Source):
    """ROI representations of a BrainMAE pre-trained on ROI time series: one row per ROI.

    On first :meth:`load` the source pre-trains :class:`~neurorep_brainmae.BrainMAEPretrain` (seeded) on the
    chosen data and keeps the fitted model for its other sites. Data:

    ``"synthetic"``
        ``n_subjects`` scans of ``n_rois`` ROIs from :func:`~neurorep_brainmae.synthetic.coupled_roi_series` (an
        autoregressive process coupled through a planted sparse graph); with ``atlas`` the ROIs are the first
        ``n_rois`` regions of that coordinate atlas, the graph joins spatial nearest neighbours and the ROI
        embeddings also see the coordinates.
    ``"nitime-fmri"``
        The 250 x 31 resting-state ROI series of ``dataset.nitime-fmri`` (one scan; ``n_rois``, ``n_subjects``,
        ``atlas`` and the generator settings are not used).

    Sites (rows: ROIs, ids = ROI names):

    ``roi-embedding``
        The learned ROI embeddings ``(n_rois, d_model)``.
    ``roi-attention``
        The region-aware graph attention ``(n_rois, n_rois)``: row ``i`` is how ROI ``i`` draws on the others
        (rows sum to 1, zero diagonal).
    ``roi-state``
        The encoder's tokens of each ROI averaged over segments and scans ``(n_rois, d_model)``.

    Parameters
    ----------
    data : {"synthetic", "nitime-fmri"}, default="synthetic"
    n_rois : int, default=12
        Synthetic ROIs.
    n_timepoints : int, default=160
        Synthetic volumes per scan.
    n_subjects : int, default=4
        Synthetic scans.
    degree : int, default=2
        Minimum neighbours per ROI in the planted graph.
    coupling : float, default=0.8
        Spatial coupling of the synthetic process, in (0, 1).
    atlas : {"none", "dosenbach2010", "power2011"}, default="none"
        Coordinates for the synthetic ROIs (``dataset.nilearn-atlases``).
    segment_length : int, default=8
    d_model : int, default=32
    n_steps : int, default=200
    data_dir : str or None, default=None
        Folder holding copies of the dataset's files (``dataset.nitime-fmri`` / ``dataset.nilearn-atlases``).
    random_state : int or None, default=0
        Seeds the synthetic data and the pre-training.
    """

    id = "brainmae.roi-embeddings"
    version = "1.0.0"
    citation = CITATION
    description = "BrainMAE ROI embeddings, ROI graph attention and ROI states after masked-segment pre-training"
    tags = Tags(stochastic=True)
    SITES: ClassVar[tuple[str, ...]] = ("roi-embedding", "roi-attention", "roi-state")

    def __init__(self, data: Literal["synthetic", "nitime-fmri"] = "synthetic", n_rois: int = 12,
                 n_timepoints: int = 160, n_subjects: int = 4, degree: int = 2, coupling: float = 0.8,
                 atlas: Literal["none", "dosenbach2010", "power2011"] = "none", segment_length: int = 8,
                 d_model: int = 32, n_steps: int = 200, data_dir: str | None = None,
                 random_state: int | None = 0):
        self.data = data
        self.n_rois = n_rois
        self.n_timepoints = n_timepoints
        self.n_subjects = n_subjects
        self.degree = degree
        self.coupling = coupling
        self.atlas = atlas
        self.segment_length = segment_length
        self.d_model = d_model
        self.n_steps = n_steps
        self.data_dir = data_dir
        self.random_state = random_state

    @classmethod
    def _conformance_instances(cls) -> list[BrainMAERoiSource]:
        return [cls(n_rois=6, n_timepoints=48, n_subjects=2, segment_length=6, d_model=8, n_steps=5)]

    def _owner(self) -> str:
        return f"Source {self.id!r}"

    # ------------------------------------------------------------------ data
    def series(self) -> tuple[np.ndarray, list[str], np.ndarray | None]:
        """``(scans (n_scans, n_timepoints, n_rois), ROI names, coordinates or None)`` the model is trained on."""
        o = self._owner()
        if self.data == "nitime-fmri":
            try:
                from neurorep_datasets.nitime_data import NitimeFMRI
            except ImportError as exc:  # pragma: no cover - neurorep-datasets is a dependency
                raise InvalidInputError(f"{o}: data='nitime-fmri' needs neurorep-datasets (pip install -e datasets)."
                                        ) from exc
            x, names = NitimeFMRI(data_dir=self.data_dir).roi_timeseries()
            return x[None], list(names), None
        if self.data != "synthetic":
            raise InvalidInputError(f"{o}: data must be 'synthetic' or 'nitime-fmri', got {self.data!r}.")
        if self.atlas not in ("none",) + ATLASES:
            raise InvalidInputError(f"{o}: atlas must be one of {['none', *ATLASES]}, got {self.atlas!r}.")
        coords, names = (None, None) if self.atlas == "none" else atlas_coordinates(self.atlas, self.n_rois,
                                                                                      self.data_dir)
        d = coupled_roi_series(n_rois=self.n_rois, n_timepoints=self.n_timepoints, n_subjects=self.n_subjects,
                               degree=self.degree, coupling=self.coupling, coords=coords,
                               random_state=self.random_state)
        return d.series, list(names or d.roi_names), coords

    def _fitted(self) -> tuple[BrainMAEPretrain, np.ndarray, list[str]]:
        # pre-training is deterministic given the parameters: the fitted model is shared by the sites of equal
        # instances in this process (a recipe loads each site through its own task)
        key = repr(sorted(self.get_params().items()))
        if key in _FITTED:
            return _FITTED[key]
        x, names, coords = self.series()
        est = BrainMAEPretrain(segment_length=self.segment_length, d_model=self.d_model, n_steps=self.n_steps,
                               coords=None if coords is None else coords.tolist(), random_state=self.random_state)
        est.fit(x)
        while len(_FITTED) >= 4:
            _FITTED.pop(next(iter(_FITTED)))
        _FITTED[key] = (est, x, names)
        return _FITTED[key]

    # ------------------------------------------------------------------ Source API
    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(self.SITES)

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        if self.data == "synthetic" and self.atlas == "none":
            return tuple(f"roi-{i:02d}" for i in range(int(self.n_rois)))
        return tuple(self.series()[1])

    def site_space(self, site: str) -> dict:
        return {"kind": "model", "model": "brainmae", "component": self.id, "site": site, "data": self.data}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in self.SITES:
            raise InvalidInputError(f"{self._owner()}: unknown site {site!r}; expected one of {list(self.SITES)}.")
        est, x, names = self._fitted()
        if site == "roi-embedding":
            data = est.roi_embeddings_
        elif site == "roi-attention":
            data = est.attention_
        else:
            data = np.mean([est.roi_representations(scan) for scan in x], axis=0)
        chan = {"roi": np.array(names)} if site == "roi-attention" else {}
        return Representation(np.array(data, dtype=float), tuple(names), space=self.site_space(site),
                              channel_descriptors=chan, name=f"{self.id}:{site}")
