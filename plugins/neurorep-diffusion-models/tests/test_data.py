"""IDX reading/writing and the Fashion-MNIST loader."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from neurorep_diffusion_models.data import (
    DEBIAN_FASHION_MNIST_DIR,
    FashionMNISTNotFoundError,
    find_fashion_mnist_dir,
    load_fashion_mnist,
    read_idx,
    write_idx,
)


def _hand_made_idx(arr: np.ndarray) -> bytes:
    # written from the format description, independently of write_idx
    return bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes()


def test_read_idx_parses_hand_written_header(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "plain-idx3-ubyte").write_bytes(_hand_made_idx(arr))
    with gzip.open(tmp_path / "zipped-idx3-ubyte.gz", "wb") as fh:
        fh.write(_hand_made_idx(arr))
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-idx3-ubyte"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "zipped-idx3-ubyte.gz"), arr)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_write_read_roundtrip(tmp_path, dtype):
    arr = (np.arange(30) * 3 - (0 if dtype == np.uint8 else 40)).astype(dtype).reshape(5, 6)
    for name in ("a-idx2", "a-idx2.gz"):
        write_idx(tmp_path / name, arr)
        back = read_idx(tmp_path / name)
        assert back.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(back, arr)


def test_truncated_and_bad_files_are_rejected(tmp_path):
    arr = np.zeros((4, 2, 2), dtype=np.uint8)
    (tmp_path / "short").write_bytes(_hand_made_idx(arr)[:-3])
    with pytest.raises(ValueError, match="payload"):
        read_idx(tmp_path / "short")
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")


def test_loader_reads_tiny_dataset(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labs = np.arange(12, dtype=np.uint8) % 10
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labs)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs[:5])  # uncompressed works too
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labs[:5])
    tr = load_fashion_mnist("train", tmp_path)
    te = load_fashion_mnist("test", tmp_path)
    np.testing.assert_array_equal(tr.images, imgs)
    np.testing.assert_array_equal(tr.labels, labs.astype(np.int64))
    assert len(te) == 5 and te.labels.dtype == np.int64
    with pytest.raises(ValueError, match="split"):
        load_fashion_mnist("validation", tmp_path)


def test_missing_data_names_the_debian_package(tmp_path):
    with pytest.raises(FashionMNISTNotFoundError, match="apt-get install -y dataset-fashion-mnist"):
        find_fashion_mnist_dir(tmp_path)


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST_DIR.is_dir(),
                    reason="Debian package dataset-fashion-mnist not installed "
                           "(apt-get install -y dataset-fashion-mnist)")
def test_real_fashion_mnist_shapes_and_balance():
    tr = load_fashion_mnist("train")
    te = load_fashion_mnist("test")
    assert tr.images.shape == (60000, 28, 28) and te.images.shape == (10000, 28, 28)
    # the published class balance: 6,000 training and 1,000 test images per class
    assert np.bincount(tr.labels).tolist() == [6000] * 10
    assert np.bincount(te.labels).tolist() == [1000] * 10
