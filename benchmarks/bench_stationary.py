"""Stationary (cyclic) worlds: Phase 1 + Phase 2, the new default against the old path, in one process.

The new default on cyclic worlds is ``method="auto"`` (Anderson-accelerated Gauss-Seidel continuation with
its branch tests); the old path is ``method="newton"`` for both phases (Newton continuation, the default
before).  Per case: wall time and CPU time of this process (``time.process_time``; on a shared machine the
CPU time is the steadier figure) -- minimum over the repeats after a warm-up -- the ratio old / new, the
largest difference of the solutions (V_r, Q_r relative, V_h^e absolute) and the peak RSS.  The new path is
timed before the old one, so the RSS printed after it is its own peak.

Usage::

    python benchmarks/bench_stationary.py                 # shared_switch and 10^3 states
    python benchmarks/bench_stationary.py --sizes 1e5     # one random size (repeats 1)
    python benchmarks/bench_stationary.py --sizes 1e6 --no-old   # only the new path
    python benchmarks/bench_stationary.py --newton-seeds          # Newton path, 10^5 states, seeds 1 and 7

Measured, the default path (2 cores, quiet machine, load 1.0-1.5, warm Numba cache, commit 96a0ed0; the same
runs of the previous stop's code, eedaa2f, in brackets where they were repeated now):

==============  =============================  ==========================================  ======
case            new: wall, CPU                 old = ``method="newton"``, same run         goal
==============  =============================  ==========================================  ======
shared_switch   0.041 s, 0.041 s (5 repeats)   0.471 s: 11.5x                              0.05 s
10^3, seed 1    0.030 s, 0.030 s               0.170 s: 5.6x                               0.1 s
10^5, seed 1    2.09 s, 3.92 s [eedaa2f 2.17]  14.5 s (its first run, with compilation)    5 s
10^5, seed 7    1.87 s, 3.64 s                 16.5 s                                      5 s
10^6, seed 1    43.9 s, 77.2 s; 1.58 GB        not run [eedaa2f new path: 42.3 s; 1.25 GB]  60 s
==============  =============================  ==========================================  ======

shared_switch went 74 -> 41 ms with the human-marginal successor table of the Phase 2 sweeps
(``exact.sweeps.marginal_table``: 0.31 -> 0.09 ms per sweep) and the repeated robot-action rows dropped from
Phase 1's minimum (``TabularWorld.robot_rows``); on the random family neither has anything to merge, so the
sweeps cost the same (at 10^6 the table adds 0.33 GB of peak RSS and the run was 4% slower than eedaa2f's in the
same conditions).  "old" is the Newton path of this commit, itself 1.6x faster on shared_switch than at the
previous stop (0.774 s then: 19x).

``--newton-seeds`` times ``method="newton"`` phase by phase on several seeds of one size (default 10^5,
seeds 1 and 7) and its agreement with ``method="auto"``: the Newton path had a seed cliff there.  Before
(commit eedaa2f), Phase 1 at seed 7 ran for over 12 minutes without finishing (the issue's run; here: over 2
CPU minutes inside SuperLU's ``spilu`` before I stopped it) where seed 1 took 4.95 CPU s.  The cause: near
convergence Newton solves with a right-hand side of about 1e-12, SciPy's BiCGSTAB broke down on its absolute
``eps**2`` test (after 11 iterations, relative residual 6.1e-8 > the 1e-8 acceptance), and the incomplete-LU
fallback has no cost bound on random graphs.  A seed-specific event, not a size threshold: 1 to 3 seeds in 10
hit it at every size scanned (10^4 seed 5: +1.4 s on 0.35 s; 3*10^4 seed 2: 27.0 CPU s where the other seeds
take 1.0-1.2 s; 10^5 seeds 4, 6, 7).  Besides, a size threshold: at most 5,000 unknowns the Newton
continuations factorised (one LU, and one more per step for the sign of det(I - J)), 18-25x slower than just
above (old CPU s, seeds 1 and 7: Phase 1 at 2,500 states 1.67-1.81 vs 2,600 states 0.09-0.10; Phase 2 at
1,000 states 2.98 vs 1,100 states 0.12).

After (``exact.linear``: Krylov on the right-hand side scaled to norm 1, Gauss-Seidel-preconditioned GMRES as
the fallback, Krylov first above 1,000 unknowns, the det(I - J) sign screened by ARPACK), CPU seconds
(``time.process_time``, one run each, 2 cores shared with two other agents' jobs, load average 4.3):

=============  =====  ========  ========  ==========================================
states         seed   P1 cpu    P2 cpu    max rel. difference to ``auto`` (V_h^m, V_r)
=============  =====  ========  ========  ==========================================
100,000        1      5.26      6.67      1.3e-15, 1.4e-13
100,000        7      4.92      9.01      8.9e-16, 3.3e-14
1,000          1, 7   0.06-0.09 0.09-0.13 <= 4.9e-15
2,500          1, 7   0.11-0.12 0.15-0.17 <= 3.0e-14
2,600          1, 7   0.11      0.15      (no jump at 5,000 unknowns)
=============  =====  ========  ========  ==========================================

Re-run after the ARPACK screen of det(I - J) at the returned point was added for Newton systems above 5,000
unknowns (quiet machine, commit 96a0ed0): seed 1 P1 5.08, P2 8.01 CPU s; seed 7 P1 4.49, P2 9.96 CPU s (max /
min over the seeds 1.13x and 1.24x).

Phase 1 Newton over seeds 1-10 (CPU s, min-max): 10^4 0.40-0.52, 3*10^4 1.23-1.52, 5*10^4 2.04-2.62,
9*10^4 3.98-5.36, 10^5 4.01-5.53, 1.1*10^5 4.69-6.49; no BiCGSTAB breakdown and no fallback in those 60 runs.
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import empo_tabular as et
from empo_tabular.worlds.scenarios import get_scenario

GOALS = {"shared_switch": 0.050, 10**3: 0.1, 10**5: 5.0, 10**6: 60.0}


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run(w, p, method):
    t0, c0 = time.perf_counter(), time.process_time()
    prior = et.solve_phase1(w, p, method=method)
    sol = et.solve_phase2(w, prior, p, method=method)
    return time.perf_counter() - t0, time.process_time() - c0, prior, sol


def timed(w, p, method, repeats):
    if repeats > 1:
        run(w, p, method)  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu, prior, sol = run(w, p, method)
        walls.append(wall)
        cpus.append(cpu)
    return min(walls), min(cpus), prior, sol


def diff(a, b):
    live = ~a.terminal
    dv = np.max(np.abs(a.V_r[live] - b.V_r[live]) / np.abs(b.V_r[live]))
    dq = np.max(np.abs(a.Q_r[live] - b.Q_r[live]) / np.abs(b.Q_r[live]))
    return max(dv, dq), np.max(np.abs(a.V_h_e - b.V_h_e))


def case(name, w, p, repeats, old=True):
    goal = GOALS.get(name)
    wall, cpu, prior, sol = timed(w, p, "auto", repeats)
    rss_new = peak_rss_gb()
    line = (f"{str(name):<14} S={w.n_states:>9,}  new {wall:8.3f} s (cpu {cpu:8.3f}) "
            f"[P1 {prior.method} {prior.iterations} sweeps, P2 {sol.method} {sol.iterations} sweeps]  "
            f"peak RSS {rss_new:.2f} GB")
    if goal is not None:
        line += f"  goal <= {goal:g} s: {'met' if wall <= goal else 'missed'} (wall), " \
                f"{'met' if cpu <= goal else 'missed'} (cpu)"
    print(line, flush=True)
    if old:
        owall, ocpu, oprior, osol = timed(w, p, "newton", repeats)
        drel, dabs = diff(sol, osol)
        print(f"{'':<14} {'':>11}  old {owall:8.3f} s (cpu {ocpu:8.3f}) [{oprior.method}, {osol.method}]  "
              f"ratio old/new: wall {owall / wall:6.1f}x, cpu {ocpu / cpu:6.1f}x  |dV_r|,|dQ_r| rel {drel:.1e}, "
              f"|dV_h^e| {dabs:.1e}  peak RSS so far {peak_rss_gb():.2f} GB", flush=True)


def random_family(S, seed):
    """The stationary family of benchmarks/bench_exact.py."""
    return et.random_world(S, n_humans=1, n_robots=1, n_actions=2, n_goals=2, acyclic=False,
                           horizon=min(50, S // 10), branching=2, seed=seed)


def newton_seeds(S, seeds, p):
    """Newton path, phase by phase, on several seeds of one size: the times must not jump between seeds."""
    cpus = {}
    for seed in seeds:
        w = random_family(S, seed)
        c0, t0 = time.process_time(), time.perf_counter()
        prior = et.solve_phase1(w, p, method="newton")
        c1, t1 = time.process_time(), time.perf_counter()
        sol = et.solve_phase2(w, prior, p, method="newton")
        c2, t2 = time.process_time(), time.perf_counter()
        ref_prior = et.solve_phase1(w, p, method="auto")
        ref = et.solve_phase2(w, ref_prior, p, method="auto")
        live = ~w.terminal
        d1 = np.max(np.abs(prior.V_h_m - ref_prior.V_h_m)) / max(np.max(np.abs(ref_prior.V_h_m)), 1e-300)
        d2 = np.max(np.abs(sol.V_r[live] - ref.V_r[live]) / np.abs(ref.V_r[live]))
        cpus[seed] = (c1 - c0, c2 - c1)
        print(f"newton S={S:>9,} seed {seed:>3}: P1 {t1 - t0:8.3f} s (cpu {c1 - c0:8.3f}) [{prior.iterations} Newton "
              f"steps, {len(prior.betas)} betas]  P2 {t2 - t1:8.3f} s (cpu {c2 - c1:8.3f}) [{sol.method}, "
              f"{sol.iterations} steps]  vs auto: |dV_h^m| rel {d1:.1e}, |dV_r| rel {d2:.1e}  "
              f"peak RSS {peak_rss_gb():.2f} GB", flush=True)
    for k, name in enumerate(("P1", "P2")):
        vals = [c[k] for c in cpus.values()]
        print(f"newton S={S:>9,} {name}: cpu max / min over seeds {max(vals) / max(min(vals), 1e-9):.2f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="", help="comma-separated random sizes, e.g. 1e3,1e5 (default: 1e3)")
    ap.add_argument("--seeds", default=None,
                    help="comma-separated seeds of the random family (default 1; with --newton-seeds 1,7)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs for the small cases (minimum reported)")
    ap.add_argument("--no-old", action="store_true", help="skip the old path")
    ap.add_argument("--no-scenario", action="store_true", help="skip shared_switch")
    ap.add_argument("--newton-seeds", action="store_true",
                    help="only the Newton path, phase by phase, on --seeds (default 1,7) at --sizes (default 1e5)")
    args = ap.parse_args(argv)
    p = et.EmpoParams(beta_r=5.0, gamma_r=0.9, gamma_h=0.9)
    if args.newton_seeds:
        seeds = [int(s) for s in (args.seeds or "1,7").split(",")]
        for S in [int(float(s)) for s in (args.sizes or "1e5").split(",") if s]:
            newton_seeds(S, seeds, p)
        return
    if not args.no_scenario:
        gw, p = get_scenario("shared_switch")
        case("shared_switch", gw.world, p, args.repeats, old=not args.no_old)
    sizes = [int(float(s)) for s in (args.sizes or "1e3").split(",") if s]
    for S in sizes:
        for seed in [int(s) for s in (args.seeds or "1").split(",")]:
            w = random_family(S, seed)
            case(S, w, p, args.repeats if S <= 10**4 else 1, old=not args.no_old)
            print(f"{'':<14} (random stationary family of bench_exact.py, seed {seed})", flush=True)
    print(f"peak RSS of this process: {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
