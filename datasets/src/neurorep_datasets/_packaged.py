"""Shared machinery of the datasets whose files ship inside an installed package (nitime, nilearn, Debian)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurorep.components import Dataset

from .cards import load_card
from .fetch import resolve, resolve_files

__all__ = ["PackagedDataset"]


class PackagedDataset(Dataset):
    """A dataset read from a package's folder (see :func:`neurorep_datasets.fetch.package_folder`).

    Subclasses set ``CARD_ID``; their constructors take ``data_dir`` (a folder holding copies of the
    files, then the only place looked in) and ``verify`` (check every file's sha256 against the
    card on first use).
    """

    CARD_ID = ""
    data_dir: str | None
    verify: bool

    def card(self) -> dict[str, Any]:
        return load_card(self.CARD_ID).as_dict()

    def path(self, name: str) -> Path:
        """The verified local path of one of the card's files."""
        return resolve(self.CARD_ID, name, data_dir=self.data_dir, verify=self.verify)

    def paths(self, names: list[str]) -> dict[str, Path]:
        """Verified local paths of several of the card's files."""
        return resolve_files(self.CARD_ID, names, data_dir=self.data_dir, verify=self.verify)
