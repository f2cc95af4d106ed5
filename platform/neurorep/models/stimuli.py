"""Stimulus sets: sentence lists from TOML/CSV files, and the sample images scikit-image and scikit-learn ship.

Both are datasets (kind ``dataset``) whose :meth:`load_stimuli` a recipe's ``[stimuli.*]`` entry uses::

    [stimuli.sentences]
    component = "dataset.sentences"
    params = { path = "stimuli/sentences.csv" }

    [stimuli.photos]
    component = "dataset.skimage-samples"
    params = { names = ["skimage-chelsea", "skimage-coffee"] }
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..components import Dataset
from ..errors import InvalidInputError
from ..types import StimulusSet
from .base import as_rgb_uint8

__all__ = ["SentenceDataset", "SkimageSamples", "SKIMAGE_SAMPLES", "SKLEARN_SAMPLES", "sentence_ids"]

_TEXT_COLUMNS = ("text", "sentence")


def sentence_ids(n: int) -> tuple[str, ...]:
    """``sent-0001`` ... (1-based, at least four digits): ids of sentences given without ids."""
    width = max(4, len(str(n)))
    return tuple(f"sent-{i:0{width}d}" for i in range(1, n + 1))


class SentenceDataset(Dataset):
    """Sentences (one stimulus each) from a TOML or CSV file, with stable ids.

    TOML: ``sentences = ["...", ...]``, or ``[[sentences]]`` tables with ``text``, an optional
    ``id`` and any other keys (kept as descriptors). CSV: a header row, a text column (``text``
    or ``sentence``, or the one named by ``column``), an optional ``id`` column and other columns
    (kept as descriptors, as str). Without ids, sentences get ``sent-0001``, ``sent-0002``, ...
    in file order.

    Parameters
    ----------
    path : str
        The ``.toml`` or ``.csv`` file.
    column : str, optional
        CSV column holding the text (default: ``text`` or ``sentence``).
    id_column : str, default="id"
        CSV column or TOML key holding the ids, when present.
    """

    id = "dataset.sentences"
    version = "1.0.0"
    citation = None  # the user's own sentences: no publication to cite
    description = "Sentence lists from TOML or CSV files, as text stimuli with stable ids"

    def __init__(self, path: str, column: str | None = None, id_column: str = "id"):
        self.path = path
        self.column = column
        self.id_column = id_column

    @classmethod
    def _conformance_instances(cls) -> list[SentenceDataset]:
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="neurorep-sentences-")
        atexit.register(shutil.rmtree, folder, True)
        p = Path(folder) / "sentences.csv"
        p.write_text("text,kind\nThe cat sat on the mat.,animal\nA red car drove past.,vehicle\n", encoding="utf-8")
        return [cls(str(p))]

    def card(self) -> dict[str, Any]:
        return {"files": [{"name": Path(self.path).name, "path": str(self.path)}], "license": None,
                "citation": None, "contents": "user-provided sentences"}

    def _records(self) -> tuple[list[str], list[str] | None, dict[str, list[Any]]]:
        p = Path(self.path)
        if not p.is_file():
            raise InvalidInputError(f"Dataset {self.id!r}: expected a sentence file at {str(p)!r}, found none. Give "
                                    "path = a .toml (sentences = [...]) or .csv (a 'text' column) file.")
        suffix = p.suffix.lower()
        if suffix == ".toml":
            return self._from_toml(p)
        if suffix in (".csv", ".tsv"):
            return self._from_csv(p, sep="\t" if suffix == ".tsv" else ",")
        raise InvalidInputError(f"Dataset {self.id!r}: {str(p)!r} is neither .toml nor .csv/.tsv; save the sentences "
                                "in one of those formats.")

    def _from_toml(self, p: Path) -> tuple[list[str], list[str] | None, dict[str, list[Any]]]:
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInputError(f"Dataset {self.id!r}: {str(p)!r} is not valid TOML ({exc}).") from exc
        items = data.get("sentences")
        if not isinstance(items, list) or not items:
            raise InvalidInputError(f"Dataset {self.id!r}: {str(p)!r} needs a non-empty array 'sentences' (of strings, "
                                    f"or of tables with 'text'); its top-level keys are {sorted(data)}.")
        if all(isinstance(x, str) for x in items):
            return list(items), None, {}
        if not all(isinstance(x, dict) for x in items):
            raise InvalidInputError(f"Dataset {self.id!r}: 'sentences' in {str(p)!r} mixes strings and tables; use "
                                    "one form.")
        texts, ids, desc = [], [], {}
        keys = sorted({k for x in items for k in x} - {"text", self.id_column})
        for k, x in enumerate(items):
            if not isinstance(x.get("text"), str):
                raise InvalidInputError(f"Dataset {self.id!r}: sentences[{k}] in {str(p)!r} has no string 'text'.")
            texts.append(x["text"])
            ids.append(x.get(self.id_column))
        have = [i is not None for i in ids]
        if any(have) and not all(have):
            missing = [k for k, h in enumerate(have) if not h]
            raise InvalidInputError(f"Dataset {self.id!r}: some sentences in {str(p)!r} have an {self.id_column!r} and "
                                    f"some (e.g. sentences[{missing[0]}]) do not; give all or none.")
        for key in keys:
            desc[key] = [x.get(key) for x in items]
        return texts, [str(i) for i in ids] if all(have) else None, desc

    def _from_csv(self, p: Path, sep: str) -> tuple[list[str], list[str] | None, dict[str, list[Any]]]:
        import csv

        try:
            with open(p, newline="", encoding="utf-8-sig") as f:
                rows = list(csv.reader(f, delimiter=sep, strict=True))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"Dataset {self.id!r}: cannot read {str(p)!r} as CSV ({exc}).") from exc
        rows = [r for r in rows if r]  # blank lines
        if not rows:
            raise InvalidInputError(f"Dataset {self.id!r}: {str(p)!r} is empty; expected a header row and sentences.")
        header, body = rows[0], rows[1:]
        bad = next((k for k, r in enumerate(body) if len(r) != len(header)), None)
        if bad is not None:
            raise InvalidInputError(
                f"Dataset {self.id!r}: row {bad + 2} of {str(p)!r} has {len(body[bad])} fields but the header has "
                f"{len(header)} ({header}); quote texts that contain the separator {sep!r}, e.g. \"Yes, it did.\".")
        col = self.column
        if col is None:
            col = next((c for c in _TEXT_COLUMNS if c in header), None)
        if col is None or col not in header:
            want = repr(self.column) if self.column else "'text' or 'sentence'"
            raise InvalidInputError(f"Dataset {self.id!r}: {str(p)!r} has no column {want}; its columns are "
                                    f"{header}. Name the text column with column=...")
        if not body:
            raise InvalidInputError(f"Dataset {self.id!r}: {str(p)!r} has a header but no sentences.")
        idx = {c: j for j, c in enumerate(header)}
        ids = [r[idx[self.id_column]] for r in body] if self.id_column in idx else None
        desc = {c: [r[j] for r in body] for c, j in idx.items() if c not in (col, self.id_column)}
        return [r[idx[col]] for r in body], ids, desc

    def load_stimuli(self) -> StimulusSet:
        texts, ids, desc = self._records()
        empty = [k for k, t in enumerate(texts) if not t.strip()]
        if empty:
            raise InvalidInputError(f"Dataset {self.id!r}: sentence {empty[0]} of {str(self.path)!r} is empty; remove "
                                    "empty rows.")
        if ids is None:
            ids = list(sentence_ids(len(texts)))
        descriptors = {k: np.array([("" if v is None else v) for v in vals]) for k, vals in desc.items()}
        return StimulusSet(ids=tuple(ids), modality="text", payload=list(texts), descriptors=descriptors,
                           name=Path(self.path).stem)


#: Photographs and test images bundled inside scikit-image (no download): name -> loader in skimage.data.
SKIMAGE_SAMPLES: tuple[str, ...] = (
    "astronaut", "brick", "camera", "cell", "chelsea", "coffee", "coins", "grass", "gravel", "horse",
    "hubble_deep_field", "immunohistochemistry", "logo", "microaneurysms", "moon", "page", "retina",
    "rocket", "text",
)
#: Images shipped with scikit-learn (``sklearn.datasets.load_sample_image``).
SKLEARN_SAMPLES: tuple[str, ...] = ("china", "flower")


class SkimageSamples(Dataset):
    """The sample images bundled with scikit-image (and scikit-learn), as an image stimulus set.

    Ids are ``skimage-<name>`` (``skimage-chelsea``, ...) and ``sklearn-<name>`` (``sklearn-china``,
    ``sklearn-flower``), in the order of :data:`SKIMAGE_SAMPLES` then :data:`SKLEARN_SAMPLES`, or in
    the order given by ``names``. Images keep their own sizes (the payload is a list); with ``rgb``
    every image is a uint8 ``(H, W, 3)`` array (grey replicated, alpha dropped, binary as 0/255).

    Parameters
    ----------
    names : list of str, optional
        Ids to load (default: all of them).
    rgb : bool, default=True
        Convert every image to uint8 RGB; otherwise keep the arrays as the libraries return them.
    """

    id = "dataset.skimage-samples"
    version = "1.0.0"
    citation = ("van der Walt et al. (2014). scikit-image: image processing in Python. PeerJ 2:e453. "
                "doi:10.7717/peerj.453")
    description = "Sample images bundled with scikit-image and scikit-learn (no download)"
    ALL: ClassVar[tuple[str, ...]] = tuple(f"skimage-{n}" for n in SKIMAGE_SAMPLES) + \
        tuple(f"sklearn-{n}" for n in SKLEARN_SAMPLES)

    def __init__(self, names: list[str] | None = None, rgb: bool = True):
        self.names = names
        self.rgb = rgb

    def card(self) -> dict[str, Any]:
        return {"files": [], "license": "scikit-image and scikit-learn sample data (see each library's data README)",
                "citation": self.citation, "contents": list(self.ALL)}

    def _ids(self) -> list[str]:
        if self.names is None:
            return list(self.ALL)
        if isinstance(self.names, str):
            raise InvalidInputError(f"Dataset {self.id!r}: names must be a list, got the string {self.names!r}; "
                                    f"write names = [{self.names!r}].")
        unknown = [n for n in self.names if n not in self.ALL]
        if unknown:
            import difflib

            hint = difflib.get_close_matches(unknown[0], self.ALL, n=1)
            raise InvalidInputError(f"Dataset {self.id!r}: unknown image id(s) {unknown}"
                                    f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; ids are {list(self.ALL)}.")
        return list(self.names)

    def _load_one(self, sid: str) -> np.ndarray:
        lib, _, name = sid.partition("-")
        if lib == "skimage":
            try:
                import skimage.data
            except ImportError as exc:
                raise InvalidInputError(f"Dataset {self.id!r}: {sid!r} needs scikit-image: pip install "
                                        "scikit-image.") from exc
            return np.asarray(getattr(skimage.data, name)())
        try:
            from sklearn.datasets import load_sample_image
        except ImportError as exc:
            raise InvalidInputError(f"Dataset {self.id!r}: {sid!r} needs scikit-learn: pip install "
                                    "scikit-learn.") from exc
        return np.asarray(load_sample_image(f"{name}.jpg"))

    def load_stimuli(self) -> StimulusSet:
        ids = self._ids()
        raw = [self._load_one(s) for s in ids]
        images = [as_rgb_uint8(a, owner=f"Dataset {self.id!r}", index=s) for a, s in zip(raw, ids)] if self.rgb \
            else raw
        desc = {"library": np.array([s.partition("-")[0] for s in ids]),
                "height": np.array([a.shape[0] for a in raw]), "width": np.array([a.shape[1] for a in raw]),
                "grayscale": np.array([a.ndim == 2 for a in raw])}
        return StimulusSet(ids=tuple(ids), modality="image", payload=images, descriptors=desc, name="skimage-samples")
