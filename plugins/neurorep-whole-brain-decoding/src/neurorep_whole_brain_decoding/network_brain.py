"""``synthetic.network-brain``: whole-brain synthetic maps in MNI space with stimulus information planted in ONE network.

Voxels are nilearn's MNI152 brain mask (shipped in the nilearn wheel, read via
``dataset.nilearn-atlases``) sampled every ``voxel_size`` mm. A voxel within ``radius_mm`` of a region
of a coordinate atlas with network labels (Dosenbach et al., 2010; Seitzman et al., 2019) takes that
region's network; the rest are ``"none"``. Only the voxels of ``planted_network`` carry stimulus
information: ``z(F) W`` with ``F`` an EfficientNet-Lite0 block (spatial mean) for real images and ``W``
standard normal, standardised per voxel, plus unit noise scaled by ``1/sqrt(snr)``; every other voxel
is noise only. The images' embedding ``F`` is served too (site ``embedding``), so
``decoding.contrastive`` / ``decoding.network-ablation`` get brain maps and image embeddings of the
same stimuli. SYNTHETIC: nothing here was measured.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import numpy as np

from neurorep.components import Dataset, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet

ATLASES = ("dosenbach2010", "seitzman2018")
ATLAS_CITATIONS = {
    "dosenbach2010": ("Dosenbach NUF, et al. (2010). Prediction of individual brain maturity using fMRI. Science "
                      "329(5997):1358-1361. doi:10.1126/science.1194144"),
    "seitzman2018": ("Seitzman BA, et al. (2020). A set of functionally-defined brain regions with improved "
                     "representation of the subcortex and cerebellum. NeuroImage 206:116290. "
                     "doi:10.1016/j.neuroimage.2019.116290"),
}
_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}


def labelled_grid(atlas: str, voxel_size: int, radius_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MNI mm coordinates (V, 3), network label (V,) and region name (V,) of the brain-mask voxels on the grid."""
    key = f"grid|{atlas}|{voxel_size}|{radius_mm}"
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    from neurorep_datasets.nilearn_data import NilearnAtlases
    from scipy.spatial import cKDTree

    na = NilearnAtlases()
    mask = na.brain_mask()
    s = int(voxel_size)
    m = np.asarray(mask.dataobj)[::s, ::s, ::s] > 0
    ijk = np.argwhere(m) * s
    xyz = ijk @ mask.affine[:3, :3].T + mask.affine[:3, 3]
    df = na.coordinates(atlas)
    centres = df[["x", "y", "z"]].to_numpy(float)
    d, nearest = cKDTree(centres).query(xyz)
    inside = d <= radius_mm
    net = np.where(inside, df["network"].astype(str).to_numpy()[nearest], "none")
    roi = np.where(inside, df["name"].astype(str).to_numpy()[nearest], "none")
    out = (xyz.astype(float), net.astype(str), roi.astype(str))
    with _LOCK:
        _CACHE[key] = out
    return out


def plant(features: np.ndarray, labels: np.ndarray, planted: list[str], snr: float, n_repeats: int,
          random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free signal (n, V) and repeats (n_repeats, n, V): planted voxels get ``z(F) W``, the rest zero."""
    rng = np.random.default_rng([int(random_state), 410])
    f = features - features.mean(0)
    sd = f.std(0)
    f = f[:, sd > 0] / sd[sd > 0]
    n, v = f.shape[0], labels.shape[0]
    on = np.isin(labels, planted)
    signal = np.zeros((n, v))
    s = f @ rng.standard_normal((f.shape[1], int(on.sum())))
    s = (s - s.mean(0)) / np.where(s.std(0) > 0, s.std(0), 1.0)
    signal[:, on] = s
    noise = rng.standard_normal((int(n_repeats), n, v)) / np.sqrt(snr)
    return signal, signal[None] + noise


class NetworkBrain(Dataset):
    """SYNTHETIC whole-brain maps (MNI grid) with image information planted in one brain network only.

    Sites: ``brain`` (Representation, stimuli x voxels, ``repeats`` (n_repeats, n, V), channel
    descriptors ``network``, ``roi``, ``x``, ``y``, ``z``) and ``embedding`` (the EfficientNet-Lite0
    block driving the planted voxels, stimuli x channels). :meth:`ground_truth` names the planted
    network and every network's voxel count.

    Parameters
    ----------
    images : {"skimage", "fashion-mnist", "kriegeskorte92"}, default="fashion-mnist"
        Real images, loaded as ``synthetic.planted-brain`` loads them (Fashion-MNIST: Debian
        ``dataset-fashion-mnist``).
    n_images : int, default=60
        Number of images (Fashion-MNIST: ``n_images // 10`` per class).
    atlas : {"dosenbach2010", "seitzman2018"}, default="dosenbach2010"
        Coordinate atlas whose network labels group the voxels.
    planted_network : str, default="default"
        The one network whose voxels carry stimulus information (Dosenbach ``default``; Seitzman
        ``DefaultMode``...).
    block : str, default="blocks.15"
        EfficientNet-Lite0 block driving the planted voxels and served as ``embedding``.
    voxel_size : int, default=6
        Grid step in mm over the 1 mm MNI152 mask.
    radius_mm : float, default=10.0
        Sphere radius around each atlas coordinate.
    snr : float, default=1.0
        Signal-to-noise variance ratio of a planted voxel in one repeat.
    n_repeats : int, default=2
    data_dir : str, optional
        Folder of the Kriegeskorte files (``images="kriegeskorte92"``).
    random_state : int, default=0
    """

    id = "synthetic.network-brain"
    version = "0.1.0"
    citation = ATLAS_CITATIONS["dosenbach2010"]
    description = "SYNTHETIC whole-brain MNI maps with image information planted in one network (network ablation)"
    tags = Tags(stochastic=True, needs_weights=True)

    def __init__(self, images: Literal["skimage", "fashion-mnist", "kriegeskorte92"] = "fashion-mnist",
                 n_images: int = 60, atlas: Literal["dosenbach2010", "seitzman2018"] = "dosenbach2010",
                 planted_network: str = "default", block: str = "blocks.15", voxel_size: int = 6,
                 radius_mm: float = 10.0, snr: float = 1.0, n_repeats: int = 2, data_dir: str | None = None,
                 random_state: int = 0):
        self.images = images
        self.n_images = n_images
        self.atlas = atlas
        self.planted_network = planted_network
        self.block = block
        self.voxel_size = voxel_size
        self.radius_mm = radius_mm
        self.snr = snr
        self.n_repeats = n_repeats
        self.data_dir = data_dir
        self.random_state = random_state

    def _own(self) -> str:
        return f"Dataset {self.id!r}"

    def _validate(self) -> None:
        own = self._own()
        if self.atlas not in ATLASES:
            raise InvalidInputError(f"{own}: atlas must be one of {list(ATLASES)}, got {self.atlas!r}.")
        if not isinstance(self.voxel_size, (int, np.integer)) or not 2 <= self.voxel_size <= 20:
            raise InvalidInputError(f"{own}: voxel_size must be an integer in [2, 20] mm, got {self.voxel_size!r}.")
        if not self.radius_mm > 0 or not self.snr > 0:
            raise InvalidInputError(f"{own}: radius_mm and snr must be > 0, got radius_mm={self.radius_mm!r}, "
                                    f"snr={self.snr!r}.")
        if not isinstance(self.n_repeats, (int, np.integer)) or self.n_repeats < 1:
            raise InvalidInputError(f"{own}: n_repeats must be an integer >= 1, got {self.n_repeats!r}.")

    def card(self) -> dict[str, Any]:
        return {"files": [], "synthetic": True, "license": "generated data (no licence restrictions of its own)",
                "citation": None, "related_citations": list(ATLAS_CITATIONS.values()),
                "contents": "SYNTHETIC whole-brain voxel responses; stimulus information planted in one network."}

    def _planted_brain(self):
        from neurorep_planted_brain import PlantedBrain

        return PlantedBrain(images=self.images, n_images=self.n_images, data_dir=self.data_dir)

    def load_stimuli(self) -> StimulusSet:
        self._validate()
        return self._planted_brain().load_stimuli()

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return ["brain", "embedding"]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        """The ids of the rows of both sites (those of :meth:`load_stimuli`)."""
        return self.load_stimuli().ids

    def site_space(self, site: str) -> dict[str, Any]:
        """Provenance of a site, with ``synthetic: True`` (no data loaded)."""
        if site not in self.sites():
            raise InvalidInputError(f"{self._own()}: unknown site {site!r}; expected 'brain' or 'embedding'.")
        if site == "embedding":
            return {"kind": "model", "model": "efficientnet-lite0", "site": self.block, "synthetic": True,
                    "dataset": self.id}
        return {"kind": "brain", "space": "MNI152", "synthetic": True, "atlas": self.atlas,
                "planted_network": self.planted_network, "dataset": self.id}

    def _features(self) -> tuple[StimulusSet, np.ndarray]:
        from neurorep_planted_brain.features import BLOCK_CHANNELS, block_features

        if self.block not in BLOCK_CHANNELS:
            raise InvalidInputError(f"{self._own()}: unknown EfficientNet-Lite0 block {self.block!r}; expected one "
                                    f"of {list(BLOCK_CHANNELS)}.")
        stim = self.load_stimuli()
        return stim, block_features(stim, [self.block], owner=self.id)[self.block]

    def _grid(self):
        self._validate()
        xyz, net, roi = labelled_grid(self.atlas, int(self.voxel_size), float(self.radius_mm))
        nets = sorted(set(net.tolist()) - {"none"})
        if self.planted_network not in nets:
            raise InvalidInputError(f"{self._own()}: planted_network {self.planted_network!r} is not a network of "
                                    f"{self.atlas}; expected one of {nets}.")
        return xyz, net, roi

    def ground_truth(self) -> dict[str, Any]:
        """``synthetic``, ``planted_network``, ``atlas``, ``networks`` ({network: voxel count}), ``n_voxels``."""
        _, net, _ = self._grid()
        u, c = np.unique(net, return_counts=True)
        return {"synthetic": True, "generator": self.id, "planted_network": self.planted_network, "atlas": self.atlas,
                "block": self.block, "snr": float(self.snr), "networks": {str(a): int(b) for a, b in zip(u, c)},
                "n_voxels": int(net.size)}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in self.sites():
            raise InvalidInputError(f"{self._own()}: unknown site {site!r}; expected 'brain' or 'embedding'.")
        stim, feats = self._features()
        if site == "embedding":
            return Representation(feats, stim.ids, space=self.site_space(site), name=f"{self.id}:embedding")
        xyz, net, roi = self._grid()
        _, rep = plant(feats, net, [self.planted_network], float(self.snr), int(self.n_repeats),
                       int(self.random_state))
        return Representation(rep.mean(0), stim.ids, repeats=rep,
                              space=self.site_space(site),
                              channel_descriptors={"network": net, "roi": roi, "x": xyz[:, 0], "y": xyz[:, 1],
                                                   "z": xyz[:, 2]},
                              name=f"{self.id}:brain")

    @classmethod
    def _conformance_instances(cls):
        return [cls(images="skimage", n_images=12, voxel_size=12)]
