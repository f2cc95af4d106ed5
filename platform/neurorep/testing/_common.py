"""Shared machinery of the conformance suite: the failure type, outcome records, names and comparisons."""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

__all__ = [
    "ConformanceError",
    "CheckOutcome",
    "check_name",
    "component_label",
    "fail",
    "normalize_distribution",
]


class ConformanceError(AssertionError):
    """A conformance check failed.

    The message names the component (or distribution), what the check expected, what it
    found, and how to fix it.
    """


@dataclass
class CheckOutcome:
    """The outcome of one check on one component (or one distribution).

    Parameters
    ----------
    component : str
        The component's label (its id, plus non-default parameters) or, for plugin-level
        checks, the distribution name.
    check : str
        The check's name, e.g. ``"check_symmetry"`` or
        ``"check_declared_invariances(invariance=orthogonal)"``.
    passed : bool
        True when the check raised nothing.
    expected : bool
        True when the check was listed in ``expected_failed_checks`` (an expected failure).
    message : str
        The failure message (empty when the check passed), or the reason of an expected
        failure that passed anyway.
    """

    component: str
    check: str
    passed: bool
    expected: bool = False
    message: str = ""


def normalize_distribution(name: str) -> str:
    """A distribution name normalised for comparison: lowercase, runs of ``-_.`` become ``-``."""
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def check_name(check: Callable[..., Any]) -> str:
    """``check_x`` for a plain check, ``check_x(kw=v)`` for a :func:`functools.partial` of one."""
    if isinstance(check, functools.partial):
        base = check_name(check.func)
        kw = ", ".join(f"{k}={v}" for k, v in check.keywords.items())
        return f"{base}({kw})" if kw else base
    return getattr(check, "__name__", repr(check))


def base_check_name(name: str) -> str:
    """``check_x(kw=v)`` -> ``check_x``."""
    return name.split("(", 1)[0]


def _param_defaults(cls: type) -> dict[str, Any]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return {}
    return {n: p.default for n, p in sig.parameters.items() if n != "self"}


def component_label(component: Any) -> str:
    """The component's id plus the parameters that differ from their defaults.

    Parameters without a default (a file path, say) are left out so labels are stable
    across runs: ``cka.linear``, ``rsa.correlation(comparison='pearson')``.
    """
    cls = component if isinstance(component, type) else type(component)
    cid = getattr(cls, "id", None)
    base = cid if isinstance(cid, str) and cid else cls.__name__
    if isinstance(component, type):
        return base
    parts = []
    for name, default in _param_defaults(cls).items():
        if default is inspect.Parameter.empty or not hasattr(component, name):
            continue
        value = getattr(component, name)
        try:
            same = bool(values_equal(value, default))
        except Exception:
            same = False
        if not same:
            parts.append(f"{name}={value!r}")
    return f"{base}({', '.join(parts)})" if parts else base


def who(component: Any) -> str:
    """How messages name a component: ``Component 'cka.linear'``."""
    cls = component if isinstance(component, type) else type(component)
    cid = getattr(cls, "id", None)
    if isinstance(cid, str) and cid:
        return f"Component {cid!r} ({cls.__module__}.{cls.__qualname__})"
    return f"Component class {cls.__module__}.{cls.__qualname__} (no valid id)"


def fail(subject: str, check: str, expected: str, found: str, fix: str = "") -> NoReturn:
    """Raise :class:`ConformanceError` with the house message layout."""
    msg = f"{subject} fails {check}: expected {expected}; found {found}."
    if fix:
        msg += f" Fix: {fix}"
    raise ConformanceError(msg)


# --------------------------------------------------------------------------- comparisons

def values_equal(a: Any, b: Any) -> bool:
    """Deep equality that understands numpy arrays, NaN, and tuples vs lists."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
        except TypeError:
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:
        return a is b


def scores_close(a: float, b: float, *, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Two scores agree within tolerance (NaN equals NaN)."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def fmt_scores(values: Iterable[float]) -> str:
    return "[" + ", ".join(f"{float(v):.10g}" for v in values) + "]"
