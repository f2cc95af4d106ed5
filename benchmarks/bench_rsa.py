"""RSA benchmarks W1 and W2: neurorep.rsa against rsatoolbox and scipy, measured in the same run.

    .venv/bin/python benchmarks/bench_rsa.py            # full run (a few minutes on 2 cores)
    .venv/bin/python benchmarks/bench_rsa.py --quick    # smaller resample counts, extrapolated (says so)
    .venv/bin/python benchmarks/bench_rsa.py --json out.json
    .venv/bin/python benchmarks/bench_rsa.py --only w2 --methods tau-a   # one W2 comparison

W1  RDMs of 1000 stimuli x 20000 features (correlation, Euclidean), float64 and float32;
    crossnobis at 200 stimuli x 2000 features x 4 runs (identity and shrinkage noise precision).
W2  one data RDM (200 stimuli) against 50 model RDMs with Spearman, tau-a, cosine and Pearson;
    1,000 stimulus-relabelling permutations and 1,000 stimulus-bootstrap samples of all 50 scores.

Every workload prints the median wall time over repeats, the ratio to each anchor measured
in this run, and, where it is GEMM-bound, its flop count and rate against this machine's
measured float64/float32 GEMM rate. Anchors whose full run would take minutes are timed on a
subsample and extrapolated linearly; those rows are marked "extrapolated from k".
Not run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # rsatoolbox's bootstrap progress bars
warnings.filterwarnings("ignore")

from scipy import stats  # noqa: E402
from scipy.spatial.distance import cosine as sp_cosine  # noqa: E402
from scipy.spatial.distance import pdist  # noqa: E402

from neurorep.rsa import bootstrap, compare, permutation_test  # noqa: E402
from neurorep.rsa.rdm import crossnobis_rdms, pattern_rdms, prec_from_residuals, residuals_from_repeats  # noqa: E402

try:
    import rsatoolbox as rt
    from rsatoolbox.rdm.rdms import permute_rdms
except ImportError:  # pragma: no cover
    sys.exit("bench_rsa.py needs rsatoolbox (pip install -r requirements-test.txt)")

RT_NAMES = {"spearman": "spearman", "tau-a": "tau-a", "cosine": "cosine", "pearson": "corr"}
ROWS: list[dict[str, Any]] = []


def timeit(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``repeats`` calls."""
    return interleaved({"f": fn}, repeats)["f"]


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int, once: tuple[str, ...] = ()) -> dict[str, float]:
    """Median wall times of several implementations run in alternation (A B C A B C ...), so that load from
    other processes on the shared machine hits them alike; names in ``once`` run in the first round only."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(repeats):
        for k, fn in fns.items():
            if r and k in once:
                continue
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def row(workload: str, impl: str, seconds: float, *, flops: float | None = None, gemm_rate: float | None = None,
        note: str = "") -> dict[str, Any]:
    r = {"workload": workload, "impl": impl, "seconds": seconds, "note": note}
    if flops:
        r["gflops"] = flops / 1e9
        r["gflop_s"] = flops / seconds / 1e9
        if gemm_rate:
            r["pct_gemm"] = 100 * flops / seconds / gemm_rate
    ROWS.append(r)
    rate = f"  {r['gflop_s']:7.1f} GFLOP/s ({r['pct_gemm']:5.1f}% of GEMM)" if "pct_gemm" in r else ""
    print(f"  {impl:<34s} {seconds:9.3f} s{rate}{('  ' + note) if note else ''}", flush=True)
    return r


def ratio_line(ours: dict, anchors: list[dict]) -> None:
    parts = [f"{a['impl']}: {a['seconds'] / ours['seconds']:.1f}x" for a in anchors]
    print(f"  -> {ours['impl']} speed-up vs " + ", ".join(parts), flush=True)


# =========================================================================== machine

def machine_info() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    from importlib.metadata import version

    info = {"python": platform.python_version(), "numpy": np.__version__, "rsatoolbox": version("rsatoolbox"),
            "cpus": os.cpu_count(), "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "loadavg": os.getloadavg(), "blas": [{k: d.get(k) for k in ("internal_api", "version", "num_threads",
                                                                          "architecture")}
                                                 for d in threadpool_info() if d.get("user_api") == "blas"]}
    import scipy

    info["scipy"] = scipy.__version__
    return info


def gemm_rates(repeats: int) -> dict[str, float]:
    """Measured GEMM rates (flop/s): square 2000^3 products and the W1 shape (1000 x 20000 x 1000)."""
    rng = np.random.default_rng(0)
    out = {}
    for dt in (np.float64, np.float32):
        A = rng.standard_normal((2000, 2000)).astype(dt)
        B = rng.standard_normal((2000, 2000)).astype(dt)
        A @ B
        t = timeit(lambda: A @ B, repeats)
        out[np.dtype(dt).name] = 2 * 2000 ** 3 / t
        print(f"  GEMM {np.dtype(dt).name:8s} 2000x2000x2000: {t:.3f} s = {out[np.dtype(dt).name] / 1e9:.1f} GFLOP/s",
              flush=True)
    return out


def coretype_check() -> dict[str, float]:
    """GEMM rate (float64, 1500^3) in fresh interpreters under several OPENBLAS_CORETYPE values."""
    code = ("import numpy as np, time; from threadpoolctl import threadpool_info as t; "
            "a=np.random.default_rng(0).standard_normal((1500,1500)); a@a; s=[]\n"
            "for _ in range(3):\n t0=time.perf_counter(); a@a.T.copy(); s.append(time.perf_counter()-t0)\n"
            "print(2*1500**3/sorted(s)[1]/1e9, [d.get('architecture') for d in t() if d.get('user_api')=='blas'][0])")
    out = {}
    for ct in (None, "Haswell", "SkylakeX", "Zen"):
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        if ct:
            env["OPENBLAS_CORETYPE"] = ct
        try:
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
            rate, arch = res.stdout.split(maxsplit=1)
            out[ct or "unset"] = float(rate)
            print(f"  OPENBLAS_CORETYPE={ct or '(unset)':9s} -> kernel {arch.strip():10s} {float(rate):6.1f} GFLOP/s",
                  flush=True)
        except Exception as exc:  # pragma: no cover - reporting only
            print(f"  OPENBLAS_CORETYPE={ct}: {exc}")
    return out


# =========================================================================== W1

def bench_w1(gemm: dict[str, float], repeats: int, full_pdist: bool) -> None:
    n, p = 1000, 20000
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, p))
    X32 = X.astype(np.float32)
    syrk_flops = n * (n + 1) * p  # one symmetric rank-p update: n(n+1)/2 dot products of length p
    ds = rt.data.Dataset(X)
    sub = 1000 if full_pdist else 500
    pair_ratio = (n * (n - 1)) / (sub * (sub - 1))
    for dist in ("correlation", "euclidean"):
        print(f"\nW1 {dist} RDM, {n} stimuli x {p} features "
              f"(flops: syrk n(n+1)p = {syrk_flops / 1e9:.1f} GFLOP; O(np) terms not counted)")
        fns = {"neurorep float64": lambda: pattern_rdms(X, dist), "neurorep float32": lambda: pattern_rdms(X32, dist)}
        if dist == "euclidean":
            fns["neurorep sqeuclidean float64"] = lambda: pattern_rdms(X, "sqeuclidean")
        fns["rsatoolbox"] = lambda: rt.rdm.calc_rdm(ds, method=dist)
        t = interleaved(fns, repeats, once=("rsatoolbox",) if dist == "correlation" else ())
        ours = row(f"W1 {dist}", "neurorep float64", t["neurorep float64"], flops=syrk_flops,
                   gemm_rate=gemm["float64"])
        ours32 = row(f"W1 {dist}", "neurorep float32", t["neurorep float32"], flops=syrk_flops,
                     gemm_rate=gemm["float32"])
        if dist == "euclidean":
            row(f"W1 {dist}", "neurorep sqeuclidean float64", t["neurorep sqeuclidean float64"], flops=syrk_flops,
                gemm_rate=gemm["float64"])
        anchors = [row(f"W1 {dist}", "rsatoolbox calc_rdm" + (" (squared/p)" if dist == "euclidean" else ""),
                       t["rsatoolbox"], flops=syrk_flops, gemm_rate=gemm["float64"])]
        Xs = X[:sub]
        t_sp = timeit(lambda: pdist(Xs, dist), 1) * pair_ratio
        anchors.append(row(f"W1 {dist}", "scipy pdist", t_sp,
                           note="" if full_pdist else f"(extrapolated from {sub} stimuli by pair count)"))
        ratio_line(ours, anchors)
        ratio_line(ours32, anchors)

    n, p, r = 200, 2000, 4
    Y = rng.standard_normal((r, n, p))
    P = prec_from_residuals(residuals_from_repeats(Y)[0])
    ident = n * (n + 1) * p * (1 + r)                    # syrk of the run sum and of the runs side by side
    with_p = 2 * r * n * p * p + 2 * n * n * p * (1 + r)  # every run times P, then two general GEMMs
    dsr = rt.data.Dataset(Y.reshape(r * n, p), obs_descriptors={
        "stim": np.tile(np.arange(n), r), "run": np.repeat(np.arange(r), n)})
    for label, prec, flops in (("identity noise", None, ident), ("shrinkage precision", P, with_p)):
        print(f"\nW1 crossnobis, {n} stimuli x {p} features x {r} runs, {label} ({flops / 1e9:.2f} GFLOP)")
        t = interleaved({"ours": lambda: crossnobis_rdms(Y, precision=prec),
                         "rt": lambda: rt.rdm.calc_rdm(dsr, method="crossnobis", descriptor="stim",
                                                       cv_descriptor="run", noise=prec)}, max(repeats, 7))
        ours = row("W1 crossnobis " + label, "neurorep", t["ours"], flops=flops, gemm_rate=gemm["float64"])
        a = row("W1 crossnobis " + label, "rsatoolbox calc_rdm", t["rt"])
        ratio_line(ours, [a])


# =========================================================================== W2

def _scipy_one_vs_many(models: np.ndarray, d: np.ndarray, method: str) -> np.ndarray:
    if method == "spearman":
        return np.array([stats.spearmanr(m, d)[0] for m in models])
    if method == "pearson":
        return np.array([stats.pearsonr(m, d)[0] for m in models])
    if method == "cosine":
        return np.array([1 - sp_cosine(m, d) for m in models])
    return np.array([stats.kendalltau(m, d).statistic for m in models])  # tau-b == tau-a without ties


def bench_w2(gemm: dict[str, float], repeats: int, n_resamples: int, rt_samples: dict[str, int],
             methods: tuple[str, ...] = ("spearman", "tau-a", "cosine", "pearson")) -> None:
    n, K = 200, 50
    N = n * (n - 1) // 2
    rng = np.random.default_rng(2)
    base = rng.standard_normal((n, 10))
    data = pdist(base + rng.standard_normal((n, 10)))[None]
    models = np.stack([pdist(base + s * rng.standard_normal((n, 10))) for s in np.linspace(0.3, 6.0, K)])
    D = rt.rdm.RDMs(data)
    MR = rt.rdm.RDMs(models)
    fixed = [rt.model.ModelFixed(f"m{k}", rt.rdm.RDMs(models[k])) for k in range(K)]
    scale = 1000 / n_resamples
    for method in methods:
        rm = RT_NAMES[method]
        print(f"\nW2 {method}: one data RDM ({n} stimuli, {N} pairs) vs {K} model RDMs")
        t = interleaved({"ours": lambda: compare(models, data, method), "rt": lambda: rt.rdm.compare(MR, D, rm),
                         "sp": lambda: _scipy_one_vs_many(models, data[0], method)}, max(repeats, 7))
        ours = row(f"W2 {method} compare", "neurorep", t["ours"])
        a1 = row(f"W2 {method} compare", "rsatoolbox compare", t["rt"])
        a2 = row(f"W2 {method} compare", "scipy loop", t["sp"])
        ratio_line(ours, [a1, a2])

        # permutations
        linear = method != "tau-a"
        note = "" if scale == 1 else f"(ran {n_resamples}, scaled to 1000)"
        t = timeit(lambda: permutation_test(models, data, method, n_permutations=n_resamples, random_state=0),
                   1) * scale
        pf = 2.0 * 1000 * N * K if linear else None
        ours = row(f"W2 {method} 1000 permutations", "neurorep", t, flops=pf, gemm_rate=gemm["float64"] if pf else None,
                   note=note)
        k = rt_samples[method]
        perms = [np.random.default_rng(i).permutation(n) for i in range(k)]

        def rt_perm():
            for pp in perms:
                rt.rdm.compare(MR, permute_rdms(D, pp), rm)

        a = row(f"W2 {method} 1000 permutations", "rsatoolbox permute_rdms+compare",
                timeit(rt_perm, 1) * 1000 / k, note=f"(extrapolated from {k})")
        ratio_line(ours, [a])

        # stimulus bootstrap
        t = timeit(lambda: bootstrap(models, data, method, n_bootstrap=n_resamples, random_state=0), 1) * scale
        bf = 2.0 * 1000 * N * (2 * K + 1) if method in ("pearson", "cosine") else None
        ours = row(f"W2 {method} 1000 bootstrap", "neurorep", t, flops=bf, gemm_rate=gemm["float64"] if bf else None,
                   note=note)

        def rt_boot():
            rt.inference.eval_bootstrap_pattern(fixed, D, method=rm, N=k, boot_noise_ceil=False)

        a = row(f"W2 {method} 1000 bootstrap", "rsatoolbox eval_bootstrap_pattern", timeit(rt_boot, 1) * 1000 / k,
                note=f"(extrapolated from {k})")
        ratio_line(ours, [a])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 resamples instead of 1000 (scaled, and labelled so)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats per timing (median reported)")
    ap.add_argument("--full-pdist", action="store_true", help="time scipy pdist on all 1000 stimuli")
    ap.add_argument("--no-coretype-check", action="store_true", help="skip the OPENBLAS_CORETYPE comparison")
    ap.add_argument("--only", choices=["w1", "w2"], help="run one workload group")
    ap.add_argument("--methods", nargs="+", choices=list(RT_NAMES), default=list(RT_NAMES),
                    help="W2 comparison methods to run (default: all four)")
    ap.add_argument("--json", help="write all rows and the machine description to this file")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    info = machine_info()
    try:
        import numba

        info["numba"] = numba.__version__
        info["numba_threads"] = numba.config.NUMBA_NUM_THREADS
    except ImportError:  # pragma: no cover
        info["numba"] = None
    print("machine:", json.dumps(info))
    print("note: 2 shared cores; other processes may be running, so absolute times are noisy; every ratio below "
          "compares timings taken in this run, back to back.")
    print("\nmeasured GEMM rate")
    gemm = gemm_rates(args.repeats)
    if not args.no_coretype_check:
        print("\nOPENBLAS_CORETYPE (fresh interpreters, float64 1500^3 GEMM)")
        info["coretype_gflop_s"] = coretype_check()
    if args.only in (None, "w1"):
        bench_w1(gemm, args.repeats, args.full_pdist)
    if args.only in (None, "w2"):
        n_res = 200 if args.quick else 1000
        rt_samples = {"spearman": 4, "tau-a": 10, "cosine": 10, "pearson": 10}
        bench_w2(gemm, args.repeats, n_res, rt_samples, tuple(args.methods))
    total = time.perf_counter() - t0
    print(f"\ntotal benchmark time {total:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "gemm_flop_s": gemm, "rows": ROWS, "total_s": total}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
