"""Find, verify and (on request) download the files of a dataset.

Where files are looked for, in order:

1. ``data_dir``, when the caller gives one. It is then the *only* place looked at, so that an
   explicit folder is never silently replaced by another copy.
2. ``$NEUROREP_DATA_MIRROR/<mirror folder>`` (e.g. ``$NEUROREP_DATA_MIRROR/haxby2001-sub1``): a
   read-only mirror such as the one CI and the tests use.
3. The user's store: ``$NEUROREP_DATA/<id>`` when ``NEUROREP_DATA`` is set, else
   ``~/.neurorep/data/<id>``. :func:`download` writes here.

Each file is resolved on its own (the first location holding it wins) and its sha256 is checked
against the card on first use; a verified file is remembered by (path, size, mtime) for the rest of
the process, so large files are not hashed on every load. Nothing is downloaded unless asked for
(``download=True`` or ``neurorep datasets fetch ID``); downloads are checked against the card's
sha256 while they stream into a temporary file that is renamed into place only when it matches.

Data shipped inside an installed package (cards whose ``[source] kind`` is ``"python-package"`` or
``"debian-package"``) is looked for in ``data_dir`` when given, else in the package's folder
(:func:`package_folder`); it is never downloaded: a missing file's error names the package and
its install command, and a checksum mismatch names the installed and the expected version.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from neurorep.errors import NeurorepError

from .cards import Card, FileEntry, load_card

__all__ = [
    "MIRROR_ENV",
    "DATA_ENV",
    "DataNotFoundError",
    "ChecksumMismatchError",
    "DownloadError",
    "Location",
    "FileStatus",
    "default_store",
    "package_folder",
    "installed_version",
    "search_locations",
    "sha256_file",
    "verify_file",
    "resolve_files",
    "resolve",
    "check_files",
    "download",
    "clear_verification_cache",
]

#: Environment variable naming a read-only mirror holding one folder per dataset.
MIRROR_ENV = "NEUROREP_DATA_MIRROR"
#: Environment variable naming the user's data store (default ``~/.neurorep/data``).
DATA_ENV = "NEUROREP_DATA"

_CHUNK = 1 << 20


class DataNotFoundError(NeurorepError, FileNotFoundError):
    """Files of a dataset were found in none of the places looked at."""

    def __str__(self) -> str:
        return self.args[0]


class ChecksumMismatchError(NeurorepError, ValueError):
    """A file's sha256 differs from the one on the dataset's card.

    Attributes
    ----------
    path : pathlib.Path
    expected, found : str
        The card's and the file's sha256.
    """

    def __init__(self, message: str, *, path: Path, expected: str, found: str) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.found = found


class DownloadError(NeurorepError, OSError):
    """A download failed (network, HTTP status)."""

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Location:
    """A place files are looked for.

    Parameters
    ----------
    label : str
        How the place is named in messages (``"data_dir"``, ``"NEUROREP_DATA_MIRROR"``...).
    path : pathlib.Path or None
        None when the place is not configured (e.g. the mirror variable is unset).
    note : str
        Why the place is unusable, when it is.
    """

    label: str
    path: Path | None
    note: str = ""


@dataclass(frozen=True)
class FileStatus:
    """The state of one file of a dataset (``neurorep datasets verify``)."""

    name: str
    status: str  # "ok", "missing" or "mismatch"
    path: Path | None
    location: str
    expected: str
    found: str | None = None


# --------------------------------------------------------------------------- locations

def default_store(dataset: str | Card) -> Path:
    """The user's folder for ``dataset``: ``$NEUROREP_DATA/<id>`` or ``~/.neurorep/data/<id>``."""
    card = load_card(dataset)
    root = os.environ.get(DATA_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".neurorep" / "data"
    return base / card.id


def package_folder(dataset: str | Card) -> tuple[Path | None, str]:
    """Where an installed package keeps a packaged dataset's files: ``(folder or None, why not)``.

    A Python package is located with :func:`importlib.util.find_spec` (the package is not
    imported); a Debian package's folder is the absolute path on the card.
    """
    card = load_card(dataset)
    src = card.source
    if src.get("kind") == "debian-package":
        p = Path(src["folder"])
        return (p, "") if p.is_dir() else (None, f"{p} does not exist: Debian package {src['package']} not installed")
    import importlib.util

    top = str(src["package"]).replace("-", "_")
    try:
        spec = importlib.util.find_spec(src.get("module", top))
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None, f"Python package {src['package']} is not installed"
    p = Path(next(iter(spec.submodule_search_locations))) / src["folder"]
    return (p, "") if p.is_dir() else (None, f"{p} does not exist in the installed {src['package']}")


def installed_version(dataset: str | Card) -> str | None:
    """The installed version of the package a packaged dataset comes from (None when unknown)."""
    card = load_card(dataset)
    src = card.source
    if src.get("kind") == "python-package":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(src["package"])
        except PackageNotFoundError:
            return None
    import shutil
    import subprocess

    if shutil.which("dpkg-query") is None:
        return None
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", src["package"]], capture_output=True, text=True,
                         check=False)
    return out.stdout.strip() or None if out.returncode == 0 else None


def search_locations(dataset: str | Card, data_dir: str | os.PathLike[str] | None = None) -> list[Location]:
    """The places looked at for ``dataset``'s files, in order (see the module docstring)."""
    card = load_card(dataset)
    if data_dir is not None:
        p = Path(data_dir).expanduser()
        return [Location("data_dir", p, "" if p.is_dir() else "folder does not exist")]
    if card.packaged:
        folder, note = package_folder(card)
        kind = "Python" if card.source["kind"] == "python-package" else "Debian"
        return [Location(f"{kind} package {card.source['package']}", folder, note)]
    out = []
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        p = Path(mirror).expanduser() / card.mirror_folder
        out.append(Location(f"{MIRROR_ENV}/{card.mirror_folder}", p, "" if p.is_dir() else "folder does not exist"))
    else:
        out.append(Location(MIRROR_ENV, None, "not set"))
    store = default_store(card)
    label = f"{DATA_ENV}/{card.id}" if os.environ.get(DATA_ENV) else f"~/.neurorep/data/{card.id}"
    out.append(Location(label, store, "" if store.is_dir() else "folder does not exist"))
    return out


# --------------------------------------------------------------------------- checksums

_VERIFIED: dict[tuple[str, int, int], str] = {}


def clear_verification_cache() -> None:
    """Forget which files were verified (the next use hashes them again)."""
    _VERIFIED.clear()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def verify_file(path: str | os.PathLike[str], expected: str, *, dataset: str = "?", name: str | None = None) -> str:
    """Check ``path``'s sha256 against ``expected``; return the digest.

    The digest is cached by (resolved path, size, mtime), so an unchanged file is hashed once per
    process; any change of size or modification time hashes it again.

    Raises
    ------
    ChecksumMismatchError
        Naming the dataset, the file, the expected and the found hash, and what to do.
    """
    p = Path(path)
    key = _stat_key(p)
    found = _VERIFIED.get(key)
    if found is None:
        found = sha256_file(p)
        _VERIFIED[key] = found
    if found != expected.lower():
        label = name or p.name
        raise ChecksumMismatchError(
            f"Dataset {dataset!r}: file {label!r} at {p} has sha256 {found}, but the dataset card expects "
            f"{expected.lower()} (size on disk {key[1]} bytes). The file is corrupt, truncated or a different "
            f"version. Replace it: delete it and run 'neurorep datasets fetch {dataset} --force' (or point "
            f"{MIRROR_ENV} at an intact mirror); pass verify=False only if you know the file is right.",
            path=p, expected=expected.lower(), found=found)
    return found


# --------------------------------------------------------------------------- resolution

def _fmt_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def _not_found_message(card: Card, missing: list[FileEntry], n_requested: int, locations: list[Location],
                       explicit: bool) -> str:
    names = [f.path for f in missing]
    shown = ", ".join(names[:8]) + (f", ... ({len(names) - 8} more)" if len(names) > 8 else "")
    lines = [
        f"Dataset {card.id!r} ({card.component or 'dataset.' + card.id}): {len(missing)} of the {n_requested} "
        f"file(s) it needs were not found.",
        f"  Files expected: {shown}",
        "  Looked in:",
    ]
    for loc in locations:
        where = str(loc.path) if loc.path is not None else ""
        lines.append(f"    - {loc.label}" + (f" = {where}" if where else "") + (f" ({loc.note})" if loc.note else ""))
    if card.packaged:
        src = card.source
        how = [
            "  To get them:",
            f"    - install the package that ships them: {src['install']} (the card's checksums are of "
            f"{src['package']} {src['version']}), or",
            f"    - pass data_dir= a folder holding copies of the files (same relative paths as in {src['folder']}).",
        ]
        return "\n".join(lines + how)
    size = sum(f.size or 0 for f in missing)
    how = [
        "  To get them:",
        f"    - set {MIRROR_ENV} to a folder that holds {card.mirror_folder}/ (the project's tests use "
        f"../shared/datasets), or",
        f"    - download them ({_fmt_size(size)}) with 'neurorep datasets fetch {card.id}' "
        f"(or neurorep_datasets.fetch.download({card.id!r})) into {default_store(card)}.",
    ]
    if explicit:
        how.insert(1, "    - put the files (same relative paths) into the data_dir given, or drop data_dir to "
                      "use the mirror and the user store, or")
    src = card.source.get("repository")
    if src:
        how.append(f"  Canonical source: {src} ({card.source.get('revision', '')}, {card.source.get('folder', '')}).")
    return "\n".join(lines + how)


def resolve_files(dataset: str | Card, paths: Iterable[str] | None = None, *,
                  data_dir: str | os.PathLike[str] | None = None, verify: bool = True,
                  download: bool = False, timeout: float = 60.0) -> dict[str, Path]:
    """Find the files ``paths`` of ``dataset`` (all files on the card when None).

    Parameters
    ----------
    dataset : str or Card
        A dataset id (``"haxby2001"``, ``"dataset.haxby2001"``) or a card.
    paths : iterable of str, optional
        Paths relative to the dataset folder, as listed on the card.
    data_dir : path, optional
        The only folder looked in (see the module docstring); downloads go there too.
    verify : bool, default=True
        Check each file's sha256 against the card (cached per process by size and mtime).
    download : bool, default=False
        Download the files found nowhere (from the card's URLs) instead of raising.
    timeout : float, default=60.0
        Seconds per network read when downloading.

    Returns
    -------
    dict of str to pathlib.Path
        Each requested path -> the file found.

    Raises
    ------
    DataNotFoundError
        Naming the dataset, the files expected, where it looked and how to get them.
    ChecksumMismatchError
        Naming the file, the expected and the found hash.
    """
    card = load_card(dataset)
    entries = card.entries(paths)
    locations = search_locations(card, data_dir)
    found: dict[str, Path] = {}
    missing: list[FileEntry] = []
    for entry in entries:
        for loc in locations:
            if loc.path is None:
                continue
            candidate = loc.path / entry.path
            if candidate.is_file():
                found[entry.path] = candidate
                break
        else:
            missing.append(entry)
    if missing:
        if not download or card.packaged:
            raise DataNotFoundError(_not_found_message(card, missing, len(entries), locations, data_dir is not None))
        dest = Path(data_dir).expanduser() if data_dir is not None else default_store(card)
        _download_entries(card, missing, dest, timeout=timeout)
        for entry in missing:
            found[entry.path] = dest / entry.path
    if verify:
        for entry in entries:
            try:
                verify_file(found[entry.path], entry.sha256, dataset=card.id, name=entry.path)
            except ChecksumMismatchError as exc:
                if not card.packaged:
                    raise
                raise _packaged_mismatch(card, entry, exc) from None
    return {e.path: found[e.path] for e in entries}


def _packaged_mismatch(card: Card, entry: FileEntry, exc: ChecksumMismatchError) -> ChecksumMismatchError:
    src = card.source
    have = installed_version(card)
    return ChecksumMismatchError(
        f"Dataset {card.id!r}: file {entry.path!r} at {exc.path} has sha256 {exc.found}, but the dataset card expects "
        f"{exc.expected}, the file as shipped by {src['package']} {src['version']} (installed: "
        f"{have or 'unknown version'}). Another version of the package, or a modified file: install "
        f"{src['package']} {src['version']} ({src['install']}), or pass verify=False if you know the file is right.",
        path=exc.path, expected=exc.expected, found=exc.found)


def resolve(dataset: str | Card, path: str, **kwargs) -> Path:
    """One file of ``dataset``; keyword arguments as for :func:`resolve_files`."""
    return resolve_files(dataset, [path], **kwargs)[path]


def check_files(dataset: str | Card, paths: Iterable[str] | None = None, *,
                data_dir: str | os.PathLike[str] | None = None) -> list[FileStatus]:
    """The state of every file (found where, checksum right or not), without raising."""
    card = load_card(dataset)
    locations = search_locations(card, data_dir)
    out = []
    for entry in card.entries(paths):
        for loc in locations:
            if loc.path is not None and (loc.path / entry.path).is_file():
                p = loc.path / entry.path
                try:
                    digest = verify_file(p, entry.sha256, dataset=card.id, name=entry.path)
                    out.append(FileStatus(entry.path, "ok", p, loc.label, entry.sha256, digest))
                except ChecksumMismatchError as exc:
                    out.append(FileStatus(entry.path, "mismatch", p, loc.label, entry.sha256, exc.found))
                break
        else:
            out.append(FileStatus(entry.path, "missing", None, "", entry.sha256))
    return out


# --------------------------------------------------------------------------- download

def _download_one(card: Card, entry: FileEntry, target: Path, *, timeout: float) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    request = urllib.request.Request(entry.url, headers={"User-Agent": "neurorep-datasets"})
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    h.update(chunk)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(
                f"Dataset {card.id!r}: downloading {entry.path!r} from {entry.url} failed: {reason}. "
                f"Check the network connection (or set {MIRROR_ENV} to a folder holding "
                f"{card.mirror_folder}/) and run 'neurorep datasets fetch {card.id}' again.") from exc
        found = h.hexdigest()
        if found != entry.sha256:
            raise ChecksumMismatchError(
                f"Dataset {card.id!r}: the download of {entry.path!r} from {entry.url} has sha256 {found}, but "
                f"the dataset card expects {entry.sha256}; it was discarded. The source changed or the "
                "transfer was corrupted: try again, or report it to the neurorep-datasets maintainers.",
                path=target, expected=entry.sha256, found=found)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _VERIFIED[_stat_key(target)] = found


def _download_entries(card: Card, entries: Iterable[FileEntry], dest: Path, *, timeout: float,
                      progress: Callable[[FileEntry, int, int], None] | None = None) -> None:
    entries = list(entries)
    for i, entry in enumerate(entries):
        if progress is not None:
            progress(entry, i, len(entries))
        _download_one(card, entry, dest / entry.path, timeout=timeout)


def download(dataset: str | Card, paths: Iterable[str] | None = None, *,
             dest: str | os.PathLike[str] | None = None, force: bool = False, timeout: float = 60.0,
             progress: Callable[[FileEntry, int, int], None] | None = None) -> Path:
    """Download ``dataset``'s files into ``dest`` (default: the user store), checking each sha256.

    Files already in ``dest`` with the right checksum are kept; a file whose checksum is wrong is
    replaced only with ``force=True``. Each download streams into a temporary file next to its
    target and is renamed into place only when its sha256 matches the card.

    Parameters
    ----------
    dataset : str or Card
    paths : iterable of str, optional
        Only these files (all when None).
    dest : path, optional
        Target folder (default :func:`default_store`).
    force : bool, default=False
        Download again files present in ``dest`` whose checksum does not match.
    timeout : float, default=60.0
    progress : callable, optional
        Called as ``progress(entry, index, n_to_download)`` before each download.

    Returns
    -------
    pathlib.Path
        The folder holding the files.
    """
    card = load_card(dataset)
    if card.packaged:
        raise DownloadError(
            f"Dataset {card.id!r} ships inside the package {card.source['package']} and is not downloaded by "
            f"neurorep: install the package ({card.source['install']}).")
    target = Path(dest).expanduser() if dest is not None else default_store(card)
    to_get = []
    for entry in card.entries(paths):
        p = target / entry.path
        if p.is_file():
            try:
                verify_file(p, entry.sha256, dataset=card.id, name=entry.path)
                continue
            except ChecksumMismatchError:
                if not force:
                    raise
        to_get.append(entry)
    _download_entries(card, to_get, target, timeout=timeout, progress=progress)
    return target
