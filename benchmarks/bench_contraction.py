"""Contraction-analyzer benchmark: a 40-value beta_r sweep of the reduced map on a >= 1000-state gridworld.

Run ``python benchmarks/bench_contraction.py`` (``--betas N`` for another grid size, ``--jobs J``
for the worker processes, default 2, ``--route`` to time only one route).  Both reduced-map routes run in
the same process: ``matrix_free`` (the default above ``reduced_dense_max`` unknowns: ARPACK on ``W P``,
``rho_abs`` an upper bound) and ``dense`` (the previous path: complete spectrum, exact ``rho_abs``); the
ratio of their wall times, their agreement and the peak RSS are printed.  The world is a stationary 6x6 open room with one human and
one robot (1260 states, 5 robot actions, so the reduced map has n_q = 6300 unknowns) and four
quadrant goals.  The grid is 0 and 39 log-spaced values in [1e-1, 1e3].  JIT compilation and
Phase 1 are excluded (a 2-beta warm-up sweep runs first).  Printed: wall time of the sweep (the
branch continuation runs first, then ``--jobs`` workers analyse the grid points) and the
indicator seconds summed over the points, the indicators (``sup_norm, log_norm, rho_abs, rho,
dominant_eigenvalue, max_re, alpha_max, alpha_best`` from the analytic factorisation
``J_R = P W``; Picard ratio with 20 steps and 5 random pairs; the adversarial bound is off), and
the first critical beta of each indicator.

Budgets and tolerances (unchanged meaning of every indicator): complete spectrum from
``eigvals(W P)``; ``rho_abs`` by ARPACK on ``|J_R|`` stored in float32 (accumulated in float64),
warm-started from the previous point's Perron vector and certified by Collatz-Wielandt bounds to a
relative gap of 1e-6; the Picard and sampled evaluations of R solve the V_h^e system by iterative
refinement from the fixed point's LU (same values to ~1e-14).  BLAS is pinned to one thread by
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
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def sweep(world, prior, params, betas, route, jobs):
    from empo_tabular.contraction import analyze_contraction

    options = dict(picard_steps=20, n_samples=5, adversarial=False, reduced_route=route)
    t0 = time.perf_counter()
    rep = analyze_contraction(world, prior, params, betas, maps=("reduced",), n_fixed_point_starts=0,
                              options=options, n_jobs=jobs)
    return rep, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--betas", type=int, default=40, help="grid size (0 plus log-spaced values)")
    ap.add_argument("--width", type=int, default=6)
    ap.add_argument("--height", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes analysing the grid points (n_jobs)")
    ap.add_argument("--route", default="both", choices=("both", "matrix_free", "dense"),
                    help="reduced-map route(s) to time; 'both' also prints the ratio dense / matrix-free")
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
    walls, reps = {}, {}
    for route in routes:
        reps[route], walls[route] = sweep(world, prior, params, betas, route, args.jobs)
    rep = reps[routes[0]]
    print(f"world: {world.n_states} states, n_q = {rep.world['n_q']} reduced unknowns, "
          f"{world.n_humans} human(s), {world.n_goals} goals")
    for route in routes:
        per_row = sum(r["seconds"] for r in reps[route].table)
        print(f"route {route:12s}: {len(betas)} betas in {walls[route]:.1f} s wall with {args.jobs} worker(s) "
              f"(indicator seconds summed over the points: {per_row:.1f} s)")
    if len(routes) == 2:
        a, b = reps["matrix_free"].rows("reduced"), reps["dense"].rows("reduced")
        drho = max(abs(x["rho"] - y["rho"]) for x, y in zip(a, b))
        dre = max(abs(x["max_re"] - y["max_re"]) for x, y in zip(a, b))
        ratio = max(x["rho_abs"] / y["rho_abs"] for x, y in zip(a, b))
        print(f"dense / matrix-free wall: {walls['dense'] / walls['matrix_free']:.1f}x; max |d rho| = {drho:.2e}, "
              f"max |d max_re| = {dre:.2e}; rho_abs bound / exact <= {ratio:.3f}")
    print(f"peak RSS of this process: {peak_rss_gb():.2f} GB")
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
