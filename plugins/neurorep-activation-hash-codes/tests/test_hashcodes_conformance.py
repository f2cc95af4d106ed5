"""The neurorep conformance suite on every activation-hash-code component."""

from __future__ import annotations

import pytest
from neurorep.testing import parametrize_with_checks

from neurorep_hashcodes import ActivationCodeTransform, CodeCategorisation, CodeDeterminism, ReluMlpDigits

pytest.importorskip("torch")


@parametrize_with_checks([
    ActivationCodeTransform(),
    ActivationCodeTransform(threshold=0.3, drop_constant=True),
    CodeDeterminism,
    CodeCategorisation,
    ReluMlpDigits,
])
def test_hashcodes_conformance(component, check):
    check(component)
