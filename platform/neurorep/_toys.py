"""Toy components for testing the runner: slow, failing and instrumented. Not registered by default.

They exist to exercise resumption, failure handling and distributed execution; the
numbers they produce are seeded noise. Register them explicitly when needed, e.g.
``PluginSystem(extra_plugins=[("neurorep-toys", "neurorep._toys")])``, or through an
entry point ``toys = neurorep._toys`` of a throwaway distribution (the tests do this).
Tasks refer to components by ``component_ref``, so worker processes import these
classes directly, without the registry.

Instrumentation: components that take ``marker_dir`` write one empty file per unit of
work they perform (a streamed batch, an analysis started or finished), named
``<what>-<detail>.<pid>.<nanoseconds>``, so a test can count recomputation across
processes and kills.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from . import hookimpl
from .builtin.similarity import LinearCKA
from .components import Analyzer, Dataset, Generator, Source, Tags, Transform
from .errors import InvalidInputError
from .types import RDMs, Representation, Result, StimulusSet

__all__ = ["SlowSource", "StaticSource", "ToyStimuli", "NoiseStimuli", "FailOnSite", "SlowCKA", "MeanNorm",
           "Scale", "write_marker", "count_markers"]


def write_marker(marker_dir: str | None, what: str) -> None:
    """Create an empty, uniquely named marker file ``<what>.<pid>.<ns>`` in ``marker_dir`` (if given)."""
    if not marker_dir:
        return
    d = Path(marker_dir)
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{what}.{os.getpid()}.{time.time_ns()}").touch(exist_ok=False)


def count_markers(marker_dir: str | os.PathLike[str], prefix: str) -> dict[str, int]:
    """``{what: number of marker files}`` for markers whose ``what`` starts with ``prefix``."""
    out: dict[str, int] = {}
    d = Path(marker_dir)
    if not d.is_dir():
        return out
    for p in d.iterdir():
        what = p.name.split(".")[0]
        if what.startswith(prefix):
            out[what] = out.get(what, 0) + 1
    return out


def _armed(flag: str | None) -> bool:
    return flag is None or Path(flag).exists()


def _seeded(seed: Sequence[int], shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(list(seed)).standard_normal(shape)


# --------------------------------------------------------------------------- sources

class SlowSource(Source):
    """A streaming source that sleeps ``delay_s`` per batch and leaves a marker per computed batch.

    Without stimuli, site ``k`` is ``tanh(Z W_k) + noise`` for a seeded latent ``Z``; with
    stimuli whose payload is a numeric array, ``Z`` is the flattened payload.

    Parameters
    ----------
    n_stimuli : int, default=24
        Used when no stimuli are given.
    n_sites : int, default=2
    n_features : int, default=8
    batch_size : int, default=4
    delay_s : float, default=0.0
        Seconds slept per batch.
    marker_dir : str or None, default=None
        Folder receiving ``batch-<index>`` markers.
    fail_at_batch : int, default=-1
        Raise ``RuntimeError`` when this batch is extracted (-1: never)...
    fail_if_exists : str or None, default=None
        ...but only while this file exists (None: always). Lets a test fail a run, then
        "fix" the problem without changing the parameters (and the task key).
    random_state : int, default=0
    """

    id = "toy.slow-source"
    version = "1.0.0"
    tags = Tags(stochastic=True)

    def __init__(self, n_stimuli: int = 24, n_sites: int = 2, n_features: int = 8, batch_size: int = 4,
                 delay_s: float = 0.0, marker_dir: str | None = None, fail_at_batch: int = -1,
                 fail_if_exists: str | None = None, random_state: int = 0):
        self.n_stimuli = n_stimuli
        self.n_sites = n_sites
        self.n_features = n_features
        self.batch_size = batch_size
        self.delay_s = delay_s
        self.marker_dir = marker_dir
        self.fail_at_batch = fail_at_batch
        self.fail_if_exists = fail_if_exists
        self.random_state = random_state

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return [f"site{k}" for k in range(self.n_sites)]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        if stimuli is not None:
            return stimuli.ids
        return tuple(f"s{i:03d}" for i in range(self.n_stimuli))

    def site_space(self, site: str) -> dict:
        return {"kind": "toy", "model": self.id, "site": site}

    def _latent(self, stimuli: StimulusSet | None) -> np.ndarray:
        if stimuli is not None and isinstance(stimuli.payload, np.ndarray) and stimuli.payload.dtype.kind in "fiub":
            return np.asarray(stimuli.payload, dtype=float).reshape(len(stimuli), -1)
        n = len(stimuli) if stimuli is not None else self.n_stimuli
        return _seeded([self.random_state, 0], (n, 3))

    def _matrix(self, site: str, stimuli: StimulusSet | None) -> np.ndarray:
        k = self.sites().index(site)
        z = self._latent(stimuli)
        w = _seeded([self.random_state, 1, k], (z.shape[1], self.n_features))
        eps = _seeded([self.random_state, 2, k], (z.shape[0], self.n_features))
        return np.tanh(z @ w / np.sqrt(z.shape[1])) + 0.3 * eps

    def batches(self, stimuli: StimulusSet | None = None) -> list[slice]:
        n = len(self.stimulus_ids(stimuli))
        return [slice(s, min(s + self.batch_size, n)) for s in range(0, n, self.batch_size)]

    def extract_batch(self, stimuli, batch: slice, sites: Sequence[str]) -> dict[str, np.ndarray]:
        index = batch.start // self.batch_size
        if index == self.fail_at_batch and _armed(self.fail_if_exists):
            raise RuntimeError(f"Source {self.id!r}: planted failure at batch {index}.")
        if self.delay_s:
            time.sleep(self.delay_s)
        out = {s: self._matrix(s, stimuli)[batch] for s in sites}
        write_marker(self.marker_dir, f"batch-{index:04d}")
        return out

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        return Representation(self._matrix(site, stimuli), self.stimulus_ids(stimuli), space=self.site_space(site),
                              name=f"{self.id}:{site}")


class StaticSource(Source):
    """A source without batches: whole sites from ``load()``, as Representations (with repeats) or RDMs.

    Parameters
    ----------
    n_stimuli : int, default=12
    n_sites : int, default=2
    n_features : int, default=6
    n_repeats : int, default=0
        When > 0, each site carries ``repeats`` of shape (n_repeats, n_stimuli, n_features)
        and ``data`` is their mean.
    output : {"representation", "rdms"}, default="representation"
        ``"rdms"``: each site is ``n_rdms`` correlation-distance RDMs (brain data that is RDM-only).
    n_rdms : int, default=3
    reverse_ids : bool, default=False
        List the stimulus ids in reverse order (to exercise alignment).
    random_state : int, default=0
    """

    id = "toy.static-source"
    version = "1.0.0"

    def __init__(self, n_stimuli: int = 12, n_sites: int = 2, n_features: int = 6, n_repeats: int = 0,
                 output: Literal["representation", "rdms"] = "representation", n_rdms: int = 3,
                 reverse_ids: bool = False, random_state: int = 0):
        self.n_stimuli = n_stimuli
        self.n_sites = n_sites
        self.n_features = n_features
        self.n_repeats = n_repeats
        self.output = output
        self.n_rdms = n_rdms
        self.reverse_ids = reverse_ids
        self.random_state = random_state

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return [f"roi{k}" for k in range(self.n_sites)]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return tuple(f"s{i:03d}" for i in range(self.n_stimuli))

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation | RDMs:
        k = self.sites().index(site)
        ids = list(self.stimulus_ids())
        order = np.arange(self.n_stimuli)[::-1] if self.reverse_ids else np.arange(self.n_stimuli)
        if self.output == "rdms":
            mats = []
            for r in range(self.n_rdms):
                x = _seeded([self.random_state, 3, k, r], (self.n_stimuli, self.n_features))
                x = x - x.mean(1, keepdims=True)
                x = x / np.linalg.norm(x, axis=1, keepdims=True)
                mats.append(1.0 - x @ x.T)
            m = np.stack(mats)[:, order][:, :, order]
            m = (m + m.transpose(0, 2, 1)) / 2
            for r in range(self.n_rdms):
                np.fill_diagonal(m[r], 0.0)
            return RDMs.from_matrices(m, [ids[i] for i in order], dissimilarity_measure="correlation",
                                      rdm_descriptors={"subject": [f"sub-{r:02d}" for r in range(self.n_rdms)]},
                                      space={"kind": "toy-brain", "roi": site}, name=f"{self.id}:{site}")
        if self.n_repeats > 0:
            rep = _seeded([self.random_state, 4, k], (self.n_repeats, self.n_stimuli, self.n_features))
            data = rep.mean(0)
        else:
            rep = None
            data = _seeded([self.random_state, 4, k], (self.n_stimuli, self.n_features))
        chans = {"unit": np.arange(self.n_features), "label": np.array([f"u{i}" for i in range(self.n_features)])}
        return Representation(data[order], tuple(ids[i] for i in order),
                              repeats=None if rep is None else rep[:, order], space={"kind": "toy-brain", "roi": site},
                              channel_descriptors=chans, name=f"{self.id}:{site}")


# --------------------------------------------------------------------------- stimuli

class ToyStimuli(Dataset):
    """A dataset holding only stimuli: ``n`` seeded 'images' of shape (4, 4) with category labels.

    Parameters
    ----------
    n : int, default=16
    random_state : int, default=0
    """

    id = "toy.stimuli"
    version = "1.0.0"

    def __init__(self, n: int = 16, random_state: int = 0):
        self.n = n
        self.random_state = random_state

    def load_stimuli(self) -> StimulusSet:
        pay = _seeded([self.random_state, 5], (self.n, 4, 4))
        return StimulusSet(tuple(f"img{i:03d}" for i in range(self.n)), modality="image", payload=pay,
                           descriptors={"category": np.arange(self.n) % 2}, name="toy-stimuli")


class NoiseStimuli(Generator):
    """Generates ``n`` Gaussian-noise 'images' of shape (3, 3), reproducible for a given ``random_state``.

    Parameters
    ----------
    scale : float, default=1.0
    """

    id = "toy.noise-stimuli"
    version = "1.0.0"

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def generate(self, n: int, target=None, random_state: int | None = None) -> StimulusSet:
        pay = self.scale * _seeded([0 if random_state is None else random_state, 6], (n, 3, 3))
        return StimulusSet(tuple(f"gen{i:03d}" for i in range(n)), modality="image", payload=pay, name="noise")


# --------------------------------------------------------------------------- analyzers

def _site_of(x) -> str | None:
    space = getattr(x, "space", None) or {}
    return space.get("site") or space.get("roi")


class FailOnSite(Analyzer):
    """Linear CKA, except that it raises on a chosen site (a planted failure).

    Parameters
    ----------
    fail_site : str, default=""
        Site name (``space["site"]`` or ``space["roi"]`` of either input) on which to raise.
    fail_if_exists : str or None, default=None
        Raise only while this file exists (None: always).
    """

    id = "toy.fail-on-site"
    version = "1.0.0"
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0)

    def __init__(self, fail_site: str = "", fail_if_exists: str | None = None):
        self.fail_site = fail_site
        self.fail_if_exists = fail_if_exists

    def analyze(self, x, y=None):
        for v in (x, y):
            if v is not None and self.fail_site and _site_of(v) == self.fail_site and _armed(self.fail_if_exists):
                raise RuntimeError(f"Analyzer {self.id!r}: planted failure on site {self.fail_site!r}.")
        return LinearCKA().analyze(x, y)


class SlowCKA(Analyzer):
    """Linear CKA that sleeps ``delay_s`` first and leaves ``start-`` and ``done-`` markers.

    Parameters
    ----------
    delay_s : float, default=0.0
    marker_dir : str or None, default=None
    """

    id = "toy.slow-cka"
    version = "1.0.0"
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0)

    def __init__(self, delay_s: float = 0.0, marker_dir: str | None = None):
        self.delay_s = delay_s
        self.marker_dir = marker_dir

    def analyze(self, x, y=None):
        what = f"{_site_of(x)}-{_site_of(y)}"
        write_marker(self.marker_dir, f"start-{what}")
        if self.delay_s:
            time.sleep(self.delay_s)
        rows = LinearCKA().analyze(x, y)
        write_marker(self.marker_dir, f"done-{what}")
        return rows


class MeanNorm(Analyzer):
    """One input: the mean Euclidean norm of the stimulus patterns (a one-input analyzer)."""

    id = "toy.mean-norm"
    version = "1.0.0"
    n_inputs = 1

    def analyze(self, x, y=None):
        if not isinstance(x, Representation):
            raise InvalidInputError(f"Analyzer {self.id!r}: expected a Representation, got {type(x).__name__}.")
        norms = np.linalg.norm(x.data, axis=1)
        return [Result(score=float(norms.mean()), metric="mean_norm", n=x.n_stimuli,
                       extra={"max": float(norms.max())}),
                Result(score=float(norms.min()), metric="min_norm", n=x.n_stimuli)]


# --------------------------------------------------------------------------- transforms

class Scale(Transform):
    """Multiply a representation's data (or RDMs' dissimilarities) by ``factor``.

    Parameters
    ----------
    factor : float, default=2.0
    """

    id = "toy.scale"
    version = "1.0.0"
    tags = Tags(input_type="any")

    def __init__(self, factor: float = 2.0):
        self.factor = factor

    def transform(self, x):
        import dataclasses

        if isinstance(x, RDMs):
            return dataclasses.replace(x, dissimilarities=x.dissimilarities * self.factor)
        return dataclasses.replace(x, data=x.data * self.factor,
                                   repeats=None if x.repeats is None else x.repeats * self.factor)


# --------------------------------------------------------------------------- registration

@hookimpl
def register_sources(register):
    register(SlowSource)
    register(StaticSource)


@hookimpl
def register_datasets(register):
    register(ToyStimuli)


@hookimpl
def register_generators(register):
    register(NoiseStimuli)


@hookimpl
def register_analyzers(register):
    register(FailOnSite)
    register(SlowCKA)
    register(MeanNorm)


@hookimpl
def register_transforms(register):
    register(Scale)
