"""Single-trial betas in the Natural Scenes Dataset's layout (``source.nsd-betas``).

The layout read (after the NSD data manual; ``NN`` the subject, ``SS`` the session)::

    <root>/nsddata_betas/ppdata/subjNN/<space>/<betas>/betas_sessionSS.nii.gz   4D, one volume per trial
    <root>/nsddata/ppdata/subjNN/<space>/roi/<roi>.nii.gz                       ROI label volumes
    <root>/nsddata/freesurfer/subjNN/label/<roi>.mgz.ctab                       label names (optional)
    <root>/nsddata/ppdata/subjNN/behav/responses.tsv                            one row per trial

``<space>`` is ``func1pt8mm`` or ``func1mm``; ``<betas>`` e.g. ``betas_fithrf_GLMdenoise_RR``.
Betas stored as int16 are percent signal change times 300 (the manual's convention) and are divided
by ``int16_scale``. ROI volumes hold -1 outside the brain, 0 outside every region and positive
region labels; ``lh.<roi>``/``rh.<roi>`` files are single-hemisphere versions. The trials of a
session are the rows of ``responses.tsv`` with that ``SESSION``, ordered by ``RUN`` and ``TRIAL``
(blank trials are not counted), and their image is ``73KID`` (1-based).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..components import Source
from ..errors import InvalidInputError
from ..types import Representation, StimulusSet

__all__ = ["NSDBetasSource", "NSDLayout", "parse_roi_spec"]

_SESSION_RE = re.compile(r"^betas_session(\d+)\.nii(\.gz)?$")


@dataclass(frozen=True)
class NSDLayout:
    """Paths of one subject's files in an NSD tree."""

    root: Path
    subject: int
    space: str
    betas: str

    @property
    def subj(self) -> str:
        return f"subj{self.subject:02d}"

    @property
    def betas_dir(self) -> Path:
        return self.root / "nsddata_betas" / "ppdata" / self.subj / self.space / self.betas

    def betas_file(self, session: int) -> Path:
        for ext in (".nii.gz", ".nii"):
            p = self.betas_dir / f"betas_session{session:02d}{ext}"
            if p.is_file():
                return p
        return self.betas_dir / f"betas_session{session:02d}.nii.gz"

    def roi_file(self, name: str) -> Path:
        return self.root / "nsddata" / "ppdata" / self.subj / self.space / "roi" / f"{name}.nii.gz"

    def ctab_file(self, name: str) -> Path:
        base = re.sub(r"^(lh|rh)\.", "", name)
        return self.root / "nsddata" / "freesurfer" / self.subj / "label" / f"{base}.mgz.ctab"

    @property
    def responses(self) -> Path:
        return self.root / "nsddata" / "ppdata" / self.subj / "behav" / "responses.tsv"

    def sessions(self) -> list[int]:
        """The sessions whose betas file exists, sorted."""
        if not self.betas_dir.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.betas_dir.iterdir() if (m := _SESSION_RE.match(p.name)))


def parse_roi_spec(spec: str) -> tuple[str, str | None]:
    """``"prf-visualrois:V1v"`` -> ``("prf-visualrois", "V1v")``; ``"nsdgeneral"`` -> ``("nsdgeneral", None)``."""
    file, sep, label = str(spec).partition(":")
    return file.strip(), (label.strip() if sep else None)


def _read_ctab(path: Path, owner: str) -> dict[int, str]:
    from .sites import parse_lut

    return parse_lut(str(path), owner=owner)


class NSDBetasSource(Source):
    """Single-trial betas of one Natural Scenes Dataset subject, per ROI, grouped by image.

    Reads ``betas_session*.nii.gz`` (int16 betas are divided by ``int16_scale`` into percent signal
    change), optionally z-scores each voxel within each session (the usual NSD preprocessing), and
    groups the trials by image (``73KID`` in ``responses.tsv``): ``data`` is each image's mean over its
    presentations and ``repeats`` the presentations (see ``n_repeats``). Stimulus ids are
    ``nsd-<73KID, 5 digits>`` with the 1-based 73k index of ``responses.tsv``. Sites are the requested
    ROIs; ``channel_descriptors`` hold each voxel's ``i``, ``j``, ``k``, ``x``, ``y``, ``z`` (mm, the
    volumes' affine) and its ROI ``label``.

    Parameters
    ----------
    root : str
        The folder holding ``nsddata/`` and ``nsddata_betas/``.
    subject : int, default=1
        NSD subject 1-8 (``subj01`` ...).
    space : str, default="func1pt8mm"
        The functional preparation: ``"func1pt8mm"`` or ``"func1mm"``.
    betas : str, default="betas_fithrf_GLMdenoise_RR"
        The betas version folder (``betas_assumehrf``, ``betas_fithrf``, ``betas_fithrf_GLMdenoise_RR``).
    sessions : list of int, optional
        Sessions to read; default: every ``betas_session*`` file present.
    rois : list of str, default=["nsdgeneral"]
        ROI volumes from ``.../roi/``: ``"<file>"`` (every positive label of the file, site
        ``<file>``), ``"<file>:<name or label>"`` (one region, site ``<file>.<name>``; names from the
        FreeSurfer ``.ctab``), or ``"<file>:*"`` (one site per region of the ``.ctab``).
    zscore : bool, default=True
        z-score each voxel's betas across the trials of each session before grouping.
    n_repeats : int, optional
        Keep the images shown at least this many times and use their first ``n_repeats``
        presentations, so ``repeats`` has shape (n_repeats, n_images, n_voxels). None: every image;
        ``repeats`` is set only when all images were shown equally often.
    int16_scale : float, default=300.0
        Divisor of betas stored as int16 (NSD stores percent signal change x 300).
    """

    id = "source.nsd-betas"
    version = "1.0.0"
    citation = ("Allen EJ, St-Yves G, Wu Y, et al. (2022). A massive 7T fMRI dataset to bridge cognitive "
                "neuroscience and artificial intelligence. Nat Neurosci 25:116-126. doi:10.1038/s41593-021-00962-x")
    description = "Natural Scenes Dataset single-trial betas per ROI (betas_session*.nii.gz + ROI volumes)"

    def __init__(self, root: str, subject: int = 1, space: str = "func1pt8mm",
                 betas: str = "betas_fithrf_GLMdenoise_RR", sessions: list[int] | None = None,
                 rois: list[str] = ["nsdgeneral"], zscore: bool = True,  # noqa: B006 - never mutated
                 n_repeats: int | None = None, int16_scale: float = 300.0):
        self.root = root
        self.subject = subject
        self.space = space
        self.betas = betas
        self.sessions = sessions
        self.rois = rois
        self.zscore = zscore
        self.n_repeats = n_repeats
        self.int16_scale = int16_scale

    @classmethod
    def _conformance_instances(cls) -> list[NSDBetasSource]:
        """A two-session NSD-style tree with planted image patterns in a temporary folder removed at exit."""
        from ._toy import write_toy_nsd

        d = write_toy_nsd()
        return [cls(d["root"], rois=["nsdgeneral", "prf-visualrois:*"]),
                cls(d["root"], rois=["prf-visualrois:V1v"], zscore=False, n_repeats=2)]

    # ------------------------------------------------------------------ helpers
    def _owner(self) -> str:
        return f"Source {self.id!r}"

    def _layout(self) -> NSDLayout:
        if not (isinstance(self.subject, (int, np.integer)) and 1 <= int(self.subject) <= 99):
            raise InvalidInputError(f"{self._owner()}: subject must be an integer (1-8 in NSD), got {self.subject!r}.")
        return NSDLayout(Path(self.root), int(self.subject), self.space, self.betas)

    def _site_table(self) -> list[tuple[str, str, int | None]]:
        """``(site, roi file, label or None)`` for every site, in order (reads only .ctab files)."""
        owner = self._owner()
        lay = self._layout()
        if isinstance(self.rois, str) or not self.rois:
            raise InvalidInputError(f"{owner}: rois must be a non-empty list such as ['nsdgeneral', "
                                    f"'prf-visualrois:V1v'], got {self.rois!r}.")
        out: list[tuple[str, str, int | None]] = []
        for spec in self.rois:
            file, label = parse_roi_spec(spec)
            if not file or "/" in file or "\\" in file:
                raise InvalidInputError(f"{owner}: ROI {spec!r}: expected '<file>' or '<file>:<region>' with <file> an "
                                        "ROI volume name in nsddata/ppdata/subjNN/<space>/roi/ (e.g. 'nsdgeneral').")
            if label is None:
                out.append((file, file, None))
                continue
            ctab_path = lay.ctab_file(file)
            ctab = _read_ctab(ctab_path, owner) if ctab_path.is_file() else None
            if label == "*":
                if ctab is None:
                    raise FileNotFoundError(f"{owner}: ROI {spec!r} asks for every region of {file!r} but its label "
                                            f"table {ctab_path} does not exist; name the labels (e.g. '{file}:1').")
                out += [(f"{file}.{name}", file, v) for v, name in sorted(ctab.items()) if v > 0]
                continue
            by_name = {name: v for v, name in (ctab or {}).items()}
            if label in by_name:
                out.append((f"{file}.{label}", file, int(by_name[label])))
            elif label.lstrip("-").isdigit():
                v = int(label)
                out.append((f"{file}.{(ctab or {}).get(v, str(v))}", file, v))
            else:
                if ctab is None:
                    raise FileNotFoundError(f"{owner}: ROI {spec!r} names region {label!r} but the label table "
                                            f"{ctab_path} does not exist; give the label value instead "
                                            f"(e.g. '{file}:1').")
                close = difflib.get_close_matches(label, list(by_name), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InvalidInputError(f"{owner}: ROI {spec!r}: {ctab_path.name} has no region {label!r}; it names "
                                        f"{[n for v, n in sorted(ctab.items()) if v > 0]}.{hint}")
        names = [s for s, _, _ in out]
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise InvalidInputError(f"{owner}: the ROIs {dups} are requested more than once.")
        return out

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return [s for s, _, _ in self._site_table()]

    def site_space(self, site: str) -> dict[str, Any]:
        return {"kind": "brain", "modality": "fMRI", "dataset": "NSD", "subject": f"subj{int(self.subject):02d}",
                "space": self.space, "betas": self.betas, "site": site}

    def _params_key(self) -> str:
        return json.dumps(self.get_params(), sort_keys=True, default=str)

    def _trials(self, lay: NSDLayout, sessions: list[int]) -> Any:
        import pandas as pd

        owner = self._owner()
        if not lay.responses.is_file():
            raise FileNotFoundError(f"{owner}: {lay.responses} does not exist; it maps each trial to its image "
                                    "(columns SESSION, RUN, TRIAL, 73KID).")
        df = pd.read_csv(lay.responses, sep="\t")
        need = ["SESSION", "RUN", "TRIAL", "73KID"]
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise InvalidInputError(f"{owner}: {lay.responses} lacks the column(s) {missing}; it has "
                                    f"{list(df.columns)}. Expected NSD's responses.tsv.")
        df = df[df["SESSION"].isin(sessions)].sort_values(["SESSION", "RUN", "TRIAL"], kind="stable")
        return df.reset_index(drop=True)

    def _sessions(self, lay: NSDLayout) -> list[int]:
        owner = self._owner()
        if self.sessions is None:
            found = lay.sessions()
            if not found:
                raise FileNotFoundError(f"{owner}: no betas_session*.nii.gz in {lay.betas_dir}; expected NSD's "
                                        "nsddata_betas/ppdata/subjNN/<space>/<betas>/ layout.")
            return found
        return [int(s) for s in self.sessions]

    def _compute(self) -> dict[str, Any]:
        from .glm import group_repeats
        from .nifti import check_finite_rows, check_same_grid, read_nifti

        owner = self._owner()
        lay = self._layout()
        table = self._site_table()
        sessions = self._sessions(lay)
        trials = self._trials(lay, sessions)
        # ROI volumes, each read once
        roi_imgs: dict[str, tuple[Any, np.ndarray]] = {}
        for _, file, _ in table:
            if file not in roi_imgs:
                p = lay.roi_file(file)
                if not p.is_file():
                    raise FileNotFoundError(f"{owner}: ROI volume {p} does not exist; expected one of "
                                            f"{sorted(q.name for q in p.parent.glob('*.nii*'))[:12]} "
                                            f"in {p.parent}.")
                roi_imgs[file] = read_nifti(p, owner=owner, what=f"ROI volume {file!r}", ndim=3)
        masks: dict[str, np.ndarray] = {}
        labels: dict[str, np.ndarray] = {}
        for site, file, v in table:
            vol = np.rint(np.nan_to_num(np.asarray(roi_imgs[file][1], dtype=float), nan=-1)).astype(np.int64)
            m = vol > 0 if v is None else vol == v
            if not m.any():
                present = sorted(int(x) for x in np.unique(vol) if x > 0)
                raise InvalidInputError(f"{owner}: ROI {site!r} is empty: no voxel of {lay.roi_file(file).name} "
                                        "carries "
                                        f"{'a positive label' if v is None else f'label {v}'} (labels present: "
                                        f"{present}). Expected at least one voxel; pick another region.")
            masks[site] = m
            labels[site] = vol
        union = np.zeros(next(iter(masks.values())).shape, dtype=bool)
        for m in masks.values():
            union |= m
        ref_img = next(iter(roi_imgs.values()))[0]
        for file, (img, _) in roi_imgs.items():
            check_same_grid(ref_img, img, owner=owner, what_a=f"ROI volume {table[0][1]!r}",
                            what_b=f"ROI volume {file!r}")
        blocks = []
        for s in sessions:
            p = lay.betas_file(s)
            if not p.is_file():
                have = lay.sessions()
                raise FileNotFoundError(f"{owner}: session {s}: {p} does not exist; sessions present: {have}.")
            img, data = read_nifti(p, owner=owner, what=f"betas of session {s}", ndim=4)
            check_same_grid(img, ref_img, owner=owner, what_a=f"betas_session{s:02d}",
                            what_b=f"the ROI volumes ({table[0][1]})")
            n_trials = int((trials["SESSION"] == s).sum())
            if data.shape[3] != n_trials:
                raise InvalidInputError(f"{owner}: betas_session{s:02d} holds {data.shape[3]} trial volume(s) but "
                                        f"{lay.responses.name} lists {n_trials} trial(s) for session {s}; they must "
                                        "match one to one (is responses.tsv from the same subject and release?).")
            as_int16 = data.dtype == np.int16  # stored as int16 without header scaling: NSD's x300 convention
            X = data[union].T.astype(np.float64)
            del data
            if as_int16:
                X /= float(self.int16_scale)
            check_finite_rows(X, owner=owner, what=f"the betas of session {s} inside the ROIs", row_label="trial",
                              fix="Exclude those voxels from the ROIs, or fix the betas file.")
            if self.zscore:
                sd = X.std(0)
                X = (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)
            blocks.append(X)
        X = np.concatenate(blocks, axis=0)
        ids = [f"nsd-{int(k):05d}" for k in trials["73KID"]]
        if self.n_repeats is not None:
            k = int(self.n_repeats)
            if k < 1:
                raise InvalidInputError(f"{owner}: n_repeats must be >= 1 or None, got {self.n_repeats!r}.")
            counts: dict[str, int] = {}
            keep = np.zeros(len(ids), dtype=bool)
            for r, sid in enumerate(ids):
                counts[sid] = counts.get(sid, 0) + 1
                keep[r] = counts[sid] <= k
            full = {sid for sid, c in counts.items() if c >= k}
            if not full:
                raise InvalidInputError(f"{owner}: no image was shown {k} times in sessions {sessions} (at most "
                                        f"{max(counts.values())}); lower n_repeats or add sessions.")
            keep &= np.array([sid in full for sid in ids])
            ids = [sid for sid, kp in zip(ids, keep, strict=True) if kp]
            X = X[keep]
        uniq, data, repeats, _ = group_repeats(ids, X)
        return {"ids": uniq, "data": data, "repeats": repeats, "union": union, "masks": masks, "labels": labels,
                "affine": np.asarray(ref_img.affine, dtype=float), "sessions": sessions, "n_trials": len(ids)}

    def _loaded(self) -> dict[str, Any]:
        cache = self.__dict__.setdefault("_loaded_cache_", {})
        key = self._params_key()
        if key not in cache:
            cache.clear()
            cache[key] = self._compute()
        return cache[key]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        if stimuli is not None:
            return tuple(stimuli.ids)
        return self._loaded()["ids"]

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        """The ROI's voxels: ``data`` (n_images, n_voxels), ``repeats`` when every image has as many presentations."""
        names = self.sites()
        if site not in names:
            close = difflib.get_close_matches(site, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidInputError(f"{self._owner()}: unknown site {site!r}; expected one of {names}.{hint}")
        from .nifti import voxel_descriptors

        d = self._loaded()
        mask = d["masks"][site]
        cols = np.flatnonzero(mask[d["union"]])
        channels = voxel_descriptors(mask, d["affine"])
        channels["label"] = d["labels"][site][mask].astype(np.int64)
        reps = d["repeats"]
        space = {**self.site_space(site), "sessions": [int(s) for s in d["sessions"]], "n_voxels": int(cols.size),
                 "n_trials": int(d["n_trials"]), "zscore_within_session": bool(self.zscore),
                 "units": "z" if self.zscore else "percent signal change",
                 "repeats": None if reps is None else int(reps.shape[0])}
        rep = Representation(data=d["data"][:, cols], stimulus_ids=d["ids"],
                             repeats=None if reps is None else reps[:, :, cols], space=space,
                             channel_descriptors=channels, name=f"nsd/subj{int(self.subject):02d}:{site}")
        if stimuli is not None and tuple(stimuli.ids) != rep.stimulus_ids:
            rep = rep.select(list(stimuli.ids))
        return rep
