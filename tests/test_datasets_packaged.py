"""Data that installed packages ship, as dataset components with cards and checksums: nitime's grasshopper
receptor neuron and fMRI examples, nilearn's MNI152 templates and coordinate atlases, Debian mricron-data's
labelled atlases (optional: skipped with the install command when the package is absent)."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from neurorep_datasets import (
    ChecksumMismatchError,
    DataNotFoundError,
    DownloadError,
    MricronAtlases,
    NilearnAtlases,
    NitimeFMRI,
    NitimeGrasshopper,
    download,
    load_card,
    resolve_files,
)
from neurorep_datasets import cards as cards_mod
from neurorep_datasets.fetch import check_files, package_folder

import neurorep
from neurorep.testing import parametrize_with_checks

PACKAGED = ("nitime-grasshopper", "nitime-fmri", "nilearn-atlases", "mricron-atlases")
MRICRON_REASON = ("Debian package mricron-data is not installed (/usr/share/mricron/templates); install it with "
                  "'apt-get install mricron-data'")
needs_mricron = pytest.mark.skipif(package_folder("mricron-atlases")[0] is None, reason=MRICRON_REASON)


# --------------------------------------------------------------------------- cards and checksums

@pytest.mark.parametrize("card_id", PACKAGED)
def test_every_file_matches_its_card(card_id):
    card = load_card(card_id)
    assert card.packaged and card.source["package"] and card.source["version"] and card.source["install"]
    folder, note = package_folder(card)
    if folder is None:
        pytest.skip(MRICRON_REASON if card_id == "mricron-atlases" else note)
    for entry in card.files:  # an independent hash of every file, and its size
        data = (folder / entry.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256, entry.path
        assert len(data) == entry.size, entry.path
    assert [s.status for s in check_files(card)] == ["ok"] * len(card.files)


def _moved(monkeypatch, card_id, folder):
    """Point a packaged card at another folder, as if its package were absent or different."""
    card = load_card(card_id)
    moved = dataclasses.replace(card, source={**card.source, "folder": str(folder)})
    monkeypatch.setitem(cards_mod._CARDS, card_id, moved)
    return moved


def test_missing_package_errors_name_the_package_and_the_fix(monkeypatch, tmp_path):
    _moved(monkeypatch, "mricron-atlases", tmp_path / "absent")
    with pytest.raises(DataNotFoundError) as err:
        MricronAtlases().atlas("aal")
    msg = str(err.value)
    assert "Dataset 'mricron-atlases' (dataset.mricron-atlases): 2 of the 2 file(s)" in msg
    assert "aal.nii.gz, aal.nii.txt" in msg and "Debian package mricron-data not installed" in msg
    assert "apt-get install mricron-data" in msg and "mricron-data 1.2.20211006+dfsg-4" in msg
    _moved(monkeypatch, "nitime-fmri", "no-such-subfolder")
    with pytest.raises(DataNotFoundError, match=r"(?s)fmri_timeseries.csv.*does not exist in the installed nitime.*"
                                                r"pip install 'nitime>=0.12.1,<0.13'"):
        NitimeFMRI().load("roi-timeseries")
    with pytest.raises(DataNotFoundError, match=r"(?s)data_dir = .*folder does not exist.*copies of the files"):
        NilearnAtlases(data_dir=str(tmp_path / "nothing")).coordinates("power2011")
    with pytest.raises(DownloadError, match="ships inside the package nitime and is not downloaded.*pip install"):
        download("nitime-grasshopper")


def test_a_changed_package_file_is_a_checksum_error_naming_the_versions(tmp_path):
    card = load_card("nitime-fmri")
    (tmp_path / "fmri_timeseries.csv").write_text('"WM","Vent"\n1,2\n')
    with pytest.raises(ChecksumMismatchError, match=r"(?s)fmri_timeseries.csv.*the file as shipped by nitime 0.12.1 "
                                                    r"\(installed: 0.12.1\).*pass verify=False"):
        resolve_files(card, ["fmri_timeseries.csv"], data_dir=tmp_path)
    data, names = NitimeFMRI(data_dir=str(tmp_path), verify=False).roi_timeseries()
    assert names == ["WM", "Vent"] and data.tolist() == [[1.0, 2.0]]


# --------------------------------------------------------------------------- nitime: grasshopper

@pytest.fixture(scope="module")
def grasshopper():
    return NitimeGrasshopper()


def test_grasshopper_stimuli_and_spikes(grasshopper):
    folder, _ = package_folder("nitime-grasshopper")
    stim = grasshopper.load_stimuli()
    assert stim.ids == ("stimulus-1", "stimulus-2") and stim.modality == "audio"
    assert [p.shape for p in stim.payload] == [(200000,), (200000,)]  # 10 s at 20 kHz
    assert stim.descriptors["cutoff_hz"].tolist() == [200.0, 800.0]
    for k in (1, 2):
        rec = grasshopper.recording(k)
        spikes_us = np.loadtxt(folder / f"grasshopper_spike_times{k}.txt")  # an independent reading
        np.testing.assert_allclose(rec.spike_times, spikes_us / 1e6)
        assert rec.envelope_db.max() == pytest.approx(rec.intensity_db)
        # dB is a monotonic map of the amplitude: the same ordering, and 20 dB per decade
        i, j = np.argmax(rec.amplitude), np.argmin(rec.amplitude)
        decibels = 20 * np.log10(rec.amplitude[i] / rec.amplitude[j])
        assert rec.envelope_db[i] - rec.envelope_db[j] == pytest.approx(decibels)
        counts = grasshopper.load(f"spikes-{k}")
        assert counts.data.shape == (10000, 1) and counts.data.sum() == spikes_us.size
        env = grasshopper.load(f"envelope-{k}")
        assert env.data.shape == (9991, 10) and env.channel_descriptors["lag_ms"].tolist() == list(range(-10, 0))
        assert set(env.stimulus_ids) <= set(counts.stimulus_ids)  # aligned by id for an encoding model
        # the newest history bin of bin b is the mean envelope over bin b's 20 samples
        b = int(env.stimulus_ids[5].rsplit("-", 1)[1])
        assert env.data[5, -1] == pytest.approx(rec.envelope_db[b * 20:(b + 1) * 20].mean())


@pytest.mark.parametrize("k", [1, 2])
def test_spike_triggered_average_peaks_before_the_spike(grasshopper, k):
    rep = grasshopper.load(f"sta-{k}")
    rec = grasshopper.recording(k)
    assert rep.data.shape[1] == 200 and rep.channel_descriptors["lag_ms"][[0, -1]].tolist() == [-10.0, -0.05]
    assert rep.data.shape[0] == int(np.sum(rec.spike_samples >= 200))
    sta = rep.data.mean(axis=0)
    # the same average through nitime's own EventRelatedAnalyzer (the package's example analysis)
    import nitime.analysis as nta
    import nitime.timeseries as nts

    # (given only the spikes with a full window: nitime's indexing wraps around to the end of the stimulus
    # for spikes in the first 10 ms, which the dataset leaves out instead)
    stim_ts = nts.TimeSeries(rec.envelope_db, sampling_interval=50, time_unit="us")
    full = rec.spike_times[rec.spike_samples >= 200]
    eta = nta.EventRelatedAnalyzer(stim_ts, nts.Events(full * 1e6, time_unit="us"), len_et=200, offset=-200).eta
    np.testing.assert_allclose(sta, np.asarray(eta.data), rtol=1e-10, atol=1e-10)
    # a clear peak before the spike: inside the window (not at its edges), far above the envelope's mean
    peak = int(np.argmax(sta))
    assert 0 < peak < sta.size - 1 and rep.channel_descriptors["lag_ms"][peak] < 0
    sem = rec.envelope_db.std() / np.sqrt(rep.n_stimuli)
    assert (sta[peak] - rec.envelope_db.mean()) / sem > 10
    # and it is the spikes that make it: the same average at random times shows no such peak
    rng = np.random.default_rng(0)
    random_times = rng.integers(200, rec.envelope_db.size, size=rep.n_stimuli)
    control = rec.envelope_db[random_times[:, None] + np.arange(-200, 0)].mean(0)
    assert np.abs(control - rec.envelope_db.mean()).max() < (sta[peak] - rec.envelope_db.mean()) / 3


def test_grasshopper_errors(grasshopper):
    with pytest.raises(neurorep.InvalidInputError,
                       match=r"unknown site 'sta-3' \(did you mean 'sta-\d'\?\); expected one of"):
        grasshopper.load("sta-3")
    with pytest.raises(neurorep.InvalidInputError, match="bin_ms=0.03 ms is not a multiple of the 0.05 ms"):
        NitimeGrasshopper(bin_ms=0.03).load("spikes-1")
    with pytest.raises(neurorep.InvalidInputError, match="window_ms must be a positive number of ms, got -1"):
        NitimeGrasshopper(window_ms=-1).load("sta-1")
    with pytest.raises(neurorep.InvalidInputError, match="window_ms=2.5 must be a multiple of bin_ms=1"):
        NitimeGrasshopper(window_ms=2.5).load("envelope-1")


# --------------------------------------------------------------------------- nitime: fMRI

def test_roi_timeseries_and_connectivity_through_the_platform():
    folder, _ = package_folder("nitime-fmri")
    ds = NitimeFMRI()
    rep = ds.load("roi-timeseries")
    ref = np.genfromtxt(folder / "fmri_timeseries.csv", delimiter=",", names=True)
    assert rep.data.shape == (250, 31) and rep.stimulus_ids[0] == "vol-000"
    assert list(rep.channel_descriptors["roi"][:4]) == ["WM", "Vent", "Brain", "LCau"]
    np.testing.assert_array_equal(rep.data, np.column_stack([ref[n] for n in ref.dtype.names]))
    # functional connectivity: a correlation-distance RDM over the ROIs (rsa.correlation's own RDM code)
    profiles = ds.load("roi-profiles")
    assert profiles.stimulus_ids == tuple(rep.channel_descriptors["roi"]) and profiles.data.shape == (31, 250)
    from neurorep.rsa import calc_rdm

    rdm = calc_rdm(profiles, "correlation")
    from scipy.spatial.distance import squareform

    corr = 1.0 - squareform(np.asarray(rdm.dissimilarities)[0], checks=False)
    np.fill_diagonal(corr, 1.0)
    np.testing.assert_allclose(corr, corr.T)
    np.testing.assert_allclose(np.diag(corr), 1.0)
    np.testing.assert_allclose(corr, np.corrcoef(rep.data, rowvar=False), atol=1e-10)
    # the grey-matter ROI series come mean-centred, the first three (WM, ventricles, brain) raw
    assert (np.abs(rep.data[:, 3:].mean(axis=0)) < 0.1).all() and (rep.data[:, :3].mean(axis=0) > 5000).all()
    from scipy.stats import zscore

    z = NitimeFMRI(standardize=True).load("roi-timeseries").data
    np.testing.assert_allclose(z, zscore(rep.data, axis=0), atol=1e-12)


def test_event_triggered_averages_equal_nitime():
    import nitime.analysis as nta
    import nitime.timeseries as nts

    ds = NitimeFMRI()
    df = ds.event_related()
    assert len(df) == 3360 and sorted(set(df["event"])) == list(range(7))
    rep = ds.load("mt-eta")
    assert rep.stimulus_ids == tuple(f"event-{k}" for k in range(1, 7)) and rep.data.shape == (6, 15)
    eta = nta.EventRelatedAnalyzer(nts.TimeSeries(df["bold"].to_numpy(), sampling_interval=2.0),
                                   nts.TimeSeries(df["event"].to_numpy().astype(float), sampling_interval=2.0),
                                   15).eta
    np.testing.assert_allclose(rep.data, np.asarray(eta.data), rtol=1e-10, atol=1e-12)
    import nibabel as nib

    img = nib.load(str(ds.run_path(2)))
    assert img.shape == (10, 10, 18, 40) and img.header.get_zooms()[3] == pytest.approx(1.35)
    with pytest.raises(neurorep.InvalidInputError, match="run must be 1 or 2, got 3"):
        ds.run_path(3)


# --------------------------------------------------------------------------- nilearn templates and coordinates

def test_nilearn_templates_and_mask_equal_nilearns_loaders():
    from nilearn import datasets as nd

    ds = NilearnAtlases()
    mask = ds.brain_mask()
    ref = nd.load_mni152_brain_mask(resolution=1)
    assert mask.shape == (197, 233, 189)
    np.testing.assert_array_equal(np.asarray(mask.dataobj), np.asarray(ref.dataobj))
    np.testing.assert_allclose(mask.affine, ref.affine)
    gm = nd.load_mni152_gm_template(resolution=1).get_fdata()
    np.testing.assert_allclose(np.asarray(ds.template("gm").dataobj), gm)
    with pytest.raises(neurorep.InvalidInputError, match=r"template kind must be one of \['t1', 'gm', 'wm'\]"):
        ds.template_path("csf")


def test_nilearn_coordinates_equal_nilearns_fetchers():
    from nilearn import datasets as nd

    ds = NilearnAtlases()
    power = ds.coordinates("power2011")
    ref = nd.fetch_coords_power_2011()["rois"]
    assert len(power) == 264 and power["name"][0] == "power-1"
    np.testing.assert_array_equal(power[["x", "y", "z"]].to_numpy(), ref[["x", "y", "z"]].to_numpy())
    dos = ds.coordinates("dosenbach2010").set_index("name")
    ref = nd.fetch_coords_dosenbach_2010(ordered_regions=False)
    assert len(dos) == 160
    np.testing.assert_array_equal(dos[["x", "y", "z"]].to_numpy(), ref["rois"][["x", "y", "z"]].to_numpy())
    assert list(dos["network"]) == list(ref["networks"])
    seitz = ds.coordinates("seitzman2018")
    ref = nd.fetch_coords_seitzman_2018(ordered_regions=False)
    np.testing.assert_allclose(seitz[["x", "y", "z"]].to_numpy(), ref["rois"][["x", "y", "z"]].to_numpy())
    assert list(seitz["network"]) == list(ref["networks"]) and list(seitz["region"]) == list(ref["regions"])
    # as a representation: a Euclidean RDM over it is the distance matrix between the regions
    rep = ds.load("dosenbach2010")
    assert rep.data.shape == (160, 3) and rep.stimulus_ids[0] == "vmPFC-1"
    spheres = ds.spheres("power2011")
    assert len(spheres) == 264 and spheres["power-1"] == [-25.0, -98.0, -12.0]
    with pytest.raises(neurorep.InvalidInputError, match=r"unknown coordinate atlas 'power' \(did you mean"):
        ds.coordinates("power")


# --------------------------------------------------------------------------- mricron-data atlases

@needs_mricron
def test_mricron_atlases_names_and_laterality():
    ds = MricronAtlases()
    expected = {"aal": 116, "aicha": 192, "jhu-wm-1mm": 48, "jhu-wm-2mm": 48, "harvard-oxford-cort": 48, "brodmann": 41}
    for name, n in expected.items():
        at = ds.atlas(name)
        values = np.unique(np.asarray(at.image().dataobj))
        assert len(at.labels) == n and set(at.labels) == {int(v) for v in values if v != 0}, name
    aal = ds.atlas("aal")
    assert aal.labels[1] == "Precentral_L" and aal.labels[116] == "Vermis_10" and aal.image().shape == (181, 217, 181)
    assert ds.atlas("brodmann").labels[17] == "BA17"
    # AAL's names match its labels and its affine maps to MNI: every *_L region lies left of the midline (x < 0)
    def sides(name):
        reg = ds.regions(name)
        left, right = reg[reg["name"].str.endswith("_L")], reg[reg["name"].str.endswith("_R")]
        assert len(left) >= 20 and len(left) == len(right), name
        return left["x"].to_numpy(), right["x"].to_numpy()

    left, right = sides("aal")
    assert (left < 0).all() and (right > 0).all()
    # the documented defect of mricron-data's JHU files: every region named *_L lies at x > 0 in the image's world
    # coordinates (left and right swapped with respect to MNI); if a new package fixes it, this fails: update the docs
    for name in ("jhu-wm-1mm", "jhu-wm-2mm"):
        left, right = sides(name)
        assert (left > 0).all() and (right < 0).all(), name
    reg = ds.regions("aal")
    assert reg["n_voxels"].sum() == int(np.count_nonzero(np.asarray(aal.image().dataobj)))
    v1 = ds.regions("brodmann").set_index("name").loc["BA17"]
    assert v1["y"] < -70  # primary visual cortex is occipital
    with pytest.raises(neurorep.InvalidInputError, match=r"unknown atlas 'aal2' \(did you mean 'aal'\?\)"):
        ds.atlas("aal2")


@needs_mricron
def test_aal_rois_through_source_nifti_masker(tmp_path):
    """Maps on a 6 mm grid with a planted value per AAL region come back, region by region, through
    source.nifti-masker using the atlas and its names from the dataset (resampled to the data's grid)."""
    import nibabel as nib
    from nilearn.image import resample_to_img

    aal = MricronAtlases().atlas("aal")
    affine = np.diag([6.0, 6.0, 6.0, 1.0])
    affine[:3, 3] = [-90.0, -126.0, -72.0]
    ref = nib.Nifti1Image(np.zeros((31, 37, 31), np.float32), affine)
    labels = np.asarray(resample_to_img(aal.image(), ref, interpolation="nearest", force_resample=True,
                                        copy_header=True).dataobj).astype(int)
    paths = []
    for s in range(3):  # value = 1000 * (stimulus + 1) + label inside the atlas, 0 outside
        vol = np.where(labels > 0, 1000.0 * (s + 1) + labels, 0.0).astype(np.float32)
        paths.append(str(tmp_path / f"stim-{s}.nii.gz"))
        nib.save(nib.Nifti1Image(vol, affine), paths[-1])
    rois = ["Precentral_L", "Hippocampus_R", "Vermis_10"]
    params = aal.masker_params(rois=rois, images=paths, whole_brain=False, roi_mode="means", resample=True)
    src = neurorep.create("source.nifti-masker", params)
    assert src.sites() == ["atlas"]
    rep = src.load("atlas")
    lab = [aal.atlas_labels[r] for r in rois]
    assert rep.stimulus_ids == ("stim-0", "stim-1", "stim-2") and list(rep.channel_descriptors["roi"]) == rois
    np.testing.assert_allclose(rep.data, 1000.0 * np.arange(1, 4)[:, None] + np.array(lab)[None, :])
    voxels = neurorep.create("source.nifti-masker", {**params, "roi_mode": "voxels"})
    assert voxels.sites() == rois
    assert voxels.load("Hippocampus_R").n_features == int(np.sum(labels == aal.atlas_labels["Hippocampus_R"]))


# --------------------------------------------------------------------------- conformance

@parametrize_with_checks([NitimeGrasshopper, NitimeFMRI, NilearnAtlases, MricronAtlases])
def test_packaged_dataset_conformance(component, check):
    check(component)


# --------------------------------------------------------------------------- recipes

def test_packaged_datasets_as_recipe_sources(tmp_path):
    """A recipe names the packaged datasets as sources: ROI connectivity RDMs of the raw and the z-scored series
    compared by RSA, run end to end through the runner (correlations do not change under z-scoring: r = 1)."""
    from neurorep.recipes import plan_text, validate_text

    text = """
[recipe]
name = "packaged"

[sources.raw]
component = "dataset.nitime-fmri"
sites = ["roi-profiles"]

[sources.pc]
component = "dataset.nitime-fmri"
params = { standardize = true }
sites = ["roi-profiles"]

[[analyses]]
name = "connectivity"
component = "rsa.correlation"
inputs = ["raw", "pc"]
pairing = "product"
"""
    assert validate_text(text) == []
    plan = plan_text(text)
    assert sorted(t.sites[0] for t in plan.tasks if t.kind == "source") == ["roi-profiles", "roi-profiles"]
    bad = validate_text(text.replace('sites = ["roi-profiles"]\n\n[sources.pc]', 'sites = ["sta-1"]\n\n[sources.pc]'))
    assert any("sta-1" in str(i) for i in bad)
    import pandas as pd

    from neurorep.runner import run_recipe

    recipe = tmp_path / "packaged.toml"
    recipe.write_text(text)
    out = tmp_path / "run"
    run_recipe(recipe, out, progress=False, report=False)
    res = pd.read_parquet(out / "results.parquet")
    assert len(res) == 1 and res["status"].iloc[0] == "ok"
    assert res["score"].iloc[0] == pytest.approx(1.0, abs=1e-9)


def test_cli_on_packaged_cards(monkeypatch, tmp_path):
    import click
    from click.testing import CliRunner
    from neurorep_datasets import plugin

    group = click.Group("neurorep")
    plugin.register_commands(group)
    r = CliRunner()
    res = r.invoke(group, ["datasets", "verify", "nitime-grasshopper"])
    assert res.exit_code == 0 and "4/4 files present with the right sha256 (Python package nitime)" in res.output
    res = r.invoke(group, ["datasets", "fetch", "nilearn-atlases"])
    assert res.exit_code == 0 and "nothing to download" in res.output
    res = r.invoke(group, ["datasets", "card", "nitime-fmri"])
    assert res.exit_code == 0 and "python-package nitime 0.12.1, folder data" in res.output
    assert "installed version 0.12.1" in res.output
    _moved(monkeypatch, "mricron-atlases", tmp_path / "absent")
    res = r.invoke(group, ["datasets", "verify", "mricron-atlases"])
    assert res.exit_code == 1 and "missing  aal.nii.gz" in res.output
    assert "Install mricron-data 1.2.20211006+dfsg-4: apt-get install mricron-data." in res.output
    res = r.invoke(group, ["datasets", "fetch", "mricron-atlases"])
    assert res.exit_code != 0 and "ships inside the package mricron-data" in res.output
