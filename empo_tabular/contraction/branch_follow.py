"""The branch of Phase 2 fixed points on a grid of beta_r: :func:`follow_branch`.

Cyclic worlds, ``method="anderson"``: Anderson-accelerated Gauss-Seidel sweeps
(:class:`~empo_tabular.exact.sweeps.SweepMap`, :func:`~empo_tabular.exact.anderson.anderson`, the corrector of
``solve_phase2(method="anderson")``) continued from each grid point to the next by
:func:`~empo_tabular.exact.continuation.continuation`, which accepts a step only when the corrector ends near
the secant predictor (a fold stops it with its beta); each interval's first step takes its secant from the last
two points of the interval before.  The sweeps keep nothing but ``O(m (S H G + S))``
numbers from one beta_r to the next (the history of the previous point is the predictor), so no factorisation
is made.  The last grid point then passes the branch test of ``solve_phase2`` (the rightmost eigenvalue of the
sweep map's Jacobian has real part below 1; :func:`~empo_tabular.exact.branch.rightmost_at_fixed_point`).

``method="newton"``: Newton continuation with the analytic sparse Jacobian (the previous path).
``method="auto"`` (default): the sweeps, and Newton from the last grid point the sweeps reached when they
stop (no convergence, a rejected step they cannot shorten past, or a failed branch test: then Newton redoes
the whole grid).  Measured on the 1,260-state room of ``benchmarks/bench_contraction.py`` (40 grid points in
[0, 1e3]): Newton 8.5 s, the sweeps about 1 s, the same fixed points to ~1e-12.
"""
from __future__ import annotations

import numpy as np

from ..core.conventions import apply_terminal_conventions
from ..exact.anderson import anderson
from ..exact.branch import branch_test_message, passes_branch_test, rightmost_at_fixed_point
from ..exact.continuation import ConvergenceError, InvalidIterate, continuation
from ..exact.phase2 import solve_phase2
from ..exact.sweeps import HISTORY, JUMP_FLOOR, STAGE_TOL, SweepMap
from ..exact.system import NewtonSystem, newton_at_beta, phase2_residuals

__all__ = ["BRANCH_METHODS", "follow_branch"]

#: ``method`` values of :func:`follow_branch`.
BRANCH_METHODS = ("auto", "anderson", "newton")
#: Sweep budget of one Anderson corrector.
MAX_SWEEPS = 2000


def _solution_arrays(system, z, beta, world, prior, params):
    """Full arrays of the Phase 2 solution at ``z`` (terminal conventions) and its residual."""
    Q, VE, V = system.split(z)
    _, _, (_, PI, _, X, U, _) = system.evaluate(z, beta)
    out = apply_terminal_conventions(world.terminal, params.terminal_v_r, {
        "Q_r": Q, "pi_r": PI, "V_h_e": np.clip(VE, 0.0, 1.0), "X_h": X, "U_r": U, "V_r": V})
    res = phase2_residuals(world, prior, params.replace(beta_r=beta), out["Q_r"], out["V_h_e"], out["X_h"],
                           out["U_r"], out["V_r"])
    out["residual"] = res["max"]
    out["beta_r"] = beta
    return out


def _check_method(method) -> str:
    if method not in BRANCH_METHODS:
        raise ValueError(f"method must be one of {BRANCH_METHODS}, got {method!r}")
    return method


def follow_branch(world, prior, params, betas, *, tol: float = 1e-11, method: str = "auto", on_point=None) -> list:
    """Exact Phase 2 solutions at each beta of ``betas`` (sorted ascending, >= 0), on the branch from beta_r = 0.

    Acyclic worlds: one backward sweep per beta (the fixed point is unique).  Cyclic worlds: continuation
    from beta_r = 0 (unique fixed point: the map is affine there) through the grid points, by ``method``
    (module docstring): ``"anderson"`` sweeps, ``"newton"``, or ``"auto"`` (sweeps, Newton where they stop).

    Returns
    -------
    list of dict
        Per beta: ``Q_r, pi_r, V_h_e, X_h, U_r, V_r`` (full arrays, as in
        :class:`~empo_tabular.Phase2Solution`), ``residual`` (sup-norm residual of all
        equations), ``beta_r`` and ``branch_method`` (``"anderson"`` or ``"newton"``: the corrector that
        produced the point).

    ``on_point`` (optional): called as ``on_point(k, d)`` as soon as the point ``k`` (its dict ``d``) is computed,
    before the rest of the branch.  A point can be withdrawn later (the sweeps' branch test at the last point
    fails, or Newton takes over): then the returned list holds another dict for ``k`` and ``on_point`` is called
    again with the same ``k``.

    Raises
    ------
    ValueError
        Unsorted betas or an unknown method.
    ConvergenceError
        When continuation stalls (e.g. at a fold of the branch; with ``"anderson"`` also when the sweeps do).
    """
    _check_method(method)
    betas = [float(b) for b in betas]
    if any(b2 < b1 for b1, b2 in zip(betas, betas[1:])):
        raise ValueError("betas must be sorted ascending")
    if world.is_acyclic:
        out = []
        for b in betas:
            sol = solve_phase2(world, prior, params.replace(beta_r=b), method="backward_sweep")
            d = sol.arrays()
            d["residual"] = phase2_residuals(world, prior, params.replace(beta_r=b), sol.Q_r, sol.V_h_e, sol.X_h,
                                             sol.U_r, sol.V_r)["max"]
            d["beta_r"] = b
            d["branch_method"] = "backward_sweep"
            out.append(d)
            if on_point is not None:
                on_point(len(out) - 1, d)
        return out
    system = NewtonSystem(world, prior, params)
    out, start = [], None
    if method in ("auto", "anderson"):
        out, why = _follow_sweeps(system, world, prior, params, betas, tol, on_point)
        if len(out) == len(betas) or method == "anderson":
            if len(out) < len(betas):
                raise ConvergenceError(f"Anderson continuation along the branch failed: {why}")
            return out
        if why.startswith("branch test failed"):
            out = []  # the sweeps' points are suspect: Newton redoes the whole grid
        if out:
            start = (out[-1]["beta_r"], _pack(system, out[-1]))
    return out + _follow_newton(system, world, prior, params, betas[len(out):], tol, start, on_point, len(out))


def resume_from(co, span):
    """The ``previous`` point of the next interval's :func:`~empo_tabular.exact.continuation.continuation` (whose
    beta = 0 is this interval's end ``span``), so that its first step is checked against a secant too."""
    return None if co.z_prev is None else (co.beta_prev - span, co.z_prev)


def _pack(system, d):
    """The Newton unknowns ``(Q_r, V_h^e, V_r)`` of a solution dict (inverse of ``system.split``)."""
    Q = np.where(system.live[:, None], np.asarray(d["Q_r"], dtype=float), -1.0)
    return np.concatenate([Q.ravel(), np.asarray(d["V_h_e"], dtype=float).ravel(), np.asarray(d["V_r"], dtype=float)])


def _follow_newton(system, world, prior, params, betas, tol, start=None, on_point=None, offset: int = 0) -> list:
    """Newton continuation through ``betas`` from ``start = (beta, z)`` (default: Newton at beta_r = 0); the
    points go to ``on_point(offset + j, d)`` as they are found."""
    solve_at = newton_at_beta(system, tol)
    if start is None:
        first = solve_at(0.0, system.beta0_start())
        if not first.converged:
            raise ConvergenceError(f"no fixed point at beta_r = 0: {first.message}")
        prev_beta, prev_z = 0.0, first.z
    else:
        prev_beta, prev_z = start
    out, before = [], None
    for b in betas:
        if b > prev_beta:
            base = prev_beta
            co = continuation(lambda t, z0: solve_at(base + t, z0), prev_z, b - base, project=system.project,
                              previous=before)
            if not co.converged:
                raise ConvergenceError(f"continuation from beta_r = {base:g} to {b:g} failed: {co.message}")
            before = resume_from(co, b - base)
            prev_beta, prev_z = b, co.z
        d = _solution_arrays(system, prev_z, b, world, prior, params)
        d["branch_method"] = "newton"
        out.append(d)
        if on_point is not None:
            on_point(offset + len(out) - 1, d)
    return out


def _follow_sweeps(system, world, prior, params, betas, tol, on_point=None):
    """Anderson-sweep continuation through ``betas``; returns ``(solutions reached, reason it stopped or "")``."""
    sm = SweepMap(world, prior, params)
    live = sm.live

    def corrector(beta, x0, final):
        return anderson(sm.at(beta), x0, tol=0.01 * tol if final else max(0.1 * tol, STAGE_TOL), weights=sm.weights,
                        m=HISTORY, max_iter=MAX_SWEEPS, project=sm.project, accept=0.1 * tol if final else None)

    first = corrector(0.0, sm.start(), True)
    if not first.converged:
        return [], f"no fixed point at beta_r = 0 by sweeps: {first.message}"
    prev_beta, prev_x, z_prev, before = 0.0, first.z, None, None
    out = []
    for b in betas:
        if b > prev_beta:
            base, span = prev_beta, b - prev_beta

            def solve_at(t, x0, base=base, span=span):
                return corrector(base + t, x0, t == span)

            co = continuation(solve_at, prev_x, span, project=sm.project, fast=30, slow=100, jump_floor=JUMP_FLOOR,
                              previous=before)
            if not co.converged:
                return out, f"from beta_r = {base:g} to {b:g}: {co.message}"
            z_prev, before = co.z_prev, resume_from(co, span)
            prev_beta, prev_x = b, co.z
        try:
            sm.at(b)(prev_x)  # the state arrays (Q_r, pi_r, X_h, U_r) at the point
        except InvalidIterate as exc:
            return out, f"invalid point at beta_r = {b:g}: {exc}"
        z = np.concatenate([np.where(live[:, None], sm.Q, -1.0).ravel(), sm.VE.ravel(), sm.V])
        d = _solution_arrays(system, z, b, world, prior, params)
        d["branch_method"] = "anderson"
        out.append(d)
        if on_point is not None:
            on_point(len(out) - 1, d)
    if out and betas[-1] > 0.0:  # the branch test of solve_phase2(method="anderson") at the last point
        lam = rightmost_at_fixed_point(sm.at(betas[-1]), prev_x, None if z_prev is None else prev_x - z_prev)
        if not passes_branch_test(lam):
            return out[:-1], f"{branch_test_message(lam, 'sweep map')} at beta_r = {betas[-1]:g}"
    return out, ""
