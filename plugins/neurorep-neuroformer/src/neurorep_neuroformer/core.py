"""Numerics of the tiny Neuroformer: spike tokens, the model, training, likelihoods, attention connectivity.

Plain torch on the CPU, float32, with every random draw taken from the caller's seed (weights are
initialised inside ``torch.random.fork_rng`` and batches are shuffled with a seeded ``torch.Generator``;
the global random state is left as it was). Import this module only where torch is wanted: the plugin's
components import it lazily.

Tokens (for a prediction of time bin ``t``):

* past state: one token per event of neuron ``j`` in bins ``t - n_past .. t - 1`` (neuron-id embedding +
  the embedding of how many bins ago it was), at most ``max_past_tokens`` (the newest kept);
* context: one token per bin ``t - n_past .. t`` holding that bin's stimulus/behaviour features (a linear
  projection + a time embedding);
* current window: ``[SOS, n_1, n_2, ..., n_k]`` with targets ``[n_1, ..., n_k, EOS]``, the neurons that fired
  in bin ``t`` in increasing id order. Logits of ids not above the previous token are masked, so the
  model's sequence probability is an exact probability of the set of neurons that fired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["Tokens", "tokenize", "TinyNeuroformer", "fit_model", "sequence_loglik", "rate_baseline_loglik",
           "attention_connectivity", "window_embeddings", "FitResult", "fit_and_score"]


@dataclass
class Tokens:
    """Padded token arrays for ``n_samples`` predicted bins (see the module docstring)."""

    bins: np.ndarray        # (S,) the predicted bin index t
    past_ids: np.ndarray    # (S, Lp) neuron id, n_neurons = pad
    past_dt: np.ndarray     # (S, Lp) bins ago - 1 (0 = the previous bin)
    context: np.ndarray     # (S, n_past + 1, F) features of bins t - n_past .. t
    cur_in: np.ndarray      # (S, Lc) SOS, neuron ids..., pad
    cur_out: np.ndarray     # (S, Lc) neuron ids..., EOS, then -100 (ignored)
    n_neurons: int
    n_past: int

    @property
    def sos(self) -> int:
        return self.n_neurons + 1

    @property
    def eos(self) -> int:
        return self.n_neurons

    def take(self, idx: np.ndarray) -> Tokens:
        return Tokens(self.bins[idx], self.past_ids[idx], self.past_dt[idx], self.context[idx], self.cur_in[idx],
                      self.cur_out[idx], self.n_neurons, self.n_past)


def tokenize(events: np.ndarray, context: np.ndarray | None, n_past: int, max_past_tokens: int) -> Tokens:
    """Events ``(n_bins, n_neurons)`` (bool) and context ``(n_bins, F)`` -> tokens for bins ``n_past ..``."""
    T, N = events.shape
    ctx = np.zeros((T, 0), dtype=np.float32) if context is None else np.asarray(context, dtype=np.float32)
    bins = np.arange(n_past, T)
    S = bins.size
    per_bin = [np.flatnonzero(events[t]) for t in range(T)]
    past_ids = np.full((S, max_past_tokens), N, dtype=np.int64)
    past_dt = np.zeros((S, max_past_tokens), dtype=np.int64)
    lc = max(1, max(len(p) for p in per_bin)) + 1
    cur_in = np.full((S, lc), N + 2, dtype=np.int64)
    cur_out = np.full((S, lc), -100, dtype=np.int64)
    for s, t in enumerate(bins):
        ids, dts = [], []
        for d in range(1, n_past + 1):  # newest first, so truncation keeps the newest
            ids.extend(per_bin[t - d])
            dts.extend([d - 1] * len(per_bin[t - d]))
        ids, dts = ids[:max_past_tokens], dts[:max_past_tokens]
        past_ids[s, :len(ids)] = ids
        past_dt[s, :len(dts)] = dts
        now = per_bin[t]
        cur_in[s, 0] = N + 1
        cur_in[s, 1:1 + len(now)] = now
        cur_out[s, :len(now)] = now
        cur_out[s, len(now)] = N
    window = bins[:, None] + np.arange(-n_past, 1)[None, :]
    return Tokens(bins, past_ids, past_dt, ctx[window], cur_in, cur_out, N, n_past)


class _Attention(nn.Module):
    def __init__(self, d: int, h: int):
        super().__init__()
        self.h, self.dk = h, d // h
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mem, key_pad, causal: bool):
        B, L, d = x.shape
        M = mem.shape[1]
        q = self.q(x).view(B, L, self.h, self.dk).transpose(1, 2)
        k = self.k(mem).view(B, M, self.h, self.dk).transpose(1, 2)
        v = self.v(mem).view(B, M, self.h, self.dk).transpose(1, 2)
        sc = q @ k.transpose(-1, -2) / math.sqrt(self.dk)
        mask = key_pad[:, None, None, :].expand(B, 1, L, M)
        if causal:
            mask = mask | torch.ones(L, M, dtype=torch.bool, device=x.device).triu(1)[None, None]
        sc = sc.masked_fill(mask, float("-inf"))
        w = torch.softmax(sc, dim=-1)
        w = torch.nan_to_num(w, nan=0.0)
        out = (w @ v).transpose(1, 2).reshape(B, L, d)
        return self.o(out), w


class _Block(nn.Module):
    def __init__(self, d: int, h: int):
        super().__init__()
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn, self.cross_attn = _Attention(d, h), _Attention(d, h)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, cur_pad, mem, mem_pad):
        a, _ = self.self_attn(self.ln1(x), self.ln1(x), cur_pad, causal=True)
        x = x + a
        c, w = self.cross_attn(self.ln2(x), mem, mem_pad, causal=False)
        x = x + c
        return x + self.mlp(self.ln3(x)), w


class TinyNeuroformer(nn.Module):
    """Decoder-only GPT over the current window's spike tokens, cross-attending to the past state and context."""

    def __init__(self, n_neurons: int, n_features: int, n_past: int, d_model: int, n_heads: int, n_layers: int):
        super().__init__()
        N, d = n_neurons, d_model
        self.n_neurons = N
        self.tok = nn.Embedding(N + 3, d)          # neurons, EOS, SOS, PAD
        self.pos = nn.Embedding(N + 2, d)
        self.past_tok = nn.Embedding(N + 1, d)     # neurons, PAD
        self.past_dt = nn.Embedding(n_past, d)
        self.ctx_proj = nn.Linear(n_features, d) if n_features else None
        self.ctx_dt = nn.Embedding(n_past + 1, d)
        self.mem_ln = nn.LayerNorm(d)
        self.blocks = nn.ModuleList(_Block(d, n_heads) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, N + 1)            # neurons, EOS

    def memory(self, past_ids, past_dt, context):
        mem = self.past_tok(past_ids) + self.past_dt(past_dt)
        pad = past_ids == self.n_neurons
        if self.ctx_proj is not None:
            c = self.ctx_proj(context) + self.ctx_dt.weight[None, : context.shape[1]]
            mem = torch.cat([mem, c], dim=1)
            pad = torch.cat([pad, torch.zeros(c.shape[:2], dtype=torch.bool)], dim=1)
        if bool(pad.all(dim=1).any()):  # a bin with no past event and no context: one always-visible null key
            mem = torch.cat([mem, torch.zeros_like(mem[:, :1])], dim=1)
            pad = torch.cat([pad, torch.zeros_like(pad[:, :1])], dim=1)
        return self.mem_ln(mem), pad

    def forward(self, past_ids, past_dt, context, cur_in):
        """Masked logits ``(B, Lc, n_neurons + 1)``, per-layer residuals and cross-attention weights."""
        mem, mem_pad = self.memory(past_ids, past_dt, context)
        L = cur_in.shape[1]
        x = self.tok(cur_in) + self.pos.weight[None, :L]
        cur_pad = cur_in == self.n_neurons + 2
        resid, attn = [], []
        for blk in self.blocks:
            x, w = blk(x, cur_pad, mem, mem_pad)
            resid.append(x)
            attn.append(w)
        logits = self.head(self.ln_f(x))
        # sorted order: after neuron m only neurons > m (or EOS) may follow
        prev = torch.where(cur_in >= self.n_neurons, torch.full_like(cur_in, -1), cur_in)
        ids = torch.arange(self.n_neurons + 1)
        banned = (ids[None, None, :] <= prev[:, :, None]) & (ids[None, None, :] < self.n_neurons)
        logits = logits.masked_fill(banned, float("-inf"))
        return logits, resid, attn


def _t(a, dtype=torch.long):
    return torch.as_tensor(a, dtype=dtype)


def _batches(tok: Tokens, batch_size: int, gen: torch.Generator | None):
    n = tok.bins.size
    order = torch.randperm(n, generator=gen).numpy() if gen is not None else np.arange(n)
    for i in range(0, n, batch_size):
        yield tok.take(order[i:i + batch_size])


def _forward(model: TinyNeuroformer, b: Tokens):
    return model(_t(b.past_ids), _t(b.past_dt), _t(b.context, torch.float32), _t(b.cur_in))


def fit_model(tok: Tokens, n_features: int, *, d_model: int, n_heads: int, n_layers: int, n_epochs: int,
              lr: float, batch_size: int, random_state: int) -> TinyNeuroformer:
    """Train with cross-entropy on the next spike token (AdamW, seeded)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(random_state))
        model = TinyNeuroformer(tok.n_neurons, n_features, tok.n_past, d_model, n_heads, n_layers)
    gen = torch.Generator().manual_seed(int(random_state) + 1)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    model.train()
    for _ in range(n_epochs):
        for b in _batches(tok, batch_size, gen):
            logits, _, _ = _forward(model, b)
            y = _t(b.cur_out)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


@torch.no_grad()
def sequence_loglik(model: TinyNeuroformer, tok: Tokens, batch_size: int = 512) -> np.ndarray:
    """Log-probability (nats) of the set of neurons that fired, for every predicted bin."""
    out = []
    for b in _batches(tok, batch_size, None):
        logits, _, _ = _forward(model, b)
        lp = torch.log_softmax(logits, dim=-1)
        y = _t(b.cur_out)
        keep = y >= 0
        g = lp.gather(-1, y.clamp(min=0)[..., None])[..., 0]
        out.append(torch.where(keep, g, torch.zeros_like(g)).sum(1).double().numpy())
    return np.concatenate(out)


def rate_baseline_loglik(train_events: np.ndarray, test_events: np.ndarray) -> np.ndarray:
    """Log-probability (nats) per test bin under independent Bernoulli neurons at their training rates."""
    n = train_events.shape[0]
    p = np.clip(train_events.mean(0), 0.5 / n, 1 - 0.5 / n)
    y = test_events.astype(float)
    return (y * np.log(p) + (1 - y) * np.log1p(-p)).sum(1)


@torch.no_grad()
def attention_connectivity(model: TinyNeuroformer, tok: Tokens, layers: list[int] | None = None,
                           batch_size: int = 512) -> np.ndarray:
    """Directed connectivity ``C[j, i]`` from cross-attention (pre ``j``, post ``i``).

    For every position of the current window whose target is neuron ``i``, the cross-attention weights
    (averaged over heads and over ``layers``, default all) on the past-state tokens of neuron ``j`` are
    summed; ``C[j, i]`` is that sum divided by the number of such predictions in which ``j`` was present in
    the past state (the mean attention paid to ``j`` when ``i`` is predicted and ``j`` can be attended to).
    Pairs never co-occurring get 0.
    """
    N = tok.n_neurons
    total = np.zeros((N, N))
    count = np.zeros((N, N))
    for b in _batches(tok, batch_size, None):
        _, _, attn = _forward(model, b)
        sel = attn if layers is None else [attn[k] for k in layers]
        w = torch.stack(sel).mean(0).mean(1).double().numpy()      # (B, Lc, M)
        Lp = b.past_ids.shape[1]
        w = w[:, :, :Lp]
        onehot = (b.past_ids[:, :, None] == np.arange(N)[None, None, :]).astype(float)  # (B, Lp, N)
        per_j = np.einsum("blm,bmj->blj", w, onehot)                 # attention on neuron j's tokens
        present = onehot.max(1)                                      # (B, N)
        tgt = b.cur_out
        for i in range(N):
            bi, li = np.nonzero(tgt == i)
            if bi.size:
                total[:, i] += per_j[bi, li].sum(0)
                count[:, i] += present[bi].sum(0)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


@torch.no_grad()
def window_embeddings(model: TinyNeuroformer, tok: Tokens, batch_size: int = 512) -> dict[str, np.ndarray]:
    """Per-window representations: each block's residual stream at the SOS position (the model's state before
    it emits the window's first spike) and the mean memory (past-state and context tokens)."""
    res: dict[str, list[np.ndarray]] = {}
    for b in _batches(tok, batch_size, None):
        past_ids, past_dt, ctx = _t(b.past_ids), _t(b.past_dt), _t(b.context, torch.float32)
        mem, pad = model.memory(past_ids, past_dt, ctx)
        keep = (~pad).float()[..., None]
        res.setdefault("memory", []).append(((mem * keep).sum(1) / keep.sum(1)).numpy())
        _, resid, _ = model(past_ids, past_dt, ctx, _t(b.cur_in))
        for k, r in enumerate(resid):
            res.setdefault(f"blocks.{k}.hook_resid_post", []).append(r[:, 0].numpy())
    return {k: np.concatenate(v).astype(float) for k, v in res.items()}


@dataclass
class FitResult:
    model: TinyNeuroformer
    train: Tokens
    test: Tokens
    loglik_model: np.ndarray      # per held-out bin, nats
    loglik_rate: np.ndarray       # per held-out bin, nats
    n_test_spikes: int


def fit_and_score(events: np.ndarray, context: np.ndarray | None, *, n_past: int, max_past_tokens: int,
                  test_fraction: float, d_model: int, n_heads: int, n_layers: int, n_epochs: int, lr: float,
                  batch_size: int, random_state: int) -> FitResult:
    """Train on the first ``1 - test_fraction`` of the bins and score the held-out tail against the rate baseline."""
    T = events.shape[0]
    split = int(round(T * (1 - test_fraction)))
    tok = tokenize(events, context, n_past, max_past_tokens)
    is_train = tok.bins < split
    train, test = tok.take(np.flatnonzero(is_train)), tok.take(np.flatnonzero(~is_train))
    F = 0 if context is None else int(np.asarray(context).shape[1])
    model = fit_model(train, F, d_model=d_model, n_heads=n_heads, n_layers=n_layers, n_epochs=n_epochs, lr=lr,
                      batch_size=batch_size, random_state=random_state)
    ll = sequence_loglik(model, test) if test.bins.size else np.zeros(0)
    base = rate_baseline_loglik(events[train.bins], events[test.bins])
    return FitResult(model, train, test, ll, base, int(events[test.bins].sum()))
