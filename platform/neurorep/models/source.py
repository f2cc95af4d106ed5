"""``source.torch``: activations of any torch module, read with forward hooks, pooled and streamed in batches.

Two ways to name the model (the ``model`` parameter):

* a registered model component id, e.g. ``"model.efficientnet-lite0"`` or ``"model.smollm2-135m"``
  (a :class:`~neurorep.models.TorchModel`: it knows its preprocessing and its canonical site names);
  this is how recipes use it::

      [sources.effnet]
      component = "source.torch"
      params = { model = "model.efficientnet-lite0", batch_size = 16 }
      stimuli = "images92"
      sites = ["blocks.*"]

* bring your own model: a ``torch.nn.Module`` object (from Python), or ``"package.module:factory"``
  naming a callable that returns one (from a recipe). No registration is needed::

      src = TorchSource(model=my_net, include=["features.*"], pooling="spatial")
      reps = src.extract(stimuli)            # {site: Representation}

  Its sites are TransformerLens-style names when a plugin's ``resolve_adapter`` hook knows the
  architecture (the built-in plugin knows Hugging Face Llama models and EfficientNet-Lite), and the
  native ``named_modules()`` paths otherwise.

Every batch runs under ``torch.no_grad()`` with the module in eval mode (a bring-your-own module
gets its previous train/eval mode back afterwards); each hook pools its module's output at once
(see :mod:`neurorep.models.pooling`), so full activations are never kept; rows come back float32.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from ..components import COMPONENT_ID_RE, Source
from ..errors import InvalidInputError, UnknownComponentError
from ..types import Representation, StimulusSet
from .adapters import HookPoint, parse_hook_point
from .base import PreparedInputs, TorchModel, images_to_tensor
from .pooling import POOLING_MODES, first_tensor, pool, resolve_pooling

__all__ = ["TorchSource", "clear_model_cache"]

_CACHE_LOCK = threading.Lock()
#: Built modules of registered model components: (component ref, params, device) -> (module, lock).
_MODULES: OrderedDict[tuple[str, str, str], tuple[Any, threading.Lock]] = OrderedDict()
_MAX_MODULES = 2


def clear_model_cache() -> None:
    """Forget the built models kept by :class:`TorchSource` in this process."""
    with _CACHE_LOCK:
        _MODULES.clear()


def _import_ref(ref: str) -> Any:
    import importlib

    mod_name, _, qual = ref.partition(":")
    try:
        obj: Any = importlib.import_module(mod_name)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInputError(f"cannot import {ref!r} ({type(exc).__name__}: {exc}); expected "
                                "'package.module:name' of an importable object.") from exc
    return obj


def _is_module(obj: Any) -> bool:
    return callable(obj) and hasattr(obj, "named_modules") and hasattr(obj, "register_forward_hook")


def _resolve_device(device: str) -> str:
    import torch

    if not isinstance(device, str) or not device:
        raise InvalidInputError(f"Source 'source.torch': device must be a string such as 'cpu', 'cuda' or 'auto', "
                                f"got {device!r}.")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInputError(f"Source 'source.torch': device {device!r} was requested but this torch build sees no "
                                "CUDA device (torch.cuda.is_available() is False); use device='cpu' or 'auto'.")
    if device == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise InvalidInputError("Source 'source.torch': device 'mps' was requested but it is not available here; "
                                "use device='cpu' or 'auto'.")
    return device


@dataclass
class _Resolved:
    """What ``model`` names: a TorchModel component, or a module (built lazily for factories)."""

    label: str
    component: TorchModel | None = None
    module: Any = None
    factory: Callable[[], Any] | None = None
    _adapter: dict[str, str] | None = None
    _adapter_done: bool = False
    _native: list[str] | None = None
    hook_points: dict[str, HookPoint] = field(default_factory=dict)

    def get_module(self) -> Any:
        if self.module is None and self.factory is not None:
            mod = self.factory()
            if isinstance(mod, TorchModel) or not _is_module(mod):
                raise InvalidInputError(f"{self.label}: the factory returned {type(mod).__name__}, expected a "
                                        "torch.nn.Module.")
            self.module = mod
        return self.module

    def adapter(self) -> dict[str, str] | None:
        if self.component is not None:
            return self.component.adapter()
        if not self._adapter_done:
            from ..plugins import get_plugin_system

            mod = self.get_module()
            self._adapter = get_plugin_system().pm.hook.resolve_adapter(model=mod, model_id=self.label)
            self._adapter_done = True
        return self._adapter

    def all_sites(self) -> list[str]:
        if self.component is not None:
            return self.component.sites()
        ad = self.adapter()
        if ad:
            return list(ad)
        if self._native is None:
            self._native = [name for name, _ in self.get_module().named_modules() if name]
        return list(self._native)

    def output_sites(self) -> list[str]:
        return self.component.output_sites() if self.component is not None else []

    def hook_point(self, site: str) -> HookPoint | None:
        hp = self.hook_points.get(site)
        if hp is not None:
            return hp
        ad = self.adapter()
        if ad:
            if site not in ad:
                return None
            hp = parse_hook_point(ad[site])
        elif site in self.all_sites():
            hp = HookPoint(site, "output")
        else:
            return None
        self.hook_points[site] = hp
        return hp


class TorchSource(Source):
    """Activations of a torch model at named sites, pooled to ``(n_stimuli, n_features)`` float32 rows.

    Parameters
    ----------
    model : str or torch.nn.Module or TorchModel
        A registered model component id (``"model.efficientnet-lite0"``), ``"package.module:name"``
        of a model component class or of a callable returning a ``torch.nn.Module``, a
        ``torch.nn.Module`` object, or a :class:`~neurorep.models.TorchModel` instance.
    model_params : dict, optional
        Parameters of the model component (e.g. ``{"crop_fraction": 1.0}``).
    include : list of str, optional
        fnmatch globs restricting the sites listed by :meth:`sites` (e.g. ``["blocks.*"]``); default all.
        A glob that matches nothing is an error.
    pooling : str or dict, default="auto"
        A mode of :data:`neurorep.models.pooling.POOLING_MODES` for every site, or ``{glob: mode}``
        (first matching glob wins, unmatched sites use ``"auto"``). With ``"auto"``, a model component's
        own default for the site applies (e.g. the language model's mean over real tokens).
    batch_size : int, default=16
        Stimuli per forward pass (and per batch written to the representation store).
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"`` (CUDA when available).
    preprocess : callable or str, optional
        Bring-your-own modules only: ``f(stimuli_batch) -> tensor | tuple | dict | PreparedInputs``
        (or ``"package.module:name"`` of such a function). A dict's ``attention_mask`` becomes the
        token mask for ``mean``/``last`` pooling. Default: images -> float tensor ``(N, 3, H, W)`` in
        [0, 1] (all images the same size); numeric array payloads -> float32 tensors.
    """

    id = "source.torch"
    version = "1.0.0"
    citation = None  # generic activation extraction: the model component carries the citation
    description = "Activations of any torch module: forward hooks on named sites, pooled, streamed in batches"

    def __init__(self, model: Any, model_params: dict[str, Any] | None = None, include: list[str] | None = None,
                 pooling: str | dict[str, str] = "auto", batch_size: int = 16, device: str = "cpu",
                 preprocess: Any = None):
        self.model = model
        self.model_params = model_params
        self.include = include
        self.pooling = pooling
        self.batch_size = batch_size
        self.device = device
        self.preprocess = preprocess

    # ------------------------------------------------------------------ pickling / conformance
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_resolved_", None)
        return state

    @classmethod
    def _conformance_instances(cls) -> list[TorchSource]:
        """A seeded tiny convnet named by import reference to its (unregistered) model component, as a recipe can."""
        return [cls(model="neurorep.models.toy:TinyConvNet", batch_size=5),
                cls(model="neurorep.models.toy:TinyConvNet", model_params={"seed": 1}, include=["relu", "logits"],
                    pooling="flatten", batch_size=16)]

    @staticmethod
    def _conformance_stimuli() -> StimulusSet:
        from ..testing import toy_stimuli

        return toy_stimuli()

    # ------------------------------------------------------------------ resolution
    def _label(self) -> str:
        return repr(self.id)

    def _owner(self) -> str:
        return f"Source 'source.torch' (model {self._model_label()})"

    def _model_label(self) -> str:
        m = self.model
        if isinstance(m, str):
            return repr(m)
        return type(m).__name__

    def _resolve(self) -> _Resolved:
        cached = getattr(self, "_resolved_", None)
        if cached is not None:
            return cached
        m = self.model
        params = dict(self.model_params or {})
        if isinstance(m, str):
            if not m:
                raise InvalidInputError("Source 'source.torch': model is empty; give a model component id such as "
                                        "'model.efficientnet-lite0', or 'package.module:factory'.")
            if ":" in m:
                obj = _import_ref(m)
                if isinstance(obj, type) and issubclass(obj, TorchModel):
                    res = _Resolved(label=obj.id, component=obj.from_params(params))
                elif isinstance(obj, TorchModel):
                    res = _Resolved(label=obj.id, component=obj)
                elif _is_module(obj):
                    res = _Resolved(label=m, module=obj)
                elif callable(obj):
                    if params:
                        res = _Resolved(label=m, factory=lambda: obj(**params))
                    else:
                        res = _Resolved(label=m, factory=obj)
                else:
                    raise InvalidInputError(f"Source 'source.torch': {m!r} is a {type(obj).__name__}; expected a "
                                            "TorchModel class, a torch.nn.Module or a callable returning one.")
            elif COMPONENT_ID_RE.match(m):
                from ..plugins import get_registry

                try:
                    info = get_registry().get(m, kind="model")
                except UnknownComponentError as exc:
                    raise InvalidInputError(f"Source 'source.torch': {exc}") from exc
                if not issubclass(info.cls, TorchModel):
                    raise InvalidInputError(
                        f"Source 'source.torch': model component {m!r} ({info.ref}) is not a neurorep.models."
                        "TorchModel, so it cannot say how to feed stimuli to it; give its torch module instead.")
                res = _Resolved(label=m, component=info.cls.from_params(params))
            else:
                raise InvalidInputError(f"Source 'source.torch': model {m!r} is neither a component id "
                                        "('model.<name>') nor an import reference ('package.module:factory').")
        elif isinstance(m, TorchModel):
            res = _Resolved(label=m.id, component=m)
        elif isinstance(m, type) and issubclass(m, TorchModel):
            res = _Resolved(label=m.id, component=m.from_params(params))
        elif _is_module(m):
            res = _Resolved(label=f"{type(m).__module__}.{type(m).__qualname__}", module=m)
        else:
            raise InvalidInputError(f"Source 'source.torch': model must be a component id, an import reference, a "
                                    f"torch.nn.Module or a TorchModel; got {type(m).__name__}.")
        if res.component is not None and self.preprocess is not None:
            raise InvalidInputError(f"Source 'source.torch': model {res.label!r} is a model component, which "
                                    "prepares its own inputs; preprocess applies to bring-your-own modules only.")
        self._resolved_ = res
        return res

    # ------------------------------------------------------------------ sites
    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        """Canonical names of a model component or an adapted module, else native module paths."""
        names = self._resolve().all_sites()
        if self.include is None:
            return names
        if isinstance(self.include, str):
            raise InvalidInputError(f"{self._owner()}: include must be a list of globs, got the string "
                                    f"{self.include!r}; write include = [{self.include!r}].")
        keep: set[str] = set()
        for g in self.include:
            hit = [s for s in names if fnmatchcase(s, g)]
            if not hit:
                raise InvalidInputError(f"{self._owner()}: include glob {g!r} matches no site; sites are "
                                        f"{names[:8]}{'...' if len(names) > 8 else ''} ({len(names)} in all).")
            keep.update(hit)
        return [s for s in names if s in keep]

    def match_sites(self, patterns: Iterable[str] | None) -> list[str]:
        """Sites matching any of the fnmatch ``patterns`` (all sites for None), in :meth:`sites` order."""
        names = self.sites()
        if patterns is None:
            return names
        pats = [patterns] if isinstance(patterns, str) else list(patterns)
        out: set[str] = set()
        for g in pats:
            hit = [s for s in names if fnmatchcase(s, g)]
            if not hit:
                raise InvalidInputError(f"{self._owner()}: site glob {g!r} matches no site; sites are "
                                        f"{names[:8]}{'...' if len(names) > 8 else ''} ({len(names)} in all).")
            out.update(hit)
        return [s for s in names if s in out]

    def _pooling_for(self, site: str) -> str:
        if not isinstance(self.pooling, (str, dict)):
            raise InvalidInputError(f"{self._owner()}: pooling must be a mode or {{glob: mode}}, got "
                                    f"{type(self.pooling).__name__}; modes are {list(POOLING_MODES)}.")
        try:
            mode = resolve_pooling(self.pooling, site)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{self._owner()}: {exc}") from exc
        comp = self._resolve().component
        if mode == "auto" and comp is not None:
            mode = comp.default_pooling(site)
        return mode

    def site_space(self, site: str) -> dict[str, Any]:
        r = self._resolve()
        hp = r.hook_point(site)
        return {"kind": "model", "model": r.label, "site": site,
                "hook_point": str(hp) if hp is not None else "output",
                "pooling": self._pooling_for(site) if hp is not None else "none"}

    # ------------------------------------------------------------------ batches
    def batches(self, stimuli: StimulusSet | None) -> list[slice]:
        if stimuli is None:
            raise InvalidInputError(f"{self._owner()} needs stimuli; give the recipe source a 'stimuli' entry.")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise InvalidInputError(f"{self._owner()}: batch_size must be an int >= 1, got {self.batch_size!r}.")
        n = len(stimuli)
        return [slice(s, min(s + self.batch_size, n)) for s in range(0, n, self.batch_size)]

    def _module(self, r: _Resolved, device: str) -> tuple[Any, threading.Lock | None]:
        if r.component is None:
            return r.get_module(), None
        comp = r.component
        key = (f"{type(comp).__module__}:{type(comp).__qualname__}",
               json.dumps(comp.get_params(), sort_keys=True, default=str), device)
        with _CACHE_LOCK:
            hit = _MODULES.get(key)
            if hit is not None:
                _MODULES.move_to_end(key)
                return hit
        module = comp.build(device)
        entry = (module, threading.Lock())
        with _CACHE_LOCK:
            _MODULES[key] = entry
            while len(_MODULES) > _MAX_MODULES:
                _MODULES.popitem(last=False)
        return entry

    def _prepare(self, r: _Resolved, stimuli: StimulusSet) -> PreparedInputs:
        if r.component is not None:
            r.component.check_stimuli(stimuli)
            return r.component.prepare(stimuli)
        fn = self.preprocess
        if isinstance(fn, str):
            fn = _import_ref(fn)
        if fn is not None:
            value = fn(stimuli)
        else:
            value = self._default_inputs(stimuli)
        return _as_prepared(value)

    def _default_inputs(self, stimuli: StimulusSet) -> Any:
        import torch

        owner = self._owner()
        if stimuli.modality == "image":
            return images_to_tensor(stimuli, owner=owner)
        pay = stimuli.payload
        if isinstance(pay, np.ndarray) and pay.dtype.kind in "fiub":
            return torch.from_numpy(np.ascontiguousarray(pay, dtype=np.float32))
        raise InvalidInputError(f"{owner}: no default input for {stimuli.modality!r} stimuli "
                                f"({type(pay).__name__} payload); pass preprocess= a function that turns a "
                                "StimulusSet batch into the module's input (e.g. a tokenizer call).")

    def extract_batch(self, stimuli: StimulusSet | None, batch: slice, sites: Sequence[str]) -> dict[str, np.ndarray]:
        """Pooled activations of the stimuli in ``batch`` at ``sites``: ``{site: float32 (batch_len, n_features)}``."""
        if stimuli is None:
            raise InvalidInputError(f"{self._owner()} needs stimuli; give the recipe source a 'stimuli' entry.")
        import torch

        r = self._resolve()
        owner = self._owner()
        sites = list(dict.fromkeys(sites))
        outs = set(r.output_sites())
        hooked: dict[HookPoint, list[str]] = {}
        wanted_out = []
        for s in sites:
            if s in outs:
                wanted_out.append(s)
                continue
            hp = r.hook_point(s)
            if hp is None:
                known = r.all_sites()
                raise InvalidInputError(f"{owner}: unknown site {s!r}; sites are {known[:8]}"
                                        f"{'...' if len(known) > 8 else ''} ({len(known)} in all).")
            hooked.setdefault(hp, []).append(s)
        modes = {s: self._pooling_for(s) for s in sites if s not in outs}
        device = _resolve_device(self.device)
        module, lock = self._module(r, device)
        sub = stimuli.subset(batch)
        inputs = self._prepare(r, sub).to(device)
        n = len(sub)
        named = dict(module.named_modules())
        captured: dict[str, Any] = {}
        calls: dict[HookPoint, int] = {}

        def make_hook(hp: HookPoint, names: list[str]) -> Callable[..., None]:
            def take(value: Any) -> None:
                calls[hp] = calls.get(hp, 0) + 1
                if calls[hp] > 1:
                    return
                raw = first_tensor(value)
                for name in names:
                    pooled = pool(raw, modes[name], inputs.token_mask, padding_mask=inputs.padding_mask, site=name,
                                  owner=owner).detach()
                    if pooled.untyped_storage().data_ptr() == raw.untyped_storage().data_ptr():
                        # a view of the module's output: copy it, so that a later in-place operation
                        # (e.g. ReLU(inplace=True)) cannot change what was read
                        pooled = pooled.clone()
                    captured[name] = pooled

            if hp.io == "input":
                def pre_hook(mod: Any, args: tuple, kwargs: dict) -> None:
                    if args:
                        take(args[0])
                    else:
                        tensors = [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
                        if not tensors:
                            raise InvalidInputError(f"{owner}: module {hp.module!r} was called without a tensor "
                                                    f"input, so site(s) {names} cannot be read.")
                        take(tensors[0])
                return pre_hook

            def hook(mod: Any, args: tuple, output: Any) -> None:
                take(output)
            return hook

        handles = []
        was_training = bool(getattr(module, "training", False))
        guard = lock if lock is not None else _NullLock()
        with guard:
            try:
                for hp, names in hooked.items():
                    target = named.get(hp.module)
                    if target is None:
                        raise InvalidInputError(f"{owner}: site(s) {names} read module {hp.module!r}, which the model "
                                                f"does not have; its modules include {list(named)[1:6]}...")
                    if hp.io == "input":
                        handles.append(target.register_forward_pre_hook(make_hook(hp, names), with_kwargs=True))
                    else:
                        handles.append(target.register_forward_hook(make_hook(hp, names)))
                module.eval()
                with torch.no_grad():
                    if r.component is not None:
                        output = r.component.forward(module, inputs, sites)
                        derived = r.component.read_outputs(output, inputs, wanted_out) if wanted_out else {}
                    else:
                        output = module(*inputs.args, **inputs.kwargs)
                        derived = {}
            finally:
                for h in handles:
                    h.remove()
                if r.component is None and was_training:
                    module.train(True)
        shared = sorted(str(hp) for hp, k in calls.items() if k > 1)
        if shared:
            raise InvalidInputError(f"{owner}: module(s) {shared} ran more than once in one forward pass (a shared "
                                    "module), so their sites are ambiguous; read a module that runs once instead.")
        result: dict[str, np.ndarray] = {}
        for s in sites:
            value = derived.get(s) if s in outs else captured.get(s)
            if value is None:
                where = "the model's output" if s in outs else f"module {str(r.hook_point(s))!r}"
                raise InvalidInputError(f"{owner}: site {s!r} produced nothing: {where} did not run in the forward "
                                        "pass.")
            arr = value.detach().to("cpu", torch.float32).numpy()
            if arr.ndim != 2 or arr.shape[0] != n:
                raise InvalidInputError(f"{owner}: site {s!r} gave shape {arr.shape}, expected ({n}, n_features).")
            result[s] = np.ascontiguousarray(arr)
        return result

    # ------------------------------------------------------------------ whole sets
    def extract(self, stimuli: StimulusSet, sites: Iterable[str] | None = None) -> dict[str, Representation]:
        """Every requested site for all stimuli in one pass over the batches.

        Parameters
        ----------
        stimuli : StimulusSet
        sites : iterable of str, optional
            Site names or fnmatch globs over :meth:`sites`; default all.
        """
        names = self.match_sites(sites)
        parts: dict[str, list[np.ndarray]] = {s: [] for s in names}
        for b in self.batches(stimuli):
            got = self.extract_batch(stimuli, b, names)
            for s in names:
                parts[s].append(got[s])
        ids = self.stimulus_ids(stimuli)
        return {s: Representation(np.concatenate(parts[s], axis=0), ids, space=self.site_space(s),
                                  name=f"{self._resolve().label}:{s}") for s in names}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if stimuli is None:
            raise InvalidInputError(f"{self._owner()} needs stimuli to load site {site!r}.")
        parts = [self.extract_batch(stimuli, b, [site])[site] for b in self.batches(stimuli)]
        return Representation(np.concatenate(parts, axis=0), self.stimulus_ids(stimuli), space=self.site_space(site),
                              name=f"{self._resolve().label}:{site}")


class _NullLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _as_prepared(value: Any) -> PreparedInputs:
    import torch

    if isinstance(value, PreparedInputs):
        return value
    if isinstance(value, torch.Tensor):
        return PreparedInputs(args=(value,))
    if isinstance(value, (tuple, list)):
        return PreparedInputs(args=tuple(value))
    if isinstance(value, dict):
        kwargs = dict(value)
        return PreparedInputs(kwargs=kwargs, token_mask=kwargs.get("attention_mask"))
    if hasattr(value, "keys") and hasattr(value, "__getitem__"):  # a tokenizer's BatchEncoding
        kwargs = {k: value[k] for k in value.keys()}
        return PreparedInputs(kwargs=kwargs, token_mask=kwargs.get("attention_mask"))
    raise InvalidInputError(f"preprocess returned {type(value).__name__}; expected a tensor, a tuple of "
                            "positional inputs, a dict of keyword inputs or a neurorep.models.PreparedInputs.")
