"""The HTML report of a run: one self-contained file, built from report-section components.

``build_report(run_dir)`` reads ``RUN_DIR/results.parquet``, ``provenance.json`` and the
representation store, renders every registered :class:`neurorep.ReportSection` (built-in
ones and those plugins register through ``register_report_sections``) with jinja2, and
writes ``RUN_DIR/report.html``. Figures are matplotlib PNGs embedded as data URIs; the page
carries its own CSS and script and refers to no network resource, so it works offline and
can be mailed or archived as one file.

Writing a section (in a plugin)::

    import neurorep
    from neurorep.report import SkipSection, figure_html, new_figure

    class MySection(neurorep.ReportSection):
        id = "myplugin.summary"
        version = "1.0.0"
        citation = None
        title = "My analysis"
        order = 100              # built-in figures use 10-70, the table 190, provenance 200

        def render(self, results, run):
            rows = results[results["component_id"] == "myplugin.metric"]
            if rows.empty:
                raise SkipSection("No myplugin.metric results in this run.")
            fig = new_figure(5, 3)
            fig.subplots().plot(rows["score"].to_numpy())
            return figure_html(fig, alt="scores", caption="Scores of myplugin.metric.")

    @neurorep.hookimpl
    def register_report_sections(register):
        register(MySection)

``results`` is the results table (a pandas DataFrame, the columns of ``results.parquet``);
``run`` is a :class:`ReportRun` (folder, provenance, store, stimuli). A section that raises
is shown as an error box; the rest of the report is unaffected.

Recipes tune the report in their ``[report]`` table: ``title``, ``category`` (the stimulus
descriptor to order RDMs by), ``exclude = ["report.mds", ...]`` and per-section parameters
in ``[report."<section id>"]`` (e.g. ``[report."report.rdms"] max_rdms = 8``).
"""

from __future__ import annotations

from ._build import REPORT_NAME, SectionOutput, build_report, render_sections, section_anchor
from ._html import FIGURE_DPI, SkipSection, esc, figure_html, figure_to_data_uri, fmt_num, note_html, table_html
from ._run import ReportError, ReportRun
from .figures import classical_mds, new_figure

__all__ = [
    "FIGURE_DPI",
    "REPORT_NAME",
    "ReportError",
    "ReportRun",
    "SectionOutput",
    "SkipSection",
    "build_report",
    "classical_mds",
    "esc",
    "figure_html",
    "figure_to_data_uri",
    "fmt_num",
    "new_figure",
    "note_html",
    "render_sections",
    "section_anchor",
    "table_html",
]
