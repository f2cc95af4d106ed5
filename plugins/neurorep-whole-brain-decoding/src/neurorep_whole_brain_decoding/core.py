"""Image-fMRI contrastive decoding: training, held-out retrieval and permutation nulls.

A brain encoder ``f`` (linear, or a one-hidden-layer MLP) and an image projection ``g`` (linear)
map brain patterns and image embeddings into a shared space; both are trained with the symmetric
InfoNCE loss of CLIP (Radford et al., 2021) on the training stimuli. Retrieval: each held-out brain
pattern is compared (cosine) with the embeddings of all held-out images, and it is correct when its
own image ranks first (top-1), among the first k (top-k), or the share of distractors it beats
(pairwise). Every retrieval score is the mean over held-out patterns of ``M[i, t(i)]`` for a
per-row matrix ``M`` (one-hot argmax, top-k indicator or normalised rank) and the true image
``t(i) = i``; the permutation null replaces ``t`` with a random pairing inside each fold, so it
needs no retraining.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("top1", "top5", "pairwise")


def fold_labels(n: int, n_folds: int, random_state: int) -> np.ndarray:
    """Seeded balanced fold label (0..n_folds-1) of each of ``n`` stimuli in canonical order."""
    rng = np.random.default_rng([int(random_state), 41])
    return rng.permutation(n) % n_folds


def _standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = train.mean(0)
    sd = train.std(0)
    sd[sd == 0] = 1.0
    return (train - mu) / sd, (test - mu) / sd


def _init_linear(layer, rng: np.random.Generator) -> None:
    import torch

    fan_in = layer.weight.shape[1]
    bound = 1.0 / np.sqrt(fan_in)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(layer.weight.shape))))
        layer.bias.zero_()


@dataclass
class ContrastiveModel:
    """A trained brain encoder and image projection (torch modules, float64)."""

    brain: object
    image: object

    def embed(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.no_grad():
            zb = torch.nn.functional.normalize(self.brain(torch.from_numpy(X)), dim=1)
            zi = torch.nn.functional.normalize(self.image(torch.from_numpy(Y)), dim=1)
        return zb.numpy(), zi.numpy()


def fit_contrastive(X: np.ndarray, Y: np.ndarray, *, embedding_dim: int, hidden: int, temperature: float,
                    epochs: int, lr: float, weight_decay: float, seed: int) -> ContrastiveModel:
    """Train ``f`` (brain) and ``g`` (image) with symmetric InfoNCE, full batch, Adam.

    ``X`` (n, p) and ``Y`` (n, q) are the standardised training rows, paired by row. Weights are
    drawn from ``np.random.default_rng(seed)`` (never torch's global generator).
    """
    import torch
    from torch import nn

    rng = np.random.default_rng([int(seed), 7])
    p, q = X.shape[1], Y.shape[1]
    if hidden > 0:
        brain = nn.Sequential(nn.Linear(p, hidden), nn.GELU(), nn.Linear(hidden, embedding_dim))
    else:
        brain = nn.Sequential(nn.Linear(p, embedding_dim))
    image = nn.Sequential(nn.Linear(q, embedding_dim))
    brain, image = brain.double(), image.double()
    for m in list(brain) + list(image):
        if isinstance(m, nn.Linear):
            _init_linear(m, rng)
    xt, yt = torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(Y))
    target = torch.arange(X.shape[0])
    opt = torch.optim.AdamW(list(brain.parameters()) + list(image.parameters()), lr=lr, weight_decay=weight_decay)
    for _ in range(int(epochs)):
        opt.zero_grad()
        zb = nn.functional.normalize(brain(xt), dim=1)
        zi = nn.functional.normalize(image(yt), dim=1)
        logits = zb @ zi.T / temperature
        loss = 0.5 * (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target))
        loss.backward()
        opt.step()
    brain.eval()
    image.eval()
    return ContrastiveModel(brain, image)


def score_matrix(sim: np.ndarray, metric: str) -> np.ndarray:
    """Per-row matrix ``M`` with ``M[i, j]`` the score of row i if candidate j were its true image."""
    n = sim.shape[1]
    if metric == "top1":
        m = np.zeros_like(sim)
        m[np.arange(sim.shape[0]), sim.argmax(1)] = 1.0
        return m
    if metric == "top5":
        k = min(5, n)
        order = np.argsort(-sim, axis=1, kind="stable")[:, :k]
        m = np.zeros_like(sim)
        np.put_along_axis(m, order, 1.0, axis=1)
        return m
    # pairwise: the share of the other candidates that candidate j beats in row i
    ranks = np.argsort(np.argsort(sim, axis=1, kind="stable"), axis=1, kind="stable")
    return ranks / max(n - 1, 1)


def chance_level(n_candidates: int, metric: str) -> float:
    if metric == "top1":
        return 1.0 / n_candidates
    if metric == "top5":
        return min(5, n_candidates) / n_candidates
    return 0.5


@dataclass
class FoldSims:
    """Held-out cosine similarities of one fold: ``sims[name]`` is (n_test, n_test), row i's true image is i."""

    sims: dict[str, np.ndarray]


def cross_validated_sims(X: np.ndarray, Y: np.ndarray, folds: np.ndarray, ablations: dict[str, np.ndarray],
                         mode: str, **fit) -> list[FoldSims]:
    """Train on each fold's complement and return held-out similarities for the full input and each ablation.

    ``ablations`` maps a name to a boolean feature mask (True = ablated). ``mode="zero"``: the trained
    encoder sees the held-out patterns with those (standardised) features set to 0, the training mean;
    ``mode="retrain"``: a new encoder is trained without them.
    """
    out = []
    for k in np.unique(folds):
        te, tr = folds == k, folds != k
        Xtr, Xte = _standardize(X[tr], X[te])
        Ytr, Yte = _standardize(Y[tr], Y[te])
        model = fit_contrastive(Xtr, Ytr, **fit)
        zb, zi = model.embed(Xte, Yte)
        sims = {"": zb @ zi.T}
        for name, mask in ablations.items():
            if mode == "zero":
                Xa = Xte.copy()
                Xa[:, mask] = 0.0
                za, _ = model.embed(Xa, Yte)
            else:
                m2 = fit_contrastive(Xtr[:, ~mask], Ytr, **fit)
                za, zi2 = m2.embed(Xte[:, ~mask], Yte)
                sims[name] = za @ zi2.T
                continue
            sims[name] = za @ zi.T
        out.append(FoldSims(sims))
    return out


def retrieval(folds: list[FoldSims], name: str, metric: str, n_permutations: int, random_state: int) -> dict:
    """Pooled held-out retrieval score of ``name``, chance, and a within-fold pairing-permutation p-value."""
    mats = [score_matrix(f.sims[name], metric) for f in folds]
    n = sum(m.shape[0] for m in mats)
    score = float(sum(np.trace(m) for m in mats) / n)
    chance = float(sum(m.shape[0] * chance_level(m.shape[1], metric) for m in mats) / n)
    p = float("nan")
    if n_permutations > 0:
        rng = np.random.default_rng([int(random_state), 2])
        null = np.zeros(n_permutations)
        for m in mats:
            k = m.shape[0]
            perms = rng.permuted(np.broadcast_to(np.arange(k), (n_permutations, k)), axis=1)
            null += m[np.arange(k)[None], perms].sum(1)
        null /= n
        p = float((1 + np.sum(null >= score - 1e-12)) / (1 + n_permutations))
    return {"score": score, "chance": chance, "p_value": p, "n": n}
