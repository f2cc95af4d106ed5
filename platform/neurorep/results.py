"""Results of a run as a tidy table and as a cube (source site x target x metric), each cell with its CI.

A run writes one row per :class:`~neurorep.types.Result` to ``RUN_DIR/results.parquet``
(:mod:`neurorep.runner.run` lists the columns). :func:`load` reads it back; :func:`cube`
arranges the two-input analyses as a :class:`Cube`: every ``x`` input (a model site, say) by
every ``y`` input (a brain region) by every ``analysis/metric``, with the score, its
confidence interval, p-value and noise ceiling in parallel numpy arrays of shape
``(n_sources, n_targets, n_metrics)``; absent cells are NaN. All sites of a source come
from one extraction: the runner stores each source task once (``RUN_DIR/store``) and
every analysis reads it from there.

Per-subject targets: an RSA analysis whose ``y`` input holds several RDMs (one per
subject) reports their mean as the row's score and each RDM's score in
``extra["per_rdm"]``. With ``per_subject=True`` :func:`cube` adds one target per RDM,
labelled ``"<y>[<i>]"`` (``i`` the RDM's position in ``y``), next to the mean. Their CI,
p-value and ceiling are NaN: the analyzers resample the subject mean, not each subject.

Example::

    import neurorep.results as nr

    df = nr.load("runs/quickstart")
    c = nr.cube(df, analysis="rsa-92")
    c.score.shape                        # (19 blocks, 3 targets, 1 metric)
    c.to_frame().loc[("efficientnet:blocks.12", "brain92:hIT-subjects")]
    c.cell("efficientnet:blocks.12", "brain92:mIT-fig1")   # {"score": ..., "ci_low": ..., ...}

From the command line: ``neurorep cube RUN_DIR [--analysis NAME] [--per-subject] [--csv OUT]``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidInputError

__all__ = ["FIELDS", "Cube", "load", "cube"]

#: The per-cell quantities of a :class:`Cube`, in the order of :meth:`Cube.to_frame`'s columns.
FIELDS: tuple[str, ...] = ("score", "ci_low", "ci_high", "p_value", "ceiling_lower", "ceiling_upper")


def load(run_dir: str | os.PathLike[str], *, ok_only: bool = False) -> Any:
    """The tidy results table of a run.

    Parameters
    ----------
    run_dir : path-like
        A run's output folder (holding ``results.parquet``) or the Parquet file itself.
    ok_only : bool, default=False
        Drop failed tasks' rows (``status == "failed"``).

    Returns
    -------
    pandas.DataFrame
        The columns of ``results.parquet`` (see :mod:`neurorep.runner.run`).

    Raises
    ------
    FileNotFoundError
        No ``results.parquet`` there; the message says how to make one.
    """
    from .runner import read_results

    p = Path(run_dir)
    path = p / "results.parquet" if p.is_dir() else p
    if not path.is_file():
        raise FileNotFoundError(f"neurorep.results.load: no results table at {str(path)!r}; expected a run folder "
                                "written by `neurorep run RECIPE --out RUN_DIR` (it holds results.parquet) or the "
                                "path of a results.parquet file.")
    df = read_results(path)
    if ok_only:
        df = df[df["status"] != "failed"].reset_index(drop=True)
    return df


@dataclass
class Cube:
    """Scores of every (source, target, metric) cell, with CI, p-value and noise ceiling.

    Attributes
    ----------
    sources : list of str
        The ``x`` inputs (``"source:site"``), in order of appearance.
    targets : list of str
        The ``y`` inputs; per-subject targets ``"<y>[<i>]"`` follow their ``y``.
    metrics : list of str
        ``"<analysis>/<metric>"`` labels.
    score, ci_low, ci_high, p_value, ceiling_lower, ceiling_upper : ndarray
        Shape ``(len(sources), len(targets), len(metrics))``; NaN where a cell was not computed
        (or a quantity was not: e.g. no CI without bootstrap).
    n : ndarray of int
        Same shape: the Result's ``n`` (stimulus pairs for RSA), 0 where absent.
    mirrored : list of str
        Metrics of analyses comparing one set of sites among themselves (``pairing = "within"``),
        computed for ``i <= j`` only and mirrored to ``(j, i)``.
    """

    sources: list[str]
    targets: list[str]
    metrics: list[str]
    score: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    ceiling_lower: np.ndarray
    ceiling_upper: np.ndarray
    n: np.ndarray
    mirrored: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.sources), len(self.targets), len(self.metrics))

    def _index(self, source: str, target: str, metric: str | None) -> tuple[int, int, int]:
        def find(labels: list[str], v: str, axis: str) -> int:
            try:
                return labels.index(v)
            except ValueError:
                raise KeyError(f"Cube: no {axis} {v!r}; the {axis}s are {labels}.") from None

        if metric is None:
            if len(self.metrics) != 1:
                raise KeyError(f"Cube: it holds {len(self.metrics)} metrics {self.metrics}; name one (metric=...).")
            m = 0
        else:
            m = find(self.metrics, metric, "metric")
        return find(self.sources, source, "source"), find(self.targets, target, "target"), m

    def cell(self, source: str, target: str, metric: str | None = None) -> dict[str, float]:
        """Every quantity of one cell (``metric`` may be omitted when the cube has one)."""
        i, j, m = self._index(source, target, metric)
        out = {f: float(getattr(self, f)[i, j, m]) for f in FIELDS}
        out["n"] = int(self.n[i, j, m])
        return out

    def missing(self) -> list[tuple[str, str, str]]:
        """``(source, target, metric)`` of the cells without a score."""
        return [(self.sources[i], self.targets[j], self.metrics[m]) for i, j, m in np.argwhere(np.isnan(self.score))]

    def to_frame(self, *, dropna: bool = True) -> Any:
        """A pandas DataFrame with a (source, target, metric) MultiIndex and one column per quantity.

        Parameters
        ----------
        dropna : bool, default=True
            Leave out cells without a score.
        """
        import pandas as pd

        idx = pd.MultiIndex.from_product([self.sources, self.targets, self.metrics],
                                         names=["source", "target", "metric"])
        df = pd.DataFrame({f: getattr(self, f).ravel() for f in FIELDS}, index=idx)
        df["n"] = self.n.ravel()
        return df[df["score"].notna()] if dropna else df


def _per_rdm(extra: Any) -> list[float] | None:
    if not isinstance(extra, str) or not extra:
        return None
    try:
        val = json.loads(extra).get("per_rdm")
    except (ValueError, AttributeError):
        return None
    if isinstance(val, list) and len(val) > 1 and all(isinstance(v, (int, float)) for v in val):
        return [float(v) for v in val]
    return None


def cube(results: Any, *, analysis: str | list[str] | None = None, metric: str | list[str] | None = None,
         per_subject: bool = False, mirror_within: bool = True) -> Cube:
    """Arrange the two-input results of a run as a :class:`Cube`.

    Parameters
    ----------
    results : pandas.DataFrame or path-like
        A results table (:func:`load`) or a run folder.
    analysis : str or list of str, optional
        Keep these analyses (recipe names) only.
    metric : str or list of str, optional
        Keep these metrics (e.g. ``"spearman"``) only.
    per_subject : bool, default=False
        Add one target per RDM of a ``y`` input that held several (``extra["per_rdm"]``).
    mirror_within : bool, default=True
        Fill ``(j, i)`` from ``(i, j)`` for analyses comparing one set of sites among themselves.

    Returns
    -------
    Cube

    Raises
    ------
    neurorep.errors.InvalidInputError
        Nothing to arrange (no two-input rows with a score), or several rows for one cell (an
        analyzer returning several Results per pair): the message names the cell.
    """
    df = results if hasattr(results, "columns") else load(results)
    missing_cols = [c for c in ("analysis", "x", "y", "metric", "status", *FIELDS) if c not in df.columns]
    if missing_cols:
        raise InvalidInputError(f"neurorep.results.cube: the table lacks the columns {missing_cols}; pass the "
                                "DataFrame of neurorep.results.load(RUN_DIR) (the columns of results.parquet).")
    ok = df[(df["status"] != "failed") & df["y"].notna() & df["score"].notna()]
    for col, want in (("analysis", analysis), ("metric", metric)):
        if want is not None:
            keep = [want] if isinstance(want, str) else list(want)
            unknown = sorted(set(keep) - set(df[col].dropna()))
            if unknown:
                raise InvalidInputError(f"neurorep.results.cube: no {col} {unknown} in the results; they have "
                                        f"{sorted(set(df[col].dropna()))}.")
            ok = ok[ok[col].isin(keep)]
    if ok.empty:
        raise InvalidInputError("neurorep.results.cube: no finished two-input results (x and y) with a score to "
                                "arrange; one-input analyses (e.g. decoding) are in the tidy table (load()).")
    labels = (ok["analysis"].astype(str) + "/" + ok["metric"].astype(str)).tolist()
    dup = ok.assign(_m=labels).duplicated(["x", "y", "_m"], keep=False)
    if dup.any():
        r = ok[dup.to_numpy()].iloc[0]
        raise InvalidInputError(f"neurorep.results.cube: several rows for the cell ({r['x']!r}, {r['y']!r}, "
                                f"{r['analysis']}/{r['metric']}); the cube holds one Result per cell. Select the "
                                "rows yourself from the tidy table (neurorep.results.load).")
    sources = list(dict.fromkeys(ok["x"]))
    metrics = list(dict.fromkeys(labels))
    targets: list[str] = []
    sub_targets: dict[str, int] = {}
    for y, extra in zip(ok["y"], ok["extra"] if "extra" in ok.columns else [None] * len(ok)):
        targets.append(y)
        if per_subject:
            per = _per_rdm(extra)
            if per is not None:
                sub_targets[y] = max(sub_targets.get(y, 0), len(per))
    ordered: list[str] = []
    for y in dict.fromkeys(targets):
        ordered.append(y)
        ordered.extend(f"{y}[{i}]" for i in range(sub_targets.get(y, 0)))
    si = {v: i for i, v in enumerate(sources)}
    ti = {v: j for j, v in enumerate(ordered)}
    mi = {v: k for k, v in enumerate(metrics)}
    shape = (len(sources), len(ordered), len(metrics))
    arrays = {f: np.full(shape, np.nan) for f in FIELDS}
    n = np.zeros(shape, dtype=np.int64)
    for (_, r), lab in zip(ok.iterrows(), labels):
        i, j, k = si[r["x"]], ti[r["y"]], mi[lab]
        for f in FIELDS:
            arrays[f][i, j, k] = float(r[f]) if r[f] is not None else math.nan
        n[i, j, k] = int(r["n"]) if "n" in r and r["n"] == r["n"] else 0
        if per_subject:
            for s, v in enumerate(_per_rdm(r.get("extra")) or []):
                arrays["score"][i, ti[f"{r['y']}[{s}]"], k] = v
                n[i, ti[f"{r['y']}[{s}]"], k] = n[i, j, k]
    mirrored: list[str] = []
    if mirror_within:
        for lab in metrics:
            g = ok[[m == lab for m in labels]]
            xs, ys = set(g["x"]), set(g["y"])
            if xs != ys or len(xs) < 2:
                continue
            k = mi[lab]
            for x, y in zip(g["x"], g["y"]):
                if x in ti and y in si and np.isnan(arrays["score"][si[y], ti[x], k]):
                    for f in FIELDS:
                        arrays[f][si[y], ti[x], k] = arrays[f][si[x], ti[y], k]
                    n[si[y], ti[x], k] = n[si[x], ti[y], k]
            mirrored.append(lab)
    return Cube(sources, ordered, metrics, n=n, mirrored=mirrored, **arrays)
