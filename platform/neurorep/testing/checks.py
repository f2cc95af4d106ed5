"""Component-level conformance checks and the generator that picks them by kind and tags.

Every check is a plain function ``check_<name>(component)`` that raises
:class:`~neurorep.testing.ConformanceError` (an ``AssertionError``) naming the component,
what was expected and what was found. Checks never modify the component they are given:
they work on deep copies.
"""

from __future__ import annotations

import builtins
import copy
import functools
import inspect
import io
import json
import os
import pickle
import re
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..components import (
    Component,
    Estimator,
    Source,
    Tags,
    validate_component_class,
)
from ..errors import ComponentDeclarationError
from ..types import RDMs, Representation, Result, StimulusSet
from . import _data
from ._common import fail, fmt_scores, scores_close, values_equal, who
from ._toml import toml_params_fragment

__all__ = [
    "yield_checks",
    "conformance_instances",
    "check_declaration",
    "check_citation",
    "check_docstring_params",
    "check_init_stores_params_only",
    "check_get_params_roundtrip",
    "check_pickle",
    "check_result_schema",
    "check_inputs_not_mutated",
    "check_determinism",
    "check_stimulus_order_invariance",
    "check_aligns_by_stimulus_id",
    "check_identity_max",
    "check_declared_invariances",
    "check_symmetry",
    "check_informative_errors_nan",
    "check_informative_errors_mismatched_ids",
    "check_sites_cheap_and_valid",
    "check_stimulus_ids_unique_stable",
    "check_load_shape",
    "check_streaming_matches_load",
    "check_transform_output",
    "check_fit_returns_self",
    "check_estimator_output_shape",
    "check_seeded_output",
    "STATIC_CHECKS",
]

#: Kinds whose components may opt out of a citation by setting ``citation = None`` in the class body.
CITATION_OPTIONAL_KINDS: frozenset[str] = frozenset({"source", "dataset", "report_section"})

#: Checks that only inspect the class and its constructor (they run on any machine, GPU or not).
STATIC_CHECKS: frozenset[str] = frozenset({
    "check_declaration", "check_citation", "check_docstring_params", "check_init_stores_params_only",
    "check_get_params_roundtrip",
})

_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_SITE_BAD = re.compile(r"[/\\\x00-\x1f\x7f]")

#: Seconds ``sites()`` may take, and ``__init__`` with the parameters.
SITES_BUDGET_S = 2.0
INIT_BUDGET_S = 1.0


# =========================================================================== instances and helpers

def conformance_instances(component: Any) -> list[Component]:
    """The instances the suite tests for ``component`` (an instance, or a class).

    An instance is tested as given. For a class, ``cls._conformance_instances()`` is used
    when the class defines it, and ``cls()`` (default parameters) otherwise.

    Raises
    ------
    TypeError
        When a class cannot be built with its default parameters and defines no
        ``_conformance_instances``.
    """
    if not isinstance(component, type):
        return [component]
    factory = getattr(component, "_conformance_instances", None)
    if factory is not None:
        out = list(factory())
        if not out:
            raise TypeError(f"{who(component)}: _conformance_instances() returned no instance; return at least one.")
        return out
    try:
        return [component()]
    except TypeError as exc:
        raise TypeError(
            f"{who(component)} cannot be built with its default parameters ({exc}). Give the class a "
            "classmethod _conformance_instances() that returns small instances to test, or pass instances "
            "to the conformance suite.") from exc


def _stimuli(component: Any) -> StimulusSet | None:
    """The stimuli a source is tested with: ``component._conformance_stimuli()`` or None."""
    factory = getattr(component, "_conformance_stimuli", None)
    return None if factory is None else factory()


def _tags(component: Any) -> Tags:
    t = getattr(type(component), "tags", None)
    return t if isinstance(t, Tags) else Tags()


def _cid(component: Any) -> str:
    cid = getattr(type(component), "id", None)
    return cid if isinstance(cid, str) else type(component).__name__


def _fresh(component: Any) -> Any:
    """A deep copy of the component (checks never touch the instance they are given)."""
    return copy.deepcopy(component)


def _seeded(component: Any) -> Any:
    """A deep copy whose ``random_state`` is set (0) when it is tagged stochastic and left at None."""
    c = _fresh(component)
    if _tags(c).stochastic and getattr(c, "random_state", None) is None:
        c.random_state = 0
    return c


def _param_values(component: Any) -> dict[str, Any]:
    """The constructor parameters as stored on the instance (missing ones as a marker string)."""
    return {n: getattr(component, n, "<not stored>") for n in type(component)._param_names()}


def _get_params(component: Any, check: str) -> dict[str, Any]:
    try:
        return component.get_params()
    except ComponentDeclarationError as exc:
        fail(who(component), check, "get_params() to return the constructor parameters", str(exc),
             "store every __init__ parameter as self.<name>, unchanged.")


def _plain(v: Any) -> Any:
    """Parameters as plain data (tuples as lists, numpy scalars as Python numbers)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _close_deep(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating, int, np.integer)):
        return scores_close(a, b, rtol=rtol, atol=atol)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_close_deep(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close_deep(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    return values_equal(a, b)


def _rows(rows: Sequence[Result]) -> list[dict[str, Any]]:
    return [dict(r.to_row(), extra=r.extra) for r in rows]


def _scores(rows: Sequence[Result]) -> list[float]:
    return [float(r.score) for r in rows]


def _same_scores(a: Sequence[Result], b: Sequence[Result], *, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    sa, sb = _scores(a), _scores(b)
    return len(sa) == len(sb) and all(scores_close(x, y, rtol=rtol, atol=atol) for x, y in zip(sa, sb, strict=True))


def _is_analyzer(c: Any) -> bool:
    return getattr(type(c), "kind", None) == "analyzer"


def _analyze(component: Any, x: Any, y: Any = None) -> list[Result]:
    if getattr(type(component), "n_inputs", 2) == 1:
        return component.analyze(x)
    return component.analyze(x, y)


def _analyzer_inputs(component: Any, seed: int = 0) -> tuple[Any, Any, Any, tuple[Representation, ...]]:
    """Toy ``x``, related ``y`` and unrelated ``u`` in the analyzer's input type, and the raw representations."""
    reps = _data.toy_triplet(seed)
    t = _tags(component).input_type
    x, y, u = (_data.as_analyzer_input(r, t) for r in reps)
    return x, y, u, reps


def _transform_inputs(component: Any) -> list[Any]:
    x, _, _ = _data.toy_triplet(0)
    t = _tags(component).input_type
    if t == "rdm":
        return [_data.to_rdms(x)]
    if t == "any":
        return [x, _data.to_rdms(x)]
    return [x]


def _estimator_data(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([3, 5])
    X = rng.standard_normal((n, 6))
    Y = X @ rng.standard_normal((6, 2)) + 0.1 * rng.standard_normal((n, 2))
    return X, Y


def _overrides(component: Any, base: type, name: str) -> bool:
    return getattr(type(component), name, None) is not getattr(base, name)


def _estimator_run(est: Any, X: np.ndarray, Y: np.ndarray, *, X_new: np.ndarray | None = None) -> dict[str, Any]:
    """Fit ``est`` (in place) and return its outputs on ``X_new`` (default ``X``)."""
    supervised = _overrides(est, Estimator, "predict")
    est.fit(X, Y) if supervised else est.fit(X)
    Xn = X if X_new is None else X_new
    out: dict[str, Any] = {}
    if _overrides(est, Estimator, "transform"):
        out["transform"] = np.asarray(est.transform(Xn))
    if supervised:
        out["predict"] = np.asarray(est.predict(Xn))
    return out


def _outputs(component: Any) -> Any:
    """What a component produces on toy data (used by determinism and pickling checks)."""
    kind = getattr(type(component), "kind", None)
    if kind == "analyzer":
        x, y, _, _ = _analyzer_inputs(component)
        return _rows(_analyze(component, x, y))
    if kind == "source":
        stim = _stimuli(component)
        site = list(component.sites(stim))[0]
        out = component.load(site, stim)
        return _data.snapshot(out)
    if kind == "transform":
        return [_data.snapshot(component.transform(inp)) for inp in _transform_inputs(component)]
    if kind == "estimator":
        X, Y = _estimator_data()
        return _estimator_run(component, X, Y)
    if kind == "generator":
        s = component.generate(4, random_state=0)
        return (tuple(s.ids), s.payload)
    return None


@contextmanager
def _watch_file_opens() -> Iterator[list[str]]:
    """Record the files opened (through ``open``, ``io.open`` or ``os.open``) inside the block."""
    opened: list[str] = []
    real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def spy_os_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(path))
        return real_os_open(path, *args, **kwargs)

    builtins.open = spy_open
    io.open = spy_open
    os.open = spy_os_open
    try:
        yield opened
    finally:
        builtins.open, io.open, os.open = real_open, real_io_open, real_os_open


def _expect_value_error(component: Any, check: str, call: Callable[[], Any], situation: str, fix: str) -> None:
    """``call()`` must raise a ValueError whose message contains the component id."""
    cid = _cid(component)
    try:
        out = call()
    except ValueError as exc:
        if cid not in str(exc):
            fail(who(component), check, f"the ValueError for {situation} to name the component id {cid!r}",
                 f"the message {str(exc)!r}",
                 "start the message with f\"Analyzer {self.id!r}: ...\" (pass owner=... to neurorep.align), "
                 "so a user running many components knows which one complained.")
        return
    except Exception as exc:
        fail(who(component), check, f"a ValueError (e.g. neurorep.InvalidInputError) for {situation}",
             f"{type(exc).__name__}: {exc}", fix)
    is_rows = isinstance(out, list) and all(isinstance(r, Result) for r in out)
    scores = fmt_scores(_scores(out)) if is_rows else repr(out)
    fail(who(component), check, f"a ValueError naming the component for {situation}",
         f"no error: it returned {scores}", fix)


# =========================================================================== every component

def check_declaration(component: Any) -> None:
    """The class is a well-declared component: id grammar, kind, version, tags, implemented methods."""
    try:
        validate_component_class(type(component))
    except ComponentDeclarationError as exc:
        fail(who(component), "check_declaration", "a valid component declaration", str(exc))


def check_citation(component: Any) -> None:
    """A citation of the method (authors, year, venue, DOI/arXiv) is declared.

    Sources, datasets and report sections may opt out with an explicit ``citation = None``
    in their class body (synthetic or bring-your-own data, utilities).
    """
    cls = type(component)
    cit = getattr(cls, "citation", None)
    kind = getattr(cls, "kind", None)
    if cit is None:
        deliberate = any("citation" in vars(k) for k in cls.__mro__ if k is not Component)
        if kind in CITATION_OPTIONAL_KINDS and deliberate:
            return
        opt_out = (" (or set citation = None in the class body when it implements no published method)"
                   if kind in CITATION_OPTIONAL_KINDS else "")
        fail(who(component), "check_citation", "a citation string (authors, year, venue, DOI or arXiv id)",
             "citation is None" + ("" if kind in CITATION_OPTIONAL_KINDS else f"; {kind} components must cite "
                                   "the method they implement"),
             "set the class attribute citation = \"Authors (year). Title. Venue. doi:...\"" + opt_out + ".")
    if not isinstance(cit, str) or not cit.strip():
        fail(who(component), "check_citation", "a non-empty citation string", f"{cit!r}",
             "set citation = \"Authors (year). Title. Venue. doi:...\".")
    if not _YEAR.search(cit):
        fail(who(component), "check_citation", "a citation with a publication year (e.g. 'Kornblith et al. (2019) "
             "ICML, arXiv:1905.00414')", f"{cit!r}",
             "cite the paper the component implements: authors, year, venue and a DOI or arXiv id.")


def _doc_params(doc: str) -> list[str] | None:
    """Names in the numpydoc ``Parameters`` section of ``doc`` (None when there is no such section)."""
    lines = doc.splitlines()
    start = None
    for i in range(len(lines) - 1):
        if lines[i].strip() == "Parameters" and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]):
            start = i + 2
            break
    if start is None:
        return None
    names: list[str] = []
    for j in range(start, len(lines)):
        line = lines[j]
        if j + 1 < len(lines) and line.strip() and re.fullmatch(r"\s*-{3,}\s*", lines[j + 1]):
            break  # next section header
        if not line.strip() or line[0].isspace():
            continue
        head = line.split(" : ", 1)[0].strip().rstrip(":")
        for part in head.split(","):
            part = part.strip().lstrip("*")
            if re.fullmatch(r"[A-Za-z_]\w*", part):
                names.append(part)
    return names


def check_docstring_params(component: Any) -> None:
    """The numpydoc ``Parameters`` section of the class (or ``__init__``) lists exactly the ``__init__`` parameters."""
    cls = type(component)
    params = cls._param_names()
    if not params:
        return
    # the first 'Parameters' section of: the class docstring; the docstring of the class whose __init__ is
    # used (a subclass that only overrides methods inherits its parameters' documentation); __init__'s docstring
    owner = next((k for k in cls.__mro__ if "__init__" in vars(k)), cls)
    documented: list[str] | None = None
    for doc in (inspect.getdoc(cls), inspect.getdoc(owner) if owner is not cls else None,
                inspect.getdoc(cls.__init__)):
        documented = _doc_params(doc) if doc else None
        if documented is not None:
            break
    if documented is None:
        fail(who(component), "check_docstring_params",
             f"a numpydoc 'Parameters' section documenting {params}", "no 'Parameters' section in the class "
             "or __init__ docstring", "add 'Parameters\\n----------\\nname : type, default=...\\n    meaning' "
             "to the class docstring.")
    missing = [p for p in params if p not in documented]
    extra = [p for p in documented if p not in params]
    if missing or extra:
        found = []
        if missing:
            found.append(f"undocumented parameter(s) {missing}")
        if extra:
            found.append(f"documented name(s) {extra} that __init__ does not take")
        fail(who(component), "check_docstring_params", f"the 'Parameters' section to list exactly {params}",
             " and ".join(found), "keep the docstring in step with the __init__ signature.")


def check_init_stores_params_only(component: Any) -> None:
    """``__init__`` stores each parameter unchanged under its own name, sets nothing else and opens no file."""
    check = "check_init_stores_params_only"
    cls = type(component)
    try:
        names = cls._param_names()
    except ComponentDeclarationError as exc:
        fail(who(component), check, "__init__ with explicit parameters", str(exc))
    sig = inspect.signature(cls.__init__)
    kwargs: dict[str, Any] = {}
    not_stored = []
    for n in names:
        if hasattr(component, n):
            kwargs[n] = getattr(component, n)
        elif sig.parameters[n].default is not inspect.Parameter.empty:
            kwargs[n] = sig.parameters[n].default
        else:
            not_stored.append(n)
    if not_stored:
        fail(who(component), check, "every __init__ parameter stored as self.<name>",
             f"parameter(s) {not_stored} are not attributes of the instance",
             "write self.<name> = <name> for each parameter in __init__.")
    t0 = time.perf_counter()
    with _watch_file_opens() as opened:
        fresh = cls(**kwargs)
    elapsed = time.perf_counter() - t0
    if opened:
        fail(who(component), check, "a constructor that opens no file", f"__init__ opened {opened[:5]}",
             "store the path and open the file in the method that needs it (sites(), load(), analyze()).")
    if elapsed > INIT_BUDGET_S:
        fail(who(component), check, f"a constructor that only stores parameters (< {INIT_BUDGET_S:g} s)",
             f"__init__ took {elapsed:.2f} s", "do the work lazily, in the method that needs it.")
    attrs = set(vars(fresh))
    missing = [n for n in names if n not in attrs]
    if missing:
        fail(who(component), check, "every __init__ parameter stored as self.<name>",
             f"parameter(s) {missing} are not stored under their own name (instance attributes: {sorted(attrs)})",
             "write self.<name> = <name> for each parameter in __init__.")
    extra = sorted(attrs - set(names))
    if extra:
        fail(who(component), check, "no attribute set in __init__ apart from the parameters",
             f"attribute(s) {extra}",
             "compute derived state in the method that needs it (name fitted state with a trailing underscore, "
             "e.g. self.components_ in fit()).")
    changed = [n for n in names if not (getattr(fresh, n) is kwargs[n] or values_equal(getattr(fresh, n), kwargs[n]))]
    if changed:
        fail(who(component), check, "parameters stored unchanged",
             "; ".join(f"{n}: passed {kwargs[n]!r}, stored {getattr(fresh, n)!r}" for n in changed),
             "store the value as given and validate or convert it where it is used.")


def check_get_params_roundtrip(component: Any) -> None:
    """``clone()``, JSON -> ``from_params`` and a recipe TOML ``params = {...}`` line give back the same parameters."""
    check = "check_get_params_roundtrip"
    cls = type(component)
    params = _get_params(component, check)
    clone = component.clone()
    if clone is component or type(clone) is not cls:
        fail(who(component), check, "clone() to return a new instance of the same class", repr(clone))
    cparams = _get_params(clone, check)
    if not values_equal(cparams, params):
        fail(who(component), check, f"clone() to keep the parameters {params!r}", f"{cparams!r}")
    # JSON, as the runner ships task parameters
    try:
        text = json.dumps(params)
    except TypeError as exc:
        fail(who(component), check, "JSON-serialisable parameters (str, int, float, bool, None, lists, dicts)",
             f"{params!r} ({exc})", "take plain values (a path, a name, a number) and build objects in the "
             "method that uses them.")
    try:
        back = cls.from_params(json.loads(text))
    except Exception as exc:
        fail(who(component), check, f"from_params() to accept its own parameters {text}",
             f"{type(exc).__name__}: {exc}", "make the __init__ type hints describe the values get_params() returns.")
    if not values_equal(_plain(_get_params(back, check)), _plain(params)):
        fail(who(component), check, f"params -> JSON -> from_params() to give {params!r}",
             f"{_get_params(back, check)!r}")
    # TOML, as a recipe holds them
    sig = inspect.signature(cls.__init__)
    writable = {}
    for k, v in params.items():
        if v is None:
            default = sig.parameters[k].default
            if default is not None:
                fail(who(component), check, "every parameter expressible in a TOML recipe",
                     f"{k}=None while its default is {default!r} (TOML has no null, so a recipe cannot ask for None)",
                     f"make None the default of {k!r}, or use a sentinel value TOML can hold.")
            continue
        writable[k] = v
    try:
        fragment = toml_params_fragment(writable)
    except TypeError as exc:
        fail(who(component), check, "parameters a TOML recipe can hold", f"{params!r} ({exc})")
    try:
        loaded = tomllib.loads(fragment)["params"]
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a bug in the writer, not the component
        fail(who(component), check, "a parseable TOML fragment", f"{fragment!r} ({exc})")
    try:
        back = cls.from_params(loaded)
    except Exception as exc:
        fail(who(component), check, f"param_model() to validate the recipe line {fragment.strip()!r}",
             f"{type(exc).__name__}: {exc}", "make the __init__ type hints accept what a recipe can write "
             "(lists for sequences, strings for paths).")
    if not values_equal(_plain(_get_params(back, check)), _plain(params)):
        fail(who(component), check, f"the recipe line {fragment.strip()!r} to rebuild {params!r}",
             f"{_get_params(back, check)!r}")


def check_pickle(component: Any) -> None:
    """A pickle round trip keeps the parameters and, after use, the outputs (workers receive pickled components)."""
    check = "check_pickle"
    c = _seeded(component)
    kind = getattr(type(c), "kind", None)
    before = _outputs(c) if kind in ("analyzer", "estimator") else None
    try:
        blob = pickle.dumps(c)
    except Exception as exc:
        fail(who(component), check, "a picklable instance" + (" (after use)" if before is not None else ""),
             f"{type(exc).__name__}: {exc}",
             "keep only picklable state: no lambdas, open files, locks or locally defined classes; define "
             "functions at module level.")
    c2 = pickle.loads(blob)
    if type(c2) is not type(c):
        fail(who(component), check, f"an instance of {type(c).__name__} after unpickling", type(c2).__name__)
    p1, p2 = _param_values(c), _param_values(c2)
    if not values_equal(p1, p2):
        fail(who(component), check, f"the parameters {p1!r} after unpickling", f"{p2!r}")
    if kind == "analyzer":
        x, y, _, _ = _analyzer_inputs(c2)
        after = _rows(_analyze(c2, x, y))
        if not _close_deep(before, after, 1e-9, 1e-12):
            fail(who(component), check,
                 f"the same result rows after unpickling ({fmt_scores(r['score'] for r in before)})",
                 f"{fmt_scores(r['score'] for r in after)}")
    elif kind == "estimator":
        X, _ = _estimator_data()
        after = {}
        if "transform" in before:
            after["transform"] = np.asarray(c2.transform(X))
        if "predict" in before:
            after["predict"] = np.asarray(c2.predict(X))
        if not _close_deep(before, after, 1e-9, 1e-12):
            fail(who(component), check, "the fitted estimator to give the same outputs after unpickling",
                 "different outputs")


# =========================================================================== analyzers

def check_result_schema(component: Any) -> None:
    """``analyze`` returns a non-empty list of :class:`~neurorep.Result` with a finite headline score, ``n >= 1``
    and JSON-serialisable ``extra``."""
    check = "check_result_schema"
    x, y, _, _ = _analyzer_inputs(component)
    rows = _analyze(_fresh(component), x, y)
    if not isinstance(rows, list) or not rows:
        fail(who(component), check, "a non-empty list of neurorep.Result", repr(rows)[:200],
             "return [Result(score=..., metric=..., n=...)].")
    for i, r in enumerate(rows):
        if not isinstance(r, Result):
            fail(who(component), check, "a list of neurorep.Result", f"element {i} is a {type(r).__name__}")
        if isinstance(r.score, (bool, np.bool_)) or not isinstance(r.score, (int, float, np.integer, np.floating)):
            fail(who(component), check, "a float score", f"row {i} score {r.score!r} ({type(r.score).__name__})",
                 "return float(score).")
        if not isinstance(r.metric, str) or not r.metric:
            fail(who(component), check, "a non-empty metric name", f"row {i} metric {r.metric!r}")
        if isinstance(r.n, (bool, np.bool_)) or not isinstance(r.n, (int, np.integer)) or r.n < 1:
            fail(who(component), check, "n >= 1 (observations behind the score)", f"row {i} n={r.n!r}",
                 "set n to the number of stimuli (or pairs, targets) the score is computed from.")
        try:
            json.dumps(r.extra)
        except TypeError as exc:
            fail(who(component), check, "a JSON-serialisable 'extra' dict", f"row {i}: {exc}",
                 "convert arrays with .tolist() and numpy scalars with float().")
        r.to_row()
    if not np.isfinite(float(rows[0].score)):
        fail(who(component), check, "a finite headline score on well-formed toy data", f"{rows[0].score!r}")


def check_inputs_not_mutated(component: Any) -> None:
    """The inputs' arrays, ids and metadata are unchanged after the call (analyzers, transforms, estimators)."""
    check = "check_inputs_not_mutated"
    kind = getattr(type(component), "kind", None)
    c = _seeded(component)
    if kind == "analyzer":
        x, y, _, _ = _analyzer_inputs(c)
        before = (_data.snapshot(x), _data.snapshot(y))
        _analyze(c, x, y)
        changed = [nm for nm, obj, snap in (("x", x, before[0]), ("y", y, before[1]))
                   if not _data.same_snapshot(_data.snapshot(obj), snap)]
    elif kind == "transform":
        changed = []
        for inp in _transform_inputs(c):
            snap = _data.snapshot(inp)
            c.transform(inp)
            if not _data.same_snapshot(_data.snapshot(inp), snap):
                changed.append(f"a {type(inp).__name__} input")
    elif kind == "estimator":
        X, Y = _estimator_data()
        X0, Y0 = X.copy(), Y.copy()
        _estimator_run(c, X, Y)
        changed = [nm for nm, a, b in (("X", X, X0), ("y", Y, Y0)) if not np.array_equal(a, b)]
    else:
        return
    if changed:
        fail(who(component), check, "inputs left unchanged", f"{', '.join(changed)} modified in place",
             "work on copies (e.g. X = x.data - x.data.mean(0), not x.data -= ...).")


def check_determinism(component: Any) -> None:
    """The same input twice, or to a fresh copy, gives the same output; for components tagged stochastic,
    under the same ``random_state``."""
    check = "check_determinism"
    c = _seeded(component)
    first = _outputs(c)
    second = _outputs(c)
    third = _outputs(_fresh(c))
    stochastic = _tags(component).stochastic
    what = f"random_state={getattr(c, 'random_state', None)!r}" if stochastic else "no random_state"
    for label, other in (("a second call", second), ("a fresh copy of the component", third)):
        if not _close_deep(first, other, 1e-9, 1e-12):
            if _is_analyzer(c):
                found = f"scores {fmt_scores(r['score'] for r in first)} then {fmt_scores(r['score'] for r in other)}"
            else:
                found = "different outputs"
            fail(who(component), check, f"the same output from {label} ({what})", found,
                 "seed every random draw from the random_state parameter "
                 "(np.random.default_rng(self.random_state)) and tag the component stochastic=True"
                 if not stochastic else "derive every random draw from self.random_state; never use the global "
                 "numpy or torch random state.")


def check_stimulus_order_invariance(component: Any) -> None:
    """Reordering the stimuli (rows and ids together, the same order for both inputs) leaves the scores unchanged."""
    check = "check_stimulus_order_invariance"
    c = _fresh(component)
    x, y, _, _ = _analyzer_inputs(c)
    perm = np.random.default_rng(5).permutation(len(x.stimulus_ids))
    base = _analyze(c, x, y)
    moved = _analyze(c, _data.permute(x, perm), _data.permute(y, perm))
    if not _same_scores(base, moved):
        fail(who(component), check, f"the scores {fmt_scores(_scores(base))} for reordered stimuli",
             f"{fmt_scores(_scores(moved))}", "compute statistics that do not depend on the row order "
             "(stimuli are a set; their ids are the join key).")


def check_aligns_by_stimulus_id(component: Any) -> None:
    """With ``y``'s rows in another order (ids moved along), the score is unchanged, or a ValueError naming the
    component says the orders differ (strict alignment)."""
    check = "check_aligns_by_stimulus_id"
    c = _fresh(component)
    x, y, _, _ = _analyzer_inputs(c)
    perm = np.random.default_rng(6).permutation(len(y.stimulus_ids))
    base = _analyze(c, x, y)
    try:
        moved = _analyze(c, x, _data.permute(y, perm))
    except ValueError as exc:
        if _cid(component) in str(exc):
            return  # strict alignment that says so
        fail(who(component), check, "a ValueError naming the component when it refuses differently ordered ids",
             repr(str(exc)))
    if not _same_scores(base, moved):
        fail(who(component), check, f"the scores {fmt_scores(_scores(base))} when y lists the same stimuli in "
             "another order", f"{fmt_scores(_scores(moved))}: rows were paired by position, not by stimulus id",
             "align the inputs first: x, y = neurorep.align(x, y, how=self.align, owner=f'Analyzer {self.id!r}').")


def check_identity_max(component: Any) -> None:
    """``analyze(x, x)`` equals ``tags.maximum`` (which bounds other scores), or is as similar as any other pair."""
    check = "check_identity_max"
    c = _fresh(component)
    tags = _tags(c)
    x, y, u, _ = _analyzer_inputs(c)
    sxx = _scores(_analyze(c, x, x))[0]
    others = {"a related y": _scores(_analyze(c, x, y))[0], "an unrelated y": _scores(_analyze(c, x, u))[0]}
    more = tags.larger_is_more_similar
    if tags.maximum is not None:
        if not scores_close(sxx, tags.maximum, rtol=1e-6, atol=1e-6):
            fail(who(component), check, f"analyze(x, x) == tags.maximum == {tags.maximum!r}", f"{sxx!r}",
                 "fix the score of identical inputs, or the declared maximum.")
        for what, s in others.items():
            if more is True and s > tags.maximum + 1e-6 or more is False and s < tags.maximum - 1e-6:
                fail(who(component), check, f"tags.maximum={tags.maximum!r} to bound every score",
                     f"{s!r} for {what}")
        return
    for what, s in others.items():
        if more is True and sxx < s - 1e-9:
            fail(who(component), check, "analyze(x, x) >= analyze(x, y) (larger_is_more_similar=True)",
                 f"analyze(x, x) = {sxx!r} < {s!r} for {what}",
                 "check the direction of the score, or tag larger_is_more_similar=False for a distance.")
        if more is False and sxx > s + 1e-9:
            fail(who(component), check, "analyze(x, x) <= analyze(x, y) (larger_is_more_similar=False)",
                 f"analyze(x, x) = {sxx!r} > {s!r} for {what}",
                 "check the direction of the score, or tag larger_is_more_similar=True for a similarity.")


def check_declared_invariances(component: Any, invariance: str) -> None:
    """The score is unchanged when ``x``'s features are transformed as the declared ``invariance`` says.

    For RDM-input analyzers the RDM is recomputed (Euclidean) from the transformed representation.
    """
    check = f"check_declared_invariances(invariance={invariance})"
    c = _fresh(component)
    x, y, _, reps = _analyzer_inputs(c)
    tx = _data.as_analyzer_input(_data.transform_features(reps[0], invariance), _tags(c).input_type)
    base = _analyze(c, x, y)
    moved = _analyze(c, tx, y)
    if not _same_scores(base, moved):
        fail(who(component), check, f"the same scores {fmt_scores(_scores(base))} after a(n) {invariance} transform "
             "of x's features", f"{fmt_scores(_scores(moved))}",
             f"remove {invariance!r} from tags.invariances, or fix the computation.")


def check_symmetry(component: Any) -> None:
    """``analyze(x, y)`` and ``analyze(y, x)`` give the same scores (components tagged ``symmetric``)."""
    check = "check_symmetry"
    c = _fresh(component)
    x, y, _, _ = _analyzer_inputs(c)
    a, b = _analyze(c, x, y), _analyze(c, y, x)
    if not _same_scores(a, b):
        fail(who(component), check, f"analyze(y, x) == analyze(x, y) = {fmt_scores(_scores(a))} (tagged symmetric)",
             f"{fmt_scores(_scores(b))}", "tag symmetric=False, or fix the computation.")


def check_informative_errors_nan(component: Any) -> None:
    """A NaN in an input raises a ValueError that names the component (unless tagged ``allow_nan``)."""
    check = "check_informative_errors_nan"
    c = _fresh(component)
    x, y, _, _ = _analyzer_inputs(c)
    fix = "call x.check_finite() on each input (and re-raise naming the component), or tag allow_nan=True."
    _expect_value_error(c, check, lambda: _analyze(c, _data.with_nan(x), y), "a NaN in x", fix)
    if getattr(type(c), "n_inputs", 2) == 2:
        _expect_value_error(c, check, lambda: _analyze(c, x, _data.with_nan(y)), "a NaN in y", fix)


def check_informative_errors_mismatched_ids(component: Any) -> None:
    """Inputs with disjoint stimulus ids raise a ValueError that names the component."""
    check = "check_informative_errors_mismatched_ids"
    c = _fresh(component)
    x, y, _, _ = _analyzer_inputs(c)
    _expect_value_error(c, check, lambda: _analyze(c, x, _data.rename_ids(y, "other")), "inputs with disjoint "
                        "stimulus ids", "align the inputs with neurorep.align(x, y, how=self.align, "
                        "owner=f'Analyzer {self.id!r}'), which raises a StimulusMismatchError.")


# =========================================================================== sources

def check_sites_cheap_and_valid(component: Any) -> None:
    """``sites()`` returns a non-empty list of unique, non-empty str names quickly (no weights or data loaded)."""
    check = "check_sites_cheap_and_valid"
    c = _fresh(component)
    stim = _stimuli(c)
    t0 = time.perf_counter()
    sites = c.sites(stim)
    elapsed = time.perf_counter() - t0
    if not isinstance(sites, (list, tuple)):
        fail(who(component), check, "sites() to return a list of str", f"a {type(sites).__name__}")
    if not sites:
        fail(who(component), check, "at least one site", "an empty list", "return the names of the layers/ROIs.")
    bad = [s for s in sites if not isinstance(s, str) or not s or s != s.strip() or _SITE_BAD.search(s)]
    if bad:
        fail(who(component), check, "site names that are non-empty str without slashes, control characters or "
             "surrounding spaces (they become store paths and recipe globs)", f"{bad[:5]!r}")
    dups = sorted({s for s in sites if list(sites).count(s) > 1})
    if dups:
        fail(who(component), check, "unique site names", f"duplicated {dups[:5]!r}")
    if elapsed > SITES_BUDGET_S:
        fail(who(component), check, f"sites() to be cheap (< {SITES_BUDGET_S:g} s)", f"{elapsed:.2f} s",
             "list site names without loading weights or data (e.g. from a config).")


def check_stimulus_ids_unique_stable(component: Any) -> None:
    """``stimulus_ids()`` returns unique str ids, the same on every call and for a copy of the component."""
    check = "check_stimulus_ids_unique_stable"
    c = _fresh(component)
    stim = _stimuli(c)
    a = c.stimulus_ids(stim)
    b = c.stimulus_ids(stim)
    d = _fresh(component).stimulus_ids(stim)
    if not isinstance(a, (tuple, list)) or not all(isinstance(s, str) for s in a):
        fail(who(component), check, "a tuple of str ids", repr(a)[:200])
    if not a:
        fail(who(component), check, "at least one stimulus id", "none")
    dups = sorted({s for s in a if list(a).count(s) > 1})
    if dups:
        fail(who(component), check, "unique stimulus ids", f"duplicated {dups[:5]!r}",
             "give every row its own id (e.g. append the repeat index).")
    if tuple(a) != tuple(b) or tuple(a) != tuple(d):
        fail(who(component), check, "the same ids on every call", f"{list(a)[:3]}... then {list(b)[:3]}...",
             "derive ids from the stimuli or the data, never from a counter or a random draw.")


def check_load_shape(component: Any) -> None:
    """``load(site)`` returns a Representation or RDMs whose stimulus ids equal ``stimulus_ids()``."""
    check = "check_load_shape"
    c = _fresh(component)
    stim = _stimuli(c)
    sites = list(c.sites(stim))
    ids = tuple(c.stimulus_ids(stim))
    for site in dict.fromkeys([sites[0], sites[-1]]):
        out = c.load(site, stim)
        if not isinstance(out, (Representation, RDMs)):
            fail(who(component), check, f"load({site!r}) to return a neurorep.Representation or RDMs",
                 f"a {type(out).__name__}")
        if tuple(out.stimulus_ids) != ids:
            fail(who(component), check, f"load({site!r}) rows in the order of stimulus_ids() ({len(ids)} ids)",
                 f"{len(out.stimulus_ids)} ids, first {list(out.stimulus_ids)[:3]} vs {list(ids)[:3]}")
        if isinstance(out, Representation) and not _tags(c).allow_nan:
            if out.data.dtype.kind in "fc" and not np.all(np.isfinite(out.data)):
                fail(who(component), check, f"finite values from load({site!r})", "NaN/inf values",
                     "drop or impute them, or tag allow_nan=True.")


def check_streaming_matches_load(component: Any) -> None:
    """``extract_batch`` over ``batches()`` reproduces ``load()`` row for row (sources that stream)."""
    check = "check_streaming_matches_load"
    c = _fresh(component)
    stim = _stimuli(c)
    batches = c.batches(stim)
    if batches is None:
        return
    ids = tuple(c.stimulus_ids(stim))
    n = len(ids)
    pos = 0
    for b in batches:
        if not isinstance(b, slice) or b.step not in (None, 1) or b.start != pos or b.stop is None or b.stop <= pos:
            fail(who(component), check, f"contiguous, non-empty slices covering 0..{n} in order",
                 f"{list(batches)!r}")
        pos = b.stop
    if pos != n:
        fail(who(component), check, f"batches covering all {n} stimuli", f"they stop at {pos}")
    sites = list(dict.fromkeys(c.sites(stim)))  # duplicates are check_sites_cheap_and_valid's business
    parts: dict[str, list[np.ndarray]] = {s: [] for s in sites}
    for b in batches:
        out = c.extract_batch(stim, b, sites)
        if set(out) != set(sites):
            fail(who(component), check, f"extract_batch to return every requested site {sites}", f"{sorted(out)}")
        for s in sites:
            a = np.asarray(out[s])
            if a.ndim != 2 or a.shape[0] != b.stop - b.start:
                fail(who(component), check, f"a ({b.stop - b.start}, n_features) array for site {s!r} of batch {b}",
                     f"shape {a.shape}")
            parts[s].append(a)
    for s in sites:
        ref = c.load(s, stim)
        if not isinstance(ref, Representation):
            fail(who(component), check, f"load({s!r}) to return a Representation for a streaming source",
                 type(ref).__name__)
        cat = np.concatenate(parts[s], axis=0)
        scale = max(1.0, float(np.nanmax(np.abs(ref.data)))) if ref.data.size else 1.0
        if cat.shape != ref.data.shape or not np.allclose(cat, ref.data, rtol=1e-4, atol=1e-5 * scale, equal_nan=True):
            diff = float(np.nanmax(np.abs(cat - ref.data))) if cat.shape == ref.data.shape else float("nan")
            fail(who(component), check, f"streamed batches of site {s!r} to equal load({s!r}) {ref.data.shape}",
                 f"shape {cat.shape}, max |difference| {diff:.3g}",
                 "compute each batch exactly as load() computes those rows (no per-batch normalisation).")


# =========================================================================== transforms, estimators, generators

def check_transform_output(component: Any) -> None:
    """``transform`` returns the declared type (the input's, or RDMs when ``output_type == "rdm"``)
    with the same stimulus ids."""
    check = "check_transform_output"
    c = _fresh(component)
    for inp in _transform_inputs(c):
        out = c.transform(inp)
        want = RDMs if getattr(c, "output_type", "same") == "rdm" else type(inp)
        if type(out) is not want:
            fail(who(component), check, f"a {want.__name__} back (output_type={getattr(c, 'output_type', 'same')!r})",
                 f"a {type(out).__name__}", "declare output_type = 'rdm' on the class if it always returns RDMs.")
        if tuple(out.stimulus_ids) != tuple(inp.stimulus_ids):
            fail(who(component), check, "the input's stimulus ids, in order", f"{list(out.stimulus_ids)[:3]}...")
        if out is inp:
            fail(who(component), check, "a new object", "the input itself", "return a transformed copy.")


def check_fit_returns_self(component: Any) -> None:
    """``fit`` returns the estimator itself (so ``est.fit(X).transform(X)`` works)."""
    check = "check_fit_returns_self"
    c = _seeded(component)
    X, Y = _estimator_data()
    ret = c.fit(X, Y) if _overrides(c, Estimator, "predict") else c.fit(X)
    if ret is not c:
        fail(who(component), check, "fit() to return self", repr(ret)[:100], "end fit() with 'return self'.")


def check_estimator_output_shape(component: Any) -> None:
    """``transform``/``predict`` return finite arrays with one row per sample, also for new samples."""
    check = "check_estimator_output_shape"
    c = _seeded(component)
    X, Y = _estimator_data()
    if not (_overrides(c, Estimator, "transform") or _overrides(c, Estimator, "predict")):
        fail(who(component), check, "transform() or predict()", "neither is implemented")
    X_new = np.random.default_rng(9).standard_normal((5, X.shape[1]))
    for data, n in ((X, X.shape[0]), (X_new, 5)):
        out = _estimator_run(_seeded(component), X, Y, X_new=data)
        for method, arr in out.items():
            if arr.ndim not in (1, 2) or arr.shape[0] != n:
                fail(who(component), check, f"{method}() of {n} samples to return {n} rows", f"shape {arr.shape}")
            if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
                fail(who(component), check, f"finite values from {method}()", "NaN/inf values")
        if "predict" in out and out["predict"].ndim == 2 and out["predict"].shape[1] != Y.shape[1]:
            fail(who(component), check, f"predict() to return one column per target ({Y.shape[1]})",
                 f"shape {out['predict'].shape}")


def check_seeded_output(component: Any) -> None:
    """``generate(n, random_state=s)`` returns a StimulusSet of ``n`` stimuli, the same for the same seed."""
    check = "check_seeded_output"
    a = _fresh(component).generate(4, random_state=0)
    b = _fresh(component).generate(4, random_state=0)
    for s in (a, b):
        if not isinstance(s, StimulusSet):
            fail(who(component), check, "a neurorep.StimulusSet", f"a {type(s).__name__}")
        if len(s) != 4:
            fail(who(component), check, "4 stimuli for generate(4)", f"{len(s)}")
    if a.ids != b.ids or not values_equal(a.payload, b.payload):
        fail(who(component), check, "the same stimuli for the same random_state", "different ids or payloads",
             "draw every random number from np.random.default_rng(random_state) (and seed torch generators "
             "from it).")


# =========================================================================== selection

def _yield_analyzer_checks(component: Any) -> Iterator[Callable[[Any], None]]:
    tags = _tags(component)
    two = getattr(type(component), "n_inputs", 2) == 2
    yield check_result_schema
    yield check_inputs_not_mutated
    yield check_determinism
    yield check_stimulus_order_invariance
    if two:
        yield check_aligns_by_stimulus_id
        if tags.maximum is not None or tags.larger_is_more_similar is not None:
            yield check_identity_max
        if tags.symmetric:
            yield check_symmetry
    for inv in tags.invariances:
        yield functools.partial(check_declared_invariances, invariance=inv)
    if not tags.allow_nan:
        yield check_informative_errors_nan
    if two:
        yield check_informative_errors_mismatched_ids


def _yield_source_checks(component: Any) -> Iterator[Callable[[Any], None]]:
    yield check_sites_cheap_and_valid
    yield check_stimulus_ids_unique_stable
    yield check_load_shape
    if _overrides(component, Source, "batches"):
        yield check_streaming_matches_load
    yield check_determinism


def yield_checks(component: Any) -> Iterator[Callable[[Any], None]]:
    """The checks that apply to ``component``, chosen by its kind and tags (like scikit-learn's ``_yield_all_checks``).

    Each yielded object is a callable ``check(component)``; checks parametrised by a tag
    (one per declared invariance) are :func:`functools.partial` objects.
    """
    yield check_declaration
    try:
        validate_component_class(type(component))
    except ComponentDeclarationError:
        return  # nothing else can be trusted
    yield check_citation
    yield check_docstring_params
    yield check_init_stores_params_only
    yield check_get_params_roundtrip
    kind = type(component).kind
    if kind == "analyzer":
        yield from _yield_analyzer_checks(component)
    elif kind == "source":
        yield from _yield_source_checks(component)
    elif kind == "transform":
        yield check_inputs_not_mutated
        yield check_transform_output
        yield check_determinism
    elif kind == "estimator":
        yield check_fit_returns_self
        yield check_estimator_output_shape
        yield check_inputs_not_mutated
        yield check_determinism
    elif kind == "generator":
        yield check_seeded_output
    yield check_pickle
