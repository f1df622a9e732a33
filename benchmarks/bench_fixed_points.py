"""Multiplicity-search benchmark: 30 starts on a 600-unknown reduced map (goal: under 60 s).

Run ``python benchmarks/bench_fixed_points.py`` (``--starts N``, ``--beta B``, ``--seed S``, ``--jobs J``,
``--old`` to also time ONE start of the previous search: finite-difference Jacobians in plain coordinates,
which the previous analyzer refused above n_q = 60).  The world is a 200-state random stationary world with
3 robot actions (n_q = 600 reduced unknowns), 1 human and 2 goals.  The new search: log coordinates,
the analytic Jacobian ``J_R = P W``, the branch point plus ``--starts`` log-uniform starts in
``[3 min q*, max q*/3]``, bridge starts between the points found, ``--jobs`` worker processes.
Printed: the points found (V_r(s0), rho, max Re lambda, distance from the branch point), the wall time,
the time of one old-style start and the extrapolated ratio, and the peak RSS.
"""
from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=200)
    ap.add_argument("--starts", type=int, default=30)
    ap.add_argument("--beta", type=float, default=50.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--box", type=float, default=3.0)
    ap.add_argument("--old", action="store_true", help="also time one start of the finite-difference search")
    args = ap.parse_args(argv)
    from empo_tabular import EmpoParams, random_world, solve_phase1, solve_phase2
    from empo_tabular.contraction import EmpoMaps, find_fixed_points

    w = random_world(args.states, n_actions=3, n_goals=2, seed=args.seed)
    params = EmpoParams(beta_h=5.0, gamma_h=0.9, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1, beta_r=args.beta)
    prior = solve_phase1(w, params)
    sol = solve_phase2(w, prior, params)
    em = EmpoMaps(w, prior, params)
    q_star = em.pack_q(sol.Q_r)
    beta = args.beta
    R = em.map_function("reduced", beta)

    def F(q):
        if not np.all(q < 0):
            return np.full(q.size, np.nan)
        return R(q)

    lo = np.full(em.n_q, args.box * q_star.min())
    hi = np.full(em.n_q, q_star.max() / args.box)
    em.reduced_jacobian(q_star, beta)  # warm-up (JIT)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fps = find_fixed_points(F, lo, hi, args.starts, seed=args.seed, log_coords=True, starts=q_star[None, :],
                                jacobian=lambda q: em.reduced_jacobian(q, beta), n_jobs=args.jobs)
    wall = time.perf_counter() - t0
    s0 = int(w.initial_state)
    print(f"world: {w.n_states} states, n_q = {em.n_q}, beta_r = {beta:g}; {args.starts} random starts + the branch "
          f"point, box [{args.box:g} min q*, max q*/{args.box:g}], {args.jobs} worker(s)")
    print(f"new search: {wall:.1f} s wall, {fps.shape[0]} distinct fixed point(s), {fps.n_converged} converged starts "
          f"(goal: 30 starts < 60 s)")
    for k in range(fps.shape[0]):
        q = np.asarray(fps[k])
        v = em.reduced_state(q, beta)["V_r"][s0]
        print(f"  point {k}: V_r(s0) = {v:.6g}, rho = {fps.rho[k]:.4f}, max Re = {fps.max_re[k]:.4f}, "
              f"max |log(q/q*)| = {np.max(np.abs(np.log(q / q_star))):.3g}, residual {fps.residual[k]:.1e}")
    if args.old:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            find_fixed_points(F, lo, hi, 1, seed=args.seed, log_uniform=True, bridge_rounds=0,
                              fd_max_dim=10 ** 6)
        one = time.perf_counter() - t0
        print(f"old search (finite differences, plain coordinates): one start {one:.1f} s -> "
              f"{args.starts} starts ~ {one * args.starts:.0f} s; ratio ~ {one * args.starts / wall:.0f}x")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
