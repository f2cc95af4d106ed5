"""The activation hash phase chart at small scale: one-hidden-layer ReLU MLPs on scikit-learn's digits.

Writes ../docs/phase-chart-digits.json (tidy rows: width, n_train, epoch, accuracies, determinism counts,
K-NN / logistic / K-means read-outs, regime) and, when matplotlib is installed, ../docs/phase-chart-digits.png.

    .venv/bin/python plugins/neurorep-activation-hash-codes/examples/phase_chart_digits.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from neurorep_hashcodes import assign_regimes, phase_chart

OUT = Path(__file__).resolve().parents[1] / "docs"
WIDTHS = [2, 3, 5, 8, 16, 32, 64, 128, 256, 512]
EPOCHS = [0, 2, 10, 40]
SAMPLE_SIZES = [100, 300, 1347]


def main() -> None:
    torch.set_num_threads(1)
    rows = assign_regimes(phase_chart(WIDTHS, EPOCHS, SAMPLE_SIZES, random_state=0))
    OUT.mkdir(exist_ok=True)
    (OUT / "phase-chart-digits.json").write_text(json.dumps(rows, indent=1))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    full = [r for r in rows if r["n_train"] == max(SAMPLE_SIZES)]
    for e in EPOCHS:
        sel = [r for r in full if r["epoch"] == e]
        axes[0].plot([r["width"] for r in sel], [r["redundancy_ratio"] for r in sel], "o-", label=f"epoch {e}")
        axes[1].plot([r["width"] for r in sel], [r["knn_accuracy"] for r in sel], "o-", label=f"epoch {e}")
    for n in SAMPLE_SIZES:
        sel = [r for r in rows if r["n_train"] == n and r["epoch"] == max(EPOCHS)]
        axes[2].plot([r["width"] for r in sel], [r["redundancy_ratio"] for r in sel], "o-", label=f"n_train {n}")
    for ax, t in zip(axes, ("redundancy ratio (training codes)", "K-NN test accuracy on codes",
                            f"redundancy ratio after {max(EPOCHS)} epochs")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("hidden width")
        ax.set_title(t, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / "phase-chart-digits.png", dpi=110)


if __name__ == "__main__":
    main()
