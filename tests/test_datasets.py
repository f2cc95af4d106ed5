"""neurorep-datasets: cards, the resolver/fetcher, and the two real datasets read from the mirror.

No network: the data come from the mirror named by NEUROREP_DATA_MIRROR (the Makefile sets it to
../shared/datasets); when the variable is unset, ``<repo>/../shared/datasets`` is used if it exists,
else the tests that need data are skipped with the reason. Downloads are exercised with file:// URLs.

Reference figures on the mirror's data (exact values, stated so regressions show):
* Spearman rho, Fig. 1 human IT vs monkey IT RDM: 0.4389238094352201 (paper and SOURCES.md: ~0.44).
* Spearman rho, mean behavioural RDM vs Fig. 1 human IT RDM: 0.3923944579138258 (SOURCES.md: ~0.39).
* Leave-one-run-out correlation classifier on the Haxby slice (voxels z-scored within runs):
  49/96 = 0.5104 (SOURCES.md: ~51%; chance 12.5%).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

import neurorep
from neurorep.errors import InvalidInputError, StimulusMismatchError
from neurorep_datasets import fetch as F
from neurorep_datasets.cards import UnknownDatasetError, card_ids, load_card
from neurorep_datasets.haxby import CATEGORIES, Haxby2001
from neurorep_datasets.kriegeskorte import Kriegeskorte2008

REPO = Path(__file__).resolve().parents[1]
K_FOLDER = "kriegeskorte2008-92images"
H_FOLDER = "haxby2001-sub1"
SLICE_FILES = ("bold.nii.gz", "mask.nii.gz", "attributes_literal.txt")
K_FILES = ("Kriegeskorte_Neuron2008_supplementalData.mat", "92_brainRDMs.mat", "92_behavRDMs.mat",
           "simTruePatterns.mat")


def _mirror_root() -> tuple[Path | None, str]:
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    if env:
        p = Path(env)
        return (p, "") if p.is_dir() else (None, f"NEUROREP_DATA_MIRROR={env} is not a folder")
    default = REPO.parent / "shared" / "datasets"
    if default.is_dir():
        return default, ""
    return None, (f"no dataset mirror: NEUROREP_DATA_MIRROR is unset and {default} does not exist "
                  "(make test sets it to ../shared/datasets)")


@pytest.fixture
def mirror(monkeypatch, tmp_path) -> Path:
    """The mirror root, exported as NEUROREP_DATA_MIRROR; the user store is an empty tmp folder."""
    root, why = _mirror_root()
    if root is None:
        pytest.skip(why)
    for folder in (K_FOLDER, H_FOLDER):
        if not (root / folder).is_dir():
            pytest.skip(f"the dataset mirror {root} has no {folder}/ folder")
    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(root))
    monkeypatch.setenv("NEUROREP_DATA", str(tmp_path / "user-store"))
    return root


@pytest.fixture
def no_data(monkeypatch, tmp_path) -> Path:
    """An environment where no data can be found: an empty mirror and an empty user store."""
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(empty))
    monkeypatch.setenv("NEUROREP_DATA", str(tmp_path / "empty-store"))
    return empty


def _copy(src_root: Path, names, dest: Path) -> Path:
    for n in names:
        (dest / n).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src_root / n, dest / n)
    return dest


# --------------------------------------------------------------------------- cards

def test_cards_are_complete_and_agree_with_sources_md(mirror):
    assert card_ids() == ["haxby2001", "kriegeskorte2008-92", "mricron-atlases", "nilearn-atlases", "nitime-fmri",
                          "nitime-grasshopper"]
    k, h = load_card("kriegeskorte2008-92"), load_card("dataset.haxby2001")
    assert k.mirror_folder == K_FOLDER and h.mirror_folder == H_FOLDER
    assert [f.path for f in k.files] == list(K_FILES)
    assert len(h.files) == 152  # every file of the mirror folder
    assert {f.path for f in h.files} == {p.relative_to(mirror / H_FOLDER).as_posix()
                                         for p in (mirror / H_FOLDER).rglob("*") if p.is_file()}
    for card, base in ((k, "https://raw.githubusercontent.com/rsagroup/rsatoolbox/v0.3.2/demos/92imageData/"),
                       (h, "https://raw.githubusercontent.com/PyMVPA/PyMVPA/upstream/2.6.5/mvpa2/data/")):
        assert card.license and card.citation and card.description and card.doi
        for f in card.files:
            assert f.url == base + f.path
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256)
            assert f.size == (mirror / card.mirror_folder / f.path).stat().st_size
    assert h.license == "CC-BY-SA-3.0" and k.license == "MIT"
    # the card's checksums equal the ones SOURCES.md publishes (an independent record)
    sources = (mirror / "SOURCES.md").read_text()
    checked = 0
    for card in (k, h):
        for f in card.files:
            m = re.search(re.escape(Path(f.path).name) + r".{0,40}?\b([0-9a-f]{64})\b", sources, re.S)
            if m and "/" not in f.path:
                assert m.group(1) == f.sha256, f.path
                checked += 1
    assert checked == 7  # 4 Kriegeskorte files + bold, mask, attributes_literal
    # the component's card() is the TOML card as plain data
    card = Kriegeskorte2008().card()
    assert card["files"][0]["name"] == K_FILES[0] and card["license"] == "MIT"


def test_unknown_dataset_id_names_the_known_ones():
    with pytest.raises(UnknownDatasetError, match=r"haxby2001.*kriegeskorte2008-92"):
        load_card("haxby2002")


def test_every_mirror_file_matches_its_card_checksum(mirror):
    for ds in ("kriegeskorte2008-92", "haxby2001"):
        card = load_card(ds)
        statuses = F.check_files(ds)
        assert [s.status for s in statuses] == ["ok"] * len(card.files)
        # recompute independently of the package's hashing
        for s in statuses[:6]:
            assert hashlib.sha256(s.path.read_bytes()).hexdigest() == card.file(s.name).sha256
            assert s.path.is_relative_to(mirror / card.mirror_folder)


# --------------------------------------------------------------------------- Kriegeskorte 2008

def test_kriegeskorte_stimuli(mirror):
    stim = neurorep.create("dataset.kriegeskorte2008-92").load_stimuli()
    assert stim.ids == tuple(f"img-{i:02d}" for i in range(1, 93))
    assert stim.modality == "image"
    assert stim.payload.shape == (92, 175, 175, 3) and stim.payload.dtype == np.uint8
    cat = stim.descriptors["category"]
    counts = {c: int(np.sum(cat == c)) for c in np.unique(cat)}
    assert counts == {"human bodypart": 12, "human face": 12, "nonhuman bodypart": 12, "nonhuman face": 12,
                      "natural inanimate": 23, "artificial inanimate": 21}
    d = stim.descriptors
    assert [int(d[k].sum()) for k in ("human", "face", "animal", "natural")] == [24, 24, 48, 71]
    assert np.array_equal(d["face"], np.isin(cat, ["human face", "nonhuman face"]))
    assert np.array_equal(d["animal"], ~np.isin(cat, ["natural inanimate", "artificial inanimate"]))
    assert len([k for k in d if k.startswith("cv_")]) == 12
    assert np.array_equal(d["cv_animate"], d["animal"])
    assert 0 < stim.payload.mean() < 255  # real pixels, not an empty buffer


def test_kriegeskorte_rdm_sites(mirror):
    ds = neurorep.create("dataset.kriegeskorte2008-92")
    expected = {"hIT-fig1": 1, "mIT-fig1": 1, "hIT-sub1": 2, "hIT-sub2": 2, "hIT-sub3": 2, "hIT-sub4": 2,
                "hIT-subjects": 4, "hIT-sessions": 8, "behaviour": 16, "behaviour-mean": 1}
    assert ds.sites() == list(expected)
    loaded = {}
    for site, n in expected.items():
        r = ds.load(site)
        assert isinstance(r, neurorep.RDMs)
        assert r.n_rdms == n and r.n_stimuli == 92 and r.dissimilarities.shape == (n, 4186)
        assert r.stimulus_ids == ds.stimulus_ids()
        m = r.get_matrices()
        assert np.allclose(m, m.transpose(0, 2, 1)) and np.all(np.diagonal(m, axis1=1, axis2=2) == 0)
        assert np.all(np.isfinite(r.dissimilarities)) and r.dissimilarities.min() >= 0
        for k, v in r.rdm_descriptors.items():
            assert len(v) == n, k
        loaded[site] = r
    assert loaded["hIT-sub2"].rdm_descriptors["session"] == [1, 2]
    assert loaded["hIT-sub2"].rdm_descriptors["subject"] == ["sub2", "sub2"]
    assert loaded["hIT-subjects"].rdm_descriptors["subject"] == ["sub1", "sub2", "sub3", "sub4"]
    assert loaded["hIT-fig1"].dissimilarity_measure == "correlation"
    assert loaded["behaviour"].dissimilarity_measure == "judged-dissimilarity"
    # correlation distances lie in [0, 2]; judged dissimilarities are small positive numbers
    assert loaded["hIT-sessions"].dissimilarities.max() < 2
    assert loaded["behaviour"].dissimilarities.max() < 0.05
    # exact identities of the data: the Fig. 1 human IT RDM is the mean of the 8 session RDMs, and a
    # subject's RDM is the mean of its two sessions
    sessions = loaded["hIT-sessions"].dissimilarities
    assert np.allclose(loaded["hIT-fig1"].dissimilarities[0], sessions.mean(0), atol=1e-6)
    assert np.allclose(loaded["hIT-subjects"].dissimilarities, sessions.reshape(4, 2, -1).mean(1))
    assert np.array_equal(loaded["hIT-sub3"].dissimilarities, sessions[4:6])
    assert np.allclose(loaded["behaviour-mean"].dissimilarities[0], loaded["behaviour"].dissimilarities.mean(0))


def test_fig1_human_vs_monkey_it_spearman_through_the_platform(mirror):
    """Spearman rho between the Fig. 1 human and monkey IT RDMs = 0.4389 (paper: ~0.44)."""
    info = neurorep.get_registry().get("dataset.kriegeskorte2008-92")
    assert info.distribution == "neurorep-datasets"
    ds = neurorep.create("dataset.kriegeskorte2008-92")
    hit, mit = ds.load("hIT-fig1"), ds.load("mIT-fig1")
    rsa = neurorep.create("rsa.correlation", {"comparison": "spearman"})
    rho = rsa.analyze(hit, mit)[0].score
    assert rho == pytest.approx(0.44, abs=0.03)
    assert rho == pytest.approx(0.4389238094352201, abs=1e-9)
    ref = spearmanr(hit.dissimilarities[0], mit.dissimilarities[0]).statistic
    assert rho == pytest.approx(ref, abs=1e-12)


def test_behaviour_vs_human_it_spearman(mirror):
    """Spearman rho between the mean behavioural RDM and the Fig. 1 human IT RDM = 0.3924 (~0.39)."""
    ds = neurorep.create("dataset.kriegeskorte2008-92")
    hit = ds.load("hIT-fig1")
    beh = ds.load("behaviour")
    rho = spearmanr(beh.dissimilarities.mean(0), hit.dissimilarities[0]).statistic
    assert rho == pytest.approx(0.39, abs=0.03)
    assert rho == pytest.approx(0.3923944579138258, abs=1e-9)
    rsa = neurorep.create("rsa.correlation", {"comparison": "spearman"})
    assert rsa.analyze(ds.load("behaviour-mean"), hit)[0].score == pytest.approx(rho, abs=1e-12)


def test_kriegeskorte_stimulus_subset_and_bad_site(mirror):
    ds = Kriegeskorte2008()
    stim = ds.load_stimuli()
    sub = stim.subset([5, 0, 40])
    r = ds.load("mIT-fig1", sub)
    full = ds.load("mIT-fig1").get_matrices()[0]
    assert r.stimulus_ids == ("img-06", "img-01", "img-41")
    assert np.allclose(r.get_matrices()[0], full[np.ix_([5, 0, 40], [5, 0, 40])])
    foreign = neurorep.StimulusSet(ids=("img-01", "cat-7"), name="other")
    with pytest.raises(StimulusMismatchError, match="cat-7"):
        ds.load("hIT-fig1", foreign)
    with pytest.raises(InvalidInputError, match=r"unknown site 'hIT-fig2'.*Did you mean 'hIT-fig1'"):
        ds.load("hIT-fig2")
    a, b = ds.simulated_patterns()
    assert a.data.shape == b.data.shape == (92, 100) and a.space["kind"] == "synthetic"


def test_dataset_as_recipe_source(mirror, tmp_path):
    """The dataset's RDMs flow through a recipe run (store, runner, analyzer) to the same rho."""
    runner = pytest.importorskip("neurorep.runner")
    recipe = tmp_path / "k92.toml"
    recipe.write_text(
        '[recipe]\nname = "k92"\nseed = 0\n\n'
        '[sources.k92]\ncomponent = "dataset.kriegeskorte2008-92"\nsites = ["hIT-fig1", "mIT-fig1"]\n\n'
        '[[analyses]]\nname = "rsa"\ncomponent = "rsa.correlation"\nparams = { comparison = "spearman" }\n'
        'inputs = ["k92"]\npairing = "within"\n')
    out = runner.run_recipe(recipe, tmp_path / "run", progress=False)
    assert out["n_failed"] == 0
    import pandas as pd

    df = pd.read_parquet(out["results_path"])
    row = df[(df.x_site == "hIT-fig1") & (df.y_site == "mIT-fig1")]
    assert len(row) == 1 and row.score.iloc[0] == pytest.approx(0.4389238094352201, abs=1e-9)


# --------------------------------------------------------------------------- Haxby 2001

def test_haxby_design_and_images(mirror):
    ds = neurorep.create("dataset.haxby2001")
    stim = ds.load_stimuli()
    assert stim.ids == CATEGORIES and len(stim) == 8 and stim.payload is None
    assert dict(zip(stim.ids, stim.descriptors["condition_key"]))["face"] == "cond008"
    bold = ds.bold_image()
    assert bold.shape == (40, 20, 1, 1452)
    assert bold.header.get_zooms()[3] == pytest.approx(2.5)
    mask = ds.mask_image("slice")
    assert int((np.asarray(mask.dataobj) != 0).sum()) == 530
    vols = ds.volumes()
    assert len(vols) == 1452 and list(vols.run.unique()) == list(range(1, 13))
    counts = vols.condition.value_counts().to_dict()
    assert counts == {"rest": 588, **{c: 108 for c in CATEGORIES}}
    ev = ds.events()
    assert list(ev.columns[:4]) == ["onset", "duration", "trial_type", "run"]
    assert len(ev) == 96 and (ev.groupby("run").trial_type.nunique() == 8).all()
    assert np.allclose(ev.duration, 22.5) and np.allclose(ev.modulation, 1.0)
    # the OpenfMRI onsets give exactly the per-volume labels of attributes_literal.txt
    assert (ds.volumes(from_events=True).condition.to_numpy() == vols.condition.to_numpy()).all()
    # a run's volumes of bold.nii.gz equal that run's OpenfMRI slice file
    run3 = np.asarray(ds.bold_image("slice", run=3).dataobj)
    import nibabel as nib

    ofmri = np.asarray(nib.load(ds.path("haxby2001/sub001/BOLD/task001_run003/bold_1slice.nii.gz")).dataobj)
    assert run3.shape == (40, 20, 1, 121) and np.array_equal(run3, ofmri)
    assert ds.bold_image("25mm").shape == (6, 10, 10, 1452)
    assert ds.mask_image("vt").shape == (6, 10, 10)
    with pytest.raises(InvalidInputError, match="run must be an integer in 1-12"):
        ds.bold_image("slice", run=13)


def _independent_slice_patterns(root: Path) -> np.ndarray:
    """Per-(run, category) mean patterns computed with nibabel and numpy only."""
    import nibabel as nib

    bold = np.asarray(nib.load(root / "bold.nii.gz").dataobj).astype(float)
    mask = np.asarray(nib.load(root / "mask.nii.gz").dataobj) != 0
    X = bold[mask].T
    lines = [ln.split() for ln in (root / "attributes_literal.txt").read_text().splitlines() if ln.strip()]
    cond = np.array([ln[0] for ln in lines])
    run = np.array([int(ln[1]) for ln in lines])
    out = np.zeros((12, 8, X.shape[1]))
    for r in range(12):
        Z = X[run == r]
        sd = Z.std(0)
        Z = (Z - Z.mean(0)) / np.where(sd > 0, sd, 1)
        for c, cat in enumerate(CATEGORIES):
            out[r, c] = Z[cond[run == r] == cat].mean(0)
    return out


def _loro_accuracy(repeats: np.ndarray) -> float:
    """Leave-one-run-out correlation classifier: argmax correlation with the other runs' mean patterns."""
    n_runs, n_cat = repeats.shape[:2]
    hits = 0
    for r in range(n_runs):
        train = np.delete(repeats, r, axis=0).mean(0)
        corr = np.corrcoef(repeats[r], train)[:n_cat, n_cat:]
        hits += int(np.sum(corr.argmax(1) == np.arange(n_cat)))
    return hits / (n_runs * n_cat)


def test_haxby_slice_representation_and_loro_classifier(mirror):
    """LORO correlation classifier over 8 categories on the slice: 49/96 = 51.0% (chance 12.5%)."""
    rep = neurorep.create("dataset.haxby2001").load("slice")
    assert isinstance(rep, neurorep.Representation)
    assert rep.stimulus_ids == CATEGORIES
    assert rep.data.shape == (8, 530) and rep.repeats.shape == (12, 8, 530)
    assert np.allclose(rep.data, rep.repeats.mean(0))
    assert set(rep.channel_descriptors) == {"i", "j", "k", "x", "y", "z", "mask_value"}
    assert np.all(rep.channel_descriptors["k"] == 0) and rep.channel_descriptors["i"].max() < 40
    assert rep.space["subject"] == "sub001" and rep.space["preprocessing"]["standardize"] is True
    assert np.allclose(rep.repeats, _independent_slice_patterns(mirror / H_FOLDER))
    acc = _loro_accuracy(rep.repeats)
    assert acc > 0.40
    assert acc == pytest.approx(49 / 96)


def test_haxby_25mm_sites(mirror):
    ds = Haxby2001()
    n_vox = {"brain-25mm": 129, "gray-25mm": 28, "white-25mm": 34, "hoc-25mm": 45}
    assert ds.sites() == ["slice", *n_vox]
    for site, n in n_vox.items():
        rep = ds.load(site)
        assert rep.data.shape == (8, n) and rep.repeats.shape == (12, 8, n)
        assert np.all(np.isfinite(rep.repeats))
        # z-scored within runs: every voxel's mean over a run's volumes is 0, so block means are small
        assert np.abs(rep.data).max() < 5
    with pytest.raises(InvalidInputError, match="single voxel"):
        ds.load("vt-25mm")


def test_haxby_params_validate_through_the_registry(mirror):
    ds = neurorep.create("dataset.haxby2001", {"standardize": False, "detrend": True})
    assert ds.get_params() == {"data_dir": None, "verify": True, "standardize": False, "detrend": True}
    with pytest.raises(ValueError, match=r"standardise\s+Extra inputs are not permitted"):
        neurorep.create("dataset.haxby2001", {"standardise": True})
    raw = Haxby2001(standardize=False).load("slice")
    assert raw.data.mean() > 100  # raw scanner units, not z-scores


# --------------------------------------------------------------------------- missing data

def test_missing_data_error_names_dataset_files_places_and_fix(no_data, tmp_path):
    empty = tmp_path / "my-data"
    empty.mkdir()
    with pytest.raises(F.DataNotFoundError) as ei:
        Kriegeskorte2008(data_dir=str(empty)).load("hIT-fig1")
    msg = str(ei.value)
    assert "'kriegeskorte2008-92'" in msg and "dataset.kriegeskorte2008-92" in msg
    assert "Kriegeskorte_Neuron2008_supplementalData.mat" in msg
    assert f"data_dir = {empty}" in msg
    assert "NEUROREP_DATA_MIRROR" in msg and "neurorep datasets fetch kriegeskorte2008-92" in msg
    assert isinstance(ei.value, FileNotFoundError)
    # without data_dir: the mirror and the user store are both named
    with pytest.raises(F.DataNotFoundError) as ei:
        Haxby2001().load("slice")
    msg = str(ei.value)
    assert "3 of the 3 file(s)" in msg
    for name in SLICE_FILES:
        assert name in msg
    assert f"NEUROREP_DATA_MIRROR/haxby2001-sub1 = {no_data / 'haxby2001-sub1'} (folder does not exist)" in msg
    assert f"NEUROREP_DATA/haxby2001 = {tmp_path / 'empty-store' / 'haxby2001'}" in msg
    assert "neurorep datasets fetch haxby2001" in msg


def test_missing_mirror_variable_is_reported_as_unset(monkeypatch, tmp_path):
    monkeypatch.delenv("NEUROREP_DATA_MIRROR", raising=False)
    monkeypatch.setenv("NEUROREP_DATA", str(tmp_path))
    with pytest.raises(F.DataNotFoundError, match=r"NEUROREP_DATA_MIRROR \(not set\)"):
        F.resolve("haxby2001", "mask.nii.gz")


def test_files_resolve_one_by_one_in_order(mirror, tmp_path, monkeypatch):
    # a file in the user store is used when the mirror lacks it; the mirror wins when both have it
    store = tmp_path / "user-store" / "kriegeskorte2008-92"
    _copy(mirror / K_FOLDER, ["simTruePatterns.mat"], store)
    partial = tmp_path / "partial-mirror"
    _copy(mirror, [f"{K_FOLDER}/92_brainRDMs.mat"], partial)
    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(partial))
    got = F.resolve_files("kriegeskorte2008-92", ["92_brainRDMs.mat", "simTruePatterns.mat"])
    assert got["92_brainRDMs.mat"] == partial / K_FOLDER / "92_brainRDMs.mat"
    assert got["simTruePatterns.mat"] == store / "simTruePatterns.mat"


# --------------------------------------------------------------------------- checksums

def test_checksum_mismatch_names_file_and_both_hashes(mirror, tmp_path):
    d = _copy(mirror / K_FOLDER, K_FILES, tmp_path / "k")
    target = d / "92_brainRDMs.mat"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    found = hashlib.sha256(bytes(data)).hexdigest()
    expected = load_card("kriegeskorte2008-92").file("92_brainRDMs.mat").sha256
    ds = Kriegeskorte2008(data_dir=str(d))
    assert ds.load("hIT-fig1").n_rdms == 1  # other files are fine
    with pytest.raises(F.ChecksumMismatchError) as ei:
        ds.load("hIT-sub1")
    msg = str(ei.value)
    assert "'92_brainRDMs.mat'" in msg and str(target) in msg
    assert expected in msg and found in msg
    assert ei.value.expected == expected and ei.value.found == found
    # verify=False skips the checksum; the .mat reader then trips over the corrupt compressed block
    with pytest.raises(InvalidInputError, match=r"could not read the MATLAB file .*92_brainRDMs.mat") as ei:
        Kriegeskorte2008(data_dir=str(d), verify=False).load("hIT-sub1")
    assert not isinstance(ei.value, F.ChecksumMismatchError)


def test_verification_is_cached_by_size_and_mtime(mirror, tmp_path, monkeypatch):
    d = _copy(mirror / H_FOLDER, ["mask.nii.gz"], tmp_path / "h")
    F.clear_verification_cache()
    calls = []
    real = F.sha256_file
    monkeypatch.setattr(F, "sha256_file", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        F.resolve("haxby2001", "mask.nii.gz", data_dir=d)
    assert len(calls) == 1
    # a changed file (new mtime) is hashed again and caught
    p = d / "mask.nii.gz"
    raw = bytearray(p.read_bytes())
    raw[-1] ^= 0x01
    p.write_bytes(bytes(raw))
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    with pytest.raises(F.ChecksumMismatchError, match="mask.nii.gz"):
        F.resolve("haxby2001", "mask.nii.gz", data_dir=d)
    assert len(calls) == 2


# --------------------------------------------------------------------------- bad NIfTI

def test_truncated_nifti_gives_a_clear_error(mirror, tmp_path):
    d = _copy(mirror / H_FOLDER, SLICE_FILES, tmp_path / "h")
    bold = d / "bold.nii.gz"
    size = bold.stat().st_size
    with open(bold, "r+b") as fh:
        fh.truncate(size // 2)
    # with verification the checksum catches it first
    with pytest.raises(F.ChecksumMismatchError, match="bold.nii.gz"):
        Haxby2001(data_dir=str(d)).load("slice")
    # without it, reading the voxel data fails with a message naming the file and the problem
    with pytest.raises(InvalidInputError) as ei:
        Haxby2001(data_dir=str(d), verify=False).load("slice")
    msg = str(ei.value)
    assert "truncated or corrupt" in msg and str(bold) in msg and "(40, 20, 1, 1452)" in msg


def test_corrupt_and_3d_nifti_give_clear_errors(mirror, tmp_path):
    d = _copy(mirror / H_FOLDER, SLICE_FILES, tmp_path / "h")
    bold = d / "bold.nii.gz"
    bold.write_bytes(b"this is not an image" * 50)
    with pytest.raises(InvalidInputError, match=r"could not be read as NIfTI"):
        Haxby2001(data_dir=str(d), verify=False).bold_image()
    # a 3D volume where the 4D time series is needed
    shutil.copyfile(d / "mask.nii.gz", bold)
    with pytest.raises(InvalidInputError, match=r"expected a 4D image: a single 3D volume"):
        Haxby2001(data_dir=str(d), verify=False).load("slice")
    # a gzip stream that is valid but holds a header only
    with gzip.open(mirror / H_FOLDER / "bold.nii.gz", "rb") as fh:
        head = fh.read(352)
    with gzip.open(bold, "wb") as fh:
        fh.write(head)
    with pytest.raises(InvalidInputError, match="truncated or corrupt"):
        Haxby2001(data_dir=str(d), verify=False).bold_image()


# --------------------------------------------------------------------------- download (file:// URLs)

def _file_url_card(mirror: Path, dataset: str, paths, corrupt: str | None = None):
    card = load_card(dataset)
    files = []
    for f in card.entries(paths):
        url = (mirror / card.mirror_folder / f.path).as_uri()
        sha = f.sha256 if f.path != corrupt else "0" * 64
        files.append(dataclasses.replace(f, url=url, sha256=sha))
    return card.with_files(files)


def test_download_verifies_and_renames_atomically(mirror, tmp_path):
    card = _file_url_card(mirror, "haxby2001", SLICE_FILES)
    dest = tmp_path / "dl"
    seen = []
    out = F.download(card, dest=dest, progress=lambda e, i, n: seen.append((e.path, i, n)))
    assert out == dest and [s[0] for s in seen] == list(SLICE_FILES)
    for name in SLICE_FILES:
        assert (dest / name).read_bytes() == (mirror / H_FOLDER / name).read_bytes()
    # a second call finds everything and downloads nothing
    seen.clear()
    F.download(card, dest=dest, progress=lambda e, i, n: seen.append(e.path))
    assert seen == []
    # resolve_files(download=True) fetches into an empty data_dir and loads from it
    d2 = tmp_path / "dl2"
    got = F.resolve_files(card, ["mask.nii.gz"], data_dir=d2, download=True)
    assert got["mask.nii.gz"] == d2 / "mask.nii.gz"


def test_download_with_wrong_checksum_leaves_nothing_behind(mirror, tmp_path):
    card = _file_url_card(mirror, "haxby2001", ["mask.nii.gz", "attributes_literal.txt"], corrupt="mask.nii.gz")
    dest = tmp_path / "dl"
    with pytest.raises(F.ChecksumMismatchError) as ei:
        F.download(card, dest=dest)
    assert "mask.nii.gz" in str(ei.value) and "0" * 64 in str(ei.value) and "discarded" in str(ei.value)
    assert sorted(p.name for p in dest.iterdir()) == []  # no partial or temporary file


def test_download_network_failure_is_reported(tmp_path):
    card = load_card("haxby2001")
    bad = card.with_files([dataclasses.replace(card.file("README"), url=(tmp_path / "nope").as_uri())])
    with pytest.raises(F.DownloadError, match=r"downloading 'README' from file://.*failed"):
        F.download(bad, dest=tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


# --------------------------------------------------------------------------- CLI

def _cli():
    import click

    from neurorep.cli import cli as host_cli
    from neurorep_datasets import plugin

    group = click.Group("neurorep", commands=dict(host_cli.commands))  # a copy: the host's group is untouched
    plugin.register_commands(group)
    return group


def test_cli_verify_fetch_card_and_listing(mirror, monkeypatch, tmp_path):
    from click.testing import CliRunner

    cli = _cli()
    r = CliRunner()
    res = r.invoke(cli, ["datasets", "verify", "haxby2001"])
    assert res.exit_code == 0, res.output
    assert "152/152 files present with the right sha256" in res.output
    res = r.invoke(cli, ["datasets", "fetch", "dataset.kriegeskorte2008-92"])
    assert res.exit_code == 0 and "nothing to download" in res.output
    res = r.invoke(cli, ["datasets", "card", "haxby2001", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["license"] == "CC-BY-SA-3.0"
    res = r.invoke(cli, ["datasets"])  # the host's listing still runs without a sub-command
    assert res.exit_code == 0 and "dataset.haxby2001" in res.output
    res = r.invoke(cli, ["datasets", "verify", "nope"])
    assert res.exit_code != 0 and "Unknown dataset 'nope'" in res.output
    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(tmp_path / "nothing"))
    res = r.invoke(cli, ["datasets", "verify", "kriegeskorte2008-92"])
    assert res.exit_code == 1
    assert "missing  92_brainRDMs.mat" in res.output and "0/4 files" in res.output
    assert "neurorep datasets fetch kriegeskorte2008-92" in res.output
