"""``source.motif-maps``: per-voxel motif maps of many subjects' resting-state runs (files) as one representation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neurorep.components import Source
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet

from .analyzers import CITATION, check_network_params
from .core import FEATURES, correlation_network, motif_features

_NIFTI = (".nii", ".nii.gz")


class MotifMaps(Source):
    """Per-voxel network motif maps of one run per subject, one row per subject.

    Each file in ``paths`` is one subject's time series: a 4D NIfTI (``.nii``/``.nii.gz``, masked
    with ``mask`` through nilearn's ``NiftiMasker``; every subject must be on the mask's grid) or a
    ``.npy``/``.txt``/``.csv`` array of shape (n_timepoints, n_units) (e.g. ROI series). The units of
    every subject are linked by correlation (``threshold`` or ``density``) and the per-unit features
    are computed as in ``motifs.network-features``. Sites: each of ``features`` (subjects x units)
    and ``group`` (one column: the index of each subject's label in ``sorted(set(labels))``).

    Parameters
    ----------
    paths : list of str
        One time-series file per subject.
    labels : list of str
        Group label of each subject (same order as ``paths``).
    subject_ids : list of str, optional
        Row ids; default: the file names without extension.
    mask : str, optional
        Brain mask NIfTI for NIfTI inputs (required for them).
    detrend : bool, default=True
        Linear detrending by the masker (NIfTI inputs).
    threshold, density, absolute, features
        Network construction and features, as in ``motifs.network-features``.

    References
    ----------
    Dey, Rao & Shah (2012), Frontiers in Systems Neuroscience 6:75.
    """

    id = "source.motif-maps"
    version = "0.1.0"
    citation = CITATION
    description = "Per-voxel network motif maps (degree, 3-/4-cycle participation) of one resting-state run per subject"

    def __init__(self, paths: list[str], labels: list[str], subject_ids: list[str] | None = None,
                 mask: str | None = None, detrend: bool = True, threshold: float | None = None,
                 density: float = 0.1, absolute: bool = False, features: list[str] | None = None):
        self.paths = paths
        self.labels = labels
        self.subject_ids = subject_ids
        self.mask = mask
        self.detrend = detrend
        self.threshold = threshold
        self.density = density
        self.absolute = absolute
        self.features = features

    def _own(self) -> str:
        return f"Source {self.id!r}"

    def _features(self) -> list[str]:
        return list(self.features) if self.features is not None else list(FEATURES)

    def _validate(self) -> None:
        own = self._own()
        if not self.paths:
            raise InvalidInputError(f"{own}: 'paths' must list one time-series file per subject, got none.")
        if len(self.labels) != len(self.paths):
            raise InvalidInputError(f"{own}: expected one label per path ({len(self.paths)}), got "
                                    f"{len(self.labels)} labels.")
        if self.subject_ids is not None and len(self.subject_ids) != len(self.paths):
            raise InvalidInputError(f"{own}: expected one subject id per path ({len(self.paths)}), got "
                                    f"{len(self.subject_ids)}.")
        check_network_params(own, self.threshold, self.density, self._features())

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return self._features() + ["group"]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        """The subjects' ids (``subject_ids`` or the file names without extension)."""
        self._validate()
        if self.subject_ids is not None:
            return tuple(str(s) for s in self.subject_ids)
        out = []
        for p in self.paths:
            name = Path(p).name
            for ext in (".nii.gz", ".nii", ".npy", ".txt", ".csv"):
                if name.endswith(ext):
                    name = name[: -len(ext)]
                    break
            out.append(name)
        return tuple(out)

    def _series(self, path: str) -> np.ndarray:
        own = self._own()
        p = Path(path)
        if not p.is_file():
            raise InvalidInputError(f"{own}: expected a time-series file at {str(p)!r}, found none; check 'paths'.")
        if p.name.endswith(_NIFTI):
            if self.mask is None:
                raise InvalidInputError(f"{own}: {p.name!r} is a NIfTI image; give 'mask' (a brain mask NIfTI) so "
                                        "the voxels are the same for every subject.")
            from nilearn.maskers import NiftiMasker

            try:
                return NiftiMasker(mask_img=self.mask, detrend=bool(self.detrend), standardize=None).fit_transform(str(p))
            except Exception as exc:
                raise InvalidInputError(f"{own}: cannot mask {str(p)!r} with {self.mask!r} ({exc}); expected a 4D "
                                        "image on the mask's grid.") from exc
        try:
            if p.suffix == ".npy":
                a = np.load(p, allow_pickle=False)
            else:
                a = np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None)
        except Exception as exc:
            raise InvalidInputError(f"{own}: cannot read {str(p)!r} as a numeric array ({exc}).") from exc
        if a.ndim != 2:
            raise InvalidInputError(f"{own}: {str(p)!r} holds an array of shape {a.shape}; expected "
                                    "(n_timepoints, n_units).")
        return a

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        own = self._own()
        self._validate()
        if site not in self.sites():
            raise InvalidInputError(f"{own}: unknown site {site!r}; expected one of {self.sites()}.")
        ids = self.stimulus_ids()
        space: dict[str, Any] = {"kind": "brain", "source": self.id, "site": site,
                                 "network": {"threshold": self.threshold, "density": self.density,
                                             "absolute": bool(self.absolute)}}
        if site == "group":
            classes = sorted({str(v) for v in self.labels})
            code = np.array([classes.index(str(v)) for v in self.labels], dtype=np.float64)
            space["classes"] = classes
            rep = Representation(code[:, None], ids, space=space, name=f"{self.id}:group")
        else:
            rows, n_units = [], None
            for p in self.paths:
                ts = self._series(p)
                if n_units is not None and ts.shape[1] != n_units:
                    raise InvalidInputError(f"{own}: {str(p)!r} has {ts.shape[1]} units but earlier files have "
                                            f"{n_units}; every subject needs the same voxels (one mask).")
                n_units = ts.shape[1]
                A, _ = correlation_network(ts, threshold=self.threshold, density=self.density,
                                           absolute=bool(self.absolute), owner=f"{own} ({Path(p).name})")
                rows.append(motif_features(A, (site,), owner=own)[site])
            rep = Representation(np.asarray(rows), ids, space=space,
                                 channel_descriptors={"unit": np.arange(n_units)}, name=f"{self.id}:{site}")
        if stimuli is not None and tuple(stimuli.ids) != ids:
            rep = rep.select(list(stimuli.ids))
        return rep

    @classmethod
    def _conformance_instances(cls):
        import tempfile

        rng = np.random.default_rng(0)
        d = Path(tempfile.mkdtemp(prefix="neurorep-motif-maps-"))
        paths = []
        for i in range(4):
            p = d / f"sub-{i + 1:02d}.npy"
            z = rng.standard_normal((40, 2))
            np.save(p, np.repeat(z, 4, axis=1) + rng.standard_normal((40, 8)))
            paths.append(str(p))
        return [cls(paths=paths, labels=["a", "a", "b", "b"], density=0.3)]
