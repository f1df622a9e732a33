"""Phase 1: the human policy prior (equations (1)-(3), EMPO_SEMANTICS §3.1)."""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .anderson import anderson
from .branch import (DISTANCE_CHECK, SIGN_MAX_UNKNOWNS, branch_test_message, det_sign, eigenvalue_check,
                     newton_branch_check, passes_branch_test, rightmost_at_fixed_point, screened_det_sign,
                     up_to_infinity)
from .continuation import ConvergenceError, InvalidIterate, continuation, newton
from .linear import NEWTON_LU_FIRST_BELOW, LinearSolver
from .._kernels import phase1 as _k1
from .._kernels import world as _kw
from .parallel import n_chunks, sweep_blocks, use_parallel
from .._validation import scalar_repr, as_array, check_finite, check_range, fmt_index
from ..core.params import EmpoParams
from ..core.results import SolverResult
from ..core.numerics import check_numerics, one_blas_thread
from ..core.world import TabularWorld

PROFILE_SUM_TOL = 1e-9
#: Anderson history length and the stopping tolerance at intermediate beta_h values (cyclic worlds)
SWEEP_HISTORY = 8
SWEEP_STAGE_TOL = 1e-5
SWEEP_FINAL_TOL = 0.01  # as exact.sweeps.FINAL_TOL, GROWTH and FIRST_STEP (measured there)
SWEEP_GROWTH = 3.0
SWEEP_FIRST_STEP = 2.0


@dataclass
class HumanPrior(SolverResult):
    """The human policy prior that Phase 2 consumes (status fields: :class:`~empo_tabular.core.results.SolverResult`).

    Attributes
    ----------
    profile : float array (S, n_ah)
        ``P(a_h | s)``: every human plays its goal marginal
        ``m_h(a|s) ∝ sum_g w_hg pi_h(a|s,g)``, independently.  Zero rows at
        terminal states.
    profile_fixed_goal : float array (S, H, G, n_ah)
        ``P_hg(a_h | s)``: human ``h`` pursues goal ``g``, the others play
        their marginals.  Zero for padding goals and terminal states.
    pi_h : float array (S, H, G, A_own) or None
        Goal-conditioned policies ``pi_h(a|s,g)`` (None when the prior was
        built directly from profile arrays).  Point mass on action 0 where
        the goal holds; zero rows at terminal states and for padding goals.
    V_h_m : float array (S, H, G) or None
        ``V_h^m(s, g)``: the value the human can guarantee against a
        worst-case robot (0 where the goal holds and at terminal states).
    numerics, method, betas :
        How it was computed (``method`` is ``"backward_sweep"``, ``"anderson_continuation"``,
        ``"newton_continuation"`` or ``"given"``; ``betas`` the beta_h values continuation visited).
    branch_check : str
        What ties the policies to the branch continued from beta_h = 0 (the tests run and passed; "" for a
        given prior or one that did not converge), as ``Phase2Solution.branch_check``.
    """

    profile: np.ndarray
    profile_fixed_goal: np.ndarray
    pi_h: np.ndarray | None = None
    V_h_m: np.ndarray | None = None
    numerics: str = "float64"
    method: str = "given"
    betas: list = field(default_factory=list)
    branch_check: str = ""

    @classmethod
    def from_profiles(cls, world: TabularWorld, profile, profile_fixed_goal) -> "HumanPrior":
        """Build and validate a prior from the two joint-profile arrays.

        Rows of non-terminal states (and of real goals) must be probability
        distributions within 1e-9; terminal rows and padding goals are
        ignored and stored as zeros.
        """
        S, n_ah, H, G = world.n_states, world.n_ah, world.n_humans, world.n_goals
        profile = as_array(profile, "profile", kind="float", shape=(S, n_ah)).copy()
        pfg = as_array(profile_fixed_goal, "profile_fixed_goal", kind="float", shape=(S, H, G, n_ah)).copy()
        live = ~world.terminal
        real = np.arange(G)[None, :] < world.goal_count[:, None]
        for name, arr, mask in (
            ("profile", profile, live[:, None] & np.ones((1, n_ah), bool)),
            ("profile_fixed_goal", pfg, live[:, None, None, None] & real[None, :, :, None] & np.ones((1, 1, 1, n_ah), bool)),
        ):
            sub = np.where(mask, arr, 0.0)
            check_finite(sub, name)
            check_range(sub, name, low=0.0)
            sums = sub.sum(axis=-1)
            need = mask[..., 0]
            bad = np.argwhere(need & (np.abs(sums - 1.0) > PROFILE_SUM_TOL))
            if bad.size:
                idx = tuple(bad[0])
                raise ValueError(
                    f"{name} with shape {arr.shape}: the distribution at {fmt_index(idx)} sums to {scalar_repr(sums[idx])}, "
                    f"not 1 within {PROFILE_SUM_TOL}"
                )
            arr[~mask] = 0.0
        return cls(profile=profile, profile_fixed_goal=pfg, method="given", world_checksum=world.checksum,
                   message="given as joint-profile arrays (validated)")

    def check_world(self, world: TabularWorld) -> None:
        """Raise ``ValueError`` if the arrays do not fit ``world``."""
        S, n_ah, H, G = world.n_states, world.n_ah, world.n_humans, world.n_goals
        if self.profile.shape != (S, n_ah):
            raise ValueError(f"prior.profile has shape {self.profile.shape}, the world needs ({S}, {n_ah})")
        if self.profile_fixed_goal.shape != (S, H, G, n_ah):
            raise ValueError(
                f"prior.profile_fixed_goal has shape {self.profile_fixed_goal.shape}, the world needs ({S}, {H}, {G}, {n_ah})"
            )
        if self.world_checksum and self.world_checksum != world.checksum:
            raise ValueError("prior was computed for a different world (checksum mismatch)")


def _check_belief(world: TabularWorld, belief):
    S, H, A = world.n_states, world.n_humans, world.n_own_actions
    if belief is None:
        return np.zeros((1, 1, 1)), False
    b = as_array(belief, "belief", kind="float", shape=(S, H, A))
    check_finite(b, "belief")
    check_range(b, "belief", low=0.0)
    counts = world.human_action_counts
    beyond = np.arange(A)[None, None, :] >= counts[None, :, None]
    bad = np.argwhere(beyond & (b != 0.0))
    if bad.size:
        raise ValueError(f"belief with shape {b.shape} puts mass on a non-existent action at {fmt_index(bad[0])}")
    sums = b.sum(axis=2)
    bad = np.argwhere((~world.terminal)[:, None] & (np.abs(sums - 1.0) > PROFILE_SUM_TOL))
    if bad.size:
        idx = tuple(bad[0])
        raise ValueError(f"belief with shape {b.shape}: the distribution at {fmt_index(idx)} sums to {scalar_repr(sums[idx])}, not 1")
    return np.ascontiguousarray(b), True


GAMMA_ONE_REASON = {
    "gamma_h": "without discounting, V_h^m and V_h^e are not determined on a cycle that never achieves the goal "
               "(the equation has no unique solution)",
    "gamma_r": "without discounting, V_r adds U_r < 0 at every step, so it is unbounded wherever a run can cycle "
               "forever",
}


def check_gamma_one(world: TabularWorld, params: EmpoParams, names=("gamma_h", "gamma_r")) -> None:
    """``ValueError`` if one of ``names`` is 1 on a cyclic (stationary) world; acyclic worlds accept 1."""
    if world.is_acyclic:
        return
    for name in names:
        if getattr(params, name) == 1.0:
            raise ValueError(f"{name} = 1 on a cyclic world is not supported: {GAMMA_ONE_REASON[name]}; "
                             f"use {name} < 1, or a finite-horizon (acyclic) world (for a scenario: --horizon N)")


def build_prior_arrays(world: TabularWorld, pi_h: np.ndarray):
    """The two joint-profile arrays of the prior from goal-conditioned policies."""
    prof = np.empty((world.n_states, world.n_ah))
    pfg = np.empty((world.n_states, world.n_humans, world.n_goals, world.n_ah))
    _k1.build_profiles(world.terminal, world.human_profiles, world.goal_count, world.goal_weight, pi_h, prof, pfg)
    return prof, pfg


METHODS = ("auto", "anderson", "newton")


def solve_phase1(world: TabularWorld, params: EmpoParams, numerics: str = "float64", *, belief=None,
                 optimistic: bool = False, tol: float = 1e-12, strict: bool = True,
                 parallel="auto", method: str = "auto") -> HumanPrior:
    """Compute the human policy prior of equations (1)-(3).

    For a non-terminal state ``s``, human ``h`` and goal ``g`` not achieved at ``s``::

        Q(s,g,a) = sum_{a_-h} mu(a_-h|s) min_{a_r} sum_s' T(s'|s,a_r,(a,a_-h))
                       [1_g(s') + (1 - 1_g(s')) gamma_h V(s',g)]
        pi_h(.|s,g) = softmax(beta_h Q(s,g,.)),   V(s,g) = sum_a pi_h(a|s,g) Q(s,g,a)

    Achievement is credited on entering ``s'``; where ``g`` already holds,
    ``V = 0`` and ``pi_h`` is the point mass on action 0 ("stay"); terminal
    states have ``V = 0``.  The min over joint robot actions sits inside the
    expectation over the other humans, who play uniformly unless ``belief``
    is given.

    Parameters
    ----------
    world : TabularWorld
    params : EmpoParams
        Uses ``beta_h`` and ``gamma_h``.
    numerics : {"float64", "reference_fp16"}
        ``"reference_fp16"`` rounds the stored ``V_h^m`` and the transition
        probabilities to IEEE half precision, as the public reference does.
    belief : float array (S, H, A_own), optional
        ``belief[s, j, a]``: probability that human ``j`` plays ``a`` at
        ``s``, as believed by the other humans (independent across humans).
    optimistic : bool
        Use ``max`` over robot actions instead of ``min``.
    tol : float
        Stationary (cyclic) worlds only: stop when the sup-norm residual
        ``max |B(V) - V|`` of the Phase 1 equation is ``<= tol``.
    strict : bool
        If the cyclic solver does not converge: raise
        :class:`ConvergenceError` (True) or return the last iterate with
        ``converged = False`` and a warning (False).
    parallel : {"auto", True, False}
        Acyclic worlds: process the states of one height on all Numba
        threads ("auto": from 1000 states on).  Bit-identical results.
    method : {"auto", "anderson", "newton"}
        Cyclic worlds only (acyclic ones are always solved by one backward
        sweep).  ``anderson``: Anderson-accelerated Gauss-Seidel sweeps along
        the branch from ``beta_h = 0``; ``newton``: semi-smooth Newton
        continuation (the previous default); ``auto``: ``anderson``, then
        ``newton`` if it does not converge or stops at a fold.

    Returns
    -------
    HumanPrior

    Notes
    -----
    Acyclic worlds are solved exactly by one sweep in reverse topological
    order.  Cyclic worlds: continuation in ``beta_h`` from 0 (where the map
    is a gamma_h-contraction), each step checked against its secant
    predictor so that it never steps over a fold (the softmax backup is not a
    non-expansion, so several fixed points can exist); the corrector is
    Anderson-accelerated in-place sweeps or semi-smooth Newton (the
    minimising robot action held fixed in each linearisation).  The stopping
    rule is the residual above.  Branch tests as in Phase 2 (see
    :mod:`empo_tabular.exact.branch`): the sweeps' returned point must have no
    eigenvalue of the sweep map's Jacobian with real part >= 1 (otherwise it
    is reported as not converged and ``auto`` falls back to Newton); Newton
    continuation checks the sign of ``det(I - J)`` at every step up to
    ``SIGN_MAX_UNKNOWNS`` unknowns.
    """
    if not isinstance(world, TabularWorld):
        raise TypeError(f"world must be a TabularWorld, got {type(world).__name__}")
    if not isinstance(params, EmpoParams):
        raise TypeError(f"params must be an EmpoParams, got {type(params).__name__}")
    fp16 = check_numerics(numerics)
    check_gamma_one(world, params, ("gamma_h",))
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    b, use_belief = _check_belief(world, belief)
    S, H, G, A = world.n_states, world.n_humans, world.n_goals, world.n_own_actions
    t0 = time.perf_counter()
    VM = np.zeros((S, H, G))
    PI = np.zeros((S, H, G, A))
    args = (world.terminal, world.trans_ptr, world.trans_succ, world.trans_prob, *world.robot_rows, world.n_ah,
            world.human_profiles, world.human_action_counts, world.achieved_by_state, world.goal_count,
            params.gamma_h)
    info = dict(method="backward_sweep", iterations=1, residual=0.0, converged=True, betas=[params.beta_h],
                message="exact backward induction (one sweep in topological order)",
                branch_check="acyclic world: the solution is unique")
    if world.is_acyclic:
        if use_parallel(S, parallel):
            level_ptr, level_states = world.levels
            _k1.phase1_levels(level_ptr, level_states, n_chunks(), *args, params.beta_h, b, use_belief, fp16,
                              optimistic, VM, PI)
        else:
            order = world.topological_order[::-1].copy()
            _k1.phase1_sweep(order, *args, params.beta_h, b, use_belief, fp16, optimistic, VM, VM, PI)
    else:
        if fp16:
            raise ValueError(
                "numerics='reference_fp16' emulates the reference's backward induction and needs an acyclic "
                "world; this world is cyclic (use numerics='float64')"
            )
        VM, PI, info = None, None, None
        with one_blas_thread():  # see core.numerics.one_blas_thread
            if method in ("auto", "anderson"):
                VM, PI, info = _solve_cyclic_sweeps(world, params, args, b, use_belief, optimistic, tol)
                if method == "auto" and not info["converged"]:
                    why = info["message"]
                    VM, PI, info = _solve_cyclic(world, params, args, b, use_belief, fp16, optimistic, tol, strict)
                    info["message"] = f"{info['message']} (after anderson_continuation failed: {why})"
            if VM is None:
                VM, PI, info = _solve_cyclic(world, params, args, b, use_belief, fp16, optimistic, tol, strict)
        if method in ("auto", "anderson") and not info["converged"]:
            _not_converged(info, tol, strict, (VM, PI))
    prof, pfg = build_prior_arrays(world, PI)
    return HumanPrior(profile=prof, profile_fixed_goal=pfg, pi_h=PI, V_h_m=VM, numerics=numerics,
                      seconds=time.perf_counter() - t0, params=params, world_checksum=world.checksum, **info)


def phase1_residuals(world: TabularWorld, params: EmpoParams, V_h_m, pi_h=None, *, belief=None,
                     optimistic: bool = False) -> dict:
    """Sup-norm residual of the Phase 1 equations (1)-(3) at the given arrays.

    One application ``B`` of the Phase 1 backup (float64) to ``V_h_m``, compared with ``V_h_m``
    (absolute, over non-terminal states and real goals) and, if given, with ``pi_h``.
    Returns ``{"V_h_m": max |B(V) - V|, "pi_h": max |softmax(beta_h Q(V)) - pi_h|, "max": ...}``.
    """
    S, H, G, A = world.n_states, world.n_humans, world.n_goals, world.n_own_actions
    VM = np.ascontiguousarray(as_array(V_h_m, "V_h_m", kind="float", shape=(S, H, G)))
    b, use_belief = _check_belief(world, belief)
    out_v, out_pi = np.zeros((S, H, G)), np.zeros((S, H, G, A))
    _k1.phase1_sweep(np.arange(S, dtype=np.int64), world.terminal, world.trans_ptr, world.trans_succ,
                     world.trans_prob, *world.robot_rows, world.n_ah, world.human_profiles, world.human_action_counts,
                     world.achieved_by_state, world.goal_count, params.gamma_h, params.beta_h, b, use_belief, False,
                     optimistic, VM, out_v, out_pi)
    real = (np.arange(G)[None, :] < world.goal_count[:, None])[None] & (~world.terminal)[:, None, None]
    res = {"V_h_m": float(np.max(np.abs(out_v - VM)[real], initial=0.0))}
    if pi_h is not None:
        pi = as_array(pi_h, "pi_h", kind="float", shape=(S, H, G, A))
        res["pi_h"] = float(np.max(np.abs(out_pi - pi)[real], initial=0.0))
    res["max"] = max(res.values())
    return res


def _solve_cyclic(world, params, args, b, use_belief, fp16, optimistic, tol, strict):
    S, H, G, A = world.n_states, world.n_humans, world.n_goals, world.n_own_actions
    order = np.arange(S, dtype=np.int64)
    n = S * H * G
    max_succ, total_succ = _kw.distinct_successor_counts(world.trans_ptr, world.trans_succ, S, world.n_ar * world.n_ah)
    cap = max(1, total_succ * H * G)
    rows = np.empty(cap, dtype=np.int64)
    cols = np.empty(cap, dtype=np.int64)
    vals = np.empty(cap)
    PI = np.zeros((S, H, G, A))
    eye = sp.identity(n, format="csr")
    linear = LinearSolver(lu_first_below=NEWTON_LU_FIRST_BELOW)

    def apply(beta, z):
        out = np.empty((S, H, G))
        _k1.phase1_sweep(order, *args, beta, b, use_belief, fp16, optimistic, z.reshape(S, H, G), out, PI)
        return out.reshape(-1)

    def newton_matrix(beta, z):
        m = _k1.phase1_jacobian(*args[:-1], params.gamma_h, beta, b, use_belief, optimistic,
                                z.reshape(S, H, G), rows, cols, vals, max(1, max_succ))
        J = sp.csr_matrix((vals[:m], (rows[:m], cols[:m])), shape=(n, n))
        return eye - J

    def solve_at(beta, z0):
        def residual(z):
            if not np.all(np.isfinite(z)):
                raise InvalidIterate("non-finite V_h^m")
            r = apply(beta, z) - z
            return r, float(np.max(np.abs(r))) if n else 0.0

        return newton(residual, lambda z: newton_matrix(beta, z), z0, tol=tol, polish=(beta == params.beta_h),
                      monotone=math.isfinite(beta), linear=linear)

    # the sign of det(I - J) at every accepted step (see .branch), up to SIGN_MAX_UNKNOWNS unknowns: by a sparse
    # LU where LUs are cheap; where the Newton solves' LU filled in catastrophically (the linear solver went
    # Krylov-first), by ARPACK's rightmost eigenvalue, with the LU only near a fold
    def index(z, beta):
        M = newton_matrix(beta, z)
        return screened_det_sign(M) if linear.krylov_first else det_sign(M)

    index = index if n <= SIGN_MAX_UNKNOWNS else None
    out = continuation(solve_at, np.zeros(n), params.beta_h, index=index)
    VM = out.z.reshape(S, H, G).copy()
    apply(out.beta, out.z)  # refresh PI at the final iterate
    info = dict(method="newton_continuation", iterations=out.newton_iterations, residual=out.residual,
                converged=out.converged, betas=out.betas, status=0 if out.converged else 1,
                message=out.message or ("newton_continuation: residual " f"{out.residual:.3g} <= tol {tol:g}"),
                branch_check=newton_branch_check(out, index is not None, linear.krylov_first,
                                                 lambda: newton_matrix(out.beta, out.z)))
    if not out.converged:
        _not_converged(info, tol, strict, (VM, PI))
    return VM, PI, info


def _not_converged(info, tol, strict, partial):
    # the residual can be below tol when the continuation stopped for another reason (a fold of the branch)
    msg = (f"Phase 1 did not converge on the cyclic world: {info['message']} (last residual "
           f"{info['residual']:.3g}, tol {tol:g})")
    if strict:
        raise ConvergenceError(msg, partial=partial)
    warnings.warn(msg, RuntimeWarning, stacklevel=4)


def _solve_cyclic_sweeps(world, params, args, b, use_belief, optimistic, tol):
    """Anderson-accelerated in-place sweeps along the branch from beta_h = 0 (see :mod:`.anderson`)."""
    S, H, G, A = world.n_states, world.n_humans, world.n_goals, world.n_own_actions
    order = np.arange(S - 1, -1, -1, dtype=np.int64)
    n = S * H * G
    PI = np.zeros((S, H, G, A))
    VM = np.zeros((S, H, G))
    counter = [0]

    blocks = sweep_blocks(S)

    def at(beta):
        def g(x):
            VM.reshape(-1)[:] = x
            if blocks is None:
                _k1.phase1_sweep(order, *args, beta, b, use_belief, False, optimistic, VM, VM, PI)
            else:
                _k1.block_phase1_sweep(order, blocks, *args, beta, b, use_belief, optimistic, VM, PI)
            counter[0] += 1
            out = VM.reshape(-1).copy()
            if not np.all(np.isfinite(out)):
                raise InvalidIterate("non-finite V_h^m")
            return out

        return g

    def project(x):
        return np.clip(x, 0.0, 1.0) if np.all(np.isfinite(x)) else None

    def solve_at(beta, x0):
        final = beta == params.beta_h or beta == math.inf
        return anderson(at(beta), x0, tol=SWEEP_FINAL_TOL * tol if final else max(0.1 * tol, SWEEP_STAGE_TOL), m=SWEEP_HISTORY,
                        max_iter=2000, project=project,
                        accept=0.1 * tol if final else None)

    out = continuation(solve_at, np.zeros(n), params.beta_h, project=project, fast=30, slow=100,
                       jump_floor=1e-3, growth=SWEEP_GROWTH, first_step=SWEEP_FIRST_STEP)
    lam = None
    if out.converged and math.isfinite(out.beta):
        # the branch test at the returned point, as for Phase 2 (see .branch): the Boltzmann backup is not a
        # contraction, so Phase 1 too can have several fixed points
        lam = rightmost_at_fixed_point(at(out.beta), out.z, None if out.z_prev is None else out.z - out.z_prev)
    try:
        at(out.beta)(out.z)  # leave VM, PI at one more sweep from the returned point
    except InvalidIterate:
        VM.reshape(-1)[:] = out.z
    # the stopping rule is the Jacobi residual max |B(V) - V| (as for Newton), measured at the returned V
    jac = np.empty_like(VM)
    _k1.phase1_sweep(order, *args, out.beta, b, use_belief, False, optimistic, VM, jac, np.empty_like(PI))
    residual = float(np.max(np.abs(jac - VM))) if n else 0.0
    converged = out.converged and residual <= tol
    msg = out.message or (f"anderson_continuation: residual {residual:.3g} " + ("<=" if converged else ">") +
                          f" tol {tol:g}")
    if converged and math.isfinite(out.beta) and not passes_branch_test(lam):
        converged = False
        msg = (branch_test_message(lam, "Phase 1 sweep map's") + "; the point may lie on a fold's middle sheet, "
               "not on the branch from beta_h = 0")
    info = dict(method="anderson_continuation", iterations=counter[0], residual=residual,
                converged=converged, betas=out.betas, status=0 if converged else 1, message=msg,
                branch_check="" if not converged else eigenvalue_check(lam, "Phase 1 sweep map's")
                if math.isfinite(out.beta) else up_to_infinity(DISTANCE_CHECK, out.beta))
    return VM, PI, info
