"""The paper's check at default settings (240 stimuli, 6x6 grid x 16 channels, 12 voxels, 5-fold).

Run: .venv/bin/python plugins/neurorep-transformer-brain-encoder/benchmarks/planted_check.py
Prints held-out mean R2 of the three encoders and where the attention / receptive fields peak.
"""

import numpy as np
import torch

from neurorep.builtin.encoding import RidgeEncoding
from neurorep_transformer_brain_encoder import FactorizedRFEncoding, TransformerEncoding, planted_tokens

torch.set_num_threads(1)
for mode in ("routing", "fixed"):
    x, y, truth = planted_tokens(mode=mode, location=(1, 4))
    att = TransformerEncoding(grid=[6, 6]).analyze(x, y)[0]
    rf = FactorizedRFEncoding(grid=[6, 6]).analyze(x, y)[0]
    ridge = RidgeEncoding().analyze(x, y)[0]
    hit = np.mean(np.asarray(att.extra["attention_argmax"][0]) == truth["position"])
    print(f"{mode}: R2 transformer={att.score:.3f} factorized-rf={rf.score:.3f} ridge={ridge.score:.3f}; "
          f"attention argmax on planted token {hit:.3f} (chance {1 / 36:.3f}); mean-attention peak "
          f"{att.extra['attention_peak'][0]}; rf peaks {sorted({tuple(p) for p in rf.extra['rf_peak']})}")
