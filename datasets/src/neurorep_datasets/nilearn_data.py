"""``dataset.nilearn-atlases``: the MNI152 2009 templates and the coordinate atlases that nilearn ships."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet

from ._packaged import PackagedDataset

__all__ = ["NilearnAtlases", "TEMPLATES", "COORDINATE_ATLASES"]

#: Template kinds -> file (1 mm, 197 x 233 x 189, MNI ICBM152 2009a symmetric).
TEMPLATES: dict[str, str] = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}
#: Coordinate atlases -> (file, number of regions).
COORDINATE_ATLASES: dict[str, tuple[str, int]] = {
    "power2011": ("power_2011.csv", 264),
    "dosenbach2010": ("dosenbach_2010.csv", 160),
    "seitzman2018": ("seitzman_2018_ROIs_300inVol_MNI_allInfo.txt", 300),
}
_SEITZMAN_LABELS = "seitzman_2018_ROIs_anatomicalLabels.txt"


class NilearnAtlases(PackagedDataset):
    """MNI152 templates, brain mask and sphere-ROI coordinates shipped inside nilearn (no download).

    The files ship in ``nilearn/datasets/data`` (card ``nilearn-atlases``, checked by sha256) and are
    read here with nibabel and pandas; nilearn's own readers (``load_mni152_template``,
    ``fetch_coords_power_2011``...) are the tests' reference.

    * :meth:`template_path` / :meth:`template` (``"t1"``, ``"gm"``, ``"wm"``): the ICBM152 2009
      templates at 1 mm; :meth:`brain_mask`: nilearn's MNI152 brain mask (T1 scaled to [0, 1] > 0.2).
    * :meth:`coordinates` (``"power2011"``, ``"dosenbach2010"``, ``"seitzman2018"``): a table with
      ``name``, ``x``, ``y``, ``z`` (MNI mm) and the atlas's extra columns (``network``, ``region``,
      ``radius``); :meth:`spheres` gives ``{name: [x, y, z]}`` for the ``spheres`` parameter of
      ``source.nifti-masker``.
    * Sites ``power2011``, ``dosenbach2010``, ``seitzman2018``: the coordinates as a
      :class:`~neurorep.types.Representation` (one row per region, ids = region names, features
      ``x``, ``y``, ``z``), so a Euclidean RDM over it is the regions' distance matrix.

    Region names: Power ``power-<n>`` (the file's ROI number), Dosenbach ``<name>-<n>`` (its names
    repeat, e.g. ``vmPFC-1``), Seitzman ``seitzman-<n>`` (row number, 1-based).

    Parameters
    ----------
    data_dir : str, optional
        A folder holding copies of the files; the only place looked in when given.
    verify : bool, default=True
        Check each file's sha256 against the card on first use.
    """

    id = "dataset.nilearn-atlases"
    version = "1.0.0"
    citation = ("Fonov V, Evans AC, Botteron K, Almli CR, McKinstry RC, Collins DL (2011). Unbiased average "
                "age-appropriate atlases for pediatric studies. NeuroImage 54(1):313-327. "
                "doi:10.1016/j.neuroimage.2010.07.033")
    description = "MNI152 2009 templates and brain mask, Power/Dosenbach/Seitzman coordinates (shipped with nilearn)"
    CARD_ID = "nilearn-atlases"
    SITES: ClassVar[tuple[str, ...]] = tuple(COORDINATE_ATLASES)

    def __init__(self, data_dir: str | None = None, verify: bool = True):
        self.data_dir = data_dir
        self.verify = verify

    # ------------------------------------------------------------------ templates
    def template_path(self, kind: str = "t1"):
        """The 1 mm template file (``"t1"``, ``"gm"`` or ``"wm"``)."""
        if kind not in TEMPLATES:
            raise InvalidInputError(f"Dataset {self.id!r}: template kind must be one of {list(TEMPLATES)}, got "
                                    f"{kind!r}.")
        return self.path(TEMPLATES[kind])

    def template(self, kind: str = "t1"):
        """The template as a nibabel image, values scaled to [0, 1] (float32), as nilearn loads it."""
        import nibabel as nib

        img = nib.load(str(self.template_path(kind)))
        data = np.asarray(img.dataobj, dtype=np.float32)
        return nib.Nifti1Image(data / data.max(), img.affine)

    def brain_mask(self, threshold: float = 0.2):
        """nilearn's MNI152 brain mask at 1 mm: the scaled T1 template above ``threshold`` (int8 image)."""
        import nibabel as nib

        t1 = self.template("t1")
        return nib.Nifti1Image((np.asarray(t1.dataobj) > threshold).astype(np.int8), t1.affine)

    # ------------------------------------------------------------------ coordinates
    def coordinates(self, atlas: str):
        """The regions of a coordinate atlas: a pandas DataFrame with ``name``, ``x``, ``y``, ``z`` and extras."""
        import pandas as pd

        if atlas not in COORDINATE_ATLASES:
            import difflib

            hint = difflib.get_close_matches(atlas, list(COORDINATE_ATLASES), n=1)
            raise InvalidInputError(f"Dataset {self.id!r}: unknown coordinate atlas {atlas!r}"
                                    f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; expected one of "
                                    f"{list(COORDINATE_ATLASES)}.")
        fname, n = COORDINATE_ATLASES[atlas]
        p = self.path(fname)
        if atlas == "power2011":
            raw = pd.read_csv(p)
            out = pd.DataFrame({"name": [f"power-{int(i)}" for i in raw["ROI"]], "x": raw["X"], "y": raw["Y"],
                                "z": raw["Z"]})
        elif atlas == "dosenbach2010":
            raw = pd.read_csv(p)
            out = pd.DataFrame({"name": [f"{nm}-{int(i)}" for nm, i in zip(raw["name"], raw["number"], strict=True)],
                                "x": raw["x"], "y": raw["y"], "z": raw["z"], "label": raw["name"],
                                "network": raw["network"]})
        else:
            raw = pd.read_csv(p, sep=" ")
            codes = self.path(_SEITZMAN_LABELS).read_text().split()
            legend = dict(item.split("=") for item in codes[0].split(","))
            region = [legend[c] for c in codes[1:]]
            out = pd.DataFrame({"name": [f"seitzman-{i}" for i in range(1, len(raw) + 1)], "x": raw["x"],
                                "y": raw["y"], "z": raw["z"], "radius": raw["radius(mm)"], "network": raw["netName"],
                                "region": region})
        if len(out) != n:
            raise InvalidInputError(f"Dataset {self.id!r}: {p} holds {len(out)} regions, expected {n}.")
        return out

    def spheres(self, atlas: str) -> dict[str, list[float]]:
        """``{name: [x, y, z]}`` (MNI mm) for ``source.nifti-masker``'s ``spheres`` parameter."""
        df = self.coordinates(atlas)
        return {n: [float(x), float(y), float(z)] for n, x, y, z in zip(df["name"], df["x"], df["y"], df["z"],
                                                                         strict=True)}

    # ------------------------------------------------------------------ Dataset API
    def load_stimuli(self) -> StimulusSet | None:
        return None

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(self.SITES)

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        df = self.coordinates(site)
        return Representation(data=df[["x", "y", "z"]].to_numpy(float), stimulus_ids=tuple(df["name"]),
                              space={"kind": "coordinates", "space": "MNI152", "units": "mm", "atlas": site,
                                     "dataset": self.id},
                              channel_descriptors={"axis": np.array(["x", "y", "z"])}, name=f"{self.id}:{site}")
