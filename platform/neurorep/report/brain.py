"""Scores on the MNI template (nilearn plotting), for results that carry brain locations.

nilearn is optional: it is imported only when a run holds something spatial. What makes a
result spatial (any one is enough):

``extra["mni"] = [x, y, z]``
    The result's ROI centre or voxel, in MNI152 millimetres (set by the analyzer).
``space["mni"] = [x, y, z]`` of the ``x`` or ``y`` site
    The site is a ROI centred there (set by the source's ``site_space`` or the stored
    representation's ``space``). ``space["center_mm"]`` counts too when the space says it is
    MNI (``"space"`` or ``"template"`` starting with ``MNI``), as for the sphere sites of the
    fMRI sources.
``space["atlas"] = {"path": "atlas.nii.gz", "label": 3}`` of the ``x`` or ``y`` site
    The site is label 3 of an atlas image in MNI space; the path is absolute or relative to
    the run folder. Each ROI is painted with its score.
``extra["map"] = "maps/score.nii.gz"``
    A per-voxel map of the result in MNI space (path absolute or relative to the run folder).

Encoding results (metric ``r2``, ``r2_score``, ``explained_variance``...) may also give
``extra["per_channel"]`` (one R² per voxel, in the site's feature order): with MNI
coordinates in the site's channel descriptors ``x``, ``y``, ``z`` (mm; the site's space
says ``"template": "MNI152..."``) they are drawn as a glass-brain map, otherwise as a
distribution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ENCODING_METRICS",
    "SpatialItem",
    "coords_to_volume",
    "is_encoding_metric",
    "is_mni_space",
    "map_items",
    "plot_points",
    "plot_r2_distribution",
    "plot_volume",
    "spatial_items",
]

#: Metric names (lower case) that mean "variance explained by an encoding model".
ENCODING_METRICS = frozenset({"r2", "r2_score", "r^2", "r²", "explained_variance", "encoding_r2", "cv_r2"})


def is_encoding_metric(metric: Any) -> bool:
    """True for an encoding model's variance-explained metric."""
    return isinstance(metric, str) and metric.strip().lower() in ENCODING_METRICS


def is_mni_space(space: dict[str, Any]) -> bool:
    """True when a site's ``space`` says its coordinates are in MNI space."""
    for k in ("template", "coordinate_space", "coords_space", "space"):
        v = space.get(k)
        if isinstance(v, str) and v.upper().startswith("MNI"):
            return True
    return False


def _json(s: Any) -> dict[str, Any]:
    import json

    if isinstance(s, dict):
        return s
    try:
        out = json.loads(s) if isinstance(s, str) and s else {}
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _xyz(v: Any) -> tuple[float, float, float] | None:
    try:
        a = [float(t) for t in v]
    except (TypeError, ValueError):
        return None
    return (a[0], a[1], a[2]) if len(a) == 3 and all(math.isfinite(t) for t in a) else None


def _resolve(path: Any, run_dir: Path) -> Path | None:
    if not isinstance(path, str) or not path:
        return None
    p = Path(path)
    return p if p.is_absolute() else run_dir / p


@dataclass
class SpatialItem:
    """The spatial scores of one analysis and metric."""

    analysis: str
    metric: str
    points: list[tuple[tuple[float, float, float], float, str]] = field(default_factory=list)  # (xyz, score, label)
    regions: dict[str, list[tuple[int, float, str]]] = field(default_factory=dict)  # atlas path -> (label, score, name)
    n_collapsed: int = 0  # locations that had several results (the best one is shown)


def spatial_items(results: Any, run: Any, *, larger_is_better: Any = None) -> list[SpatialItem]:
    """Per ``(analysis, metric)``: ROI/voxel scores located by ``extra["mni"]`` or their site's space.

    When several results fall on one location (e.g. one ROI compared with every model
    layer), the best score is kept (largest, or smallest when the analyzer's tags say
    smaller is more similar) and counted in ``n_collapsed``.

    Parameters
    ----------
    results : pandas.DataFrame
    run : ReportRun
    larger_is_better : callable, optional
        ``f(component_id) -> bool``; default: True for every component.
    """
    ok = results[(results["status"] != "failed") & np.isfinite(results["score"].astype(float))]
    space_memo: dict[tuple[str, str], dict[str, Any]] = {}

    def space(src: Any, site: Any) -> dict[str, Any]:
        if not isinstance(src, str) or not isinstance(site, str):
            return {}
        if (src, site) not in space_memo:
            space_memo[(src, site)] = run.site_space(src, site)
        return space_memo[(src, site)]

    items: list[SpatialItem] = []
    for (analysis, metric), g in ok.groupby(["analysis", "metric"], sort=False, dropna=False):
        better = larger_is_better(g["component_id"].iloc[0]) if larger_is_better is not None else True
        best: dict[Any, tuple[float, Any, str]] = {}
        counts: dict[Any, int] = {}
        for _, r in g.iterrows():
            extra = _json(r["extra"])
            loc: Any = None
            label = str(r["y"] if isinstance(r["y"], str) else r["x"])
            xyz = _xyz(extra.get("mni")) if "mni" in extra else None
            if xyz is not None:
                loc = ("point", xyz)
            else:
                for side in ("y", "x"):
                    sp = space(r[f"{side}_source"], r[f"{side}_site"])
                    p = _xyz(sp.get("mni")) if "mni" in sp else None
                    if p is None and "center_mm" in sp and is_mni_space(sp):
                        p = _xyz(sp.get("center_mm"))
                    if p is not None:
                        loc, label = ("point", p), str(r[side])
                        break
                    atlas = sp.get("atlas")
                    if isinstance(atlas, dict) and "path" in atlas and "label" in atlas:
                        path = _resolve(atlas["path"], run.run_dir)
                        if path is not None:
                            loc, label = ("region", str(path), int(atlas["label"])), str(r[side])
                            break
            if loc is None:
                continue
            s = float(r["score"])
            counts[loc] = counts.get(loc, 0) + 1
            if loc not in best or (s > best[loc][0] if better else s < best[loc][0]):
                best[loc] = (s, loc, label)
        if not best:
            continue
        it = SpatialItem(str(analysis), str(metric), n_collapsed=sum(1 for c in counts.values() if c > 1))
        for s, loc, label in best.values():
            if loc[0] == "point":
                it.points.append((loc[1], s, label))
            else:
                it.regions.setdefault(loc[1], []).append((loc[2], s, label))
        items.append(it)
    return items


def map_items(results: Any, run: Any, *, encoding: bool) -> list[tuple[str, Path]]:
    """``(title, path)`` of the per-voxel NIfTI maps in ``extra["map"]`` (encoding metrics or the others)."""
    out: list[tuple[str, Path]] = []
    ok = results[results["status"] != "failed"]
    for _, r in ok.iterrows():
        if is_encoding_metric(r["metric"]) != encoding:
            continue
        extra = _json(r["extra"])
        path = _resolve(extra.get("map"), run.run_dir)
        if path is None:
            continue
        who = r["x"] if not isinstance(r["y"], str) else f"{r['x']} \u2192 {r['y']}"
        out.append((f"{r['analysis']}: {who} ({r['metric']})", path))
    return out


def _template(resolution: int = 2) -> Any:
    from nilearn.datasets import load_mni152_template

    return load_mni152_template(resolution=resolution)


def coords_to_volume(coords: np.ndarray, values: np.ndarray, reference: Any = None) -> Any:
    """Values at MNI coordinates painted into a volume on the 2 mm MNI152 grid (largest |value| per voxel).

    Parameters
    ----------
    coords : ndarray of shape (n, 3)
        MNI millimetres.
    values : ndarray of shape (n,)
    reference : nibabel image, optional
        Grid to paint on; default: nilearn's bundled MNI152 template at 2 mm.

    Returns
    -------
    nibabel.Nifti1Image
    """
    import nibabel as nib

    ref = reference if reference is not None else _template(2)
    shape = ref.shape[:3]
    inv = np.linalg.inv(ref.affine)
    ijk = np.rint(np.c_[coords, np.ones(len(coords))] @ inv.T)[:, :3].astype(int)
    inside = np.all((ijk >= 0) & (ijk < np.array(shape)), axis=1)
    vol = np.zeros(shape, dtype=np.float32)
    for (i, j, k), v in zip(ijk[inside], np.asarray(values, dtype=float)[inside]):
        if abs(v) > abs(vol[i, j, k]):
            vol[i, j, k] = v
    return nib.Nifti1Image(vol, ref.affine)


def _atlas_volume(path: Path, regions: Sequence[tuple[int, float, str]]) -> Any:
    import nibabel as nib

    img = nib.load(str(path))
    lab = np.asarray(img.dataobj)
    if lab.ndim == 4 and lab.shape[3] == 1:
        lab = lab[..., 0]
    vol = np.zeros(lab.shape, dtype=np.float32)
    for label, score, _ in regions:
        vol[lab == label] = score
    return nib.Nifti1Image(vol, img.affine)


def plot_points(points: Sequence[tuple[tuple[float, float, float], float, str]], title: str, metric: str) -> Any:
    """ROI centres on the glass brain, coloured and sized by score (nilearn ``plot_markers``)."""
    from matplotlib.figure import Figure
    from nilearn import plotting

    coords = np.array([p[0] for p in points], dtype=float)
    vals = np.array([p[1] for p in points], dtype=float)
    fig = Figure(figsize=(8.0, 2.6))
    vmin, vmax = float(np.min(vals)), float(np.max(vals))
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    span = np.ptp(vals) or 1.0
    base, scale = (30.0, 90.0) if len(vals) <= 30 else (8.0, 30.0)
    sizes = base + scale * (vals - vals.min()) / span
    plotting.plot_markers(vals, coords, node_size=sizes, node_cmap="viridis", node_vmin=vmin, node_vmax=vmax,
                          display_mode="lzry", figure=fig, title=f"{title} ({metric})", colorbar=True, alpha=0.9)
    return fig


def plot_volume(img: Any, title: str, *, stat: bool = True, glass: bool = False, threshold: Any = 1e-6) -> Any:
    """A volume in MNI space over nilearn's MNI152 template (``plot_stat_map``) or on the glass brain."""
    from matplotlib.figure import Figure
    from nilearn import plotting

    fig = Figure(figsize=(8.0, 2.7))
    if glass:
        plotting.plot_glass_brain(img, display_mode="lzry", figure=fig, title=title, colorbar=True,
                                  threshold=threshold, plot_abs=False, cmap="viridis"
                                  if float(np.nanmin(np.asarray(img.dataobj))) >= 0 else "RdBu_r")
    else:
        plotting.plot_stat_map(img, display_mode="ortho", figure=fig, title=title, colorbar=True,
                               threshold=threshold, cmap="RdBu_r" if stat else "viridis", draw_cross=False)
    return fig


def plot_r2_distribution(series: Iterable[tuple[str, np.ndarray]]) -> Any:
    """Histograms of per-voxel R² (one row per site), median marked."""
    import matplotlib

    from .figures import PALETTE, STYLE, new_figure

    items = list(series)
    with matplotlib.rc_context(STYLE):
        fig = new_figure(6.0, 0.9 + 1.1 * len(items))
        axes = np.atleast_1d(fig.subplots(len(items), 1, squeeze=False)).ravel()
        for i, (ax, (label, vals)) in enumerate(zip(axes, items)):
            v = np.asarray(vals, dtype=float)
            v = v[np.isfinite(v)]
            col = PALETTE[i % len(PALETTE)]
            ax.hist(v, bins=min(60, max(10, int(math.sqrt(max(1, v.size))))), color=col, alpha=0.8)
            if v.size:
                ax.axvline(float(np.median(v)), color="black", lw=0.8, ls="--")
            ax.set_title(f"{label}: median R\u00b2 {np.median(v):.3g} over {v.size} channels" if v.size else label,
                         loc="left", fontsize=8)
            ax.set_ylabel("channels")
        axes[-1].set_xlabel("R\u00b2 (held out)")
    return fig
