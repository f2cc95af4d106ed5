"""``source.motif-maps`` on files: NIfTI runs through nilearn's masker equal the same series given as arrays."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from neurorep.errors import InvalidInputError

from neurorep_network_motifs import MotifMaps, correlation_network, motif_features


def test_nifti_and_array_inputs_give_the_same_maps(tmp_path):
    rng = np.random.default_rng(0)
    mask = np.zeros((4, 4, 2), dtype=np.uint8)
    mask[1:4, 1:4, :] = 1  # 18 voxels
    nib.save(nib.Nifti1Image(mask, np.eye(4)), tmp_path / "mask.nii.gz")
    nii, npy, series = [], [], []
    for s in range(3):
        ts = rng.standard_normal((50, 18)) + np.repeat(rng.standard_normal((50, 3)), 6, axis=1)
        vol = np.zeros((4, 4, 2, 50))
        vol[mask.astype(bool)] = ts.T  # C order, as the masker reads it back
        nib.save(nib.Nifti1Image(vol, np.eye(4)), tmp_path / f"sub-{s}.nii.gz")
        np.save(tmp_path / f"sub-{s}.npy", ts)
        nii.append(str(tmp_path / f"sub-{s}.nii.gz"))
        npy.append(str(tmp_path / f"sub-{s}.npy"))
        series.append(ts)
    labels = ["a", "b", "a"]
    a = MotifMaps(paths=nii, labels=labels, mask=str(tmp_path / "mask.nii.gz"), detrend=False, density=0.2)
    b = MotifMaps(paths=npy, labels=labels, density=0.2)
    assert a.stimulus_ids() == ("sub-0", "sub-1", "sub-2") == b.stimulus_ids()
    ra, rb = a.load("cycle3"), b.load("cycle3")
    np.testing.assert_array_equal(ra.data, rb.data)
    A, _ = correlation_network(series[1], density=0.2)
    np.testing.assert_array_equal(rb.data[1], motif_features(A, ("cycle3",))["cycle3"])
    np.testing.assert_array_equal(b.load("group").data[:, 0], [0, 1, 0])


def test_file_errors_name_the_component_and_the_fix(tmp_path):
    with pytest.raises(InvalidInputError, match="source.motif-maps.*one label per path"):
        MotifMaps(paths=["x.npy"], labels=[]).load("cycle3")
    with pytest.raises(InvalidInputError, match="no.*|found none"):
        MotifMaps(paths=[str(tmp_path / "missing.npy")], labels=["a"]).load("cycle3")
    np.save(tmp_path / "a.npy", np.random.default_rng(0).standard_normal((30, 6)))
    np.save(tmp_path / "b.npy", np.random.default_rng(1).standard_normal((30, 7)))
    with pytest.raises(InvalidInputError, match="same voxels"):
        MotifMaps(paths=[str(tmp_path / "a.npy"), str(tmp_path / "b.npy")], labels=["a", "b"]).load("degree")
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 5)), np.eye(4)), tmp_path / "r.nii.gz")
    with pytest.raises(InvalidInputError, match="give 'mask'"):
        MotifMaps(paths=[str(tmp_path / "r.nii.gz")], labels=["a"]).load("degree")
