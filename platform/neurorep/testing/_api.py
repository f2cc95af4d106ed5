"""Running checks: :func:`check_component` (outcome records) and :func:`parametrize_with_checks` (pytest)."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._common import CheckOutcome, base_check_name, check_name, component_label, who
from .checks import STATIC_CHECKS, _tags, conformance_instances, yield_checks

__all__ = ["check_component", "parametrize_with_checks", "run_check"]

ExpectedFailed = Mapping[str, str] | Callable[[Any], Mapping[str, str] | None] | None


def _expected_for(component: Any, expected_failed_checks: ExpectedFailed) -> dict[str, str]:
    """Merge the class's ``_conformance_expected_failed_checks`` with the caller's (the caller wins)."""
    out = dict(getattr(type(component), "_conformance_expected_failed_checks", None) or {})
    if callable(expected_failed_checks):
        out.update(expected_failed_checks(component) or {})
    elif expected_failed_checks:
        out.update(expected_failed_checks)
    return out


def _reason(expected: Mapping[str, str], name: str) -> str | None:
    if name in expected:
        return expected[name]
    return expected.get(base_check_name(name))


def run_check(component: Any, check: Callable[[Any], None], *, label: str | None = None,
              expected_failed_checks: Mapping[str, str] | None = None) -> CheckOutcome:
    """Run one check and record its outcome (an unexpected exception counts as a failure)."""
    name = check_name(check)
    label = label or component_label(component)
    reason = _reason(expected_failed_checks or {}, name)
    try:
        check(component)
    except AssertionError as exc:
        return CheckOutcome(label, name, False, reason is not None, str(exc))
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {tb[-1].filename}:{tb[-1].lineno}" if tb else ""
        subject = f"Distribution {component!r}" if isinstance(component, str) else who(component)
        msg = f"{subject} raised {type(exc).__name__} in {name}{where}: {exc}"
        return CheckOutcome(label, name, False, reason is not None, msg)
    return CheckOutcome(label, name, True, reason is not None,
                        f"expected to fail ({reason}) but passed" if reason is not None else "")


def check_component(component: Any, expected_failed_checks: ExpectedFailed = None) -> list[CheckOutcome]:
    """Run every applicable check on ``component`` and return one outcome per check.

    Parameters
    ----------
    component : Component instance or class
        A class is expanded with ``_conformance_instances()`` (or built with its defaults).
    expected_failed_checks : dict of str to str, or callable, optional
        ``{"check_name": "reason"}`` (or a function of the component returning one) of checks
        known to fail; their failures are recorded with ``expected=True``. A check named with
        its keywords (``"check_declared_invariances(invariance=orthogonal)"``) or by its base name
        both match.

    Returns
    -------
    list of CheckOutcome
    """
    try:
        instances = conformance_instances(component)
    except Exception as exc:
        return [CheckOutcome(component_label(component), "check_instantiate", False, False,
                             f"{type(exc).__name__}: {exc}")]
    outcomes = []
    for inst in instances:
        expected = _expected_for(inst, expected_failed_checks)
        label = component_label(inst)
        for check in yield_checks(inst):
            outcomes.append(run_check(inst, check, label=label, expected_failed_checks=expected))
    return outcomes


def parametrize_with_checks(components: Iterable[Any], *, expected_failed_checks: ExpectedFailed = None) -> Any:
    """A ``pytest.mark.parametrize("component, check", ...)`` over every check of every component.

    Test ids read ``<component label>-<check name>`` (e.g. ``cka.linear-check_symmetry``), so
    ``pytest -k symmetry`` selects checks. Expected failures become ``xfail`` marks with their
    reason; behavioural checks of components tagged ``needs_gpu`` carry the ``gpu`` mark.

    Parameters
    ----------
    components : iterable of Component instances or classes
    expected_failed_checks : dict of str to str, or callable, optional
        As in :func:`check_component`.

    Examples
    --------
    >>> from neurorep.testing import parametrize_with_checks
    >>> @parametrize_with_checks([LinearCKA()])       # doctest: +SKIP
    ... def test_conformance(component, check):
    ...     check(component)
    """
    import pytest

    params = []
    for comp in components:
        for inst in conformance_instances(comp):
            expected = _expected_for(inst, expected_failed_checks)
            label = component_label(inst)
            gpu = _tags(inst).needs_gpu
            for check in yield_checks(inst):
                name = check_name(check)
                marks = []
                reason = _reason(expected, name)
                if reason is not None:
                    marks.append(pytest.mark.xfail(reason=reason, strict=False))
                if gpu and base_check_name(name) not in STATIC_CHECKS:
                    marks.append(pytest.mark.gpu)
                params.append(pytest.param(inst, check, marks=marks, id=f"{label}-{name}"))
    return pytest.mark.parametrize("component, check", params)
