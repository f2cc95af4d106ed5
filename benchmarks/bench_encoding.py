"""Encoding benchmark W4: ridge with a per-target alpha against himalaya and scikit-learn, in the same run.

    .venv/bin/python benchmarks/bench_encoding.py              # a few minutes on 2 cores
    .venv/bin/python benchmarks/bench_encoding.py --quick      # 2000 targets instead of 10000 (labelled)
    .venv/bin/python benchmarks/bench_encoding.py --json out.json

W4  3000 stimuli x 768 features -> 10000 targets; 80/20 train/test split; 10 alphas (1e-2 ... 1e7);
    alpha per target chosen by 5-fold CV on the 2400 training stimuli (contiguous folds), refit on
    them, then held-out R2 per target on the 600 test stimuli.

Implementations (each returns the 10000 held-out R2 values):
* neurorep ``encoding.ridge_cv`` (float64 and float32): per fold one eigendecomposition of the
  768 x 768 covariance, every alpha's validation predictions in one stacked GEMM.
* himalaya ``RidgeCV(cv=5)`` on its numpy backend (float64 and float32): per fold one SVD, and per
  alpha a resolution matrix in sample space (see ``_decompose_ridge``).
* scikit-learn ``RidgeCV(alpha_per_target=True)``: scikit-learn chooses a per-target alpha only with
  its closed-form leave-one-out CV (``cv=None``), so it runs LOO instead of 5-fold (same alphas, same
  refit and test scoring); run once, it takes the longest.
The three implementations' alphas and R2 are checked against each other before timing (neurorep vs
himalaya: identical alphas; neurorep LOO vs scikit-learn: identical alphas).

Prints the median wall time over interleaved repeats, the ratio to each anchor, and the flop count
of neurorep's GEMM-shaped work against this machine's measured GEMM rate (same conventions as
``bench_rsa.py``). Not run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")

from neurorep.encoding import r2_per_target, ridge_cv  # noqa: E402

try:
    from himalaya.backend import set_backend
    from himalaya.ridge import RidgeCV as HRidgeCV
except ImportError:  # pragma: no cover
    sys.exit("bench_encoding.py needs himalaya (pip install -r requirements-test.txt)")
from sklearn.linear_model import RidgeCV as SKRidgeCV  # noqa: E402

ROWS: list[dict[str, Any]] = []
ALPHAS = np.logspace(-2, 7, 10)


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int, once: tuple[str, ...] = ()
                ) -> tuple[dict[str, float], dict[str, Any]]:
    """Median wall times of implementations run alternately (A B C A B C ...); names in ``once`` run once.

    Also returns each implementation's output of the first round (for the agreement checks).
    """
    times: dict[str, list[float]] = {k: [] for k in fns}
    first: dict[str, Any] = {}
    for r in range(repeats):
        for k, fn in fns.items():
            if r and k in once:
                continue
            t0 = time.perf_counter()
            out = fn()
            times[k].append(time.perf_counter() - t0)
            first.setdefault(k, out)
            print(f"    [{k}: {times[k][-1]:.2f} s]", flush=True)
    return {k: statistics.median(v) for k, v in times.items()}, first


def row(impl: str, seconds: float, *, flops: float | None = None, gemm_rate: float | None = None,
        note: str = "") -> dict[str, Any]:
    r: dict[str, Any] = {"workload": "W4", "impl": impl, "seconds": seconds, "note": note}
    if flops:
        r["gflops"] = flops / 1e9
        r["gflop_s"] = flops / seconds / 1e9
        if gemm_rate:
            r["pct_gemm"] = 100 * flops / seconds / gemm_rate
    ROWS.append(r)
    rate = f"  {r['gflop_s']:7.1f} GFLOP/s ({r['pct_gemm']:5.1f}% of GEMM)" if "pct_gemm" in r else ""
    print(f"  {impl:<40s} {seconds:9.2f} s{rate}{('  ' + note) if note else ''}", flush=True)
    return r


def machine_info() -> dict[str, Any]:
    from importlib.metadata import version

    from threadpoolctl import threadpool_info

    return {"python": platform.python_version(), "numpy": np.__version__, "himalaya": version("himalaya"),
            "scikit-learn": version("scikit-learn"), "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
            "blas": [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                     for d in threadpool_info() if d.get("user_api") == "blas"]}


def gemm_rates(repeats: int) -> dict[str, float]:
    """Measured GEMM rates (flop/s) of float64 and float32 2000^3 products (median of ``repeats``)."""
    rng = np.random.default_rng(0)
    out = {}
    for dt in (np.float64, np.float32):
        A = rng.standard_normal((2000, 2000)).astype(dt)
        B = rng.standard_normal((2000, 2000)).astype(dt)
        A @ B
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            A @ B
            ts.append(time.perf_counter() - t0)
        out[np.dtype(dt).name] = 2 * 2000 ** 3 / statistics.median(ts)
        print(f"  GEMM {np.dtype(dt).name:8s} 2000x2000x2000: {statistics.median(ts):.3f} s = "
              f"{out[np.dtype(dt).name] / 1e9:.1f} GFLOP/s", flush=True)
    return out


def ridge_flops(n_train: int, n_test: int, p: int, t: int, n_alphas: int, k: int) -> float:
    """GEMM-shaped flops of neurorep's K-fold ridge CV + refit + test predictions (eigh and O(nt) not counted).

    Per fold (training rows m, validation rows v, rank r = min(m, p) = p here): covariance syrk m p^2,
    projection 2 m p r, validation rows 2 v p r, B = (XV)'Y 2 m r t, all alphas' predictions
    2 (n_alphas v) r t. Refit on all training rows the same without validation, then 2 n_test p r + 2 n_test r t.
    """
    total = 0.0
    sizes = np.full(k, n_train // k)
    sizes[: n_train % k] += 1
    for v in sizes:
        m = n_train - v
        r = min(m, p)
        total += m * p * p + 2 * m * p * r + 2 * v * p * r + 2 * m * r * t + 2 * n_alphas * v * r * t
    r = min(n_train, p)
    total += n_train * p * p + 2 * n_train * p * r + 2 * n_train * r * t + 2 * n_test * p * r + 2 * n_test * r * t
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2000 targets instead of 10000 (labelled)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats per timing (median reported)")
    ap.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn (its LOO run is the slowest)")
    ap.add_argument("--all-dtypes", action="store_true", help="also time himalaya in float32")
    ap.add_argument("--anchors-once", action="store_true", help="time the anchors in the first round only")
    ap.add_argument("--json", help="write all rows and the machine description to this file")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    info = machine_info()
    print("machine:", json.dumps(info))
    print("note: 2 shared cores; other processes may be running, so absolute times are noisy; the ratios compare "
          "timings taken in this run, interleaved.")
    print("\nmeasured GEMM rate")
    gemm = gemm_rates(args.repeats)
    set_backend("numpy")

    n, p, t = 3000, 768, 2000 if args.quick else 10000
    n_train = int(0.8 * n)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, t)) / np.sqrt(p) * rng.uniform(0, 1, t)     # targets from pure noise to 50% signal
    Y = X @ W + rng.standard_normal((n, t))
    Xtr, Xte, Ytr, Yte = X[:n_train], X[n_train:], Y[:n_train], Y[n_train:]
    Xtr32, Ytr32, Xte32 = Xtr.astype(np.float32), Ytr.astype(np.float32), Xte.astype(np.float32)
    flops = ridge_flops(n_train, n - n_train, p, t, len(ALPHAS), 5)
    print(f"\nW4 ridge encoding {n} x {p} -> {t} targets{' (--quick)' if args.quick else ''}, {len(ALPHAS)} alphas, "
          f"5-fold CV on {n_train} training stimuli, held-out R2 on {n - n_train} "
          f"(neurorep GEMM flops {flops / 1e9:.0f} GFLOP)")

    def ours(dtype=np.float64, loo=False):
        Xa, Ya, Xb = (Xtr, Ytr, Xte) if dtype == np.float64 else (Xtr32, Ytr32, Xte32)
        fit = ridge_cv(Xa, Ya, ALPHAS, cv="loo" if loo else 5)
        return fit.best_alpha, r2_per_target(Yte, fit.predict(Xb).astype(float))

    def hima(dtype=np.float64):
        Xa, Ya, Xb = (Xtr, Ytr, Xte) if dtype == np.float64 else (Xtr32, Ytr32, Xte32)
        m = HRidgeCV(alphas=ALPHAS.astype(dtype), cv=5, fit_intercept=True).fit(Xa, Ya)
        return np.asarray(m.best_alphas_), r2_per_target(Yte, np.asarray(m.predict(Xb), dtype=float))

    def sk():
        m = SKRidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(Xtr, Ytr)
        return np.asarray(m.alpha_), r2_per_target(Yte, m.predict(Xte))

    fns: dict[str, Callable[[], Any]] = {"neurorep float64": ours, "neurorep float32": lambda: ours(np.float32),
                                         "himalaya float64": hima}
    if args.all_dtypes:
        fns["himalaya float32"] = lambda: hima(np.float32)
    if not args.no_sklearn:
        fns["sklearn RidgeCV (LOO)"] = sk
        fns["neurorep LOO float64"] = lambda: ours(loo=True)
    anchors_once = tuple(k for k in fns if not k.startswith("neurorep")) if args.anchors_once else ()
    times, out = interleaved(fns, args.repeats, once=anchors_once)
    (a_ours, r2_ours), (a_h, r2_h) = out["neurorep float64"], out["himalaya float64"]
    print(f"  check: alphas identical to himalaya for {np.mean(np.isclose(a_ours, a_h, rtol=1e-9)) * 100:.2f}% of "
          f"targets; max |R2 difference| {np.abs(r2_ours - r2_h).max():.2e}; mean held-out R2 {r2_ours.mean():.4f}")
    a32, r2_32 = out["neurorep float32"]
    print(f"  check: float32 alphas equal float64 for {np.mean(a32 == a_ours) * 100:.2f}% of targets; max |R2 "
          f"difference| {np.abs(r2_32 - r2_ours).max():.2e}")
    if "sklearn RidgeCV (LOO)" in out:
        a_sk, r2_sk = out["sklearn RidgeCV (LOO)"]
        print(f"  check: scikit-learn LOO alphas identical to neurorep cv='loo' for "
              f"{np.mean(out['neurorep LOO float64'][0] == a_sk) * 100:.2f}% of targets; its mean held-out R2 "
              f"{r2_sk.mean():.4f}")
    o64 = row("neurorep ridge_cv float64", times["neurorep float64"], flops=flops, gemm_rate=gemm["float64"])
    o32 = row("neurorep ridge_cv float32", times["neurorep float32"], flops=flops, gemm_rate=gemm["float32"])
    h64 = row("himalaya RidgeCV float64 (numpy)", times["himalaya float64"])
    anchors = [h64]
    if "himalaya float32" in times:
        anchors.append(row("himalaya RidgeCV float32 (numpy)", times["himalaya float32"]))
    if "sklearn RidgeCV (LOO)" in times:
        anchors.append(row("sklearn RidgeCV alpha_per_target (LOO)", times["sklearn RidgeCV (LOO)"],
                           note="(leave-one-out: sklearn has no per-target K-fold)"))
        lo = row("neurorep ridge_cv cv='loo' float64", times["neurorep LOO float64"])
        print(f"  -> neurorep LOO vs sklearn LOO: {times['sklearn RidgeCV (LOO)'] / lo['seconds']:.1f}x")
    for o in (o64, o32):
        print(f"  -> {o['impl']} speed-up vs " + ", ".join(f"{a['impl']}: {a['seconds'] / o['seconds']:.1f}x"
                                                         for a in anchors), flush=True)
    total = time.perf_counter() - t_start
    print(f"\ntotal benchmark time {total:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "gemm_flop_s": gemm, "rows": ROWS, "total_s": total}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
