"""fMRI sources on small seeded files with planted responses: beta maps through nilearn maskers
(``source.nifti-masker``) and GLM estimates from BOLD + events (``source.glm``).

References used: the planted patterns, the images' voxel values read directly with nibabel (for the
voxel order and coordinates), nilearn's maskers and FirstLevelModel called directly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

nib = pytest.importorskip("nibabel")
pytest.importorskip("nilearn")

import neurorep  # noqa: E402
from neurorep.fmri._toy import TOY_AFFINE, write_toy_betas, write_toy_runs  # noqa: E402
from neurorep.fmri.bids import BIDSGLMSource  # noqa: E402
from neurorep.fmri.nsd import NSDBetasSource  # noqa: E402
from neurorep.fmri.sites import SiteSpec, parse_lut, site_names  # noqa: E402
from neurorep.fmri.sources import GLMSource, NiftiMaskerSource  # noqa: E402
from neurorep.testing import parametrize_with_checks  # noqa: E402
from neurorep.types import StimulusSet  # noqa: E402


@pytest.fixture(scope="module")
def betas(tmp_path_factory):
    return write_toy_betas(tmp_path_factory.mktemp("betas"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return write_toy_runs(tmp_path_factory.mktemp("runs"))


def _raw_stack(paths):
    return np.stack([np.asarray(nib.load(p).dataobj, dtype=float) for p in paths], axis=-1)


# --------------------------------------------------------------------------- registration

def test_registering_the_builtins_imports_neither_nibabel_nor_nilearn():
    code = textwrap.dedent("""
        import json, sys
        from neurorep.plugins import PluginSystem
        ps = PluginSystem(load_entry_points=False)
        ids = sorted(i for i in ps.registry.ids() if i.startswith("source."))
        heavy = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("nibabel", "nilearn")})
        print(json.dumps({"ids": ids, "heavy": heavy, "errors": [e.plugin for e in ps.errors]}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"source.nifti-masker", "source.glm", "source.bids-glm", "source.nsd-betas"} <= set(res["ids"])
    assert res["heavy"] == [] and res["errors"] == []


def test_sites_are_listed_without_reading_images(betas, monkeypatch):
    import nibabel

    def refuse(*a, **k):
        raise AssertionError("sites() read an image")

    monkeypatch.setattr(nibabel, "load", refuse)
    src = NiftiMaskerSource(betas["betas"], ids=betas["ids"], atlas=betas["atlas"], atlas_labels=betas["lut"],
                            spheres={"V5": [0, 0, 0], "edge": [-6, -6, -4]})
    assert src.sites() == ["brain", "left-half", "right-half", "V5", "edge"]
    means = NiftiMaskerSource(betas["betas"], atlas=betas["atlas"], atlas_labels=betas["lut"],
                              spheres=[[0, 0, 0]], roi_mode="means", whole_brain=False)
    assert means.sites() == ["atlas", "spheres"]


@parametrize_with_checks([NiftiMaskerSource, GLMSource, BIDSGLMSource, NSDBetasSource])
def test_fmri_sources_conformance(component, check):
    check(component)


# --------------------------------------------------------------------------- lookup tables

def test_lookup_tables_in_every_format(tmp_path):
    (tmp_path / "a.tsv").write_text("index\tname\tcolor\n1\tV1\t#ff0000\n2\tV2\t#00ff00\n")
    (tmp_path / "b.ctab").write_text("# FreeSurfer colour table\n0 Unknown 0 0 0 0\n1 V1v 10 10 10 0\n7 hV4 1 2 3 0\n")
    (tmp_path / "c.json").write_text(json.dumps({"FFA": 3, "PPA": 4}))
    (tmp_path / "d.json").write_text(json.dumps({"3": "FFA", "4": "PPA"}))
    assert parse_lut(str(tmp_path / "a.tsv"), owner="t") == {1: "V1", 2: "V2"}
    assert parse_lut(str(tmp_path / "b.ctab"), owner="t") == {0: "Unknown", 1: "V1v", 7: "hV4"}
    assert parse_lut(str(tmp_path / "c.json"), owner="t") == {3: "FFA", 4: "PPA"}
    assert parse_lut(str(tmp_path / "d.json"), owner="t") == {3: "FFA", 4: "PPA"}
    assert parse_lut({"FFA": 3}, owner="t") == {3: "FFA"}
    lut = str(tmp_path / "b.ctab")
    # by name, by label value (int or numeric str); the LUT's 0 is the background
    spec = SiteSpec(atlas="a.nii.gz", atlas_labels=lut, rois=["hV4", 1])
    assert site_names(spec, owner="t") == ["brain", "hV4", "V1v"]
    assert site_names(SiteSpec(atlas="a.nii.gz", atlas_labels=lut, whole_brain=False), owner="t") == ["V1v", "hV4"]
    with pytest.raises(neurorep.InvalidInputError, match=r"site name\(s\) \['hV4'\] occur more than once"):
        site_names(SiteSpec(atlas="a.nii.gz", atlas_labels=lut, rois=["hV4", "7"]), owner="t")


# --------------------------------------------------------------------------- beta maps

def test_masker_voxels_equal_the_images_and_carry_world_coordinates(betas):
    src = neurorep.create("source.nifti-masker", {
        "images": betas["betas"], "ids": betas["ids"], "mask": betas["mask"], "atlas": betas["atlas"],
        "atlas_labels": betas["lut"], "spheres": {"centre": betas["center"], "edge": [-6, -6, -4]}, "radius": 4.0})
    raw = _raw_stack(betas["betas"])  # (x, y, z, 12): repeat-major, 6 stimuli
    brain = betas["brain"]
    n_stim = 6
    assert src.stimulus_ids() == tuple(f"stim-{s:02d}" for s in range(n_stim))
    for site in src.sites():
        rep = src.load(site)
        ijk = np.stack([rep.channel_descriptors[k] for k in "ijk"], axis=1)
        xyz = np.stack([rep.channel_descriptors[k] for k in "xyz"], axis=1)
        np.testing.assert_allclose(xyz, 2.0 * ijk + np.array([-6.0, -6.0, -4.0]))  # TOY_AFFINE
        assert brain[tuple(ijk.T)].all()
        X = raw[tuple(ijk.T)].T
        assert rep.repeats.shape == (2, n_stim, ijk.shape[0])
        np.testing.assert_array_equal(rep.repeats[0], X[:n_stim])
        np.testing.assert_array_equal(rep.repeats[1], X[n_stim:])
        np.testing.assert_allclose(rep.data, X.reshape(2, n_stim, -1).mean(0))
    assert src.load("brain").n_features == int(brain.sum()) == 64
    left, right = src.load("left-half"), src.load("right-half")
    assert set(left.channel_descriptors["j"]) == {1, 2} and set(right.channel_descriptors["j"]) == {3, 4}
    assert left.space["label"] == 1 and right.space["label"] == 2
    # planted patterns come back (noise sd 0.05)
    P = betas["patterns"][:, brain]
    assert np.corrcoef(src.load("brain").data.ravel(), P.ravel())[0, 1] > 0.99
    # spheres: nilearn's rule (centre within the radius, plus the voxel holding the seed), inside the mask
    centre = src.load("centre")
    d = np.sqrt(((np.stack([centre.channel_descriptors[k] for k in "xyz"], 1) - betas["center"]) ** 2).sum(1))
    assert centre.n_features == 30 and d.max() <= 4.0
    edge = src.load("edge")  # the seed's voxel (0, 0, 0) is outside the mask: only the 2 mask voxels within 4 mm
    assert edge.n_features == 2 and edge.space["center_mm"] == [-6.0, -6.0, -4.0]


def test_region_means_match_nilearn_label_and_sphere_maskers(betas):
    from nilearn.maskers import NiftiLabelsMasker, NiftiSpheresMasker

    kw = {"ids": betas["ids"], "mask": betas["mask"], "atlas": betas["atlas"], "atlas_labels": betas["lut"],
          "spheres": {"centre": betas["center"], "edge": [-6, -6, -4]}, "radius": 4.0}
    voxels = NiftiMaskerSource(betas["betas"], **kw)
    means = NiftiMaskerSource(betas["betas"], roi_mode="means", **kw)
    assert means.sites() == ["brain", "atlas", "spheres"]
    atlas, spheres = means.load("atlas"), means.load("spheres")
    assert list(atlas.channel_descriptors["roi"]) == ["left-half", "right-half"]
    assert list(spheres.channel_descriptors["roi"]) == ["centre", "edge"]
    for k, site in enumerate(["left-half", "right-half"]):
        np.testing.assert_allclose(atlas.data[:, k], voxels.load(site).data.mean(1), atol=1e-6)
        np.testing.assert_allclose(atlas.repeats[:, :, k], voxels.load(site).repeats.mean(2), atol=1e-6)
    for k, site in enumerate(["centre", "edge"]):
        np.testing.assert_allclose(spheres.data[:, k], voxels.load(site).data.mean(1), atol=1e-6)
    # nilearn's own maskers on the raw images (labels restricted to the mask; spheres with the mask)
    img4d = nib.concat_images([nib.load(p) for p in betas["betas"]])
    lab = np.asarray(nib.load(betas["atlas"]).dataobj) * betas["brain"]
    ref_atlas = NiftiLabelsMasker(nib.Nifti1Image(lab.astype(np.int16), TOY_AFFINE)).fit_transform(img4d)
    ref_sph = NiftiSpheresMasker([betas["center"], [-6, -6, -4]], radius=4.0,
                                 mask_img=betas["mask"]).fit_transform(img4d)
    np.testing.assert_allclose(atlas.repeats.reshape(12, 2), ref_atlas, atol=1e-5)
    np.testing.assert_allclose(spheres.repeats.reshape(12, 2), ref_sph, atol=1e-5)
    np.testing.assert_allclose(atlas.channel_descriptors["y"], [-3.0, 1.0])  # ROI centroids in mm
    assert list(atlas.channel_descriptors["n_voxels"]) == [32, 32]


def test_masker_4d_input_ids_file_default_mask_stimuli_selection_and_smoothing(betas, tmp_path):
    raw = _raw_stack(betas["betas"]).astype(np.float32)
    p4 = tmp_path / "betas4d.nii.gz"
    nib.save(nib.Nifti1Image(raw, TOY_AFFINE), p4)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(betas["ids"]) + "\n")
    a = NiftiMaskerSource(str(p4), ids=str(ids_file))  # no mask: the nonzero voxels (= the toy brain)
    b = NiftiMaskerSource(betas["betas"], ids=betas["ids"], mask=betas["mask"])
    ra, rb = a.load("brain"), b.load("brain")
    assert ra.space["n_brain_voxels"] == 64
    np.testing.assert_allclose(ra.repeats, rb.repeats, atol=1e-6)
    # ids from the file names of 3D maps; 4D without ids: vol-0000, ...
    assert NiftiMaskerSource(betas["betas"][:3]).stimulus_ids() == ("beta_rep0_stim00", "beta_rep0_stim01",
                                                                     "beta_rep0_stim02")
    assert NiftiMaskerSource(str(p4)).stimulus_ids()[:2] == ("vol-0000", "vol-0001")
    # a StimulusSet selects and orders the rows
    stim = StimulusSet(ids=("stim-03", "stim-00"))
    sel = b.load("brain", stim)
    assert sel.stimulus_ids == ("stim-03", "stim-00") and b.stimulus_ids(stim) == ("stim-03", "stim-00")
    np.testing.assert_array_equal(sel.data, rb.data[[3, 0]])
    # smoothing happens in nilearn's masker (the smoothed patterns differ but stay correlated)
    sm = NiftiMaskerSource(betas["betas"], ids=betas["ids"], mask=betas["mask"], smoothing_fwhm=4.0).load("brain")
    assert not np.allclose(sm.data, rb.data) and np.corrcoef(sm.data.ravel(), rb.data.ravel())[0, 1] > 0.5


def test_atlas_on_another_grid_is_resampled_on_request(betas, tmp_path):
    fine = np.zeros((12, 12, 8), dtype=np.int16)  # 1 mm grid covering the same field of view
    fine[:, :6] = 1
    fine[:, 6:] = 2
    aff = np.diag([1.0, 1.0, 1.0, 1.0])
    aff[:3, 3] = [-6.5, -6.5, -4.5]
    path = tmp_path / "fine_atlas.nii.gz"
    nib.save(nib.Nifti1Image(fine, aff), path)
    kw = {"ids": betas["ids"], "mask": betas["mask"], "atlas": str(path), "rois": [1, 2]}
    with pytest.raises(neurorep.InvalidInputError, match="resample=True"):
        NiftiMaskerSource(betas["betas"], **kw).load("label-1")
    src = NiftiMaskerSource(betas["betas"], resample=True, **kw)
    a, b = src.load("label-1"), src.load("label-2")
    assert a.n_features + b.n_features == 64 and set(a.channel_descriptors["y"]) == {-4.0, -2.0}


# --------------------------------------------------------------------------- GLM on synthetic runs

def _planted(runs, ids, brain=None):
    brain = runs["brain"] if brain is None else brain
    return np.stack([runs["patterns"][c][brain] for c in ids])


def test_glm_lsa_recovers_planted_patterns_with_runs_as_repeats(runs):
    src = neurorep.create("source.glm", {"bold": runs["bold"], "events": runs["events"], "mask": runs["mask"],
                                         "atlas": runs["atlas"], "atlas_labels": runs["lut"]})
    assert src.sites() == ["brain", "left-half", "right-half"]
    assert src.stimulus_ids() == tuple(dict.fromkeys(pd.read_csv(runs["events"][0], sep="\t")["trial_type"]))
    rep = src.load("brain", StimulusSet(ids=("a", "b", "c")))
    n_vox = int(runs["brain"].sum())
    assert rep.repeats.shape == (2, 3, n_vox) and rep.data.shape == (3, n_vox)
    P = _planted(runs, ("a", "b", "c"))
    # percent signal change of a baseline of 100: the planted amplitudes come back as they are
    np.testing.assert_allclose(rep.data, P, atol=0.15)
    for r in range(2):
        assert np.corrcoef(rep.repeats[r].ravel(), P.ravel())[0, 1] > 0.99
    assert rep.space["t_r"] == 2.0 and "header" in rep.space["t_r_from"] and rep.space["repeats_axis"] == "runs"
    left = src.load("left-half", StimulusSet(ids=("a", "b", "c")))
    m = runs["brain"] & (np.asarray(nib.load(runs["atlas"]).dataobj) == 1)
    np.testing.assert_allclose(left.data, _planted(runs, ("a", "b", "c"), m), atol=0.15)


def test_glm_lsa_equals_nilearn_first_level_model_called_directly(runs):
    from nilearn.glm.first_level import FirstLevelModel

    src = GLMSource(runs["bold"], runs["events"], mask=runs["mask"], noise_model="ols", output_type="stat")
    rep = src.load("brain")
    model = FirstLevelModel(t_r=2.0, mask_img=runs["mask"], noise_model="ols", signal_scaling=0)
    model.fit(runs["bold"][1], events=pd.read_csv(runs["events"][1], sep="\t"))
    for k, c in enumerate(rep.stimulus_ids):
        ref = np.asarray(model.compute_contrast(c, stat_type="t", output_type="stat").dataobj)[runs["brain"]]
        np.testing.assert_allclose(rep.repeats[1, k], ref, rtol=1e-5, atol=1e-6)


def test_glm_lss_per_trial_estimates_and_nuisance_conditions(runs, tmp_path):
    # one id per trial: each trial is its own stimulus; the planted pattern is its condition's
    events = []
    for r, path in enumerate(runs["events"]):
        ev = pd.read_csv(path, sep="\t")
        ev["trial_id"] = [f"r{r}-t{i}-{c}" for i, c in enumerate(ev["trial_type"])]
        p = tmp_path / f"ev{r}.tsv"
        ev.to_csv(p, sep="\t", index=False)
        events.append(str(p))
    lss = GLMSource(runs["bold"], events, mask=runs["mask"], estimator="lss", stimulus_column="trial_id",
                    noise_model="ols")
    rep = lss.load("brain")
    assert rep.n_stimuli == 12 and rep.repeats.shape == (1, 12, int(runs["brain"].sum()))
    P = _planted(runs, [s.rsplit("-", 1)[1] for s in rep.stimulus_ids])
    r = [np.corrcoef(rep.data[i], P[i])[0, 1] for i in range(12)]
    assert min(r) > 0.95
    # LSS grouped by condition: 4 presentations (2 per run) are the repeats axis
    grouped = GLMSource(runs["bold"], runs["events"], mask=runs["mask"], estimator="lss", lss_others="condition",
                        noise_model="ols").load("brain", StimulusSet(ids=("a", "b", "c")))
    assert grouped.repeats.shape == (4, 3, int(runs["brain"].sum()))
    assert grouped.space["repeats_axis"] == "presentations"
    assert np.corrcoef(grouped.data.ravel(), _planted(runs, "abc").ravel())[0, 1] > 0.99
    # 'c' as a nuisance regressor: only a and b are stimuli, and their estimates are unchanged in quality
    ab = GLMSource(runs["bold"], runs["events"], mask=runs["mask"], conditions=["a", "b"], noise_model="ols")
    assert ab.stimulus_ids() == tuple(c for c in dict.fromkeys(pd.read_csv(runs["events"][0], sep="\t")["trial_type"])
                                      if c in "ab")
    rab = ab.load("brain", StimulusSet(ids=("a", "b")))
    np.testing.assert_allclose(rab.data, _planted(runs, "ab"), atol=0.15)


def test_glm_confounds_and_a_computed_epi_mask(runs, tmp_path):
    rng = np.random.default_rng(5)
    confs = []
    for r in range(2):
        p = tmp_path / f"conf{r}.tsv"
        pd.DataFrame({"trans_x": rng.standard_normal(60), "fd": ["n/a"] + list(rng.random(59))}).to_csv(
            p, sep="\t", index=False)
        confs.append(str(p))
    src = GLMSource(runs["bold"], runs["events"], mask=runs["mask"], confounds=confs,
                    confound_columns=["trans_x", "fd"], noise_model="ols")
    rep = src.load("brain", StimulusSet(ids=("a", "b", "c")))
    np.testing.assert_allclose(rep.data, _planted(runs, "abc"), atol=0.2)
    with pytest.raises(neurorep.InvalidInputError, match=r"lack the column\(s\) \['nope'\]"):
        GLMSource(runs["bold"], runs["events"], confounds=confs, confound_columns=["nope"],
                  mask=runs["mask"]).load("brain")
    # no mask: nilearn's EPI mask of the runs' mean images (a skull-stripped brain inside a larger field of view)
    brain = np.zeros((14, 14, 10), dtype=bool)
    brain[2:-2, 2:-2, 2:-2] = True
    big = write_toy_runs(tmp_path / "big", shape=(14, 14, 10), brain=brain)
    auto = GLMSource(big["bold"], big["events"], noise_model="ols").load("brain", StimulusSet(ids=("a", "b", "c")))
    ijk = np.stack([auto.channel_descriptors[k] for k in "ijk"], axis=1)
    assert brain[tuple(ijk.T)].all() and auto.n_features > 0.5 * brain.sum()
    assert auto.space["mask"] is None
    planted = np.stack([big["patterns"][c][tuple(ijk.T)] for c in "abc"])
    assert np.corrcoef(auto.data.ravel(), planted.ravel())[0, 1] > 0.99
