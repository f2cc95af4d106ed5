"""REAL model: SmolLM2-135M units over tokens. A text alternating English prose and Python code (4 + 4 segments,
210 tokens) is read once; the residual stream after block 16 (``blocks.16.hook_resid_post``, one row per token)
is the time series and 40 of its units (the highest-variance ones after the 5 massive-activation dimensions)
are the units. ``connectome.dynamic`` must find a component whose window loadings tell the prose windows from
the code windows (measured: AUROC 1.00, i.e. a unit-pair community active in exactly one kind of text).
"""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation
from neurorep.errors import InvalidInputError
from sklearn.metrics import roc_auc_score

from neurorep_dynamic_connectome import DynamicConnectome

PROSE = ["The old lighthouse keeper climbed the winding stairs every evening to light the lamp for passing ships. ",
         "In the spring the meadow filled with wildflowers, and children ran through the tall grass laughing. ",
         "She wrote long letters to her sister, describing the quiet village and the river beyond the hills. ",
         "The market was busy on Saturday mornings, with farmers selling bread, cheese and fresh vegetables. "]
CODE = ["def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(add(i, i * 2))\n",
        "import numpy as np\nx = np.zeros((3, 4))\nfor row in x:\n    row[0] = 1.0\nprint(x.sum())\n",
        "class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, v):\n        self.items.append(v)\n",
        "if value > 0:\n    result = value ** 2\nelse:\n    result = -value\nreturn result\n"]


@pytest.mark.slow
def test_smollm2_units_over_tokens_form_a_text_type_specific_community():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from neurorep.models.adapters import parse_hook_point
    from neurorep.models.smollm2 import SmolLM2, smollm2_gguf_path

    try:
        smollm2_gguf_path()
    except InvalidInputError as exc:
        pytest.skip(str(exc))
    torch.set_num_threads(1)
    lm = SmolLM2()
    model, tok = lm.build(), lm.tokenizer()
    ids, kind = [], []
    for p, c in zip(PROSE, CODE, strict=True):
        for text, k in ((p, 0), (c, 1)):
            t = tok(text, add_special_tokens=False)["input_ids"]
            ids += t
            kind += [k] * len(t)
    site = "blocks.16.hook_resid_post"
    module = dict(model.named_modules())[parse_hook_point(lm.adapter()[site]).module]
    got = {}
    handle = module.register_forward_hook(lambda m, i, o: got.__setitem__("h", o[0] if isinstance(o, tuple) else o))
    try:
        with torch.no_grad():
            model(input_ids=torch.tensor([ids]))
    finally:
        handle.remove()
    H = got["h"].reshape(len(ids), -1).numpy()[1:]  # drop the first token (attention sink)
    kind = np.array(kind[1:])
    assert H.shape == (len(ids) - 1, 576)
    order = np.argsort(H.std(axis=0))[::-1]
    units = order[5:45]  # skip the massive-activation dimensions
    x = Representation(H[:, units], [f"tok-{t}" for t in range(H.shape[0])],
                       channel_descriptors={"unit": np.array([f"d{u}" for u in units])},
                       space={"kind": "model", "model": "model.smollm2-135m", "site": site})
    rows = DynamicConnectome(n_components=3, window=8, step=4, affinity="differential", n_init=2).analyze(x)
    windows = rows[0].extra["windows"]
    share = np.array([kind[int(a[4:]):int(b[4:]) + 1].mean() for a, b in windows])
    pure = (share == 0) | (share == 1)
    loads = {r.extra["component"]: np.array(r.extra["window_loadings"]) for r in rows[1:]}
    aucs = {k: roc_auc_score(share[pure], v[pure]) for k, v in loads.items()}
    best = max(max(a, 1 - a) for a in aucs.values())
    print(f"SmolLM2 {site}: {pure.sum()} pure windows, AUROC prose-vs-code per component "
          f"{ {k: round(a, 3) for k, a in aucs.items()} }; NTF fit {rows[0].score:.3f}")
    assert pure.sum() >= 30
    assert best > 0.9  # measured 1.00
