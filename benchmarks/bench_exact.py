"""Benchmark of the exact solvers against the NumPy oracle (tests/oracle/naive.py), in one process.

Prints, per world, the median wall time of Phase 1 + Phase 2 over at least 5
runs after a JIT warm-up, the oracle's time and the speed-up ratio, plus
peak memory for the large stationary world.

Usage::

    python benchmarks/bench_exact.py            # full run (a few minutes; includes a 10^6-state world)
    python benchmarks/bench_exact.py --quick    # skips the 10^5 and 10^6 worlds
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import empo_tabular as et  # noqa: E402
from oracle.naive import naive_phase1, naive_phase2  # noqa: E402

PUBLIC = ROOT / "empo_tabular" / "io" / "data" / "trivial_br10.npz"


def median_time(fn, repeats=5):
    fn()  # warm-up (JIT compile or cache load)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def row(name, S, ours, naive=None, extra=""):
    ratio = f"{naive / ours:8.1f}x" if naive else "        -"
    nv = f"{naive * 1e3:10.1f}" if naive else "         -"
    print(f"{name:<42} {S:>9,} {ours * 1e3:10.2f} {nv} {ratio}  {extra}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the 10^5- and 10^6-state worlds")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per case (median reported)")
    args = ap.parse_args(argv)
    print(f"{'world':<42} {'states':>9} {'ours ms':>10} {'naive ms':>10} {'ratio':>9}")

    if PUBLIC.exists():
        from empo_tabular.io.reference import load_reference_export

        case = load_reference_export(PUBLIC)
        w, p = case.world, case.params

        def ours():
            prior = et.solve_phase1(w, p)
            et.solve_phase2(w, prior, p)

        def naive():
            ref = naive_phase1(w, p)
            naive_phase2(w, ref["profile"], ref["profile_fixed_goal"], p)

        row("public case trivial_br10 (P1+P2)", w.n_states, median_time(ours, args.repeats),
            median_time(naive, 3))
    else:
        print(f"(public case not found at {PUBLIC}; skipped)")

    # the target world: 2 humans, 2,240 states, 11 goals, 4 x 16 joint actions
    w = et.random_world(2240, n_humans=2, n_robots=1, n_actions=4, n_goals=11, acyclic=True, horizon=20,
                        branching=1, seed=0)
    p = et.EmpoParams(beta_r=10.0, gamma_r=0.99, gamma_h=0.95)

    def ours2():
        prior = et.solve_phase1(w, p)
        et.solve_phase2(w, prior, p)

    def naive2():
        ref = naive_phase1(w, p)
        naive_phase2(w, ref["profile"], ref["profile_fixed_goal"], p)

    t_ours = median_time(ours2, args.repeats)
    t_naive = median_time(naive2, 3)
    row("2 humans, 11 goals, n_ar 4 x n_ah 16 (P1+P2)", w.n_states, t_ours, t_naive,
        "target <= 10 ms, >= 50x" + ("  OK" if t_ours <= 0.010 and t_naive / t_ours >= 50 else "  MISSED"))

    sizes = [10**3, 10**4] + ([] if args.quick else [10**5, 10**6])
    for S in sizes:
        for acyclic in (True, False):
            w = et.random_world(S, n_humans=1, n_robots=1, n_actions=2, n_goals=2, acyclic=acyclic,
                                horizon=min(50, S // 10), branching=2, seed=1)
            p = et.EmpoParams(beta_r=5.0, gamma_r=0.9, gamma_h=0.9)
            kind = "acyclic" if acyclic else "stationary"
            reps = args.repeats if S <= 10**5 else 1

            def ours3():
                prior = et.solve_phase1(w, p)
                return et.solve_phase2(w, prior, p)

            t = median_time(ours3, reps) if S < 10**6 else _once(ours3)
            naive_t = None
            if S <= 10**3:
                def naive3():
                    ref = naive_phase1(w, p)
                    naive_phase2(w, ref["profile"], ref["profile_fixed_goal"], p)

                naive_t = median_time(naive3, 1)
            sol = ours3() if S < 10**6 else None
            extra = f"method {sol.method}" if sol is not None else ""
            if S >= 10**6:
                extra = f"peak RSS {peak_rss_gb():.2f} GB (limit 24 GB)"
            row(f"random {kind}, H=1, G=2, 2x2 actions", S, t, naive_t, extra)
    print(f"peak RSS of this process: {peak_rss_gb():.2f} GB")


def _once(fn):
    t0 = time.perf_counter()
    sol = fn()
    dt = time.perf_counter() - t0
    print(f"  (10^6 world: {sol.method}, {sol.iterations} iterations, residual {sol.residual:.2e})")
    return dt


if __name__ == "__main__":
    main()
