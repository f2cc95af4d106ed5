"""The neurorep conformance suite on both components (the scikit-learn ``parametrize_with_checks`` pattern)."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_dynamic_connectome import DynamicConnectome, NonnegativeTensorFactorization


@parametrize_with_checks([
    NonnegativeTensorFactorization(),
    NonnegativeTensorFactorization(n_components=2, window=8, step=4, affinity="correlation", solver="mu",
                                   smoothing=1.0, n_init=2, random_state=3),
    DynamicConnectome(n_components=2, window=6),
    DynamicConnectome(n_components=2, window=5, step=3, affinity="correlation", order="ids", random_state=4),
])
def test_dc_conformance(component, check):
    check(component)


def test_errors_name_the_component_and_the_fix():
    import numpy as np
    import pytest
    from neurorep import Representation
    from neurorep.errors import InvalidInputError

    X = np.random.default_rng(0).standard_normal((40, 5))
    est = NonnegativeTensorFactorization(window=10)
    with pytest.raises(InvalidInputError, match="'ntf.nonnegative'.*not fitted"):
        est.transform(X)
    with pytest.raises(InvalidInputError, match="'ntf.nonnegative'.*shape"):
        est.fit(X[:, 0])
    with pytest.raises(InvalidInputError, match="'affinity' must be one of"):
        NonnegativeTensorFactorization(affinity="granger").fit(X)
    with pytest.raises(InvalidInputError, match="'window' must be an int >= 3"):
        NonnegativeTensorFactorization(window=2).fit(X)
    est.fit(X)
    with pytest.raises(InvalidInputError, match=r"\(n_timepoints, 5\)"):
        est.transform(X[:, :4])
    x = Representation(X, [f"t{i}" for i in range(40)])
    with pytest.raises(InvalidInputError, match="'connectome.dynamic'.*'order'"):
        DynamicConnectome(order="time").analyze(x)
