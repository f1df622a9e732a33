"""Contraction of the EMPO Phase 2 maps along the branch of fixed points: :func:`analyze_contraction`.

For each beta_r of a grid the exact fixed point is followed from beta_r = 0 by continuation
(:func:`~.empo_analysis.follow_branch`), and at that point each requested map (CONTRACTION_THEORY
§0: ``reduced`` R, ``jacobi`` J, ``gauss_seidel`` GS; see :mod:`.empo_maps`) is linearised with
its analytic Jacobian.  The indicators obey, at every beta,

.. math:: \\|J\\|_\\infty \\ge \\rho(|J|) \\ge \\rho(J) \\ge \\max_i \\mathrm{Re}\\,\\lambda_i,

hence :math:`\\beta^*_{sup} \\le \\beta^*_{async} \\le \\beta^*_{sync} \\le \\beta^*_{ODE}` for their
first crossings of 1 (both recorded as self-checks in ``report.ordering``).  ``dq_dbeta`` is
:math:`\\|dQ^*/d\\beta\\|_\\infty = \\|(I - J_R)^{-1}\\partial R/\\partial\\beta\\|_\\infty`, the ramp
sensitivity of §4.4, and ``beta_eff`` is :math:`\\beta\\max_s(\\max_a - \\min_a)\\log|Q^*(s,a)|`
(§4.1), which shows when the power-law policy is effectively uniform.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..core.forked import StreamedChains
from ..core.progress import progress_bar
from .._validation import check_betas
from ..exact.system import check_phase2_inputs
from .contraction_report import BETA_STAR_INDICATORS, CHAIN, ContractionReport, beta_crossings
from .branch_follow import BRANCH_METHODS
from .empo_analysis import (
    ANALYZE_DEFAULTS,
    analyze_joint,
    analyze_reduced,
    analyze_reduced_matrix_free,
    branch_derivative,
    follow_branch,
    matrix_free_state,
    reduced_route,
)
from ..core.numerics import one_blas_thread
from .matrix_free import ReducedOperator
from .empo_maps import EmpoMaps, check_map_name
from ._report import MapReport
from .multiplicity import fixed_point_search, plan_search, stability
from .spectral import predict_convergence_region

__all__ = ["analyze_contraction", "DEFAULT_A_VALUES", "DEFAULT_KAPPA_VALUES"]

#: The table's MapReport columns: every scalar field of :class:`MapReport` (one definition: ``MapReport.SCALARS``).
SCALAR_FIELDS = MapReport.SCALARS
DEFAULT_A_VALUES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0)
DEFAULT_KAPPA_VALUES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ORDER_RTOL = 1e-6


def _check_maps(maps) -> list:
    if isinstance(maps, str):
        maps = (maps,)
    names = [check_map_name(m) for m in maps]
    if not names:
        raise ValueError("maps must name at least one map")
    return list(dict.fromkeys(names))


def _row(map_name, beta, rep, extra) -> dict:
    row = {"map": map_name, "beta_r": float(beta)}
    for k in SCALAR_FIELDS:
        v = getattr(rep, k)
        if isinstance(v, (np.bool_, bool)):
            v = bool(v)
        elif isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (complex, np.complexfloating)):
            v = complex(v)
        elif isinstance(v, (float, np.floating)):
            v = float(v)
        row[k] = v
    lam = np.asarray(rep.eigenvalues, dtype=complex)
    row["max_re_eigenvalue"] = complex(lam[int(np.argmax(lam.real))]) if lam.size else complex(math.nan, 0.0)
    if row["max_re_eigenvalue"].imag < 0:
        row["max_re_eigenvalue"] = row["max_re_eigenvalue"].conjugate()
    row.update(stability(rep.rho, rep.max_re, rep.rho_abs, getattr(rep, "rho_abs_kind", "exact")))
    row.update(extra)
    return row


def _beta_eff(beta, Q, live) -> float:
    logs = np.log(np.abs(Q[live]))
    if logs.size == 0:
        return 0.0
    return float(beta * np.max(logs.max(axis=1) - logs.min(axis=1)))


def _ordering(table, maps, by_map) -> dict:
    violations = []
    for r in table:
        vals = [r[k] for k in CHAIN]
        for (k1, a), (k2, b) in zip(zip(CHAIN, vals), zip(CHAIN[1:], vals[1:])):
            if np.isfinite(a) and np.isfinite(b) and a < b - ORDER_RTOL * max(1.0, abs(b)):
                violations.append({"map": r["map"], "beta_r": r["beta_r"], "pair": [k1, k2], "values": [a, b]})
    firsts, ok = {}, True
    for m in maps:
        f = [by_map[m][k]["first"] for k in CHAIN]
        firsts[m] = dict(zip(CHAIN, f))
        ok = ok and all(a <= b for a, b in zip(f, f[1:]))
    return {"rows_ok": not violations, "violations": violations, "beta_star_ok": bool(ok), "beta_star_first": firsts,
            "chain": list(CHAIN)}


def analyze_contraction(world, prior, params, betas, maps=("reduced", "jacobi", "gauss_seidel"), *,
                        n_fixed_point_starts: int = 6, fixed_point_max_dim=None, seed: int = 0,
                        progress: bool = False, include_v_r: bool = True, options=None, region_beta=None,
                        a_values=DEFAULT_A_VALUES, kappa_values=DEFAULT_KAPPA_VALUES,
                        max_saved_eigenvalues: int = 200, n_jobs: int = 1, fixed_point_budget: float = 20.0,
                        fixed_point_box=3.0, fixed_point_starts=None, fixed_point_jobs: int = 1) -> ContractionReport:
    """Contraction indicators of the Phase 2 maps along the branch ``Q*(beta_r)`` from beta_r = 0.

    Parameters
    ----------
    world : TabularWorld
    prior : HumanPrior
    params : EmpoParams
        Every parameter except ``beta_r`` (taken from ``betas``).
    betas : sequence of float
        beta_r grid, each finite and >= 0 (sorted and deduplicated here; include 0 to see the
        affine beta = 0 map, where R is a gamma_r-contraction).
    maps : sequence of str
        Any of ``"reduced"``, ``"jacobi"``, ``"gauss_seidel"`` (:mod:`.empo_maps`).
    n_fixed_point_starts : int
        Random starts of :func:`find_fixed_points` on the reduced map per beta (0 disables the
        search), in log coordinates with the analytic Jacobian, plus the branch point itself and any
        ``fixed_point_starts``.  The search runs where it is affordable: one trial search (one random
        start) at the largest beta is timed and extrapolated to every start and beta; above
        ``fixed_point_budget`` seconds it is skipped and the report says "not searched"
        (``n_fixed_points = None``, ``fixed_points_searched = False``, with the estimate).
    fixed_point_max_dim : int, optional
        Largest reduced dimension ``n_q`` for the search (default: no cap, only the budget).
    fixed_point_budget : float
        Seconds the whole multiplicity search may take (estimated before it runs; default 20).
    fixed_point_box : float or (lower, upper)
        Search box: a factor ``c > 1`` gives ``[c min q*, max q*/c]`` in every coordinate (default 3);
        or explicit negative corners (scalars or arrays of length n_q).  Starts are log-uniform.
    fixed_point_starts : array_like, shape (k, n_q), or dict beta -> array, optional
        User start points of the search (flat q vectors, :meth:`EmpoMaps.pack_q`).
    fixed_point_jobs : int
        Worker processes running the starts of one search in parallel (used when ``n_jobs == 1``; inside
        the ``n_jobs`` sweep workers the starts run serially).
    seed : int
        Seed of every random choice.
    progress : bool
        Show a tqdm progress bar over beta.
    include_v_r : bool
        Whether V_r is a block of the joint vector (default True, as in SA with a V_r table).
    options : dict, optional
        Overrides of :data:`~.empo_analysis.ANALYZE_DEFAULTS` (estimator budgets,
        ``joint_dense_max``, ``n_eigs``, ``branch_method`` -- the corrector that follows the branch,
        ``"auto"`` (Anderson sweeps, Newton where they stop), ``"anderson"`` or ``"newton"``; see
        :func:`~.branch_follow.follow_branch` -- ...).  The report's notes say which corrector produced the
        points and how long the branch took.
    region_beta : float, optional
        beta_r of the predicted convergence region (default: the largest beta); must be in the
        grid.  Needs the ``jacobi`` map; ``None`` region when it is not analysed.
    a_values, kappa_values : sequences of float
        Grid of evaluator steps ``a`` and ratios ``kappa = lr_q_r / lr_evaluator`` of the region
        :math:`\\rho(I + D(a,\\kappa)(J_{Jacobi} - I))` with ``D = a`` on V_h^e, X_h, U_r and
        ``kappa a`` on Q_r, V_r.
    max_saved_eigenvalues : int
        Eigenvalues of largest modulus kept per (map, beta) in ``report.spectra``.
    n_jobs : int
        Worker processes (forked; threads where ``fork`` is unavailable) analysing the grid
        points (default 1).  Each worker takes every ``n_jobs``-th point, so the Perron warm start
        comes from ``n_jobs`` points back; the indicators agree with ``n_jobs = 1`` to the
        estimators' tolerances.  Without a multiplicity search the workers start while the branch is
        followed: each point is sent to its worker as soon as the continuation reaches it (if a point
        is withdrawn later, e.g. by a Newton fallback, the final branch is analysed afresh; a note says
        which happened).  BLAS is pinned to one thread per process throughout.

    Returns
    -------
    ContractionReport

    Raises
    ------
    TypeError, ValueError
        Bad arguments (unknown map, negative or non-finite betas, wrong types).
    ConvergenceError
        If continuation of the branch fails.
    """
    check_phase2_inputs(world, prior, params)
    grid = check_betas(betas)
    names = _check_maps(maps)
    opt = {**ANALYZE_DEFAULTS, **(options or {})}
    unknown = sorted(set(opt) - set(ANALYZE_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; known: {sorted(ANALYZE_DEFAULTS)}")
    reduced_route(1, opt)  # checks options["reduced_route"]
    if opt["branch_method"] not in BRANCH_METHODS:
        raise ValueError(f"options['branch_method'] must be one of {BRANCH_METHODS}, got {opt['branch_method']!r}")
    if int(n_fixed_point_starts) < 0:
        raise ValueError(f"n_fixed_point_starts must be >= 0, got {n_fixed_point_starts}")
    if isinstance(fixed_point_budget, bool) or not isinstance(fixed_point_budget, (int, float, np.integer, np.floating)) \
            or not (math.isfinite(float(fixed_point_budget)) and fixed_point_budget >= 0):
        raise ValueError(f"fixed_point_budget must be a finite number of seconds >= 0, got {fixed_point_budget!r}")
    if isinstance(fixed_point_jobs, bool) or not isinstance(fixed_point_jobs, (int, np.integer)) \
            or fixed_point_jobs < 1:
        raise ValueError(f"fixed_point_jobs must be an integer >= 1, got {fixed_point_jobs!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an integer >= 1, got {n_jobs!r}")
    if region_beta is None:
        region_beta = grid[-1]
    elif float(region_beta) not in grid:
        raise ValueError(f"region_beta = {region_beta!r} must be one of the betas {grid}")
    with one_blas_thread():  # dense kernels are small; OpenBLAS threading on a shared machine is a 10x loss
        fp = dict(starts=int(n_fixed_point_starts), max_dim=fixed_point_max_dim, budget=float(fixed_point_budget),
                  box=fixed_point_box, user=fixed_point_starts, jobs=int(fixed_point_jobs))
        return _sweep(world, prior, params, grid, names, opt, fp, seed,
                      progress, include_v_r, region_beta, a_values, kappa_values, max_saved_eigenvalues, n_jobs)


def _sweep(world, prior, params, grid, names, opt, fp, seed, progress,
           include_v_r, region_beta, a_values, kappa_values, max_saved_eigenvalues, n_jobs):
    """The body of :func:`analyze_contraction` (arguments already checked)."""
    t_start = time.perf_counter()
    em = EmpoMaps(world, prior, params, include_v_r=include_v_r)
    s0 = int(world.initial_state)
    notes = []
    n_fixed_point_starts = fp["starts"]
    search = False  # set after the branch (plan_search); the streamed workers below run without a search
    route = reduced_route(em.n_q, opt)

    def one_beta(beta, sol, perron_start, workspace):
        q_star = em.pack_q(sol["Q_r"])
        if route == "dense":
            factors = em.reduced_factors(q_star, beta)
            dq = branch_derivative(em, q_star, beta, factors)
        else:
            # matrix-free: a fresh factorisation of the evaluator system at each point.  Reusing the previous
            # point's by refinement (matrix_free_state(near=...)) costs 2-4 triangular solves per solve instead of
            # one, and a point needs ~200 solves (ARPACK, Perron bound, branch derivative, Picard): measured on the
            # 1,260-state room it ended in a fresh factorisation at every one of 40 grid points anyway, after
            # ~800 wasted solves.  What carries over between points are ARPACK's, GMRES's and the Perron
            # iteration's start vectors (workspace).
            st = matrix_free_state(em, q_star, beta)
            op = ReducedOperator(em, q_star, beta, st)
            y0 = workspace.get("mf_dy")

            def derivative():
                return op.branch_derivative(em.reduced_beta_derivative(q_star, beta, state=st), y0=y0)

            if "reduced" in names:  # beside the estimators, sharing their solves (analyze_reduced_matrix_free)
                t0 = time.perf_counter()
                mf_rep = analyze_reduced_matrix_free(em, q_star, beta, seed=seed, options=opt, state=st,
                                                     workspace=workspace, operator=op,
                                                     side_tasks={"dq": derivative})
                mf_seconds = time.perf_counter() - t0
                dq = workspace["side_results"]["dq"]
            else:
                dq = derivative()
            workspace["mf_dy"] = getattr(op, "last_y", None)  # the next point's GMRES start
        dq_norm = float(np.max(np.abs(dq))) if dq.size else 0.0
        fps, fp_arrays, fset = [], {}, None
        if search:
            user = fp["user"].get(beta) if isinstance(fp["user"], dict) else fp["user"]
            fps, fset = fixed_point_search(em, q_star, beta, int(n_fixed_point_starts), seed, s0, fp["box"], user,
                                            fp["jobs"] if n_jobs == 1 else 1)
            i = grid.index(beta)
            fp_arrays = {f"Q_r__beta_{i}__point_{k}": em.unpack_q(np.asarray(fset[k])) for k in range(len(fps))}
        n_fp = len(fps) if search else None
        extra = {"solver_residual": float(sol["residual"]), "dq_dbeta": dq_norm, "n_fixed_points": n_fp,
                 "fixed_points_searched": bool(search), "beta_eff": _beta_eff(beta, sol["Q_r"], ~world.terminal)}
        stable = None
        out = {"rows": [], "spectra": {}, "perron": perron_start, "region": None, "notes": [], "fp_arrays": fp_arrays}
        for m in names:
            t0 = time.perf_counter()
            if m == "reduced":
                if route == "dense":
                    rep = analyze_reduced(em, q_star, beta, seed=seed, options=opt, factors=factors,
                                          perron_start=perron_start, workspace=workspace)
                else:
                    rep = mf_rep  # computed above, with the branch derivative; its seconds include that
                    t0 -= mf_seconds
                out["perron"] = rep.perron_weights
            else:
                z = em.fixed_point(m, _Arrays(sol))
                rep = analyze_joint(em, m, z, beta, seed=seed, options=opt,
                                    keep_jacobian=(m == "jacobi" and beta == region_beta))
                if m == "jacobi" and beta == region_beta:
                    out["region"] = _region(em, rep, beta, a_values, kappa_values, out["notes"])
            out["rows"].append(_row(m, beta, rep, {**extra, "seconds": time.perf_counter() - t0}))
            lam = np.asarray(rep.eigenvalues, dtype=complex)
            out["spectra"][m] = lam[np.argsort(-np.abs(lam), kind="stable")][:max_saved_eigenvalues]
            if stable is None or m == "reduced":
                stable = stability(rep.rho, rep.max_re, rep.rho_abs, rep.rho_abs_kind)
                stable["stability_map"] = m
        out["branch"] = {"beta_r": beta, "V_r_s0": float(sol["V_r"][s0]), "stable": stable["stable_sync"], **stable,
                         "dq_dbeta": dq_norm, "fixed_points_searched": bool(search), "n_fixed_points": n_fp,
                         "fixed_points": fps, "search_seconds": float(fset.seconds) if search else None}
        return out

    # with workers and no multiplicity search, the grid points are analysed while the branch is still being
    # followed: each point goes to its chain's worker as soon as the continuation reaches it
    streamed, fed = None, {}
    if int(n_jobs) > 1 and n_fixed_point_starts == 0 and len(grid) > 1:
        try:
            streamed = StreamedChains(lambda k, sol, state: _streamed_point(one_beta, grid, k, sol, state),
                                      min(int(n_jobs), len(grid)))
        except (ValueError, AssertionError, OSError):  # no fork, or inside a daemonic process
            streamed = None

    def on_point(k, d):
        if streamed is not None:
            fed.setdefault(k, []).append(d)
            streamed.feed(k, d)

    t_branch = time.perf_counter()
    try:
        sols = follow_branch(world, prior, params, grid, method=opt["branch_method"], on_point=on_point)
    except BaseException:
        if streamed is not None:
            streamed.close()
        raise
    used = sorted({d.get("branch_method", "") for d in sols})
    notes.append(f"branch of fixed points: {len(sols)} grid points by {'/'.join(used)} in "
                 f"{time.perf_counter() - t_branch:.2f} s")
    search, reason, estimate = plan_search(em, grid, sols, fp, seed, s0, max(int(n_jobs), fp["jobs"]))
    if n_fixed_point_starts > 0 and not search:
        notes.append(f"fixed-point multiplicity not searched: {reason} (n_fixed_points = null)")
    table, branch = [], []
    spectra = {m: [] for m in names}
    region = None
    results = None
    if streamed is not None:
        if all(len(fed.get(i, ())) == 1 and fed[i][0] is sols[i] for i in range(len(grid))):
            got = streamed.results()
            results = [got[i] for i in range(len(grid))]
            if progress:
                bar = progress_bar(len(grid), "contraction", "beta")
                bar.update(len(grid))
                bar.close()
            notes.append(f"grid points analysed by {streamed.n_jobs} workers while the branch was followed")
        else:  # a point was withdrawn (branch test, Newton fallback): analyse the final branch afresh
            streamed.close()
    if results is None:
        results = _run_chains(one_beta, grid, sols, int(n_jobs), progress)
    fp_arrays = {}
    for res in results:
        fp_arrays.update(res["fp_arrays"])
        table.extend(res["rows"])
        for m in names:
            spectra[m].append(res["spectra"][m])
        branch.append(res["branch"])
        notes.extend(res["notes"])
        region = res["region"] if res["region"] is not None else region
    by_map = {}
    for m in names:
        rows = [r for r in table if r["map"] == m]
        b = [r["beta_r"] for r in rows]
        by_map[m] = {}
        for ind in BETA_STAR_INDICATORS:
            eig = None
            if ind == "rho":
                eig = [r["dominant_eigenvalue"] for r in rows]
            elif ind == "max_re":
                eig = [r["max_re_eigenvalue"] for r in rows]
            by_map[m][ind] = beta_crossings(b, [r[ind] for r in rows], 1.0, eig, ind)
            kind_key = "rho_abs_kind" if ind == "rho_abs" else "norms_kind"
            if ind in ("rho_abs", "sup_norm", "log_norm") and any(r.get(kind_key) == "upper_bound" for r in rows):
                by_map[m][ind]["from_upper_bound"] = True  # the true crossing lies at or above this beta
    primary = "reduced" if "reduced" in names else names[0]
    beta_star = {ind: {**by_map[primary][ind], "map": primary} for ind in BETA_STAR_INDICATORS}
    multi = [br["beta_r"] for br in branch if len(br["fixed_points"]) > 1]
    box = fp["box"]
    beta_star["multi"] = {"first": float(multi[0]) if multi else math.inf, "all": multi, "map": "reduced",
                          "searched": bool(search), "status": ("found" if multi else "none_found") if search
                          else "not_searched", "reason": reason, "estimated_seconds": estimate,
                          "n_starts": int(n_fixed_point_starts), "n_searched_betas": len(grid) if search else 0,
                          "box": (f"[{box:g} min q*, max q*/{box:g}] (log-uniform)"
                                  if not isinstance(box, (tuple, list)) else "user (lower, upper)"),
                          "budget_seconds": fp["budget"]}
    if fp_arrays:
        fp_arrays["betas"] = np.asarray(grid, dtype=float)
    worst = max((float(r["solver_residual"]) for r in table), default=0.0)
    return ContractionReport(
        maps=names, betas=grid, params=params.to_dict(), world_checksum=world.checksum,
        converged=True, iterations=len(table), residual=worst,
        message=f"{len(table)} (map, beta_r) rows on the branch continued from beta_r = 0; "
                f"largest solver residual {worst:.3g}",
        world={"name": world.info.get("name", "") if isinstance(world.info, dict) else "",
               "n_states": int(world.n_states), "n_ar": int(world.n_ar), "n_humans": int(world.n_humans),
               "n_goals": int(world.n_goals), "acyclic": bool(world.is_acyclic), "initial_state": s0,
               "n_q": int(em.n_q), "n_joint": int(em.n_joint), "include_v_r": bool(include_v_r)},
        table=table, beta_star=beta_star, beta_star_by_map=by_map, ordering=_ordering(table, names, by_map),
        branch=branch, spectra=spectra, region=region, seconds=time.perf_counter() - t_start,
        notes=notes, fixed_point_arrays=fp_arrays,
        options={**opt, "seed": int(seed), "n_fixed_point_starts": int(n_fixed_point_starts),
                 "fixed_point_max_dim": None if fp["max_dim"] is None else int(fp["max_dim"]),
                 "fixed_point_budget": fp["budget"], "region_beta": float(region_beta)})


class _Arrays:
    """Adapter: a solution dict with an ``arrays()`` method for :meth:`EmpoMaps.pack_joint`."""

    def __init__(self, d):
        self.d = d

    def arrays(self):
        return self.d

    def __getattr__(self, name):
        try:
            return self.__dict__["d"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _region(em, rep, beta, a_values, kappa_values, notes):
    a = np.asarray(a_values, dtype=float)
    k = np.asarray(kappa_values, dtype=float)
    try:
        rho = predict_convergence_region(rep.jacobian, em.fast_mask(), a, k)
    except Exception as exc:  # ARPACK failures on clustered spectra
        notes.append(f"predicted region at beta = {beta:g} failed: {exc}")
        return None
    return {"beta": float(beta), "map": "jacobi", "a_values": a.tolist(), "kappa_values": k.tolist(),
            "rho_pred": rho.tolist(), "fast": ["V_h_e", "X_h", "U_r"], "slow": ["Q_r"] + (
                ["V_r"] if em.include_v_r else [])}


def _streamed_point(one_beta, grid, k, sol, state):
    """Grid point ``k`` in a :class:`~empo_tabular.core.forked.StreamedChains` worker: as :func:`_chain` does it,
    with the previous point of the chain's Perron vector and the chain's workspace kept in ``state``."""
    res = one_beta(grid[k], sol, state.get("perron"), state.setdefault("workspace", {}))
    state["perron"] = res["perron"]
    return res


_CHAINS: dict = {}  # work of the running sweeps, inherited by forked workers


def _chain(key, j, n_jobs, bar=None):
    """Run chain ``j`` of the sweep ``key`` (see :func:`_run_chains`); returns ``[(i, result), ...]``."""
    fn, grid, sols = _CHAINS[key]
    out, start, workspace = [], None, {}  # per-chain buffers (the |J_R| array), dropped at the end
    for i in range(j, len(grid), n_jobs):
        res = fn(grid[i], sols[i], start, workspace)
        start = res["perron"]
        out.append((i, res))
        if bar is not None:
            bar.update(1)
    return out


def _chain_in_worker(args):
    return _chain(*args)


def _run_chains(fn, grid, sols, n_jobs, progress):
    """``fn(beta, sol, perron_start, workspace)`` for every grid point, in ``n_jobs`` interleaved chains.

    Chain ``j`` takes the grid points ``j, j + n_jobs, ...`` in ascending order and passes each
    point the Perron vector of its predecessor in the chain (warm start, see
    :func:`~.empo_analysis.analyze_reduced`), so the results do not depend on timing.
    ``n_jobs > 1`` runs the chains in forked worker processes (POSIX ``fork``; the work is
    inherited, only the results are sent back), or in threads where ``fork`` is unavailable.
    """
    n = len(grid)
    n_jobs = max(1, min(n_jobs, n))
    key = id(fn)
    _CHAINS[key] = (fn, grid, sols)
    bar = progress_bar(n, "contraction", "beta") if progress else None
    parts = None
    try:
        if n_jobs == 1:
            parts = [_chain(key, 0, 1, bar)]
        else:
            import multiprocessing as mp

            try:
                ctx = mp.get_context("fork")
                with ctx.Pool(n_jobs) as pool:
                    parts = []
                    for part in pool.imap_unordered(_chain_in_worker, [(key, j, n_jobs) for j in range(n_jobs)]):
                        parts.append(part)
                        if bar is not None:
                            bar.update(len(part))
            except (ValueError, AssertionError, OSError):  # no fork, or inside a daemonic process
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                    parts = list(pool.map(lambda j: _chain(key, j, n_jobs, bar), range(n_jobs)))
    finally:
        _CHAINS.pop(key, None)
        if bar is not None:
            bar.close()
    results = [None] * n
    for part in parts:
        for i, res in part:
            results[i] = res
    return results
