"""Real data: EfficientNet-Lite0 blocks vs human IT (4 subjects) and monkey IT on the 92 images of
Kriegeskorte et al. (2008): the layer profile of each, the best block and the overall similarity.

    cd plugins/neurorep-brain-model-convergence
    NEUROREP_DATA_MIRROR=/work/shared/datasets python examples/kriegeskorte92.py OUT_DIR

Writes OUT_DIR/kriegeskorte92.json (every score) and OUT_DIR/kriegeskorte92.png (the layer profiles).
Only the overall-similarity metric applies: two regions at one level of the hierarchy and no MEG.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from neurorep.models import TorchSource
from neurorep.plugins import create

from neurorep_convergence import LayerProfile, overall_similarity, similarity_matrix, stack_layers

BLOCKS = [f"blocks.{i}" for i in range(16)]
TARGETS = ["hIT-subjects", "mIT-fig1"]


def main(out: Path) -> dict:
    ds = create("dataset.kriegeskorte2008-92")
    stim = ds.load_stimuli()
    acts = TorchSource(model="model.efficientnet-lite0", include=BLOCKS, pooling="spatial", batch_size=23).extract(stim)
    layers = {b: acts[b] for b in BLOCKS}
    targets = {t: ds.load(t) for t in TARGETS}
    S = similarity_matrix(layers, targets, "rsa.correlation", {"comparison": "spearman", "noise_ceiling": False})
    mean, best_score, best = overall_similarity(S)
    # the analyzer route, with the human-IT noise ceiling of the best block
    rows = LayerProfile(base_params={"comparison": "spearman", "noise_ceiling": True}).analyze(
        stack_layers(layers), targets["hIT-subjects"])
    ceiling = rsa_ceiling(layers[BLOCKS[int(best[0])]], targets["hIT-subjects"])
    res = {"blocks": BLOCKS, "targets": TARGETS, "scores": S.T.round(4).tolist(), "overall": round(mean, 4),
           "best_block": {t: BLOCKS[int(b)] for t, b in zip(TARGETS, best)},
           "best_score": {t: round(float(v), 4) for t, v in zip(TARGETS, best_score)},
           "layer_profile_analyzer_hIT": {"score": round(rows[0].score, 4), "best_layer": rows[0].extra["best_layer"]},
           "hIT_noise_ceiling": ceiling}
    out.mkdir(parents=True, exist_ok=True)
    (out / "kriegeskorte92.json").write_text(json.dumps(res, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for t, row in zip(TARGETS, S.T):
        ax.plot(range(16), row, marker="o", label=t)
    ax.set_xticks(range(16), [b.split(".")[1] for b in BLOCKS])
    ax.set_xlabel("EfficientNet-Lite0 block")
    ax.set_ylabel("RSA (Spearman)")
    ax.set_title("Layer profiles, 92 images (Kriegeskorte et al. 2008)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "kriegeskorte92.png", dpi=120)
    return res


def rsa_ceiling(x, y) -> list[float]:
    from neurorep.builtin.analyzers import CorrelationRSA

    r = CorrelationRSA(comparison="spearman", noise_ceiling=True).analyze(x, y)[0]
    return [round(float(r.ceiling_lower), 4), round(float(r.ceiling_upper), 4)]


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/convergence-92")), indent=1))
