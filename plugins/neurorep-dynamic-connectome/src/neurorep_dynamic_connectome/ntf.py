"""Stage 2: non-negative CP (PARAFAC) tensor factorisation, own numpy implementation.

Minimises ``0.5 * ||T - [[A_1, ..., A_N]]||_F^2`` over non-negative factor matrices ``A_n`` (I_n x R) by
block-coordinate descent:

``solver="hals"``
    Hierarchical alternating least squares (Cichocki & Phan, 2009, IEICE Trans. Fundamentals E92-A(3)): each
    column of each factor is set to the exact minimiser of the loss with everything else fixed, projected
    on the non-negative orthant. Every column update solves its sub-problem exactly, so the loss never
    increases.
``solver="mu"``
    Multiplicative updates (Lee & Seung, 2001; Welling & Weber, 2001, Pattern Recognit. Lett. 22): ``A_n <-
    A_n * M_n / (A_n V_n)``; non-increasing by the auxiliary-function argument.

with ``M_n`` the MTTKRP (the mode-n unfolding times the Khatri-Rao product of the other factors) and
``V_n`` the Hadamard product of the other factors' Gram matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = ["CPResult", "nonnegative_cp", "cp_to_tensor", "khatri_rao", "unfold"]


def unfold(tensor: np.ndarray, mode: int) -> np.ndarray:
    """Mode-``mode`` unfolding (I_mode, prod of the other sizes), the other modes in order, the last fastest."""
    return np.moveaxis(tensor, mode, 0).reshape(tensor.shape[mode], -1)


def khatri_rao(matrices: list[np.ndarray]) -> np.ndarray:
    """Column-wise Kronecker product; the first matrix's row index varies slowest (matches :func:`unfold`)."""
    out = matrices[0]
    for m in matrices[1:]:
        out = (out[:, None, :] * m[None, :, :]).reshape(-1, out.shape[1])
    return out


def cp_to_tensor(factors: list[np.ndarray], weights: np.ndarray | None = None) -> np.ndarray:
    """The full tensor ``sum_r w_r a_1r o a_2r o ... o a_Nr``."""
    f0 = factors[0] if weights is None else factors[0] * weights[None, :]
    flat = f0 @ khatri_rao(list(factors[1:])).T
    return flat.reshape(tuple(f.shape[0] for f in factors))


@dataclass
class CPResult:
    """A fitted non-negative CP model.

    Attributes
    ----------
    factors : list of ndarray
        One (I_n, R) matrix per mode, columns of unit Euclidean norm.
    weights : ndarray of shape (R,)
        The component scales; components are sorted by decreasing weight.
    loss : list of float
        ``0.5 * ||T - model||_F^2`` after the initialisation and after every sweep (of the restart kept).
    n_iter : int
    relative_error : float
        ``||T - model||_F / ||T||_F`` at the end.
    """

    factors: list[np.ndarray]
    weights: np.ndarray
    loss: list[float] = field(default_factory=list)
    n_iter: int = 0
    relative_error: float = float("nan")

    def to_tensor(self) -> np.ndarray:
        return cp_to_tensor(self.factors, self.weights)


def _loss(tensor: np.ndarray, factors: list[np.ndarray]) -> float:
    r = tensor - cp_to_tensor(factors)
    return 0.5 * float(np.vdot(r, r))


def _gram_others(factors: list[np.ndarray], n: int) -> np.ndarray:
    v = np.ones((factors[0].shape[1],) * 2)
    for m, f in enumerate(factors):
        if m != n:
            v = v * (f.T @ f)
    return v


def _one_run(tensor: np.ndarray, rank: int, solver: str, max_iter: int, tol: float,
             rng: np.random.Generator) -> tuple[list[np.ndarray], list[float], int]:
    norm = float(np.linalg.norm(tensor))
    factors = [rng.uniform(0.0, 1.0, size=(s, rank)) for s in tensor.shape]
    model_norm = float(np.linalg.norm(cp_to_tensor(factors)))
    if model_norm > 0 and norm > 0:
        c = (norm / model_norm) ** (1.0 / tensor.ndim)
        factors = [f * c for f in factors]
    unfolded = [unfold(tensor, n) for n in range(tensor.ndim)]
    sq_norm = norm * norm
    losses = [_loss(tensor, factors)]
    it = 0
    for it in range(1, max_iter + 1):
        for n in range(tensor.ndim):
            kr = khatri_rao([f for m, f in enumerate(factors) if m != n])
            M = unfolded[n] @ kr
            V = _gram_others(factors, n)
            A = factors[n]
            if solver == "hals":
                for r in range(rank):
                    if V[r, r] <= 0.0:
                        continue  # a dead component: the loss does not depend on this column
                    A[:, r] = np.maximum(0.0, A[:, r] + (M[:, r] - A @ V[:, r]) / V[r, r])
            else:
                AV = A @ V
                A *= np.divide(M, AV, out=np.zeros_like(M), where=AV > 0)
        # loss from the last mode's quantities (exact, no reconstruction): <T, model> = sum(M * A_N) and
        # ||model||^2 = sum(V_N * A_N^T A_N)
        inner = float(np.vdot(M, A))
        model_sq = float(np.sum(V * (A.T @ A)))
        cur_loss = max(0.5 * (sq_norm - 2.0 * inner + model_sq), 0.0)
        # rescale the columns to equal norms across modes (the model, hence the loss, is unchanged)
        norms = np.stack([np.linalg.norm(f, axis=0) for f in factors])
        alive = np.all(norms > 0, axis=0)
        geo = np.where(alive, np.exp(np.log(np.where(norms > 0, norms, 1.0)).mean(axis=0)), 0.0)
        for n, f in enumerate(factors):
            f[:, alive] *= geo[alive] / norms[n, alive]
        losses.append(cur_loss)
        prev, cur = losses[-2], losses[-1]
        if cur <= 1e-14 * max(norm * norm, 1e-300) or (prev - cur) <= tol * prev:
            break
    return factors, losses, it


def nonnegative_cp(tensor: np.ndarray, rank: int, *, solver: str = "hals", max_iter: int = 500, tol: float = 1e-7,
                   n_init: int = 1, random_state: int | np.random.Generator | None = None) -> CPResult:
    """Non-negative CP decomposition of ``tensor`` (any order >= 2).

    Parameters
    ----------
    tensor : ndarray, non-negative, finite
    rank : int
        Number of components ``R``.
    solver : {"hals", "mu"}, default="hals"
    max_iter : int, default=500
        Sweeps over all modes.
    tol : float, default=1e-7
        Stop when a sweep lowers the loss by less than ``tol`` times its previous value.
    n_init : int, default=1
        Random restarts; the one with the lowest final loss is kept.
    random_state : int, Generator or None

    Returns
    -------
    CPResult
    """
    T = np.asarray(tensor, dtype=float)
    if T.ndim < 2:
        raise InvalidInputError(f"nonnegative_cp: expected a tensor with at least 2 modes, got shape {T.shape}.")
    if not np.all(np.isfinite(T)):
        raise InvalidInputError("nonnegative_cp: the tensor holds NaN/inf values; remove them first.")
    if T.size and T.min() < 0:
        raise InvalidInputError(f"nonnegative_cp: the tensor must be non-negative; its minimum is {T.min():.3g}. "
                                "Use a non-negative affinity (e.g. rectified) or shift the data.")
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1:
        raise InvalidInputError(f"nonnegative_cp: rank must be a positive int, got {rank!r}.")
    if solver not in ("hals", "mu"):
        raise InvalidInputError(f"nonnegative_cp: 'solver' must be one of ['hals', 'mu']; {solver!r} was provided.")
    if int(n_init) < 1 or int(max_iter) < 1:
        raise InvalidInputError(f"nonnegative_cp: n_init and max_iter must be >= 1, got {n_init!r}, {max_iter!r}.")
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    best: tuple[list[np.ndarray], list[float], int] | None = None
    for _ in range(int(n_init)):
        run = _one_run(T, int(rank), solver, int(max_iter), float(tol), rng)
        if best is None or run[1][-1] < best[1][-1]:
            best = run
    assert best is not None
    factors, losses, n_iter = best
    norms = np.stack([np.linalg.norm(f, axis=0) for f in factors])
    weights = np.prod(norms, axis=0)
    unit = [np.divide(f, norms[n], out=np.zeros_like(f), where=norms[n] > 0) for n, f in enumerate(factors)]
    order = np.argsort(-weights, kind="stable")
    unit = [f[:, order] for f in unit]
    weights = weights[order]
    tn = float(np.linalg.norm(T))
    rel = float(np.linalg.norm(T - cp_to_tensor(unit, weights)) / tn) if tn > 0 else 0.0
    return CPResult(factors=unit, weights=weights, loss=[float(v) for v in losses], n_iter=int(n_iter),
                    relative_error=rel)
