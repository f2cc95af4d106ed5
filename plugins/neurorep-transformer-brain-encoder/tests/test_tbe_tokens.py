"""Token layout identities and informative errors."""

from __future__ import annotations

import numpy as np
import pytest

from neurorep.errors import InvalidInputError
from neurorep.types import Representation
from neurorep_transformer_brain_encoder import TransformerEncoding, to_tokens


def test_chw_and_hwc_layouts_give_the_same_tokens():
    rng = np.random.default_rng(0)
    maps = rng.standard_normal((5, 3, 2, 4))                       # (n, C, h, w)
    chw, hw = to_tokens(maps.reshape(5, -1), [2, 4], "chw", "t")
    hwc, _ = to_tokens(maps.transpose(0, 2, 3, 1).reshape(5, -1), [2, 4], "hwc", "t")
    assert hw == (2, 4)
    np.testing.assert_array_equal(chw, hwc)
    np.testing.assert_array_equal(chw[:, 1 * 4 + 3], maps[:, :, 1, 3])   # token (row 1, col 3)


def test_row_col_descriptors_give_the_same_tokens():
    rng = np.random.default_rng(1)
    maps = rng.standard_normal((4, 3, 2, 2))
    flat = maps.reshape(4, -1)
    c, r, k = np.meshgrid(np.arange(3), np.arange(2), np.arange(2), indexing="ij")
    perm = rng.permutation(flat.shape[1])                            # descriptors make the order irrelevant
    tok, hw = to_tokens(flat[:, perm], [], "chw", "t", {"row": r.ravel()[perm], "col": k.ravel()[perm]})
    ref, _ = to_tokens(flat, [2, 2], "chw", "t")
    assert hw == (2, 2)
    np.testing.assert_array_equal(np.sort(tok, axis=2), np.sort(ref, axis=2))


def test_grid_mismatch_is_an_informative_error():
    ids = tuple(f"s{i}" for i in range(8))
    x = Representation(np.zeros((8, 10)), ids)
    y = Representation(np.ones((8, 2)), ids)
    with pytest.raises(InvalidInputError, match=r"encoding.transformer.*10 features.*grid"):
        TransformerEncoding(grid=[2, 2]).analyze(x, y)
