"""Real-data figures of neurorep-relative-representations: EfficientNet-Lite0 blocks and human IT, 92 images.

Run (needs the dataset mirror and the EfficientNet-Lite0 weights package)::

    NEUROREP_DATA_MIRROR=/path/to/datasets python examples/kriegeskorte92_figures.py docs/

Writes ``relrep-kriegeskorte92.json`` (every number) and ``relrep-kriegeskorte92.png`` into
the folder given, and prints the numbers. The test
``tests/test_relrep_real_data.py`` checks the same quantities.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
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

BLOCKS = [f"blocks.{i}" for i in range(16)]
N_ANCHORS = 20


def main(out: Path) -> dict:
    import torch
    from neurorep.models import TorchSource
    from neurorep_datasets.kriegeskorte import Kriegeskorte2008

    torch.set_num_threads(1)
    ds = Kriegeskorte2008()
    reps = TorchSource(model="model.efficientnet-lite0", include=["blocks.*"], batch_size=92).extract(
        ds.load_stimuli())
    reps = {k: Representation(v.data.astype(float), v.stimulus_ids, name=k) for k, v in reps.items()}
    ids = reps[BLOCKS[0]].stimulus_ids
    sim = RelativeSimilarity(n_anchors=N_ANCHORS, exclude_anchors=True, random_state=0)
    adjacent = []
    for i, (a, b) in enumerate(zip(BLOCKS[:-1], BLOCKS[1:])):
        xa, xb = reps[a], reps[b]
        xb_rot = Representation(3.7 * xb.data @ ortho_group.rvs(xb.n_features, random_state=i), ids)
        same = xa.n_features == xb.n_features
        adjacent.append({
            "pair": f"{a}-{b}", "widths": [xa.n_features, xb.n_features],
            "relative": sim.analyze(xa, xb)[0].score, "relative_rotated": sim.analyze(xa, xb_rot)[0].score,
            "absolute": float(row_agreement(xa.data, xb.data).mean()) if same else None,
            "absolute_rotated": float(row_agreement(xa.data, xb_rot.data).mean()) if same else None})
    hit = ds.load("hIT-fig1")
    d_hit = hit.get_matrices()[0]
    idx = anchor_positions(ids, select_anchors(ids, N_ANCHORS, 0))
    keep = np.setdiff1d(np.arange(len(ids)), idx)
    r_hit = relative_from_rdm(d_hit, idx)
    it = []
    for b in BLOCKS:
        x = reps[b].data
        it.append({"block": b,
                   "relative_vs_hIT": float(row_agreement(relative_projection(x, x[idx])[keep], r_hit[keep],
                                                          "pearson").mean()),
                   "rsa_spearman_vs_hIT": float(spearmanr(pdist(x, "correlation"),
                                                          squareform(d_hit, checks=False))[0])})
    rel = np.array([r["relative_vs_hIT"] for r in it])
    rsa = np.array([r["rsa_spearman_vs_hIT"] for r in it])
    res = {"n_anchors": N_ANCHORS, "anchors": [ids[i] for i in idx], "adjacent_blocks": adjacent,
           "blocks_vs_hIT": it, "profile_correlation_relative_vs_rsa": float(np.corrcoef(rel, rsa)[0, 1])}
    out.mkdir(parents=True, exist_ok=True)
    (out / "relrep-kriegeskorte92.json").write_text(json.dumps(res, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    k = np.arange(len(adjacent))
    ax[0].plot(k, [r["relative"] for r in adjacent], "o-", label="relative (cosine to 20 anchors)")
    sw = [i for i, r in enumerate(adjacent) if r["absolute"] is not None]
    ax[0].plot(sw, [adjacent[i]["absolute"] for i in sw], "s", label="absolute (same-width pairs)")
    ax[0].plot(sw, [adjacent[i]["absolute_rotated"] for i in sw], "x", label="absolute, one block rotated")
    ax[0].set_xticks(k, [r["pair"].replace("blocks.", "") for r in adjacent], rotation=60, fontsize=7)
    ax[0].set_ylabel("mean row agreement (cosine)")
    ax[0].set_title("EfficientNet-Lite0 adjacent blocks, 92 images")
    ax[0].legend(fontsize=7)
    ax[1].plot(range(16), rel, "o-", label="relative agreement with hIT (Pearson)")
    ax[1].plot(range(16), rsa, "s--", label="classic RSA (Spearman)")
    ax[1].set_xlabel("block")
    ax[1].set_title(f"blocks vs human IT (profiles r = {res['profile_correlation_relative_vs_rsa']:.2f})")
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "relrep-kriegeskorte92.png", dpi=110)
    return res


if __name__ == "__main__":
    r = main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    for a in r["adjacent_blocks"]:
        print(a)
    for b in r["blocks_vs_hIT"]:
        print(b)
    print("profile correlation", r["profile_correlation_relative_vs_rsa"])
