"""neurorep.results: the tidy table and the (source x target x metric) cube of a run, from one extraction."""

from __future__ import annotations

import numpy as np
import pytest

import neurorep.results as nr
from neurorep import _toys
from neurorep.errors import InvalidInputError
from neurorep.plugins import PluginSystem
from neurorep.rsa import bootstrap, compare
from neurorep.runner import run_recipe
from neurorep.store import RepresentationStore

RECIPE = """
[recipe]
name = "cube"
seed = 0

[sources.net]
component = "toy.slow-source"
params = {{ n_stimuli = 16, n_sites = 3, n_features = 6, batch_size = 4, marker_dir = "{markers}" }}

[sources.brain]
component = "toy.static-source"
params = {{ n_stimuli = 16, n_sites = 2, output = "rdms", n_rdms = 3 }}

[[analyses]]
name = "rsa-corr"
component = "rsa.correlation"
params = {{ comparison = "spearman", n_bootstrap = 40, n_permutations = 20, random_state = 0 }}
inputs = ["net", "brain"]
pairing = "product"

[[analyses]]
name = "rsa-euc"
component = "rsa.euclidean"
params = {{ comparison = "pearson", n_bootstrap = 40, random_state = 1 }}
inputs = ["net", "brain"]
pairing = "product"

[[analyses]]
name = "cka-within"
component = "cka.linear"
inputs = ["net"]
pairing = "within"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cube")
    markers = tmp / "markers"
    recipe = tmp / "cube.toml"
    recipe.write_text(RECIPE.format(markers=markers))
    system = PluginSystem(load_entry_points=False, extra_plugins=[("neurorep-toys", "neurorep._toys")])
    summary = run_recipe(recipe, tmp / "out", progress=False, system=system, report=False)
    assert summary["n_failed"] == 0
    return tmp / "out", markers, summary


def test_one_extraction_feeds_every_cell(run):
    out, markers, summary = run
    # the source was extracted once: one marker per batch (4 batches of 4 stimuli), one store group for it,
    # although two analyses x 3 sites x 2 targets (+ the within-source CKA) read it
    assert _toys.count_markers(markers, "batch") == {f"batch-{i:04d}": 1 for i in range(4)}
    store = RepresentationStore(out / "store")
    assert sorted(len(store.sites(k)) for k in store.keys()) == [2, 3]   # one group per source task
    df = nr.load(out)
    assert set(df["status"]) == {"ok"} and len(df) == 2 * 3 * 2 + 6
    c = nr.cube(df, analysis=["rsa-corr", "rsa-euc"])
    assert c.sources == [f"net:site{k}" for k in range(3)]
    assert c.targets == ["brain:roi0", "brain:roi1"]
    assert c.metrics == ["rsa-corr/spearman", "rsa-euc/pearson"]
    assert c.shape == (3, 2, 2) and not c.missing()
    for f in ("score", "ci_low", "ci_high", "ceiling_lower", "ceiling_upper"):
        assert np.all(np.isfinite(getattr(c, f))), f
    assert np.all(c.ci_low <= c.score) and np.all(c.score <= c.ci_high)
    assert np.all(np.isfinite(c.p_value[..., 0])) and np.all(np.isnan(c.p_value[..., 1]))  # no permutations
    assert np.all(c.n == 16 * 15 // 2)
    # every cell is its table row
    for _, r in df[df["analysis"] == "rsa-euc"].iterrows():
        cell = c.cell(r["x"], r["y"], "rsa-euc/pearson")
        assert cell["score"] == r["score"] and cell["ci_low"] == r["ci_low"] and cell["ci_high"] == r["ci_high"]


def test_cells_equal_a_direct_computation(run):
    """The cube's cell for (site, roi) is the RSA of the stored site's RDM with the roi's subject RDMs."""
    out, _, _ = run
    store = RepresentationStore(out / "store")
    key = next(k for k in store.keys() if "site1" in store.sites(k))
    rep = store.read(key, "site1")
    brain = _toys.StaticSource(n_stimuli=16, n_sites=2, output="rdms", n_rdms=3).load("roi0")
    from neurorep.rsa import calc_rdm

    model = calc_rdm(rep, "correlation")
    r = compare(model.dissimilarities, brain.dissimilarities, "spearman")[0]
    c = nr.cube(out, analysis="rsa-corr", per_subject=True)
    assert c.cell("net:site1", "brain:roi0")["score"] == pytest.approx(r.mean(), abs=1e-12)
    # per-subject targets: each subject RDM's score, no CI of their own
    assert c.targets == ["brain:roi0", "brain:roi0[0]", "brain:roi0[1]", "brain:roi0[2]",
                         "brain:roi1", "brain:roi1[0]", "brain:roi1[1]", "brain:roi1[2]"]
    for s in range(3):
        cell = c.cell("net:site1", f"brain:roi0[{s}]")
        assert cell["score"] == pytest.approx(r[s], abs=1e-12) and np.isnan(cell["ci_low"])
    # the analyzer's CI is the stimulus-bootstrap percentile interval of the subject mean
    bs = bootstrap(model.dissimilarities, brain.dissimilarities, "spearman", n_bootstrap=40,
                   random_state=np.random.default_rng(0))
    lo, hi = np.nanpercentile(bs.samples.mean(1), [2.5, 97.5])
    cell = c.cell("net:site1", "brain:roi0")
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)


def test_frame_within_mirroring_and_errors(run):
    out, _, _ = run
    df = nr.load(out)
    c = nr.cube(df, analysis="cka-within")
    assert c.mirrored == c.metrics and len(c.metrics) == 1
    s = c.score[..., 0]
    assert np.allclose(s, s.T) and np.allclose(np.diag(s), 1.0)   # linear CKA of a site with itself is 1
    frame = nr.cube(df, analysis="rsa-corr").to_frame()
    assert frame.index.names == ["source", "target", "metric"] and len(frame) == 6
    assert list(frame.columns) == [*nr.FIELDS, "n"]
    with pytest.raises(InvalidInputError, match=r"no analysis \['nope'\]"):
        nr.cube(df, analysis="nope")
    with pytest.raises(InvalidInputError, match="several rows for the cell"):
        nr.cube(__import__("pandas").concat([df, df]))
    with pytest.raises(FileNotFoundError, match="neurorep run RECIPE"):
        nr.load(out / "store")
    with pytest.raises(KeyError, match="no target 'x'"):
        nr.cube(df, analysis="rsa-corr").cell("net:site0", "x")


def test_cli_cube_csv(run, tmp_path):
    from click.testing import CliRunner

    from neurorep.cli import cli

    out, _, _ = run
    dest = tmp_path / "cube.csv"
    res = CliRunner().invoke(cli, ["cube", str(out), "--analysis", "rsa-corr", "--csv", str(dest)])
    assert res.exit_code == 0, res.output
    assert "6 cells (3 sources x 2 targets x 1 metrics)" in res.output
    import pandas as pd

    back = pd.read_csv(dest, index_col=[0, 1, 2])
    ref = nr.cube(out, analysis="rsa-corr").to_frame()
    assert list(back.index) == list(ref.index)
    assert np.allclose(back["score"].to_numpy(), ref["score"].to_numpy(), atol=1e-12)
    assert np.allclose(back["ci_high"].to_numpy(), ref["ci_high"].to_numpy(), atol=1e-12)
    shown = CliRunner().invoke(cli, ["cube", str(out), "--analysis", "rsa-euc", "--per-subject"])
    assert shown.exit_code == 0 and "brain:roi1[2]" in shown.output
    bad = CliRunner().invoke(cli, ["cube", str(out), "--analysis", "nope"])
    assert bad.exit_code == 1 and "no analysis" in bad.output
