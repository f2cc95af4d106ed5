"""Fashion-MNIST from its IDX files (Debian's ``dataset-fashion-mnist`` or any folder).

The IDX format (LeCun et al.) is a big-endian header -- two zero bytes, a
dtype code, the number of dimensions, then one uint32 per dimension --
followed by the raw array. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DEBIAN_FASHION_MNIST_DIR",
    "DEBIAN_PACKAGE",
    "FASHION_MNIST_CLASSES",
    "FashionMNISTNotFoundError",
    "ImageSplit",
    "read_idx",
    "write_idx",
    "find_fashion_mnist_dir",
    "load_fashion_mnist",
]

#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
#: The Debian package that provides the data.
DEBIAN_PACKAGE = "dataset-fashion-mnist"
#: Environment variable that overrides the data folder.
ENV_VAR = "NEUROREP_FASHION_MNIST_DIR"

#: Class names in label order (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747).
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}


class FashionMNISTNotFoundError(FileNotFoundError):
    """The Fashion-MNIST IDX files are not where they were looked for."""


@dataclass(frozen=True)
class ImageSplit:
    """One split of an image data set, stimuli first.

    Attributes
    ----------
    images : numpy.ndarray
        ``(n_images, height, width)`` uint8 pixel values in 0..255.
    labels : numpy.ndarray
        ``(n_images,)`` int64 class labels.
    split : str
        ``"train"`` or ``"test"``.
    """

    images: np.ndarray
    labels: np.ndarray
    split: str

    def __len__(self) -> int:
        return int(self.images.shape[0])


def _open(path: Path):
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a numpy array.

    Parameters
    ----------
    path : path-like
        The ``*-idx?-ubyte`` file, compressed or not.

    Returns
    -------
    numpy.ndarray
        The array in native byte order with the shape from the header.

    Raises
    ------
    ValueError
        If the header is not a valid IDX header or the payload is truncated.
    """
    path = Path(path)
    with _open(path) as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: expected two zero bytes at the start, got {raw[:4]!r}")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02x}; expected one of "
                         f"{', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[code]
    count = int(np.prod(shape)) if shape else 1
    need = header + count * dtype.itemsize
    if len(raw) != need:
        raise ValueError(f"{path}: IDX payload is {len(raw) - header} bytes but the header {shape} "
                         f"of {dtype} needs {count * dtype.itemsize}")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in ``.gz``).

    Parameters
    ----------
    path : path-like
        Destination file.
    array : numpy.ndarray
        uint8, int8, int16, int32, float32 or float64 array.
    compress : bool, optional
        Force compression on or off; by default decided by the ``.gz`` suffix.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    key = array.dtype.newbyteorder("=")
    if key not in codes:
        raise ValueError(f"cannot write dtype {array.dtype} as IDX; use one of {sorted(map(str, codes))}")
    code = codes[key]
    payload = array.astype(_IDX_DTYPES[code], copy=False).tobytes()
    data = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + payload
    if compress is None:
        compress = path.suffix == ".gz"
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as fh:
        fh.write(data)
    return path


def _file_for(root: Path, prefix: str, kind: str) -> Path | None:
    base = f"{prefix}-{kind}"
    for name in (base + ".gz", base):
        if (root / name).is_file():
            return root / name
    return None


def find_fashion_mnist_dir(root: str | os.PathLike | None = None) -> Path:
    """Locate a folder holding the four Fashion-MNIST IDX files.

    Looks in ``root`` if given, else ``$NEUROREP_FASHION_MNIST_DIR``, else Debian's
    ``/usr/share/datasets/fashion-mnist``.

    Raises
    ------
    FashionMNISTNotFoundError
        Naming the folders searched and how to install the data.
    """
    candidates = [Path(root)] if root is not None else []
    if root is None and os.environ.get(ENV_VAR):
        candidates.append(Path(os.environ[ENV_VAR]))
    if root is None:
        candidates.append(DEBIAN_FASHION_MNIST_DIR)
    for cand in candidates:
        if all(_file_for(cand, p, k) for p in _SPLIT_PREFIX.values()
               for k in ("images-idx3-ubyte", "labels-idx1-ubyte")):
            return cand
    searched = ", ".join(str(c) for c in candidates)
    raise FashionMNISTNotFoundError(
        f"Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
        f"t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) not found in: {searched}. "
        f"Install Debian's package with `apt-get install -y {DEBIAN_PACKAGE}` (after `apt-get update`), "
        f"or point {ENV_VAR} / the data_dir argument at a folder holding those files."
    )


def load_fashion_mnist(split: str = "train", root: str | os.PathLike | None = None) -> ImageSplit:
    """Load one Fashion-MNIST split.

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
    root : path-like, optional
        Folder holding the IDX files; see :func:`find_fashion_mnist_dir`.

    Returns
    -------
    ImageSplit
        uint8 images ``(n, 28, 28)`` and int64 labels ``(n,)``.
    """
    if split not in _SPLIT_PREFIX:
        raise ValueError(f"split must be one of {sorted(_SPLIT_PREFIX)}, got {split!r}")
    folder = find_fashion_mnist_dir(root)
    prefix = _SPLIT_PREFIX[split]
    images = read_idx(_file_for(folder, prefix, "images-idx3-ubyte"))
    labels = read_idx(_file_for(folder, prefix, "labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match; "
                         "expected (n, h, w) images and (n,) labels")
    return ImageSplit(images=images.astype(np.uint8, copy=False), labels=labels.astype(np.int64), split=split)
