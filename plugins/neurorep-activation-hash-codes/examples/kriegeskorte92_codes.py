"""Neural codes of EfficientNet-Lite0 blocks (ReLU6 units, threshold 0) on the 92 images of Kriegeskorte et al. (2008):
determinism and every categorisation read-out (animate/inanimate and the 6 categories).

Writes ../docs/hashcodes-kriegeskorte92.json.

    NEUROREP_DATA_MIRROR=/path/to/datasets .venv/bin/python \
        plugins/neurorep-activation-hash-codes/examples/kriegeskorte92_codes.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from neurorep import Representation
from neurorep.models.efficientnet import EfficientNetLite0
from neurorep_datasets.kriegeskorte import Kriegeskorte2008

from neurorep_hashcodes import CodeCategorisation, CodeDeterminism, activation_codes

OUT = Path(__file__).resolve().parents[1] / "docs"
BLOCKS = [3, 6, 11, 15]


def main() -> None:
    torch.set_num_threads(1)
    root = Path(os.environ.get("NEUROREP_DATA_MIRROR", "../shared/datasets")) / "kriegeskorte2008-92images"
    stim = Kriegeskorte2008(data_dir=str(root)).load_stimuli()
    model = EfficientNetLite0()
    net = model.build()
    cs = activation_codes(net, model.prepare(stim).args[0], include=[f"_blocks.{b}._swish" for b in BLOCKS],
                          batch_size=23, stop_after=f"_blocks.{max(BLOCKS)}")
    labels = {"animate": stim.descriptors["cv_animate"].astype(float),
              "category": np.unique(stim.descriptors["category"], return_inverse=True)[1].astype(float)}
    out = []
    for b in BLOCKS:
        x = Representation(cs.select([f"_blocks.{b}._swish#*"]), stim.ids)
        det = CodeDeterminism().analyze(x)
        row = {"block": f"blocks.{b}", "n_units": int(x.n_features), "n_images": int(x.n_stimuli),
               "n_regions": det[0].extra["n_regions"], "singleton_region_share": det[0].score,
               "active_fraction": float(x.data.mean())}
        for name, lab in labels.items():
            rows = CodeCategorisation(n_splits=10, random_state=0).analyze(x, Representation(lab[:, None], stim.ids))
            row[name] = {r.metric: r.score for r in rows} | {"chance": rows[0].extra["chance"]}
        out.append(row)
        print(json.dumps(row))
    OUT.mkdir(exist_ok=True)
    (OUT / "hashcodes-kriegeskorte92.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
