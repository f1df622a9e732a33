"""Phase 2 solvers: backward sweep on acyclic worlds, Newton or Picard continuation on cyclic ones."""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .continuation import ConvergenceError, continuation
from .._kernels import phase2 as _k2
from .._kernels.core import power_law_table
from .parallel import n_chunks, use_parallel
from .._validation import check_scalar_range
from ..core.params import EmpoParams
from ..core.numerics import check_numerics, one_blas_thread
from ..core.world import TabularWorld
from .phase1 import HumanPrior
from .picard import solve_picard
from .sweeps import solve_sweeps
from .branch import SIGN_MAX_UNKNOWNS, branch_index, newton_branch_check
from .system import (NewtonSystem, Phase2Solution, check_phase2_inputs, newton_at_beta, param_args,
                     phase2_residuals, raise_status, world_args)


METHODS = ("auto", "backward_sweep", "anderson", "newton", "picard")
NEWTON_MAX_UNKNOWNS = 2_000_000

def solve_phase2(world: TabularWorld, prior: HumanPrior, params: EmpoParams, numerics: str = "float64", *,
                 method: str = "auto", tol: float = 1e-11, strict: bool = True, max_sweeps: int = 200_000,
                 progress: bool = False, parallel="auto") -> Phase2Solution:
    """Solve equations (4)-(9) exactly.

    For every non-terminal state ``s``::

        Q_r(s,a)    = gamma_r sum_k P(k|s) sum_s' T(s'|s,a,k) V_r(s')
        pi_r(a|s)   ∝ (-Q_r(s,a))^(-beta_r)                      (log space)
        V_h^e(s,h,g)= sum_a pi_r(a|s) sum_k P_hg(k|s) sum_s' T(s'|s,a,k)
                        [1_g(s') + (1 - 1_g(s')) gamma_h V_h^e(s',h,g)]
        X_h(s)      = sum_g w_hg V_h^e(s,h,g)^zeta
        U_r(s)      = -((1/H) sum_h X_h(s)^(-xi))^eta
        V_r(s)      = c_r U_r(s) + sum_a pi_r(a|s) Q_r(s,a)

    Terminal states: ``V_r = terminal_v_r``, ``V_h^e = 0``; ``Q_r``, ``X_h``,
    ``U_r`` are NaN and ``pi_r`` is a zero row there (undefined).

    Parameters
    ----------
    world, prior, params :
        The world, the human prior (:func:`solve_phase1` or
        :meth:`HumanPrior.from_profiles`) and the parameters.
    numerics : {"float64", "reference_fp16"}
        ``"reference_fp16"`` (acyclic worlds) stores V_h^e in half precision
        for successor look-ups, as the public reference does; X_h uses the
        unrounded current value.
    method : {"auto", "backward_sweep", "anderson", "newton", "picard"}
        ``auto``: backward sweep on acyclic worlds; on cyclic worlds
        ``anderson`` (Anderson-accelerated Gauss-Seidel sweeps along the
        branch from beta_r = 0), falling back to Newton continuation (at most
        2e6 unknowns) or Picard continuation (above) when it does not
        converge or stops at a fold; ``beta_r = inf`` goes straight to the
        fallback (Newton at inf is policy iteration on the greedy map).  ``newton`` is the previous default.
        Forcing a fixed-point method on an acyclic world solves it as a
        fixed point (useful for cross-checks).
    tol : float
        Fixed-point solvers stop when the sup-norm residual of all equations
        is ``<= tol``: relative for Q_r and V_r, absolute for V_h^e (X_h and
        U_r are functions of V_h^e and are then exact up to rounding).
    strict : bool
        On non-convergence raise :class:`ConvergenceError` (True) or return
        the last iterate with ``converged=False`` and a ``RuntimeWarning``.
    max_sweeps : int
        Picard only: sweep budget over the whole continuation.
    progress : bool
        Picard only: show a tqdm progress bar.
    parallel : {"auto", True, False}
        Backward sweep: process the states of one height on all Numba
        threads ("auto": from 1000 states on).  Bit-identical results.

    Returns
    -------
    Phase2Solution

    Notes
    -----
    Cyclic worlds: the branch of fixed points is followed from
    ``beta_r = 0``, where the coupled map is affine in (Q_r, V_r) and the
    fixed point is unique, to ``params.beta_r``; every continuation step is
    accepted only if its corrector ends near the secant predictor, so a
    corrector landing on another sheet of fixed points is rejected and a fold
    of the branch ends the continuation: a :class:`ConvergenceError` whose
    message names the fold's beta_r (``fold_beta`` of the partial result).
    Anderson mixes the last 8 in-place sweeps on ``(V_h^e, V_r)``.  Newton solves
    ``(I - J) d = G(z) - z`` on ``z = (Q_r, V_h^e, V_r)`` with the analytic
    sparse Jacobian (X_h and U_r eliminated) and an LU factorisation, i.e.
    exact policy-evaluation solves inside every step; Picard uses damped
    in-place sweeps.  ``beta_r = inf`` follows the branch to 1e3 and then
    runs Newton at ``beta_r = inf`` (policy iteration on the greedy map).
    The result's ``branch_check`` names the tests that tie the returned point
    to that branch: the distance test, and the sign of ``det(I - J)`` by an
    eigenvalue (sweeps) or a sparse LU (Newton, up to 5,000 unknowns); above
    that size Newton adds ARPACK's screen of the sign at the returned point
    only, and Picard has no check.
    """
    check_phase2_inputs(world, prior, params)
    fp16 = check_numerics(numerics)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_scalar_range(float(tol), "tol", low=0.0, low_open=True)
    n_unknowns = world.n_states * (world.n_ar + world.n_humans * world.n_goals + 1)
    fallback = None
    note = ""
    if method == "auto":
        if world.is_acyclic:
            method = "backward_sweep"
        else:
            method = "newton" if n_unknowns <= NEWTON_MAX_UNKNOWNS else "picard"
            if math.isfinite(params.beta_r):  # beta_r = inf: policy iteration on the greedy map, as before
                method, fallback = "anderson", method
    if method == "backward_sweep" and not world.is_acyclic:
        raise ValueError("method='backward_sweep' needs an acyclic world; this world has a cycle")
    if fp16 and method != "backward_sweep":
        raise ValueError("numerics='reference_fp16' emulates the reference's backward induction; "
                         "it needs an acyclic world and method='backward_sweep' (or 'auto')")
    t0 = time.perf_counter()
    if method == "backward_sweep":
        sol = _backward_sweep(world, prior, params, fp16, parallel)
    else:
        with one_blas_thread():  # see core.numerics.one_blas_thread: 2.5x faster at 10^5 states
            if method == "anderson":
                sol = solve_sweeps(world, prior, params, tol)
                if fallback is not None and not _accept(world, prior, params, sol, tol):
                    why = sol.message or f"residual {sol.residual:.3g}"
                    sol = _solve_newton(world, prior, params, tol) if fallback == "newton" else \
                        solve_picard(world, prior, params, tol, max_sweeps, progress)
                    note = f" (after anderson_continuation failed: {why})"
            elif method == "newton":
                sol = _solve_newton(world, prior, params, tol)
            else:
                sol = solve_picard(world, prior, params, tol, max_sweeps, progress)
    sol.numerics = numerics
    sol.seconds = time.perf_counter() - t0
    sol.world_checksum = world.checksum
    if sol.method != "backward_sweep":
        sol.residuals = phase2_residuals(world, prior, params, sol.Q_r, sol.V_h_e, sol.X_h, sol.U_r, sol.V_r,
                                         sol.pi_r)
        sol.residual = sol.residuals["max"]
        ok = sol.converged and sol.residual <= tol * 10
        if ok:
            sol.set_outcome(True, f"{sol.method}: residual {sol.residual:.3g} <= {tol * 10:g} after "
                                  f"{sol.iterations} iterations{note}")
        else:
            if sol.fold_beta is not None:
                msg = (f"Phase 2 {sol.method}: the branch of fixed points continued from beta_r = 0 ends at a fold "
                       f"at beta_r = {sol.fold_beta:.6g}, below the requested {params.beta_r:g}; no point of that "
                       f"branch exists there (other fixed points may; none is returned). The partial result is "
                       f"the branch point at beta_r = {sol.fold_beta:.6g}. {sol.message}{note}")
            else:
                msg = (f"Phase 2 {sol.method} did not converge: residual {sol.residual:.3g} (tol {tol:g}) after "
                       f"{sol.iterations} iterations; beta_r reached {sol.betas[-1] if sol.betas else 0.0:g} of "
                       f"{params.beta_r:g}. {sol.message}{note}")
            sol.set_outcome(False, msg)
            if strict:
                raise ConvergenceError(msg, partial=sol)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return sol


def _accept(world, prior, params, sol, tol):
    if not sol.converged:
        return False
    res = phase2_residuals(world, prior, params, sol.Q_r, sol.V_h_e, sol.X_h, sol.U_r, sol.V_r, sol.pi_r)["max"]
    return res <= tol * 10


def _empty_arrays(world):
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    return (np.zeros((S, n_ar)), np.zeros((S, n_ar)), np.zeros((S, H, G)), np.zeros((S, H)), np.zeros(S),
            np.zeros(S))


def _backward_sweep(world, prior, params, fp16, parallel):
    Q, PI, VE, X, U, V = _empty_arrays(world)
    err = np.zeros(2, dtype=np.int64)
    if use_parallel(world.n_states, parallel):
        level_ptr, level_states = world.levels
        _k2.backward_levels(level_ptr, level_states, n_chunks(), *world_args(world, prior), *param_args(params),
                            params.terminal_v_r, fp16, Q, PI, VE, X, U, V, err)
    else:
        order = world.topological_order[::-1].copy()
        _k2.gauss_seidel_sweep(order, *world_args(world, prior), *param_args(params), params.terminal_v_r, fp16,
                               1.0, Q, PI, VE, X, U, V, err)
    raise_status(err, world.n_humans)
    return Phase2Solution(Q, PI, VE, X, U, V, world.terminal.copy(), params=params, iterations=1,
                          betas=[params.beta_r], message="exact backward induction (one sweep in topological order)",
                          branch_check="acyclic world: the solution is unique")


def _solve_newton(world, prior, params, tol):
    system = NewtonSystem(world, prior, params)
    solve_at = newton_at_beta(system, tol, polish_at=params.beta_r)
    # the det(I - J) sign by LU where LUs are cheap, screened by ARPACK where the solver went Krylov-first
    index = ((lambda z, beta: branch_index(system, z, beta, screen=solve_at.linear.krylov_first))
             if system.n <= SIGN_MAX_UNKNOWNS else None)
    out = continuation(solve_at, system.beta0_start(), params.beta_r, project=system.project, index=index)
    Q, VE, V = system.split(out.z)
    _, _, (Q2, PI2, VE2, X, U, V2) = system.evaluate(out.z, out.beta)
    PI = np.zeros_like(Q)
    live = ~world.terminal
    power_law_table(np.where(live[:, None], Q, -1.0), out.beta, live, PI)
    check = newton_branch_check(out, index is not None, solve_at.linear.krylov_first,
                                lambda: system.newton_matrix(out.z, out.beta))
    return Phase2Solution.from_iterate(world, params, Q, PI, VE, X, U, V, method="newton_continuation",
                                       iterations=out.newton_iterations, residual=out.residual,
                                       converged=out.converged, betas=out.betas, message=out.message,
                                       fold_beta=out.fold_beta, branch_check=check)
