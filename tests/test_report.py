"""The HTML report: built at the end of a run, self-contained, every section present, plugins contribute."""

from __future__ import annotations

import base64
import io
import json
import math
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _report_fixtures import RICH_CATEGORIES, run_quickstart, shared_quickstart, shared_rich

import neurorep
from neurorep.builtin import report_sections as rs
from neurorep.plugins import PluginSystem, get_plugin_system
from neurorep.report import SkipSection, build_report, classical_mds, section_anchor
from neurorep.report.figures import category_order, cube_panels, profile_groups
from neurorep.testing import parametrize_with_checks

# --------------------------------------------------------------------------- parsing

class _Page(HTMLParser):
    """Ids, every src/href attribute, images, TOC links and the results table's rows of a report."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.imgs: list[str] = []
        self.toc: list[str] = []
        self.rows: list[list[tuple[dict[str, str], str]]] = []
        self._stack: list[str] = []
        self._in_toc = False
        self._in_results = False
        self._row: list[tuple[dict[str, str], str]] | None = None
        self._cell: tuple[dict[str, str], list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        for k in ("src", "href", "action", "poster", "data"):
            if k in a and tag != "td":
                self.urls.append((tag, k, a[k]))
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "nav" and a.get("id") == "toc":
            self._in_toc = True
        if self._in_toc and tag == "a":
            self.toc.append(a.get("href", ""))
        if tag == "table" and a.get("id") == "results-table":
            self._in_results = True
        if self._in_results and tag == "tr" and self._stack and self._stack[-1] == "tbody":
            self._row = []
        if self._row is not None and tag == "td":
            self._cell = (a, [])
        if tag not in ("img", "br", "meta", "input", "link"):
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_toc = False
        if tag == "table":
            self._in_results = False
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append((self._cell[0], "".join(self._cell[1]).strip()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1].append(data)


def _parse(path: Path) -> tuple[_Page, str]:
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    return page, html


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def quickstart():
    return shared_quickstart()


@pytest.fixture(scope="module")
def rich():
    pytest.importorskip("nilearn", reason="the brain-map sections draw with nilearn (requirements-test.txt)")
    return shared_rich()


# --------------------------------------------------------------------------- the quick-start report

def test_run_writes_the_report_and_reports_its_path(quickstart):
    out, summary = quickstart
    assert summary["n_failed"] == 0
    assert Path(summary["report_path"]) == (out / "report.html").resolve()
    assert Path(summary["report_path"]).stat().st_size > 10_000
    assert "report_error" not in summary


def test_report_has_every_section_anchor_and_a_resolving_toc(quickstart):
    out, summary = quickstart
    page, html = _parse(Path(summary["report_path"]))
    sections = [c.id for c in get_plugin_system().registry if c.kind == "report_section"]
    for cls in rs.BUILTIN_SECTIONS:
        assert cls.id in sections
    for sid in sections:
        assert section_anchor(sid) in page.ids, f"section {sid} has no anchor"
        assert f'href="#{section_anchor(sid)}"' in html
    assert len(page.toc) == len(sections)
    for href in page.toc:
        assert href.startswith("#") and href[1:] in page.ids
    # sections appear in their declared order
    order = [html.index(f'id="{section_anchor(s)}"') for s in sorted(
        sections, key=lambda s: (get_plugin_system().registry.get(s).cls.order, s))]
    assert order == sorted(order)
    assert "This section failed" not in html


def test_report_embeds_every_image_as_a_png_data_uri(quickstart):
    _, summary = quickstart
    page, _ = _parse(Path(summary["report_path"]))
    assert len(page.imgs) >= 5  # profile, 2 score matrices, RDM grid, 2 MDS
    for src in page.imgs:
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.split(",", 1)[1])
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
        assert w > 50 and h > 50


def test_report_refers_to_no_network_resource(quickstart):
    _, summary = quickstart
    page, html = _parse(Path(summary["report_path"]))
    assert page.urls, "the parser found no src/href at all"
    for tag, attr, value in page.urls:
        v = value.strip().lower()
        assert not v.startswith(("http:", "https:", "//", "ftp:")), f"<{tag} {attr}={value[:80]!r}>"
        assert v.startswith(("#", "data:")) or "://" not in v, f"<{tag} {attr}={value[:80]!r}>"
    lowered = html.lower()
    assert "<link" not in lowered
    assert "@import" not in lowered and "url(http" not in lowered
    assert "<script src" not in lowered


def test_results_table_holds_every_row_and_score(quickstart):
    out, summary = quickstart
    page, _ = _parse(Path(summary["report_path"]))
    df = pd.read_parquet(out / "results.parquet")
    assert len(page.rows) == len(df)
    for (_, r), cells in zip(df.iterrows(), page.rows):
        texts = [c[1] for c in cells]
        assert texts[0] == r["analysis"] and texts[1] == r["x"] and texts[2] == (r["y"] if isinstance(r["y"], str) else "\u2013")
        score_cell = cells[4]
        assert float(score_cell[0]["data-v"]) == r["score"]  # full precision in the attribute
        assert score_cell[1] == f"{r['score']:.4g}"          # 4 significant digits on the page


def test_downloads_csv_equals_results_and_parquet_link_is_relative(quickstart):
    out, summary = quickstart
    page, _ = _parse(Path(summary["report_path"]))
    csv = [v for t, a, v in page.urls if t == "a" and v.startswith("data:text/csv")]
    assert len(csv) == 1
    got = pd.read_csv(io.BytesIO(base64.b64decode(csv[0].split(",", 1)[1])))
    want = pd.read_parquet(out / "results.parquet")
    assert list(got.columns) == list(want.columns)
    np.testing.assert_array_equal(got["score"].to_numpy(), want["score"].to_numpy())
    assert list(got["task_key"]) == list(want["task_key"])
    parquet = [v for t, a, v in page.urls if t == "a" and v.endswith("results.parquet")]
    assert parquet == ["results.parquet"]
    assert (Path(summary["report_path"]).parent / parquet[0]).is_file()


def test_report_written_elsewhere_links_parquet_relative_to_itself(quickstart, tmp_path):
    out, _ = quickstart
    path = build_report(out, tmp_path / "sub" / "r.html")
    page, _ = _parse(path)
    link = [v for t, a, v in page.urls if t == "a" and v.endswith("results.parquet")][0]
    assert not link.startswith("/")
    assert (path.parent / link).resolve() == (out / "results.parquet").resolve()


def test_report_shows_the_recipe_and_provenance(quickstart):
    out, summary = quickstart
    _, html = _parse(Path(summary["report_path"]))
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["recipe"]["recipe_hash"] in html
    assert 'name = &#34;quickstart&#34;' in html or 'name = &quot;quickstart&quot;' in html
    for comp in prov["components"]:
        assert comp["id"] in html
    assert f"numpy</th><td>{prov['environment']['numpy']}" in html


# --------------------------------------------------------------------------- plugins and failures

def _plugin_with(*sections):
    class Plugin:
        @neurorep.hookimpl
        def register_report_sections(self, register):
            for s in sections:
                register(s)

    return Plugin()


class _PlantedSection(neurorep.ReportSection):
    """A plugin's section (test)."""

    id = "reporttest.planted"
    version = "1.0.0"
    citation = None
    title = "Planted plugin section"
    order = 15

    def render(self, results, run):
        return f"<p id='planted-body'>planted rows={len(results)} recipe={run['recipe_name']}</p>"


class _BrokenSection(neurorep.ReportSection):
    """A section that raises (test)."""

    id = "reporttest.broken"
    version = "1.0.0"
    citation = None
    title = "Broken section"
    order = 16

    def render(self, results, run):
        raise ValueError("planted failure 4242 in a report section")


class _EmptySection(neurorep.ReportSection):
    """A section with nothing to show (test)."""

    id = "reporttest.empty"
    version = "1.0.0"
    citation = None
    title = "Empty section"
    order = 17

    def render(self, results, run):
        raise SkipSection("nothing planted here")


def test_plugin_section_appears_in_order(quickstart, tmp_path):
    out, _ = quickstart
    system = PluginSystem(load_entry_points=False, extra_plugins=[("reporttest", _plugin_with(_PlantedSection))])
    assert not system.errors
    path = build_report(out, tmp_path / "r.html", system=system)
    page, html = _parse(path)
    anchor = section_anchor("reporttest.planted")
    assert anchor in page.ids and f"#{anchor}" in page.toc
    n = len(pd.read_parquet(out / "results.parquet"))
    assert f"planted rows={n} recipe=quickstart" in html
    # order 15: after the summary (10), before the profiles (20)
    assert (html.index(f'id="{section_anchor("report.summary")}"') < html.index(f'id="{anchor}"')
            < html.index(f'id="{section_anchor("report.profiles")}"'))


def test_failing_section_is_an_error_box_and_the_rest_renders(quickstart, tmp_path):
    out, _ = quickstart
    system = PluginSystem(load_entry_points=False,
                          extra_plugins=[("reporttest", _plugin_with(_BrokenSection, _EmptySection, _PlantedSection))])
    path = build_report(out, tmp_path / "r.html", system=system)
    page, html = _parse(path)
    broken = html[html.index(f'id="{section_anchor("reporttest.broken")}"'):]
    broken = broken[:broken.index("</section>")]
    assert 'class="error-box"' in broken
    assert "planted failure 4242 in a report section" in broken and "ValueError" in broken
    assert '<li class="toc-error"><a href="#sec-reporttest-broken">' in html
    empty = html[html.index(f'id="{section_anchor("reporttest.empty")}"'):]
    assert 'class="note">nothing planted here<' in empty[:empty.index("</section>")]
    assert "planted rows=" in html  # sections after the broken one still render
    assert len(page.rows) == len(pd.read_parquet(out / "results.parquet"))
    assert html.count("This section failed") == 1


def test_report_failure_keeps_the_results(tmp_path, monkeypatch, capsys):
    import neurorep.report as report

    def boom(*a, **k):
        raise RuntimeError("planted report failure")

    monkeypatch.setattr(report, "build_report", boom)
    summary = run_quickstart(tmp_path / "run")
    assert "report_path" not in summary
    assert summary["report_error"] == "RuntimeError: planted report failure"
    assert len(pd.read_parquet(summary["results_path"])) == summary["n_rows"] > 0
    assert "planted report failure" in capsys.readouterr().err


def test_cli_report_command(quickstart, tmp_path):
    out, _ = quickstart
    target = tmp_path / "cli.html"
    proc = subprocess.run([sys.executable, "-m", "neurorep.cli", "report", str(out), "--out", str(target)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == f"report: {target}"
    page, _ = _parse(target)
    assert section_anchor("report.results-table") in page.ids
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "neurorep.cli", "report", str(empty)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "No results in" in proc.stderr and "neurorep run RECIPE --out RUN_DIR" in proc.stderr


# --------------------------------------------------------------------------- every section with data

def _section(html: str, sid: str) -> str:
    s = html[html.index(f'id="{section_anchor(sid)}"'):]
    return s[:s.index("</section>")]


def test_rich_run_renders_every_section_with_figures(rich):
    out, planted, path = rich
    page, html = _parse(path)
    assert "This section failed" not in html
    for sid in ("report.profiles", "report.score-cube", "report.rdms", "report.mds", "report.brain-maps",
                "report.encoding"):
        assert "<img" in _section(html, sid), sid
    assert "ordered by the stimulus descriptor <code>category</code>" in _section(html, "report.rdms")
    prof = _section(html, "report.profiles")
    assert "noise ceiling" in prof and "95% confidence" in prof and "p &lt; 0.05" in prof
    brain = _section(html, "report.brain-maps")
    assert brain.count("<img") == 5  # rsa points, rsa atlas, decoding points, searchlight point, searchlight map
    assert "rois.nii.gz" in brain and "accuracy.nii.gz" in brain
    enc = _section(html, "report.encoding")
    assert enc.count("<img") == 2 and "r2.nii.gz" in enc and "50 voxels" in enc
    # the failed task is listed in the summary with its error
    assert "planted failure for the report test" in _section(html, "report.summary")
    assert len(page.rows) == len(planted["rows"])


def test_rich_summary_names_the_best_layer_per_target(rich):
    _, _, path = rich
    summary = _section(path.read_text(), "report.summary")
    # planted: V1 peaks at layer1 (0.30), IT at layer3 (0.35, 88% of the 0.40 lower ceiling), FFA at layer3
    assert "<td>brain:V1</td><td>layer1</td><td class=num>0.3</td>" in summary
    assert "<td>brain:IT</td><td>layer3</td><td class=num>0.35</td>" in summary
    assert "88%" in summary


def test_sections_skip_with_a_note_when_nothing_applies(quickstart):
    _, summary = quickstart
    html = Path(summary["report_path"]).read_text()
    for sid, words in (("report.brain-maps", "Nothing spatial in this run"),
                       ("report.encoding", "No encoding results")):
        sec = _section(html, sid)
        assert 'class="note"' in sec and words in sec and "<img" not in sec


# --------------------------------------------------------------------------- the numbers behind the figures

def test_classical_mds_recovers_euclidean_configuration():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 3)) * [5.0, 2.0, 0.5]
    D = np.linalg.norm(X[:, None] - X[None], axis=-1)
    Y, w = classical_mds(D, 3)
    np.testing.assert_allclose(np.linalg.norm(Y[:, None] - Y[None], axis=-1), D, atol=1e-9)
    assert np.all(np.abs(w[3:]) < 1e-8)              # rank 3: the rest vanish
    np.testing.assert_allclose(w[:3], np.sort(np.linalg.eigvalsh(np.cov(X.T, bias=True) * 12))[::-1], rtol=1e-9)
    Y2, _ = classical_mds(D, 2)                       # the first two axes explain the most variance
    assert np.var(Y2[:, 0]) >= np.var(Y2[:, 1])


def test_category_order_groups_stably():
    ids = [f"s{i}" for i in range(8)]
    stim = neurorep.StimulusSet(ids=tuple(ids), descriptors={"category": np.array(list("abcabcba"))})
    order, labels, name = category_order(ids[::-1], stim)
    rev = ids[::-1]  # s7 s6 ... s0 with categories a b c b a c b a
    assert name == "category"
    assert [rev[i] for i in order] == ["s7", "s3", "s0", "s6", "s4", "s1", "s5", "s2"]
    assert labels == list("aaabbbcc")
    order2, labels2, _ = category_order(ids, None)
    assert list(order2) == list(range(8)) and labels2 is None


def test_select_sites_keeps_small_sources_and_spaces_large_ones():
    sites = [("net", f"b{i}") for i in range(20)] + [("brain", "hIT"), ("brain", "mIT"), ("beh", "judgement")]
    got = rs.select_sites(sites, 10)
    assert len(got) <= 10
    assert ("brain", "hIT") in got and ("brain", "mIT") in got and ("beh", "judgement") in got
    net = [s for s in got if s[0] == "net"]
    assert net[0] == ("net", "b0") and net[-1] == ("net", "b19") and len(net) >= 5
    assert got == [s for s in sites if s in got]  # original order
    assert rs.select_sites(sites[:5], 10) == sites[:5]


def _rows(entries):
    cols = dict(analysis=None, x=None, y=None, metric="m", score=np.nan, ci_low=np.nan, ci_high=np.nan,
                p_value=np.nan, ceiling_lower=np.nan, ceiling_upper=np.nan, status="ok", component_id="c.x")
    return pd.DataFrame([{**cols, **e} for e in entries])


def test_cube_and_profiles_place_planted_scores():
    rng = np.random.default_rng(0)
    S = rng.normal(size=(2, 3))
    entries = [dict(analysis="a", x=f"net:l{j}", y=f"brain:r{i}", score=S[i, j], p_value=0.01 if S[i, j] > 0 else 0.5)
               for j in range(3) for i in range(2)]
    entries += [dict(analysis="w", x=f"net:l{i}", y=f"net:l{j}", score=10 * i + j)
                for i in range(3) for j in range(i, 3)]
    entries += [dict(analysis="a", x="net:l9", y="brain:r0", status="failed")]
    df = _rows(entries)
    panels = {p.analysis: p for p in cube_panels(df)}
    np.testing.assert_array_equal(panels["a"].scores, S)
    assert panels["a"].x_labels == ["net:l0", "net:l1", "net:l2"] and not panels["a"].mirrored
    W = panels["w"].scores
    assert panels["w"].mirrored
    np.testing.assert_array_equal(W, W.T)
    assert W[0, 2] == 2 and W[2, 0] == 2 and W[1, 1] == 11
    groups, skipped = profile_groups(df)
    assert [g.analysis for g in groups] == ["a"] and any(s.startswith("w ") for s in skipped)
    g = groups[0]
    assert g.axis == "x" and g.tick_labels == ["l0", "l1", "l2"]
    assert [line["label"] for line in g.lines] == ["brain:r0", "brain:r1"]
    np.testing.assert_array_equal(np.vstack([line["score"] for line in g.lines]), S)


def test_rich_categories_are_interleaved_in_id_order():
    # guards the fixture: ordering by category must actually move stimuli
    order, labels, _ = category_order([f"s{i:02d}" for i in range(24)],
                                      neurorep.StimulusSet(ids=tuple(f"s{i:02d}" for i in range(24)),
                                                           descriptors={"category": RICH_CATEGORIES}))
    assert list(order) != list(range(24)) and labels == sorted(labels, key=["face", "body", "house", "tool"].index)
    assert math.isclose(len(set(labels)), 4)


@parametrize_with_checks([cls() for cls in rs.BUILTIN_SECTIONS])
def test_builtin_sections_conformance(component, check):
    check(component)


def test_spatial_items_locate_results_by_extra_site_space_and_sphere_centre():
    from neurorep.report.brain import spatial_items

    class FakeRun:
        run_dir = Path("/nonexistent")
        spaces = {("brain", "roi-a"): {"mni": [10, 20, 30]},
                  ("brain", "sphere"): {"space": "MNI152NLin2009cAsym", "center_mm": [-40, -60, -10]},
                  ("brain", "native"): {"center_mm": [1, 2, 3]},  # not MNI: not placed
                  ("brain", "atlas-roi"): {"atlas": {"path": "atlas.nii.gz", "label": 7}}}

        def site_space(self, src, site):
            return dict(self.spaces.get((src, site), {}))

    df = _rows([
        dict(analysis="a", x="net:l1", y="brain:roi-a", score=0.2, x_source="net", x_site="l1", y_source="brain",
             y_site="roi-a", extra="{}"),
        dict(analysis="a", x="net:l2", y="brain:roi-a", score=0.5, x_source="net", x_site="l2", y_source="brain",
             y_site="roi-a", extra="{}"),
        dict(analysis="a", x="net:l1", y="brain:sphere", score=0.3, x_source="net", x_site="l1", y_source="brain",
             y_site="sphere", extra="{}"),
        dict(analysis="a", x="net:l1", y="brain:native", score=0.9, x_source="net", x_site="l1", y_source="brain",
             y_site="native", extra="{}"),
        dict(analysis="a", x="net:l1", y="brain:atlas-roi", score=0.4, x_source="net", x_site="l1",
             y_source="brain", y_site="atlas-roi", extra="{}"),
        dict(analysis="b", x="vox:v", y=None, score=0.7, x_source="vox", x_site="v", y_source=None, y_site=None,
             extra=json.dumps({"mni": [0, -50, 20]})),
    ])
    items = {it.analysis: it for it in spatial_items(df, FakeRun())}
    a = items["a"]
    assert sorted(a.points) == [((-40.0, -60.0, -10.0), 0.3, "brain:sphere"), ((10.0, 20.0, 30.0), 0.5, "brain:roi-a")]
    assert a.n_collapsed == 1  # roi-a had two results; the better (0.5) is shown
    assert a.regions == {str(Path("/nonexistent/atlas.nii.gz")): [(7, 0.4, "brain:atlas-roi")]}
    assert items["b"].points == [((0.0, -50.0, 20.0), 0.7, "vox:v")]
    worse = {it.analysis: it for it in spatial_items(df, FakeRun(), larger_is_better=lambda cid: False)}["a"]
    assert ((10.0, 20.0, 30.0), 0.2, "brain:roi-a") in worse.points
