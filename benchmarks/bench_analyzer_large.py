"""Analyzer at one beta_r on large random stationary worlds: rho(J), max Re lambda and the rho(|J|) routes.

Run ``python benchmarks/bench_analyzer_large.py`` (``--states 2000,100000``, ``--beta``, ``--dense-max``:
largest n_q for which the old dense route also runs, in the same process, for the ratio; ``--jacobi``: also
the Jacobi map's exact rho(|J|) by ARPACK on its sparse |J|).  Worlds: ``random_world(S, n_actions=2,
n_goals=2, branching=2, seed=1)`` (the family of ``bench_exact.py``), gamma_r = gamma_h = 0.9.  Phase 1
and Phase 2 are solved first and not timed.  Timed: the matrix-free analysis of the reduced map
(``analyze_reduced_matrix_free``: ARPACK LM + LR on ``W P``, the certified upper bound on rho(|J_R|), no
Picard or sampled bounds), and, for n_q <= ``--dense-max``, the dense route (complete spectrum of ``W P``,
exact rho(|J_R|)).  Measured at 1e5 states (load ~1.5): 15.2 s wall, 15.1 CPU s, peak RSS 0.63 GB (the LR
Arnoldi run is skipped: the dominant eigenvalue is real and positive).  Printed: wall and CPU seconds, the indicators, their agreement, the peak RSS (goal: 1e5 states <= 30 s).
"""
from __future__ import annotations

import argparse
import resource
import time



def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", default="2000,100000")
    ap.add_argument("--beta", type=float, default=5.0)
    ap.add_argument("--dense-max", type=int, default=5000)
    ap.add_argument("--jacobi", action="store_true")
    args = ap.parse_args(argv)
    import empo_tabular as et
    from empo_tabular.contraction import EmpoMaps
    from empo_tabular.contraction.empo_analysis import analyze_joint, analyze_reduced

    opt = dict(picard_steps=0, n_samples=0, adversarial=False)
    for S in [int(s) for s in args.states.split(",")]:
        w = et.random_world(S, n_humans=1, n_robots=1, n_actions=2, n_goals=2, acyclic=False,
                            horizon=min(50, S // 10), branching=2, seed=1)
        p = et.EmpoParams(beta_r=args.beta, gamma_r=0.9, gamma_h=0.9)
        t0 = time.perf_counter()
        prior = et.solve_phase1(w, p)
        sol = et.solve_phase2(w, prior, p)
        t_solve = time.perf_counter() - t0
        t0 = time.perf_counter()
        em = EmpoMaps(w, prior, p)
        q = em.pack_q(sol.Q_r)
        t_maps = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        mf = analyze_reduced(em, q, args.beta, options={**opt, "reduced_route": "matrix_free"})
        t_mf, c_mf = time.perf_counter() - t0, time.process_time() - c0
        print(f"S = {S}: n_q = {em.n_q}, n_e = {em.n_e}; Phase 1 + 2 {t_solve:.1f} s (not timed below); "
              f"EmpoMaps {t_maps:.2f} s")
        print(f"  matrix-free: {t_mf:.2f} s wall, {c_mf:.2f} CPU s  rho = {mf.rho:.10f}  max_re = {mf.max_re:.10f}  "
              f"lambda_dom = {mf.dominant_eigenvalue:.6f}  rho_abs <= {mf.rho_abs:.6f} ({mf.rho_abs_kind})  "
              f"peak RSS {rss_gb():.2f} GB")
        if em.n_q <= args.dense_max:
            t0 = time.perf_counter()
            de = analyze_reduced(em, q, args.beta, options={**opt, "reduced_route": "dense"})
            t_de = time.perf_counter() - t0
            print(f"  dense (old): {t_de:.2f} s  rho = {de.rho:.10f}  max_re = {de.max_re:.10f}  rho_abs = "
                  f"{de.rho_abs:.6f} (exact); ratio dense / matrix-free {t_de / t_mf:.1f}x; |d rho| = "
                  f"{abs(de.rho - mf.rho):.1e}, |d max_re| = {abs(de.max_re - mf.max_re):.1e}; peak RSS {rss_gb():.2f} GB")
        else:
            gb = 8.0 * em.n_u * em.n_q / 1e9 + 4.0 * em.n_q ** 2 / 1e9
            print(f"  dense (old): not run: dense W and float32 |J_R| need ~{gb:.0f} GB")
        if args.jacobi:
            z = em.fixed_point("jacobi", sol)
            t0 = time.perf_counter()
            rj = analyze_joint(em, "jacobi", z, args.beta, options={**opt, "n_eigs": 4})
            print(f"  jacobi map (n = {em.n_joint}): {time.perf_counter() - t0:.2f} s  rho_abs = {rj.rho_abs:.6f} "
                  f"({rj.rho_abs_kind}: Perron root of the sparse |J|)  rho = {rj.rho:.6f}  peak RSS {rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
