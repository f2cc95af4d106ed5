"""Dataset cards: what a dataset is, where its files come from, their checksums, licence and citation.

A card is a TOML file shipped inside this package (``neurorep_datasets/cards/<id>.toml``). It is the
single source of truth the fetcher works from: every file the loaders read is listed with its
canonical public URL and sha256.

Data that an installed package ships (nitime's and nilearn's example data, Debian's ``mricron-data``
atlases) has a card too. Its ``[source]`` table says ``kind = "python-package"`` or
``kind = "debian-package"`` with the ``package``, the ``version`` the checksums were taken from, the
``folder`` holding the files (inside the Python package, or an absolute path for a Debian package)
and the ``install`` command; its files need no URL (the package manager is their source).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from neurorep.errors import InvalidInputError, NeurorepError

__all__ = ["PACKAGE_KINDS", "FileEntry", "Card", "UnknownDatasetError", "card_ids", "load_card", "parse_card"]

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
#: ``[source] kind`` values of data shipped inside an installed package (files need no URL).
PACKAGE_KINDS: frozenset[str] = frozenset({"python-package", "debian-package"})


class UnknownDatasetError(NeurorepError, LookupError):
    """A dataset id was requested for which this package ships no card."""

    def __str__(self) -> str:  # LookupError-style quoting would hide the message
        return self.args[0]


@dataclass(frozen=True)
class FileEntry:
    """One file of a dataset.

    Parameters
    ----------
    path : str
        POSIX path relative to the dataset's folder (also its name in error messages).
    sha256 : str
        Lowercase hex digest of the file's bytes.
    url : str
        Canonical public location the fetcher downloads from.
    size : int or None
        Size in bytes, when known (shown before downloading).
    description : str
        What the file holds.
    """

    path: str
    sha256: str
    url: str
    size: int | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.path, "url": self.url, "sha256": self.sha256, "size": self.size,
                "description": self.description}


@dataclass(frozen=True)
class Card:
    """A dataset card.

    Parameters
    ----------
    id : str
        Dataset id, e.g. ``"haxby2001"`` (the component is ``"dataset.<id>"``).
    title, license, citation, description : str
    mirror_folder : str
        Folder name of the dataset inside a ``NEUROREP_DATA_MIRROR`` directory.
    files : tuple of FileEntry
    component : str
        Id of the dataset component that loads it.
    license_note, license_url, doi, homepage : str
    related_citations : tuple of str
        Further papers to cite (the toolbox that distributes the files, a companion study...).
    source : dict
        Where the files come from (repository, revision, commit, folder).
    """

    id: str
    title: str
    mirror_folder: str
    license: str
    citation: str
    files: tuple[FileEntry, ...]
    description: str = ""
    component: str = ""
    license_note: str = ""
    license_url: str = ""
    doi: str = ""
    homepage: str = ""
    related_citations: tuple[str, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)

    def file(self, path: str) -> FileEntry:
        """The entry of ``path``; raises :class:`KeyError` naming the dataset when it is not on the card."""
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(f"Dataset {self.id!r}: {path!r} is not one of the {len(self.files)} files on its card.")

    def entries(self, paths: Iterable[str] | None = None) -> tuple[FileEntry, ...]:
        """The entries of ``paths`` (all files when None), in the order given."""
        if paths is None:
            return self.files
        return tuple(self.file(p) for p in paths)

    @property
    def packaged(self) -> bool:
        """True when the files ship inside an installed package (``[source] kind`` is a package kind)."""
        return self.source.get("kind") in PACKAGE_KINDS

    @property
    def total_size(self) -> int:
        return sum(f.size or 0 for f in self.files)

    def with_files(self, files: Iterable[FileEntry]) -> Card:
        """A copy with another file list (e.g. other URLs for a private mirror)."""
        return dataclasses.replace(self, files=tuple(files))

    def as_dict(self) -> dict[str, Any]:
        """Plain data, the shape :meth:`neurorep.Dataset.card` returns."""
        return {
            "id": self.id, "component": self.component, "title": self.title, "license": self.license,
            "license_note": self.license_note, "license_url": self.license_url, "citation": self.citation,
            "related_citations": list(self.related_citations), "doi": self.doi, "homepage": self.homepage,
            "description": self.description, "mirror_folder": self.mirror_folder, "source": dict(self.source),
            "files": [f.as_dict() for f in self.files],
        }


def parse_card(data: Mapping[str, Any], origin: str = "card") -> Card:
    """Build a :class:`Card` from parsed TOML, checking required keys and checksums' form."""
    source = dict(data.get("source", {}))
    packaged = source.get("kind") in PACKAGE_KINDS
    required = ("id", "title", "license", "citation", "files") + (() if packaged else ("mirror_folder",))
    missing = [k for k in required if k not in data]
    if missing:
        raise InvalidInputError(f"Dataset card {origin}: missing required key(s) {missing}.")
    if packaged:
        lacking = [k for k in ("package", "version", "folder", "install") if k not in source]
        if lacking:
            raise InvalidInputError(f"Dataset card {origin}: [source] of kind {source['kind']!r} lacks {lacking}.")
    files = []
    for i, f in enumerate(data["files"]):
        for k in ("path", "sha256") + (() if packaged else ("url",)):
            if k not in f:
                raise InvalidInputError(f"Dataset card {origin}: files[{i}] lacks {k!r}.")
        sha = str(f["sha256"]).lower()
        if not _SHA256_RE.match(sha):
            raise InvalidInputError(f"Dataset card {origin}: files[{i}] ({f['path']}) has sha256 {f['sha256']!r}, "
                                    "expected 64 hexadecimal digits.")
        files.append(FileEntry(path=str(f["path"]), sha256=sha, url=str(f.get("url", "")),
                               size=int(f["size"]) if "size" in f else None,
                               description=str(f.get("description", ""))))
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths):
        raise InvalidInputError(f"Dataset card {origin}: some file paths are listed twice.")
    return Card(
        id=str(data["id"]), title=str(data["title"]), mirror_folder=str(data.get("mirror_folder", data["id"])),
        license=str(data["license"]), citation=str(data["citation"]), files=tuple(files),
        description=str(data.get("description", "")), component=str(data.get("component", "")),
        license_note=str(data.get("license_note", "")), license_url=str(data.get("license_url", "")),
        doi=str(data.get("doi", "")), homepage=str(data.get("homepage", "")),
        related_citations=tuple(str(c) for c in data.get("related_citations", ())),
        source=source)


def _card_dir():
    return resources.files("neurorep_datasets").joinpath("cards")


def card_ids() -> list[str]:
    """Ids of the datasets this package ships cards for."""
    return sorted(p.name[: -len(".toml")] for p in _card_dir().iterdir() if p.name.endswith(".toml"))


_CARDS: dict[str, Card] = {}


def load_card(dataset: str | Card) -> Card:
    """The card of ``dataset`` (an id such as ``"haxby2001"`` or ``"dataset.haxby2001"``, or a Card)."""
    if isinstance(dataset, Card):
        return dataset
    key = dataset.removeprefix("dataset.")
    if key not in _CARDS:
        res = _card_dir().joinpath(f"{key}.toml")
        if not res.is_file():
            known = card_ids()
            raise UnknownDatasetError(
                f"Unknown dataset {dataset!r}; neurorep-datasets ships cards for {known}. "
                "Run 'neurorep datasets' to list the dataset components that are installed.")
        _CARDS[key] = parse_card(tomllib.loads(res.read_text(encoding="utf-8")), origin=f"{key}.toml")
    return _CARDS[key]
