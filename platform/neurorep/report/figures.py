"""The numbers behind the report's figures, and the matplotlib figures themselves.

The data functions (:func:`classical_mds`, :func:`category_order`, :func:`square_rdm`,
:func:`profile_groups`, :func:`cube_panels`, :func:`rsa_sites`) are plain numpy/pandas
and are tested on their own; the ``plot_*`` functions draw with matplotlib's object API
(:class:`matplotlib.figure.Figure`, Agg canvas): they never touch pyplot's global state or
the user's backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "PALETTE",
    "STYLE",
    "CubePanel",
    "ProfileGroup",
    "category_order",
    "classical_mds",
    "cube_panels",
    "is_within_pairing",
    "new_figure",
    "plot_cube",
    "plot_profile",
    "plot_rdm_grid",
    "plot_rdm_mds",
    "plot_stimulus_mds",
    "profile_groups",
    "rank_percentiles",
    "rsa_sites",
    "square_rdm",
]

#: Okabe & Ito's colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

#: matplotlib rc settings of every report figure.
STYLE: dict[str, Any] = {
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "axes.edgecolor": "#333333",
    "axes.grid": False,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "image.interpolation": "nearest",
}

#: Descriptor names tried, in order, to group stimuli by category.
CATEGORY_KEYS = ("category", "categories", "class", "label", "labels", "condition", "object_category")


# =========================================================================== numbers

def classical_mds(D: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Classical (Torgerson) multidimensional scaling.

    Double-centres the squared distances, ``B = -1/2 J D² J`` with ``J = I - 11'/n``, and
    embeds with the leading eigenvectors of ``B`` scaled by the square roots of their
    eigenvalues. For Euclidean distances the embedding reproduces them exactly (up to
    rotation and reflection) when ``n_components`` covers the points' dimension.

    Parameters
    ----------
    D : ndarray of shape (n, n)
        Symmetric dissimilarities with a zero diagonal.
    n_components : int, default=2

    Returns
    -------
    coords : ndarray of shape (n, n_components)
        Each column's largest-magnitude entry is made positive (a deterministic sign).
    eigenvalues : ndarray of shape (n,)
        All eigenvalues of ``B``, largest first (negative ones flag non-Euclidean input).
    """
    D = np.asarray(D, dtype=float)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"classical_mds: expected a square distance matrix, got shape {D.shape}.")
    n = D.shape[0]
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (D ** 2) @ J
    w, V = np.linalg.eigh((B + B.T) / 2)
    order = np.argsort(w)[::-1]
    w, V = w[order], V[:, order]
    k = min(n_components, n)
    coords = V[:, :k] * np.sqrt(np.clip(w[:k], 0.0, None))
    for j in range(k):
        i = int(np.argmax(np.abs(coords[:, j])))
        if coords[i, j] < 0:
            coords[:, j] = -coords[:, j]
    if k < n_components:
        coords = np.hstack([coords, np.zeros((n, n_components - k))])
    return coords, w


def category_order(stimulus_ids: Sequence[str], stimuli: Any = None, descriptor: str | None = None
                   ) -> tuple[np.ndarray, list[str] | None, str | None]:
    """Order stimuli by category (stable: the original order within a category).

    Parameters
    ----------
    stimulus_ids : sequence of str
        The RDM's stimuli, in stored order.
    stimuli : neurorep.types.StimulusSet, optional
        Its ``descriptors`` provide the categories (matched by stimulus id).
    descriptor : str, optional
        The descriptor to use; default: the first of :data:`CATEGORY_KEYS` present, else
        the first text descriptor with 2 to n/2 distinct values.

    Returns
    -------
    order : ndarray of int
        Positions of ``stimulus_ids`` in category order.
    labels : list of str or None
        The category of each stimulus, in the new order (None when no categories).
    descriptor : str or None
        The descriptor used.
    """
    ids = [str(s) for s in stimulus_ids]
    n = len(ids)
    identity = np.arange(n)
    if stimuli is None or not getattr(stimuli, "descriptors", None):
        return identity, None, None
    desc = stimuli.descriptors
    name = None
    if descriptor is not None:
        name = descriptor if descriptor in desc else None
    else:
        for k in CATEGORY_KEYS:
            if k in desc:
                name = k
                break
        if name is None:
            for k, v in desc.items():
                a = np.asarray(v)
                if a.dtype.kind in "US" and 2 <= len(set(a.tolist())) <= max(2, len(a) // 2):
                    name = k
                    break
    if name is None:
        return identity, None, None
    pos = {s: i for i, s in enumerate(stimuli.ids)}
    if any(s not in pos for s in ids):
        return identity, None, None
    values = np.asarray(desc[name])
    cats = [str(values[pos[s]]) for s in ids]
    first: dict[str, int] = {}
    for c in cats:
        first.setdefault(c, len(first))
    order = np.array(sorted(range(n), key=lambda i: (first[cats[i]], i)), dtype=int)
    return order, [cats[i] for i in order], name


def square_rdm(value: Any, max_stimuli: int | None = None) -> tuple[np.ndarray, tuple[str, ...], str]:
    """A square RDM to draw from stored RDMs or a representation.

    RDMs with several matrices (subjects, sessions) are averaged; a representation's RDM
    is its correlation distance (1 - Pearson r between stimulus patterns).

    Parameters
    ----------
    value : neurorep.types.RDMs or neurorep.types.Representation
    max_stimuli : int, optional
        Representations with more stimuli are cut to the first ``max_stimuli``.

    Returns
    -------
    matrix : ndarray of shape (n, n)
    stimulus_ids : tuple of str
    description : str
        What the matrix is (e.g. ``"correlation distance, mean of 4 RDMs"``).
    """
    from ..types import RDMs, Representation

    if isinstance(value, RDMs):
        mats = value.get_matrices()
        desc = value.dissimilarity_measure
        if mats.shape[0] > 1:
            desc += f", mean of {mats.shape[0]} RDMs"
        return mats.mean(0), tuple(value.stimulus_ids), desc
    if isinstance(value, Representation):
        # float32 keeps wide layers (10^5 features and more) affordable; the RDM itself is float64
        X = np.asarray(value.data, dtype=np.float64 if value.data.size <= 5_000_000 else np.float32)
        ids = tuple(value.stimulus_ids)
        if max_stimuli is not None and X.shape[0] > max_stimuli:
            X, ids = X[:max_stimuli], ids[:max_stimuli]
        X = X - X.mean(1, keepdims=True)
        norms = np.linalg.norm(X, axis=1)
        norms[norms == 0] = np.nan
        Xn = X / norms[:, None]
        D = 1.0 - (Xn @ Xn.T).astype(np.float64)
        np.fill_diagonal(D, 0.0)
        return D, ids, "correlation distance (1 \u2212 Pearson r), computed from the stored patterns"
    raise TypeError(f"square_rdm: expected RDMs or a Representation, got {type(value).__name__}.")


def rank_percentiles(D: np.ndarray) -> np.ndarray:
    """Off-diagonal entries of a square RDM replaced by their percentile (0-100); diagonal 0."""
    from scipy.stats import rankdata

    n = D.shape[0]
    iu = np.triu_indices(n, 1)
    vals = D[iu]
    out = np.zeros_like(D, dtype=float)
    if vals.size == 0:
        return out
    finite = np.isfinite(vals)
    r = np.full(vals.shape, np.nan)
    if finite.any():
        r[finite] = 100.0 * (rankdata(vals[finite]) - 1) / max(1, finite.sum() - 1)
    out[iu] = r
    out[(iu[1], iu[0])] = r
    return out


def _ok_rows(df: Any) -> Any:
    score = df["score"].astype(float)
    return df[(df["status"] != "failed") & np.isfinite(score)]


def rsa_sites(results: Any, run: Any) -> list[tuple[str, str]]:
    """``(source, site)`` inputs of the RSA analyses (components taking RDMs), in order of appearance.

    An analysis counts as RSA when its component's tags say it takes RDMs
    (``input_type`` "rdm" or "any") or, for components no longer registered, when its id
    is in the ``rsa`` family.
    """
    out: dict[tuple[str, str], None] = {}
    is_rsa: dict[str, bool] = {}
    for cid in dict.fromkeys(results["component_id"].dropna()):
        tags = run.component_tags(cid) if run is not None else None
        if tags is not None:
            is_rsa[cid] = tags.input_type in ("rdm", "any")
        else:
            is_rsa[cid] = str(cid).split(".")[0] == "rsa"
    rows = results[results["component_id"].map(lambda c: is_rsa.get(c, False)) & (results["status"] != "failed")]
    for side in ("x", "y"):
        for src, site in zip(rows[f"{side}_source"], rows[f"{side}_site"]):
            if isinstance(src, str) and isinstance(site, str):
                out.setdefault((src, site), None)
    return list(out)


def _short_labels(labels: Sequence[str]) -> list[str]:
    """``source:site`` labels without the source when all share it."""
    parts = [str(lab).partition(":") for lab in labels]
    if len({p[0] for p in parts}) == 1 and all(p[1] for p in parts):
        return [p[2] for p in parts]
    return [str(lab) for lab in labels]


def is_within_pairing(rows: Any) -> bool:
    """True when ``rows`` compare the members of one set of sites among themselves (pairing="within")."""
    if rows["y"].isna().all():
        return False
    xs, ys = set(rows["x"]), set(rows["y"])
    return xs == ys and len(xs) > 1


def _aggregate(rows: Any) -> dict[str, float]:
    """One value per column; several rows (several results of one task) are averaged, CI and p dropped."""
    cols = ("score", "ci_low", "ci_high", "p_value", "ceiling_lower", "ceiling_upper")
    if len(rows) == 1:
        r = rows.iloc[0]
        return {c: float(r[c]) for c in cols}
    out = {c: float(np.nanmean(rows[c].astype(float))) if rows[c].notna().any() else math.nan for c in cols}
    out.update(ci_low=math.nan, ci_high=math.nan, p_value=math.nan)
    return out


@dataclass
class ProfileGroup:
    """The layer profile of one analysis and metric: a score per site along ``axis``, one line per target."""

    analysis: str
    metric: str
    axis: str                      # "x" or "y": which input varies along the horizontal axis
    axis_labels: list[str]         # full "source:site" labels, in order
    lines: list[dict[str, Any]] = field(default_factory=list)  # label, score, ci_low, ci_high, p, ceil_lo, ceil_hi
    n_aggregated: int = 0          # axis points that averaged several rows

    @property
    def tick_labels(self) -> list[str]:
        return _short_labels(self.axis_labels)


def profile_groups(results: Any) -> tuple[list[ProfileGroup], list[str]]:
    """Group the results into layer profiles.

    For each ``(analysis, metric)``: the input with more distinct sites is the profile's
    axis (e.g. the model's layers) and each site of the other input is one line (e.g.
    human IT, monkey IT); one-input analyses give one line. Analyses comparing one set of
    sites among themselves (``pairing = "within"``) are left to the score matrix.

    Returns
    -------
    groups : list of ProfileGroup
    skipped : list of str
        Why analyses were left out.
    """
    ok = _ok_rows(results)
    groups: list[ProfileGroup] = []
    skipped: list[str] = []
    for (analysis, metric), g in ok.groupby(["analysis", "metric"], sort=False, dropna=False):
        has_y = g["y"].notna().any()
        if has_y and is_within_pairing(g):
            skipped.append(f"{analysis} ({metric}): compares sites among themselves; see the score matrix")
            continue
        if has_y:
            axis, line = ("x", "y") if g["x"].nunique() >= g["y"].nunique() else ("y", "x")
        else:
            axis, line = "x", None
        axis_labels = list(dict.fromkeys(g[axis]))
        if len(axis_labels) < 2:
            skipped.append(f"{analysis} ({metric}): one site only; see the summary")
            continue
        grp = ProfileGroup(str(analysis), str(metric), axis, axis_labels)
        line_labels = list(dict.fromkeys(g[line])) if line else [None]
        for lab in line_labels:
            sub = g if lab is None else g[g[line] == lab]
            cols: dict[str, list[float]] = {k: [] for k in ("score", "ci_low", "ci_high", "p_value",
                                                             "ceiling_lower", "ceiling_upper")}
            for a in axis_labels:
                rows = sub[sub[axis] == a]
                vals = _aggregate(rows) if len(rows) else {k: math.nan for k in cols}
                if len(rows) > 1:
                    grp.n_aggregated += 1
                for k in cols:
                    cols[k].append(vals[k])
            grp.lines.append({"label": lab, **{k: np.asarray(v, dtype=float) for k, v in cols.items()}})
        groups.append(grp)
    return groups, skipped


@dataclass
class CubePanel:
    """One analysis's scores as a matrix: ``scores[i, j]`` compares ``y_labels[i]`` with ``x_labels[j]``."""

    analysis: str
    metric: str
    x_labels: list[str]
    y_labels: list[str]
    scores: np.ndarray
    p_values: np.ndarray
    mirrored: bool = False


def cube_panels(results: Any) -> list[CubePanel]:
    """The model x brain score cube: one x-by-y matrix per two-input ``(analysis, metric)``.

    Within-set comparisons (only i <= j computed) are mirrored to fill the matrix.
    """
    ok = _ok_rows(results)
    panels: list[CubePanel] = []
    for (analysis, metric), g in ok.groupby(["analysis", "metric"], sort=False, dropna=False):
        if not g["y"].notna().any():
            continue
        xl = list(dict.fromkeys(g["x"]))
        yl = list(dict.fromkeys(g["y"]))
        S = np.full((len(yl), len(xl)), np.nan)
        P = np.full_like(S, np.nan)
        xi = {v: j for j, v in enumerate(xl)}
        yi = {v: i for i, v in enumerate(yl)}
        for (xv, yv), rows in g.groupby(["x", "y"], sort=False):
            vals = _aggregate(rows)
            S[yi[yv], xi[xv]] = vals["score"]
            P[yi[yv], xi[xv]] = vals["p_value"]
        mirrored = False
        if is_within_pairing(g):
            for (xv, yv) in zip(g["x"], g["y"]):
                if np.isnan(S[yi[xv], xi[yv]]):
                    S[yi[xv], xi[yv]] = S[yi[yv], xi[xv]]
                    P[yi[xv], xi[yv]] = P[yi[yv], xi[xv]]
                    mirrored = True
        if S.size >= 2:
            panels.append(CubePanel(str(analysis), str(metric), xl, yl, S, P, mirrored))
    return panels


# =========================================================================== drawing

def new_figure(width: float, height: float) -> Any:
    """A :class:`matplotlib.figure.Figure` (Agg canvas, not registered with pyplot)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _style():
    import matplotlib

    return matplotlib.rc_context(STYLE)


def _category_ticks(ax: Any, labels: list[str] | None, n: int, ids: Sequence[str], *, show_names: bool) -> None:
    if labels:
        bounds = [i for i in range(1, n) if labels[i] != labels[i - 1]]
        for b in bounds:
            ax.axhline(b - 0.5, color="white", lw=0.8)
            ax.axvline(b - 0.5, color="white", lw=0.8)
        starts = [0] + bounds
        ends = bounds + [n]
        centres = [(s + e - 1) / 2 for s, e in zip(starts, ends)]
        names = [labels[s] for s in starts]
        ax.set_xticks([])
        if show_names:
            ax.set_yticks(centres)
            ax.set_yticklabels(names, fontsize=6.5)
            ax.tick_params(axis="y", length=0)
        else:
            ax.set_yticks([])
    elif n <= 24:
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xticklabels(ids, rotation=90, fontsize=6)
        ax.set_yticklabels(ids if show_names else [""] * n, fontsize=6)
        ax.tick_params(length=0)
    else:
        ax.set_xticks([])
        ax.set_yticks([])


def plot_rdm_grid(items: Sequence[Mapping[str, Any]], ncols: int = 4) -> Any:
    """Heatmaps of square RDMs (rank-transformed to percentiles), category boundaries drawn.

    Parameters
    ----------
    items : sequence of dict
        ``label``, ``matrix`` (ordered square RDM), ``ids`` (ordered) and ``categories``
        (per ordered stimulus, or None).
    ncols : int, default=4
    """
    n = len(items)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    with _style():
        fig = new_figure(1.95 * ncols + 0.9, 2.05 * nrows + 0.15)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        im = None
        for k, ax in enumerate(axes):
            ax.spines[:].set_visible(False)
            if k >= n:
                ax.set_axis_off()
                continue
            it = items[k]
            P = rank_percentiles(np.asarray(it["matrix"], dtype=float))
            im = ax.imshow(P, cmap="viridis", vmin=0, vmax=100)
            ax.set_title(it["label"], fontsize=7.5, pad=3)
            _category_ticks(ax, it.get("categories"), P.shape[0], it.get("ids") or (), show_names=k % ncols == 0)
        if im is not None:
            cb = fig.colorbar(im, ax=list(axes[:n]), shrink=0.6, aspect=25, pad=0.02)
            cb.set_label("dissimilarity (percentile)", fontsize=7.5)
            cb.ax.tick_params(labelsize=7)
            cb.outline.set_visible(False)
    return fig


def plot_rdm_mds(coords: np.ndarray, labels: Sequence[str], groups: Sequence[str]) -> Any:
    """Second-order MDS: one point per RDM, coloured by source, each source's sites joined in order."""
    with _style():
        fig = new_figure(5.6, 4.2)
        ax = fig.subplots()
        order = list(dict.fromkeys(groups))
        for gi, grp in enumerate(order):
            idx = [i for i, g in enumerate(groups) if g == grp]
            col = PALETTE[gi % len(PALETTE)]
            if len(idx) > 2:
                ax.plot(coords[idx, 0], coords[idx, 1], "-", color=col, alpha=0.45, lw=1.0, zorder=1)
            ax.scatter(coords[idx, 0], coords[idx, 1], s=30, color=col, edgecolor="white", linewidth=0.6,
                       label=grp, zorder=2)
            for i in idx:
                ax.annotate(labels[i], coords[i], xytext=(3, 3), textcoords="offset points", fontsize=6.5,
                            color="#333333")
        ax.set_xlabel("MDS dimension 1")
        ax.set_ylabel("MDS dimension 2")
        ax.margins(0.12)
        ax.set_aspect("equal", adjustable="datalim")
        fig.legend(loc="outside upper center", ncols=min(len(order), 6))
    return fig


def plot_stimulus_mds(items: Sequence[Mapping[str, Any]]) -> Any:
    """Classical MDS of the stimuli of each RDM, coloured by category.

    Parameters
    ----------
    items : sequence of dict
        ``label``, ``coords`` (n, 2) and ``categories`` (per stimulus, or None).
    """
    n = len(items)
    with _style():
        fig = new_figure(2.35 * n + 1.4, 2.6)
        axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)).ravel()
        cats_all = list(dict.fromkeys(c for it in items for c in (it.get("categories") or [])))
        colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(cats_all)}
        for ax, it in zip(axes, items):
            X = it["coords"]
            cats = it.get("categories")
            if cats:
                for c in cats_all:
                    sel = [i for i, v in enumerate(cats) if v == c]
                    if sel:
                        ax.scatter(X[sel, 0], X[sel, 1], s=10, color=colour[c], label=c, edgecolor="none")
            else:
                ax.scatter(X[:, 0], X[:, 1], s=10, color=PALETTE[0], edgecolor="none")
            ax.set_title(it["label"], fontsize=7.5)
            ax.set_xticks([])
            ax.set_yticks([])
            for sp in ax.spines.values():
                sp.set_visible(True)
                sp.set_color("#cccccc")
            ax.set_aspect("equal", adjustable="datalim")
        if cats_all:
            handles, labs = [], []
            for ax in axes:
                for h, lab in zip(*ax.get_legend_handles_labels()):
                    if lab not in labs:
                        handles.append(h)
                        labs.append(lab)
            fig.legend(handles, labs, loc="outside right center", fontsize=7, markerscale=1.5)
    return fig


def plot_profile(group: ProfileGroup, larger_is_better: bool | None = True) -> Any:
    """A layer profile: score per site with CI error bars, noise-ceiling bands and p < 0.05 marks."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(group.axis_labels)
    ticks = group.tick_labels
    longest = max((len(t) for t in ticks), default=4)
    with _style():
        fig = new_figure(min(10.5, max(6.0, 3.2 + 0.45 * n)), 3.4 + (0.05 * longest if longest > 6 else 0))
        ax = fig.subplots()
        xs = np.arange(n, dtype=float)
        any_ceiling = any_sig = any_ci = False
        nl = len(group.lines)
        width = 0.5
        # noise ceilings: one grey band when every line shares it, else one band per line in its colour
        bands = []
        for li, line in enumerate(group.lines):
            lo, hi = line["ceiling_lower"], line["ceiling_upper"]
            if np.isfinite(lo).any() or np.isfinite(hi).any():
                lo_f = np.where(np.isfinite(lo), lo, hi)
                hi_f = np.where(np.isfinite(hi), hi, lo)
                bands.append((li, _fill_nan(lo_f), _fill_nan(hi_f)))
        shared = len(bands) == nl and all(np.allclose(b[1], bands[0][1], equal_nan=True)
                                          and np.allclose(b[2], bands[0][2], equal_nan=True) for b in bands)
        for li, lo_f, hi_f in (bands[:1] if shared else bands):
            col = "#7f7f7f" if shared else PALETTE[li % len(PALETTE)]
            xe = np.concatenate([[-0.5], xs, [n - 0.5]])
            ax.fill_between(xe, np.concatenate([[lo_f[0]], lo_f, [lo_f[-1]]]),
                            np.concatenate([[hi_f[0]], hi_f, [hi_f[-1]]]), step="mid", color=col,
                            alpha=0.18 if shared else 0.12, lw=0, zorder=0)
            ax.step(xe, np.concatenate([[lo_f[0]], lo_f, [lo_f[-1]]]), where="mid", color=col, lw=0.7,
                    alpha=0.7, ls="--", zorder=0)
            any_ceiling = True
        for li, line in enumerate(group.lines):
            col = PALETTE[li % len(PALETTE)]
            off = (li - (nl - 1) / 2) * (width / max(1, nl)) if nl > 1 else 0.0
            s = line["score"]
            fin = np.isfinite(s)
            ax.plot(xs[fin] + off, s[fin], "-", color=col, lw=1.2, alpha=0.85, zorder=2)
            cl, ch = line["ci_low"], line["ci_high"]
            has_ci = fin & np.isfinite(cl) & np.isfinite(ch)
            if has_ci.any():
                any_ci = True
                yerr = np.vstack([np.clip(s[has_ci] - cl[has_ci], 0, None), np.clip(ch[has_ci] - s[has_ci], 0, None)])
                ax.errorbar(xs[has_ci] + off, s[has_ci], yerr=yerr, fmt="none", ecolor=col, elinewidth=0.9, capsize=2,
                            zorder=2)
            p = line["p_value"]
            sig = fin & np.isfinite(p) & (p < 0.05)
            nonsig = fin & np.isfinite(p) & (p >= 0.05)
            untested = fin & ~np.isfinite(p)
            ax.scatter(xs[sig | untested] + off, s[sig | untested], s=22, color=col, edgecolor="white", lw=0.5,
                       zorder=3)
            ax.scatter(xs[nonsig] + off, s[nonsig], s=22, facecolor="white", edgecolor=col, lw=1.0, zorder=3)
            if sig.any():
                any_sig = True
                top = np.where(np.isfinite(ch), ch, s)
                for x, y in zip(xs[sig] + off, top[sig]):
                    ax.annotate("*", (x, y), xytext=(0, 1), textcoords="offset points", ha="center", va="bottom",
                                fontsize=9, color=col, fontweight="bold")
        ax.set_xticks(xs)
        rot = 0 if longest * n < 70 else (45 if longest < 18 else 90)
        ax.set_xticklabels(ticks, rotation=rot, ha="right" if rot == 45 else "center")
        ax.set_xlim(-0.5, n - 0.5)
        src = {str(a).partition(":")[0] for a in group.axis_labels}
        ax.set_xlabel(("site of " + ", ".join(sorted(src))) if len(src) == 1 else "site")
        ax.set_ylabel(group.metric)
        lo_y, hi_y = ax.get_ylim()
        if lo_y < 0 < hi_y:
            ax.axhline(0, color="#999999", lw=0.6, zorder=0)
        ax.set_title(group.analysis, loc="left")
        handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], marker="o", lw=1.2, ms=4,
                          label=str(line["label"]) if line["label"] is not None else group.metric)
                   for i, line in enumerate(group.lines)]
        if any_ceiling:
            handles.append(Patch(facecolor="#999999", alpha=0.3, label="noise ceiling (lower\u2013upper)"))
        if any_ci:
            handles.append(Line2D([], [], color="#555555", marker="|", lw=0, ms=8, label="95% CI"))
        if any_sig:
            handles.append(Line2D([], [], color="#555555", marker="$*$", lw=0, ms=7, label="p < 0.05"))
            handles.append(Line2D([], [], color="#555555", marker="o", mfc="white", lw=0, ms=4, label="p \u2265 0.05"))
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _fill_nan(a: np.ndarray) -> np.ndarray:
    """NaNs replaced by the nearest finite value (for drawing a band across missing points)."""
    a = np.asarray(a, dtype=float).copy()
    fin = np.flatnonzero(np.isfinite(a))
    if fin.size == 0:
        return a
    idx = np.arange(a.size)
    nearest = fin[np.abs(idx[:, None] - fin[None, :]).argmin(1)]
    return a[nearest]


def plot_cube(panel: CubePanel) -> Any:
    """Heatmap of one analysis's scores, x sites (columns) by y sites (rows); p < 0.05 marked with *."""
    S = panel.scores
    ny, nx = S.shape
    xt, yt = _short_labels(panel.x_labels), _short_labels(panel.y_labels)
    longest_x = max((len(t) for t in xt), default=4)
    longest_y = max((len(t) for t in yt), default=4)
    with _style():
        w = min(11.0, max(3.2, 1.6 + 0.055 * longest_y + 0.5 * nx))
        h = min(9.0, max(1.7, 1.0 + 0.055 * longest_x + 0.36 * ny))
        fig = new_figure(w, h)
        ax = fig.subplots()
        fin = S[np.isfinite(S)]
        if fin.size and fin.min() < 0 < fin.max():
            vmax = float(np.abs(fin).max())
            cmap, vmin = "RdBu_r", -vmax
        else:
            cmap = "viridis"
            vmin, vmax = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
            if vmin == vmax:
                vmin, vmax = vmin - 0.5, vmax + 0.5
        import matplotlib

        cm = matplotlib.colormaps[cmap].with_extremes(bad="#eeeeee")
        im = ax.imshow(np.ma.masked_invalid(S), cmap=cm, vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(nx))
        ax.set_yticks(range(ny))
        ax.set_xticklabels(xt, rotation=0 if longest_x * nx < 60 else 90)
        ax.set_yticklabels(yt)
        ax.tick_params(length=0)
        ax.spines[:].set_visible(False)
        if S.size <= 240:
            norm = im.norm
            for i in range(ny):
                for j in range(nx):
                    v = S[i, j]
                    if not np.isfinite(v):
                        continue
                    star = "*" if np.isfinite(panel.p_values[i, j]) and panel.p_values[i, j] < 0.05 else ""
                    rgba = cm(norm(v))
                    lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
                    ax.text(j, i, f"{v:.2f}{star}", ha="center", va="center", fontsize=6.5,
                            color="black" if lum > 0.55 else "white")
        src_x = {str(a).partition(":")[0] for a in panel.x_labels}
        src_y = {str(a).partition(":")[0] for a in panel.y_labels}
        ax.set_xlabel(", ".join(sorted(src_x)))
        ax.set_ylabel(", ".join(sorted(src_y)))
        ax.set_title(f"{panel.analysis}", loc="left")
        cb = fig.colorbar(im, ax=ax, shrink=0.85, aspect=18, pad=0.02)
        cb.set_label(panel.metric)
        cb.outline.set_visible(False)
    return fig
