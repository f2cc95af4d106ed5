"""Stimulus sets: sentence lists from TOML/CSV files, the sample images scikit-image and scikit-learn ship, and
Fashion-MNIST from Debian's ``dataset-fashion-mnist``.

All are datasets (kind ``dataset``) whose :meth:`load_stimuli` a recipe's ``[stimuli.*]`` entry uses::

    [stimuli.sentences]
    component = "dataset.sentences"
    params = { path = "stimuli/sentences.csv" }

    [stimuli.photos]
    component = "dataset.skimage-samples"
    params = { names = ["skimage-chelsea", "skimage-coffee"] }

    [stimuli.clothes]
    component = "dataset.fashion-mnist"
    params = { split = "test", classes = ["sneaker", "bag"], n_per_class = 10 }
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from ..components import Dataset
from ..errors import InvalidInputError
from ..types import StimulusSet
from .base import as_rgb_uint8

__all__ = [
    "FashionMNIST", "SentenceDataset", "SkimageSamples", "FASHION_MNIST_CLASSES", "SKIMAGE_SAMPLES", "SKLEARN_SAMPLES",
    "read_idx", "sentence_ids",
]

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


# --------------------------------------------------------------------------- Fashion-MNIST

#: Where Debian's ``dataset-fashion-mnist`` package installs the four IDX files.
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
#: The Debian package, its version when the checksums below were taken, and the upstream source.
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_PACKAGE_VERSION = "0.0~git20200523.55506a9-1"
#: sha256 of each gzip-compressed IDX file as shipped by that package (the bytes of the upstream
#: repository zalandoresearch/fashion-mnist, folder data/fashion).
FASHION_MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
#: The 10 classes in label order (0-9), as short ids; the original names are in FASHION_MNIST_NAMES.
FASHION_MNIST_CLASSES: tuple[str, ...] = ("t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                                          "sneaker", "bag", "ankle-boot")
FASHION_MNIST_NAMES: tuple[str, ...] = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                        "Sneaker", "Bag", "Ankle boot")
_FASHION_SPLITS = {"train": ("train", 60000), "test": ("t10k", 10000)}

#: IDX type codes -> numpy dtypes (big-endian for multi-byte types), per LeCun's IDX format.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path, *, owner: str = "read_idx") -> np.ndarray:
    """Read an IDX file (``*-idx3-ubyte``, optionally gzip-compressed) into a numpy array.

    The format: two zero bytes, a type code, the number of dimensions ``d``, then ``d`` big-endian
    uint32 sizes and the values in C order.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; names ending in ``.gz`` are decompressed.
    owner : str
        Named in error messages.

    Raises
    ------
    InvalidInputError
        The header is not an IDX header, or the file is shorter or longer than its header says.
    """
    import gzip

    p = Path(path)
    try:
        with (gzip.open(p, "rb") if p.suffix == ".gz" else open(p, "rb")) as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise InvalidInputError(f"{owner}: cannot read the IDX file {p}: {exc}. It is corrupt or truncated; "
                                "reinstall it.") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise InvalidInputError(f"{owner}: {p} does not start with an IDX header (0x00 0x00 <type> <ndim>); got "
                                f"{raw[:4].hex()}. Expected a file such as train-images-idx3-ubyte.gz.")
    ndim = raw[3]
    head = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = head + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise InvalidInputError(f"{owner}: {p} holds {len(raw)} bytes but its header ({shape}, {dtype}) implies "
                                f"{expected}; the file is truncated or corrupt.")
    return np.frombuffer(raw, dtype=dtype, offset=head).reshape(shape).astype(dtype.newbyteorder("="))


_FASHION_CACHE: dict[tuple[str, int, int], np.ndarray] = {}
_FASHION_VERIFIED: set[tuple[str, int, int, str]] = set()


class FashionMNIST(Dataset):
    """Fashion-MNIST (Xiao et al., 2017) from Debian's ``dataset-fashion-mnist``, as an image stimulus set.

    70,000 greyscale 28 x 28 images of clothing in 10 classes (60,000 ``train``, 10,000 ``test``),
    read from the package's gzip-compressed IDX files, each checked against its sha256 (taken
    from package version 0.0~git20200523.55506a9-1; the files are the upstream ones).

    Ids are ``fmnist-<split>-<index>`` (``fmnist-test-00042``: image 42 of the test file, 0-based, five
    digits), so an image keeps its id whatever else is selected. Stimuli are ordered by class (in
    the order of ``classes``, default label order 0-9), then by index. The payload is an
    ``(n, 28, 28)`` uint8 array (0 = background); descriptors: ``label`` (0-9), ``class_name``
    (short id, e.g. ``ankle-boot``), ``class_title`` (the original name, e.g. ``Ankle boot``),
    ``index`` and ``split``.

    Parameters
    ----------
    split : {"test", "train"}, default="test"
    classes : list of str or int, optional
        The classes to keep, by label (0-9), short id (:data:`FASHION_MNIST_CLASSES`) or original
        name; None = all 10.
    n_per_class : int, optional
        Keep the first ``n_per_class`` images of each class (in file order); None = all.
    data_dir : str, optional
        Folder holding the four ``*-ubyte.gz`` files (default: the Debian package's
        ``/usr/share/datasets/fashion-mnist``).
    verify : bool, default=True
        Check each file's sha256 (once per process for an unchanged file).
    """

    id = "dataset.fashion-mnist"
    version = "1.0.0"
    citation = ("Xiao H, Rasul K, Vollgraf R (2017). Fashion-MNIST: a novel image dataset for benchmarking machine "
                "learning algorithms. arXiv:1708.07747")
    description = "Fashion-MNIST images (Debian dataset-fashion-mnist) with class labels, by split/class/count"
    CLASSES: ClassVar[tuple[str, ...]] = FASHION_MNIST_CLASSES

    def __init__(self, split: Literal["test", "train"] = "test", classes: list[str | int] | None = None,
                 n_per_class: int | None = None, data_dir: str | None = None, verify: bool = True):
        self.split = split
        self.classes = classes
        self.n_per_class = n_per_class
        self.data_dir = data_dir
        self.verify = verify

    @classmethod
    def _conformance_instances(cls) -> list[FashionMNIST]:
        return [cls(classes=["bag", 0], n_per_class=2)]

    def card(self) -> dict[str, Any]:
        folder = Path(self.data_dir or FASHION_MNIST_DIR)
        return {
            "files": [{"name": n, "path": str(folder / n), "sha256": s} for n, s in FASHION_MNIST_SHA256.items()],
            "source": {"debian_package": FASHION_MNIST_PACKAGE, "version": FASHION_MNIST_PACKAGE_VERSION,
                       "folder": FASHION_MNIST_DIR, "upstream": "zalandoresearch/fashion-mnist (data/fashion)"},
            "license": "MIT (Zalando SE)", "citation": self.citation,
            "contents": "70,000 greyscale 28 x 28 images, 10 clothing classes; train 60,000 / test 10,000",
        }

    # ------------------------------------------------------------------ files
    def _file(self, name: str) -> Path:
        folder = Path(self.data_dir) if self.data_dir else Path(FASHION_MNIST_DIR)
        p = folder / name
        if not p.is_file():
            where = (f"the data_dir given ({folder})" if self.data_dir else
                     f"{folder}, where Debian's {FASHION_MNIST_PACKAGE} installs it")
            raise InvalidInputError(
                f"Dataset {self.id!r}: expected the Fashion-MNIST file {name} in {where}; it is not there. Install the "
                f"package with 'apt-get install {FASHION_MNIST_PACKAGE}' (as root), or pass data_dir= a folder holding "
                f"the four files {sorted(FASHION_MNIST_SHA256)}.")
        if self.verify:
            st = p.stat()
            key = (str(p.resolve()), st.st_size, st.st_mtime_ns, FASHION_MNIST_SHA256[name])
            if key not in _FASHION_VERIFIED:
                import hashlib

                h = hashlib.sha256()
                with open(p, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        h.update(chunk)
                if h.hexdigest() != FASHION_MNIST_SHA256[name]:
                    raise InvalidInputError(
                        f"Dataset {self.id!r}: {p} has sha256 {h.hexdigest()}, expected {FASHION_MNIST_SHA256[name]} "
                        f"({FASHION_MNIST_PACKAGE} {FASHION_MNIST_PACKAGE_VERSION}). The file is corrupt or another "
                        f"version: reinstall it ('apt-get install --reinstall {FASHION_MNIST_PACKAGE}'), or pass "
                        "verify=False if you know it is right.")
                _FASHION_VERIFIED.add(key)
        return p

    def _array(self, name: str) -> np.ndarray:
        p = self._file(name)
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
        if key not in _FASHION_CACHE:
            if len(_FASHION_CACHE) >= 4:
                _FASHION_CACHE.clear()
            _FASHION_CACHE[key] = read_idx(p, owner=f"Dataset {self.id!r}")
        return _FASHION_CACHE[key]

    # ------------------------------------------------------------------ selection
    def _labels_wanted(self) -> list[int]:
        if self.classes is None:
            return list(range(10))
        if isinstance(self.classes, (str, int)):
            raise InvalidInputError(f"Dataset {self.id!r}: classes must be a list, got {self.classes!r}; write "
                                    f"classes = [{self.classes!r}].")
        lookup = {c: k for k, c in enumerate(FASHION_MNIST_CLASSES)}
        lookup.update({n.lower(): k for k, n in enumerate(FASHION_MNIST_NAMES)})
        out: list[int] = []
        for c in self.classes:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= int(c) <= 9:
                k = int(c)
            elif isinstance(c, str) and c.strip().lower() in lookup:
                k = lookup[c.strip().lower()]
            else:
                import difflib

                hint = difflib.get_close_matches(str(c).lower(), list(FASHION_MNIST_CLASSES), n=1)
                raise InvalidInputError(
                    f"Dataset {self.id!r}: unknown class {c!r}{f' (did you mean {hint[0]!r}?)' if hint else ''}; "
                    f"expected a label 0-9 or one of {list(FASHION_MNIST_CLASSES)}.")
            if k in out:
                raise InvalidInputError(f"Dataset {self.id!r}: class {c!r} (label {k}) is listed twice in classes.")
            out.append(k)
        if not out:
            raise InvalidInputError(f"Dataset {self.id!r}: classes is empty; give at least one class or None for all.")
        return out

    def load_stimuli(self) -> StimulusSet:
        if self.split not in _FASHION_SPLITS:
            raise InvalidInputError(f"Dataset {self.id!r}: split must be one of {sorted(_FASHION_SPLITS)}, got "
                                    f"{self.split!r}.")
        n = self.n_per_class
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
            raise InvalidInputError(f"Dataset {self.id!r}: n_per_class must be a positive integer or None, got {n!r}.")
        wanted = self._labels_wanted()
        prefix, n_total = _FASHION_SPLITS[self.split]
        labels = self._array(f"{prefix}-labels-idx1-ubyte.gz")
        if labels.shape != (n_total,):
            raise InvalidInputError(f"Dataset {self.id!r}: the {self.split} labels have shape {labels.shape}, expected "
                                    f"({n_total},).")
        index = []
        for k in wanted:
            idx = np.flatnonzero(labels == k)
            if n is not None:
                if n > idx.size:
                    raise InvalidInputError(f"Dataset {self.id!r}: n_per_class={n} but the {self.split} split has only "
                                            f"{idx.size} images of class {FASHION_MNIST_CLASSES[k]!r}.")
                idx = idx[:n]
            index.append(idx)
        sel = np.concatenate(index)
        images = self._array(f"{prefix}-images-idx3-ubyte.gz")
        if images.shape != (n_total, 28, 28):
            raise InvalidInputError(f"Dataset {self.id!r}: the {self.split} images have shape {images.shape}, expected "
                                    f"({n_total}, 28, 28).")
        lab = labels[sel].astype(np.int64)
        ids = tuple(f"fmnist-{self.split}-{i:05d}" for i in sel)
        desc = {"label": lab, "class_name": np.array([FASHION_MNIST_CLASSES[k] for k in lab]),
                "class_title": np.array([FASHION_MNIST_NAMES[k] for k in lab]), "index": sel.astype(np.int64),
                "split": np.array([self.split] * sel.size)}
        return StimulusSet(ids=ids, modality="image", payload=np.ascontiguousarray(images[sel]), descriptors=desc,
                           name=f"fashion-mnist-{self.split}")
