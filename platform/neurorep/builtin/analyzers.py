"""Built-in analyzers of the host: linear CKA and correlation-distance RSA.

The full analyzer families (all RDM distances and comparators, inference, shape
metrics, encoding models) build on these in the analyzers work; these two are the
reference points the host's own tests and the conformance suite use.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import rankdata

from .. import hookimpl
from ..components import Analyzer, Tags
from ..errors import InvalidInputError
from ..types import RDMs, Representation, Result, align


def _as_rep(x, owner: str) -> Representation:
    if not isinstance(x, Representation):
        raise InvalidInputError(f"{owner}: expected a Representation (stimuli x features), got {type(x).__name__}. "
                                "CKA needs response patterns, not RDMs.")
    try:
        return x.check_finite()
    except InvalidInputError as exc:
        raise InvalidInputError(f"Analyzer {owner!r}: {exc}") from exc


class LinearCKA(Analyzer):
    """Linear centered kernel alignment between two representations.

    ``CKA(X, Y) = ||Yc' Xc||_F^2 / (||Xc' Xc||_F ||Yc' Yc||_F)`` with column-centred ``X``
    and ``Y`` (Kornblith et al., 2019). 1 for identical representations; invariant to
    orthogonal transforms, isotropic scaling and translation of either input.

    Parameters
    ----------
    align : {"strict", "reorder", "intersection"}, default="reorder"
        How to match the two inputs' stimulus ids (see :func:`neurorep.align`).
    """

    id = "cka.linear"
    version = "1.0.0"
    citation = ("Kornblith, Norouzi, Lee & Hinton (2019). Similarity of neural network representations "
                "revisited. ICML. arXiv:1905.00414")
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0,
                invariances=("orthogonal", "isotropic_scaling", "translation", "feature_permutation"))

    def __init__(self, align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.align = align

    def analyze(self, x, y=None):
        if y is None:
            raise InvalidInputError(f"Analyzer {self.id!r}: expected two representations, got one.")
        x, y = _as_rep(x, self.id), _as_rep(y, self.id)
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        X = x.data - x.data.mean(0)
        Y = y.data - y.data.mean(0)
        # Gram form is cheaper when features outnumber stimuli
        if X.shape[1] + Y.shape[1] > 2 * X.shape[0]:
            K, L = X @ X.T, Y @ Y.T
            num = float(np.sum(K * L))
            den = float(np.linalg.norm(K) * np.linalg.norm(L))
        else:
            num = float(np.linalg.norm(Y.T @ X) ** 2)
            den = float(np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y))
        if den == 0.0:
            raise InvalidInputError(f"Analyzer {self.id!r}: an input is constant across stimuli "
                                    "(zero variance); CKA is undefined.")
        return [Result(score=num / den, metric="cka", n=x.n_stimuli)]


def _correlation_rdm(rep: Representation) -> RDMs:
    X = rep.data - rep.data.mean(1, keepdims=True)
    norms = np.linalg.norm(X, axis=1)
    if np.any(norms == 0):
        raise InvalidInputError(f"RDM of {rep.name!r}: {int(np.sum(norms == 0))} stimulus pattern(s) are constant "
                                "across features; correlation distance is undefined for them.")
    Xn = X / norms[:, None]
    D = 1.0 - Xn @ Xn.T
    iu = np.triu_indices(rep.n_stimuli, 1)
    return RDMs(D[iu], rep.stimulus_ids, dissimilarity_measure="correlation", space=dict(rep.space), name=rep.name)


def _corr_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


class CorrelationRSA(Analyzer):
    """RSA with correlation-distance RDMs (1 - Pearson r between stimulus patterns).

    Inputs may be representations (their RDMs are computed) or precomputed RDMs. When
    ``y`` holds several RDMs (subjects), the score is the mean comparison over them and
    each is reported in ``extra["per_rdm"]``.

    Parameters
    ----------
    comparison : {"spearman", "pearson"}, default="spearman"
        How the RDMs' upper triangles are compared.
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "rsa.correlation"
    version = "1.0.0"
    citation = ("Kriegeskorte, Mur & Bandettini (2008). Representational similarity analysis - connecting the "
                "branches of systems neuroscience. Front. Syst. Neurosci. 2:4. doi:10.3389/neuro.06.004.2008")
    tags = Tags(symmetric=True, larger_is_more_similar=True, maximum=1.0, input_type="any",
                invariances=("isotropic_scaling", "feature_permutation"))

    def __init__(self, comparison: Literal["spearman", "pearson"] = "spearman",
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.comparison = comparison
        self.align = align

    def _rdms(self, x) -> RDMs:
        try:
            if isinstance(x, RDMs):
                return x.check_finite()
            if isinstance(x, Representation):
                return _correlation_rdm(x.check_finite())
        except InvalidInputError as exc:
            raise InvalidInputError(f"Analyzer {self.id!r}: {exc}") from exc
        raise InvalidInputError(f"Analyzer {self.id!r}: expected a Representation or RDMs, got {type(x).__name__}.")

    def analyze(self, x, y=None):
        if self.comparison not in ("spearman", "pearson"):
            raise InvalidInputError(f"Analyzer {self.id!r}: 'comparison' must be one of ['spearman', 'pearson'], "
                                    f"{self.comparison!r} was provided.")
        if y is None:
            raise InvalidInputError(f"Analyzer {self.id!r}: expected two inputs, got one.")
        rx, ry = self._rdms(x), self._rdms(y)
        rx, ry = align(rx, ry, how=self.align, owner=f"Analyzer {self.id!r}")
        a, b = rx.dissimilarities, ry.dissimilarities
        if self.comparison == "spearman":
            a, b = rankdata(a, axis=1), rankdata(b, axis=1)
        r = _corr_rows(a, b)
        per = r.mean(0) if r.shape[0] > 1 else r[0]
        return [Result(score=float(r.mean()), metric=self.comparison, n=a.shape[1],
                       extra={"per_rdm": [float(v) for v in np.atleast_1d(per)]})]


@hookimpl
def register_analyzers(register):
    register(LinearCKA)
    register(CorrelationRSA)
