"""Component base classes: what every plugin component declares and how it is parametrised.

A component is a class. Its constructor stores parameters only (scikit-learn
style); the parameter model used to validate recipes is derived from the
constructor's typed signature, or given explicitly as ``Params``. Class
attributes declare the component's identity and capabilities::

    class LinearCKA(Analyzer):
        id = "cka.linear"
        version = "1.0.0"
        citation = "Kornblith et al. (2019) ICML, arXiv:1905.00414"
        tags = Tags(symmetric=True, larger_is_more_similar=True,
                    invariances=("orthogonal", "isotropic_scaling"), maximum=1.0)

        def __init__(self, debiased: bool = False):
            self.debiased = debiased

        def analyze(self, x, y=None): ...
"""

from __future__ import annotations

import abc
import copy
import inspect
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ComponentDeclarationError, InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from pydantic import BaseModel

    from .types import RDMs, Representation, Result, StimulusSet

__all__ = [
    "KINDS",
    "INVARIANCES",
    "COMPONENT_ID_RE",
    "Tags",
    "Component",
    "Dataset",
    "Model",
    "Source",
    "Estimator",
    "Analyzer",
    "Transform",
    "Intervention",
    "Generator",
    "ReportSection",
    "validate_component_class",
]

#: The component kinds and the registration hook that receives each.
KINDS: dict[str, str] = {
    "dataset": "register_datasets",
    "model": "register_models",
    "source": "register_sources",
    "estimator": "register_estimators",
    "analyzer": "register_analyzers",
    "transform": "register_transforms",
    "intervention": "register_interventions",
    "generator": "register_generators",
    "report_section": "register_report_sections",
}

#: Invariances an analyzer may declare; the conformance suite tests each one declared.
INVARIANCES: frozenset[str] = frozenset({
    "orthogonal",          # f(XQ, Y) == f(X, Y) for orthogonal Q (feature rotation)
    "isotropic_scaling",   # f(cX, Y) == f(X, Y), c > 0
    "translation",         # f(X + b, Y) == f(X, Y) for a row vector b
    "invertible_linear",   # f(XA, Y) == f(X, Y) for invertible A
    "feature_permutation", # f(X[:, p], Y) == f(X, Y)
})

COMPONENT_ID_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")
_VERSION_RE = re.compile(r"^\d+(\.\d+)*([.-]?[0-9A-Za-z.+-]*)?$")


@dataclass(frozen=True)
class Tags:
    """Capability tags; the conformance suite picks its checks from them.

    Parameters
    ----------
    symmetric : bool, default=False
        ``f(x, y) == f(y, x)`` (analyzers).
    larger_is_more_similar : bool or None, default=None
        Direction of an analyzer's score: True for similarities (CKA, RSA correlation),
        False for distances (Procrustes distance), None when not a similarity.
    invariances : tuple of str, default=()
        Members of :data:`INVARIANCES` the score is invariant to.
    maximum : float or None, default=None
        Score of identical inputs when it is the bound (1.0 for CKA); for distances
        ``larger_is_more_similar=False`` and ``maximum`` is the minimum (0.0).
    stochastic : bool, default=False
        Output depends on ``random_state``; the component must take a ``random_state`` parameter.
    needs_gpu : bool, default=False
    needs_weights : bool, default=False
        Needs pretrained weights shipped by a package.
    allow_nan : bool, default=False
        Accepts NaN in its input instead of raising.
    input_type : {"representation", "rdm", "any"}, default="representation"
        What an analyzer or transform takes.
    """

    symmetric: bool = False
    larger_is_more_similar: bool | None = None
    invariances: tuple[str, ...] = ()
    maximum: float | None = None
    stochastic: bool = False
    needs_gpu: bool = False
    needs_weights: bool = False
    allow_nan: bool = False
    input_type: str = "representation"

    def as_dict(self) -> dict[str, Any]:
        return {
            "symmetric": self.symmetric, "larger_is_more_similar": self.larger_is_more_similar,
            "invariances": list(self.invariances), "maximum": self.maximum,
            "stochastic": self.stochastic, "needs_gpu": self.needs_gpu,
            "needs_weights": self.needs_weights, "allow_nan": self.allow_nan,
            "input_type": self.input_type,
        }


_PARAM_MODEL_CACHE: dict[type, Any] = {}


class Component:
    """Base of every component. Subclasses set the class attributes below.

    Attributes
    ----------
    id : str
        Lowercase ``<family>.<variant>``, e.g. ``"cka.linear"``; unique across all plugins.
    kind : str
        One of :data:`KINDS` (set by the kind base class).
    version : str
        The component's own version (enters cache keys: bump it when results change).
    citation : str or None
        The paper the component implements (authors, year, venue, DOI/arXiv).
    tags : Tags
    Params : pydantic model class or None
        Explicit parameter model; when None it is derived from ``__init__``'s signature.
    """

    id: ClassVar[str]
    kind: ClassVar[str]
    version: ClassVar[str] = "0.0.0"
    citation: ClassVar[str | None] = None
    description: ClassVar[str] = ""
    tags: ClassVar[Tags] = Tags()
    Params: ClassVar[type[BaseModel] | None] = None

    # ------------------------------------------------------------- parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        sig = inspect.signature(init)
        names = []
        for name, p in sig.parameters.items():
            if name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ComponentDeclarationError(
                    f"Component {getattr(cls, 'id', cls.__name__)!r}: __init__ must list its parameters "
                    f"explicitly (no *args/**kwargs), got {sig}.")
            names.append(name)
        return names

    @classmethod
    def param_model(cls) -> type[BaseModel]:
        """The pydantic v2 model (``extra="forbid"``) that validates this component's parameters."""
        if cls.Params is not None:
            return cls.Params
        cached = _PARAM_MODEL_CACHE.get(cls)
        if cached is not None:
            return cached
        from typing import get_type_hints

        from pydantic import ConfigDict, create_model

        sig = inspect.signature(cls.__init__)
        try:
            hints = get_type_hints(cls.__init__)
        except Exception:  # unresolved forward refs: fall back to Any
            hints = {}
        fields: dict[str, Any] = {}
        for name in cls._param_names():
            p = sig.parameters[name]
            ann = hints.get(name, Any)
            default = ... if p.default is inspect.Parameter.empty else p.default
            fields[name] = (ann, default)
        model_name = "Params_" + re.sub(r"\W", "_", getattr(cls, "id", cls.__name__))
        model = create_model(model_name, __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
                             **fields)
        _PARAM_MODEL_CACHE[cls] = model
        return model

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        out = {}
        for name in self._param_names():
            if not hasattr(self, name):
                raise ComponentDeclarationError(
                    f"Component {self._label()}: __init__ takes {name!r} but does not store it as "
                    f"self.{name}; constructors must store each parameter under its own name.")
            out[name] = getattr(self, name)
        return out

    def set_params(self, **params: Any) -> Component:
        valid = set(self._param_names())
        for k, v in params.items():
            if k not in valid:
                raise InvalidInputError(
                    f"Component {self._label()}: unknown parameter {k!r}; valid parameters are {sorted(valid)}. "
                    "Check the list with component.get_params().keys().")
            setattr(self, k, v)
        return self

    def clone(self) -> Component:
        """A new unfitted instance with the same parameters."""
        return type(self)(**copy.deepcopy(self.get_params()))

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None = None) -> Component:
        """Validate ``params`` with :meth:`param_model` and build the component."""
        model = cls.param_model()
        validated = model.model_validate(dict(params or {}))
        kwargs = {k: getattr(validated, k) for k in model.model_fields}
        return cls(**kwargs)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Declaration as plain data (for ``neurorep plugins --json``)."""
        try:
            schema = cls.param_model().model_json_schema()
        except Exception as exc:  # a non-serialisable type in the signature
            schema = {"error": str(exc)}
        return {
            "id": cls.id, "kind": cls.kind, "version": cls.version, "citation": cls.citation,
            "description": cls.description or (inspect.getdoc(cls) or "").split("\n")[0],
            "tags": cls.tags.as_dict(), "params": schema,
            "class": f"{cls.__module__}:{cls.__qualname__}",
        }

    def _label(self) -> str:
        return repr(getattr(type(self), "id", type(self).__name__))

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        except Exception:
            args = "..."
        return f"{type(self).__name__}({args})"


# --------------------------------------------------------------------------- kinds

class Dataset(Component):
    """A dataset: a card (sources, checksums, licence, citation) and loaders.

    A dataset that holds measured responses is also usable as a source in a recipe:
    override :meth:`sites` and :meth:`load`.
    """

    kind: ClassVar[str] = "dataset"

    def card(self) -> dict[str, Any]:
        """The dataset card: ``{"files": [{"name", "url", "sha256"}], "license", "citation", ...}``."""
        return {}

    def load_stimuli(self) -> StimulusSet | None:
        """The stimuli, or None when the dataset has none."""
        return None

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        """Names of the representations the dataset holds (ROIs, subjects...); cheap to call."""
        return []

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation | RDMs:
        raise LookupError(f"Dataset {self._label()} holds no representations; got a request for site {site!r}.")


class Model(Component):
    """A buildable model exposing named sites (TransformerLens names where an adapter exists)."""

    kind: ClassVar[str] = "model"

    @abc.abstractmethod
    def build(self, device: str = "cpu") -> Any:
        """Return the model (e.g. a ``torch.nn.Module`` in eval mode)."""

    @abc.abstractmethod
    def sites(self) -> list[str]:
        """Canonical site names, cheap to call (no weights loaded)."""


class Source(Component):
    """Turns stimuli into representations, one per site.

    Required: :meth:`sites` (cheap) and :meth:`load`. Sources that process stimuli in
    batches (model activations) also implement :meth:`batches` and :meth:`extract_batch`,
    which lets the runner stream into the representation store and resume after a kill.
    """

    kind: ClassVar[str] = "source"

    @abc.abstractmethod
    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        """Site names this source can produce; must not load weights or data."""

    @abc.abstractmethod
    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation | RDMs:
        """The representation at ``site`` (all stimuli)."""

    def batches(self, stimuli: StimulusSet | None) -> list[slice] | None:
        """Stimulus slices to process one at a time, or None (no streaming)."""
        return None

    def extract_batch(self, stimuli: StimulusSet | None, batch: slice, sites: Sequence[str]) -> dict[str, np.ndarray]:
        """Responses of the stimuli in ``batch`` at ``sites``: ``{site: (batch_len, n_features)}``."""
        raise TypeError(f"Source {self._label()} does not stream batches (batches() returned None).")

    def stimulus_ids(self, stimuli: StimulusSet | None) -> tuple[str, ...]:
        """The ids of the rows produced (the stimuli's ids by default)."""
        if stimuli is None:
            raise InvalidInputError(f"Source {self._label()} needs stimuli; the recipe gave none.")
        return stimuli.ids

    def site_space(self, site: str) -> dict[str, Any]:
        """Provenance of the feature space at ``site``."""
        return {"site": site}


class Estimator(Component):
    """A fitted map (scikit-learn style): decomposers (PCA, SAE, SNMF), encoders, decoders."""

    kind: ClassVar[str] = "estimator"

    @abc.abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> Estimator:
        """Fit and return self."""

    def transform(self, X: np.ndarray) -> np.ndarray:
        raise TypeError(f"Estimator {self._label()} has no transform(); use predict().")

    def predict(self, X: np.ndarray) -> np.ndarray:
        raise TypeError(f"Estimator {self._label()} has no predict(); use transform().")


class Analyzer(Component):
    """One or two representations (or RDMs) -> tidy result rows.

    Attributes
    ----------
    n_inputs : int
        1 (e.g. sparsity of one representation) or 2 (a comparison).
    """

    kind: ClassVar[str] = "analyzer"
    n_inputs: ClassVar[int] = 2

    @abc.abstractmethod
    def analyze(self, x: Representation | RDMs, y: Representation | RDMs | None = None) -> list[Result]:
        """Return result rows; the first row's ``score`` is the headline figure."""


class Transform(Component):
    """A pluggable step applied to representations or RDMs before analysis (e.g. rank, thresholds)."""

    kind: ClassVar[str] = "transform"
    #: What :meth:`transform` returns: ``"same"`` (the input's type) or ``"rdm"`` (always RDMs,
    #: e.g. a transform defined on dissimilarities that turns a representation into its RDM first).
    output_type: ClassVar[str] = "same"

    @abc.abstractmethod
    def transform(self, x: Representation | RDMs) -> Representation | RDMs:
        """Return a transformed copy; never modify ``x``."""


class Intervention(Component):
    """A reversible model edit (steering, patching, clamping, quantization)."""

    kind: ClassVar[str] = "intervention"

    @abc.abstractmethod
    def apply(self, model: Any) -> Any:
        """Apply to ``model`` and return a handle whose ``remove()`` undoes the edit exactly."""

    @contextmanager
    def applied(self, model: Any) -> Iterator[Any]:
        """Context manager: the edit is active inside the block and removed after it."""
        handle = self.apply(model)
        try:
            yield model
        finally:
            handle.remove()


class Generator(Component):
    """An objective or target -> stimuli (images, text)."""

    kind: ClassVar[str] = "generator"

    @abc.abstractmethod
    def generate(self, n: int, target: Any = None, random_state: int | None = None) -> StimulusSet:
        """Return ``n`` stimuli, reproducible for a given ``random_state``."""


class ReportSection(Component):
    """A section of the HTML report."""

    kind: ClassVar[str] = "report_section"
    order: ClassVar[int] = 100

    @abc.abstractmethod
    def render(self, results: Any, run: Mapping[str, Any]) -> str:
        """Return an HTML fragment (self-contained: images embedded as data URIs)."""


_KIND_BASES = {c.kind: c for c in (Dataset, Model, Source, Estimator, Analyzer, Transform, Intervention,
                                   Generator, ReportSection)}


def validate_component_class(cls: Any, expected_kind: str | None = None) -> None:
    """Raise :class:`ComponentDeclarationError` unless ``cls`` is a well-declared component class."""
    label = getattr(cls, "id", None) or getattr(cls, "__name__", repr(cls))
    if not (isinstance(cls, type) and issubclass(cls, Component)):
        raise ComponentDeclarationError(
            f"{label!r}: register() expects a Component subclass (e.g. class X(neurorep.Analyzer)), "
            f"got {type(cls).__name__} {cls!r}.")
    cid = getattr(cls, "id", None)
    if not isinstance(cid, str) or not COMPONENT_ID_RE.match(cid):
        raise ComponentDeclarationError(
            f"Component class {cls.__qualname__}: id must be lowercase '<family>.<variant>' "
            f"(e.g. 'cka.linear'), got {cid!r}.")
    kind = getattr(cls, "kind", None)
    if kind not in KINDS:
        raise ComponentDeclarationError(
            f"Component {cid!r}: kind must be one of {sorted(KINDS)}, got {kind!r}. Subclass one of the "
            "kind base classes (neurorep.Analyzer, neurorep.Source, ...).")
    if expected_kind is not None and kind != expected_kind:
        raise ComponentDeclarationError(
            f"Component {cid!r} has kind {kind!r} but was registered through {KINDS[expected_kind]!r}, "
            f"which takes kind {expected_kind!r}; register it through {KINDS[kind]!r}.")
    if not issubclass(cls, _KIND_BASES[kind]):
        raise ComponentDeclarationError(
            f"Component {cid!r}: kind {kind!r} components must subclass neurorep.{_KIND_BASES[kind].__name__}.")
    if inspect.isabstract(cls):
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        raise ComponentDeclarationError(f"Component {cid!r}: does not implement {missing}.")
    if not isinstance(cls.version, str) or not _VERSION_RE.match(cls.version):
        raise ComponentDeclarationError(f"Component {cid!r}: version must be a version string like '1.0.0', "
                                        f"got {cls.version!r}.")
    if not isinstance(cls.tags, Tags):
        raise ComponentDeclarationError(f"Component {cid!r}: tags must be a neurorep.Tags, got {type(cls.tags).__name__}.")
    bad = set(cls.tags.invariances) - INVARIANCES
    if bad:
        raise ComponentDeclarationError(
            f"Component {cid!r}: unknown invariance(s) {sorted(bad)}; known: {sorted(INVARIANCES)}.")
    if cls.tags.stochastic and "random_state" not in cls._param_names():
        raise ComponentDeclarationError(
            f"Component {cid!r} is tagged stochastic but its __init__ has no 'random_state' parameter; "
            "add random_state: int | None = 0 so results are reproducible.")
    if kind == "transform" and getattr(cls, "output_type", "same") not in ("same", "rdm"):
        raise ComponentDeclarationError(
            f"Transform {cid!r}: output_type must be 'same' or 'rdm', got {cls.output_type!r}.")
    if kind == "analyzer" and getattr(cls, "n_inputs", 2) not in (1, 2):
        raise ComponentDeclarationError(f"Analyzer {cid!r}: n_inputs must be 1 or 2, got {cls.n_inputs!r}.")
    cls._param_names()  # raises on *args/**kwargs
