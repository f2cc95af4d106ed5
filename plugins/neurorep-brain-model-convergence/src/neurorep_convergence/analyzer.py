"""``convergence.layer-profile``: a model's layer profile against one brain target, through an existing analyzer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from neurorep.components import Analyzer, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import RDMs, Representation, Result, stack_sites

from .core import CITATION

__all__ = ["LayerProfile", "stack_layers"]


def stack_layers(layers: Mapping[str, Representation], key: str = "layer") -> Representation:
    """Concatenate a model's layers (depth order) into one representation whose channel descriptor ``key``
    names each feature's layer; the input of :class:`LayerProfile`.

    Parameters
    ----------
    layers : mapping of str to Representation
        The layers in depth order, all over the same stimulus ids (rows follow the first layer's order).
    key : str, default="layer"
        Name of the channel descriptor.
    """
    if not layers:
        raise InvalidInputError("convergence.stack_layers: got no layers; pass {name: Representation} in depth order.")
    # the host's stack_sites is what a recipe analysis with stack = "x" gives (descriptor "site" there)
    return stack_sites(list(layers.values()), list(layers), descriptor=key, owner="convergence.stack_layers")


class LayerProfile(Analyzer):
    """Similarity of every layer of a model with one brain target; the best layer and its score.

    ``x`` holds all of a model's layers (see :func:`stack_layers`, or in a recipe ``stack = "x"`` with
    ``layer_key = "site"``); its channel descriptor ``layer_key`` names the layer of each feature. Each layer is compared with ``y`` (a brain region's
    representation or RDMs, or one MEG time point) by the analyzer ``base``. The first row is the
    *overall similarity* of the model with the target: the best layer's score. The second row is the
    relative depth of that layer (0 = first, 1 = last). Across regions ordered along the cortical
    hierarchy, those depths give the *topography* metric; across MEG times, the per-layer profiles give
    the *temporal* metric (:mod:`neurorep_convergence.core`).

    Parameters
    ----------
    base : str, default="rsa.correlation"
        Id of the registered analyzer scoring each layer (larger must be more similar), e.g.
        ``"rsa.correlation"``, ``"cka.linear"``, ``"encoding.ridge"``.
    base_params : dict or None, default=None
        Parameters of ``base``.
    layer_key : str, default="layer"
        Channel descriptor of ``x`` naming each feature's layer. Without it ``x`` is one layer.
    layer_order : list of str or None, default=None
        The layers in depth order; default: their order of first appearance in ``x``.
    random_state : int or None, default=0
        Seed passed to ``base`` when it takes one (bootstrap, permutations) and ``base_params`` does not set it.

    Notes
    -----
    ``extra`` holds ``layers``, ``profile`` (the score of each layer), ``best_layer`` and ``best_index``.
    The definitions are this plugin's reading of the paper's "overall representational similarity".
    """

    id = "convergence.layer-profile"
    version = "0.1.0"
    citation = CITATION
    n_inputs: ClassVar[int] = 2
    tags = Tags(larger_is_more_similar=True, input_type="representation", stochastic=True,
                invariances=("isotropic_scaling",))

    def __init__(self, base: str = "rsa.correlation", base_params: dict[str, Any] | None = None,
                 layer_key: str = "layer", layer_order: list[str] | None = None, random_state: int | None = 0):
        self.base = base
        self.base_params = base_params
        self.layer_key = layer_key
        self.layer_order = layer_order
        self.random_state = random_state

    def _base(self) -> Analyzer:
        from neurorep.plugins import create

        params = dict(self.base_params or {})
        try:
            cls_params = create(self.base, params, kind="analyzer")
        except Exception as exc:
            raise InvalidInputError(f"Analyzer {self.id!r}: cannot build the base analyzer {self.base!r} with "
                                    f"{params}: {exc}") from exc
        if "random_state" in cls_params.get_params() and "random_state" not in params:
            cls_params.set_params(random_state=self.random_state)
        if cls_params.tags.larger_is_more_similar is False:
            raise InvalidInputError(f"Analyzer {self.id!r}: base {self.base!r} is a distance "
                                    "(larger_is_more_similar=False); the best layer is the maximum. Use a "
                                    "similarity such as 'rsa.correlation' or 'cka.linear'.")
        return cls_params

    def _split(self, x: Representation) -> dict[str, Representation]:
        if not isinstance(x, Representation):
            raise InvalidInputError(f"Analyzer {self.id!r}: x must be a Representation of the model's layers "
                                    f"(see neurorep_convergence.stack_layers), got {type(x).__name__}.")
        if self.layer_key not in x.channel_descriptors:
            return {x.name: x}
        labels = np.asarray(x.channel_descriptors[self.layer_key]).astype(str)
        present = list(dict.fromkeys(labels.tolist()))
        order = present if self.layer_order is None else list(self.layer_order)
        missing = [lay for lay in order if lay not in present]
        if missing:
            raise InvalidInputError(f"Analyzer {self.id!r}: layer_order names {missing}, absent from x's "
                                    f"{self.layer_key!r} descriptor, which holds {present}.")
        out = {}
        for lay in order:
            cols = labels == lay
            rep = None if x.repeats is None else x.repeats[:, :, cols]
            out[lay] = Representation(x.data[:, cols], x.stimulus_ids, repeats=rep, space=dict(x.space),
                                      name=lay)
        return out

    def analyze(self, x: Representation, y: Representation | RDMs | None = None) -> list[Result]:
        if y is None:
            raise InvalidInputError(f"Analyzer {self.id!r}: needs a brain target y, got None.")
        base = self._base()
        layers = self._split(x)
        profile, n = [], 1
        for rep in layers.values():
            try:
                row = base.analyze(rep, y)[0]
            except ValueError as exc:
                raise InvalidInputError(f"Analyzer {self.id!r}: {exc}") from exc
            profile.append(float(row.score))
            n = max(n, int(row.n))
        prof = np.asarray(profile)
        if not np.isfinite(prof).any():
            raise InvalidInputError(f"Analyzer {self.id!r}: base {self.base!r} gave no finite score for any layer.")
        best = int(np.nanargmax(prof))
        names = list(layers)
        depth = best / (len(names) - 1) if len(names) > 1 else 0.0
        extra = {"layers": names, "profile": profile, "best_layer": names[best], "best_index": best,
                 "base": self.base}
        return [Result(score=float(prof[best]), metric="best-layer-score", n=n, extra=extra),
                Result(score=float(depth), metric="best-layer-depth", n=len(names),
                       extra={"best_layer": names[best], "best_index": best})]
