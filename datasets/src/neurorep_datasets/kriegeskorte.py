"""``dataset.kriegeskorte2008-92``: the 92 object images and their brain and behavioural RDMs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from neurorep.components import Dataset
from neurorep.errors import InvalidInputError
from neurorep.types import RDMs, Representation, StimulusSet

from .cards import load_card
from .fetch import resolve

__all__ = ["Kriegeskorte2008", "SUPPLEMENTAL", "BRAIN", "BEHAVIOUR", "SIMULATED"]

SUPPLEMENTAL = "Kriegeskorte_Neuron2008_supplementalData.mat"
BRAIN = "92_brainRDMs.mat"
BEHAVIOUR = "92_behavRDMs.mat"
SIMULATED = "simTruePatterns.mat"

_N = 92
_SUBJECTS = ("BE", "KO", "SN", "TI")  # order of the subjects in 92_brainRDMs.mat
_CORRELATION = "correlation"  # 1 - Pearson r between response patterns (Kriegeskorte et al., 2008)

_SITES: dict[str, tuple[str, str]] = {
    "hIT-fig1": (SUPPLEMENTAL, "human IT (316 voxels), Fig. 1: the mean of the 8 session RDMs"),
    "mIT-fig1": (SUPPLEMENTAL, "monkey IT (674 neurons), Fig. 1"),
    "hIT-sub1": (BRAIN, "human IT, subject 1 (BE), its 2 sessions"),
    "hIT-sub2": (BRAIN, "human IT, subject 2 (KO), its 2 sessions"),
    "hIT-sub3": (BRAIN, "human IT, subject 3 (SN), its 2 sessions"),
    "hIT-sub4": (BRAIN, "human IT, subject 4 (TI), its 2 sessions"),
    "hIT-subjects": (BRAIN, "human IT, 4 subjects (each the mean of its 2 sessions)"),
    "hIT-sessions": (BRAIN, "human IT, all 8 session RDMs (4 subjects x 2 sessions)"),
    "behaviour": (BEHAVIOUR, "similarity judgements, 16 subjects"),
    "behaviour-mean": (BEHAVIOUR, "similarity judgements, the mean of the 16 subjects' RDMs"),
}

_MAT_CACHE: dict[tuple[str, int, int], dict[str, Any]] = {}
_MAT_LOCK = threading.Lock()


def _loadmat(path: Path, owner: str) -> dict[str, Any]:
    import scipy.io

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _MAT_LOCK:
        if key in _MAT_CACHE:
            return _MAT_CACHE[key]
    try:
        data = scipy.io.loadmat(str(path))
    except Exception as exc:
        raise InvalidInputError(
            f"Dataset {owner!r}: could not read the MATLAB file {path}: {type(exc).__name__}: {exc}. The file is "
            "corrupt or truncated; load with verify=True to compare it with the card's sha256, or fetch it "
            "again.") from exc
    with _MAT_LOCK:
        if len(_MAT_CACHE) > 8:
            _MAT_CACHE.clear()
        _MAT_CACHE[key] = data
    return data


def _scalar(x: Any) -> Any:
    a = np.asarray(x).ravel()
    return a[0].item() if a.size else None


def _text(x: Any) -> str:
    a = np.asarray(x).ravel()
    return str(a[0]) if a.size else ""


class Kriegeskorte2008(Dataset):
    """The 92-image set of Kriegeskorte et al. (2008) with brain and behavioural RDMs.

    Stimuli: 92 colour photographs (175 x 175 x 3 uint8) with ids ``img-01`` ... ``img-92`` in the
    order of the original files, and descriptors from the files: ``category`` (one of human bodypart,
    human face, nonhuman bodypart, nonhuman face, natural inanimate, artificial inanimate), the
    boolean flags ``human``, ``face``, ``animal``, ``natural`` and the 12 category vectors as
    ``cv_<label>`` (``cv_animate``, ``cv_inanim``, ``cv_human``, ``cv_nonhumani``, ``cv_body``,
    ``cv_face``, ``cv_natObj``, ``cv_artiObj``, ``cv_rand24``, ``cv_rand48``, ``cv_other48``,
    ``cv_monkeyape``).

    Sites (each loads as :class:`neurorep.types.RDMs` over the 92 image ids):

    ``hIT-fig1``, ``mIT-fig1``
        The human IT (316 voxels) and monkey IT (674 neurons) RDMs of the paper's Fig. 1. The
        human one is exactly the mean of the 8 session RDMs below.
    ``hIT-sub1`` ... ``hIT-sub4``
        One subject's two session RDMs (``n_rdms=2``, ``rdm_descriptors["session"] = [1, 2]``).
    ``hIT-subjects``
        One RDM per subject, the mean of its two sessions (``n_rdms=4``,
        ``rdm_descriptors["subject"]``): subjects are the unit to generalise over in RSA
        inference, so this is the site to compare models against.
    ``hIT-sessions``
        All 8 session RDMs with ``subject`` and ``session`` descriptors.
    ``behaviour``
        The similarity-judgement RDMs of 16 subjects (Mur et al., 2013).
    ``behaviour-mean``
        The mean of the 16 behavioural RDMs.

    Brain RDMs hold the correlation distance 1 - Pearson r (range 0 to 2); the behavioural ones
    hold judged dissimilarities (arbitrary units, about 0 to 0.03). Every matrix is checked to be
    symmetric with a zero diagonal when it is read.

    Parameters
    ----------
    data_dir : str, optional
        Folder holding the four .mat files; when given, the only place looked in. Otherwise
        ``$NEUROREP_DATA_MIRROR/kriegeskorte2008-92images`` then the user store
        (see :mod:`neurorep_datasets.fetch`).
    verify : bool, default=True
        Check each file's sha256 against the dataset card on first use.
    """

    id = "dataset.kriegeskorte2008-92"
    version = "1.0.0"
    citation = ("Kriegeskorte N, Mur M, Ruff DA, Kiani R, Bodurka J, Esteky H, Tanaka K, Bandettini PA (2008). "
                "Matching categorical object representations in inferior temporal cortex of man and monkey. "
                "Neuron 60(6):1126-1141. doi:10.1016/j.neuron.2008.10.043")
    description = "92 object images with human IT, monkey IT and behavioural RDMs (Kriegeskorte et al., 2008)"

    CARD_ID = "kriegeskorte2008-92"

    def __init__(self, data_dir: str | None = None, verify: bool = True):
        self.data_dir = data_dir
        self.verify = verify

    # ------------------------------------------------------------------ files
    def card(self) -> dict[str, Any]:
        return load_card(self.CARD_ID).as_dict()

    def path(self, name: str) -> Path:
        """Local path of one of the card's files (found and verified as configured)."""
        return resolve(self.CARD_ID, name, data_dir=self.data_dir, verify=self.verify)

    def _mat(self, name: str) -> dict[str, Any]:
        return _loadmat(self.path(name), self.id)

    def stimulus_ids(self) -> tuple[str, ...]:
        """``img-01`` ... ``img-92`` (no file access)."""
        return tuple(f"img-{i:02d}" for i in range(1, _N + 1))

    # ------------------------------------------------------------------ stimuli
    def load_stimuli(self) -> StimulusSet:
        """The 92 images, ``payload`` of shape (92, 175, 175, 3) uint8, with category descriptors."""
        m = self._mat(SUPPLEMENTAL)
        stim = m["stimuli_92objs"].ravel()
        if stim.shape[0] != _N:
            raise InvalidInputError(f"Dataset {self.id!r}: {SUPPLEMENTAL} holds {stim.shape[0]} stimuli, "
                                    f"expected {_N}.")
        images = np.stack([np.asarray(s["image"]) for s in stim]).astype(np.uint8, copy=False)
        desc: dict[str, np.ndarray] = {
            "category": np.array([_text(s["category"]) for s in stim]),
        }
        for flag in ("human", "face", "animal", "natural"):
            desc[flag] = np.array([bool(_scalar(s[flag])) for s in stim])
        labels = [_text(x) for x in m["categoryLabels"].ravel()]
        vectors = np.asarray(m["categoryVectors"])
        if vectors.shape != (_N, len(labels)):
            raise InvalidInputError(f"Dataset {self.id!r}: categoryVectors has shape {vectors.shape}, expected "
                                    f"({_N}, {len(labels)}).")
        for j, lab in enumerate(labels):
            desc[f"cv_{lab}"] = vectors[:, j].astype(bool)
        return StimulusSet(ids=self.stimulus_ids(), modality="image", payload=images, descriptors=desc,
                           name="kriegeskorte2008-92")

    # ------------------------------------------------------------------ RDMs
    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(_SITES)

    def site_space(self, site: str) -> dict[str, Any]:
        """Provenance of a site (no file access)."""
        self._check_site(site)
        space: dict[str, Any] = {"kind": "brain", "dataset": self.CARD_ID, "site": site,
                                 "description": _SITES[site][1]}
        if site.startswith("hIT"):
            space.update(species="human", roi="IT", modality="fMRI", n_voxels=316)
        elif site.startswith("mIT"):
            space.update(species="macaque", roi="IT", modality="single-unit", n_neurons=674)
        else:
            space.update(kind="behaviour", species="human", task="similarity judgement (multi-arrangement)")
        return space

    def _check_site(self, site: str) -> None:
        if site not in _SITES:
            import difflib

            close = difflib.get_close_matches(site, list(_SITES), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidInputError(f"Dataset {self.id!r}: unknown site {site!r}; expected one of "
                                    f"{list(_SITES)}.{hint}")

    def _matrices(self, arr: np.ndarray, names: list[str], file: str) -> np.ndarray:
        """Square RDMs from the file, checked for shape, finiteness, symmetry and zero diagonal."""
        m = np.asarray(arr, dtype=float)
        if m.shape[1:] != (_N, _N):
            raise InvalidInputError(f"Dataset {self.id!r}: {file} holds RDMs of shape {m.shape[1:]}, "
                                    f"expected ({_N}, {_N}).")
        if not np.all(np.isfinite(m)):
            raise InvalidInputError(f"Dataset {self.id!r}: {file} holds non-finite dissimilarities.")
        for k, name in enumerate(names):
            asym = float(np.max(np.abs(m[k] - m[k].T)))
            diag = float(np.max(np.abs(np.diagonal(m[k]))))
            if asym > 1e-6 or diag > 1e-6:
                raise InvalidInputError(f"Dataset {self.id!r}: RDM {name!r} in {file} is not a dissimilarity matrix "
                                        f"(max |D - D.T| = {asym:.3g}, max |diag| = {diag:.3g}).")
        return m

    def _session_rdms(self) -> tuple[np.ndarray, list[str]]:
        arr = self._mat(BRAIN)["RDMs"]
        if arr.shape != (1, 4, 2):
            raise InvalidInputError(f"Dataset {self.id!r}: {BRAIN} holds RDMs of shape {arr.shape}, "
                                    "expected (1, 4, 2).")
        names = [_text(arr[0, s, k]["name"]) for s in range(4) for k in range(2)]
        mats = np.stack([np.asarray(arr[0, s, k]["RDM"], dtype=float) for s in range(4) for k in range(2)])
        return self._matrices(mats, names, BRAIN), names

    def load(self, site: str, stimuli: StimulusSet | None = None) -> RDMs:
        """The RDMs of ``site`` over the 92 images (restricted to ``stimuli``' ids, in their order, if given)."""
        self._check_site(site)
        ids = self.stimulus_ids()
        space = self.site_space(site)
        name = f"{self.CARD_ID}/{site}"
        if site in ("hIT-fig1", "mIT-fig1"):
            fig = self._mat(SUPPLEMENTAL)["RDMs_mIT_hIT_fig1"].ravel()
            names = [_text(e["name"]) for e in fig]
            want = "hIT" if site.startswith("hIT") else "mIT"
            hits = [i for i, n in enumerate(names) if n.startswith(want)]
            if len(hits) != 1:
                raise InvalidInputError(f"Dataset {self.id!r}: expected one {want} RDM in {SUPPLEMENTAL}, "
                                        f"found {names}.")
            vec = np.asarray(fig[hits[0]]["RDM"], dtype=float).ravel()
            if vec.size != _N * (_N - 1) // 2:
                raise InvalidInputError(f"Dataset {self.id!r}: the {want} RDM in {SUPPLEMENTAL} has {vec.size} "
                                        f"entries, expected {_N * (_N - 1) // 2} (condensed 92 x 92).")
            # stored condensed in MATLAB squareform order, which equals scipy's (row-major upper triangle)
            rdms = RDMs(vec[None], ids, dissimilarity_measure=_CORRELATION,
                        rdm_descriptors={"name": [names[hits[0]]]}, space=space, name=name)
        elif site in ("hIT-sub1", "hIT-sub2", "hIT-sub3", "hIT-sub4", "hIT-subjects", "hIT-sessions"):
            mats, names = self._session_rdms()
            subj = [f"sub{s + 1}" for s in range(4) for _ in range(2)]
            initials = [_SUBJECTS[s] for s in range(4) for _ in range(2)]
            session = [k + 1 for _ in range(4) for k in range(2)]
            if site == "hIT-subjects":
                mats = mats.reshape(4, 2, _N, _N).mean(1)
                desc = {"subject": [f"sub{s + 1}" for s in range(4)], "initials": list(_SUBJECTS)}
            elif site == "hIT-sessions":
                desc = {"subject": subj, "initials": initials, "session": session, "name": names}
            else:
                s = int(site[-1]) - 1
                mats = mats[2 * s: 2 * s + 2]
                desc = {"subject": subj[2 * s: 2 * s + 2], "initials": initials[2 * s: 2 * s + 2],
                        "session": [1, 2], "name": names[2 * s: 2 * s + 2]}
            rdms = RDMs.from_matrices(mats, ids, dissimilarity_measure=_CORRELATION, rdm_descriptors=desc,
                                      space=space, name=name)
        else:  # behaviour, behaviour-mean
            arr = self._mat(BEHAVIOUR)["rdms_behav_92"].ravel()
            names = [_text(e["name"]) for e in arr]
            mats = self._matrices(np.stack([np.asarray(e["RDM"], dtype=float) for e in arr]), names, BEHAVIOUR)
            if site == "behaviour-mean":
                rdms = RDMs.from_matrices(mats.mean(0), ids, dissimilarity_measure="judged-dissimilarity",
                                          rdm_descriptors={"subject": ["mean-of-16"]}, space=space, name=name)
            else:
                rdms = RDMs.from_matrices(mats, ids, dissimilarity_measure="judged-dissimilarity",
                                          rdm_descriptors={"subject": [f"sub{k + 1}" for k in range(len(names))],
                                                           "name": names},
                                          space=space, name=name)
        if stimuli is not None and tuple(stimuli.ids) != ids:
            rdms = rdms.select(list(stimuli.ids))
        return rdms

    # ------------------------------------------------------------------ extras
    def simulated_patterns(self) -> tuple[Representation, Representation]:
        """The two simulated 92 x 100 pattern sets of the rsatoolbox demo (synthetic, not brain data)."""
        m = self._mat(SIMULATED)
        out = []
        for key in ("simTruePatterns", "simTruePatterns2"):
            out.append(Representation(np.asarray(m[key], dtype=float), self.stimulus_ids(),
                                      space={"kind": "synthetic", "dataset": self.CARD_ID, "variable": key},
                                      name=f"{self.CARD_ID}/{key}"))
        return out[0], out[1]
