"""Bad fMRI input gets a clear error, never a silent result: each message names the component, what was
expected, what was given and the fix.

Cases (issue 3, item 2): corrupt or truncated NIfTI, 3D where 4D is needed, affine/shape mismatch between
image and mask, NaNs in the data, events outside the scan, an empty ROI (atlas label or sphere).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

nib = pytest.importorskip("nibabel")
pytest.importorskip("nilearn")

from neurorep.errors import InvalidInputError  # noqa: E402
from neurorep.fmri._toy import TOY_AFFINE, write_toy_betas, write_toy_runs  # noqa: E402
from neurorep.fmri.sources import GLMSource, NiftiMaskerSource  # noqa: E402


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("errors")
    return {"betas": write_toy_betas(root / "betas"), "runs": write_toy_runs(root / "runs")}


def _msg(excinfo) -> str:
    return str(excinfo.value)


def _masker(toy, **kw):
    b = toy["betas"]
    return NiftiMaskerSource(kw.pop("images", b["betas"]), ids=kw.pop("ids", b["ids"]), **kw)


def _glm(toy, **kw):
    r = toy["runs"]
    return GLMSource(kw.pop("bold", r["bold"]), kw.pop("events", r["events"]), **{"mask": r["mask"], **kw})


# --------------------------------------------------------------------------- corrupt / truncated files

def test_corrupt_nifti(toy, tmp_path):
    bad = tmp_path / "beta_corrupt.nii.gz"
    bad.write_bytes(np.random.default_rng(0).bytes(600))
    images = list(toy["betas"]["betas"])
    images[2] = str(bad)
    with pytest.raises(InvalidInputError) as e:
        _masker(toy, images=images).load("brain")
    m = _msg(e)
    assert "Source 'source.nifti-masker'" in m and str(bad) in m and "(600 bytes)" in m
    assert "could not be read as NIfTI" in m and "Expected a valid .nii or .nii.gz file" in m
    assert "Replace it with an intact copy" in m and "image 2 of 12" in m


def test_corrupt_mask_is_named_as_the_mask(toy, tmp_path):
    bad = tmp_path / "mask.nii"
    bad.write_text("not an image")
    with pytest.raises(InvalidInputError, match=r"source.glm': mask file .*mask.nii .*could not be read as NIfTI"):
        _glm(toy, mask=str(bad)).load("brain")


def test_truncated_nifti(toy, tmp_path):
    whole = Path(toy["runs"]["bold"][1]).read_bytes()
    cut = tmp_path / "run-2_truncated.nii.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidInputError) as e:
        _glm(toy, bold=[toy["runs"]["bold"][0], str(cut)]).load("brain")
    m = _msg(e)
    assert "Source 'source.glm'" in m and "BOLD of run 2" in m and str(cut) in m
    assert "is truncated or corrupt" in m and "header announces shape (5, 5, 3, 60)" in m
    assert f"after {len(whole) // 2} bytes on disk" in m and "Replace it with an intact copy" in m


# --------------------------------------------------------------------------- dimensions and grids

def test_3d_image_where_4d_is_needed(toy):
    with pytest.raises(InvalidInputError) as e:
        _glm(toy, bold=[toy["runs"]["mask"]], events=toy["runs"]["events"][:1]).load("brain")
    m = _msg(e)
    assert "Source 'source.glm'" in m and "has shape (5, 5, 3) (3D), expected a 4D image" in m
    assert "a single 3D volume was given where a 4D time series (x, y, z, time) is needed" in m


def test_shape_mismatch_between_image_and_mask(toy, tmp_path):
    small = tmp_path / "mask_small.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((5, 5, 2), np.uint8), TOY_AFFINE), small)
    with pytest.raises(InvalidInputError) as e:
        _glm(toy, mask=str(small)).load("brain")
    m = _msg(e)
    assert "Source 'source.glm'" in m and "has spatial shape (5, 5, 3)" in m and f"mask {small} has (5, 5, 2)" in m
    assert "must be on the same voxel grid" in m and "resample_to_img" in m and "resample=True" in m
    with pytest.raises(InvalidInputError, match=r"source.nifti-masker'.*spatial shape \(6, 6, 4\).*\(5, 5, 2\)"):
        _masker(toy, mask=str(small)).load("brain")


def test_affine_mismatch_between_image_and_mask(toy, tmp_path):
    shifted = TOY_AFFINE.copy()
    shifted[0, 3] += 4.0  # the same voxels, 4 mm (2 voxels) further along x
    path = tmp_path / "mask_shifted.nii.gz"
    nib.save(nib.Nifti1Image(np.asarray(nib.load(toy["betas"]["mask"]).dataobj), shifted), path)
    with pytest.raises(InvalidInputError) as e:
        _masker(toy, mask=str(path)).load("brain")
    m = _msg(e)
    assert "Source 'source.nifti-masker'" in m and f"and mask {path} have different affines" in m
    assert "[2.0, 0.0, 0.0, -6.0]" in m and "[2.0, 0.0, 0.0, -2.0]" in m
    assert "same voxel grid" in m and "resample_to_img" in m and "resample=True" in m
    # with resample=True the mask moves onto the data's grid: its planes i = 1..4 land on i = 3..5 (and beyond)
    rep = _masker(toy, mask=str(path), resample=True).load("brain")
    assert sorted(set(rep.channel_descriptors["i"])) == [3, 4, 5] and rep.n_features == 3 * 4 * 4


def test_atlas_on_another_grid(toy, tmp_path):
    path = tmp_path / "atlas_other.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((3, 3, 3), np.int16), TOY_AFFINE), path)
    with pytest.raises(InvalidInputError, match=r"source.nifti-masker'.*atlas .* has \(3, 3, 3\).*resample=True"):
        _masker(toy, atlas=str(path), rois=[1]).load("label-1")


def test_non_integer_atlas(toy, tmp_path):
    path = tmp_path / "prob_atlas.nii.gz"
    nib.save(nib.Nifti1Image(np.full((6, 6, 4), 0.37, np.float32), TOY_AFFINE), path)
    with pytest.raises(InvalidInputError, match=r"holds non-integer values \(e.g. 0.37\); expected integer region "
                                                r"labels. A probabilistic atlas must be thresholded"):
        _masker(toy, atlas=str(path), rois=[1]).load("brain")


# --------------------------------------------------------------------------- NaNs

def test_nan_in_beta_maps(toy, tmp_path):
    b = toy["betas"]
    img = nib.load(b["betas"][4])
    data = np.asarray(img.dataobj).copy()
    data[2, 3, 1] = np.nan
    path = tmp_path / "beta_nan.nii.gz"
    nib.save(nib.Nifti1Image(data, img.affine), path)
    images = list(b["betas"])
    images[4] = str(path)
    with pytest.raises(InvalidInputError) as e:
        _masker(toy, images=images, mask=b["mask"]).load("brain")
    m = _msg(e)
    assert "Source 'source.nifti-masker'" in m and "1 NaN/inf value(s) in 1 of 64 voxel(s)" in m
    assert "1 of 12 volume(s) (first: stim-04)" in m and "expected finite values" in m
    assert "Give a mask that excludes those voxels" in m
    # NaN outside the mask is background, not an error
    outside = data.copy()
    outside[2, 3, 1] = 0.0
    outside[0, 0, 0] = np.nan
    nib.save(nib.Nifti1Image(outside, img.affine), path)
    assert _masker(toy, images=images, mask=b["mask"]).load("brain").n_features == 64


def test_nan_in_bold(toy, tmp_path):
    img = nib.load(toy["runs"]["bold"][0])
    data = np.asarray(img.dataobj).copy()
    data[3, 3, 1, 10:14] = np.nan
    path = tmp_path / "run-1_nan.nii.gz"
    nib.save(nib.Nifti1Image(data, img.affine, img.header), path)
    with pytest.raises(InvalidInputError) as e:
        _glm(toy, bold=[str(path), toy["runs"]["bold"][1]]).load("brain")
    m = _msg(e)
    assert "Source 'source.glm'" in m and "the BOLD data of run 1" in m and "inside the mask" in m
    assert "4 NaN/inf value(s) in 1 of 60 voxel(s) and 4 of 60 volume(s)" in m and "volume 10" in m


# --------------------------------------------------------------------------- events

def _write_events(tmp_path, name, rows):
    p = tmp_path / name
    pd.DataFrame(rows, columns=["onset", "duration", "trial_type"]).to_csv(p, sep="\t", index=False)
    return str(p)


def test_events_outside_the_scan(toy, tmp_path):
    ev = pd.read_csv(toy["runs"]["events"][1], sep="\t")
    late = _write_events(tmp_path, "late.tsv", list(ev.itertuples(index=False, name=None)) + [(116.0, 8.0, "b")])
    with pytest.raises(InvalidInputError) as e:
        _glm(toy, events=[toy["runs"]["events"][0], late]).load("brain")
    m = _msg(e)
    assert "Source 'source.glm'" in m and "events of run 2" in m and "1 event(s) lie outside the scan" in m
    assert "'b' (row 6: onset 116 s, duration 8 s, ending at 124 s)" in m
    assert "the scan has 60 volumes x TR 2 s = 120 s" in m and "Expected every event to end within (0, 120] s" in m
    assert "that the TR is right" in m and "trim the events" in m
    early = _write_events(tmp_path, "early.tsv", list(ev.itertuples(index=False, name=None)) + [(-10.0, 4.0, "a")])
    with pytest.raises(InvalidInputError, match=r"lie outside the scan, e.g. 'a' \(row 6: onset -10 s, duration 4 s, "
                                                 r"ending at -6 s\)"):
        _glm(toy, events=[early, toy["runs"]["events"][1]]).load("brain")
    # a wrong TR turns the same events into a scan overrun, reported before any fit
    with pytest.raises(InvalidInputError, match=r"60 volumes x TR 1 s = 60 s"):
        _glm(toy, t_r=1.0).load("brain")


def test_malformed_events(toy, tmp_path):
    p = tmp_path / "no_duration.tsv"
    pd.DataFrame({"onset": [1.0], "trial_type": ["a"]}).to_csv(p, sep="\t", index=False)
    with pytest.raises(InvalidInputError, match=r"events of run 1 .* lacks the column\(s\) \['duration'\]; it has "
                                                r"\['onset', 'trial_type'\]"):
        _glm(toy, events=[str(p), toy["runs"]["events"][1]]).load("brain")
    with pytest.raises(InvalidInputError, match=r"2 BOLD run\(s\) but 1 events file\(s\)"):
        _glm(toy, events=toy["runs"]["events"][:1]).load("brain")
    one_cond = _write_events(tmp_path, "only_a.tsv", [(6.0, 8.0, "a"), (30.0, 8.0, "a")])
    with pytest.raises(InvalidInputError, match=r"stimulus/condition\(s\) \['b', 'c'\] have no event in run 2.*"
                                                r"every run must show every stimulus.*estimator='lss'"):
        _glm(toy, events=[toy["runs"]["events"][0], one_cond]).load("brain")


# --------------------------------------------------------------------------- empty regions

def test_empty_roi_label_outside_the_mask(toy, tmp_path):
    atlas = np.zeros((6, 6, 4), np.int16)
    atlas[0, :, :] = 3  # the plane x = 0, outside the toy mask
    atlas[2:4, 2:4, :] = 1
    path = tmp_path / "atlas_edge.nii.gz"
    nib.save(nib.Nifti1Image(atlas, TOY_AFFINE), path)
    src = _masker(toy, mask=toy["betas"]["mask"], atlas=str(path), atlas_labels={"core": 1, "rim": 3})
    assert src.sites() == ["brain", "core", "rim"]
    with pytest.raises(InvalidInputError) as e:
        src.load("core")
    m = _msg(e)
    assert "Source 'source.nifti-masker'" in m and "ROI 'rim' (label 3) is empty" in m
    assert "the atlas has 24 voxel(s) with label 3 but none lies inside the mask" in m and "(64 voxels)" in m
    assert "Expected at least one voxel" in m and "drop this ROI from rois" in m
    with pytest.raises(InvalidInputError, match=r"ROI 'label-9' \(label 9\) is empty: no voxel of the atlas carries "
                                                r"label 9"):
        _masker(toy, atlas=str(path), rois=[1, 9]).load("brain")


def test_empty_sphere(toy):
    src = _masker(toy, mask=toy["betas"]["mask"], spheres={"V1": [0.0, 0.0, 0.0], "outside": [40.0, -90.0, 0.0]})
    with pytest.raises(InvalidInputError) as e:
        src.load("V1")
    m = _msg(e)
    assert "Source 'source.nifti-masker'" in m and "sphere 'outside' at (40, -90, 0) mm with radius 6 mm is empty" in m
    assert "nearest mask voxel is" in m and "world/MNI mm" in m and "increase radius" in m
    with pytest.raises(InvalidInputError, match="sphere 'outside'"):  # also in the means mode (nilearn never sees it)
        _masker(toy, spheres={"outside": [40.0, -90.0, 0.0]}, roi_mode="means").load("spheres")


def test_unknown_rois_and_sites_and_counts(toy):
    b = toy["betas"]
    with pytest.raises(InvalidInputError, match=r"unknown ROI 'rigth-half'.*Did you mean 'right-half'"):
        _masker(toy, atlas=b["atlas"], atlas_labels=b["lut"], rois=["rigth-half"]).sites()
    with pytest.raises(InvalidInputError, match=r"ROI 'V1' is a name but the atlas has no names"):
        _masker(toy, atlas=b["atlas"], rois=["V1"]).sites()
    with pytest.raises(InvalidInputError, match=r"unknown site 'brian'.*Did you mean 'brain'"):
        _masker(toy).load("brian")
    with pytest.raises(InvalidInputError, match=r"the images hold 12 volume\(s\) but 11 stimulus id\(s\) were given"):
        _masker(toy, ids=b["ids"][:11]).load("brain")
    with pytest.raises(InvalidInputError, match=r"no sites: whole_brain is False"):
        _masker(toy, whole_brain=False).sites()
    with pytest.raises(InvalidInputError, match=r"sphere 'x' has coordinates \[1, 2\]; expected three"):
        _masker(toy, spheres={"x": [1, 2]}).sites()
