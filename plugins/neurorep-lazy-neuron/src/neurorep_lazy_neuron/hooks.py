"""Site resolution, raw activation recording and the Top-k intervention (``intervention.topk``).

A *site* names where a tensor is read or edited in a ``torch.nn.Module``:

* a ``named_modules()`` path, optionally suffixed (the host's hook-point grammar,
  :func:`neurorep.models.parse_hook_point`): ``"model.layers.3.mlp.act_fn"`` is the module's
  output, ``"model.layers.3.mlp.down_proj:input"`` its first positional input;
* a canonical site name of the host (``"blocks.3.hook_mlp_out"`` for a Llama model,
  ``"blocks.7"`` or ``"head"`` for EfficientNet-Lite), mapped to its hook point by the adapter of
  :func:`neurorep.models.adapter_for_module` or, for architectures other plugins know, the
  ``resolve_adapter`` hook.

torch is imported inside the functions only.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any, Literal

from neurorep import Intervention, Tags
from neurorep.errors import InvalidInputError
from neurorep.models import HookPoint, adapter_for_module, parse_hook_point

from .core import CITATION

__all__ = ["TopK", "TopKHandle", "resolve_sites", "collect_activations", "topk_mask_tensor"]


def _adapter(model: Any) -> dict[str, str]:
    ad = adapter_for_module(model)
    if ad:
        return dict(ad)
    try:  # architectures other plugins know
        from neurorep.plugins import get_plugin_system

        ad = get_plugin_system().pm.hook.resolve_adapter(model=model, model_id=type(model).__name__)
    except Exception:  # a broken plugin must not stop native names from working
        ad = None
    return dict(ad) if ad else {}


def resolve_sites(model: Any, sites: Sequence[str], *, owner: str = "lazy-neuron") -> dict[str, HookPoint]:
    """Map each site name to a :class:`~neurorep.models.HookPoint` of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
    sites : sequence of str
        Native paths (``"path"``, ``"path:input"``, ``"path:output"``) or the host's canonical site names.
    owner : str
        Named in error messages.

    Raises
    ------
    InvalidInputError
        For a site that is neither, with the closest names.
    """
    if not (hasattr(model, "named_modules") and hasattr(model, "register_forward_hook")):
        raise InvalidInputError(f"{owner}: expected a torch.nn.Module, got {type(model).__name__}. Build the model "
                                "first (e.g. neurorep.create('model.smollm2-135m').build()).")
    if isinstance(sites, str) or not sites:
        raise InvalidInputError(f"{owner}: expected a non-empty list of site names, got {sites!r}.")
    names = {n for n, _ in model.named_modules()}
    adapter: dict[str, str] | None = None
    out: dict[str, HookPoint] = {}
    for site in sites:
        try:
            hp = parse_hook_point(site)
        except ValueError:
            hp = None
        if hp is not None and hp.module in names and (hp.module or ":" in site):
            out[site] = hp
            continue
        if adapter is None:
            adapter = _adapter(model)
        if site in adapter:
            out[site] = parse_hook_point(adapter[site])
            continue
        close = difflib.get_close_matches(site, sorted(set(adapter) | (names - {""})), n=3, cutoff=0.5)
        raise InvalidInputError(
            f"{owner}: site {site!r} is neither a module path of this {type(model).__name__} (model.named_modules(), "
            "optionally with ':input' or ':output') nor one of its canonical site names"
            + (f"; closest: {close}" if close else "") + ".")
    return out


def _first_tensor(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return _first_tensor(value[0])
    if isinstance(value, dict) and value:
        return _first_tensor(next(iter(value.values())))
    raise InvalidInputError(f"expected a module to return a tensor (or a tuple whose first item is one), "
                            f"got {type(value).__name__}.")


def collect_activations(model: Any, sites: Sequence[str], run: Callable[[Any], Any], *,
                        reduce: Callable[[Any], Any] | None = None,
                        owner: str = "lazy-neuron") -> tuple[dict[str, Any], Any]:
    """Run ``run(model)`` with forward hooks that keep the full tensors at ``sites``.

    ``reduce``, when given, is applied to each tensor inside the hook and its result kept instead
    (e.g. a per-image non-zero count, so large feature maps are never stored).

    Returns
    -------
    activations : dict of str to torch.Tensor
        Detached CPU tensors, unpooled (e.g. ``(N, T, F)`` for a transformer MLP, ``(N, C, H, W)``
        for a convolution); a module called several times in one run gives its calls
        concatenated along the first axis.
    output
        What ``run`` returned.
    """
    import torch

    points = resolve_sites(model, sites, owner=owner)
    modules = dict(model.named_modules())
    store: dict[str, list[Any]] = {s: [] for s in points}
    handles = []

    def out_hook(site: str):
        def f(_m, _inp, out):
            t = _first_tensor(out).detach()
            store[site].append((t if reduce is None else reduce(t)).cpu())
        return f

    def in_hook(site: str):
        def f(_m, args):
            t = _first_tensor(args).detach()
            store[site].append((t if reduce is None else reduce(t)).cpu())
        return f

    try:
        for site, hp in points.items():
            mod = modules[hp.module]
            handles.append(mod.register_forward_pre_hook(in_hook(site)) if hp.io == "input"
                           else mod.register_forward_hook(out_hook(site)))
        output = run(model)
    finally:
        for h in handles:
            h.remove()
    missing = [s for s, v in store.items() if not v]
    if missing:
        raise InvalidInputError(f"{owner}: the sites {missing} were never reached by the forward pass.")
    acts = {s: (v[0] if len(v) == 1 else torch.cat(v, 0)) for s, v in store.items()}
    return acts, output


def topk_mask_tensor(x: Any, k: int, dim: int = -1, by: str = "value") -> Any:
    """``x`` with all but the ``k`` largest entries along ``dim`` set to zero (a new tensor).

    ``by="value"`` keeps the largest values (the paper's Top-k on ReLU outputs); ``by="magnitude"``
    the largest ``|x|`` (for signed activations such as SiLU or GELU). Exactly ``k`` entries per
    slice are kept (ties broken by :func:`torch.topk`); with ``k`` at least the size of ``dim``
    ``x`` is returned unchanged.
    """
    import torch

    n = x.shape[dim]
    if k >= n:
        return x
    score = x.abs() if by == "magnitude" else x
    idx = torch.topk(score, k, dim=dim, largest=True, sorted=False).indices
    return torch.zeros_like(x).scatter(dim, idx, x.gather(dim, idx))


class TopKHandle:
    """What :meth:`TopK.apply` returns: ``remove()`` takes every hook off again (idempotent).

    Attributes
    ----------
    sites : dict of str to str
        The sites edited and their hook points.
    n_calls : int
        How many module calls were edited so far.
    """

    def __init__(self, handles: list[Any], sites: dict[str, str]):
        self._handles = handles
        self.sites = sites
        self.n_calls = 0
        self.removed = False

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self.removed = True

    def __enter__(self) -> TopKHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class TopK(Intervention):
    """Top-k thresholding: keep the ``k`` largest activations of each input at the chosen sites, zero the rest.

    Li et al. (2023) enforce sparser MLP activation maps by keeping, for every token, only the
    ``k`` largest entries of the post-ReLU activation. :meth:`apply` installs forward hooks (a
    pre-hook for ``":input"`` sites) that replace the tensor at each site by its Top-k version;
    no parameter is touched, so the handle's ``remove()`` restores the model's outputs bit for bit.

    Parameters
    ----------
    sites : list of str
        Where to sparsify: ``named_modules()`` paths (``"model.layers.3.mlp.act_fn"``, the SiLU of
        SmolLM2's gate; ``"model.layers.3.mlp.down_proj:input"``, its gated MLP activation), or the
        host's canonical site names (``"blocks.3.hook_mlp_out"``, ``"head"``).
    k : int
        Entries kept per input (per token / position) along ``dim``; at least 1.
    dim : int, default=-1
        The unit axis (``-1`` for ``(..., features)`` activations, ``1`` for channels of ``(N, C, H, W)``
        feature maps).
    by : {"value", "magnitude"}, default="value"
        Rank by value (ReLU-like, non-negative activations) or by absolute value (signed activations).

    Examples
    --------
    >>> handle = TopK(sites=["blocks.0.mlp.hook_post"], k=8).apply(net)   # doctest: +SKIP
    >>> logits = net(x)                                                    # doctest: +SKIP
    >>> handle.remove()                                                    # doctest: +SKIP
    """

    id = "intervention.topk"
    version = "1.0.0"
    citation = CITATION
    description = "Top-k thresholding of activations at named sites (Li et al., 2023), exactly removable"
    tags = Tags()

    def __init__(self, sites: list[str], k: int, dim: int = -1, by: Literal["value", "magnitude"] = "value"):
        self.sites = sites
        self.k = k
        self.dim = dim
        self.by = by

    def _validate(self) -> None:
        owner = f"Intervention {self.id!r}"
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise InvalidInputError(f"{owner}: k must be an integer >= 1 (entries kept per input), got {self.k!r}.")
        if self.by not in ("value", "magnitude"):
            raise InvalidInputError(f"{owner}: by must be 'value' or 'magnitude', got {self.by!r}.")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise InvalidInputError(f"{owner}: dim must be an integer axis, got {self.dim!r}.")

    def apply(self, model: Any) -> TopKHandle:
        """Install the Top-k hooks on ``model`` (a ``torch.nn.Module``) and return the handle that removes them."""
        self._validate()
        owner = f"Intervention {self.id!r}"
        points = resolve_sites(model, list(self.sites) if not isinstance(self.sites, str) else self.sites,
                               owner=owner)
        modules = dict(model.named_modules())
        k, dim, by = int(self.k), int(self.dim), self.by
        handle = TopKHandle([], {s: str(hp) for s, hp in points.items()})

        def edit(t: Any, site: str) -> Any:
            import torch

            if not isinstance(t, torch.Tensor):
                raise InvalidInputError(f"{owner}: site {site!r} carries a {type(t).__name__}, not a tensor.")
            if not -t.ndim <= dim < t.ndim:
                raise InvalidInputError(f"{owner}: dim={dim} is out of range for the {tuple(t.shape)} tensor at "
                                        f"site {site!r}.")
            handle.n_calls += 1
            return topk_mask_tensor(t, k, dim, by)

        def replace_first(value: Any, site: str) -> Any:
            if isinstance(value, tuple):
                return (replace_first(value[0], site),) + tuple(value[1:])
            if isinstance(value, list):
                return [replace_first(value[0], site)] + list(value[1:])
            return edit(value, site)

        def out_hook(site: str):
            def f(_m, _inp, out):
                return replace_first(out, site)
            return f

        def in_hook(site: str):
            def f(_m, args):
                if not args:
                    raise InvalidInputError(f"{owner}: site {site!r} names a module input, but the module was "
                                            "called without positional arguments.")
                return replace_first(tuple(args), site)
            return f

        try:
            for site, hp in points.items():
                mod = modules[hp.module]
                handle._handles.append(mod.register_forward_pre_hook(in_hook(site)) if hp.io == "input"
                                       else mod.register_forward_hook(out_hook(site)))
        except Exception:
            handle.remove()
            raise
        return handle

    @classmethod
    def _conformance_instances(cls) -> list[TopK]:
        return [cls(sites=["layers.0.hook_post"], k=4), cls(sites=["blocks.0.mlp.act_fn"], k=2, dim=1,
                                                             by="magnitude")]
