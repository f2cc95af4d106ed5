"""``synthetic.planted-brain``: synthetic brain data with a known layer-region map, in real MNI space."""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from typing import Any, ClassVar, Literal

import numpy as np

from neurorep.components import Dataset, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import RDMs, Representation, StimulusSet

from .atlas import AAL_CITATION, MNI_CITATION, brain_grid
from .features import BLOCK_CHANNELS, MODEL_ID, block_features
from .generate import MEGData, PlantedData, SubjectROI, make_meg, make_subject_roi, signal_from_features, zscore_stats

__all__ = ["PlantedBrain", "DEFAULT_ROI_BLOCKS", "IMAGE_SETS"]

#: The default planted layer-region map: AAL regions along the ventral visual stream, from the
#: calcarine sulcus (V1) to the middle temporal gyrus, each driven by a deeper block. Blocks within one
#: stage of EfficientNet-Lite0 (same resolution and width: 1-2, 3-4, 5-7, 8-10, 11-14) have very
#: similar RDMs, so the map takes one block per stage, from the middle of the stage where it can.
DEFAULT_ROI_BLOCKS: dict[str, str] = {
    "Calcarine": "blocks.0",
    "Lingual": "blocks.2",
    "Occipital_Inf": "blocks.6",
    "Fusiform": "blocks.9",
    "Temporal_Inf": "blocks.12",
    "Temporal_Mid": "blocks.15",
}
IMAGE_SETS = ("skimage", "fashion-mnist", "kriegeskorte92")

_LOCK = threading.Lock()
_DATA: OrderedDict[str, PlantedData] = OrderedDict()
_STIM: dict[str, StimulusSet] = {}
_MAX = 4


def _block_index(b: str) -> int:
    return int(b.split(".")[1])


class PlantedBrain(Dataset):
    """SYNTHETIC fMRI-like (and optionally MEG-like) data with a planted layer-region map.

    Nothing here was measured. Voxels are real MNI152 brain-mask voxels (nilearn's template,
    resampled to ``voxel_size`` mm) inside real AAL regions (Debian's mricron-data); their responses
    are computed from EfficientNet-Lite0 block activations (neurorep's ``source.torch``) to real
    images, each region driven by one planted block through subject-specific random mixing, plus
    spatially correlated noise of known SNR (see :mod:`neurorep_planted_brain.generate`). The
    ground truth is :meth:`ground_truth`; every site's ``space`` carries ``synthetic: True``.

    Sites
    -----
    ``<ROI>.sub-NN``
        :class:`~neurorep.types.Representation` of one subject's ROI: ``data`` is the mean over
        repeats, ``repeats`` has shape ``(n_repeats, n_stimuli, n_voxels)``; channel descriptors
        ``x``, ``y``, ``z`` (MNI mm), ``drive`` and ``position``.
    ``<ROI>.subjects``
        :class:`~neurorep.types.RDMs`, one correlation-distance RDM per subject (of the mean
        pattern), for RSA with a noise ceiling across subjects.
    ``meg.tNNN`` (``meg=True``)
        The sensor pattern at ``NNN`` ms (one MEG subject), with repeats.

    Parameters
    ----------
    images : {"skimage", "fashion-mnist", "kriegeskorte92"}, default="skimage"
        The stimuli: the 21 scikit-image/scikit-learn sample photographs (no download), Fashion-MNIST
        test images (Debian's dataset-fashion-mnist) or the 92 images of Kriegeskorte et al. (2008)
        (``dataset.kriegeskorte2008-92``; needs its files).
    n_images : int, optional
        Number of images: the first ``n_images`` sample images; for Fashion-MNIST ``n_images // 10``
        per class (default 4 per class); for the 92 images an evenly spaced subset. Default: all
        (21 or 92), 40 for Fashion-MNIST.
    n_subjects : int, default=3
        Subjects, each with its own voxel subset (60-100 % of each region) and mixing.
    roi_blocks : dict of str to str, optional
        The planted layer-region map: AAL region name (hemispheres merged) -> EfficientNet-Lite0
        block (``"blocks.0"`` ... ``"blocks.15"``). Default :data:`DEFAULT_ROI_BLOCKS`.
    voxel_size : float, default=6.0
        Isotropic voxel edge in mm.
    snr : float, default=1.0
        Signal variance over noise variance of every voxel (and MEG sensor) in one repeat.
    n_repeats : int, default=4
        Independent noisy repeats of every stimulus.
    smoothness_mm : float, default=4.0
        Standard deviation (mm) of the Gaussian kernel that smooths the mixing weights over space.
    noise_length_mm : float, default=10.0
        Length scale of the noise correlation ``exp(-d / noise_length_mm)``; 0 gives white noise.
    meg : bool, default=False
        Also generate MEG-like sensor x time responses.
    meg_latencies_ms : dict of str to float, optional
        Planted peak latency per block (default: the planted blocks by depth at 60, 90, 120, ... ms).
    n_sensors : int, default=64
        MEG sensors.
    meg_times_ms : list of float, optional
        Time points (default 0, 10, ..., 300 ms).
    meg_width_ms : float, default=10.0
        Standard deviation of each block's Gaussian time course.
    routing : bool, default=False
        In ``routing_roi``, half the voxels respond to the spatial maximum of the block's maps
        (position-invariant) and half to one fixed map position each.
    routing_roi : str, default="Fusiform"
        The ROI with routing voxels (must be in ``roi_blocks``).
    cache_dir : str, optional
        Folder where the model activations are also kept on disk (they are always kept in memory).
    data_dir : str, optional
        Folder of the Kriegeskorte files (``images="kriegeskorte92"``).
    random_state : int, default=0
        Seed of every random draw (voxel subsets, mixing, noise, sensor weights).
    """

    id = "synthetic.planted-brain"
    version = "0.1.0"
    citation = None  # synthetic; the atlas, template and model citations are in card() and ground_truth()
    description = "SYNTHETIC brain data with a planted EfficientNet-Lite0 layer-region map in MNI/AAL space"
    tags = Tags(stochastic=True, needs_weights=True)
    synthetic: ClassVar[bool] = True

    def __init__(self, images: Literal["skimage", "fashion-mnist", "kriegeskorte92"] = "skimage",
                 n_images: int | None = None, n_subjects: int = 3, roi_blocks: dict[str, str] | None = None,
                 voxel_size: float = 6.0, snr: float = 1.0, n_repeats: int = 4, smoothness_mm: float = 4.0,
                 noise_length_mm: float = 10.0, meg: bool = False, meg_latencies_ms: dict[str, float] | None = None,
                 n_sensors: int = 64, meg_times_ms: list[float] | None = None, meg_width_ms: float = 10.0,
                 routing: bool = False, routing_roi: str = "Fusiform", cache_dir: str | None = None,
                 data_dir: str | None = None, random_state: int = 0):
        self.images = images
        self.n_images = n_images
        self.n_subjects = n_subjects
        self.roi_blocks = roi_blocks
        self.voxel_size = voxel_size
        self.snr = snr
        self.n_repeats = n_repeats
        self.smoothness_mm = smoothness_mm
        self.noise_length_mm = noise_length_mm
        self.meg = meg
        self.meg_latencies_ms = meg_latencies_ms
        self.n_sensors = n_sensors
        self.meg_times_ms = meg_times_ms
        self.meg_width_ms = meg_width_ms
        self.routing = routing
        self.routing_roi = routing_roi
        self.cache_dir = cache_dir
        self.data_dir = data_dir
        self.random_state = random_state

    @classmethod
    def _conformance_instances(cls) -> list[PlantedBrain]:
        return [cls(), cls(n_subjects=2, snr=4.0, meg=True, routing=True, random_state=3)]

    # ------------------------------------------------------------------ validation
    def _owner(self) -> str:
        return f"Dataset {self.id!r}"

    def _map(self) -> dict[str, str]:
        m = DEFAULT_ROI_BLOCKS if self.roi_blocks is None else self.roi_blocks
        if not isinstance(m, dict) or not m:
            raise InvalidInputError(f"{self._owner()}: roi_blocks must be a non-empty dict {{AAL region: block}}, "
                                    f"got {m!r}; e.g. {{ Calcarine = \"blocks.0\", Fusiform = \"blocks.8\" }}.")
        bad = {r: b for r, b in m.items() if b not in BLOCK_CHANNELS}
        if bad:
            raise InvalidInputError(f"{self._owner()}: roi_blocks maps {bad} to unknown blocks; expected "
                                    f"EfficientNet-Lite0 blocks {list(BLOCK_CHANNELS)}.")
        return dict(m)

    def _validate(self) -> None:
        owner = self._owner()
        if self.images not in IMAGE_SETS:
            raise InvalidInputError(f"{owner}: 'images' must be one of {list(IMAGE_SETS)}, {self.images!r} was "
                                    "provided.")
        for name, lo in (("n_subjects", 1), ("n_repeats", 2), ("n_sensors", 2)):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise InvalidInputError(f"{owner}: {name!r} must be an integer >= {lo}, got {v!r}.")
        if self.n_images is not None and (not isinstance(self.n_images, (int, np.integer)) or self.n_images < 3):
            raise InvalidInputError(f"{owner}: 'n_images' must be an integer >= 3 or None, got {self.n_images!r}.")
        if not (isinstance(self.snr, (int, float)) and self.snr > 0 and math.isfinite(self.snr)):
            raise InvalidInputError(f"{owner}: 'snr' must be a positive number, got {self.snr!r}.")
        m = self._map()
        if self.routing and self.routing_roi not in m:
            raise InvalidInputError(f"{owner}: routing_roi {self.routing_roi!r} is not one of the planted ROIs "
                                    f"{list(m)}; add it to roi_blocks or pick one of them.")

    def _latencies(self) -> dict[str, float]:
        if self.meg_latencies_ms is not None:
            bad = [b for b in self.meg_latencies_ms if b not in BLOCK_CHANNELS]
            if bad:
                raise InvalidInputError(f"{self._owner()}: meg_latencies_ms names unknown blocks {bad}; expected "
                                        f"blocks among {list(BLOCK_CHANNELS)}.")
            return {b: float(v) for b, v in self.meg_latencies_ms.items()}
        blocks = sorted(set(self._map().values()), key=_block_index)
        return {b: 60.0 + 30.0 * k for k, b in enumerate(blocks)}

    def _times(self) -> np.ndarray:
        if self.meg_times_ms is None:
            return np.arange(0.0, 301.0, 10.0)
        return np.asarray(self.meg_times_ms, dtype=float)

    def _subjects(self) -> list[str]:
        return [f"sub-{i + 1:02d}" for i in range(int(self.n_subjects))]

    # ------------------------------------------------------------------ stimuli
    def card(self) -> dict[str, Any]:
        return {"files": [], "synthetic": True, "license": "generated data (no licence restrictions of its own)",
                "citation": None,
                "related_citations": [AAL_CITATION, MNI_CITATION,
                                      "Tan M, Le QV (2019). EfficientNet. ICML. arXiv:1905.11946"],
                "contents": "SYNTHETIC voxel (and MEG-like) responses generated from EfficientNet-Lite0 activations "
                            "with a planted layer-region map; not measured data."}

    def load_stimuli(self) -> StimulusSet:
        """The images the responses are generated for."""
        self._validate()
        key = f"{self.images}|{self.n_images}|{self.data_dir}"
        with _LOCK:
            if key in _STIM:
                return _STIM[key]
        if self.images == "skimage":
            from neurorep.models import SkimageSamples

            stim = SkimageSamples().load_stimuli()
            if self.n_images is not None:
                stim = stim.subset(slice(0, int(self.n_images)))
        elif self.images == "fashion-mnist":
            from neurorep.models import FashionMNIST

            per = 4 if self.n_images is None else max(1, int(self.n_images) // 10)
            stim = FashionMNIST(n_per_class=per).load_stimuli()
        else:
            from neurorep_datasets import Kriegeskorte2008

            stim = Kriegeskorte2008(data_dir=self.data_dir).load_stimuli()
            if self.n_images is not None:
                idx = np.unique(np.linspace(0, len(stim) - 1, int(self.n_images)).round().astype(int))
                stim = stim.subset(idx)
        stim = StimulusSet(ids=stim.ids, modality="image", payload=stim.payload, descriptors=stim.descriptors,
                           name=f"planted-brain-{self.images}")
        with _LOCK:
            _STIM[key] = stim
        return stim

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        """The ids of the rows of every site (those of :meth:`load_stimuli`)."""
        return self.load_stimuli().ids

    # ------------------------------------------------------------------ generation
    def _feature_blocks(self) -> tuple[list[str], list[str]]:
        m = self._map()
        pooled = set(m.values())
        if self.meg:
            pooled |= set(self._latencies())
        # the routing ROI's block is always extracted whole (whether or not routing is on), so instances
        # that differ only in ``routing`` share one cached forward pass
        maps = [m[self.routing_roi]] if self.routing_roi in m else []
        return sorted(pooled, key=_block_index), maps

    def features(self, stimuli: StimulusSet | None = None) -> dict[str, np.ndarray]:
        """EfficientNet-Lite0 activations of the planted blocks (spatial means; whole maps for routing)."""
        pooled, maps = self._feature_blocks()
        return block_features(stimuli if stimuli is not None else self.load_stimuli(), pooled, maps,
                              cache_dir=self.cache_dir, owner=self.id)

    def _key(self) -> str:
        return json.dumps({k: v for k, v in self.get_params().items() if k != "cache_dir"}, sort_keys=True,
                          default=str)

    def generate(self) -> PlantedData:
        """Generate (or return this process's cached copy of) every response and the ground truth."""
        self._validate()
        key = self._key()
        with _LOCK:
            if key in _DATA:
                _DATA.move_to_end(key)
                return _DATA[key]
        m = self._map()
        grid = brain_grid(float(self.voxel_size), tuple(m))  # first: a bad region name fails before the model runs
        stim = self.load_stimuli()
        feats = self.features(stim)
        stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for k, a in feats.items():
            if k.endswith(":map"):
                b = k[:-4]
                stats[k] = zscore_stats(a, (0, 2, 3))
                stats[f"{b}:max"] = zscore_stats(a.max(axis=(2, 3)), (0,))
            else:
                stats[k] = zscore_stats(a, (0,))
        seed = int(self.random_state)
        # each subject keeps a fraction of every region's voxels, drawn from its own band of [0.6, 1.0)
        # (stratified, so subjects differ in size)
        rng_keep = np.random.default_rng([seed, 7])
        n_sub = int(self.n_subjects)
        keep = 0.6 + 0.4 * (rng_keep.permutation(n_sub) + rng_keep.uniform(0.1, 0.9, size=n_sub)) / n_sub
        rois: dict[str, SubjectROI] = {}
        for r_i, (roi, block) in enumerate(m.items()):
            for s_i, sub in enumerate(self._subjects()):
                rois[f"{roi}.{sub}"] = make_subject_roi(
                    feats, stats, subject=sub, roi=roi, block=block, roi_coords=grid.regions[roi],
                    keep_fraction=float(keep[s_i]), smoothness_mm=float(self.smoothness_mm),
                    noise_length_mm=float(self.noise_length_mm), snr=float(self.snr),
                    n_repeats=int(self.n_repeats), routing=bool(self.routing and roi == self.routing_roi),
                    rng_weights=np.random.default_rng([seed, 1, s_i, r_i]),
                    rng_noise=np.random.default_rng([seed, 2, s_i, r_i]))
        meg = None
        if self.meg:
            meg = make_meg(feats, stats, latencies_ms=self._latencies(), times_ms=self._times(),
                           width_ms=float(self.meg_width_ms), n_sensors=int(self.n_sensors), snr=float(self.snr),
                           n_repeats=int(self.n_repeats), rng_weights=np.random.default_rng([seed, 3]),
                           rng_noise=np.random.default_rng([seed, 4]))
        data = PlantedData(stim.ids, rois, meg, stats)
        data.ground_truth = self._ground_truth(data, grid)
        with _LOCK:
            _DATA[key] = data
            while len(_DATA) > _MAX:
                _DATA.popitem(last=False)
        return data

    def _ground_truth(self, data: PlantedData, grid: Any) -> dict[str, Any]:
        m = self._map()
        n, snr = int(self.n_repeats), float(self.snr)
        subjects: dict[str, dict[str, Any]] = {}
        for sr in data.rois.values():
            subjects.setdefault(sr.subject, {})[sr.roi] = {
                "n_voxels": int(sr.coords.shape[0]), "coords_mm": sr.coords, "weights": sr.weights,
                "drive": sr.drive, "position": sr.position}
        gt: dict[str, Any] = {
            "synthetic": True,
            "generator": f"{self.id} {self.version}",
            "model": MODEL_ID,
            "images": self.images,
            "stimulus_ids": list(data.stimulus_ids),
            "roi_blocks": m,
            "roi_order": sorted(m, key=lambda r: _block_index(m[r])),
            "block_index": {r: _block_index(b) for r, b in m.items()},
            "snr": snr,
            "n_repeats": n,
            "voxel_reliability": snr / (1.0 + snr),
            "mean_reliability": n * snr / (1.0 + n * snr),
            "noise": {"variance": 1.0 / snr, "correlation": f"exp(-d / {float(self.noise_length_mm)} mm)"},
            "subjects": subjects,
            "atlas": {"regions": "AAL (Tzourio-Mazoyer et al. 2002), from Debian's mricron-data; hemispheres "
                                 "merged", "mask": "MNI152 brain mask (nilearn)", "voxel_size_mm": grid.voxel_size,
                      "n_brain_voxels": grid.n_brain_voxels,
                      "n_region_voxels": {r: int(c.shape[0]) for r, c in grid.regions.items()}},
            "meg": None,
            "routing": None,
        }
        if data.meg is not None:
            gt["meg"] = {"latencies_ms": dict(data.meg.latencies_ms), "times_ms": data.meg.times_ms.tolist(),
                         "width_ms": data.meg.width_ms, "n_sensors": int(self.n_sensors),
                         "sensor_weights": data.meg.sensor_weights}
        if self.routing:
            gt["routing"] = {"roi": self.routing_roi, "block": m[self.routing_roi],
                             "drives": {"routing": "spatial max of each channel's map",
                                        "fixed": "the channels' values at one map position per voxel"}}
        return gt

    def ground_truth(self) -> dict[str, Any]:
        """The planted truth.

        Returns
        -------
        dict
            ``synthetic`` (True), ``model``, ``images``, ``stimulus_ids``; ``roi_blocks`` (ROI ->
            block, the planted layer-region map), ``roi_order`` (ROIs by planted depth),
            ``block_index`` (ROI -> block number); ``snr``, ``n_repeats``, ``voxel_reliability``
            (expected correlation of two single repeats of a voxel, ``snr / (1 + snr)``),
            ``mean_reliability`` (of two means of ``n_repeats`` repeats), ``noise``; ``subjects``
            (subject -> ROI -> ``n_voxels``, ``coords_mm``, ``weights`` (channels x voxels),
            ``drive``, ``position``); ``atlas``; ``meg`` (``latencies_ms`` per block, ``times_ms``,
            ``width_ms``, ``n_sensors``, ``sensor_weights``) or None; ``routing`` (``roi``,
            ``block``, ``drives``) or None.
        """
        return self.generate().ground_truth

    def respond(self, stimuli: StimulusSet, site: str) -> np.ndarray:
        """Noise-free responses of the ROI site ``<ROI>.sub-NN`` to new ``stimuli`` (same planted weights).

        Features are standardised with the statistics of the dataset's own stimuli and the voxel
        signals with the dataset's own per-voxel scaling, so responses are on the same scale as
        :attr:`SubjectROI.signal`.
        """
        data = self.generate()
        if site not in data.rois:
            raise InvalidInputError(f"{self._owner()}: respond() takes a subject ROI site such as "
                                    f"{next(iter(data.rois))!r}, got {site!r}.")
        sr = data.rois[site]
        pooled, maps = self._feature_blocks()
        feats = block_features(stimuli, pooled, maps, owner=self.id)
        return signal_from_features(feats, sr, data.feature_stats)

    # ------------------------------------------------------------------ sites
    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        """ROI x subject sites, one group-RDM site per ROI, and the MEG time points (no data loaded)."""
        self._validate()
        out = []
        for roi in self._map():
            out += [f"{roi}.{s}" for s in self._subjects()] + [f"{roi}.subjects"]
        if self.meg:
            out += [f"meg.t{int(round(t)):03d}" for t in self._times()]
        return out

    def site_space(self, site: str) -> dict[str, Any]:
        """Provenance of a site, with ``synthetic: True`` (no data loaded)."""
        self._check_site(site)
        m = self._map()
        head, _, tail = site.partition(".")
        space: dict[str, Any] = {"kind": "brain", "synthetic": True, "dataset": self.id, "site": site,
                                 "model": MODEL_ID, "images": self.images, "snr": float(self.snr),
                                 "n_repeats": int(self.n_repeats), "random_state": int(self.random_state)}
        if head == "meg":
            space.update(modality="MEG-like (synthetic)", time_ms=float(tail[1:]), subject="meg-01")
        else:
            space.update(modality="fMRI-like (synthetic)", roi=head, planted_block=m[head],
                         atlas="AAL (mricron-data)", voxel_size_mm=float(self.voxel_size),
                         subject=tail if tail != "subjects" else "all")
        return space

    def _check_site(self, site: str) -> None:
        sites = self.sites()
        if site not in sites:
            import difflib

            hint = difflib.get_close_matches(site, sites, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InvalidInputError(f"{self._owner()}: unknown site {site!r}{did}"
                                    f"; sites are '<ROI>.sub-NN', '<ROI>.subjects' and (meg=True) 'meg.tNNN', e.g. "
                                    f"{sites[:3]}.")

    def _rows(self, ids: tuple[str, ...], stimuli: StimulusSet | None) -> np.ndarray:
        if stimuli is None or tuple(stimuli.ids) == ids:
            return np.arange(len(ids))
        pos = {s: i for i, s in enumerate(ids)}
        missing = [s for s in stimuli.ids if s not in pos]
        if missing:
            raise InvalidInputError(f"{self._owner()}: the stimuli given include {len(missing)} id(s) the planted "
                                    f"brain has no responses for, e.g. {missing[:3]}; use this dataset's own stimuli "
                                    f"(load_stimuli(), ids like {list(ids[:2])}).")
        return np.array([pos[s] for s in stimuli.ids])

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation | RDMs:
        """The responses at ``site`` (rows restricted to ``stimuli``' ids, in their order, when given)."""
        self._check_site(site)
        data = self.generate()
        rows = self._rows(data.stimulus_ids, stimuli)
        ids = tuple(data.stimulus_ids[i] for i in rows)
        space = self.site_space(site)
        head, _, tail = site.partition(".")
        name = f"planted-brain/{site}"
        if head == "meg":
            meg: MEGData = data.meg  # type: ignore[assignment]
            t = int(np.argmin(np.abs(meg.times_ms - float(tail[1:]))))
            rep = meg.repeats[:, :, :, t][:, rows]
            return Representation(rep.mean(0), ids, repeats=rep, space=space, name=name,
                                  channel_descriptors={"sensor": np.arange(rep.shape[2])})
        if tail == "subjects":
            from scipy.spatial.distance import pdist

            subs = self._subjects()
            d = np.stack([pdist(data.rois[f"{head}.{s}"].repeats[:, rows].mean(0), "correlation") for s in subs])
            return RDMs(d, ids, dissimilarity_measure="correlation", rdm_descriptors={"subject": subs},
                        space=space, name=name)
        sr = data.rois[site]
        rep = sr.repeats[:, rows]
        return Representation(rep.mean(0), ids, repeats=rep, space=space, name=name, channel_descriptors={
            "x": sr.coords[:, 0], "y": sr.coords[:, 1], "z": sr.coords[:, 2], "drive": sr.drive,
            "position_row": sr.position[:, 0], "position_col": sr.position[:, 1]})
