"""Assemble the HTML report of a run from the registered report sections."""

from __future__ import annotations

import os
import re
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._html import SkipSection, esc, note_html
from ._run import ReportError, ReportRun

__all__ = ["SectionOutput", "build_report", "render_sections", "section_anchor"]

#: The report's file name inside the run folder.
REPORT_NAME = "report.html"


@dataclass
class SectionOutput:
    """One rendered section."""

    id: str
    anchor: str
    title: str
    html: str
    status: str  # "ok", "skipped" or "error"
    plugin: str = ""
    seconds: float = 0.0


def section_anchor(component_id: str) -> str:
    """The HTML id of a section: ``"sec-"`` + its component id with dots as dashes."""
    return "sec-" + re.sub(r"[^a-z0-9-]+", "-", component_id.lower())


def _title(cls: type) -> str:
    t = getattr(cls, "title", None)
    if isinstance(t, str) and t.strip():
        return t.strip()
    return (cls.description or cls.id).strip()


def _error_box(message: str, tb: str = "") -> str:
    details = (f"<details><summary>traceback</summary><pre>{esc(tb)}</pre></details>" if tb else "")
    return f'<div class="error-box" role="alert"><strong>This section failed.</strong> {esc(message)}{details}</div>'


def render_sections(results: Any, run: ReportRun) -> list[SectionOutput]:
    """Render every registered report section (kind ``report_section``) in ``order``.

    A section's parameters come from the recipe's ``[report."<section id>"]`` table; a
    recipe's ``[report] exclude = ["<section id>", ...]`` leaves sections out. A section
    raising :class:`SkipSection` shows its message as a note; any other exception is
    shown as an error box (with the traceback) and the other sections render as usual.
    """
    exclude = set(run.options.get("exclude") or [])
    infos = [c for c in run.registry if c.kind == "report_section" and c.id not in exclude]
    infos.sort(key=lambda c: (getattr(c.cls, "order", 100), c.id))
    out: list[SectionOutput] = []
    for info in infos:
        cls = info.cls
        title = _title(cls)
        t0 = time.perf_counter()
        status = "ok"
        try:
            params = run.options.get(info.id)
            section = cls.from_params(params if isinstance(params, dict) else None)
            html = section.render(results, run)
            if not isinstance(html, str):
                raise TypeError(f"render() must return an HTML fragment (str), got {type(html).__name__}.")
        except SkipSection as exc:
            html, status = note_html(str(exc)), "skipped"
        except Exception as exc:
            msg = f"Report section {info.id!r} ({info.distribution} {info.dist_version}) raised " \
                  f"{type(exc).__name__}: {exc}"
            html, status = _error_box(msg, traceback.format_exc()), "error"
        out.append(SectionOutput(info.id, section_anchor(info.id), title, html, status, info.plugin,
                                 time.perf_counter() - t0))
    return out


def _template_env() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("neurorep.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _read_css() -> str:
    from importlib import resources

    return resources.files("neurorep.report").joinpath("templates", "report.css").read_text(encoding="utf-8")


def build_report(run_dir: str | os.PathLike[str], out_path: str | os.PathLike[str] | None = None, *,
                 system: Any = None) -> Path:
    """Write the self-contained HTML report of a finished run.

    Parameters
    ----------
    run_dir : path-like
        The run's output folder (holding ``results.parquet`` and ``provenance.json``).
    out_path : path-like, optional
        Default ``RUN_DIR/report.html``.
    system : neurorep.plugins.PluginSystem, optional
        Whose report sections to render; default: the process-wide one.

    Returns
    -------
    pathlib.Path
        The report file. It embeds every figure (PNG data URIs) and its CSS and script,
        refers to no network resource, and links ``results.parquet`` relative to itself.

    Raises
    ------
    ReportError
        ``run_dir`` holds no finished run.
    """
    from ..plugins import get_plugin_system
    from ..runner.run import read_results
    from ..store import atomic_write_text

    run_dir = Path(run_dir)
    results_path = run_dir / "results.parquet"
    if not results_path.is_file():
        raise ReportError(f"No results in {str(run_dir)!r} (expected {str(results_path)!r}); run a recipe into this "
                          "folder first: neurorep run RECIPE --out RUN_DIR.")
    out = Path(out_path) if out_path is not None else run_dir / REPORT_NAME
    system = system if system is not None else get_plugin_system()
    results = read_results(results_path)
    run = ReportRun(run_dir, out, system)
    t0 = time.perf_counter()
    sections = render_sections(results, run)
    prov = run.provenance
    summary = prov.get("summary") or {}
    rec = prov.get("recipe") or {}
    finished = prov.get("finished_at")
    context = {
        "title": run.title,
        "description": (rec.get("options") or {}).get("description") or "",
        "recipe_name": run.recipe_name,
        "recipe_hash": rec.get("recipe_hash") or "",
        "finished_at": _pretty_time(finished),
        "neurorep_version": prov.get("neurorep") or "",
        "n_rows": len(results),
        "n_failed": int(summary.get("n_failed") or (results["status"] == "failed").sum()),
        "n_tasks": summary.get("n_tasks"),
        "sections": sections,
        "messages": list(dict.fromkeys(run.messages)),
        "css": _read_css(),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "build_seconds": None,
    }
    context["build_seconds"] = f"{time.perf_counter() - t0:.1f}"
    html = _template_env().get_template("report.html.j2").render(**context)
    atomic_write_text(out, html)
    _readable(out)
    return out


def _readable(path: Path) -> None:
    """Give the report the permissions of a normally created file (temporary files are private)."""
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(path, 0o666 & ~umask)
    except OSError:
        pass


def _pretty_time(iso: Any) -> str:
    if not isinstance(iso, str) or not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso
