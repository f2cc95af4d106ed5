"""Similarity benchmark W3: a 12 x 12 layer-by-layer linear CKA matrix at 2000 stimuli x 768 features.

    .venv/bin/python benchmarks/bench_similarity.py              # full run (about 2-4 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_similarity.py --json out.json

Two networks of 12 layers each (2000 stimuli x 768 units per layer, float64); every layer of one
against every layer of the other (144 CKA values), and the symmetric within-network matrix.

Implementations, timed in this run, interleaved (A B C A B C ...) so that load from other processes
hits them alike; median wall time over repeats:

* neurorep ``cka_matrix`` (float64 and float32): one centred Gram per layer (BLAS syrk), the
  inner products of all Gram pairs as one GEMM.
* neurorep ``cka.linear`` analyzer called for each of the 144 pairs, as a recipe with
  ``pairing = "product"`` does (kernel cache on).
* anchors: the per-pair numpy code of Kornblith et al.'s notebook in its Gram form
  (``gram_linear`` + ``center_gram`` + ``hsic`` per pair, the pattern torch-cka's ``CKA`` class
  follows) and in its feature-space form (``feature_space_linear_cka``), both timed on 12 of the
  144 pairs and scaled by 12 (labelled); torch (CPU) running the same batched algorithm as ours.
* debiased CKA: neurorep ``cka_matrix(debiased=True)`` against pytorch-cka's ``cka_from_features``
  (batched unbiased HSIC in torch; a test-only dependency).
  netrep has no installable distribution for this Python and no CKA matrix routine (see README).

Flop count: ``n(n+1)p`` per syrk (``n(n+1)/2`` dot products of length ``p``), ``2 k_a k_b n^2`` for
the Gram inner products; O(np) and O(n^2) elementwise work not counted. Rates are reported
against this machine's measured square GEMM rate and the measured syrk rate at the W3 shape.
Not run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from neurorep.builtin.similarity import LinearCKA, clear_kernel_cache
from neurorep.similarity import cka_matrix
from neurorep.types import Representation

ROWS: list[dict[str, Any]] = []


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def row(workload: str, impl: str, seconds: float, *, flops: float | None = None,
        rates: dict[str, float] | None = None, note: str = "") -> dict[str, Any]:
    r: dict[str, Any] = {"workload": workload, "impl": impl, "seconds": seconds, "note": note}
    txt = ""
    if flops:
        r["gflops"] = flops / 1e9
        r["gflop_s"] = flops / seconds / 1e9
        txt = f"  {r['gflop_s']:6.1f} GFLOP/s"
        for name, rate in (rates or {}).items():
            r[f"pct_{name}"] = 100 * flops / seconds / rate
            txt += f" ({r[f'pct_{name}']:5.1f}% of {name})"
    ROWS.append(r)
    print(f"  {impl:<46s} {seconds:8.3f} s{txt}{('  ' + note) if note else ''}", flush=True)
    return r


def ratio_line(ours: dict, anchors: list[dict]) -> None:
    parts = [f"{a['impl']}: {a['seconds'] / ours['seconds']:.1f}x" for a in anchors]
    print(f"  -> {ours['impl']} speed-up vs " + ", ".join(parts), flush=True)


def machine_info() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    return {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(),
            "loadavg": os.getloadavg(),
            "blas": [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                     for d in threadpool_info() if d.get("user_api") == "blas"]}


def blas_rates(repeats: int, n: int, p: int) -> dict[str, float]:
    """Measured rates (flop/s): square float64/float32 GEMM 2000^3, and float64 syrk at the W3 shape."""
    rng = np.random.default_rng(0)
    out = {}
    for dt in (np.float64, np.float32):
        A = rng.standard_normal((2000, 2000)).astype(dt)
        B = rng.standard_normal((2000, 2000)).astype(dt)
        A @ B
        t = interleaved({"g": lambda: A @ B}, repeats)["g"]
        out[f"GEMM {np.dtype(dt).name}"] = 2 * 2000 ** 3 / t
        print(f"  GEMM {np.dtype(dt).name:8s} 2000x2000x2000: {t:.3f} s = {out[f'GEMM {np.dtype(dt).name}'] / 1e9:.1f} "
              "GFLOP/s", flush=True)
    X = rng.standard_normal((n, p))
    X @ X.T
    t = interleaved({"s": lambda: X @ X.T}, repeats)["s"]
    out["syrk float64"] = n * (n + 1) * p / t
    print(f"  syrk float64 {n}x{p} (X X'): {t:.3f} s = {out['syrk float64'] / 1e9:.1f} GFLOP/s", flush=True)
    return out


def make_network(n: int, p: int, depth: int, seed: int) -> list[np.ndarray]:
    """``depth`` layers of a random tanh network (unit-scale activations), each (n, p) float64."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, p))
    layers = []
    for _ in range(depth):
        h = np.tanh(h @ (rng.standard_normal((p, p)) / np.sqrt(p)) * 1.5 + 0.1 * rng.standard_normal((n, p)))
        layers.append(h.copy())
    return layers


# --------------------------------------------------------------------------- anchors (written as users write them)

def kornblith_gram_pair(x: np.ndarray, y: np.ndarray) -> float:
    """Per pair, as Kornblith et al.'s notebook (gram_linear, center_gram, cka)."""
    def center(g):
        g = g.copy()
        means = np.mean(g, 0, dtype=np.float64)
        means -= np.mean(means) / 2
        g -= means[:, None]
        g -= means[None, :]
        return g
    gx, gy = center(x @ x.T), center(y @ y.T)
    return float(gx.ravel().dot(gy.ravel()) / (np.linalg.norm(gx) * np.linalg.norm(gy)))


def kornblith_feature_pair(x: np.ndarray, y: np.ndarray) -> float:
    """Per pair, as the notebook's feature_space_linear_cka."""
    x = x - np.mean(x, 0, keepdims=True)
    y = y - np.mean(y, 0, keepdims=True)
    dot = np.linalg.norm(x.T @ y) ** 2
    return float(dot / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


def torch_batched(A: list[np.ndarray], B: list[np.ndarray]) -> np.ndarray:
    import torch

    def grams(L):
        out = []
        for a in L:
            t = torch.from_numpy(a)
            t = t - t.mean(0)
            out.append((t @ t.T).reshape(-1))
        return torch.stack(out)
    ga, gb = grams(A), grams(B)
    num = ga @ gb.T
    return (num / torch.outer(ga.norm(dim=1), gb.norm(dim=1))).numpy()


def bench_w3(rates: dict[str, float], repeats: int, n: int, p: int, depth: int, sample_pairs: int) -> None:
    A = make_network(n, p, depth, 1)
    B = make_network(n, p, depth, 2)
    ids = tuple(f"s{i}" for i in range(n))
    RA = [Representation(a, ids, name=f"a{i}") for i, a in enumerate(A)]
    RB = [Representation(b, ids, name=f"b{i}") for i, b in enumerate(B)]
    syrk = n * (n + 1) * p
    flops_ab = 2 * depth * syrk + 2 * depth * depth * n * n
    flops_aa = depth * syrk + 2 * depth * depth * n * n
    rate_d = {"GEMM f64": rates["GEMM float64"], "syrk f64": rates["syrk float64"]}
    rate_s = {"GEMM f32": rates["GEMM float32"]}

    ref = cka_matrix(A, B)
    pairs = [(i, j) for i in range(depth) for j in range(depth)]
    sub = pairs[:: max(1, len(pairs) // sample_pairs)][:sample_pairs]
    scale = len(pairs) / len(sub)
    chk_k = np.array([kornblith_gram_pair(A[i], B[j]) for i, j in sub])
    chk_f = np.array([kornblith_feature_pair(A[i], B[j]) for i, j in sub])
    chk_ref = np.array([ref[i, j] for i, j in sub])
    print(f"  agreement on {len(sub)} pairs: max |ours - notebook Gram| = {np.abs(chk_k - chk_ref).max():.2e}, "
          f"|ours - notebook features| = {np.abs(chk_f - chk_ref).max():.2e}; float32 max |diff| = "
          f"{np.abs(cka_matrix(A, B, dtype=np.float32) - ref).max():.2e}", flush=True)

    def analyzer_loop():
        clear_kernel_cache()
        a = LinearCKA()
        return [a.analyze(x, y)[0].score for x in RA for y in RB]

    assert np.allclose(np.array(analyzer_loop()).reshape(depth, depth), ref, atol=1e-10)

    print(f"\nW3 {depth} x {depth} linear CKA, two networks, {n} stimuli x {p} features per layer "
          f"({flops_ab / 1e9:.1f} GFLOP: {2 * depth} syrks + the Gram inner products)")
    G1, G2 = np.random.default_rng(5).standard_normal((2, 2000, 2000))
    Xs = A[0]
    fns = {
        "gemm": lambda: G1 @ G2,             # the machine's rates, measured in the same rounds as the workload
        "syrk": lambda: Xs @ Xs.T,
        "ours": lambda: cka_matrix(A, B),
        "ours32": lambda: cka_matrix(A, B, dtype=np.float32),
        "analyzer": analyzer_loop,
        "torch": lambda: torch_batched(A, B),
        "kg": lambda: [kornblith_gram_pair(A[i], B[j]) for i, j in sub],
        "kf": lambda: [kornblith_feature_pair(A[i], B[j]) for i, j in sub],
    }
    t = interleaved(fns, repeats)
    rate_d = {"GEMM f64": 2 * 2000 ** 3 / t["gemm"], "syrk f64": syrk / t["syrk"]}
    print(f"  rates in these rounds: GEMM f64 {rate_d['GEMM f64'] / 1e9:.1f} GFLOP/s, syrk f64 at the W3 shape "
          f"{rate_d['syrk f64'] / 1e9:.1f} GFLOP/s (used below)", flush=True)
    ours = row("W3 a x b", "neurorep cka_matrix float64", t["ours"], flops=flops_ab, rates=rate_d)
    ours32 = row("W3 a x b", "neurorep cka_matrix float32", t["ours32"], flops=flops_ab, rates=rate_s)
    via = row("W3 a x b", f"neurorep cka.linear x {depth * depth} (kernel cache)", t["analyzer"], flops=flops_ab,
              rates=rate_d)
    anchors = [
        row("W3 a x b", "torch CPU, same batched algorithm", t["torch"], flops=flops_ab, rates=rate_d),
        row("W3 a x b", "Kornblith notebook per pair, Gram form", t["kg"] * scale,
            flops=len(pairs) * 2 * syrk, rates=rate_d, note=f"(extrapolated from {len(sub)} pairs)"),
        row("W3 a x b", "Kornblith notebook per pair, feature form", t["kf"] * scale,
            flops=len(pairs) * 2 * n * 3 * p * p, rates=rate_d, note=f"(extrapolated from {len(sub)} pairs)"),
    ]
    ratio_line(ours, anchors)
    ratio_line(ours32, anchors)
    ratio_line(via, anchors)

    pt_flops = 2 * depth * 2 * n * n * p + 2 * depth * depth * n * n
    print(f"\nW3 debiased (unbiased HSIC) {depth} x {depth} CKA, two networks ({flops_ab / 1e9:.1f} GFLOP as ours; "
          f"pytorch-cka forms each Gram with a full GEMM, {pt_flops / 1e9:.1f} GFLOP)")
    try:
        import torch
        from cka.cka import cka_from_features
    except ImportError:  # pragma: no cover - reporting only
        cka_from_features = None
        print("  pytorch-cka is not installed (pip install -r requirements-test.txt): anchor skipped")
    ref_d = cka_matrix(A, B, debiased=True)
    fns = {"gemm": lambda: G1 @ G2, "ours": lambda: cka_matrix(A, B, debiased=True)}
    if cka_from_features is not None:
        TA, TB = [torch.from_numpy(a) for a in A], [torch.from_numpy(b) for b in B]
        theirs = cka_from_features(TA, TB).numpy()
        print(f"  agreement: max |clip(ours, 0, 1) - pytorch-cka| = {np.abs(theirs - np.clip(ref_d, 0, 1)).max():.2e} "
              "(pytorch-cka clips scores to [0, 1])", flush=True)
        fns["pt"] = lambda: cka_from_features(TA, TB)
    t = interleaved(fns, repeats)
    rate_d = {"GEMM f64": 2 * 2000 ** 3 / t["gemm"]}
    o = row("W3 debiased a x b", "neurorep cka_matrix(debiased=True)", t["ours"], flops=flops_ab, rates=rate_d)
    if "pt" in t:
        a = row("W3 debiased a x b", "pytorch-cka cka_from_features (float64)", t["pt"],
                flops=2 * depth * 2 * n * n * p + 2 * depth * depth * n * n, rates=rate_d)
        ratio_line(o, [a])

    print(f"\nW3 {depth} x {depth} linear CKA within one network (symmetric; {flops_aa / 1e9:.1f} GFLOP)")
    t = interleaved({"gemm": lambda: G1 @ G2, "ours": lambda: cka_matrix(A)}, repeats)
    rate_d = {"GEMM f64": 2 * 2000 ** 3 / t["gemm"]}
    row("W3 a x a", "neurorep cka_matrix float64", t["ours"], flops=flops_aa, rates=rate_d)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds per workload (median reported)")
    ap.add_argument("--pairs", type=int, default=12, help="pairs the per-pair anchors are timed on")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--p", type=int, default=768)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--json", help="write all rows and the machine description to this file")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    info = machine_info()
    print("machine:", json.dumps(info))
    print("note: shared cores; other processes may be running, so absolute times are noisy; every ratio below "
          "compares timings taken in this run, interleaved.")
    print("\nmeasured BLAS rates")
    rates = blas_rates(args.repeats, args.n, args.p)
    bench_w3(rates, args.repeats, args.n, args.p, args.depth, args.pairs)
    total = time.perf_counter() - t0
    print(f"\ntotal benchmark time {total:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "rates_flop_s": rates, "rows": ROWS, "total_s": total}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
