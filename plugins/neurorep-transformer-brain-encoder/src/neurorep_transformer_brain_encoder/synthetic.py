"""Synthetic spatial token maps with a planted feature and voxels that read it out (the paper's check)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from neurorep.components import Source, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, StimulusSet


def planted_tokens(n_stimuli: int = 240, grid: tuple[int, int] = (6, 6), n_channels: int = 16, n_voxels: int = 12,
                   mode: Literal["routing", "fixed"] = "routing", location: tuple[int, int] = (1, 4),
                   marker: float = 5.0, noise: float = 0.3, random_state: int = 0):
    """Random (C, h, w) token maps; channel 0 carries a marker at one position per stimulus.

    Each voxel reads out the other channels of the token at the marked position,
    ``y_v = beta_v . x[1:, pos_n] + noise``. ``mode="routing"``: the marked position is drawn per
    stimulus (the voxels respond to the content wherever it appears); ``mode="fixed"``: it is
    always ``location`` (a static receptive field). Returns (x, y, truth) with ``x``
    (stimuli x (C*h*w), channel-major "chw"), ``y`` (stimuli x voxels, channel descriptor
    ``roi``) and ``truth`` = {"position": token index per stimulus, "beta": readout weights}.
    """
    rng = np.random.default_rng([random_state, 81])
    h, w = grid
    nt = h * w
    maps = rng.standard_normal((n_stimuli, n_channels, nt))
    if mode == "routing":
        pos = rng.integers(0, nt, n_stimuli)
    else:
        pos = np.full(n_stimuli, location[0] * w + location[1])
    maps[np.arange(n_stimuli), 0, pos] = marker
    content = maps[np.arange(n_stimuli), 1:, pos]              # (n, C-1)
    beta = rng.standard_normal((n_channels - 1, n_voxels)) / np.sqrt(n_channels - 1)
    signal = content @ beta
    y = signal + noise * signal.std(0) * rng.standard_normal(signal.shape)
    ids = tuple(f"img-{i:04d}" for i in range(n_stimuli))
    x = Representation(maps.reshape(n_stimuli, -1), ids, space={"kind": "model", "site": "spatial-tokens"},
                       name=f"planted-tokens-{mode}")
    yr = Representation(y, ids, space={"kind": "brain", "site": "synthetic-voxels"}, name=f"planted-voxels-{mode}",
                        channel_descriptors={"roi": np.array(["roi-A"] * n_voxels)})
    return x, yr, {"position": pos.astype(int), "beta": beta}


class PlantedTokensSource(Source):
    """SYNTHETIC spatial model tokens and voxels that read out a planted feature (see :func:`planted_tokens`).

    Two sites: ``tokens`` (stimuli x (C*h*w), channel-major, for ``grid = [h, w]``) and ``voxels``
    (stimuli x voxels). ``mode="routing"``: the voxels read the content of whichever token
    carries the marker (its position is drawn per stimulus); ``mode="fixed"``: always the token
    at ``location``. Use it to try the transformer encoder in a recipe; nothing here is measured.

    Parameters
    ----------
    n_stimuli : int, default=240
    grid : list of int, default=[6, 6]
        ``[h, w]`` of the token maps.
    n_channels : int, default=16
    n_voxels : int, default=12
    mode : {"routing", "fixed"}, default="routing"
    location : list of int, default=[1, 4]
        ``[row, col]`` of the fixed-location voxels' token.
    noise : float, default=0.3
        Noise standard deviation relative to each voxel's signal.
    batch_size : int, default=64
        Stimuli per batch when streaming into the representation store.
    random_state : int, default=0
    """

    id = "synthetic.planted-tokens"
    version = "0.1.0"
    citation = None  # synthetic data
    tags = Tags(stochastic=True)

    def __init__(self, n_stimuli: int = 240, grid: list[int] = [6, 6], n_channels: int = 16,  # noqa: B006
                 n_voxels: int = 12, mode: Literal["routing", "fixed"] = "routing",
                 location: list[int] = [1, 4], noise: float = 0.3, batch_size: int = 64,  # noqa: B006
                 random_state: int = 0):
        self.n_stimuli = n_stimuli
        self.grid = grid
        self.n_channels = n_channels
        self.n_voxels = n_voxels
        self.mode = mode
        self.location = location
        self.noise = noise
        self.batch_size = batch_size
        self.random_state = random_state

    def _data(self):
        owner = f"Source {self.id!r}"
        if self.mode not in ("routing", "fixed"):
            raise InvalidInputError(f"{owner}: 'mode' must be 'routing' or 'fixed', got {self.mode!r}.")
        if len(self.grid) != 2 or len(self.location) != 2 or self.n_channels < 2 or self.n_stimuli < 1:
            raise InvalidInputError(f"{owner}: need grid=[h, w], location=[row, col], n_channels >= 2 and "
                                    f"n_stimuli >= 1; got grid={self.grid!r}, location={self.location!r}, "
                                    f"n_channels={self.n_channels!r}, n_stimuli={self.n_stimuli!r}.")
        return planted_tokens(int(self.n_stimuli), (int(self.grid[0]), int(self.grid[1])), int(self.n_channels),
                              int(self.n_voxels), self.mode, (int(self.location[0]), int(self.location[1])),
                              noise=float(self.noise), random_state=int(self.random_state))

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return ["tokens", "voxels"]

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return tuple(f"img-{i:04d}" for i in range(self.n_stimuli))

    def site_space(self, site: str) -> dict:
        return {"kind": "synthetic", "model": self.id, "site": site}

    def _check_site(self, site: str) -> int:
        if site not in self.sites():
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {self.sites()}.")
        return self.sites().index(site)

    def batches(self, stimuli: StimulusSet | None = None) -> list[slice]:
        if self.batch_size < 1:
            raise InvalidInputError(f"Source {self.id!r}: batch_size must be >= 1, got {self.batch_size}.")
        return [slice(s, min(s + self.batch_size, self.n_stimuli)) for s in range(0, self.n_stimuli, self.batch_size)]

    def extract_batch(self, stimuli: StimulusSet | None, batch: slice, sites: Sequence[str]) -> dict[str, np.ndarray]:
        reps = self._data()[:2]
        return {s: reps[self._check_site(s)].data[batch] for s in sites}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        rep = self._data()[self._check_site(site)]
        return Representation(rep.data, rep.stimulus_ids, space=self.site_space(site), name=f"{self.id}:{site}",
                              channel_descriptors=dict(rep.channel_descriptors))
