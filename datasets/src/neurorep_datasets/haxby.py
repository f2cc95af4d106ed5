"""``dataset.haxby2001``: subject 1 of Haxby et al. (2001) as shipped with PyMVPA."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from neurorep.components import Dataset
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet

from .cards import load_card
from .fetch import resolve, resolve_files
from .nifti import check_same_grid, read_nifti

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Haxby2001", "CATEGORIES", "TR", "N_RUNS", "VOLUMES_PER_RUN"]

#: The 8 categories in PyMVPA's label-code order (codes 1-8 of attributes.txt; 0 is rest).
CATEGORIES: tuple[str, ...] = ("face", "house", "shoe", "cat", "scissors", "scrambledpix", "bottle", "chair")
TR = 2.5
N_RUNS = 12
VOLUMES_PER_RUN = 121

_SLICE_BOLD = "bold.nii.gz"
_SLICE_MASK = "mask.nii.gz"
_ATTRIBUTES = "attributes_literal.txt"
_OPENFMRI = "haxby2001"
_CONDITION_KEY = f"{_OPENFMRI}/models/model001/condition_key.txt"
_MASKS_25MM = ("vt", "gray", "white", "brain", "hoc")
#: Sites: the slice, and the 25 mm masks holding more than one voxel applied to the 25 mm BOLD.
_SITES = ("slice", "brain-25mm", "gray-25mm", "white-25mm", "hoc-25mm")


def _run_dir(run: int) -> str:
    return f"{_OPENFMRI}/sub001/BOLD/task001_run{run:03d}"


def _onset_file(run: int, cond: str) -> str:
    return f"{_OPENFMRI}/sub001/model/model001/onsets/task001_run{run:03d}/{cond}.txt"


def _mask_file(name: str) -> str:
    return f"{_OPENFMRI}/sub001/masks/25mm/{name}.nii.gz"


class Haxby2001(Dataset):
    """Subject 1 of Haxby et al. (2001): 12 runs of block-design fMRI over 8 object categories.

    Stimuli: the 8 categories as a :class:`~neurorep.types.StimulusSet` with ids ``face``, ``house``,
    ``shoe``, ``cat``, ``scissors``, ``scrambledpix``, ``bottle``, ``chair`` (PyMVPA's label order)
    and no payload: the individual images are not part of this data, and the patterns are per
    category.

    Sites (each loads as a :class:`~neurorep.types.Representation`):

    ``slice``
        The 530 voxels of ``mask.nii.gz`` in the posterior half of one axial slice (3.1 x 3.75 x
        3.75 mm), from ``bold.nii.gz`` with per-volume conditions from ``attributes_literal.txt``.
    ``brain-25mm``, ``gray-25mm``, ``white-25mm``, ``hoc-25mm``
        The OpenfMRI-layout masks (129, 28, 34 and 45 voxels; ``hoc`` is the Harvard-Oxford cortical
        atlas, every labelled voxel) applied to the whole-brain BOLD at 25 mm, with per-volume
        conditions from the OpenfMRI onset files. The ``vt`` mask holds a single voxel at 25 mm, too
        few for pattern analysis, so it is not a site (read it with :meth:`mask_image`).

    A site's pattern for (category, run) is the mean over the volumes of that run's block of that
    category (9 volumes, no haemodynamic model); rest volumes are excluded. ``repeats`` has shape
    (12 runs, 8 categories, n_voxels) and ``data`` is its mean over runs. Before averaging, each
    voxel's time series is optionally linearly detrended and z-scored within each run (a voxel
    constant within a run becomes 0 there). ``channel_descriptors`` holds the voxel indices
    ``i``, ``j``, ``k``, the scanner coordinates ``x``, ``y``, ``z`` in mm and ``mask_value``.

    Parameters
    ----------
    data_dir : str, optional
        Folder holding the dataset's files (the layout of the mirror's ``haxby2001-sub1/``); when
        given, the only place looked in. Otherwise ``$NEUROREP_DATA_MIRROR/haxby2001-sub1`` then
        the user store (see :mod:`neurorep_datasets.fetch`).
    verify : bool, default=True
        Check each file's sha256 against the dataset card on first use.
    standardize : bool, default=True
        z-score each voxel within each run before averaging (a leave-one-run-out correlation
        classifier on ``slice`` scores 51.0% with it, 13.5% without: raw run offsets dominate).
    detrend : bool, default=False
        Remove a linear trend from each voxel within each run first (with ``standardize``: 62.5%).
    """

    id = "dataset.haxby2001"
    version = "1.0.0"
    citation = ("Haxby JV, Gobbini MI, Furey ML, Ishai A, Schouten JL, Pietrini P (2001). Distributed and "
                "overlapping representations of faces and objects in ventral temporal cortex. Science "
                "293(5539):2425-2430. doi:10.1126/science.1063736")
    description = "Haxby et al. (2001) subject 1: 12 runs of fMRI over 8 object categories (PyMVPA example data)"

    CARD_ID = "haxby2001"
    CATEGORIES = CATEGORIES
    TR = TR

    def __init__(self, data_dir: str | None = None, verify: bool = True, standardize: bool = True,
                 detrend: bool = False):
        self.data_dir = data_dir
        self.verify = verify
        self.standardize = standardize
        self.detrend = detrend

    # ------------------------------------------------------------------ files
    def card(self) -> dict[str, Any]:
        return load_card(self.CARD_ID).as_dict()

    def path(self, name: str) -> Path:
        """Local path of one of the card's files (found and verified as configured)."""
        return resolve(self.CARD_ID, name, data_dir=self.data_dir, verify=self.verify)

    def _paths(self, names: list[str]) -> dict[str, Path]:
        return resolve_files(self.CARD_ID, names, data_dir=self.data_dir, verify=self.verify)

    # ------------------------------------------------------------------ stimuli and design
    def load_stimuli(self) -> StimulusSet:
        """The 8 categories (no payload), with their PyMVPA label code and OpenfMRI condition key."""
        key = {name: cond for cond, name in self.condition_key().items()}
        return StimulusSet(ids=CATEGORIES, modality="other",
                           descriptors={"label_code": np.arange(1, 9),
                                        "condition_key": np.array([key[c] for c in CATEGORIES])},
                           name="haxby2001-categories")

    def condition_key(self) -> dict[str, str]:
        """OpenfMRI condition ids -> category names (``{"cond001": "house", ...}``)."""
        text = self.path(_CONDITION_KEY).read_text()
        out = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 3:
                out[parts[1]] = parts[2]
        if sorted(out.values()) != sorted(CATEGORIES):
            raise InvalidInputError(f"Dataset {self.id!r}: {_CONDITION_KEY} names {sorted(out.values())}, expected "
                                    f"the 8 categories {sorted(CATEGORIES)}.")
        return out

    def volumes(self, from_events: bool = False) -> pd.DataFrame:
        """One row per volume of the 12 concatenated runs (1452 rows).

        Parameters
        ----------
        from_events : bool, default=False
            Derive the conditions from the OpenfMRI onset files instead of ``attributes_literal.txt``
            (a volume whose start falls inside a block gets the block's category; others are rest).

        Returns
        -------
        pandas.DataFrame
            Columns ``volume`` (0-1451), ``run`` (1-12), ``volume_in_run`` (0-120), ``time`` (s from
            the run's start) and ``condition`` (a category or ``"rest"``).
        """
        import pandas as pd

        if from_events:
            cond = np.full(N_RUNS * VOLUMES_PER_RUN, "rest", dtype=object)
            run = np.repeat(np.arange(1, N_RUNS + 1), VOLUMES_PER_RUN)
            for ev in self.events().itertuples(index=False):
                start = int(np.ceil(ev.onset / TR - 1e-6))
                stop = int(np.ceil((ev.onset + ev.duration) / TR - 1e-6))
                if start < 0 or stop > VOLUMES_PER_RUN:
                    raise InvalidInputError(
                        f"Dataset {self.id!r}: the {ev.trial_type} block of run {ev.run} (onset {ev.onset} s, "
                        f"duration {ev.duration} s) lies outside the run's {VOLUMES_PER_RUN * TR:.1f} s scan.")
                cond[(ev.run - 1) * VOLUMES_PER_RUN + start: (ev.run - 1) * VOLUMES_PER_RUN + stop] = ev.trial_type
        else:
            p = self.path(_ATTRIBUTES)
            rows = [line.split() for line in p.read_text().splitlines() if line.strip()]
            bad = [i for i, r in enumerate(rows) if len(r) != 2]
            if bad:
                raise InvalidInputError(f"Dataset {self.id!r}: {p} line {bad[0] + 1} is {rows[bad[0]]!r}, expected "
                                        "'<condition> <run>'.")
            if len(rows) != N_RUNS * VOLUMES_PER_RUN:
                raise InvalidInputError(f"Dataset {self.id!r}: {p} has {len(rows)} lines, expected one per volume "
                                        f"({N_RUNS * VOLUMES_PER_RUN}).")
            cond = np.array([r[0] for r in rows], dtype=object)
            run = np.array([int(r[1]) for r in rows]) + 1  # the file numbers runs 0-11
        n = len(cond)
        within = np.arange(n) - (run - 1) * VOLUMES_PER_RUN
        if within.min() < 0 or within.max() >= VOLUMES_PER_RUN:
            raise InvalidInputError(f"Dataset {self.id!r}: runs are not {N_RUNS} consecutive blocks of "
                                    f"{VOLUMES_PER_RUN} volumes.")
        return pd.DataFrame({"volume": np.arange(n), "run": run, "volume_in_run": within,
                             "time": within * TR, "condition": cond.astype(str)})

    def events(self) -> pd.DataFrame:
        """The OpenfMRI onsets as one events table (BIDS/nilearn columns).

        Returns
        -------
        pandas.DataFrame
            Columns ``onset`` and ``duration`` (s from the run's start), ``trial_type`` (category),
            ``run`` (1-12) and ``modulation`` (the onset files' weight column), sorted by run and
            onset: 96 blocks, one per category per run.
        """
        import pandas as pd

        key = self.condition_key()
        names = [_onset_file(r, c) for r in range(1, N_RUNS + 1) for c in sorted(key)]
        paths = self._paths(names)
        rows = []
        for r in range(1, N_RUNS + 1):
            for c in sorted(key):
                p = paths[_onset_file(r, c)]
                a = np.loadtxt(p, ndmin=2)
                if a.shape[1] != 3:
                    raise InvalidInputError(f"Dataset {self.id!r}: {p} has {a.shape[1]} columns, expected 3 "
                                            "(onset, duration, weight).")
                for onset, duration, weight in a:
                    rows.append((float(onset), float(duration), key[c], r, float(weight)))
        df = pd.DataFrame(rows, columns=["onset", "duration", "trial_type", "run", "modulation"])
        return df.sort_values(["run", "onset"], kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------------ images
    def bold_image(self, space: Literal["slice", "25mm"] = "slice", run: int | None = None) -> Any:
        """The 4D BOLD image (nibabel) of all 12 runs concatenated, or of one ``run`` (1-12).

        ``space="slice"`` reads ``bold.nii.gz`` (40 x 20 x 1 x time); ``"25mm"`` the OpenfMRI
        ``bold_25mm.nii.gz`` files (6 x 10 x 10 x time). The whole file is read (and so checked for
        truncation) before the image is returned.
        """
        return self._bold(space, run)[0]

    def _bold(self, space: str, run: int | None = None) -> tuple[Any, np.ndarray]:
        import nibabel as nib

        owner = f"Dataset {self.id!r}"
        if run is not None and not (isinstance(run, int) and 1 <= run <= N_RUNS):
            raise InvalidInputError(f"{owner}: run must be an integer in 1-{N_RUNS}, got {run!r}.")
        if space == "slice":
            img, data = read_nifti(self.path(_SLICE_BOLD), owner=owner, what="BOLD slice", ndim=4)
            if run is None:
                return img, data
            window = slice((run - 1) * VOLUMES_PER_RUN, run * VOLUMES_PER_RUN)
            data = data[..., window]
            return nib.Nifti1Image(data, img.affine, img.header), data
        if space == "25mm":
            runs = [run] if run is not None else list(range(1, N_RUNS + 1))
            paths = self._paths([f"{_run_dir(r)}/bold_25mm.nii.gz" for r in runs])
            parts = [read_nifti(p, owner=owner, what=f"25 mm BOLD of run {r}", ndim=4)
                     for r, p in zip(runs, paths.values())]
            first = parts[0][0]
            for r, (img, _) in zip(runs[1:], parts[1:]):
                check_same_grid(first, img, owner=owner, what_a=f"the 25 mm BOLD of run {runs[0]}",
                                what_b=f"that of run {r}")
            if len(parts) == 1:
                return parts[0]
            data = np.concatenate([d for _, d in parts], axis=3)
            return nib.Nifti1Image(data, first.affine, first.header), data
        raise InvalidInputError(f"{owner}: space must be 'slice' or '25mm', got {space!r}.")

    def mask_image(self, name: str = "slice") -> Any:
        """A mask (nibabel): ``"slice"`` (the 530-voxel slice mask) or a 25 mm mask ``vt``, ``gray``,
        ``white``, ``brain``, ``hoc``."""
        return self._mask(name)[0]

    def _mask(self, name: str) -> tuple[Any, np.ndarray]:
        if name == "slice":
            rel = _SLICE_MASK
        elif name in _MASKS_25MM:
            rel = _mask_file(name)
        else:
            raise InvalidInputError(f"Dataset {self.id!r}: unknown mask {name!r}; expected 'slice' or one of "
                                    f"{list(_MASKS_25MM)}.")
        return read_nifti(self.path(rel), owner=f"Dataset {self.id!r}", what=f"mask {name!r}", ndim=3)

    # ------------------------------------------------------------------ representations
    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(_SITES)

    def site_space(self, site: str) -> dict[str, Any]:
        """Provenance of a site (no file access)."""
        self._check_site(site)
        return {"kind": "brain", "dataset": self.CARD_ID, "subject": "sub001", "roi": site, "modality": "fMRI",
                "voxel_size_mm": [3.1, 3.75, 3.75] if site == "slice" else [25.0, 25.0, 25.0],
                "pattern": "mean over each block's volumes (no HRF model), rest excluded",
                "preprocessing": {"detrend": bool(self.detrend), "standardize": bool(self.standardize)}}

    def _check_site(self, site: str) -> None:
        if site not in _SITES:
            import difflib

            close = difflib.get_close_matches(site, list(_SITES), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            extra = (" (the 25 mm vt mask holds a single voxel; read it with mask_image('vt'))"
                     if site.startswith("vt") else "")
            raise InvalidInputError(f"Dataset {self.id!r}: unknown site {site!r}; expected one of {list(_SITES)}"
                                    f"{extra}.{hint}")

    def files_for(self, site: str) -> list[str]:
        """The card paths :meth:`load` reads for ``site`` (no file access)."""
        self._check_site(site)
        if site == "slice":
            return [_SLICE_BOLD, _SLICE_MASK, _ATTRIBUTES]
        conds = [f"cond{c:03d}" for c in range(1, 9)]
        return ([f"{_run_dir(r)}/bold_25mm.nii.gz" for r in range(1, N_RUNS + 1)]
                + [_mask_file(site.removesuffix("-25mm")), _CONDITION_KEY]
                + [_onset_file(r, c) for r in range(1, N_RUNS + 1) for c in conds])

    def timeseries(self, site: str) -> tuple[np.ndarray, pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
        """The raw masked time series of ``site``.

        Returns
        -------
        X : ndarray of shape (1452, n_voxels)
            float64, all runs, as stored (no detrending or scaling).
        volumes : pandas.DataFrame
            As :meth:`volumes` (from the attributes for ``slice``, from the onsets otherwise).
        voxels : dict of str to ndarray
            ``i``, ``j``, ``k``, ``x``, ``y``, ``z``, ``mask_value`` per voxel.
        affine : ndarray of shape (4, 4)
        """
        self._paths(self.files_for(site))  # every file up front: one error lists all that are missing
        owner = f"Dataset {self.id!r}"
        if site == "slice":
            bold, data = self._bold("slice")
            mask_img, mvals = self._mask("slice")
            vols = self.volumes(from_events=False)
        else:
            bold, data = self._bold("25mm")
            mask_img, mvals = self._mask(site.removesuffix("-25mm"))
            vols = self.volumes(from_events=True)
        check_same_grid(bold, mask_img, owner=owner, what_a=f"the BOLD image of site {site!r}", what_b="its mask")
        if data.shape[3] != len(vols):
            raise InvalidInputError(f"{owner}: the BOLD image of site {site!r} has {data.shape[3]} volumes but the "
                                    f"design lists {len(vols)}; they must match one to one.")
        sel = mvals != 0
        if not sel.any():
            raise InvalidInputError(f"{owner}: the mask of site {site!r} selects no voxel.")
        X = data[sel].T.astype(np.float64)
        if not np.all(np.isfinite(X)):
            raise InvalidInputError(f"{owner}: the BOLD data of site {site!r} holds NaN/inf values inside the mask.")
        ijk = np.argwhere(sel)  # C order, the same order as data[sel]
        xyz = ijk @ bold.affine[:3, :3].T + bold.affine[:3, 3]
        voxels = {"i": ijk[:, 0], "j": ijk[:, 1], "k": ijk[:, 2],
                  "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2], "mask_value": mvals[sel]}
        return X, vols, voxels, np.asarray(bold.affine)

    def _preprocess(self, X: np.ndarray, run: np.ndarray) -> np.ndarray:
        out = X.copy()
        for r in np.unique(run):
            s = run == r
            block = out[s]
            if self.detrend:
                from scipy.signal import detrend

                block = detrend(block, axis=0, type="linear")
            if self.standardize:
                sd = block.std(0)
                block = (block - block.mean(0)) / np.where(sd > 0, sd, 1.0)
            out[s] = block
        return out

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        """Per-(category, run) mean patterns of ``site``: ``repeats`` (12, 8, n_voxels), ``data`` their mean."""
        X, vols, voxels, _ = self.timeseries(site)
        run = vols["run"].to_numpy()
        cond = vols["condition"].to_numpy()
        X = self._preprocess(X, run)
        repeats = np.empty((N_RUNS, len(CATEGORIES), X.shape[1]))
        for r in range(1, N_RUNS + 1):
            for c, cat in enumerate(CATEGORIES):
                s = (run == r) & (cond == cat)
                if not s.any():
                    raise InvalidInputError(f"Dataset {self.id!r}: run {r} has no {cat!r} volume in the design of "
                                            f"site {site!r}; every run must show every category.")
                repeats[r - 1, c] = X[s].mean(0)
        space = {**self.site_space(site), "n_voxels": int(X.shape[1]),
                 "runs": list(range(1, N_RUNS + 1))}
        rep = Representation(data=repeats.mean(0), stimulus_ids=CATEGORIES, repeats=repeats, space=space,
                             channel_descriptors=voxels, name=f"{self.CARD_ID}/sub001/{site}")
        if stimuli is not None and tuple(stimuli.ids) != CATEGORIES:
            rep = rep.select(list(stimuli.ids))
        return rep
