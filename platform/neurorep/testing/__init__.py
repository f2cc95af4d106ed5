"""The conformance suite for neurorep components and plugins.

A plugin adopts it in three lines (the scikit-learn ``parametrize_with_checks`` pattern)::

    from neurorep.testing import parametrize_with_checks

    @parametrize_with_checks([LinearCKA()], expected_failed_checks={"check_x": "reason"})
    def test_conformance(component, check):
        check(component)

and ``neurorep check <distribution>`` runs the same checks, plus the plugin-level ones, on an
installed distribution (:func:`check_distribution`).

Which checks run
----------------
:func:`yield_checks` picks them by kind and capability tags (:class:`neurorep.Tags`):

* every component: ``check_declaration``, ``check_citation``, ``check_docstring_params``,
  ``check_init_stores_params_only``, ``check_get_params_roundtrip`` (clone, JSON and a recipe
  TOML ``params = {...}`` line), ``check_pickle``;
* analyzers: ``check_result_schema``, ``check_inputs_not_mutated``, ``check_determinism``,
  ``check_stimulus_order_invariance`` and, for two-input analyzers, ``check_aligns_by_stimulus_id``,
  ``check_identity_max`` (when ``maximum`` or ``larger_is_more_similar`` is declared),
  ``check_symmetry`` (``symmetric``), ``check_informative_errors_mismatched_ids``; one
  ``check_declared_invariances(invariance=...)`` per declared invariance; and
  ``check_informative_errors_nan`` unless ``allow_nan``. Toy inputs are seeded
  :class:`~neurorep.Representation` objects, or Euclidean :class:`~neurorep.RDMs` of them for
  ``input_type="rdm"``;
* sources: ``check_sites_cheap_and_valid``, ``check_stimulus_ids_unique_stable``,
  ``check_load_shape``, ``check_streaming_matches_load`` (when ``batches()`` is overridden),
  ``check_determinism``;
* transforms: ``check_inputs_not_mutated``, ``check_transform_output``, ``check_determinism``;
* estimators: ``check_fit_returns_self``, ``check_estimator_output_shape``,
  ``check_inputs_not_mutated``, ``check_determinism``;
* generators: ``check_seeded_output``;
* distributions (:func:`check_distribution`): ``check_entry_point_loads`` (a fresh interpreter,
  network refused, ``CUDA_VISIBLE_DEVICES=""``, within :data:`ENTRY_POINT_BUDGET_S`),
  ``check_hookimpls_match_specs``, ``check_component_ids``, ``check_distribution_metadata``.

Every failure raises :class:`ConformanceError` (an ``AssertionError``) whose message names the
component id, what was expected, what was found and how to fix it.

Hooks a component class may define
----------------------------------
``_conformance_instances()`` (classmethod)
    Instances to test when the suite is given the class (``neurorep check`` always is).
    Default: ``cls()``. Needed when a parameter has no default (a file path: write a small
    temporary file, as ``source.npz`` does).
``_conformance_stimuli()`` (method or classmethod)
    A small :class:`~neurorep.StimulusSet` handed to a source's ``sites``, ``stimulus_ids``,
    ``load``, ``batches`` and ``extract_batch``. Default: None (sources that make their own
    stimuli). :func:`toy_stimuli` returns a seeded 16-image set.
``_conformance_expected_failed_checks`` (class attribute)
    ``{"check_name": "reason"}`` of known failures; merged with the caller's
    ``expected_failed_checks`` so ``neurorep check`` and the plugin's own tests agree.
"""

from __future__ import annotations

from ._api import check_component, parametrize_with_checks, run_check
from ._common import CheckOutcome, ConformanceError, check_name, component_label, normalize_distribution
from ._data import toy_stimuli, toy_triplet
from ._plugin import (
    ENTRY_POINT_BUDGET_S,
    check_component_ids,
    check_distribution,
    check_distribution_metadata,
    check_entry_point_loads,
    check_hookimpls_match_specs,
)
from .checks import (
    check_aligns_by_stimulus_id,
    check_citation,
    check_declaration,
    check_declared_invariances,
    check_determinism,
    check_docstring_params,
    check_estimator_output_shape,
    check_fit_returns_self,
    check_get_params_roundtrip,
    check_identity_max,
    check_informative_errors_mismatched_ids,
    check_informative_errors_nan,
    check_init_stores_params_only,
    check_inputs_not_mutated,
    check_load_shape,
    check_pickle,
    check_result_schema,
    check_seeded_output,
    check_sites_cheap_and_valid,
    check_stimulus_ids_unique_stable,
    check_stimulus_order_invariance,
    check_streaming_matches_load,
    check_symmetry,
    check_transform_output,
    conformance_instances,
    yield_checks,
)

__all__ = [
    "CheckOutcome",
    "ConformanceError",
    "ENTRY_POINT_BUDGET_S",
    "check_aligns_by_stimulus_id",
    "check_citation",
    "check_component",
    "check_component_ids",
    "check_declaration",
    "check_declared_invariances",
    "check_determinism",
    "check_distribution",
    "check_distribution_metadata",
    "check_docstring_params",
    "check_entry_point_loads",
    "check_estimator_output_shape",
    "check_fit_returns_self",
    "check_get_params_roundtrip",
    "check_hookimpls_match_specs",
    "check_identity_max",
    "check_informative_errors_mismatched_ids",
    "check_informative_errors_nan",
    "check_init_stores_params_only",
    "check_inputs_not_mutated",
    "check_load_shape",
    "check_name",
    "check_pickle",
    "check_result_schema",
    "check_seeded_output",
    "check_sites_cheap_and_valid",
    "check_stimulus_ids_unique_stable",
    "check_stimulus_order_invariance",
    "check_streaming_matches_load",
    "check_symmetry",
    "check_transform_output",
    "component_label",
    "conformance_instances",
    "normalize_distribution",
    "parametrize_with_checks",
    "run_check",
    "toy_stimuli",
    "toy_triplet",
    "yield_checks",
]
