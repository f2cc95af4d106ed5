"""The conformance suite on the encoding, probe and identification analyzers."""

from __future__ import annotations

from neurorep.builtin.encoding import (
    BandedRidgeEncoding,
    CorrelationIdentification,
    LogisticProbe,
    RidgeEncoding,
    RidgeProbe,
)
from neurorep.testing import parametrize_with_checks


@parametrize_with_checks([RidgeEncoding, BandedRidgeEncoding, RidgeProbe, LogisticProbe, CorrelationIdentification])
def test_encoding_conformance(component, check):
    check(component)
