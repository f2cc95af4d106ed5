"""Built-in decoding: the leave-one-run-out correlation classifier (Haxby et al., 2001).

One representation with a repeats axis (runs x conditions x features) goes in; for each
held-out run, each condition's pattern is assigned to the condition whose mean pattern over
the other runs it correlates with most. The score is the accuracy over all (run, condition)
patterns; the p-value comes from a permutation test that relabels conditions within each
held-out run (all permutations evaluated as one batched operation).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

from .. import hookimpl
from ..components import Analyzer, Tags
from ..errors import InvalidInputError
from ..types import Representation, Result


def _zrows(a: np.ndarray) -> np.ndarray:
    a = a - a.mean(-1, keepdims=True)
    n = np.linalg.norm(a, axis=-1, keepdims=True)
    n[n == 0] = 1.0
    return a / n


def loro_correlation_predictions(repeats: np.ndarray) -> np.ndarray:
    """Predicted condition index for every (run, condition) pattern, leave-one-run-out.

    Parameters
    ----------
    repeats : ndarray of shape (n_runs, n_conditions, n_features)

    Returns
    -------
    pred : ndarray of shape (n_runs, n_conditions), int
    """
    n_runs = repeats.shape[0]
    total = repeats.sum(0)
    train = (total[None] - repeats) / (n_runs - 1)          # (runs, cond, feat): mean of the other runs
    sim = np.einsum("rcf,rkf->rck", _zrows(repeats), _zrows(train))   # test pattern c vs class template k
    return sim.argmax(-1), sim


class CorrelationDecoder(Analyzer):
    """Leave-one-run-out correlation classifier over the conditions of one representation.

    The input needs ``repeats`` (runs as independent measurements): rows of the
    representation are the conditions (e.g. the 8 Haxby categories).

    Parameters
    ----------
    n_permutations : int, default=1000
        Relabelling permutations for the p-value (0: binomial test against chance instead).
    random_state : int, default=0
        Seed of the permutations.
    """

    id = "decoding.correlation"
    version = "1.0.0"
    citation = ("Haxby, Gobbini, Furey, Ishai, Schouten & Pietrini (2001). Distributed and overlapping "
                "representations of faces and objects in ventral temporal cortex. Science 293:2425-2430. "
                "doi:10.1126/science.1063736")
    n_inputs = 1
    tags = Tags(larger_is_more_similar=None, stochastic=True,
                invariances=("isotropic_scaling", "feature_permutation"))

    def __init__(self, n_permutations: int = 1000, random_state: int = 0):
        self.n_permutations = n_permutations
        self.random_state = random_state

    def _check(self, x) -> np.ndarray:
        if not isinstance(x, Representation):
            raise InvalidInputError(f"Analyzer {self.id!r}: expected a Representation with repeats, "
                                    f"got {type(x).__name__}.")
        x.check_finite(owner=f"Analyzer {self.id!r}")
        if x.repeats is None or x.repeats.shape[0] < 2:
            got = "no repeats" if x.repeats is None else f"{x.repeats.shape[0]} repeat"
            raise InvalidInputError(
                f"Analyzer {self.id!r}: expected a representation with at least 2 repeats (runs) to leave one "
                f"out, got {got}. Use a source that keeps runs as the repeats axis (e.g. dataset.haxby2001, "
                "source.glm).")
        if x.n_stimuli < 2:
            raise InvalidInputError(f"Analyzer {self.id!r}: expected at least 2 conditions, got {x.n_stimuli}.")
        if self.n_permutations < 0:
            raise InvalidInputError(f"Analyzer {self.id!r}: n_permutations must be >= 0, got {self.n_permutations}.")
        return np.asarray(x.repeats, dtype=float)

    def analyze(self, x, y=None):
        if y is not None:
            raise InvalidInputError(f"Analyzer {self.id!r} takes one input (conditions x features with runs); "
                                    "got two.")
        rep = self._check(x)
        n_runs, n_cond, _ = rep.shape
        pred, sim = loro_correlation_predictions(rep)
        truth = np.arange(n_cond)
        n_total = n_runs * n_cond
        n_correct = int((pred == truth[None]).sum())
        acc = n_correct / n_total
        chance = 1.0 / n_cond
        ci = binomtest(n_correct, n_total, chance).proportion_ci(confidence_level=0.95, method="wilson")
        if self.n_permutations > 0:
            # relabel the held-out patterns of every run with a random permutation of the conditions:
            # accuracy under the null needs only the argmax predictions and the permuted truth.
            rng = np.random.default_rng(self.random_state)
            perms = rng.permuted(np.broadcast_to(truth, (self.n_permutations, n_runs, n_cond)), axis=-1)
            null = (perms == pred[None]).sum((1, 2)) / n_total
            p = (1 + int(np.sum(null >= acc))) / (1 + self.n_permutations)
        else:
            p = binomtest(n_correct, n_total, chance, alternative="greater").pvalue
        per_class = (pred == truth[None]).mean(0)
        return [Result(score=acc, metric="accuracy", ci_low=float(ci.low), ci_high=float(ci.high), p_value=float(p),
                       n=n_total, extra={"chance": chance, "n_runs": n_runs, "n_conditions": n_cond,
                                         "per_condition": {s: float(a) for s, a in zip(x.stimulus_ids, per_class)}})]

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_permutations=50)]


@hookimpl
def register_analyzers(register):
    register(CorrelationDecoder)
