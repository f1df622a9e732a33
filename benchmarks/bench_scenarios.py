"""Exact solve time of every scenario (Phase 1 + Phase 2), both horizons; the budget is 1 s each.

Usage: ``python benchmarks/bench_scenarios.py``.  JIT warm-up is excluded
(each case is solved once before timing; the median of 5 runs is shown).
"""
from __future__ import annotations

import statistics
import time

from empo_tabular import solve_phase1, solve_phase2
from empo_tabular.worlds.scenarios import get_scenario, list_scenarios


def main():
    print(f"{'scenario':<16} {'horizon':>8} {'states':>8} {'P1+P2 ms':>10}  budget 1000 ms")
    worst = 0.0
    for name in list_scenarios():
        for horizon in (None, "default"):
            gw, p = get_scenario(name, horizon=horizon)
            solve_phase2(gw.world, solve_phase1(gw.world, p), p)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                solve_phase2(gw.world, solve_phase1(gw.world, p), p)
                times.append(time.perf_counter() - t0)
            t = statistics.median(times)
            worst = max(worst, t)
            label = "inf" if horizon is None else str(gw.horizon)
            print(f"{name:<16} {label:>8} {gw.world.n_states:>8} {t * 1e3:10.1f}  {'OK' if t < 1.0 else 'OVER'}")
    print(f"slowest: {worst * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
