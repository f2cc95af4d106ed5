"""A small occluded-ball world with planted neurons, and three families of future-prediction models.

The world (a stand-in for the paper's Physion / Mental-Pong scenes): a ball on a 2-D spring moves
for ``n_time`` steps; it is visible for the first ``n_visible`` frames and then passes behind an
occluder that covers the whole frame. Its latent state ``s_t = (p_x, p_y, v_x, v_y)`` follows linear
dynamics ``s_{t+1} = A s_t`` (semi-implicit Euler of a harmonic spring). Planted "neurons" are noisy
linear functions of ``s_t`` at every time step, visible or not: they keep simulating the occluded
ball, as the dorsomedial frontal neurons of Rajalingham et al. (2022) do in Mental Pong.

Model families (Nayebi et al., 2023, at toy scale):

* :class:`LatentRollout`: encodes the visible frames into the latent state (a linear read-out of
  position, learned; velocity from the last two positions) and rolls out a dynamics matrix learned
  by least squares on training trajectories.
* :class:`PixelRollout`: a next-frame predictor in pixel space (ridge from the last two frames to
  the next), rolled out through the occlusion; its states are the (predicted) frames.
* :class:`StaticEncoder`: features of the first frame only, the same at every time step.

All arrays are (n_scenes, n_time, ...) and seeded through ``random_state``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from neurorep.encoding import ridge_coef

__all__ = ["BallWorld", "LatentRollout", "PixelRollout", "StaticEncoder", "dynamics_matrix", "planted_neurons",
           "render"]


def dynamics_matrix(stiffness: float = 0.27) -> np.ndarray:
    """``A`` (4 x 4) of ``v' = v - k p``, ``p' = p + v'`` on ``s = (p_x, p_y, v_x, v_y)``."""
    eye = np.eye(2)
    return np.block([[eye - stiffness * eye, eye], [-stiffness * eye, eye]])


def render(positions: np.ndarray, size: int = 12, sigma: float = 1.2) -> np.ndarray:
    """Gaussian-blob frames of balls at ``positions`` (..., 2) in [-1, 1]^2: shape (..., size * size)."""
    grid = np.arange(size, dtype=float)
    c = (np.asarray(positions, dtype=float) + 1.0) / 2.0 * (size - 1)
    gx = np.exp(-0.5 * ((grid - c[..., :1]) / sigma) ** 2)     # (..., size) along x
    gy = np.exp(-0.5 * ((grid - c[..., 1:2]) / sigma) ** 2)
    return (gy[..., :, None] * gx[..., None, :]).reshape(*c.shape[:-1], size * size)


@dataclass
class BallWorld:
    """Scenes of a ball on a spring, occluded after ``n_visible`` frames.

    Parameters
    ----------
    n_time : int
        Time steps per scene.
    n_visible : int
        Frames before the occluder hides the ball (>= 2 so that velocity is observable).
    size : int
        Frame side in pixels.
    stiffness : float
        Spring constant of the dynamics.
    """

    n_time: int = 10
    n_visible: int = 3
    size: int = 12
    stiffness: float = 0.27

    def sample(self, n_scenes: int, random_state: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Latent trajectories (n, T, 4), clean frames (n, T, P) and occluded frames (n, T, P)."""
        rng = np.random.default_rng(random_state)
        A = dynamics_matrix(self.stiffness)
        s = np.empty((n_scenes, self.n_time, 4))
        s[:, 0, :2] = rng.uniform(-0.5, 0.5, (n_scenes, 2))
        s[:, 0, 2:] = rng.uniform(-0.25, 0.25, (n_scenes, 2))
        for t in range(1, self.n_time):
            s[:, t] = s[:, t - 1] @ A.T
        frames = render(s[..., :2], self.size)
        seen = frames.copy()
        seen[:, self.n_visible:] = 0.0
        return s, frames, seen


def planted_neurons(latents: np.ndarray, n_units: int, n_repeats: int, noise: float,
                    random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy linear read-outs of the latent state: repeats (k, n, T * U), time-major, and the clean signal (n, T*U).

    Every unit has one fixed weight vector on ``(p_x, p_y, v_x, v_y)`` plus a bias, at every time step.
    """
    rng = np.random.default_rng(random_state)
    n, T, d = latents.shape
    W = rng.standard_normal((d, n_units))
    b = rng.standard_normal(n_units)
    signal = (latents @ W + b).reshape(n, T * n_units)
    scale = signal.std()
    reps = signal[None] + noise * scale * rng.standard_normal((n_repeats, n, T * n_units))
    return reps, signal


class LatentRollout:
    """Future prediction in latent space: infer the state from the visible frames, roll out learned dynamics.

    Parameters
    ----------
    n_visible : int
        Frames that show the ball.
    alpha : float
        Ridge penalty of the pixel-to-position read-out.
    """

    def __init__(self, n_visible: int = 3, alpha: float = 1e-3):
        self.n_visible = n_visible
        self.alpha = alpha

    def fit(self, frames: np.ndarray, latents: np.ndarray) -> LatentRollout:
        """Learn the position read-out (frames -> positions) and ``A`` (least squares ``s_{t+1} = A s_t``)."""
        P = frames.shape[-1]
        self.readout_, self.intercept_ = ridge_coef(frames.reshape(-1, P), latents[..., :2].reshape(-1, 2),
                                                    self.alpha)
        now = latents[:, :-1].reshape(-1, 4)
        nxt = latents[:, 1:].reshape(-1, 4)
        self.A_ = np.linalg.lstsq(now, nxt, rcond=None)[0].T
        return self

    def states(self, frames: np.ndarray) -> np.ndarray:
        """Latent state trajectories (n, T, 4): inferred while visible, rolled out behind the occluder."""
        n, T, _ = frames.shape
        v = self.n_visible
        pos = frames[:, :v] @ self.readout_ + self.intercept_                      # (n, v, 2)
        s = np.empty((n, T, 4))
        s[:, 1:v, :2] = pos[:, 1:]
        s[:, 1:v, 2:] = pos[:, 1:] - pos[:, :-1]          # p_t = p_{t-1} + v_t in these dynamics
        s[:, 0] = np.linalg.solve(self.A_, s[:, 1].T).T  # one step back for the first frame
        for t in range(v, T):
            s[:, t] = s[:, t - 1] @ self.A_.T
        return s


class PixelRollout:
    """Future prediction in pixel space: ridge from the last two frames to the next, rolled out.

    Parameters
    ----------
    n_visible : int
        Frames that show the ball; later frames are predicted from earlier predictions.
    alpha : float
        Ridge penalty of the next-frame predictor.
    """

    def __init__(self, n_visible: int = 3, alpha: float = 1.0):
        self.n_visible = n_visible
        self.alpha = alpha

    def fit(self, frames: np.ndarray) -> PixelRollout:
        """Fit ``f_{t+1} = W [f_t, f_{t-1}] + b`` on unoccluded training videos."""
        P = frames.shape[-1]
        inp = np.concatenate([frames[:, 1:-1], frames[:, :-2]], axis=-1).reshape(-1, 2 * P)
        self.W_, self.b_ = ridge_coef(inp, frames[:, 2:].reshape(-1, P), self.alpha)
        return self

    def states(self, frames: np.ndarray) -> np.ndarray:
        """Frame trajectories (n, T, P): the visible frames, then the rolled-out predictions."""
        out = np.array(frames, dtype=float)
        for t in range(self.n_visible, out.shape[1]):
            out[:, t] = np.concatenate([out[:, t - 1], out[:, t - 2]], axis=-1) @ self.W_ + self.b_
        return out


class StaticEncoder:
    """A static image encoder: the first frame's pixels, repeated at every time step (no dynamics)."""

    def states(self, frames: np.ndarray) -> np.ndarray:
        """(n, T, P): ``frames[:, 0]`` at every time step."""
        return np.repeat(frames[:, :1], frames.shape[1], axis=1)
