"""Newton's method with backtracking, and natural-parameter continuation in beta that never steps over a fold.

Both phases' stationary (cyclic) solvers reduce to a fixed point ``z = G(z)``
whose Jacobian ``J = dG/dz`` is sparse and available analytically.  Newton
solves ``(I - J) d = G(z) - z`` (:class:`.linear.LinearSolver`: sparse LU
where it is cheap, Krylov methods of bounded cost elsewhere) and backtracks
until the scaled residual decreases.  Continuation follows the solution branch
from ``beta = 0`` (where both maps have a unique fixed point) to the requested
``beta``, growing the step while Newton converges quickly
and shrinking it when it does not; a secant predictor extrapolates from the
last two accepted points, and a step is accepted only when the corrector ends
near the predictor (a corrector that lands on another sheet of fixed points is
rejected and the step shortened, so a fold ends the continuation with its beta).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from .linear import LinearSolver


_TRACE = bool(os.environ.get("EMPO_TRACE_CONTINUATION"))


class ConvergenceError(RuntimeError):
    """A solver did not reach its stopping rule.

    ``partial`` holds the last iterate's result object when one exists.
    """

    def __init__(self, message, partial=None):
        super().__init__(message)
        self.partial = partial


class InvalidIterate(Exception):
    """Raised by a residual function when an iterate leaves the admissible set."""


@dataclass
class NewtonOutcome:
    z: np.ndarray
    residual: float
    iterations: int
    converged: bool
    message: str = ""


def newton(residual, jacobian, z0, *, tol, max_iter=50, min_step=2.0**-12, polish=False, monotone=True,
           linear=None):
    """Solve ``residual(z) = 0`` where ``residual(z) = (G(z) - z, scaled_norm)``.

    Parameters
    ----------
    residual : callable
        ``z -> (r, norm)`` with ``r = G(z) - z`` (unscaled) and ``norm`` the
        scaled sup norm used by the stopping rule; raises
        :class:`InvalidIterate` outside the admissible set.
    jacobian : callable
        ``z -> I - dG/dz`` as a scipy sparse matrix.
    z0 : array
        Start.
    tol : float
        Stop when ``norm <= tol``.
    polish : bool
        After reaching ``tol``, take one more Newton step and keep it if it
        lowers the residual (quadratic convergence makes it nearly free
        accuracy; used for the final solve of a continuation).
    linear : LinearSolver, optional
        Shared between the Newton runs of one continuation.
    monotone : bool
        Backtrack until the residual decreases (True).  With False every
        admissible full step is taken: at ``beta = inf`` the map is piecewise
        constant in the policy and Newton becomes policy iteration, whose
        residual need not decrease monotonically.

    Returns
    -------
    NewtonOutcome
    """
    linear = LinearSolver() if linear is None else linear
    z = np.array(z0, dtype=np.float64)
    try:
        r, nr = residual(z)
    except InvalidIterate as exc:
        return NewtonOutcome(z, math.inf, 0, False, f"invalid start: {exc}")
    polished = not polish
    for it in range(max_iter):
        if nr <= tol:
            if polished or nr == 0.0:
                return NewtonOutcome(z, nr, it, True)
            polished = True
            try:
                d = linear.solve(jacobian(z), r, fallback=False)  # optional: never worth an LU
                if d is not None:
                    rc, nc = residual(z + d)
                    if nc < nr:
                        z, r, nr = z + d, rc, nc
            except (RuntimeError, InvalidIterate):
                pass
            return NewtonOutcome(z, nr, it + 1, True)
        try:
            d = linear.solve(jacobian(z), r)
        except RuntimeError as exc:  # exactly singular
            return NewtonOutcome(z, nr, it, False, f"singular Newton matrix: {exc}")
        if not np.all(np.isfinite(d)):
            return NewtonOutcome(z, nr, it, False, "Newton step is not finite (singular Newton matrix)")
        t = 1.0
        while True:
            cand = z + t * d
            try:
                rc, nc = residual(cand)
                ok = np.isfinite(nc) and (nc < (1.0 - 1e-4 * t) * nr or nc <= tol or not monotone)
            except InvalidIterate:
                ok = False
            if ok:
                z, r, nr = cand, rc, nc
                break
            t *= 0.5
            if t < min_step:
                return NewtonOutcome(z, nr, it + 1, False, "line search failed")
    return NewtonOutcome(z, nr, max_iter, nr <= tol, "" if nr <= tol else "iteration limit")


@dataclass
class ContinuationOutcome:
    z: np.ndarray
    beta: float
    converged: bool
    residual: float
    newton_iterations: int
    betas: list = field(default_factory=list)
    message: str = ""
    fold_beta: float | None = None
    rejected: int = 0
    #: the accepted point before ``z`` on the branch (None if there is none): ``z - z_prev`` is a secant of the
    #: branch, whose direction is dominated by the eigenvectors of J with eigenvalues near 1
    z_prev: np.ndarray | None = None
    #: the beta of ``z_prev`` (in the call's coordinates), for resuming with ``continuation(previous=...)``
    beta_prev: float | None = None


def scaled_distance(a, b) -> float:
    """``max_i |a_i - b_i| / max(|b_i|, 1)``: relative for values above 1 in size, absolute below."""
    if a.shape[0] == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))


def continuation(solve_at, z_start, beta_target, *, first_step=1.0, growth=2.0, max_steps=400, project=None,
                 greedy_from=1e3, fast=4, slow=8, max_ratio=1.0, jump_floor=1e-6, min_rel_step=1e-6,
                 distance=scaled_distance, index=None, previous=None):
    """Follow ``z*(beta)`` from ``beta = 0`` to ``beta_target`` without stepping over a fold.

    Parameters
    ----------
    solve_at : callable
        ``(beta, z0) -> NewtonOutcome`` (a corrector at fixed beta: Newton, or accelerated sweeps).
    z_start : array
        Start for ``beta = 0``.
    beta_target : float
        Target (``inf`` allowed: the branch is followed to ``greedy_from`` and
        the corrector is then run at ``beta = inf`` from there).
    project : callable, optional
        Applied to a secant prediction to keep it admissible; if it returns
        ``None`` the previous point is used as predictor.
    fast, slow : int
        The step grows by ``growth`` after a corrector needing at most ``fast``
        iterations and halves after one needing at least ``slow``.
    max_ratio, jump_floor : float
        Branch check.  A step is accepted only if the corrector ends near the
        secant predictor: ``distance(z, pred) <= max(max_ratio * distance(pred,
        z_prev), jump_floor)``.  On a smooth branch the secant error is of second
        order in the step, so a short enough step always passes; a corrector
        that lands on another sheet of fixed points (past a fold, where the
        branch from ``beta = 0`` has no continuation) ends an O(1) distance from
        the predictor and the step is rejected and shortened.  The first step
        from ``beta = 0`` (no secant yet) is not checked: it is short
        (``first_step``) and starts from the unique fixed point at ``beta = 0``.
        A later step whose secant was not admissible is checked against twice
        the previous step's length.
    previous : (beta, z), optional
        A point of the branch before the start (``beta < 0`` in this call's
        coordinates), when the continuation resumes a branch followed before
        (a grid of targets, one call per interval): the first step then has a
        secant predictor and is checked like every other.
    index : callable, optional
        ``(z, beta) -> +1, -1, 0 or None``: the sign of ``det(I - J)`` (see
        :mod:`.branch`; None: not computed).  A step is accepted only if the
        sign equals the one at ``beta = 0``: it changes only where a real
        eigenvalue of ``J`` crosses 1 (a fold), and on the middle sheet of a
        fold pair, which lies close to the branch near the fold.
    min_rel_step : float
        When the step falls below ``min_rel_step * max(1, beta)`` the
        continuation stops: the branch cannot be continued (a fold, or a
        singular point) between the last accepted beta and that beta plus the
        last step tried; ``fold_beta`` reports the last accepted beta.

    Returns
    -------
    ContinuationOutcome
        ``betas`` lists the accepted beta values; on failure ``beta`` is the
        last one reached and ``z`` its solution; ``rejected`` counts the steps
        the branch check refused.
    """
    total_newton = 0
    out = solve_at(0.0, z_start)
    total_newton += out.iterations
    if not out.converged:
        return ContinuationOutcome(out.z, 0.0, False, out.residual, total_newton, [],
                                   f"no fixed point at beta = 0: {out.message}")
    betas = [0.0]
    pts = [out.z]
    secant_betas = [0.0]  # the beta of each entry of pts (the last two accepted points)
    if previous is not None:
        secant_betas.insert(0, float(previous[0]))
        pts.insert(0, previous[1])
    last = out
    sign0 = index(out.z, 0.0) if index is not None else None
    finite_target = beta_target if math.isfinite(beta_target) else max(greedy_from, 0.0)
    step = min(first_step, finite_target) if finite_target > 0 else 0.0
    beta = 0.0
    n_steps = 0
    rejected = 0
    def fold(last_step):
        """The outcome when steps down to ``last_step`` from ``beta`` all failed: a fold at ``beta``."""
        return ContinuationOutcome(pts[-1], beta, False, last.residual, total_newton, betas,
                                   f"fold at beta = {beta:.6g}: the branch from beta = 0 cannot be continued past "
                                   f"beta = {beta:.6g} (steps down to {last_step:.2g} failed; last try: {why})",
                                   fold_beta=beta, rejected=rejected)

    while beta < finite_target:
        n_steps += 1
        if n_steps > max_steps:
            return ContinuationOutcome(pts[-1], beta, False, last.residual, total_newton, betas,
                                       f"continuation step limit ({max_steps}) reached at beta = {beta:g}",
                                       rejected=rejected)
        nxt = min(finite_target, beta + step)
        if finite_target - nxt < 0.5 * step:  # a short last step costs a whole corrector: stretch this one
            nxt = finite_target
        z0 = pts[-1]
        if len(pts) >= 2 and secant_betas[-1] > secant_betas[-2]:
            pred = pts[-1] + (pts[-1] - pts[-2]) * ((nxt - secant_betas[-1]) / (secant_betas[-1] - secant_betas[-2]))
            if project is not None:
                pred = project(pred)
            if pred is not None:
                z0 = pred
        out = solve_at(nxt, z0)
        total_newton += out.iterations
        if not out.converged and z0 is not pts[-1]:
            out = solve_at(nxt, pts[-1])
            total_newton += out.iterations
        why = out.message
        if out.converged:
            if z0 is pts[-1]:
                jump, allowed = 0.0, math.inf
                if len(pts) >= 2:  # no admissible secant: compare with the last accepted step's length
                    jump, allowed = distance(out.z, pts[-1]), max(2.0 * distance(pts[-1], pts[-2]), jump_floor)
            else:
                jump, allowed = distance(out.z, z0), max(max_ratio * distance(z0, pts[-1]), jump_floor)
            if _TRACE:
                print(f"continuation: beta {nxt:.6g} iters {out.iterations} jump {jump:.3g} allowed {allowed:.3g}")
            sign = index(out.z, nxt) if index is not None and sign0 and jump <= allowed else None
            if jump > allowed or (sign is not None and sign != sign0):
                rejected += 1
                why = (f"the corrector at beta = {nxt:g} ended {jump:.3g} from the predictor (allowed "
                       f"{allowed:.3g}): another sheet of fixed points" if jump > allowed else
                       f"det(I - J) changed sign between beta = {beta:g} and {nxt:g}: a fold lies between, or "
                       f"the corrector landed on the fold's middle sheet")
                step *= 0.5
                if step < min_rel_step * max(1.0, beta):
                    return fold(2.0 * step)
                continue
            else:
                beta = nxt
                betas.append(beta)
                secant_betas.append(beta)
                pts.append(out.z)
                if len(pts) > 2:
                    pts.pop(0)
                    secant_betas.pop(0)
                last = out
                if out.iterations <= fast:
                    step *= growth
                elif out.iterations >= slow:
                    step *= 0.5
                continue
        step *= 0.25
        if step < min_rel_step * max(1.0, beta):
            return fold(4.0 * step)
    if not math.isfinite(beta_target):
        out = solve_at(math.inf, pts[-1])
        total_newton += out.iterations
        if not out.converged:
            return ContinuationOutcome(out.z, beta, False, out.residual, total_newton, betas,
                                       f"greedy (beta = inf) fixed point not reached from beta = {beta:g}: "
                                       f"{out.message}. At beta = inf Newton is policy iteration on the greedy "
                                       f"map, which need not have a fixed point on a cyclic world (the limit "
                                       f"of the branch as beta grows can mix near-tied actions); use a large "
                                       f"finite beta instead")
        betas.append(math.inf)
        return ContinuationOutcome(out.z, math.inf, True, out.residual, total_newton, betas, rejected=rejected)
    return ContinuationOutcome(pts[-1], beta, True, last.residual, total_newton, betas, rejected=rejected,
                               z_prev=pts[-2] if len(pts) >= 2 else None,
                               beta_prev=secant_betas[-2] if len(pts) >= 2 else None)
