"""neurorep-datasets: dataset cards and loaders for neurorep.

Each dataset has a card (canonical public URLs, per-file sha256, licence, citation) in
``neurorep_datasets/cards/`` and a :class:`neurorep.Dataset` component registered through the
``register_datasets`` hook:

* ``dataset.kriegeskorte2008-92`` (:class:`~neurorep_datasets.kriegeskorte.Kriegeskorte2008`)
* ``dataset.haxby2001`` (:class:`~neurorep_datasets.haxby.Haxby2001`)

and, for data that installed packages ship (cards with ``[source] kind = "python-package"`` or
``"debian-package"``, files read from the package's folder and checked by sha256):

* ``dataset.nitime-grasshopper`` and ``dataset.nitime-fmri`` (:mod:`neurorep_datasets.nitime_data`)
* ``dataset.nilearn-atlases`` (:class:`~neurorep_datasets.nilearn_data.NilearnAtlases`)
* ``dataset.mricron-atlases`` (:class:`~neurorep_datasets.mricron.MricronAtlases`; Debian ``mricron-data``)

Files are read from ``data_dir``, ``$NEUROREP_DATA_MIRROR/<mirror folder>`` or the user store, and
downloaded only on request (:func:`neurorep_datasets.fetch.download`, ``neurorep datasets fetch ID``).
"""

from __future__ import annotations

from .cards import Card, FileEntry, UnknownDatasetError, card_ids, load_card
from .fetch import (
    ChecksumMismatchError,
    DataNotFoundError,
    DownloadError,
    check_files,
    download,
    resolve,
    resolve_files,
)
from .haxby import Haxby2001
from .kriegeskorte import Kriegeskorte2008
from .mricron import MricronAtlases
from .nilearn_data import NilearnAtlases
from .nitime_data import NitimeFMRI, NitimeGrasshopper

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-datasets")
except Exception:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "Card", "ChecksumMismatchError", "DataNotFoundError", "DownloadError", "FileEntry", "Haxby2001",
    "Kriegeskorte2008", "MricronAtlases", "NilearnAtlases", "NitimeFMRI", "NitimeGrasshopper", "UnknownDatasetError",
    "card_ids", "check_files", "download", "load_card", "resolve",
    "resolve_files", "__version__",
]
