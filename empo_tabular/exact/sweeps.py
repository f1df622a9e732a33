"""Phase 2 on cyclic worlds by Anderson-accelerated Gauss-Seidel sweeps along the branch from beta_r = 0.

The unknowns are ``x = (V_h^e, V_r)`` (``S * H * G + S`` numbers): one in-place sweep of
``_kernels.phase2_marginal.marginal_gauss_seidel_sweep`` computes, state by state, Q_r from V_r, pi_r from Q_r, V_h^e,
X_h, U_r and V_r, so it is a map ``x -> g(x)`` whose fixed points are exactly the Phase 2 solutions.
:func:`~empo_tabular.exact.anderson.anderson` accelerates it (no Jacobian, no factorisation, memory
``O(m (S H G + S))``), and :func:`~empo_tabular.exact.continuation.continuation` follows the branch from
beta_r = 0, where the fixed point is unique, to the target, rejecting every step whose corrector does
not end near the secant predictor.  That check is what keeps a fast corrector on the branch: Anderson
started far from a solution may converge to any fixed point, but started at the predictor of a short
step it either lands next to it (the branch point) or is rejected, and a fold stops the continuation
with its beta_r.

Near a fold the fold's middle sheet lies close to the branch, where a distance test cannot tell them apart,
so the returned point also passes the branch test of :mod:`.branch`: the rightmost eigenvalue of the sweep
map's Jacobian (ARPACK on finite-difference products: 13-23 sweeps on the scenarios) has real part below 1,
or, when it does not and the Newton system has at most ``SIGN_MAX_UNKNOWNS`` unknowns, ``det(I - J) > 0`` by
a sparse LU (then one Newton polish: the sweep map does not contract there, and its residual bounds the error
poorly).  A point failing it is reported as not converged, and ``solve_phase2(method="auto")`` then falls back to
Newton continuation, which checks the sign at every step.  Above that size with an inconclusive ARPACK
test, the fallback's continuation has only the distance test.

Measured on a world with several fixed points (tests/exact/test_sweeps.py, 4 states at beta_r = 50):
Anderson started at the usual start directly at the target converges to a fixed point 40% away from the
branch's; the continuation returns the branch's.
"""
from __future__ import annotations

import math

import numpy as np

from .._kernels import phase2_marginal as _km
from .anderson import anderson
from .branch import (POINT_SIGN_CHECK, SIGN_MAX_UNKNOWNS, branch_index, branch_test_message, eigenvalue_check,
                     passes_branch_test, rightmost_at_fixed_point)
from .continuation import InvalidIterate, continuation
from .parallel import sweep_blocks
from .system import NewtonSystem, Phase2Solution, newton_at_beta, param_args

HISTORY = 8
#: Anderson's stopping tolerance at the intermediate beta_r values of the continuation: they only need to be
#: accurate enough for the secant predictor and the branch check, whose floor ``JUMP_FLOOR`` (the largest
#: distance from the predictor always accepted) sits two orders of magnitude above it.  Measured on the six
#: stationary scenarios: 1e-7 / 1e-5 / 1e-4 cost 897 / 642 / 550 sweeps in total (same solutions to 5e-12).
STAGE_TOL = 1e-5
JUMP_FLOOR = 1e-3
#: the final corrector stops at ``FINAL_TOL * tol`` (the error of the returned point is about the residual over
#: ``1 - rho`` of the sweep map, ~10x it; 0.1 would save 2% of the sweeps over the eight test worlds below);
#: the continuation starts with a step of ``FIRST_STEP`` and multiplies it by ``GROWTH`` after every cheap
#: corrector.  Measured on the six stationary scenarios and random worlds of 10^3 and 10^4 states (P1 + P2
#: sweeps in total, branch tests excluded): steps (1, x2) 1494 sweeps, (2, x3) 1116 sweeps.
FINAL_TOL = 0.01
GROWTH = 3.0
FIRST_STEP = 2.0


def marginal_table(world, prior):
    """The human-marginal successor table ``(mptr, msucc, mw)`` of ``_kernels.phase2_marginal``: the human joint
    action summed out of the transitions under the prior's profiles, once per solve (O(nnz * H * G) time, like
    one sweep).  Measured per Gauss-Seidel sweep against the table of rows ``(s, a, k)``: shared_switch (two
    humans, 25 joint human actions, 3.8 distinct successors per robot action) 0.31 -> 0.09 ms; random worlds of
    10^3 and 10^5 states (1 human, 2 actions, 2 successors per row, so little to merge) the same time.  The
    worst case is a world with many goals and nothing to merge, where the table's M + 1 weights per entry cost
    more memory traffic than one probability per row: 20,000 random states, 2 humans x 5 goals, 3 successors per
    row (81% of the rows' entries remain) 16.4 -> 17.9 ms (+9%)."""
    S, n_ar, n_ah = world.n_states, world.n_ar, world.n_ah
    M = world.n_humans * world.n_goals
    counts = np.empty(S * n_ar, dtype=np.int64)
    _km.count_marginal_entries(world.terminal, world.trans_ptr, world.trans_succ, n_ar, n_ah,
                               np.full(S, -1, dtype=np.int64), counts)
    mptr = np.zeros(S * n_ar + 1, dtype=np.int64)
    np.cumsum(counts, out=mptr[1:])
    msucc = np.empty(int(mptr[-1]), dtype=world.trans_succ.dtype)
    mw = np.zeros((int(mptr[-1]), M + 1))
    _km.fill_marginal_entries(world.terminal, world.trans_ptr, world.trans_succ, world.trans_prob, n_ar, n_ah,
                              prior.profile, prior.profile_fixed_goal.reshape(S, M, n_ah), mptr,
                              np.full(S, -1, dtype=np.int64), msucc, mw)
    return mptr, msucc, mw


class SweepMap:
    """The Gauss-Seidel sweep as a map on ``x = (V_h^e, V_r)``, with its state arrays."""

    def __init__(self, world, prior, params):
        S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
        self.world, self.params = world, params
        self.S, self.nE = S, S * H * G
        self.H = H
        self.live = ~world.terminal
        self.Q = np.full((S, n_ar), -1.0)
        self.PI = np.full((S, n_ar), 1.0 / n_ar)
        # V_h^e and V_r are views of one buffer laid out as x, so that a sweep's output is one copy
        self.buf = np.zeros(self.nE + S)
        self.VE = self.buf[:self.nE].reshape(S, H, G)
        self.V = self.buf[self.nE:]
        self.V[:] = -1.0
        self.X = np.ones((S, H))
        self.U = np.full(S, -1.0)
        self.err = np.zeros(2, dtype=np.int64)
        self.order = np.arange(S - 1, -1, -1, dtype=np.int64)
        self.blocks = sweep_blocks(S)
        self.wargs = (world.terminal, n_ar, *marginal_table(world, prior), world.achieved_by_state, world.goal_weight,
                      world.goal_count)
        self.w = np.ones(self.nE + S)
        self.live_f = self.live.astype(np.float64)
        self.sweeps = 0

    def start(self):
        VE = np.where(self.live[:, None, None], 0.5, 0.0) * np.ones_like(self.VE)
        V = np.where(self.live, -1.0, self.params.terminal_v_r)
        return np.concatenate([VE.ravel(), V])

    def admissible(self, x):
        """Every V_r < 0 (terminal_v_r is negative, so terminal entries need no mask) and every entry finite."""
        return bool(np.max(x[self.nE:]) < 0.0) and bool(np.all(np.isfinite(x)))

    def project(self, x):
        out = x.copy()
        np.clip(out[:self.nE], 0.0, 1.0, out=out[:self.nE])
        return out if self.admissible(out) else None

    def weights(self, gx):
        w = self.w
        np.divide(self.live_f, np.maximum(np.abs(gx[self.nE:]), 1e-300), out=w[self.nE:])
        return w

    def at(self, beta):
        p = self.params
        pargs = param_args(p, beta)

        def g(x):
            self.buf[:] = x
            self.err[:] = 0
            if self.blocks is None:
                _km.marginal_gauss_seidel_sweep(self.order, *self.wargs, *pargs, p.terminal_v_r, self.Q, self.PI,
                                                self.VE, self.X, self.U, self.V, self.err)
            else:
                _km.block_marginal_gauss_seidel_sweep(self.order, self.blocks, *self.wargs, *pargs, p.terminal_v_r,
                                                      self.Q, self.PI, self.VE, self.X, self.U, self.V, self.err)
            self.sweeps += 1
            if self.err[0]:
                raise InvalidIterate("X_h = 0")
            out = self.buf.copy()
            if not self.admissible(out):
                raise InvalidIterate("V_r not strictly negative")
            return out

        return g


def solve_sweeps(world, prior, params, tol, max_sweeps=2000) -> Phase2Solution:
    """Anderson-accelerated Gauss-Seidel continuation (``method="anderson"``); see the module docstring."""
    sm = SweepMap(world, prior, params)
    target = params.beta_r

    def solve_at(beta, x0):
        final = beta == target or beta == math.inf
        return anderson(sm.at(beta), x0, tol=FINAL_TOL * tol if final else max(0.1 * tol, STAGE_TOL), weights=sm.weights,
                        m=HISTORY, max_iter=max_sweeps, project=sm.project,
                        accept=0.1 * tol if final else None)

    out = continuation(solve_at, sm.start(), target, project=sm.project, fast=30, slow=100, jump_floor=JUMP_FLOOR,
                       growth=GROWTH, first_step=FIRST_STEP)
    converged, message, residual = out.converged, out.message, out.residual
    check = ""
    g = sm.at(out.beta)
    lam = None
    if converged and math.isfinite(out.beta):
        # the branch test at the returned point: no eigenvalue of the sweep map's Jacobian with real part
        # above 1, hence det(I - J) > 0 as on the branch from beta_r = 0 (see .branch)
        lam = rightmost_at_fixed_point(g, out.z, None if out.z_prev is None else out.z - out.z_prev)
    # leave the state arrays at the returned point: one more sweep from it (its output is the fixed point
    # to the tolerance, and Q_r, pi_r, X_h, U_r are then consistent with it)
    try:
        g(out.z)
    except InvalidIterate:
        pass
    if converged and math.isfinite(out.beta):
        if passes_branch_test(lam):
            check = eigenvalue_check(lam, "sweep map's")
        else:
            # inconclusive (a pair of real eigenvalues above 1 keeps det(I - J) > 0): the sign itself, by LU
            system = NewtonSystem(world, prior, params)
            sign = None
            if system.n <= SIGN_MAX_UNKNOWNS:
                z = np.concatenate([np.where(sm.live[:, None], sm.Q, -1.0).ravel(), sm.VE.ravel(), sm.V])
                sign = branch_index(system, z, out.beta)
                if sign == 1:
                    check = POINT_SIGN_CHECK
                    # on the branch, but the sweep map is not a contraction here, so its residual bounds the
                    # error poorly (measured: a 2-state cycle at beta_r = 20, rho = 3.1, relative error 2e-12
                    # at residual 4e-14): polish by Newton from this point (one or two linear solves of this size)
                    pol = newton_at_beta(system, tol, polish_at=out.beta)(out.beta, z)
                    if pol.converged:
                        _, VE_n, V_n = system.split(pol.z)
                        sm.buf[:sm.nE], sm.buf[sm.nE:] = VE_n.ravel(), V_n
                        try:
                            g(sm.buf.copy())
                        except InvalidIterate:
                            pass
                        residual = pol.residual
            if sign != 1:
                converged = False
                message = (branch_test_message(lam, "sweep map's") +
                           ("" if sign is None else f" and det(I - J) {'= 0' if sign == 0 else '< 0'}") +
                           "; the point may lie on a fold's middle sheet, not on the branch from beta_r = 0")
    return Phase2Solution.from_iterate(world, params, sm.Q, sm.PI, sm.VE, sm.X, sm.U, sm.V,
                                       method="anderson_continuation", iterations=sm.sweeps, residual=residual,
                                       converged=converged, betas=out.betas, message=message,
                                       fold_beta=out.fold_beta, branch_check=check)
