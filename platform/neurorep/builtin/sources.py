"""Built-in sources: a seeded synthetic source with planted shared structure, and arrays from .npz files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..components import Source, Tags
from ..errors import InvalidInputError
from ..types import Representation, StimulusSet

from .. import hookimpl


class SyntheticSource(Source):
    """Seeded responses of ``n_sites`` sites driven by a shared latent stimulus structure.

    Every site is ``tanh(Z @ W_site) + noise``, with ``Z`` of shape (n_stimuli, n_latent)
    shared by all sites: sites are related, but not identical, so similarity analyses
    have something to find. Use it to try recipes and in tests; it is synthetic and is
    labelled so in provenance.

    Parameters
    ----------
    n_stimuli : int, default=40
    n_sites : int, default=3
    n_features : int, default=32
    n_latent : int, default=4
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to each site.
    batch_size : int, default=16
        Stimuli per batch when streaming into the representation store.
    random_state : int, default=0
    """

    id = "source.synthetic"
    version = "1.0.0"
    citation = None  # synthetic data: no publication to cite
    tags = Tags(stochastic=True)

    def __init__(self, n_stimuli: int = 40, n_sites: int = 3, n_features: int = 32, n_latent: int = 4,
                 noise: float = 0.1, batch_size: int = 16, random_state: int = 0):
        self.n_stimuli = n_stimuli
        self.n_sites = n_sites
        self.n_features = n_features
        self.n_latent = n_latent
        self.noise = noise
        self.batch_size = batch_size
        self.random_state = random_state

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return [f"layer{k}" for k in range(self.n_sites)]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return tuple(f"stim-{i:04d}" for i in range(self.n_stimuli))

    def site_space(self, site: str) -> dict:
        return {"kind": "synthetic", "model": self.id, "site": site}

    def _site_index(self, site: str) -> int:
        names = self.sites()
        if site not in names:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {names}.")
        return names.index(site)

    def _site_matrix(self, site: str) -> np.ndarray:
        k = self._site_index(site)
        z = np.random.default_rng([self.random_state, 0]).standard_normal((self.n_stimuli, self.n_latent))
        w = np.random.default_rng([self.random_state, 1, k]).standard_normal((self.n_latent, self.n_features))
        eps = np.random.default_rng([self.random_state, 2, k]).standard_normal((self.n_stimuli, self.n_features))
        return np.tanh(z @ w / np.sqrt(self.n_latent)) + self.noise * eps

    def batches(self, stimuli: StimulusSet | None = None) -> list[slice]:
        if self.batch_size < 1:
            raise InvalidInputError(f"Source {self.id!r}: batch_size must be >= 1, got {self.batch_size}.")
        return [slice(s, min(s + self.batch_size, self.n_stimuli)) for s in range(0, self.n_stimuli, self.batch_size)]

    def extract_batch(self, stimuli: StimulusSet | None, batch: slice, sites: Sequence[str]) -> dict[str, np.ndarray]:
        return {s: self._site_matrix(s)[batch] for s in sites}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        return Representation(self._site_matrix(site), self.stimulus_ids(), space=self.site_space(site),
                              name=f"{self.id}:{site}")


class NpzSource(Source):
    """Bring your own arrays: each array in an ``.npz`` file is a site.

    The file holds one ``(n_stimuli, n_features)`` array per site and a ``stimulus_ids``
    array of strings (the rows' ids). An array named ``<site>__repeats`` of shape
    ``(n_repeats, n_stimuli, n_features)`` is attached as that site's repeats.

    Parameters
    ----------
    path : str
        Path to the ``.npz`` file.
    """

    id = "source.npz"
    version = "1.0.0"
    citation = None  # the user's own arrays: no publication to cite

    def __init__(self, path: str):
        self.path = path

    @classmethod
    def _conformance_instances(cls) -> list[NpzSource]:
        """Instances for :mod:`neurorep.testing`: a small seeded file in a temporary folder removed at exit."""
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="neurorep-npz-")
        atexit.register(shutil.rmtree, folder, True)
        rng = np.random.default_rng(0)
        repeats = rng.standard_normal((3, 12, 5))
        path = Path(folder) / "toy.npz"
        np.savez(path, stimulus_ids=np.array([f"img-{i:02d}" for i in range(12)]),
                 roi_a=rng.standard_normal((12, 8)), roi_b=repeats.mean(0), roi_b__repeats=repeats)
        return [cls(str(path))]

    def _open(self):
        p = Path(self.path)
        if not p.is_file():
            raise InvalidInputError(f"Source {self.id!r}: expected an .npz file at {str(p)!r}, found none. "
                                    "Write one with numpy.savez(path, stimulus_ids=ids, site_a=array, ...).")
        f = np.load(p, allow_pickle=False)
        if "stimulus_ids" not in f.files:
            raise InvalidInputError(f"Source {self.id!r}: {str(p)!r} has no 'stimulus_ids' array; it has "
                                    f"{sorted(f.files)}. Save the row ids as stimulus_ids=np.array([...]).")
        return f

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        with self._open() as f:
            return sorted(k for k in f.files if k != "stimulus_ids" and not k.endswith("__repeats"))

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        with self._open() as f:
            return tuple(str(s) for s in f["stimulus_ids"])

    def site_space(self, site: str) -> dict:
        return {"kind": "array", "path": str(self.path), "site": site}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        with self._open() as f:
            if site not in f.files:
                raise InvalidInputError(f"Source {self.id!r}: {self.path!r} has no array {site!r}; "
                                        f"sites are {self.sites()}.")
            rep = f[site + "__repeats"] if site + "__repeats" in f.files else None
            return Representation(f[site], tuple(str(s) for s in f["stimulus_ids"]), repeats=rep,
                                  space=self.site_space(site), name=f"{Path(self.path).stem}:{site}")


@hookimpl
def register_sources(register):
    register(SyntheticSource)
    register(NpzSource)
