"""Built-in sections of the HTML report, and the ``neurorep report`` command.

Registered through ``register_report_sections`` and ``register_commands`` exactly like a
plugin's. Importing this module is cheap: matplotlib, pandas and nilearn are imported
only while a report is being rendered.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .. import hookimpl
from ..components import ReportSection
from ..report._html import SkipSection, esc, figure_html, fmt_num, note_html, table_html

__all__ = [
    "BrainMapSection",
    "EncodingSection",
    "MDSSection",
    "ProfilesSection",
    "ProvenanceSection",
    "RDMSection",
    "ResultsTableSection",
    "ScoreCubeSection",
    "SummarySection",
    "select_sites",
]


# =========================================================================== helpers

def _larger_is_better(run: Any):
    def f(component_id: Any) -> bool:
        tags = run.component_tags(component_id)
        return not (tags is not None and tags.larger_is_more_similar is False)
    return f


def _ci_text(lo: float, hi: float) -> str:
    if math.isfinite(lo) and math.isfinite(hi):
        return f"[{fmt_num(lo, 3)}, {fmt_num(hi, 3)}]"
    return "\u2013"


def _p_text(p: float) -> str:
    if not math.isfinite(p):
        return "\u2013"
    s = "< 0.001" if p < 0.001 else f"{p:.3f}"
    return f'<span class="sig">{s}</span>' if p < 0.05 else s


def _ceiling_text(lo: float, hi: float) -> str:
    if math.isfinite(lo) and math.isfinite(hi):
        return f"{fmt_num(lo, 3)}\u2013{fmt_num(hi, 3)}"
    if math.isfinite(lo) or math.isfinite(hi):
        return fmt_num(lo if math.isfinite(lo) else hi, 3)
    return "\u2013"


def _drop_empty(rows: list[list[str]], header: list[str], numeric: tuple[int, ...], keep: int = 5
                ) -> tuple[list[list[str]], list[str], tuple[int, ...]]:
    """Drop the columns (from index ``keep`` on) in which every cell is empty ("\u2013")."""
    cols = [j for j in range(len(header)) if j < keep or any(r[j] not in ("\u2013", "") for r in rows)]
    new_num = tuple(k for k, j in enumerate(cols) if j in numeric)
    return [[r[j] for j in cols] for r in rows], [header[j] for j in cols], new_num


def select_sites(sites: list[tuple[str, str]], cap: int) -> list[tuple[str, str]]:
    """At most ``cap`` sites: every site of small sources (<= 3 sites), evenly spaced sites of the others.

    Parameters
    ----------
    sites : list of (source, site)
        In order of appearance.
    cap : int

    Returns
    -------
    list of (source, site)
        A subsequence of ``sites`` (first and last site of each large source kept).
    """
    if len(sites) <= cap:
        return list(sites)
    by_src: dict[str, list[tuple[str, str]]] = {}
    for s in sites:
        by_src.setdefault(s[0], []).append(s)
    small = {k: v for k, v in by_src.items() if len(v) <= 3}
    large = [k for k in by_src if k not in small]
    budget = cap - sum(len(v) for v in small.values())
    if not large or budget < 2 * len(large):
        return list(sites[:cap])
    total = sum(len(by_src[k]) for k in large)
    keep: set[tuple[str, str]] = {s for v in small.values() for s in v}
    for k in large:
        n = len(by_src[k])
        m = max(2, min(n, int(budget * n / total)))
        for i in np.unique(np.round(np.linspace(0, n - 1, m)).astype(int)):
            keep.add(by_src[k][int(i)])
    return [s for s in sites if s in keep]


def _rdm_items(results: Any, run: Any, *, category: str | None, limit: int = 64) -> dict[str, Any]:
    """Square, category-ordered RDMs of the RSA sites (computed once per report, shared by sections)."""
    from ..report.figures import category_order, rsa_sites, square_rdm

    cache = run.__dict__.setdefault("_section_cache", {})
    key = ("rdm_items", category, limit)
    if key in cache:
        return cache[key]
    sites = rsa_sites(results, run)
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    for src, site in sites[:limit]:
        try:
            value = run.read(src, site)
            D, ids, desc = square_rdm(value, max_stimuli=2000)
        except Exception as exc:
            problems.append(f"{src}:{site}: {type(exc).__name__}: {exc}")
            continue
        order, cats, dname = category_order(ids, run.stimuli(src), category)
        items.append({"source": src, "site": site, "label": f"{src}:{site}", "matrix": D[np.ix_(order, order)],
                      "raw": D, "raw_ids": ids, "ids": [ids[i] for i in order], "categories": cats,
                      "descriptor": dname, "description": desc})
    out = {"sites": sites, "items": items, "problems": problems, "truncated": max(0, len(sites) - limit)}
    cache[key] = out
    return out


def _problems_html(problems: list[str]) -> str:
    if not problems:
        return ""
    lis = "".join(f"<li>{esc(p)}</li>" for p in problems)
    return f'<div class="error-box"><strong>Some inputs could not be read.</strong><ul>{lis}</ul></div>'


# =========================================================================== sections

class SummarySection(ReportSection):
    """Headline numbers: the best site per analysis and target, against its noise ceiling; failed tasks."""

    id = "report.summary"
    version = "1.0.0"
    citation = None
    title: ClassVar[str] = "Summary"
    order = 10

    def render(self, results: Any, run: Any) -> str:
        from ..report.figures import profile_groups

        n = len(results)
        failed = results[results["status"] == "failed"]
        analyses = list(dict.fromkeys(results["analysis"]))
        parts = [f"<p>{n} result row{'s' if n != 1 else ''} from {len(analyses)} "
                 f"analys{'es' if len(analyses) != 1 else 'is'} "
                 f"({', '.join(f'<code>{esc(a)}</code>' for a in analyses)}).</p>"]
        better = _larger_is_better(run)
        groups, _ = profile_groups(results)
        rows = []
        for g in groups:
            cid = results.loc[results["analysis"] == g.analysis, "component_id"].iloc[0]
            big = better(cid)
            for line in g.lines:
                s = line["score"]
                if not np.isfinite(s).any():
                    continue
                i = int(np.nanargmax(s) if big else np.nanargmin(s))
                lo, hi = float(line["ceiling_lower"][i]), float(line["ceiling_upper"][i])
                frac = (f"{100 * s[i] / lo:.0f}%" if math.isfinite(lo) and lo > 0 else "\u2013")
                rows.append([esc(g.analysis), esc(g.metric), esc(line["label"] or "\u2013"),
                             esc(g.tick_labels[i]), fmt_num(s[i]),
                             _ci_text(float(line["ci_low"][i]), float(line["ci_high"][i])),
                             _p_text(float(line["p_value"][i])), _ceiling_text(lo, hi), frac])
        if rows:
            parts.append("<h3>Best site per analysis and target</h3>")
            rows, header, num = _drop_empty(rows, ["analysis", "metric", "target", "best site", "score", "95% CI",
                                                   "p", "noise ceiling", "of lower ceiling"], (4, 5, 6, 7, 8))
            parts.append(table_html(rows, header, numeric=num, raw=True))
            note = "Best = highest score (lowest for distance metrics)."
            if "of lower ceiling" in header:
                note += (" \u201cOf lower ceiling\u201d is the score as a percentage of the lower bound of the noise "
                         "ceiling, where the analysis estimated one.")
            parts.append(note_html(note))
        if len(failed):
            frows = [[esc(r["analysis"]), esc(r["x"]), esc(r["y"] if isinstance(r["y"], str) else "\u2013"),
                      f'<span class="error-text">{esc(r["error"])}</span>'] for _, r in failed.iterrows()]
            parts.append(f'<div class="error-box"><strong>{len(failed)} task(s) failed.</strong> Their rows are in '
                         "the results table with status <code>failed</code>.</div>")
            parts.append(table_html(frows, ["analysis", "x", "y", "error"], raw=True))
        return "\n".join(parts)


class ProfilesSection(ReportSection):
    """Layer profiles: the score of each site (e.g. each model layer) with CIs, noise ceiling and significance.

    Parameters
    ----------
    max_lines : int, default=8
        Analyses with more targets than this are left to the score matrix.
    """

    id = "report.profiles"
    version = "1.0.0"
    citation = None
    title: ClassVar[str] = "Layer profiles"
    order = 20

    def __init__(self, max_lines: int = 8):
        self.max_lines = max_lines

    def render(self, results: Any, run: Any) -> str:
        from ..report.figures import plot_profile, profile_groups

        groups, skipped = profile_groups(results)
        if not groups:
            raise SkipSection("No profiles to draw: " + ("; ".join(skipped) if skipped else "no successful results."))
        parts = []
        better = _larger_is_better(run)
        for g in groups:
            if len(g.lines) > self.max_lines:
                skipped.append(f"{g.analysis} ({g.metric}): {len(g.lines)} targets; see the score matrix")
                continue
            cid = results.loc[results["analysis"] == g.analysis, "component_id"].iloc[0]
            fig = plot_profile(g, better(cid))
            has = {k: any(np.isfinite(line[k]).any() for line in g.lines)
                   for k in ("ci_low", "ceiling_lower", "ceiling_upper", "p_value")}
            bits = [f"<b>{esc(g.analysis)}</b> ({esc(g.metric)}, component <code>{esc(cid)}</code>): score per "
                    f"site of the {'x' if g.axis == 'x' else 'y'} input"]
            if len(g.lines) > 1 or g.lines[0]["label"] is not None:
                bits.append(", one line per " + ("y" if g.axis == "x" else "x") + " site")
            bits.append(". ")
            if has["ci_low"]:
                bits.append("Error bars: 95% confidence intervals. ")
            if has["ceiling_lower"] or has["ceiling_upper"]:
                bits.append("Shaded band: noise ceiling (lower to upper bound; dashed line = lower bound). ")
            if has["p_value"]:
                bits.append("* and filled markers: p &lt; 0.05; open markers: p \u2265 0.05 (uncorrected). ")
            if g.n_aggregated:
                bits.append(f"{g.n_aggregated} point(s) average several result rows. ")
            parts.append(figure_html(fig, alt=f"layer profile of {g.analysis}", caption="".join(bits)))
        if skipped:
            parts.append(note_html("Not drawn: " + "; ".join(skipped) + "."))
        if not any("<figure" in p for p in parts):
            raise SkipSection("No profiles to draw: " + "; ".join(skipped) + ".")
        return "\n".join(parts)


class ScoreCubeSection(ReportSection):
    """The model x brain score cube: one heatmap of x sites by y sites per analysis."""

    id = "report.score-cube"
    version = "1.0.0"
    citation = None
    title: ClassVar[str] = "Model \u00d7 brain score matrix"
    order = 30

    def render(self, results: Any, run: Any) -> str:
        from ..report.figures import cube_panels, plot_cube

        panels = cube_panels(results)
        if not panels:
            raise SkipSection("No two-input analyses with more than one comparison: nothing to tabulate.")
        parts = []
        for p in panels:
            fig = plot_cube(p)
            cap = (f"<b>{esc(p.analysis)}</b> ({esc(p.metric)}): {len(p.y_labels)} \u00d7 {len(p.x_labels)} "
                   "comparisons; columns are the x input's sites, rows the y input's. * p &lt; 0.05.")
            if p.mirrored:
                cap += " Pairs computed once (within one set of sites) are mirrored."
            parts.append(figure_html(fig, alt=f"score matrix of {p.analysis}", caption=cap))
        return '<div class="fig-row">' + "\n".join(parts) + "</div>"


class RDMSection(ReportSection):
    """Heatmaps of the RDMs that the run's RSA analyses compared, stimuli ordered by category.

    Parameters
    ----------
    max_rdms : int, default=16
        At most this many heatmaps (every site of small sources, evenly spaced sites of the others).
    category : str, optional
        Stimulus descriptor to order by; default: ``category`` (or a similar descriptor) when present.
    """

    id = "report.rdms"
    version = "1.0.0"
    citation = ("Kriegeskorte N, Mur M, Bandettini P (2008). Representational similarity analysis - connecting "
                "the branches of systems neuroscience. Front. Syst. Neurosci. 2:4. doi:10.3389/neuro.06.004.2008")
    title: ClassVar[str] = "Representational dissimilarity matrices"
    order = 40

    def __init__(self, max_rdms: int = 16, category: str | None = None):
        self.max_rdms = max_rdms
        self.category = category

    def render(self, results: Any, run: Any) -> str:
        from ..report.figures import plot_rdm_grid

        category = self.category or run.options.get("category")
        data = _rdm_items(results, run, category=category)
        items = data["items"]
        if not data["sites"]:
            raise SkipSection("No successful RSA analysis in this run (none of an analyzer taking RDMs): no RDMs "
                              "to show.")
        if not items:
            return _problems_html(data["problems"]) or note_html("No RDM could be read from the store.")
        chosen = set(select_sites([(it["source"], it["site"]) for it in items], self.max_rdms))
        shown = [it for it in items if (it["source"], it["site"]) in chosen]
        fig = plot_rdm_grid(shown)
        descs = sorted({it["descriptor"] for it in shown if it["descriptor"]})
        cap = ["Dissimilarities rank-transformed to percentiles within each RDM (so RDMs of different measures "
               "share one colour scale). "]
        if descs:
            cap.append(f"Stimuli ordered by the stimulus descriptor <code>{esc(', '.join(descs))}</code>; "
                       "white lines separate categories. ")
        else:
            cap.append("Stimuli in stored order (the stimulus set carries no category descriptor). ")
        n_total = len(items)
        if len(shown) < n_total:
            cap.append(f"Showing {len(shown)} of the {n_total} RDMs (evenly spaced sites; set "
                       "<code>[report.\"report.rdms\"] max_rdms</code> to show more). ")
        if data["truncated"]:
            cap.append(f"Only the first {len(data['sites']) - data['truncated']} of the {len(data['sites'])} RSA "
                       "inputs were read.")
        parts = [figure_html(fig, alt="RDM heatmaps", caption="".join(cap))]
        rows = [[esc(it["label"]), esc(it["description"]), str(len(it["ids"]))] for it in shown]
        parts.append(table_html(rows, ["RDM", "dissimilarity", "stimuli"], numeric=(2,), raw=True))
        parts.append(_problems_html(data["problems"]))
        return "\n".join(p for p in parts if p)


class MDSSection(ReportSection):
    """MDS of the RDMs: RDMs placed by how similar they are, and the stimuli of key RDMs.

    Parameters
    ----------
    max_stimulus_panels : int, default=4
        Stimulus-level MDS plots (targets of the RSA analyses first).
    """

    id = "report.mds"
    version = "1.0.0"
    citation = ("Torgerson WS (1952). Multidimensional scaling: I. Theory and method. Psychometrika 17(4):401-419. "
                "doi:10.1007/BF02288916")
    title: ClassVar[str] = "MDS of RDMs"
    order = 50

    def __init__(self, max_stimulus_panels: int = 4):
        self.max_stimulus_panels = max_stimulus_panels

    def render(self, results: Any, run: Any) -> str:
        from scipy.stats import rankdata

        from ..report.figures import classical_mds, plot_rdm_mds, plot_stimulus_mds

        category = run.options.get("category") or (run.options.get("report.rdms") or {}).get("category")
        data = _rdm_items(results, run, category=category)
        items = data["items"]
        if not data["sites"]:
            raise SkipSection("No successful RSA analysis in this run (none of an analyzer taking RDMs): nothing to "
                              "scale.")
        if not items:
            raise SkipSection("No RDM could be read from the store.")
        parts = []
        # second order: RDMs compared over their shared stimuli
        if len(items) >= 3:
            common = set(items[0]["raw_ids"])
            for it in items[1:]:
                common &= set(it["raw_ids"])
            ids = [s for s in items[0]["raw_ids"] if s in common]
            if len(ids) >= 4:
                vecs = []
                for it in items:
                    pos = {s: i for i, s in enumerate(it["raw_ids"])}
                    idx = np.array([pos[s] for s in ids])
                    sub = it["raw"][np.ix_(idx, idx)]
                    v = sub[np.triu_indices(len(ids), 1)]
                    vecs.append(rankdata(np.nan_to_num(v, nan=np.nanmean(v))))
                R = np.corrcoef(np.vstack(vecs))
                R = np.nan_to_num(R, nan=0.0)
                D = np.clip(1.0 - R, 0.0, None)
                np.fill_diagonal(D, 0.0)
                coords, w = classical_mds(D, 2)
                pos_w = w[w > 0]
                expl = 100 * w[:2].clip(0).sum() / pos_w.sum() if pos_w.size else float("nan")
                fig = plot_rdm_mds(coords, [it["site"] for it in items], [it["source"] for it in items])
                parts.append(figure_html(fig, alt="MDS of the RDMs", caption=(
                    f"Each point is one RDM; distance = 1 \u2212 Spearman \u03c1 between RDMs over the {len(ids)} "
                    "stimuli they share; classical (Torgerson) MDS. Lines join the sites of one source in order. "
                    f"The two dimensions hold {expl:.0f}% of the positive eigenvalue mass.")))
            else:
                parts.append(note_html(f"The RDMs share only {len(ids)} stimuli: no second-order MDS."))
        else:
            parts.append(note_html("Fewer than three RDMs: no second-order MDS."))
        # first order: the stimuli of the targets first
        targets = []
        ys = results.dropna(subset=["y_source"])
        target_sites = set(zip(ys["y_source"], ys["y_site"]))
        for it in items:
            if (it["source"], it["site"]) in target_sites:
                targets.append(it)
        for it in items:
            if it not in targets:
                targets.append(it)
        panels = []
        for it in targets[: self.max_stimulus_panels]:
            M = np.nan_to_num(it["matrix"], nan=float(np.nanmean(it["matrix"])))
            coords, _ = classical_mds((M + M.T) / 2, 2)
            panels.append({"label": it["label"], "coords": coords, "categories": it["categories"]})
        if panels:
            fig = plot_stimulus_mds(panels)
            parts.append(figure_html(fig, alt="MDS of the stimuli", caption=(
                "Stimuli placed by classical MDS of each RDM (targets of the RSA analyses first)"
                + ("; colours are stimulus categories." if any(p["categories"] for p in panels) else ".")
            )))
        return "\n".join(parts)


class BrainMapSection(ReportSection):
    """Per-ROI or per-voxel scores on the MNI template (nilearn), for results that carry MNI locations."""

    id = "report.brain-maps"
    version = "1.0.0"
    citation = None
    title: ClassVar[str] = "Scores on the brain"
    order = 60

    def render(self, results: Any, run: Any) -> str:
        from ..report.brain import map_items, spatial_items

        items = spatial_items(results, run, larger_is_better=_larger_is_better(run))
        maps = map_items(results, run, encoding=False)
        if not items and not maps:
            raise SkipSection("Nothing spatial in this run: no result carries MNI coordinates, an atlas region or a "
                              "voxel map (conventions: neurorep.report.brain).")
        try:
            import nilearn  # noqa: F401
        except ImportError:
            raise SkipSection("This run has spatial results, but nilearn is not installed; install it "
                              "(pip install nilearn) and rebuild with: neurorep report RUN_DIR.") from None
        from ..report.brain import _atlas_volume, plot_points, plot_volume

        parts = []
        for it in items:
            extra = (f" {it.n_collapsed} location(s) had several results; each shows its best score."
                     if it.n_collapsed else "")
            if it.points:
                fig = plot_points(it.points, it.analysis, it.metric)
                parts.append(figure_html(fig, alt=f"{it.analysis} on the glass brain", caption=(
                    f"<b>{esc(it.analysis)}</b> ({esc(it.metric)}): {len(it.points)} ROI/voxel location(s) in "
                    "MNI152 space, colour and size by score." + extra)))
            for path, regions in it.regions.items():
                img = _atlas_volume(Path(path), regions)
                fig = plot_volume(img, f"{it.analysis} ({it.metric})", stat=False)
                parts.append(figure_html(fig, alt=f"{it.analysis} per ROI", caption=(
                    f"<b>{esc(it.analysis)}</b> ({esc(it.metric)}): {len(regions)} ROI(s) of atlas "
                    f"<code>{esc(Path(path).name)}</code> painted with their score, on the MNI152 template."
                    + extra)))
        for title, path in maps:
            fig = plot_volume(_load_img(path), title, stat=True)
            parts.append(figure_html(fig, alt=title, caption=f"{esc(title)}: voxel map <code>{esc(path.name)}</code> "
                                     "on the MNI152 template."))
        return "\n".join(parts)


def _load_img(path: Path) -> Any:
    import nibabel as nib

    if not path.is_file():
        raise FileNotFoundError(f"The voxel map {str(path)!r} named in a result's extra['map'] does not exist.")
    return nib.load(str(path))


class EncodingSection(ReportSection):
    """Encoding-model R² maps: voxel maps on the MNI template, or per-voxel R² distributions.

    Parameters
    ----------
    max_markers : int, default=1500
        Voxel sets up to this size are drawn as markers; larger ones are painted on the 2 mm grid.
    """

    id = "report.encoding"
    version = "1.0.0"
    citation = None
    title: ClassVar[str] = "Encoding R\u00b2 maps"
    order = 70

    def __init__(self, max_markers: int = 1500):
        self.max_markers = max_markers

    def render(self, results: Any, run: Any) -> str:
        from ..report.brain import _json, coords_to_volume, is_encoding_metric, is_mni_space, map_items

        enc = results[(results["status"] != "failed") & results["metric"].map(is_encoding_metric)]
        if enc.empty:
            raise SkipSection("No encoding results (metric R\u00b2) in this run.")
        maps = map_items(results, run, encoding=True)
        spatial: list[tuple[str, np.ndarray, np.ndarray]] = []
        flat: list[tuple[str, np.ndarray]] = []
        for _, r in enc.iterrows():
            vals = _json(r["extra"]).get("per_channel")
            if not isinstance(vals, list) or not vals:
                continue
            v = np.asarray(vals, dtype=float)
            side = "y" if isinstance(r["y"], str) else "x"
            label = f"{r['analysis']}: {r['x']}" + (f" \u2192 {r['y']}" if side == "y" else "")
            coords = None
            space = run.site_space(r[f"{side}_source"], r[f"{side}_site"])
            if is_mni_space(space):
                rep = run.read(r[f"{side}_source"], r[f"{side}_site"])
                cd = getattr(rep, "channel_descriptors", {})
                if all(k in cd for k in ("x", "y", "z")) and len(cd["x"]) == v.size:
                    coords = np.c_[cd["x"], cd["y"], cd["z"]].astype(float)
            if coords is not None:
                spatial.append((label, coords, v))
            else:
                flat.append((label, v))
        if not maps and not spatial and not flat:
            raise SkipSection("The run has R\u00b2 scores (see the layer profiles) but no per-voxel values "
                              "(extra['per_channel']) or maps (extra['map']) to draw.")
        try:
            import nilearn  # noqa: F401
            have_nilearn = True
        except ImportError:
            have_nilearn = False
        from ..report.brain import plot_points, plot_r2_distribution, plot_volume

        parts = []
        if (maps or spatial) and not have_nilearn:
            parts.append(note_html("Voxel maps not drawn: nilearn is not installed (pip install nilearn)."))
            flat.extend((lab, v) for lab, _, v in spatial)
            maps, spatial = [], []
        for title, path in maps:
            fig = plot_volume(_load_img(path), title, stat=False)
            parts.append(figure_html(fig, alt=title, caption=f"{esc(title)}: R\u00b2 map "
                                     f"<code>{esc(path.name)}</code> on the MNI152 template."))
        for label, coords, v in spatial:
            if v.size <= self.max_markers:
                pts = [(tuple(c), float(val), "") for c, val in zip(coords, v) if np.isfinite(val)]
                fig = plot_points(pts, label, "R\u00b2")
                how = "each voxel a marker, colour and size by R\u00b2"
            else:
                img = coords_to_volume(coords, v)
                fig = plot_volume(img, label, glass=True, threshold=float(max(1e-6, np.nanpercentile(v, 50))))
                how = "painted on the 2 mm MNI152 grid; the better half shown"
            parts.append(figure_html(fig, alt=f"R2 of {label}", caption=(
                f"{esc(label)}: held-out R\u00b2 of {v.size} voxels on the glass brain ({how}; median "
                f"{np.nanmedian(v):.3g}).")))
        if flat:
            fig = plot_r2_distribution(flat[:12])
            parts.append(figure_html(fig, alt="distribution of voxel R2", caption=(
                "Held-out R\u00b2 per channel (no MNI coordinates to map them); dashed line: median."
                + (f" Showing 12 of {len(flat)}." if len(flat) > 12 else ""))))
        return "\n".join(parts)


class ResultsTableSection(ReportSection):
    """Every number of the run in one sortable, filterable table, with CSV and Parquet downloads.

    Parameters
    ----------
    max_rows : int, default=5000
        Rows shown in the page (the downloads hold all of them).
    """

    id = "report.results-table"
    version = "1.0.0"
    citation = None
    title: ClassVar[str] = "All results"
    order = 190

    #: Largest CSV embedded as a data URI (bytes); larger runs link the Parquet file only.
    MAX_EMBED_BYTES: ClassVar[int] = 25 * 2**20

    def __init__(self, max_rows: int = 5000):
        self.max_rows = max_rows

    def render(self, results: Any, run: Any) -> str:
        csv = results.to_csv(index=False).encode("utf-8")
        links = []
        if len(csv) <= self.MAX_EMBED_BYTES:
            uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(csv).decode("ascii")
            links.append(f'<a class="button" download="{esc(run.recipe_name)}-results.csv" href="{uri}">'
                         f"Download CSV ({len(csv) / 1024:.0f} KiB)</a>")
        links.append(f'<a class="button" href="{esc(run.href(run.results_path))}" download>results.parquet</a>')
        has_err = bool((results["status"] == "failed").any())
        cols = [("analysis", "analysis"), ("x", "x"), ("y", "y"), ("metric", "metric"), ("score", "score"),
                ("ci_low", "CI low"), ("ci_high", "CI high"), ("p_value", "p"), ("ceiling_lower", "ceiling low"),
                ("ceiling_upper", "ceiling high"), ("n", "n"), ("status", "status")]
        if has_err:
            cols.append(("error", "error"))
        numeric = {"score", "ci_low", "ci_high", "p_value", "ceiling_lower", "ceiling_upper", "n"}
        empty = [c for c in ("ci_low", "ci_high", "p_value", "ceiling_lower", "ceiling_upper")
                 if not np.isfinite(results[c].astype(float)).any()]
        cols = [(c, t) for c, t in cols if c not in empty]
        shown = results.head(self.max_rows)
        head = "".join(f'<th{" class=num" if c in numeric else ""}>{esc(t)}</th>' for c, t in cols)
        body = []
        for i, (_, r) in enumerate(shown.iterrows()):
            cells = []
            for c, _t in cols:
                v = r[c]
                if c in numeric:
                    fv = float(v) if v is not None else math.nan
                    shown_v = str(int(fv)) if c == "n" and math.isfinite(fv) else fmt_num(fv)
                    dv = repr(fv) if math.isfinite(fv) else ""
                    cells.append(f'<td class="num" data-v="{dv}">{shown_v}</td>')
                elif c == "status":
                    cells.append(f'<td><span class="pill {esc(v)}">{esc(v)}</span></td>')
                elif c == "error":
                    cells.append(f'<td class="error-text">{esc(v) if isinstance(v, str) else ""}</td>')
                else:
                    cells.append(f"<td>{esc(v) if isinstance(v, str) else chr(8211)}</td>")
            body.append(f'<tr data-row="{i}">' + "".join(cells) + "</tr>")
        note = ""
        if len(results) > len(shown):
            note = note_html(f"Showing the first {len(shown)} of {len(results)} rows; the downloads hold all of them.")
        return (
            '<div class="toolbar">' + "".join(links)
            + '<input type="search" placeholder="Filter rows\u2026" aria-label="Filter rows" '
            'data-filter="results-table">'
            f'<span class="count" id="results-table-count">{len(shown)} rows</span></div>'
            '<p class="note">Click a column to sort. Scores are shown to 4 significant digits; the downloads hold '
            "full precision and every column (params, transforms, extra, task keys)."
            + (f" Columns this run left empty are not shown: {', '.join(empty)}." if empty else "") + "</p>"
            f'<div class="table-wrap tall"><table class="data sortable" id="results-table"><thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div>{note}"
        )


class ProvenanceSection(ReportSection):
    """The recipe and everything needed to reproduce the run: hash, plugins and versions, environment, seeds."""

    id = "report.provenance"
    version = "1.0.0"
    citation = None
    title: ClassVar[str] = "Recipe and provenance"
    order = 200

    def render(self, results: Any, run: Any) -> str:
        prov = run.provenance
        rec = prov.get("recipe") or {}
        parts = []
        kv = [("recipe", f"<code>{esc(rec.get('name'))}</code>"),
              ("recipe sha256", f"<code>{esc(rec.get('recipe_hash') or rec.get('sha256'))}</code>"),
              ("started", esc(prov.get("started_at") or "\u2013")),
              ("finished", esc(prov.get("finished_at") or "\u2013")),
              ("duration", f"{float(prov['duration_s']):.1f} s" if prov.get("duration_s") is not None else "\u2013"),
              ("executor", f"<code>{esc(json.dumps(prov.get('executor') or {}, sort_keys=True))}</code>"),
              ("seeds", f"<code>{esc(json.dumps(prov.get('seeds') or {}, sort_keys=True))}</code>"),
              ("store dtype", esc(prov.get("store_dtype") or "as produced")),
              ("tasks", esc(", ".join(f"{k.removeprefix('n_')} {v}" for k, v in (prov.get("summary") or {}).items()))),
              ("run folder", f"<code>{esc(run.run_dir)}</code>")]
        parts.append(_kv_table(kv))
        parts.append("<h3>Recipe</h3>")
        parts.append(f'<pre class="recipe"><code>{esc(rec.get("text") or "(no recipe text recorded)")}</code></pre>')
        comps = prov.get("components") or []
        if comps:
            parts.append("<h3>Components used</h3>")
            parts.append(table_html([[f"<code>{esc(c.get('id'))}</code>", esc(c.get("kind")), esc(c.get("version")),
                                      esc(f"{c.get('distribution')} {c.get('distribution_version') or ''}".strip()),
                                      f"<code>{esc(c.get('class'))}</code>"] for c in comps],
                                    ["id", "kind", "version", "distribution", "class"], raw=True))
        plugins = prov.get("plugins") or []
        if plugins:
            parts.append("<h3>Plugins</h3>")
            parts.append(table_html([[esc(p.get("name")), esc(p.get("distribution")), esc(p.get("version")),
                                      "built-in" if p.get("builtin") else "external"] for p in plugins],
                                    ["plugin", "distribution", "version", "origin"], raw=True))
        errs = prov.get("plugin_errors") or []
        if errs:
            lis = "".join(f"<li><code>{esc(e.get('plugin'))}</code> ({esc(e.get('stage'))}): {esc(e.get('error'))}</li>"
                          for e in errs)
            parts.append(f'<div class="error-box"><strong>Plugins that failed to load during the run.</strong>'
                         f"<ul>{lis}</ul></div>")
        env = prov.get("environment") or {}
        if env:
            parts.append("<h3>Environment</h3>")
            parts.append(_kv_table([(esc(k), esc(v if v is not None else "not installed")) for k, v in env.items()]))
        sections = [c for c in run.registry if c.kind == "report_section"]
        if sections:
            parts.append("<h3>Report sections</h3>")
            parts.append(table_html([[f"<code>{esc(c.id)}</code>", esc(c.version),
                                      esc(f"{c.distribution} {c.dist_version}")] for c in sections],
                                    ["section", "version", "distribution"], raw=True))
        return "\n".join(parts)


def _kv_table(pairs: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in pairs)
    return f'<div class="table-wrap"><table class="kv"><tbody>{rows}</tbody></table></div>'


BUILTIN_SECTIONS = (SummarySection, ProfilesSection, ScoreCubeSection, RDMSection, MDSSection, BrainMapSection,
                    EncodingSection, ResultsTableSection, ProvenanceSection)


@hookimpl
def register_report_sections(register):
    for cls in BUILTIN_SECTIONS:
        register(cls)


@hookimpl
def register_commands(cli):
    import click

    @cli.command("report")
    @click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Where to write the HTML file (default: RUN_DIR/report.html).")
    def report_cmd(run_dir: Path, out_path: Path | None) -> None:
        """Write the self-contained HTML report of the run in RUN_DIR."""
        import sys

        from ..report import ReportError, build_report

        try:
            path = build_report(run_dir, out_path)
        except ReportError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        click.echo(f"report: {path}")
