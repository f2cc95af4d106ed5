"""The activation hash phase chart at small scale: encoding properties over width, training time and sample size.

:func:`phase_chart` trains ReLU MLPs (torch, CPU) on a classification set (scikit-learn's 8 x 8
digits by default) for every (width, training-set size) pair, reads the codes of the training
and test examples at every requested epoch (forward pre-hooks, :func:`activation_codes`) and
returns one tidy row per (width, n_train, epoch) with the classifier's accuracies, the
determinism counts and the categorisation read-outs. :func:`assign_regimes` labels the rows
with the paper's three regimes under an explicit, parameterised rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from neurorep.errors import InvalidInputError

from .core import categorisation_scores, determinism_stats

__all__ = ["digits_split", "phase_chart", "assign_regimes", "REGIMES"]

#: The regimes of the activation hash phase chart (He et al., 2021).
REGIMES = ("under-expressive", "critically-expressive", "sufficiently-expressive")


def digits_split(test_size: float = 0.25, random_state: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                           np.ndarray]:
    """scikit-learn's digits (1,797 8 x 8 images, 10 classes; shipped with the package) split stratified.

    Returns
    -------
    X_train, y_train, X_test, y_test
        Pixels scaled to [0, 1] (float32) and int labels.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=test_size, random_state=random_state,
                                          stratify=d.target)
    return Xtr, ytr.astype(int), Xte, yte.astype(int)


def _subsample(y: np.ndarray, n: int, random_state: int) -> np.ndarray:
    """``n`` row indices, stratified by class (seeded), in increasing order."""
    if n >= y.size:
        return np.arange(y.size)
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(y.size), train_size=n, random_state=random_state, stratify=y)
    return np.sort(idx)


def phase_chart(widths: Sequence[int], epochs: Sequence[int], sample_sizes: Sequence[int] | None = None, *,
                depth: int = 1, data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
                learning_rate: float = 1e-3, batch_size: int = 64, n_neighbors: int = 9, kmeans: bool = True,
                logistic: bool = True, random_state: int = 0) -> list[dict[str, Any]]:
    """Encoding properties of trained ReLU MLPs over width x training time x sample size.

    Parameters
    ----------
    widths : sequence of int
        Units per hidden layer.
    epochs : sequence of int
        Epochs at which the codes are read (0 = at initialisation); one run per (width, n_train)
        trains to the largest and is read at each.
    sample_sizes : sequence of int, optional
        Training-set sizes (stratified subsets of the training split); default the whole split.
    depth : int, default=1
        Hidden layers.
    data : (X_train, y_train, X_test, y_test), optional
        Default :func:`digits_split`.
    learning_rate, batch_size
        Adam's step size and the minibatch size.
    n_neighbors : int, default=9
        K of the Hamming K-NN.
    kmeans, logistic : bool, default=True
        Include the K-means and logistic-regression read-outs (the slower ones).
    random_state : int, default=0

    Returns
    -------
    list of dict
        One row per (width, n_train, epoch): ``width``, ``depth``, ``n_train``, ``epoch``,
        ``n_units``, ``train_accuracy``, ``test_accuracy`` (the network's own), the
        :func:`~neurorep_hashcodes.core.determinism_stats` of the training codes (plus
        ``test_redundancy_ratio``) and the :func:`~neurorep_hashcodes.core.categorisation_scores`.
    """
    from .torch_codes import activation_codes, predict_classes, train_relu_mlp

    Xtr, ytr, Xte, yte = digits_split(random_state=random_state) if data is None else data
    sizes = [int(Xtr.shape[0])] if sample_sizes is None else [int(s) for s in sample_sizes]
    ep = sorted({int(e) for e in epochs})
    if not widths or not ep or min(ep) < 0 or min(sizes) < 2:
        raise InvalidInputError("phase_chart: give at least one width, epochs >= 0 and sample sizes >= 2; got "
                                f"widths={list(widths)}, epochs={list(epochs)}, sample_sizes={sizes}.")
    rows: list[dict[str, Any]] = []
    for n in sizes:
        idx = _subsample(ytr, n, random_state)
        Xs, ys = Xtr[idx], ytr[idx]
        for w in widths:
            def record(epoch: int, net: Any, w: int = int(w), n: int = len(idx), Xs=Xs, ys=ys) -> None:
                c_tr = activation_codes(net, Xs).codes
                c_te = activation_codes(net, Xte).codes
                row: dict[str, Any] = {"width": w, "depth": int(depth), "n_train": n, "epoch": int(epoch),
                                       "n_units": int(c_tr.shape[1]),
                                       "train_accuracy": float(np.mean(predict_classes(net, Xs) == ys)),
                                       "test_accuracy": float(np.mean(predict_classes(net, Xte) == yte))}
                row.update(determinism_stats(c_tr))
                row["test_redundancy_ratio"] = determinism_stats(c_te)["redundancy_ratio"]
                row.update(categorisation_scores(c_tr, ys, c_te, yte, n_neighbors=n_neighbors, kmeans=kmeans,
                                                 logistic=logistic, random_state=random_state))
                rows.append(row)

            train_relu_mlp(Xs, ys, width=int(w), depth=depth, epochs=max(ep), learning_rate=learning_rate,
                           batch_size=batch_size, random_state=random_state, checkpoints=ep, on_checkpoint=record)
    return rows


def assign_regimes(rows: Sequence[dict[str, Any]], *, redundancy_tol: float = 0.01,
                   score: str = "knn_accuracy", saturation_tol: float = 0.05,
                   group_by: Sequence[str] = ("n_train",)) -> list[dict[str, Any]]:
    """Label phase-chart rows with a regime (copies of the rows with a ``regime`` key).

    The rule (our operationalisation of the paper's verbal definitions):

    * ``under-expressive``: training codes collide (``redundancy_ratio > redundancy_tol``);
    * ``critically-expressive``: codes are (nearly) unique but ``score`` is more than
      ``saturation_tol`` below the best ``score`` among the unique-code rows of the same group;
    * ``sufficiently-expressive``: codes are unique and ``score`` is within ``saturation_tol`` of that best.

    Groups are the rows sharing the values of ``group_by`` (default: the same training-set size,
    whose test scores are comparable).
    """
    def key(r: dict[str, Any]) -> tuple:
        return tuple(r.get(k) for k in group_by)

    best: dict[tuple, float] = {}
    for r in rows:
        if r["redundancy_ratio"] <= redundancy_tol:
            best[key(r)] = max(best.get(key(r), float("-inf")), float(r[score]))
    out = []
    for r in rows:
        r = dict(r)
        if r["redundancy_ratio"] > redundancy_tol:
            r["regime"] = REGIMES[0]
        elif float(r[score]) < best[key(r)] - saturation_tol:
            r["regime"] = REGIMES[1]
        else:
            r["regime"] = REGIMES[2]
        out.append(r)
    return out
