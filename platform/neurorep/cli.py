"""The ``neurorep`` command line (click + rich)."""

from __future__ import annotations

import json
import platform as _platform
import sys
from importlib import metadata
from pathlib import Path

import click

from .plugins import get_plugin_system


def _console():
    from rich.console import Console

    return Console(stderr=False, highlight=False, soft_wrap=True)


@click.group()
@click.version_option(package_name="neurorep")
def cli() -> None:
    """neurorep: compare brain and model representations with plugins and recipes."""


# --------------------------------------------------------------------------- plugins

@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def plugins_cmd(as_json: bool) -> None:
    """List plugins (name, version, hooks, components) and plugins that failed to load."""
    system = get_plugin_system()
    info = system.describe()
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    from rich.table import Table

    con = _console()
    t = Table(title=f"neurorep {info['neurorep']} plugins (HOOK_API {info['hook_api']})")
    for col in ("plugin", "distribution", "version", "hooks", "components"):
        t.add_column(col)
    for p in info["plugins"]:
        t.add_row(p["name"], p["distribution"], p["version"], ", ".join(p["hooks"]), ", ".join(p["components"]))
    con.print(t)
    if info["errors"]:
        e = Table(title="plugins that failed to load (skipped)", style="red")
        for col in ("plugin", "distribution", "version", "stage", "error"):
            e.add_column(col)
        for err in info["errors"]:
            e.add_row(err["plugin"], err["distribution"], err["version"], err["stage"], err["error"])
        con.print(e)


@cli.command("components")
@click.option("--kind", default=None, help="Only this kind (analyzer, source, ...).")
def components_cmd(kind: str | None) -> None:
    """List registered components with their kind, version and provider."""
    from rich.table import Table

    reg = get_plugin_system().registry
    t = Table(title="components")
    for col in ("id", "kind", "version", "distribution", "tags"):
        t.add_column(col)
    for c in reg:
        if kind and c.kind != kind:
            continue
        tags = {k: v for k, v in c.cls.tags.as_dict().items() if v not in (False, None, [], "representation")}
        t.add_row(c.id, c.kind, c.version, c.distribution, json.dumps(tags))
    _console().print(t)


# --------------------------------------------------------------------------- doctor

@cli.command("doctor")
def doctor_cmd() -> None:
    """Report the environment: Python, key libraries, devices, plugins, data mirror."""
    import os

    con = _console()
    con.print(f"python      {sys.version.split()[0]} ({_platform.platform()})")
    for pkg in ("neurorep", "numpy", "scipy", "pandas", "pyarrow", "zarr", "dask", "distributed", "pydantic",
                "pluggy", "torch", "nibabel", "nilearn", "transformers"):
        try:
            v = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v = "-- not installed"
        con.print(f"{pkg:<12}{v}")
    try:
        import torch  # noqa: F401

        con.print(f"cuda        {'available' if torch.cuda.is_available() else 'not available'}")
    except Exception:
        con.print("cuda        (torch not installed)")
    mirror = os.environ.get("NEUROREP_DATA_MIRROR")
    con.print(f"data mirror {mirror or '(NEUROREP_DATA_MIRROR not set)'}"
              + ("" if not mirror or Path(mirror).is_dir() else "  [red]missing[/red]"))
    system = get_plugin_system()
    con.print(f"plugins     {len(system.plugins)} loaded, {len(system.registry)} components, "
              f"{len(system.errors)} load error(s)")
    for err in system.errors:
        con.print(f"  [red]{err.plugin}[/red] ({err.distribution} {err.version}, {err.stage}): {err.error}")


# --------------------------------------------------------------------------- recipes

@cli.command("validate")
@click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))
def validate_cmd(recipe: Path) -> None:
    """Check RECIPE without running anything; report every error with its path and line."""
    from .recipes import validate_file

    issues = validate_file(recipe)
    con = _console()
    if not issues:
        con.print(f"[green]{recipe}: valid[/green]")
        return
    con.print(f"[red]{recipe}: {len(issues)} error(s)[/red]")
    for i in issues:
        con.print(f"  {i}", markup=False)  # messages name tables like [sources.x]: not rich markup
    sys.exit(1)


@cli.command("run")
@click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: runs/<recipe name>).")
@click.option("--executor", type=click.Choice(["local", "process", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address (with --executor dask); "
              "default: start a LocalCluster.")
@click.option("--workers", "n_workers", type=int, default=None, help="Workers for process/dask executors.")
@click.option("--no-progress", is_flag=True, help="Do not show the live progress display.")
def run_cmd(recipe: Path, out_dir: Path | None, executor: str, scheduler: str | None, n_workers: int | None,
            no_progress: bool) -> None:
    """Validate, expand and run RECIPE; resumes from the cache in OUT."""
    from .errors import RecipeError
    from .runner import run_recipe

    try:
        summary = run_recipe(recipe, out_dir=out_dir, executor=executor, scheduler=scheduler,
                             n_workers=n_workers, progress=not no_progress)
    except (RecipeError, ValueError) as exc:  # a bad recipe or option: say what is wrong, no traceback
        click.echo(f"error: {exc}" if not isinstance(exc, RecipeError) else str(exc), err=True)
        sys.exit(1)
    click.echo(f"results: {summary['results_path']}")
    if summary.get("report_path"):
        click.echo(f"report: {summary['report_path']}")
    if summary.get("n_failed"):
        click.echo(f"{summary['n_failed']} task(s) failed; see the 'error' column of the results.", err=True)
        sys.exit(2)


# --------------------------------------------------------------------------- plugin authors

@cli.command("check")
@click.argument("distribution")
def check_cmd(distribution: str) -> None:
    """Run the conformance suite on every component of an installed DISTRIBUTION."""
    from .testing import check_distribution

    outcomes = check_distribution(distribution)
    con = _console()
    failed = [o for o in outcomes if not o.passed]
    for o in outcomes:
        mark = "[green]PASS[/green]" if o.passed else ("[yellow]XFAIL[/yellow]" if o.expected else "[red]FAIL[/red]")
        con.print(f"{mark} {o.component} {o.check}" + (f": {o.message}" if o.message else ""))
    hard = [o for o in failed if not o.expected]
    con.print(f"{len(outcomes) - len(failed)} passed, {len(hard)} failed")
    if hard or not outcomes:
        sys.exit(1)


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dir", "dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to create the plugin in.")
def new_plugin_cmd(name: str, dest: Path) -> None:
    """Create a pip-installable plugin NAME (distribution neurorep-NAME) with a conformance test."""
    from .scaffold import new_plugin

    try:
        path = new_plugin(name, dest)
    except (ValueError, FileExistsError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"created {path}\n  pip install -e {path}\n  neurorep check neurorep-{name}")


@cli.command("cube")
@click.argument("run_dir", type=click.Path(exists=True, path_type=Path))
@click.option("--analysis", "analyses", multiple=True, help="Keep this analysis (repeatable).")
@click.option("--per-subject", is_flag=True, help="Add one target per subject RDM (extra['per_rdm']).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the cube (one row per cell) to this CSV file instead of printing it.")
def cube_cmd(run_dir: Path, analyses: tuple[str, ...], per_subject: bool, csv_path: Path | None) -> None:
    """Print a run's results as a (source x target x metric) cube, each cell with its CI (neurorep.results)."""
    from .errors import InvalidInputError
    from .results import cube

    try:
        c = cube(run_dir, analysis=list(analyses) or None, per_subject=per_subject)
    except (InvalidInputError, FileNotFoundError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    frame = c.to_frame()
    if csv_path is not None:
        frame.to_csv(csv_path)
        click.echo(f"{len(frame)} cells ({c.shape[0]} sources x {c.shape[1]} targets x {c.shape[2]} metrics) "
                   f"written to {csv_path}")
    else:
        click.echo(frame.to_string(float_format=lambda v: f"{v:.4g}"))


@cli.group("datasets", invoke_without_command=True)
@click.pass_context
def datasets_cmd(ctx: click.Context) -> None:
    """List dataset components (plugins add sub-commands such as fetch and verify)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    reg = get_plugin_system().registry
    t = Table(title="datasets")
    for col in ("id", "version", "distribution", "citation"):
        t.add_column(col)
    for c in reg:
        if c.kind == "dataset":
            t.add_row(c.id, c.version, c.distribution, (c.cls.citation or "")[:80])
    _console().print(t)


def main() -> None:
    system = get_plugin_system()
    system.call_notification("register_commands", cli=cli)
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
