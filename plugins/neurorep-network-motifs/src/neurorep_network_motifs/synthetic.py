"""``synthetic.network-groups``: resting-state-like voxel time series of two groups with a planted network difference.

Each subject's voxels are grouped in regions. A region's voxels share that region's slow signal (an
AR(1) series) with a loading that varies from subject to subject, plus a weak global signal and
independent noise; so voxels of a region are correlated with each other, and a region's within
network is denser when its loading is larger. In the second group (``patient``) the loading of
ONE region (``planted_region``) is raised by ``effect``: its voxels take part in more 3-cycles.
SYNTHETIC: nothing here was measured. The sites are the per-voxel motif maps of every subject (one
row per subject) and the group labels, as ``motifs.pca-lda`` takes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurorep.components import Dataset, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet

from .analyzers import CITATION, check_network_params
from .core import FEATURES, correlation_network, motif_features

GROUPS = ("control", "patient")


class NetworkGroups(Dataset):
    """Two groups of subjects whose functional networks differ in one planted region (SYNTHETIC).

    Sites: each of ``features`` (``degree``, ``cycle3``, ``cycle4``, ``clustering``): a
    Representation with one row per subject (ids ``sub-001`` ...) and one column per voxel
    (channel descriptors ``region`` and ``voxel``), the subject's per-voxel map of that feature in
    its thresholded correlation network; ``group``: one column, 0 for ``control`` and 1 for
    ``patient`` (the first ``n_per_group`` subjects are controls). :meth:`timeseries` gives a
    subject's raw series.

    Parameters
    ----------
    n_per_group : int, default=20
    n_regions : int, default=6
    voxels_per_region : int, default=20
    n_timepoints : int, default=150
    coupling : float, default=0.5
        Mean loading of a voxel on its region's signal (noise has unit variance).
    jitter : float, default=0.25
        Subject-to-subject SD of each region's loading, relative to ``coupling``.
    effect : float, default=0.35
        Added to the loading of ``planted_region`` in the patient group (0: no group difference).
    planted_region : int, default=2
        Index (0-based) of the region that differs.
    global_signal : float, default=0.2
        Loading of every voxel on a shared global signal.
    threshold, density, absolute, features
        Network construction and features, as in ``motifs.network-features``.
    random_state : int, default=0

    References
    ----------
    The design follows the analysis of Dey, Rao & Shah (2012), Frontiers in Systems Neuroscience 6:75.
    """

    id = "synthetic.network-groups"
    version = "0.1.0"
    citation = CITATION
    description = "SYNTHETIC two-group resting-state voxel networks with a planted difference in one region"
    tags = Tags(stochastic=True)

    def __init__(self, n_per_group: int = 20, n_regions: int = 6, voxels_per_region: int = 20,
                 n_timepoints: int = 150, coupling: float = 0.5, jitter: float = 0.25, effect: float = 0.35,
                 planted_region: int = 2, global_signal: float = 0.2, threshold: float | None = None,
                 density: float = 0.1, absolute: bool = False, features: list[str] | None = None,
                 random_state: int = 0):
        self.n_per_group = n_per_group
        self.n_regions = n_regions
        self.voxels_per_region = voxels_per_region
        self.n_timepoints = n_timepoints
        self.coupling = coupling
        self.jitter = jitter
        self.effect = effect
        self.planted_region = planted_region
        self.global_signal = global_signal
        self.threshold = threshold
        self.density = density
        self.absolute = absolute
        self.features = features
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _own(self) -> str:
        return f"Dataset {self.id!r}"

    def _features(self) -> list[str]:
        return list(self.features) if self.features is not None else list(FEATURES)

    def _validate(self) -> None:
        own = self._own()
        for name, lo in (("n_per_group", 2), ("n_regions", 2), ("voxels_per_region", 3), ("n_timepoints", 10)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise InvalidInputError(f"{own}: {name!r} must be an integer >= {lo}, got {v!r}.")
        if not isinstance(self.planted_region, (int, np.integer)) or not 0 <= self.planted_region < self.n_regions:
            raise InvalidInputError(f"{own}: 'planted_region' must be a region index in [0, {self.n_regions}), got "
                                    f"{self.planted_region!r}.")
        for name in ("coupling", "jitter", "effect", "global_signal"):
            v = getattr(self, name)
            if isinstance(v, bool) or not np.isfinite(float(v)) or float(v) < 0:
                raise InvalidInputError(f"{own}: {name!r} must be a finite number >= 0, got {v!r}.")
        check_network_params(own, self.threshold, self.density, self._features())

    # ------------------------------------------------------------------ data
    def card(self) -> dict[str, Any]:
        return {"files": [], "synthetic": True, "license": "generated data (no licence restrictions of its own)",
                "citation": None, "related_citations": [CITATION],
                "contents": "SYNTHETIC voxel time series of two groups; one region's within-network coupling "
                            "differs between them."}

    def subject_ids(self) -> tuple[str, ...]:
        n = 2 * int(self.n_per_group)
        w = max(3, len(str(n)))
        return tuple(f"sub-{i:0{w}d}" for i in range(1, n + 1))

    def groups(self) -> np.ndarray:
        """0 (control) for the first ``n_per_group`` subjects, 1 (patient) for the rest."""
        return np.repeat([0, 1], int(self.n_per_group))

    def regions(self) -> np.ndarray:
        return np.repeat([f"region-{r + 1}" for r in range(int(self.n_regions))], int(self.voxels_per_region))

    def load_stimuli(self) -> StimulusSet:
        self._validate()
        return StimulusSet(ids=self.subject_ids(), modality="other",
                           descriptors={"group": np.asarray(GROUPS)[self.groups()]}, name="subjects")

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        """The subjects' ids (every site has one row per subject)."""
        return self.subject_ids()

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return self._features() + ["group"]

    def timeseries(self, subject: int) -> np.ndarray:
        """Subject ``subject``'s (0-based) series, shape ``(n_timepoints, n_regions * voxels_per_region)``."""
        self._validate()
        n_sub = 2 * int(self.n_per_group)
        if isinstance(subject, bool) or not isinstance(subject, (int, np.integer)) or not 0 <= subject < n_sub:
            raise InvalidInputError(f"{self._own()}: subject must be an index in [0, {n_sub}), got {subject!r}.")
        rng = np.random.default_rng([int(self.random_state), 95, int(subject)])
        T, R, V = int(self.n_timepoints), int(self.n_regions), int(self.voxels_per_region)
        phi = 0.5
        eps = rng.standard_normal((T + 20, R + 1))
        S = np.empty_like(eps)
        S[0] = eps[0]
        for t in range(1, S.shape[0]):
            S[t] = phi * S[t - 1] + np.sqrt(1 - phi * phi) * eps[t]
        S = S[20:]
        load = float(self.coupling) * (1.0 + float(self.jitter) * rng.standard_normal(R))
        load = np.clip(load, 0.0, None)
        if self.groups()[subject] == 1:
            load[int(self.planted_region)] += float(self.effect)
        signal = np.repeat(S[:, :R] * load, V, axis=1) + float(self.global_signal) * S[:, R:]
        return signal + rng.standard_normal((T, R * V))

    def maps(self, features: list[str] | None = None) -> dict[str, np.ndarray]:
        """Every subject's per-voxel maps: ``{feature: (n_subjects, n_voxels)}`` (default: every feature)."""
        self._validate()
        feats = self._features() if features is None else list(features)
        out = {f: [] for f in feats}
        for s in range(2 * int(self.n_per_group)):
            A, _ = correlation_network(self.timeseries(s), threshold=self.threshold, density=self.density,
                                       absolute=bool(self.absolute), owner=self._own())
            m = motif_features(A, feats, owner=self._own())
            for f in feats:
                out[f].append(m[f])
        return {f: np.asarray(v) for f, v in out.items()}

    def site_space(self, site: str) -> dict[str, Any]:
        return {"kind": "brain", "synthetic": True, "dataset": self.id, "site": site,
                "network": {"threshold": self.threshold, "density": self.density, "absolute": bool(self.absolute)}}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in self.sites():
            raise InvalidInputError(f"{self._own()}: unknown site {site!r}; expected one of {self.sites()}.")
        ids = self.subject_ids()
        if site == "group":
            self._validate()
            rep = Representation(self.groups()[:, None].astype(np.float64), ids, space=self.site_space(site),
                                 channel_descriptors={"label": np.asarray(["patient"])}, name=f"{self.id}:group")
        else:
            data = self.maps([site])[site]
            rep = Representation(data, ids, space=self.site_space(site),
                                 channel_descriptors={"region": self.regions(),
                                                      "voxel": np.arange(data.shape[1])},
                                 name=f"{self.id}:{site}")
        if stimuli is not None and tuple(stimuli.ids) != ids:
            rep = rep.select(list(stimuli.ids))
        return rep

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_per_group=4, n_regions=3, voxels_per_region=5, n_timepoints=40, features=["cycle3"])]
