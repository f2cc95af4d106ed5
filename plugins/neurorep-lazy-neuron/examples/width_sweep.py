"""The paper's width and label checks at a larger (but still CPU-sized) scale than the tests run.

Tiny ReLU vision transformers on 512 sklearn digits (8 x 8 images cut into 16 patches of 2 x 2, d_model 32,
2 blocks, AdamW lr 1e-2, weight decay 0.1, batch 64, 40 epochs), MLP widths 32 and 512, seeds 0-2, true and
random labels. Writes ``docs/lazy-neuron-width.json`` (about 5 minutes on one busy core)::

    python plugins/neurorep-lazy-neuron/examples/width_sweep.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from neurorep_lazy_neuron.train import build_transformer, digits_data, train_classifier, transformer_sites

OUT = Path(__file__).resolve().parents[1] / "docs" / "lazy-neuron-width.json"


def main() -> None:
    torch.set_num_threads(1)
    sites = transformer_sites(2)
    rows = []
    for labels in ("true", "random"):
        for seed in (0, 1, 2):
            X, y = digits_data(random_labels=labels == "random", random_state=seed)
            X, y = X[:512], y[:512]
            for d_mlp in (32, 512):
                net = build_transformer(d_mlp=d_mlp, patch=2, d_model=32, random_state=seed)
                rec = train_classifier(net, X, y, sites, epochs=40, lr=1e-2, weight_decay=0.1, batch_size=64,
                                       random_state=seed)
                row = {"labels": labels, "seed": seed, "d_mlp": d_mlp, "train_accuracy": rec.train_accuracy[-1],
                       "init": {s: rec.nonzero[s][0] for s in sites}, "final": {s: rec.nonzero[s][-1] for s in sites}}
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {}
    for labels in ("true", "random"):
        for d_mlp in (32, 512):
            sel = [r for r in rows if r["labels"] == labels and r["d_mlp"] == d_mlp]
            summary[f"{labels}-{d_mlp}"] = {s: float(np.mean([r["final"][s] for r in sel])) for s in sites}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"runs": rows, "mean_final_nonzero": summary}, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
