"""The ``synthetic.occluded-ball`` source: planted neurons and three model families on occluded-ball scenes."""

from __future__ import annotations

import numpy as np
from neurorep import Representation, StimulusSet, Tags
from neurorep.components import Source
from neurorep.errors import InvalidInputError

from .core import CITATION
from .scenes import BallWorld, LatentRollout, PixelRollout, StaticEncoder, planted_neurons

__all__ = ["OccludedBallSource"]

SITES = ("neurons", "truth", "latent-rollout", "pixel-rollout", "static-encoder")


class OccludedBallSource(Source):
    """Seeded occluded-ball scenes: planted neural time series and the state trajectories of three model classes.

    A ball on a 2-D spring is visible for ``n_visible`` of ``n_time`` frames, then occluded;
    site ``"neurons"`` holds ``n_units`` noisy linear read-outs of its latent state
    (position, velocity) at every time step, with ``n_repeats`` repeats. The model sites are
    ``"truth"`` (the latent state itself), ``"latent-rollout"`` (state inferred from the
    visible frames and rolled out with dynamics learned on ``n_train`` training scenes),
    ``"pixel-rollout"`` (a ridge next-frame predictor rolled out in pixel space) and
    ``"static-encoder"`` (first-frame pixels at every step). All sites are time-major,
    ``(n_scenes, n_time * n_features)``, for ``predictivity.dynamic(n_time=n_time)``.
    Synthetic: a toy stand-in for the paper's Physion / Mental-Pong scenes and recordings.

    Parameters
    ----------
    n_scenes : int, default=96
    n_time : int, default=10
    n_visible : int, default=3
    size : int, default=12
        Frame side in pixels.
    n_units : int, default=20
    n_repeats : int, default=4
    noise : float, default=0.6
        Noise standard deviation per repeat, relative to the signal's.
    n_train : int, default=200
        Training scenes for the model families (disjoint from the test scenes).
    random_state : int, default=0
    """

    id = "synthetic.occluded-ball"
    version = "1.0.0"
    citation = CITATION
    description = "Occluded-ball scenes: planted neurons tracking latent dynamics, and three predictor families"
    tags = Tags(stochastic=True)

    def __init__(self, n_scenes: int = 96, n_time: int = 10, n_visible: int = 3, size: int = 12, n_units: int = 20,
                 n_repeats: int = 4, noise: float = 0.6, n_train: int = 200, random_state: int = 0):
        self.n_scenes = n_scenes
        self.n_time = n_time
        self.n_visible = n_visible
        self.size = size
        self.n_units = n_units
        self.n_repeats = n_repeats
        self.noise = noise
        self.n_train = n_train
        self.random_state = random_state

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(SITES)

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        return tuple(f"scene-{i:04d}" for i in range(self.n_scenes))

    def site_space(self, site: str) -> dict:
        kind = "brain" if site == "neurons" else "model"
        return {"kind": kind, "source": self.id, "site": site, "n_time": int(self.n_time)}

    def _check(self) -> None:
        o = f"Source {self.id!r}"
        if not 2 <= self.n_visible <= self.n_time:
            raise InvalidInputError(f"{o}: need 2 <= n_visible <= n_time (velocity needs two frames), got "
                                    f"n_visible={self.n_visible}, n_time={self.n_time}.")
        if self.n_repeats < 2:
            raise InvalidInputError(f"{o}: n_repeats must be >= 2 for a noise ceiling, got {self.n_repeats}.")
        if self.n_scenes < 2 or self.n_train < 2:
            raise InvalidInputError(f"{o}: n_scenes and n_train must be >= 2, got {self.n_scenes}, {self.n_train}.")

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        self._check()
        if site not in SITES:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {list(SITES)}.")
        seed = int(self.random_state)
        w = BallWorld(n_time=self.n_time, n_visible=self.n_visible, size=self.size)
        s, _, seen = w.sample(self.n_scenes, random_state=np.random.default_rng([seed, 2]).integers(2**31))
        ids = self.stimulus_ids()
        name = f"{self.id}:{site}"
        if site == "neurons":
            reps, _ = planted_neurons(s, self.n_units, self.n_repeats, self.noise,
                                      random_state=int(np.random.default_rng([seed, 3]).integers(2**31)))
            return Representation(reps.mean(0), ids, repeats=reps, space=self.site_space(site), name=name)
        if site == "truth":
            states = s
        elif site == "static-encoder":
            states = StaticEncoder().states(seen)
        else:
            s_tr, f_tr, _ = w.sample(self.n_train, random_state=np.random.default_rng([seed, 1]).integers(2**31))
            model = (LatentRollout(self.n_visible).fit(f_tr, s_tr) if site == "latent-rollout"
                     else PixelRollout(self.n_visible).fit(f_tr))
            states = model.states(seen)
        return Representation(states.reshape(self.n_scenes, -1), ids, space=self.site_space(site), name=name)
