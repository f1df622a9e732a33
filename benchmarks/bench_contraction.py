"""Contraction-analyzer benchmark: a 40-value beta_r sweep of the reduced map on a >= 1000-state gridworld.

Run ``python benchmarks/bench_contraction.py`` (``--betas N`` for another grid size, ``--jobs J``
for the worker processes, default 2, ``--route`` to time only one route).  Both reduced-map routes run in
the same process: ``matrix_free`` (the default above ``reduced_dense_max`` unknowns: ARPACK on ``W P``,
``rho_abs`` an upper bound) and ``dense`` (the previous path: complete spectrum, exact ``rho_abs``); the
ratio of their wall times, their agreement and the peak RSS are printed.  The world is a stationary 6x6 open room with one human and
one robot (1260 states, 5 robot actions, so the reduced map has n_q = 6300 unknowns) and four
quadrant goals; ``--width/--height`` give other rooms (w h (w h - 1) states: 10x10 has 9,900).  The grid is 0 and 39 log-spaced values in [1e-1, 1e3].  JIT compilation and
Phase 1 are excluded (a 2-beta warm-up sweep runs first).  Printed: wall time and CPU seconds (this
process plus its workers; also per grid point) of the sweep (the branch continuation runs in this process; with
``--jobs`` > 1 each grid point goes to its worker as soon as the continuation reaches it, so the branch overlaps the
analysis and its printed seconds include that sharing of the cores) and the indicator seconds summed over the
points; with ``--old`` the same for the previous path (Newton continuation for the branch, fresh LUs where the
estimators' refinement fails, estimators one after the other, SuperLU's MMD ordering) and the largest difference
of the indicators between the two (absolute, and relative per indicator); the indicators (``sup_norm, log_norm,
rho_abs, rho, dominant_eigenvalue, max_re, alpha_max, alpha_best`` from the analytic factorisation ``J_R = P W``;
Picard ratio with 20 steps and 5 random pairs; the adversarial bound is off), and the first critical beta of each
indicator.

Measured (2 cores shared with other jobs; CPU seconds are this process plus its workers):

* 1,260-state room, 40 betas, 2 workers, load ~1.3-1.6: 5.4 s wall, 10.5 CPU s (0.26 per point; branch by
  Anderson sweeps 1.83 s, overlapping the analysis); the previous path in the same process (``--old``) 11.2 s wall,
  21.7 CPU s; largest relative differences new vs previous path: rho, max_re, lambda_dom 1.0e-11, rho_abs 2.7e-12,
  sup_norm 8.4e-12, log_norm 1.0e-11, picard_ratio 1.9e-7, sampled bound 2.2e-12, dq_dbeta 9.1e-8 (the two
  branches' fixed points differ by ~1e-12).  Before this change (commit eedaa2f, same machine): 5.6-5.9 s wall,
  9.8-10.6 CPU s.  Peak RSS 0.25 GB.  (Below 20,000 evaluator unknowns the estimators run one after the other
  and the LU keeps SuperLU's MMD order: both measured slower there.)
* 9,900-state room (``--width 10 --height 10``), 40 betas, 2 workers, commit 4d18ab5 (code as 90fdde7), load
  average 1.5 at the start, 2.6 at the end (other agents' jobs; this job got 183% of a CPU, ``/usr/bin/time``):
  108.9 s wall (goal 120 s), 211.2 CPU s (5.28 per grid point, branch included; the branch 17.9 s, overlapping
  the analysis), peak RSS 0.73 GB (a worker).  Re-run on the merged code (commit 96a0ed0, with the
  human-marginal sweeps of ``exact.sweeps``), machine otherwise quiet (load 1.9-2.1 from this run itself):
  112.8 s wall, 221.0 CPU s (5.53 per grid point), branch 21.3 s overlapping, peak RSS 0.74 GB; the 1,260-state
  room in the same session: 5.6 s wall, 10.6 CPU s, previous path 12.1 s.  Earlier, under load 2.7-3.2 (144% of a CPU): 137.9 s wall,
  214.9 CPU s, 0.93 GB.  The same run of commit eedaa2f: 190.4 s wall,
  367.6 CPU s, 0.65 GB (quiet, last session); today under load ~4-7, 739.6 s wall, 406.6 CPU s.
  Per grid point (one worker's CPU, ``time.process_time``, beta_r = 10 and 1000; before -> after):
  before, one SuperLU LU of the 39,600-unknown evaluator system (MMD, fill 44, ~2.1 s) and ~235-280 solves with
  it at ~23 ms (ARPACK 79-89, Picard refinement 62-109, branch-derivative GMRES 41-53, Perron bound 26-35,
  beta-derivative 4-6, norm bounds 2), plus 10 GMRES solves at the sampled box points (~0.5-0.7 s): 10.3 CPU s at
  beta_r = 1000 under load ~3-5 (8.6 per point quiet, last session).  After: the LU in a nested-dissection order (fill 37, ~1.2 s); the estimators run in
  lockstep (``contraction/batched.py``), so each round is one multi-column solve (1 column 23.6 ms, 2: 33.6,
  4: 46.9 ms with the MMD factor): 213-256 columns in 89-92 solves; Picard refinement starts from the previous
  orbit point and stops on the estimated tail (one confirming solve less per evaluation): 5.6-5.8 CPU s (the first point of a
  process also computes the 0.9 s ordering).  Seven
  grid points run one after the other in one process with the same random streams, old code 9.0-11.1 CPU s,
  new 4.9-6.0 CPU s per point; indicators equal to 4e-15 (rho, max_re, lambda_dom, alpha, rho_abs, sup_norm,
  log_norm, sampled bound), picard_ratio to 5e-10, dq_dbeta to 2e-9 (its central difference in beta amplifies
  the ~1e-14 error of R by 1/(2 h beta)).  The full 40-point sweep (this file's ``sweep()``, 2 workers) run
  twice back to back, load ~1.4-2.5: commit eedaa2f with only the per-estimator random streams below added,
  206.3 s wall, 389.9 CPU s; commit 90fdde7, 108.8 s wall, 213.0 CPU s; largest relative differences over the 40
  points: rho, max_re, lambda_dom 6.2e-15, alpha_best 5.0e-15, rho_abs 2.2e-15, sup_norm 3.5e-15, log_norm 3.7e-15,
  picard_ratio 4.6e-10, sampled bound 3.7e-13, dq_dbeta 3.8e-9.  Against eedaa2f as it was (other random draws):
  rho, max_re 1.9e-13, rho_abs 1.1e-7 (ARPACK's Perron tolerance 1e-6), sup_norm 6.4e-9, log_norm 3.7e-15,
  dq_dbeta 3.8e-9, picard_ratio 3.7e-2 and sampled bound 0.13 (other random starts and pairs).

Budgets and tolerances (unchanged meaning of every indicator): complete spectrum from
``eigvals(W P)``; ``rho_abs`` by ARPACK on ``|J_R|`` stored in float32 (accumulated in float64),
warm-started from the previous point's Perron vector and certified by Collatz-Wielandt bounds to a
relative gap of 1e-6; the Picard and sampled evaluations of R solve the V_h^e system by iterative
refinement from the fixed point's LU (same values to ~1e-14; the refinement now stops when the error left after
a step, estimated from the measured contraction, is below 1e-14, instead of taking one more step to see it).
Changed in what the estimators draw: on the matrix-free route each estimator (ARPACK, Perron bound, Picard
start, sampled pairs) has its own random stream (``SeedSequence(seed).spawn``) so the lockstep order cannot
change them; the Picard ratio and the sampled lower bound are therefore other random draws than before (same
meaning, same budgets).  The row ``seconds`` of the reduced map on the matrix-free route now include the branch
derivative (it runs beside the estimators).  BLAS is pinned to one thread by
the analyzer itself (OpenBLAS threading on a shared machine slowed a 200x200 eigendecomposition
from 0.03 s to 2 s).
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def room_world(w=6, h=6):
    from empo_tabular.worlds.gridworld import build_gridworld

    rows = [["."] * w for _ in range(h)]
    rows[0][0] = "H"
    rows[h - 1][w - 1] = "R"
    ascii_map = "\n".join(["#" * (w + 2)] + ["#" + "".join(r) + "#" for r in rows] + ["#" * (w + 2)])
    hx, hy = w // 2, h // 2
    goals = [(1, 1, hx, hy), (hx + 1, 1, w, hy), (1, hy + 1, hx, h), (hx + 1, hy + 1, w, h)]
    return build_gridworld(ascii_map, goals=goals, name=f"room{w}x{h}")


def peak_rss_gb() -> float:
    """Peak RSS (GB) of this process and of its largest finished child (the sweep's forked workers)."""
    import resource

    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1e6


def cpu_seconds() -> float:
    """CPU seconds of this process plus its finished children (the workers are joined when a sweep ends)."""
    import resource

    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def sweep(world, prior, params, betas, route, jobs, old=False):
    """One sweep; ``old=True`` is the previous path where it can still be selected: Newton continuation for the
    branch, a fresh LU (not GMRES) where the estimators' refinement fails, the estimators one after the other
    (no shared multi-column solves) and SuperLU's MMD ordering (no nested dissection).  Returns (report, wall,
    cpu)."""
    from empo_tabular.contraction import analyze_contraction
    from empo_tabular.contraction import empo_analysis, evaluator

    options = dict(picard_steps=20, n_samples=5, adversarial=False, reduced_route=route,
                   branch_method="newton" if old else "auto")
    saved = evaluator.FAR_KRYLOV_MIN, evaluator.ND_MIN, empo_analysis.run_batched
    if old:
        evaluator.FAR_KRYLOV_MIN = evaluator.ND_MIN = 1 << 62
        empo_analysis.run_batched = lambda solver, tasks: [t() for t in tasks]
    t0, c0 = time.perf_counter(), cpu_seconds()
    try:
        rep = analyze_contraction(world, prior, params, betas, maps=("reduced",), n_fixed_point_starts=0,
                                  options=options, n_jobs=jobs)
    finally:
        evaluator.FAR_KRYLOV_MIN, evaluator.ND_MIN, empo_analysis.run_batched = saved
    return rep, time.perf_counter() - t0, cpu_seconds() - c0


#: Indicators compared between the two paths (largest relative difference over the grid).
COMPARED = ("rho", "max_re", "dominant_eigenvalue", "alpha_max", "alpha_best", "rho_abs", "sup_norm", "log_norm",
            "picard_ratio", "lower_bound_sampled", "dq_dbeta")


def max_rel_differences(rows_a, rows_b) -> dict:
    """Indicator -> (largest |a - b| / |a| over the grid points, its beta_r); both non-finite counts as equal."""
    out = {}
    for k in COMPARED:
        worst = (0.0, None)
        for x, y in zip(rows_a, rows_b):
            a, b = complex(x[k]), complex(y[k])
            if not (np.isfinite(a) and np.isfinite(b)):
                d = 0.0 if (np.isfinite(a) == np.isfinite(b)) else np.inf
            else:
                d = abs(a - b) / abs(a) if a != 0 else abs(b)
            if d >= worst[0]:
                worst = (d, x["beta_r"])
        out[k] = worst
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--betas", type=int, default=40, help="grid size (0 plus log-spaced values)")
    ap.add_argument("--width", type=int, default=6)
    ap.add_argument("--height", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes analysing the grid points (n_jobs)")
    ap.add_argument("--route", default="both", choices=("both", "matrix_free", "dense"),
                    help="reduced-map route(s) to time; 'both' also prints the ratio dense / matrix-free")
    ap.add_argument("--old", action="store_true",
                    help="also time the previous path (Newton branch, fresh LUs) of the first route, same process")
    args = ap.parse_args(argv)
    from empo_tabular import EmpoParams, solve_phase1

    gw = room_world(args.width, args.height)
    world = gw.world
    params = EmpoParams(beta_h=10.0, gamma_h=0.9, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1)
    prior = solve_phase1(world, params)
    routes = ("matrix_free", "dense") if args.route == "both" else (args.route,)
    for route in routes:
        sweep(world, prior, params, [0.0, 1.0], route, 1)  # warm-up (JIT)
    betas = [0.0] + list(np.geomspace(1e-1, 1e3, args.betas - 1))
    walls, cpus, reps = {}, {}, {}
    for route in routes:
        reps[route], walls[route], cpus[route] = sweep(world, prior, params, betas, route, args.jobs)
    if args.old:
        reps["old"], walls["old"], cpus["old"] = sweep(world, prior, params, betas, routes[0], args.jobs, old=True)
    rep = reps[routes[0]]
    print(f"world: {world.n_states} states, n_q = {rep.world['n_q']} reduced unknowns, "
          f"{world.n_humans} human(s), {world.n_goals} goals")
    for route in list(routes) + (["old"] if args.old else []):
        per_row = sum(r["seconds"] for r in reps[route].table)
        label = f"{routes[0]} (previous path)" if route == "old" else route
        branch = [n for n in reps[route].notes if n.startswith("branch of fixed points")]
        print(f"route {label:12s}: {len(betas)} betas in {walls[route]:.1f} s wall, {cpus[route]:.1f} CPU s "
              f"(this process + workers; {cpus[route] / len(betas):.2f} per point, branch included) with {args.jobs} "
              f"worker(s); indicator seconds summed over the points: "
              f"{per_row:.1f} s; {branch[0] if branch else ''}")
    if args.old:
        a, b = reps[routes[0]].rows("reduced"), reps["old"].rows("reduced")
        d = max(max(abs(x[k] - y[k]) for k in ("rho", "max_re", "rho_abs", "sup_norm")) for x, y in zip(a, b))
        print(f"previous / new path: wall {walls['old'] / walls[routes[0]]:.1f}x, CPU {cpus['old'] / cpus[routes[0]]:.1f}x; "
              f"max |difference| of rho, max_re, rho_abs, sup_norm: {d:.2e}")
        print("largest relative difference new vs previous path per indicator: " + ", ".join(
            f"{k} {v:.1e}" for k, (v, _) in max_rel_differences(a, b).items()))
    if len(routes) == 2:
        a, b = reps["matrix_free"].rows("reduced"), reps["dense"].rows("reduced")
        drho = max(abs(x["rho"] - y["rho"]) for x, y in zip(a, b))
        dre = max(abs(x["max_re"] - y["max_re"]) for x, y in zip(a, b))
        ratio = max(x["rho_abs"] / y["rho_abs"] for x, y in zip(a, b))
        print(f"dense / matrix-free wall: {walls['dense'] / walls['matrix_free']:.1f}x; max |d rho| = {drho:.2e}, "
              f"max |d max_re| = {dre:.2e}; rho_abs bound / exact <= {ratio:.3f}")
    print(f"peak RSS (this process or its largest worker): {peak_rss_gb():.2f} GB")
    print(f"{'beta_r':>10s} {'sup':>8s} {'rel':>8s} {'rho|J|':>8s} {'kind':>11s} {'rho':>8s} {'maxRe':>8s} "
          f"{'lambda_dom':>20s}")
    for r in rep.rows("reduced"):
        lam = r["dominant_eigenvalue"]
        print(f"{r['beta_r']:10.4g} {r['sup_norm']:8.4f} {r['log_norm']:8.4f} {r['rho_abs']:8.4f} "
              f"{r['rho_abs_kind']:>11s} {r['rho']:8.4f} {r['max_re']:8.4f} {lam.real:+10.4f}{lam.imag:+9.4f}j")
    print(rep.summary())
    return rep


if __name__ == "__main__":
    main()
