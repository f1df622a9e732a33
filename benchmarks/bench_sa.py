"""Throughput of two-timescale SA on exact tables: state-visit updates per second, single core.

A state-visit update is one visit of one state with every active quantity
updated there (V_h^e for all humans and goals, X_h, Q_r for all robot
actions, ...).  Measured with ``SAResult.updates_per_second`` (kernel time
only, JIT compile excluded by a warm-up run) in ``mode="expected"`` and
``mode="sampled"`` with uniform visits and default learned tables (V_h^e, X_h,
Q_r), on

* the public reference case ``trivial_br10.npz`` (1 human, acyclic), and
* a 2-human stationary gridworld (``shared_switch``, 256 states) and a
  2-human random cyclic world (2000 states, 3 actions each).

Compared with the issue's target (>= 2 million expected-mode updates/s on the
public case) and with the reference's lookup-table trainer, 27-47 training
steps/s with batches of 64 transitions, i.e. 1 728-3 008 transitions/s.

Usage::

    NUMBA_NUM_THREADS=1 python benchmarks/bench_sa.py [--steps 2000000] [--repeats 3]
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # single core (set before numba is imported)

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402

import empo_tabular as et  # noqa: E402
from empo_tabular.sa.engine import run_sa  # noqa: E402
from empo_tabular.sa.config import SAConfig  # noqa: E402
from empo_tabular.worlds.scenarios import get_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT / "empo_tabular" / "io" / "data" / "trivial_br10.npz"
TARGET = 2.0e6
REF_LOW, REF_HIGH = 27 * 64, 47 * 64  # reference transitions per second


def worlds():
    """``(name, world, prior, params)`` of the benchmark cases."""
    out = []
    if PUBLIC.exists():
        from empo_tabular.io.reference import load_reference_export

        case = load_reference_export(PUBLIC)
        out.append(("public trivial_br10 (1 human)", case.world, case.prior, case.params))
    else:
        print(f"note: {PUBLIC} not found; skipping the public case", file=sys.stderr)
    gw, params = get_scenario("shared_switch")
    out.append(("shared_switch stationary (2 humans)", gw.world, et.solve_phase1(gw.world, params), params))
    w = et.random_world(2000, n_humans=2, n_actions=3, n_goals=3, seed=1)
    p = et.EmpoParams(gamma_h=0.9, gamma_r=0.9)
    out.append(("random cyclic 2000 states (2 humans)", w, et.solve_phase1(w, p), p))
    return out


def measure(world, prior, params, mode, n_steps, repeats):
    """Median updates/s over ``repeats`` runs after one warm-up run (compile or cache load).

    Returns ``(median, min, max)`` of ``SAResult.updates_per_second`` (kernel
    wall time) and the median of updates per CPU second of the whole
    ``run_sa`` call (robust when other processes share the cores).
    """
    cfg = SAConfig(mode=mode, visit="uniform")
    run_sa(world, prior, params, cfg, 1000, record_every=1000)
    rates, cpu_rates = [], []
    for r in range(repeats):
        c0 = time.process_time()
        res = run_sa(world, prior, params, cfg, n_steps, seed=r, record_every=n_steps)
        cpu_rates.append(res.n_updates / max(time.process_time() - c0, 1e-9))
        rates.append(res.updates_per_second)
    return statistics.median(rates), min(rates), max(rates), statistics.median(cpu_rates)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2_000_000, help="SA steps (state visits) per timed run")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per case (median reported)")
    args = ap.parse_args(argv)
    print(f"numba threads: {numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')})")
    t0 = time.perf_counter()
    cases = worlds()
    print(f"{'world':<38} {'S':>6} {'H':>2} {'A_r':>4} {'mode':<9} {'updates/s':>11} {'(min-max)':>19} "
          f"{'per CPU-s':>10} {'vs 2M/s (wall/CPU)':>19} {'vs reference':>17}")
    for name, world, prior, params in cases:
        for mode in ("expected", "sampled"):
            med, lo, hi, cpu = measure(world, prior, params, mode, args.steps, args.repeats)
            vs_target = f"{med / TARGET:.2f}/{cpu / TARGET:.2f}x" if "public" in name and mode == "expected" else "-"
            vs_ref = f"{med / REF_HIGH:6.0f}-{med / REF_LOW:<6.0f}x"
            print(f"{name:<38} {world.n_states:>6} {world.n_humans:>2} {world.n_ar:>4} {mode:<9} {med:11.3e} "
                  f"({lo:8.2e}-{hi:8.2e}) {cpu:10.3e} {vs_target:>19} {vs_ref:>17}", flush=True)
    print(f"\ntarget: >= {TARGET:.0e} expected-mode updates/s on the public case; reference lookup-table trainer: "
          f"27-47 steps/s x 64 transitions = {REF_LOW}-{REF_HIGH} transitions/s (ratio column: ours / theirs).")
    print("updates/s: kernel wall time (SAResult.updates_per_second); per CPU-s: whole run_sa call, CPU time "
          "(use it when the machine is shared: check `uptime`).")
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
