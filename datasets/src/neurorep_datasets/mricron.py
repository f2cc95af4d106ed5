"""``dataset.mricron-atlases``: labelled MNI atlases from the Debian package ``mricron-data``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neurorep.errors import InvalidInputError

from ._packaged import PackagedDataset

__all__ = ["MricronAtlases", "MricronAtlas", "ATLASES", "TEMPLATES"]


@dataclass(frozen=True)
class _AtlasSpec:
    image: str
    names: str | None  # the '<label> <name> ...' file, or None (names from the rule)
    rule: str  # "file", "label" (label-<n>) or "brodmann" (BA<n>)
    n_regions: int
    voxel_mm: float


#: Atlas name -> its files and region naming.
ATLASES: dict[str, _AtlasSpec] = {
    "aal": _AtlasSpec("aal.nii.gz", "aal.nii.txt", "file", 116, 1.0),
    "aicha": _AtlasSpec("AICHAmc.nii.gz", "AICHAmc.nii.txt", "file", 192, 2.0),
    "jhu-wm-1mm": _AtlasSpec("JHU-WhiteMatter-labels-1mm.nii.gz", "JHU-WhiteMatter-labels-1mm.nii.txt", "file", 48,
                             1.0),
    "jhu-wm-2mm": _AtlasSpec("JHU-WhiteMatter-labels-2mm.nii.gz", "JHU-WhiteMatter-labels-2mm.nii.txt", "file", 48,
                             2.0),
    "harvard-oxford-cort": _AtlasSpec("HarvardOxford-cort-maxprob-thr0-1mm.nii.gz", None, "label", 48, 1.0),
    "brodmann": _AtlasSpec("brodmann.nii.gz", None, "brodmann", 41, 1.0),
}
#: Template name -> file (Colin27 T1, 1 mm).
TEMPLATES: dict[str, str] = {"ch2": "ch2.nii.gz", "ch2bet": "ch2bet.nii.gz"}


@dataclass(frozen=True)
class MricronAtlas:
    """A labelled atlas: its image file and region names.

    Attributes
    ----------
    name : str
    image_path : pathlib.Path
        The 3D label image (0 = background), in MNI space.
    labels : dict of int to str
        Label value -> region name, for every region of the atlas.
    names_path : pathlib.Path or None
        The ``'<label> <name> ...'`` lookup table, when the package has one.
    """

    name: str
    image_path: Path
    labels: dict[int, str]
    names_path: Path | None = None

    @property
    def atlas_labels(self) -> dict[str, int]:
        """``{name: label}``, the form ``source.nifti-masker`` takes as ``atlas_labels``."""
        return {n: v for v, n in self.labels.items()}

    def masker_params(self, rois: list[str | int] | None = None, **extra: Any) -> dict[str, Any]:
        """Parameters of ``source.nifti-masker`` that use this atlas (``atlas``, ``atlas_labels``, ``rois``).

        Further parameters (``mask``, ``roi_mode``, ``resample``...) are passed through ``extra``.
        """
        return {"atlas": str(self.image_path), "atlas_labels": self.atlas_labels, "rois": rois, **extra}

    def image(self):
        """The label image (nibabel)."""
        import nibabel as nib

        return nib.load(str(self.image_path))


class MricronAtlases(PackagedDataset):
    """Labelled atlases in MNI space from Debian's ``mricron-data`` (optional: ``apt-get install mricron-data``).

    Files are read from ``/usr/share/mricron/templates`` (card ``mricron-atlases``, checked by sha256
    against mricron-data 1.2.20211006+dfsg-4). When the package is absent every loader raises
    :class:`~neurorep_datasets.fetch.DataNotFoundError` naming the package and the
    ``apt-get install mricron-data`` fix.

    Atlases (:meth:`atlas`): ``aal`` (116 regions, 1 mm), ``aicha`` (192, 2 mm), ``jhu-wm-1mm`` and
    ``jhu-wm-2mm`` (48 white-matter tracts), with names from the package's ``.nii.txt`` files;
    ``harvard-oxford-cort`` (48 labels; the package ships no names: ``label-<n>``) and ``brodmann``
    (41 areas, ``BA<n>`` = the label). Each is usable as atlas ROIs by ``source.nifti-masker``:
    ``neurorep.create("source.nifti-masker", {**ds.atlas("aal").masker_params(rois=["Hippocampus_L"]),
    "maps": ..., "resample": True})`` (the images are on MNI grids of 1 or 2 mm; data on another grid
    needs ``resample=True``). :meth:`regions` lists every region with its voxel count and centroid.
    Templates (:meth:`template_path`): ``ch2``, ``ch2bet`` (Colin27, 1 mm).

    Known defect of the package's JHU files: every region named ``*_L`` lies at x > 0 in the image's
    world coordinates (and ``*_R`` at x < 0), whereas AAL's ``*_L`` regions lie at x < 0 as MNI
    space requires: left and right are swapped in ``jhu-wm-1mm`` and ``jhu-wm-2mm`` (whether the
    names or the image headers are mirrored, the package does not say). The names are returned as shipped;
    swap ``_L``/``_R`` yourself if you rely on the hemisphere (the tests check both facts).

    Parameters
    ----------
    data_dir : str, optional
        A folder holding copies of the files; the only place looked in when given.
    verify : bool, default=True
        Check each file's sha256 against the card on first use.
    """

    id = "dataset.mricron-atlases"
    version = "1.0.0"
    citation = ("Rorden C, Brett M (2000). Stereotaxic display of brain lesions. Behav. Neurol. 12(4):191-200. "
                "doi:10.1155/2000/421719")
    description = "Labelled MNI atlases (AAL, AICHA, JHU, Harvard-Oxford, Brodmann) from Debian's mricron-data"
    CARD_ID = "mricron-atlases"
    ATLASES: ClassVar[tuple[str, ...]] = tuple(ATLASES)

    def __init__(self, data_dir: str | None = None, verify: bool = True):
        self.data_dir = data_dir
        self.verify = verify

    def _spec(self, name: str) -> _AtlasSpec:
        if name not in ATLASES:
            import difflib

            hint = difflib.get_close_matches(name, list(ATLASES), n=1)
            raise InvalidInputError(f"Dataset {self.id!r}: unknown atlas {name!r}"
                                    f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; expected one of "
                                    f"{list(ATLASES)}.")
        return ATLASES[name]

    def atlas(self, name: str) -> MricronAtlas:
        """The atlas ``name``: its label image file and ``{label: region name}``."""
        spec = self._spec(name)
        files = [spec.image] + ([spec.names] if spec.names else [])
        paths = self.paths(files)
        if spec.rule == "file":
            from neurorep.fmri.sites import parse_lut

            lut = parse_lut(str(paths[spec.names]), owner=f"Dataset {self.id!r}")
            labels = {v: n for v, n in lut.items() if v != 0}
        else:
            img = __import__("nibabel").load(str(paths[spec.image]))
            values = np.unique(np.asarray(img.dataobj))
            values = [int(v) for v in values if v != 0]
            labels = {v: (f"BA{v}" if spec.rule == "brodmann" else f"label-{v}") for v in values}
        if len(labels) != spec.n_regions:
            raise InvalidInputError(f"Dataset {self.id!r}: atlas {name!r} has {len(labels)} named regions, expected "
                                    f"{spec.n_regions}.")
        return MricronAtlas(name, paths[spec.image], labels, paths[spec.names] if spec.names else None)

    def regions(self, name: str):
        """Every region of atlas ``name``: a pandas DataFrame with ``label``, ``name``, ``n_voxels`` and the
        centroid ``x``, ``y``, ``z`` in MNI mm (through the image's affine)."""
        import pandas as pd

        at = self.atlas(name)
        img = at.image()
        data = np.asarray(img.dataobj)
        ijk = np.nonzero(data)
        values = data[ijk].astype(np.int64)
        labels = sorted(at.labels)
        size = max(labels) + 1
        counts = np.bincount(values, minlength=size)[labels]
        centres = np.stack([np.bincount(values, weights=axis, minlength=size)[labels] for axis in ijk], axis=1)
        centres = centres / counts[:, None]
        xyz = centres @ img.affine[:3, :3].T + img.affine[:3, 3]
        return pd.DataFrame({"label": labels, "name": [at.labels[v] for v in labels],
                             "n_voxels": np.asarray(counts, dtype=np.int64), "x": xyz[:, 0], "y": xyz[:, 1],
                             "z": xyz[:, 2]})

    def template_path(self, name: str = "ch2") -> Path:
        """The Colin27 template file (``"ch2"`` or ``"ch2bet"``)."""
        if name not in TEMPLATES:
            raise InvalidInputError(f"Dataset {self.id!r}: template must be one of {list(TEMPLATES)}, got {name!r}.")
        return self.path(TEMPLATES[name])
