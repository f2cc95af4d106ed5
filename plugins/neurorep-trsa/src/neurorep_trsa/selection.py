"""Model selection with topological RSA: which candidate representation best matches the data?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from neurorep import RDMs, Representation
from neurorep.errors import InvalidInputError

from .analyzer import TopologicalRSA

__all__ = ["ModelSelection", "trsa_model_selection"]


@dataclass(frozen=True)
class ModelSelection:
    """The outcome of :func:`trsa_model_selection`.

    Attributes
    ----------
    winner : str
        Label of the candidate with the highest score (the first one on a tie).
    scores : dict of str to float
        Each candidate's score, in the order the candidates were given.
    margin : float
        Winner's score minus the runner-up's (0 on a tie).
    ranking : tuple of str
        Candidate labels from best to worst.
    per_rdm : dict of str to list of float
        For candidates holding several RDMs (e.g. one per network instance), each one's score.
    """

    winner: str
    scores: dict[str, float]
    margin: float
    ranking: tuple[str, ...]
    per_rdm: dict[str, list[float]] = field(default_factory=dict)

    @property
    def chance(self) -> float:
        """Probability of picking the right candidate by guessing: 1 / number of candidates."""
        return 1.0 / len(self.scores)


def _labelled(candidates: Mapping[str, Representation | RDMs] | Sequence[Representation | RDMs]
              ) -> list[tuple[str, Representation | RDMs]]:
    if isinstance(candidates, Mapping):
        return [(str(k), v) for k, v in candidates.items()]
    items = list(candidates)
    names = [getattr(c, "name", None) for c in items]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return list(zip(names, items))
    return [(f"candidate-{i}", c) for i, c in enumerate(items)]


def trsa_model_selection(data: Representation | RDMs,
                         candidates: Mapping[str, Representation | RDMs] | Sequence[Representation | RDMs],
                         *, l: float = 0.2, u: float = 0.8, rank: bool = True,  # noqa: E741
                         geodesic: bool = False, distance: Literal["correlation", "euclidean"] = "correlation",
                         comparison: Literal["spearman", "pearson", "cosine"] = "spearman",
                         align: Literal["strict", "reorder", "intersection"] = "reorder") -> ModelSelection:
    """Score every candidate against the data with ``rsa.topological`` and pick the best.

    This is the model-selection step of the paper's evaluation: the data is one
    representation (a brain region, a network layer, with noise), the candidates
    are representations that may have generated it (the same and other regions or
    layers, measured in other subjects or network instances). A candidate holding
    several RDMs scores the mean over them, so passing all instances of one layer
    compares the data with that layer's instances on average.

    Parameters
    ----------
    data : Representation or RDMs
        The representation to explain (a single RDM or pattern set).
    candidates : mapping of str to (Representation or RDMs), or sequence of them
        The models. A sequence is labelled by the candidates' ``name`` when those are
        unique, else ``"candidate-<i>"``. At least two are needed.
    l, u, rank, geodesic, distance, comparison, align
        As for :class:`neurorep_trsa.TopologicalRSA`.

    Returns
    -------
    ModelSelection
        The winner, every score, and the winner's margin over the runner-up.

    Examples
    --------
    >>> import numpy as np
    >>> from neurorep import Representation
    >>> rng = np.random.default_rng(0)
    >>> ids = [f"s{i}" for i in range(30)]
    >>> a, b = rng.standard_normal((30, 20)), rng.standard_normal((30, 20))
    >>> data = Representation(a + 0.5 * rng.standard_normal((30, 20)), ids)
    >>> sel = trsa_model_selection(data, {"a": Representation(a, ids), "b": Representation(b, ids)}, l=0.4, u=0.6)
    >>> sel.winner
    'a'
    """
    labelled = _labelled(candidates)
    if len(labelled) < 2:
        raise InvalidInputError(
            f"trsa_model_selection: expected at least 2 candidates to choose between, got {len(labelled)}. "
            "Pass e.g. {'layer1': rep1, 'layer2': rep2}.")
    if len({k for k, _ in labelled}) != len(labelled):
        raise InvalidInputError("trsa_model_selection: candidate labels must be unique.")
    if isinstance(data, RDMs) and data.n_rdms != 1:
        raise InvalidInputError(
            f"trsa_model_selection: 'data' must hold one RDM, got {data.n_rdms}. Select one with "
            "data.subset_rdms([i]), or average them first.")
    analyzer = TopologicalRSA(l=l, u=u, rank=rank, geodesic=geodesic, distance=distance,
                              comparison=comparison, align=align)
    scores: dict[str, float] = {}
    per_rdm: dict[str, list[float]] = {}
    for label, cand in labelled:
        res = analyzer.analyze(data, cand)[0]
        scores[label] = res.score
        if len(res.extra["per_rdm"]) > 1:
            per_rdm[label] = list(res.extra["per_rdm"])
    order = sorted(range(len(labelled)), key=lambda i: -scores[labelled[i][0]])  # stable: first wins ties
    ranking = tuple(labelled[i][0] for i in order)
    margin = scores[ranking[0]] - scores[ranking[1]]
    return ModelSelection(winner=ranking[0], scores=scores, margin=float(margin), ranking=ranking, per_rdm=per_rdm)
