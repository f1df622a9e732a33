"""Building blocks of :func:`analyze_contraction`: the branch of fixed points and per-map analysis.

* :func:`follow_branch` (re-exported from :mod:`.branch_follow`) — exact Phase 2 solutions on a grid of
  beta_r by continuation from beta_r = 0 (Anderson sweeps, Newton as the fallback).
* :func:`analyze_reduced` — :class:`MapReport` of the reduced map R at its fixed point using the
  factorisation ``J_R = P W`` (:meth:`EmpoMaps.reduced_factors`): the complete spectrum is
  ``eigvals(W P)`` (n_live x n_live) plus ``n_q - n_live`` zeros, the norms come from ``|J_R|``
  assembled row by row (float32 above :data:`ABS32_MIN` unknowns, Perron root warm-started and
  certified), and the observed/sampled estimators are those of :func:`analyze_map`.
* :func:`analyze_joint` — :func:`analyze_map` on a joint map with its analytic sparse Jacobian.
* :func:`branch_derivative` — :math:`dq^*/d\\beta = (I - J_R)^{-1} \\partial R/\\partial\\beta`
  (implicit function theorem) via Woodbury: :math:`x = r + P (I - W P)^{-1} W r`.
"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._kernels import contraction as _kc
from ..core.numerics import one_blas_thread
from . import _estimators as est
from .batched import BatchedSolver, run_batched
from .branch_follow import follow_branch
from ._report import MapReport
from .generic import CountedMap, norm_fields, normalise_vector, spectral_fields, analyze_map
from .ordering import PermutedLU
from .matrix_free import ReducedOperator, RefinedSolver, arpack_spectrum, perron_upper_bound
from .spectral import dominant_index, perron

__all__ = ["ANALYZE_DEFAULTS", "REDUCED_ROUTES", "analyze_joint", "analyze_reduced", "analyze_reduced_matrix_free",
           "branch_derivative", "follow_branch", "matrix_free_state", "reduced_route"]

#: Budgets for the map-level estimators (Picard observation, lower bounds, ARPACK) used by
#: :func:`analyze_contraction`; smaller than :func:`analyze_map`'s defaults to keep sweeps fast.
ANALYZE_DEFAULTS = dict(n_samples=30, picard_steps=100, picard_window=20, adversarial=True, adversarial_starts=2,
                        adversarial_rows=4, adversarial_maxfev=100, box=0.1, n_eigs=12, joint_dense_max=600,
                        core_dense_max=1500, h_rel=1e-6, reduced_route="auto", reduced_dense_max=3000,
                        arpack_tol=1e-12, mf_n_eigs=1, branch_method="auto")
#: ``branch_method``: the corrector of :func:`follow_branch` (``"auto"``, ``"anderson"`` or ``"newton"``).
#: ``reduced_route`` values: ``"dense"`` (complete spectrum of ``W P``, exact ``rho(|J_R|)``), ``"matrix_free"``
#: (:mod:`.matrix_free`: ARPACK Ritz values, ``rho_abs`` an upper bound), ``"auto"`` (dense when
#: ``n_q <= reduced_dense_max``).
REDUCED_ROUTES = ("auto", "dense", "matrix_free")


#: Above this many unknowns the reduced analysis stores ``|J_R|`` in float32 for the Perron root
#: (half the memory traffic; see :func:`~.spectral.perron` for the accuracy).
ABS32_MIN = 2000
#: From this many V_h^e unknowns the matrix-free estimators run in lockstep with batched solves
#: (:func:`analyze_reduced_matrix_free`).  Measured (40-beta sweeps of ``benchmarks/bench_contraction.py``, one
#: worker): 5,040 unknowns (6x6 room, solves ~0.4 ms) 9.6 CPU s batched vs 9.2 serial (the thread hand-overs
#: cost more than the shared reads save); 39,600 unknowns (10x10 room, solves ~20 ms) ~30% less per point.
BATCH_MIN = 20_000
#: Largest ``|J_R|`` whose Perron root is found by a dense eigendecomposition (ARPACK above).
PERRON_DENSE_MAX = 500


def _wp(P, W, state):
    """``W P`` (n_live x n_live), cached in the :meth:`EmpoMaps.reduced_state` dict ``state``."""
    if state is None or state.get("WP") is None:
        WP = np.zeros((W.shape[0], P.shape[1]))
        P = sp.csr_matrix(P)
        _kc.add_dense_times_csr(WP, np.arange(W.shape[0]), np.ascontiguousarray(W), P.indptr, P.indices, P.data)
        if state is None:
            return WP
        state["WP"] = WP
    return state["WP"]



def _factored_norms(P, W, x_star, perron_start, workspace=None):
    """``sup_norm, log_norm, rho_abs, perron_weights`` of ``J = P W`` without forming J in float64.

    ``|J|`` is assembled row by row (float32 storage above :data:`ABS32_MIN` unknowns, row
    sums in float64) into ``workspace["absJ"]`` when that buffer fits (it is reused across the
    grid points of a sweep); the Perron root is :func:`~.spectral.perron` started from ``perron_start``.
    """
    n = x_star.size
    P = sp.csr_matrix(P)
    dtype = np.float32 if n > ABS32_MIN else np.float64
    A = None if workspace is None else workspace.get("absJ")
    if A is None or A.shape != (n, n) or A.dtype != dtype:
        A = np.empty((n, n), dtype=dtype)
        if workspace is not None:
            workspace["absJ"] = A
    rows, xrows = np.empty(n), np.empty(n)
    ax = np.abs(x_star)
    _kc.abs_product_rows(P.indptr, P.indices, P.data, np.ascontiguousarray(W), ax, A, rows, xrows)
    log_norm = float(np.max(xrows / ax)) if np.all(ax > 0) else math.nan
    rho_abs, w = perron(A, dense_limit=PERRON_DENSE_MAX, v0=perron_start)
    return dict(sup_norm=float(rows.max()), log_norm=log_norm, rho_abs=rho_abs, perron_weights=w)


def _eigenvector(A, lam):
    """Eigenvector of the dense matrix ``A`` for its eigenvalue ``lam``: three steps of inverse
    iteration with the shift ``lam + 1e-10 max(1, |lam|)`` from a fixed pseudo-random start."""
    n = A.shape[0]
    cplx = lam.imag != 0.0
    shift = (lam if cplx else lam.real) + 1e-10 * max(1.0, abs(lam))
    M = (A.astype(complex) if cplx else A.copy()) - shift * np.eye(n)
    start = np.random.default_rng(20240531)
    v = start.standard_normal(n) + (1j * start.standard_normal(n) if cplx else 0.0)
    lu = sla.lu_factor(M, check_finite=False, overwrite_a=True)
    for _ in range(3):
        v = sla.lu_solve(lu, v, check_finite=False)
        nv = float(np.linalg.norm(v))
        if not (nv > 0 and math.isfinite(nv)):
            return np.full(n, np.nan + 0j)
        v = v / nv
    return v


def _picard(F, x_star, mask, opt, rng):
    """The Picard observation of :func:`analyze_map` with the budgets of ``opt`` (a tuple, see
    :func:`~._estimators.picard_observation`)."""
    if opt["picard_steps"] <= 0:
        return math.nan, False, False, 0.0, "skipped", 0
    return est.picard_observation(F, x_star, mask, est.scales_of(x_star, mask), rng,
                                  steps=int(opt["picard_steps"]), window=int(opt["picard_window"]),
                                  eps=1e-4, floor=1e-11)


def _sampled(F, x_star, mask, opt, rng):
    """``(bound, best_pair)`` of the sampled Lipschitz lower bound on the box of ``opt``."""
    if opt["n_samples"] <= 0:
        return math.nan, None
    lower, upper = est.make_box(x_star, opt["box"], mask, est.scales_of(x_star, mask))
    return est.sampled_lower_bound(F, lower, upper, mask, int(opt["n_samples"]), rng)


def _assemble(F, x_star, fx, J, lam, vec, mask, opt, rng, method, keep_jacobian, norms=None,
              complete: bool = True, observed=None) -> MapReport:
    """A :class:`MapReport` from a Jacobian ``J`` (dense or sparse), its complete spectrum ``lam`` and
    dominant eigenvector ``vec``, plus the F-based estimators of :func:`analyze_map`.

    ``norms`` (optional): precomputed ``sup_norm, log_norm, rho_abs, perron_weights``; ``J`` may
    then be None when it is not needed (``n > 500``, no adversarial bound, not kept).  ``observed``
    (optional): the ``(picard, sampled)`` results of :func:`_picard` and :func:`_sampled`, computed
    elsewhere (the matrix-free route runs them beside its other estimators)."""
    n = x_star.size
    residual = float(np.max(np.abs(fx - x_star))) if n else 0.0
    if norms is None:
        norms = norm_fields(abs(J) if sp.issparse(J) else np.abs(J), x_star)
    out = dict(norms)
    out.update(spectral_fields(lam, complete))
    dom = out["dominant_eigenvalue"]
    if vec is not None and dom.imag < 0:
        vec = vec.conjugate()
    if dom.imag < 0:
        dom = dom.conjugate()
    norm_2 = fold = math.nan
    if n <= 500 and J is not None:
        Jd = J.toarray() if sp.issparse(J) else J
        norm_2 = float(np.linalg.svd(Jd, compute_uv=False)[0])
        fold = float(np.linalg.svd(np.eye(n) - Jd, compute_uv=False)[-1])
    scales = est.scales_of(x_star, mask)
    lower, upper = est.make_box(x_star, opt["box"], mask, scales)
    if observed is None:
        observed = (_picard(F, x_star, mask, opt, rng), _sampled(F, x_star, mask, opt, rng))
    (ratio, flip, orbit, amp, status, steps), (lb_s, pair) = observed
    lb_a = math.nan
    if opt["adversarial"] and J is not None:
        lb_a = est.adversarial_lower_bound(
            F, x_star, lower, upper, mask, rng, directions=est.top_row_signs(J, int(opt["adversarial_rows"])),
            jacobian_at=None, n_starts=int(opt["adversarial_starts"]), rows=int(opt["adversarial_rows"]), nm_max=10,
            maxfev=int(opt["adversarial_maxfev"]), seed_pairs=(pair,))
    return MapReport(
        n=n, jacobian_method=method, residual=residual, sup_norm=out["sup_norm"],
        log_norm=out["log_norm"], rho_abs=out["rho_abs"], perron_weights=out["perron_weights"], rho=out["rho"],
        dominant_eigenvalue=dom, dominant_eigenvector=vec, max_re=out["max_re"], alpha_max=out["alpha_max"],
        alpha_best=out["alpha_best"], alpha_best_rate=out["alpha_best_rate"], norm_2=norm_2, fold_distance=fold,
        picard_ratio=ratio, period2=flip, period2_orbit=orbit, period2_amplitude=amp, picard_status=status,
        picard_steps=steps, lower_bound_sampled=lb_s, lower_bound_adversarial=lb_a, box_lower=lower,
        box_upper=upper, eigenvalues=out["eigenvalues"], spectrum_complete=complete, n_evals=F.count,
        rho_abs_kind=out.get("rho_abs_kind", "exact"), norms_kind=out.get("norms_kind", "exact"), notes=[],
        jacobian=J if keep_jacobian else None)


def analyze_reduced(maps, q_star, beta, *, seed: int = 0, options=None, keep_jacobian: bool = False,
                    factors=None, perron_start=None, workspace=None) -> MapReport:
    """:class:`MapReport` of the reduced map at ``q_star`` (normally its fixed point).

    Indicators as in :func:`analyze_map` (same field meanings), computed from the analytic
    factorisation ``J_R = P W`` (``factors``, from :meth:`EmpoMaps.reduced_factors`, computed
    unless given):

    * exact complete spectrum (``spectrum_complete=True``): ``eigvals(W P)`` (n_live x n_live)
      plus ``n_q - n_live`` zeros; the dominant eigenvector is ``P v`` with ``v`` from inverse
      iteration on ``W P`` (:func:`_eigenvector`);
    * norms from ``|J_R|`` assembled row by row (:func:`_factored_norms`); Perron root of
      ``|J_R|`` by :func:`~.spectral.perron` (dense up to 500 unknowns; above, ARPACK started from
      ``perron_start`` -- e.g. the previous beta's ``perron_weights`` -- and certified by
      Collatz-Wielandt bounds to a relative gap of 1e-6);
    * Picard observation and the two Lipschitz lower bounds on the relative box ``q* exp(-+box)``
      with the budgets of ``options`` (see :data:`ANALYZE_DEFAULTS`); their evaluations of R
      solve the V_h^e system by refinement from the LU at ``q_star``
      (:meth:`EmpoMaps.reduced_near`), which gives the same values to ~1e-14.

    ``jacobian_method`` is ``"analytic_factored"``.  BLAS runs on one thread
    (:func:`~empo_tabular.core.numerics.one_blas_thread`).
    Without ``factors``, ``options["reduced_route"]`` (:func:`reduced_route`; by default ``n_q >
    reduced_dense_max``) may send the call to :func:`analyze_reduced_matrix_free` instead.
    ``workspace`` (optional dict) keeps the large ``|J_R|`` buffer between calls of a sweep.
    """
    opt = {**ANALYZE_DEFAULTS, **(options or {})}
    q_star = np.asarray(q_star, dtype=float)
    n = q_star.size
    if factors is None and reduced_route(n, opt) == "matrix_free":
        return analyze_reduced_matrix_free(maps, q_star, beta, seed=seed, options=opt, workspace=workspace)
    rng = np.random.default_rng(seed)
    with one_blas_thread():
        P, W, st = maps.reduced_factors(q_star, beta) if factors is None else factors
        F = CountedMap(maps.reduced_near(st, beta), n, "reduced map")
        F.count += 1
        n_l = W.shape[0]
        need_J = keep_jacobian or bool(opt["adversarial"]) or n <= 500 or n_l >= n
        J = np.asarray(P @ W) if need_J else None
        if n_l < n:
            small = _wp(P, W, st)
            lam_small = np.linalg.eigvals(small) if n_l else np.zeros(0, complex)
            lam = np.concatenate([lam_small, np.zeros(n - n_l, dtype=complex)])
        else:
            small, lam = J, np.linalg.eigvals(J)
        vec = None
        if lam.size:
            dom = lam[dominant_index(lam)]
            if abs(dom) > 0:
                v = _eigenvector(small, dom)
                vec = normalise_vector(P @ v if n_l < n else v)
            else:
                vec = np.zeros(n, dtype=complex)
        norms = _factored_norms(P, W, q_star, perron_start, workspace)
        return _assemble(F, q_star, st["q_next"], J, lam, vec, np.ones(n, dtype=bool), opt, rng,
                         "analytic_factored", keep_jacobian, norms)


def reduced_route(n_q: int, options=None) -> str:
    """``"dense"`` or ``"matrix_free"``: the route :func:`analyze_reduced` takes for ``n_q`` unknowns."""
    opt = {**ANALYZE_DEFAULTS, **(options or {})}
    route = opt["reduced_route"]
    if route not in REDUCED_ROUTES:
        raise ValueError(f"options['reduced_route'] must be one of {REDUCED_ROUTES}, got {route!r}")
    if route == "auto":
        return "dense" if n_q <= int(opt["reduced_dense_max"]) else "matrix_free"
    return route


def matrix_free_state(maps, q_star, beta, near=None):
    """:meth:`EmpoMaps.reduced_state` at ``q_star`` whose ``lu`` is always a solver of its ``M``: the state's own
    factorisation, or (when ``near`` -- e.g. the previous beta's state -- let refinement solve it) a
    :class:`~.matrix_free.RefinedSolver` that reuses ``near``'s factorisation."""
    st = maps.reduced_state(q_star, beta, near=near)
    if st["lu"] is None:
        st["lu"] = RefinedSolver(st["M"], near["lu"], maps.evaluator_solver)
    return st


def analyze_reduced_matrix_free(maps, q_star, beta, *, seed: int = 0, options=None, state=None,
                                workspace=None, operator=None, side_tasks=None) -> MapReport:
    """:class:`MapReport` of the reduced map by the matrix-free route (:mod:`.matrix_free`).

    ``rho, dominant_eigenvalue, max_re`` from ARPACK (``which = "LM"`` and ``"LR"``, ``tol =
    options["arpack_tol"]``) on ``W P``; ``alpha_max``/``alpha_best`` from those Ritz values
    (``spectrum_complete = False``); ``rho_abs``, ``sup_norm``, ``log_norm`` certified upper bounds
    (``rho_abs_kind = norms_kind = "upper_bound"``); Picard ratio and the sampled lower bound as in
    :func:`analyze_reduced`; no adversarial bound (it needs rows of J), no ``norm_2``/``fold_distance``.
    ``jacobian_method`` is ``"matrix_free_analytic"``.  ``workspace`` keeps the Perron vector of the majorant
    for the next call (warm start).

    When the evaluator system's solver is a sparse LU of at least :data:`BATCH_MIN` unknowns, the four estimators (ARPACK; Perron bound and norm
    bounds; Picard orbit; sampled pairs) and the callables ``side_tasks`` (name -> zero-argument callable, e.g.
    the branch derivative, using the same ``state``/``operator``) run in lockstep (:func:`.batched.run_batched`):
    their solves with the LU share multi-column solves.  One task runs at a time in that fixed order, so the
    results do not depend on timing; each estimator draws from its own random stream (``SeedSequence(seed)``
    spawned), so they do not depend on the order either (otherwise the tasks run one after the other).
    The side tasks' results are stored in ``workspace["side_results"]`` (name -> result).
    """
    opt = {**ANALYZE_DEFAULTS, **(options or {})}
    rng = np.random.default_rng(seed)
    q_star = np.asarray(q_star, dtype=float)
    n = q_star.size
    mask = np.ones(n, dtype=bool)
    with one_blas_thread():
        st = matrix_free_state(maps, q_star, beta) if state is None else state
        op = ReducedOperator(maps, q_star, beta, st) if operator is None else operator
        F = CountedMap(maps.reduced_near(st, beta), n, "reduced map")
        F.count += 1
        notes = []
        ws = workspace if workspace is not None else {}

        # one random stream per estimator: the results do not depend on the order the tasks run in
        r_spec, r_perron, r_picard, r_sampled = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))

        def spectrum():
            return arpack_spectrum(op.operator("wp"), n, int(opt["mf_n_eigs"]), float(opt["arpack_tol"]), r_spec,
                                   notes, v0=ws.get("mf_dominant"))

        def bounds():
            return (perron_upper_bound(op.bound_small, op.n_live, v0=ws.get("mf_perron"), rng=r_perron),
                    op.norm_bounds())

        Fs = CountedMap(maps.reduced_near(st, beta), n, "reduced map")  # own closure: own warm starts
        side = dict(side_tasks or {})
        tasks = [spectrum, bounds, lambda: _picard(F, q_star, mask, opt, r_picard),
                 lambda: _sampled(Fs, q_star, mask, opt, r_sampled)] + list(side.values())
        solver = st["lu"]
        if isinstance(solver, (spla.SuperLU, PermutedLU)) and maps.n_e >= BATCH_MIN:  # one solve serves all tasks
            batched = BatchedSolver(solver)
            st["lu"] = op.solver = batched
            try:
                out = run_batched(batched, tasks)
            finally:
                st["lu"] = op.solver = solver
            notes.append(f"solves with the evaluator LU batched: {batched.columns} columns in {batched.rounds} "
                         f"multi-column solves")
        else:
            out = [t() for t in tasks]
        (lam, dom, u, _), ((hi, lo, x), (sup_b, log_b)), picard, sampled = out[:4]
        F.count += Fs.count
        ws["side_results"] = dict(zip(side, out[4:]))
        vec = None
        if dom is not None:
            vec = normalise_vector(op.P @ u) if abs(dom) > 0 else np.zeros(n, dtype=complex)
            ws["mf_dominant"] = np.real(u) + np.imag(u)  # the next beta's ARPACK start (warm start)
        ws["mf_perron"] = x
        w = op.P @ x
        w = w / w.max() if w.size and w.max() > 0 else np.ones(n)
        norms = dict(sup_norm=max(sup_b, hi), log_norm=log_b, rho_abs=hi, perron_weights=w,
                     rho_abs_kind="upper_bound", norms_kind="upper_bound")
        rep = _assemble(F, q_star, st["q_next"], None, lam, vec, mask, {**opt, "adversarial": False}, rng,
                        "matrix_free_analytic", False, norms, complete=False, observed=(picard, sampled))
        rep.notes = notes + [
            f"matrix-free route: {lam.size} Ritz values (ARPACK LM, LR) of W P; alpha_max/alpha_best from them only",
            f"rho_abs = {hi:.6g} is an UPPER BOUND on rho(|J_R|) (Collatz-Wielandt bound of the majorant "
            f"P(|VQ| + |R_m| M^-1 |EQ|); its lower CW bound {lo:.6g}); sup_norm, log_norm: bounds from the same majorant",
            "adversarial lower bound skipped (needs rows of J)"]
        return rep


def analyze_joint(maps, map_name, z_star, beta, *, seed: int = 0, options=None,
                  keep_jacobian: bool = False) -> MapReport:
    """Indicators of the Jacobi or Gauss-Seidel map at ``z_star`` with its analytic sparse Jacobian.

    * ``n <= options["joint_dense_max"]``: :func:`analyze_map` (dense, complete spectrum).
    * otherwise, when the map reads only a subset ``u`` of the coordinates (Gauss-Seidel reads
      only V_h^e and V_r) with ``|u| <= options["core_dense_max"]``: ``J = J[:, u] E_u^T``, so the
      non-zero spectrum is that of the principal block ``J[u, u]`` (dense eig; complete spectrum,
      ``jacobian_method = "analytic_core"``); a dominant eigenvector ``v`` of the block gives
      ``J[:, u] v`` for J.
    * otherwise :func:`analyze_map` with ARPACK Ritz values (LM, LR, SR).

    Q_r, U_r and V_r use log coordinates.
    """
    opt = {**ANALYZE_DEFAULTS, **(options or {})}
    Fraw = maps.map_function(map_name, beta)
    J = maps.jacobian(map_name, z_star, beta)
    n = J.shape[0]
    mask = maps.log_mask(map_name)
    if n > int(opt["joint_dense_max"]):
        used = np.flatnonzero(np.asarray(abs(J).sum(axis=0)).ravel() > 0)
        if used.size <= int(opt["core_dense_max"]):
            F = CountedMap(Fraw, n, f"{map_name} map")
            rng = np.random.default_rng(seed)
            core = J[used][:, used].toarray()
            lam_core, vecs = np.linalg.eig(core) if used.size else (np.zeros(0, complex), np.zeros((0, 0)))
            lam = np.concatenate([lam_core, np.zeros(n - used.size, dtype=complex)])
            vec = None
            if lam_core.size:
                k = dominant_index(lam_core)
                vec = normalise_vector(J[:, used] @ vecs[:, k]) if abs(lam_core[k]) > 0 else \
                    np.zeros(n, dtype=complex)
            fx = F(z_star)
            return _assemble(F, z_star, fx, J, lam, vec, mask, opt, rng, "analytic_core", keep_jacobian)
    return analyze_map(Fraw, z_star, jacobian=J, log_coords=mask, h_rel=opt["h_rel"],
                       n_samples=int(opt["n_samples"]), box=opt["box"], seed=seed,
                       dense_max=int(opt["joint_dense_max"]), picard_steps=int(opt["picard_steps"]),
                       picard_window=int(opt["picard_window"]), adversarial=bool(opt["adversarial"]),
                       adversarial_starts=int(opt["adversarial_starts"]),
                       adversarial_rows=int(opt["adversarial_rows"]),
                       adversarial_maxfev=int(opt["adversarial_maxfev"]), n_eigs=int(opt["n_eigs"]),
                       keep_jacobian=keep_jacobian)


def branch_derivative(maps, q_star, beta, factors=None) -> np.ndarray:
    """:math:`dq^*/d\\beta` along the branch by the implicit function theorem.

    Differentiating ``q* = R_beta(q*)`` gives :math:`(I - J_R)\\,dq^*/d\\beta = \\partial R/\\partial\\beta`;
    with ``J_R = P W`` the solve is :math:`x = r + P (I - W P)^{-1} W r` (Woodbury; an
    ``n_live x n_live`` system).  ``dR/dbeta`` is a central difference in beta at fixed q
    (its V_h^e solves refine from the LU at ``q_star``).
    """
    with one_blas_thread():
        P, W, st = maps.reduced_factors(q_star, beta) if factors is None else factors
        r = maps.reduced_beta_derivative(q_star, beta, state=st)
        small = np.eye(W.shape[0]) - _wp(P, W, st)
        try:
            y = np.linalg.solve(small, W @ r)
        except np.linalg.LinAlgError:
            return np.full(q_star.size, np.nan)
        return r + P @ y


def timed(fn, *args, **kwargs):
    """``(result, seconds)``."""
    t0 = time.perf_counter()
    res = fn(*args, **kwargs)
    return res, time.perf_counter() - t0
