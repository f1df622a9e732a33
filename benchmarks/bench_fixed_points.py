"""Multiplicity-search benchmark: 30 starts on a 600-unknown reduced map (goal: under 60 s).

Run ``python benchmarks/bench_fixed_points.py`` (``--world plain|fold|both``, ``--starts N``, ``--beta B``,
``--seed S``, ``--jobs J``, ``--box C``, ``--old`` to also time ONE start of the previous search: finite-difference
Jacobians in plain coordinates, which the previous analyzer refused above n_q = 60).

Worlds (200-state random stationary worlds, 3 robot actions: n_q = 600 reduced unknowns, 1 human, 2 goals):

* ``plain``: ``random_world(200, n_actions=3, n_goals=2, seed=0)`` at beta_r = 50.  One fixed point found
  (the branch point; measured with boxes 3, 10 and 30).
* ``fold``: ``random_world(200, n_actions=3, n_goals=2, concentration=0.2, goal_density=0.3, seed=117)``
  at beta_r = 64.  Its branch from beta_r = 0 ends at a fold at beta_r ~ 64.99 (``solve_phase2`` at 100
  raises and says so); at 64 the search finds three fixed points (the branch point, the fold's unstable middle
  point with rho > 1, and a third stable one).

The search is the analyzer's (:func:`~empo_tabular.contraction.multiplicity.fixed_point_search`): log
coordinates, the analytic Jacobian ``J_R = P W``, the branch point plus ``--starts`` log-uniform starts in
``[C min q*, max q*/C]``, bridge starts between the points found, ``--jobs`` worker processes.  Printed per
world: the points found (V_r(s0), rho, max Re lambda, distance from the branch point), how hard it searched
(starts, box), the wall and CPU seconds of the search (CPU: this process plus its worker processes), and the
peak RSS (this process and the largest worker).
"""
from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np

WORLDS = {
    "plain": (dict(seed=0), 50.0),
    "fold": (dict(seed=117, concentration=0.2, goal_density=0.3), 64.0),
}


def _cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def run(name, args):
    from empo_tabular import EmpoParams, random_world, solve_phase1, solve_phase2
    from empo_tabular.contraction import EmpoMaps, find_fixed_points
    from empo_tabular.contraction.multiplicity import fixed_point_search

    kw, beta = WORLDS[name]
    kw = dict(kw, seed=args.seed if args.seed is not None else kw["seed"])
    beta = args.beta if args.beta is not None else beta
    w = random_world(args.states, n_actions=3, n_goals=2, **kw)
    params = EmpoParams(beta_h=5.0, gamma_h=0.9, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1, beta_r=beta)
    prior = solve_phase1(w, params)
    sol = solve_phase2(w, prior, params)
    em = EmpoMaps(w, prior, params)
    q_star = em.pack_q(sol.Q_r)
    s0 = int(w.initial_state)
    em.reduced_jacobian(q_star, beta)  # warm-up (JIT)
    t0, c0 = time.perf_counter(), _cpu()
    pts, fps = fixed_point_search(em, q_star, beta, args.starts, args.seed or 0, s0, box=args.box, n_jobs=args.jobs)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    print(f"[{name}] world {kw}: {w.n_states} states, n_q = {em.n_q}, beta_r = {beta:g}")
    print(f"[{name}] searched with {fps.n_starts} random starts + {fps.n_user_starts} user start (the branch point) "
          f"+ bridge starts, box [{args.box:g} min q*, max q*/{args.box:g}] = [{fps.lower.min():.4g}, "
          f"{fps.upper.max():.4g}], {args.jobs} worker(s): {fps.shape[0]} distinct fixed point(s) found, "
          f"{fps.n_converged} converged starts")
    print(f"[{name}] search: {wall:.1f} s wall, {cpu:.1f} s CPU (this process + workers) "
          f"(goal: {args.starts} starts < 60 s wall)")
    for k, p in enumerate(pts):
        print(f"  point {k}: V_r(s0) = {p['V_r_s0']:.6g}, rho = {p['rho']:.4f}, max Re = {p['max_re']:.4f}, "
              f"max |log(q/q*)| = {p['log_dist_to_branch']:.3g}, residual {p['residual']:.1e}, "
              f"Q* row {k} of the result ({np.asarray(fps[k]).size} entries, in [{p['q_min']:.4g}, {p['q_max']:.4g}])")
    if args.old:
        R = em.map_function("reduced", beta)

        def F(q):
            if not np.all(q < 0):
                return np.full(q.size, np.nan)
            return R(q)

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            find_fixed_points(F, fps.lower, fps.upper, 1, seed=args.seed or 0, log_uniform=True, bridge_rounds=0,
                              fd_max_dim=10 ** 6)
        one = time.perf_counter() - t0
        print(f"[{name}] old search (finite differences, plain coordinates): one start {one:.1f} s -> "
              f"{args.starts} starts ~ {one * args.starts:.0f} s; ratio ~ {one * args.starts / wall:.0f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", choices=("plain", "fold", "both"), default="both")
    ap.add_argument("--states", type=int, default=200)
    ap.add_argument("--starts", type=int, default=30)
    ap.add_argument("--beta", type=float, default=None, help="default: 50 (plain), 64 (fold)")
    ap.add_argument("--seed", type=int, default=None, help="world seed (default: 0 plain, 117 fold); also the "
                    "seed of the starts (default 0)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--box", type=float, default=3.0)
    ap.add_argument("--old", action="store_true", help="also time one start of the finite-difference search")
    args = ap.parse_args(argv)
    for name in (("plain", "fold") if args.world == "both" else (args.world,)):
        run(name, args)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    print(f"peak RSS: {own:.2f} GB (this process), {child:.2f} GB (largest worker)")


if __name__ == "__main__":
    main()
