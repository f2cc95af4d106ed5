"""The ``predictivity.dynamic`` analyzer: time-resolved, cross-validated, noise-ceiling-normalised predictivity."""

from __future__ import annotations

from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Tags, align
from neurorep.encoding import DEFAULT_ALPHAS, r2_per_target
from neurorep.encoding.ridge import check_alphas
from neurorep.errors import InvalidInputError

from .core import CITATION, corr_columns, split_half_reliability, time_resolved_predictions

__all__ = ["DynamicPredictivity"]


class DynamicPredictivity(Analyzer):
    """Neural predictivity of model state trajectories, per time bin, normalised by the noise ceiling.

    ``x`` holds a model's state trajectory for each dynamic scene and ``y`` the neural
    responses to the same scenes, both time-major: ``data.reshape(n_stimuli, n_time, -1)``
    gives (stimuli, time, features) and (stimuli, time, units). For every time bin, ridge
    regression maps the model state at that time onto the units at that time; stimuli are
    split into ``n_splits`` outer folds (the same for every bin) and one alpha per unit is
    chosen by an inner ``inner_cv``-fold CV within each training set, so every prediction is
    held out (Nayebi et al., 2023, use cross-validated linear mappings per time point).

    The noise ceiling is the split-half reliability of each unit over ``y.repeats``
    (random halves, averaged over ``n_half_splits`` splits), Spearman-Brown corrected to
    the full number of repeats. For ``metric="pearson"`` the ceiling of a unit is the square
    root of that reliability (the expected correlation of the noiseless signal with the
    repeat mean), for ``metric="r2"`` the reliability itself (the explainable fraction of
    variance). The score is ``mean(raw) / mean(ceiling)`` over all units and time bins, so a
    model that predicts the noiseless signal scores 1 in expectation. Confidence intervals
    come from a bootstrap over stimuli that resamples both the held-out predictions and the
    ceiling.

    Parameters
    ----------
    n_time : int, default=1
        Number of time bins; both inputs' feature counts must be multiples of it.
    metric : {"pearson", "r2"}, default="pearson"
        Per-unit held-out statistic.
    normalize : bool, default=True
        Divide by the noise ceiling (needs ``y.repeats``, at least 2). With ``False`` the
        score is the raw mean and the ceiling is reported in ``ceiling_upper`` when repeats exist.
    alphas : list of float, default=ten values 1e-2 ... 1e7
        Candidate ridge penalties.
    n_splits : int, default=4
        Outer cross-validation folds over stimuli.
    inner_cv : int, default=3
        Inner folds that choose alpha.
    n_half_splits : int, default=10
        Random split-halves averaged in the reliability.
    n_bootstrap : int, default=200
        Bootstrap samples over stimuli for ``ci_low``/``ci_high`` (0 to skip).
    ci : float, default=0.95
        Coverage of the percentile interval.
    random_state : int, default=0
        Seeds folds, split-halves and bootstrap.
    align : {"strict", "reorder", "intersection"}, default="reorder"
        How to match the inputs' stimulus ids (see :func:`neurorep.align`).

    Notes
    -----
    Stimuli are put in sorted-id order before the folds are drawn, so the score does not
    depend on the row order. ``extra`` reports per-time-bin ``score_per_time``, ``raw_per_time``
    and ``ceiling_per_time``, the overall ``raw`` and ``ceiling`` and the median chosen alpha.
    """

    id = "predictivity.dynamic"
    version = "1.0.0"
    citation = CITATION
    description = "Time-resolved cross-validated ridge predictivity of neural time series, noise-ceiling normalised"
    tags = Tags(symmetric=False, larger_is_more_similar=True, stochastic=True, input_type="representation")

    def __init__(self, n_time: int = 1, metric: Literal["pearson", "r2"] = "pearson", normalize: bool = True,
                 alphas: list[float] = list(DEFAULT_ALPHAS), n_splits: int = 4, inner_cv: int = 3,  # noqa: B006
                 n_half_splits: int = 10, n_bootstrap: int = 200, ci: float = 0.95, random_state: int = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.n_time = n_time
        self.metric = metric
        self.normalize = normalize
        self.alphas = alphas
        self.n_splits = n_splits
        self.inner_cv = inner_cv
        self.n_half_splits = n_half_splits
        self.n_bootstrap = n_bootstrap
        self.ci = ci
        self.random_state = random_state
        self.align = align

    def _owner(self) -> str:
        return f"Analyzer {self.id!r}"

    def _check_params(self) -> None:
        o = self._owner()
        if not isinstance(self.n_time, (int, np.integer)) or self.n_time < 1:
            raise InvalidInputError(f"{o}: 'n_time' must be a positive integer, got {self.n_time!r}.")
        if self.metric not in ("pearson", "r2"):
            raise InvalidInputError(f"{o}: 'metric' must be 'pearson' or 'r2', got {self.metric!r}.")
        for name in ("n_splits", "inner_cv"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 2:
                raise InvalidInputError(f"{o}: {name!r} must be an integer >= 2, got {v!r}.")
        if not isinstance(self.n_half_splits, (int, np.integer)) or self.n_half_splits < 1:
            raise InvalidInputError(f"{o}: 'n_half_splits' must be a positive integer, got {self.n_half_splits!r}.")
        if not isinstance(self.n_bootstrap, (int, np.integer)) or self.n_bootstrap < 0:
            raise InvalidInputError(f"{o}: 'n_bootstrap' must be an integer >= 0, got {self.n_bootstrap!r}.")
        if not 0 < self.ci < 1:
            raise InvalidInputError(f"{o}: 'ci' must lie in (0, 1), got {self.ci!r}. Use e.g. ci = 0.95.")
        check_alphas(self.alphas, o)

    def _check_input(self, rep: object, which: str) -> Representation:
        o = self._owner()
        if not isinstance(rep, Representation):
            raise InvalidInputError(f"{o}: input {which} must be a neurorep.Representation (stimuli x time*features), "
                                    f"got {type(rep).__name__}. Wrap arrays with neurorep.Representation(data, ids).")
        try:
            rep.check_finite()
        except InvalidInputError as exc:
            raise InvalidInputError(f"{o}: {exc}") from exc
        if rep.n_features % self.n_time:
            raise InvalidInputError(
                f"{o}: input {which} has {rep.n_features} columns, not a multiple of n_time={self.n_time}. "
                "Lay the columns out time-major (n_stimuli, n_time * n_features) or fix n_time.")
        return rep

    def analyze(self, x: Representation, y: Representation | None = None) -> list[Result]:
        """Return one row: the (normalised) time-resolved predictivity of ``y`` from ``x``.

        Parameters
        ----------
        x : Representation
            Model state trajectories, shape (n_stimuli, n_time * n_features).
        y : Representation
            Neural responses, shape (n_stimuli, n_time * n_units), with ``repeats`` when
            ``normalize`` is True.

        Returns
        -------
        list of Result
            ``score`` (normalised or raw mean), ``metric``, ``ci_low``/``ci_high`` (bootstrap over
            stimuli), ``ceiling_lower``/``ceiling_upper`` (1.0 when normalised; the raw mean ceiling
            otherwise), ``n`` = stimuli, and the per-time-bin values in ``extra``.
        """
        o = self._owner()
        self._check_params()
        if y is None:
            raise InvalidInputError(f"{o}: expected two inputs (x = model states, y = neural responses), got one.")
        x = self._check_input(x, "x")
        y = self._check_input(y, "y")
        x, y = align(x, y, how=self.align, owner=o)
        order = sorted(x.stimulus_ids)
        x, y = x.select(order), y.select(order)
        n = x.n_stimuli
        have_rep = y.repeats is not None and y.repeats.shape[0] >= 2
        if self.normalize and not have_rep:
            raise InvalidInputError(
                f"{o}: normalize=True needs y.repeats with at least 2 repeats (n_repeats, n_stimuli, n_features) for "
                f"the split-half noise ceiling; y {y.name!r} has "
                f"{0 if y.repeats is None else y.repeats.shape[0]}. Pass repeats or set normalize = false.")
        if n < 2 * self.n_splits:
            raise InvalidInputError(f"{o}: {n} shared stimuli are too few for {self.n_splits}-fold cross-validation "
                                    f"with an inner {self.inner_cv}-fold; use at least {2 * self.n_splits} stimuli "
                                    "or fewer folds.")
        xd = np.asarray(x.data, dtype=float)
        yd = np.asarray(y.data, dtype=float)
        pred, chosen = time_resolved_predictions(xd, yd, int(self.n_time), list(self.alphas), int(self.n_splits),
                                                 int(self.inner_cv), int(self.random_state), o)
        T = int(self.n_time)
        rng = np.random.default_rng([int(self.random_state), 29])

        def stat(yy: np.ndarray, pp: np.ndarray) -> np.ndarray:
            if self.metric == "pearson":
                return corr_columns(yy, pp)
            if yy.ndim == 2:
                return r2_per_target(yy, pp)
            return np.stack([r2_per_target(a, b) for a, b in zip(yy, pp)])

        raw_t = stat(yd, pred)                                   # (T*U,)
        ceil_t = None
        rep = np.asarray(y.repeats, dtype=float) if have_rep else None
        split_seed = int(rng.integers(2**31))
        if have_rep:
            rel = split_half_reliability(rep, int(self.n_half_splits), np.random.default_rng(split_seed))
            ceil_t = self._ceiling(rel)

        def summarise(raw: np.ndarray, ceil: np.ndarray | None) -> tuple[float, np.ndarray, float, np.ndarray]:
            raw_pt = raw.reshape(*raw.shape[:-1], T, -1).mean(-1)
            r = raw.mean(-1)
            if ceil is None:
                return r, raw_pt, np.nan, None
            c_pt = ceil.reshape(*ceil.shape[:-1], T, -1).mean(-1)
            return r, raw_pt, ceil.mean(-1), c_pt

        raw, raw_pt, ceil, ceil_pt = summarise(raw_t, ceil_t)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = raw / ceil if self.normalize else raw
            score_pt = raw_pt / ceil_pt if self.normalize else raw_pt
        ci_low = ci_high = np.nan
        if self.n_bootstrap > 0:
            idx = rng.integers(0, n, size=(int(self.n_bootstrap), n))
            braw = stat(yd[idx], pred[idx]).mean(-1)
            if self.normalize:
                brel = split_half_reliability(rep, int(self.n_half_splits), np.random.default_rng(split_seed),
                                              stimuli=idx)
                with np.errstate(divide="ignore", invalid="ignore"):
                    bscore = braw / self._ceiling(brel).mean(-1)
            else:
                bscore = braw
            bscore = bscore[np.isfinite(bscore)]
            if bscore.size:
                q = (1 - self.ci) / 2
                ci_low, ci_high = (float(v) for v in np.quantile(bscore, [q, 1 - q]))
        c_out = 1.0 if self.normalize else (float(ceil) if have_rep else np.nan)
        extra = {
            "raw": float(raw), "ceiling": float(ceil) if have_rep else None,
            "score_per_time": [float(v) for v in np.atleast_1d(score_pt)],
            "raw_per_time": [float(v) for v in raw_pt],
            "ceiling_per_time": None if ceil_pt is None else [float(v) for v in ceil_pt],
            "n_time": T, "n_units": int(yd.shape[1] // T), "normalized": bool(self.normalize),
            "median_alpha": float(np.median(chosen)),
        }
        metric = ("normalized_" if self.normalize else "") + self.metric
        return [Result(score=float(score), metric=metric, ceiling_lower=c_out, ceiling_upper=c_out,
                       ci_low=ci_low, ci_high=ci_high, n=int(n), extra=extra)]

    def _ceiling(self, reliability: np.ndarray) -> np.ndarray:
        rel = np.clip(np.nan_to_num(reliability, nan=0.0), 0.0, 1.0)
        return np.sqrt(rel) if self.metric == "pearson" else rel
