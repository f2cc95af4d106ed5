"""Do BrainMAE's pooled scan representations tell apart two synthetic cohorts with different coupling graphs?

Two cohorts of 8 scans (12 ROIs, 160 volumes) from :func:`coupled_roi_series` with different planted graphs
(seeds 0 and 1); one BrainMAE pre-trained (120 steps) on all 16 scans without labels; 4-fold logistic
regression on (a) the ROI states of each scan, flattened, (b) the scan's mean token, (c) the upper triangle of
the scan's ROI correlation matrix (the Fixed-FC baseline). Run::

    .venv/bin/python plugins/neurorep-brainmae/benchmarks/subject_probe.py

Measured: (a) 0.56, (b) 0.56, (c) 1.00. Pooled tokens of a masked-reconstruction model keep first-order
information; the cohorts differ only in second-order structure, which the paper's downstream tasks reach by
fine-tuning (not reproduced here).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from neurorep_brainmae import BrainMAEPretrain, coupled_roi_series


def main() -> None:
    torch.set_num_threads(1)
    a = coupled_roi_series(n_rois=12, n_timepoints=160, n_subjects=8, random_state=0)
    b = coupled_roi_series(n_rois=12, n_timepoints=160, n_subjects=8, random_state=1)
    scans = np.concatenate([a.series, b.series])
    y = np.r_[np.zeros(8), np.ones(8)]
    est = BrainMAEPretrain(n_steps=120).fit(scans)
    iu = np.triu_indices(12, 1)
    feats = {
        "roi-states (flattened)": np.stack([est.roi_representations(x).ravel() for x in scans]),
        "mean token": np.stack([est.subject_representation(x) for x in scans]),
        "fc (upper triangle)": np.stack([np.corrcoef(x.T)[iu] for x in scans]),
    }
    for name, z in feats.items():
        acc = cross_val_score(LogisticRegression(max_iter=2000), z, y, cv=4).mean()
        print(f"{name:24s} 4-fold accuracy {acc:.2f}")


if __name__ == "__main__":
    main()
