"""nitime's example data: ``dataset.nitime-grasshopper`` (a receptor neuron's stimulus and spikes) and
``dataset.nitime-fmri`` (ROI time series, an event-related series, two small 4D runs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet

from ._packaged import PackagedDataset

__all__ = ["NitimeGrasshopper", "NitimeFMRI", "GrasshopperRecording", "SAMPLING_RATE", "ROI_TR", "EVENT_TR"]

#: Sampling rate of the grasshopper stimulus envelopes (Hz): one sample every 50 us.
SAMPLING_RATE = 20_000
_SAMPLE_US = 1e6 / SAMPLING_RATE
#: Repetition times (s) of the resting-state ROI series and of the event-related series (nitime's examples).
ROI_TR = 1.89
EVENT_TR = 2.0

_NITIME_CITATION = ("Rokem A, Trumpis M, Perez F (2009). Nitime: time-series analysis for neuroimaging data. "
                    "Proceedings of the 8th Python in Science Conference (SciPy 2009), pp. 68-75")


def _check_positive(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise InvalidInputError(f"Dataset {owner!r}: {name} must be a positive number of ms, got {value!r}.")
    return float(value)


@dataclass(frozen=True)
class GrasshopperRecording:
    """One stimulus and the receptor neuron's response to it.

    Attributes
    ----------
    number : int
        1 (200 Hz cut-off) or 2 (800 Hz).
    amplitude : ndarray of shape (200000,)
        The envelope as in the file (sound-pressure amplitude, arbitrary units), 20 kHz.
    envelope_db : ndarray of shape (200000,)
        ``20 log10(amplitude / 2e-5)`` shifted so that its maximum is ``intensity_db`` (nitime's example).
    spike_times : ndarray of shape (n_spikes,)
        Spike times in s from the stimulus onset.
    header : dict of str to str
        The spike file's settings (carrier frequency, cut-off frequency, intensity...).
    """

    number: int
    amplitude: np.ndarray
    envelope_db: np.ndarray
    spike_times: np.ndarray
    header: dict[str, str] = field(default_factory=dict)

    @property
    def intensity_db(self) -> float:
        return float(self.header["intensity (dB)"])

    @property
    def cutoff_hz(self) -> float:
        return float(self.header["cut-off frequency (Hz)"])

    @property
    def spike_samples(self) -> np.ndarray:
        """Spike times as sample indices of the envelope (50 us samples)."""
        return np.round(self.spike_times * SAMPLING_RATE).astype(np.int64)


class NitimeGrasshopper(PackagedDataset):
    """An auditory receptor neuron of the grasshopper and the sounds it heard (Rokem et al., 2006).

    The files ship inside nitime (``nitime/data``; card ``nitime-grasshopper``, checked by sha256).
    Two 10 s stimuli, tones amplitude-modulated by white noise up to 200 Hz (``1``) or 800 Hz
    (``2``), with the spike times of the neuron's response to each.

    Stimuli: the two envelopes (ids ``stimulus-1``, ``stimulus-2``, modality ``audio``, payload the
    envelopes in dB SPL at 20 kHz; descriptors ``cutoff_hz``, ``intensity_db``, ``n_spikes``).

    Sites (each a :class:`~neurorep.types.Representation`; the stimulus is continuous, so the rows
    are moments in time):

    ``sta-1``, ``sta-2``
        The spike-triggered ensemble: one row per spike (ids ``rec1-spike-0000`` ..., the index of the
        spike in its file), features = the envelope (dB SPL) in the ``window_ms`` before the spike
        at 20 kHz (``channel_descriptors["lag_ms"]`` from ``-window_ms`` to -0.05 ms). Spikes closer
        than ``window_ms`` to the onset are left out (nitime's ``EventRelatedAnalyzer`` keeps them, its
        negative indices wrapping around to the end of the stimulus); over the other spikes the mean of
        the rows equals its spike-triggered average.
    ``spikes-1``, ``spikes-2``
        The response: spike counts in consecutive bins of ``bin_ms`` (ids ``rec1-bin-00000`` ...),
        one feature.
    ``envelope-1``, ``envelope-2``
        The stimulus history of the same bins (same ids): the mean envelope (dB SPL) in each of the
        ``window_ms / bin_ms`` bins before the bin's end, newest last
        (``channel_descriptors["lag_ms"]``); bins with less history are left out. Aligned by id
        with ``spikes-*``, it is the design of an encoding model of the neuron.

    Parameters
    ----------
    window_ms : float, default=10.0
        Stimulus history length (nitime's example uses 10 ms: 200 samples).
    bin_ms : float, default=1.0
        Bin width of ``spikes-*`` and ``envelope-*`` (a multiple of 0.05 ms).
    data_dir : str, optional
        A folder holding copies of the four files; the only place looked in when given.
    verify : bool, default=True
        Check each file's sha256 against the card on first use.
    """

    id = "dataset.nitime-grasshopper"
    version = "1.0.0"
    citation = ("Rokem A, Watzl S, Gollisch T, Stemmler M, Herz AVM, Samengo I (2006). Spike-timing precision "
                "underlies the coding efficiency of auditory receptor neurons. J. Neurophysiol. 95(4):2541-2552. "
                "doi:10.1152/jn.00891.2005")
    description = "Grasshopper auditory receptor neuron: two noise-modulated tones and the spikes they evoked (nitime)"
    CARD_ID = "nitime-grasshopper"
    SITES: ClassVar[tuple[str, ...]] = ("sta-1", "sta-2", "spikes-1", "spikes-2", "envelope-1", "envelope-2")

    def __init__(self, window_ms: float = 10.0, bin_ms: float = 1.0, data_dir: str | None = None, verify: bool = True):
        self.window_ms = window_ms
        self.bin_ms = bin_ms
        self.data_dir = data_dir
        self.verify = verify

    # ------------------------------------------------------------------ raw data
    def recording(self, number: int) -> GrasshopperRecording:
        """Stimulus ``number`` (1 or 2) and the spikes it evoked."""
        if number not in (1, 2):
            raise InvalidInputError(f"Dataset {self.id!r}: recording must be 1 or 2, got {number!r}.")
        cache = self.__dict__.setdefault("_recordings_", {})
        key = (number, self.data_dir, self.verify)
        if key in cache:
            return cache[key]
        stim_name, spike_name = f"grasshopper_stimulus{number}.txt", f"grasshopper_spike_times{number}.txt"
        paths = self.paths([stim_name, spike_name])
        stim = _read_columns(paths[stim_name], 2, owner=self.id)
        t = stim[:, 0]
        if t.size < 2 or not np.allclose(np.diff(t), _SAMPLE_US):
            raise InvalidInputError(f"Dataset {self.id!r}: {paths[stim_name]} should hold samples every "
                                    f"{_SAMPLE_US:g} us starting at 0; its time column does not.")
        header: dict[str, str] = {}
        for line in paths[spike_name].read_text().splitlines():
            if line.startswith("#") and ":" in line:
                k, _, v = line[1:].partition(":")
                header[k.strip()] = v.strip()
        if "intensity (dB)" not in header:
            raise InvalidInputError(f"Dataset {self.id!r}: {paths[spike_name]} has no '# intensity (dB): ...' header "
                                    "line; expected nitime's grasshopper spike-time file.")
        spikes_us = _read_columns(paths[spike_name], 1, owner=self.id)[:, 0]
        amp = stim[:, 1]
        if np.any(amp <= 0):
            raise InvalidInputError(f"Dataset {self.id!r}: {paths[stim_name]} holds non-positive amplitudes; "
                                    "expected a positive envelope.")
        db = 20.0 * np.log10(amp / 2e-5)
        db = db - db.max() + float(header["intensity (dB)"])
        rec = GrasshopperRecording(number, amp, db, spikes_us / 1e6, header)
        cache[key] = rec
        return rec

    # ------------------------------------------------------------------ Dataset API
    def load_stimuli(self) -> StimulusSet:
        recs = [self.recording(k) for k in (1, 2)]
        return StimulusSet(ids=("stimulus-1", "stimulus-2"), modality="audio", payload=[r.envelope_db for r in recs],
                           descriptors={"cutoff_hz": np.array([r.cutoff_hz for r in recs]),
                                        "intensity_db": np.array([r.intensity_db for r in recs]),
                                        "n_spikes": np.array([r.spike_times.size for r in recs]),
                                        "sampling_rate_hz": np.array([SAMPLING_RATE, SAMPLING_RATE])},
                           name="grasshopper-stimuli")

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(self.SITES)

    def _samples(self, ms: float, name: str) -> int:
        ms = _check_positive(ms, name, self.id)
        n = ms * 1e3 / _SAMPLE_US
        if abs(n - round(n)) > 1e-6:
            raise InvalidInputError(f"Dataset {self.id!r}: {name}={ms:g} ms is not a multiple of the 0.05 ms sampling "
                                    "interval; use e.g. 1.0 or 0.5.")
        return round(n)

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in self.SITES:
            import difflib

            hint = difflib.get_close_matches(site, self.SITES, n=1)
            raise InvalidInputError(f"Dataset {self.id!r}: unknown site {site!r}"
                                    f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; expected one of "
                                    f"{list(self.SITES)}.")
        kind, _, num = site.partition("-")
        rec = self.recording(int(num))
        w = self._samples(self.window_ms, "window_ms")
        space = {"kind": "neuron", "species": "Locusta migratoria", "cell": "auditory receptor", "dataset": self.id,
                 "recording": int(num), "cutoff_hz": rec.cutoff_hz, "site": site}
        if kind == "sta":
            s = rec.spike_samples
            keep = np.flatnonzero((s >= w) & (s <= rec.envelope_db.size))
            idx = s[keep][:, None] + np.arange(-w, 0)[None, :]
            data = rec.envelope_db[idx]
            lags = np.arange(-w, 0) * _SAMPLE_US / 1e3
            ids = tuple(f"rec{num}-spike-{i:04d}" for i in keep)
            return Representation(data=data, stimulus_ids=ids, space={**space, "features": "envelope dB SPL before "
                                  "each spike", "window_ms": float(self.window_ms)},
                                  channel_descriptors={"lag_ms": lags}, name=f"{self.id}:{site}")
        b = self._samples(self.bin_ms, "bin_ms")
        n_bins = rec.envelope_db.size // b
        if kind == "spikes":
            counts = np.bincount(rec.spike_samples // b, minlength=n_bins)[:n_bins]
            data = counts[:, None].astype(float)
            ids = tuple(f"rec{num}-bin-{i:05d}" for i in range(n_bins))
            return Representation(data=data, stimulus_ids=ids, space={**space, "features": "spike count",
                                  "bin_ms": float(self.bin_ms)}, channel_descriptors={"unit": np.array(["receptor"])},
                                  name=f"{self.id}:{site}")
        if w % b:
            raise InvalidInputError(f"Dataset {self.id!r}: window_ms={self.window_ms:g} must be a multiple of "
                                    f"bin_ms={self.bin_ms:g} for the envelope-* sites.")
        k = w // b
        binned = rec.envelope_db[: n_bins * b].reshape(n_bins, b).mean(axis=1)
        lo = k - 1  # the first bin with k bins of history (itself included)
        rows = np.arange(lo, n_bins)
        data = binned[rows[:, None] + np.arange(-k + 1, 1)[None, :]]
        lags = (np.arange(-k + 1, 1) - 1) * float(self.bin_ms)  # start of each history bin relative to the bin's end
        ids = tuple(f"rec{num}-bin-{i:05d}" for i in rows)
        return Representation(data=data, stimulus_ids=ids, space={**space, "features": "mean envelope dB SPL per "
                              "history bin", "bin_ms": float(self.bin_ms), "window_ms": float(self.window_ms)},
                              channel_descriptors={"lag_ms": lags}, name=f"{self.id}:{site}")


def _read_columns(path: Path, n_cols: int, *, owner: str) -> np.ndarray:
    try:
        a = np.loadtxt(path, comments="#", ndmin=2)
    except ValueError as exc:
        raise InvalidInputError(f"Dataset {owner!r}: cannot read {path} as {n_cols} numeric column(s): {exc}.") from exc
    if a.shape[1] != n_cols or a.shape[0] == 0:
        raise InvalidInputError(f"Dataset {owner!r}: {path} holds an array of shape {a.shape}; expected rows of "
                                f"{n_cols} number(s).")
    return a


class NitimeFMRI(PackagedDataset):
    """fMRI example data of nitime: 31 ROI time series at rest, an event-related series from MT, two 4D runs.

    The files ship inside nitime (``nitime/data``; card ``nitime-fmri``, checked by sha256).

    Sites (each a :class:`~neurorep.types.Representation`):

    ``roi-timeseries``
        The resting-state scan as stimuli-first data: one row per volume (ids ``vol-000`` ...
        ``vol-249``, TR 1.89 s), one feature per ROI (``channel_descriptors["roi"]``: ``WM``, ``Vent``,
        ``Brain``, ``LCau``, ...). Volumes are the observations, ROIs the channels, as in nilearn's
        maskers.
    ``roi-profiles``
        The same matrix transposed: one row per ROI (ids = ROI names), one feature per volume. A
        correlation-distance RDM over it (``rsa.correlation``) is 1 - the ROIs' correlation matrix
        (functional connectivity), so connectivity can be compared with any other RDM over regions.
    ``mt-eta``
        Event-triggered averages of the MT series: one row per kind of event (ids ``event-1`` ...
        ``event-6``), one feature per volume from the onset on (``len_et`` volumes, TR 2 s;
        ``channel_descriptors["time_s"]``); events whose window runs past the end are left out, as
        nitime's ``EventRelatedAnalyzer`` does.

    The values are as in the file: ``WM``, ``Vent`` and ``Brain`` are raw signal (about 10,000), while
    the 28 grey-matter ROI series are already mean-centred (|mean| < 0.1, SD 2-8), so nitime's
    example's percent change (dividing by the mean) is not meaningful for them; ``standardize``
    z-scores every ROI over time instead. Also :meth:`event_related` (the MT series and events as a
    table) and :meth:`run_path` (the two 4D NIfTI runs).

    Parameters
    ----------
    standardize : bool, default=False
        z-score each ROI's series over the 250 volumes (``roi-timeseries`` and ``roi-profiles``).
    len_et : int, default=15
        Volumes per event-triggered window (nitime's example: 15).
    data_dir : str, optional
        A folder holding copies of the files; the only place looked in when given.
    verify : bool, default=True
        Check each file's sha256 against the card on first use.
    """

    id = "dataset.nitime-fmri"
    version = "1.0.0"
    citation = _NITIME_CITATION
    description = "nitime's fMRI example data: 250 x 31 ROI time series, an event-related MT series, two 4D runs"
    CARD_ID = "nitime-fmri"
    SITES: ClassVar[tuple[str, ...]] = ("roi-timeseries", "roi-profiles", "mt-eta")

    def __init__(self, standardize: bool = False, len_et: int = 15, data_dir: str | None = None,
                 verify: bool = True):
        self.standardize = standardize
        self.len_et = len_et
        self.data_dir = data_dir
        self.verify = verify

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(self.SITES)

    def roi_timeseries(self) -> tuple[np.ndarray, list[str]]:
        """``(data of shape (250, 31), ROI names)`` from ``fmri_timeseries.csv``."""
        p = self.path("fmri_timeseries.csv")
        lines = p.read_text().splitlines()
        names = [c.strip().strip('"') for c in lines[0].split(",")]
        try:
            data = np.array([[float(v) for v in line.split(",")] for line in lines[1:] if line.strip()])
        except ValueError as exc:
            raise InvalidInputError(f"Dataset {self.id!r}: {p} holds a non-numeric value ({exc}).") from exc
        if data.ndim != 2 or data.shape[1] != len(names):
            raise InvalidInputError(f"Dataset {self.id!r}: {p} has {len(names)} ROI names but rows of "
                                    f"{data.shape[1] if data.ndim == 2 else '?'} values.")
        if self.standardize:
            data = (data - data.mean(axis=0)) / data.std(axis=0)
        return data, names

    def event_related(self):
        """The MT series: a pandas DataFrame with ``volume``, ``time`` (s), ``bold`` and ``event`` (0-6)."""
        import pandas as pd

        p = self.path("event_related_fmri.csv")
        df = pd.read_csv(p)
        if list(df.columns) != ["bold", "events"]:
            raise InvalidInputError(f"Dataset {self.id!r}: {p} has columns {list(df.columns)}, expected "
                                    "['bold', 'events'].")
        return pd.DataFrame({"volume": np.arange(len(df)), "time": np.arange(len(df)) * EVENT_TR,
                             "bold": df["bold"].to_numpy(float), "event": df["events"].to_numpy().astype(np.int64)})

    def run_path(self, run: int) -> Path:
        """The 4D NIfTI run ``run`` (1 or 2): 10 x 10 x 18 voxels x 40 volumes, TR 1.35 s."""
        if run not in (1, 2):
            raise InvalidInputError(f"Dataset {self.id!r}: run must be 1 or 2, got {run!r}.")
        return self.path(f"fmri{run}.nii.gz")

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in self.SITES:
            raise InvalidInputError(f"Dataset {self.id!r}: unknown site {site!r}; expected one of {list(self.SITES)}.")
        space = {"kind": "brain", "modality": "fMRI", "dataset": self.id, "site": site}
        if site == "mt-eta":
            n = self.len_et
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise InvalidInputError(f"Dataset {self.id!r}: len_et must be a positive number of volumes, got {n!r}.")
            df = self.event_related()
            bold, ev = df["bold"].to_numpy(), df["event"].to_numpy()
            kinds = np.unique(ev[ev != 0])
            rows, counts = [], []
            for k in kinds:
                onsets = np.flatnonzero(ev == k)
                onsets = onsets[onsets + n <= bold.size]
                rows.append(bold[onsets[:, None] + np.arange(n)[None, :]].mean(axis=0))
                counts.append(onsets.size)
            return Representation(data=np.array(rows), stimulus_ids=tuple(f"event-{int(k)}" for k in kinds),
                                  space={**space, "roi": "MT", "tr_s": EVENT_TR, "n_events": [int(c) for c in counts],
                                         "features": "event-triggered average BOLD (% signal change)"},
                                  channel_descriptors={"time_s": np.arange(n) * EVENT_TR}, name=f"{self.id}:{site}")
        data, names = self.roi_timeseries()
        space = {**space, "tr_s": ROI_TR, "standardize": bool(self.standardize)}
        if site == "roi-timeseries":
            return Representation(data=data, stimulus_ids=tuple(f"vol-{i:03d}" for i in range(data.shape[0])),
                                  space={**space, "features": "ROIs"}, channel_descriptors={"roi": np.array(names)},
                                  name=f"{self.id}:{site}")
        return Representation(data=np.ascontiguousarray(data.T), stimulus_ids=tuple(names),
                              space={**space, "features": "volumes"},
                              channel_descriptors={"time_s": np.arange(data.shape[0]) * ROI_TR},
                              name=f"{self.id}:{site}")
