"""Helpers of the property suite (tests/exact/test_properties.py, tests/contraction/test_properties_maps.py): the reduced EMPO map and independent references.

* :class:`ReducedMap` — the nested map ``R: Q_r -> Q_r'`` of CONTRACTION_THEORY §0 built from the
  package's own Phase 2 kernels (so a bug in a kernel shows up in R): ``pi = pi(Q)``, V_h^e solved
  *exactly* for that policy, then X_h, U_r, ``V_r = c_r U_r + <pi, Q>`` and ``Q' = gamma_r E[V_r(s')]``.
* :func:`dense_policy_evaluation` — V_h^e for a given robot policy by a dense NumPy linear solve,
  written from the equations and independent of the kernels.
* :func:`joint_jacobian` — the analytic Jacobian of the Jacobi map on (Q_r, V_h^e, V_r) from the
  package, and :func:`schur_reduced_jacobian` — its Schur complement, which must equal dR/dQ.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import reject

import empo_tabular as et
from empo_tabular._kernels import phase2 as k2
from empo_tabular.exact.system import NewtonSystem, param_args, world_args


def solve(world, p):
    """Phase 1 and Phase 2 of ``world`` under ``p``; examples where Phase 2 has no continued branch are rejected.

    The properties are statements about *solutions*.  Cyclic EMPO worlds can have a fold in beta_r
    (the branch of fixed points followed from beta_r = 0 turns back, and the solver then raises
    :class:`~empo_tabular.ConvergenceError` saying so); such a draw is not a counterexample to any
    property here, so it is rejected (hypothesis warns if that happens too often).
    """
    prior = et.solve_phase1(world, p)
    try:
        return prior, et.solve_phase2(world, prior, p)
    except et.ConvergenceError:
        reject()


class ReducedMap:
    """``R(x)`` on ``x = Q_r[live].ravel()`` (the non-terminal rows), at exponent ``beta`` (default ``p.beta_r``)."""

    def __init__(self, world, prior, p, beta=None):
        self.world, self.prior, self.p = world, prior, p
        self.beta = p.beta_r if beta is None else beta
        self.live = ~world.terminal
        S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
        self.shape = (S, n_ar, H, G)
        self.wargs = world_args(world, prior)
        self.pargs = param_args(p, self.beta)
        self.n_calls = 0

    # ------------------------------------------------------------------ pieces
    def full_q(self, x):
        S, n_ar = self.shape[:2]
        Q = np.full((S, n_ar), -1.0)
        Q[self.live] = np.asarray(x, dtype=np.float64).reshape(-1, n_ar)
        return Q

    def _jacobi(self, Q, VE, X, U, V):
        S, n_ar, H, G = self.shape
        out = (np.empty((S, n_ar)), np.empty((S, n_ar)), np.empty((S, H, G)), np.empty((S, H)), np.empty(S),
               np.empty(S))
        err = np.zeros(2, dtype=np.int64)
        k2.jacobi_map(*self.wargs, *self.pargs, self.p.terminal_v_r, np.ascontiguousarray(Q),
                      np.ascontiguousarray(VE), np.ascontiguousarray(X), np.ascontiguousarray(U),
                      np.ascontiguousarray(V), *out, err)
        return out

    def evaluate_policy(self, Q):
        """Exact V_h^e under ``pi(Q)``: the V_h^e backup is affine in V_h^e; probe it and solve."""
        S, n_ar, H, G = self.shape
        X, U, V = np.ones((S, H)), -np.ones(S), -np.ones(S)
        n = S * H * G

        def backup(ve_flat):
            return self._jacobi(Q, ve_flat.reshape(S, H, G), X, U, V)[2].ravel()

        c = backup(np.zeros(n))
        A = np.empty((n, n))
        for j in range(n):
            e = np.zeros(n)
            e[j] = 1.0
            A[:, j] = backup(e) - c
        return np.linalg.solve(np.eye(n) - A, c).reshape(S, H, G)

    def pieces(self, x):
        """Every intermediate array of ``R(x)``: ``pi, VE, X, U, V, Q2``."""
        self.n_calls += 1
        p = self.p
        Q = self.full_q(x)
        S, n_ar, H, G = self.shape
        VE = self.evaluate_policy(Q)
        X, U = np.empty((S, H)), np.empty(S)
        err = np.zeros(2, dtype=np.int64)
        k2.xu_from_ve(self.world.terminal, VE, self.world.goal_weight, self.world.goal_count, p.zeta, p.xi, p.eta,
                      X, U, err)
        if err[0]:
            raise ValueError("X_h = 0 in the reduced map")
        Xs = np.where(self.live[:, None], X, 1.0)
        Us = np.where(self.live, U, -1.0)
        _, PI, _, _, _, V = self._jacobi(Q, VE, Xs, Us, -np.ones(S))
        Q2 = self._jacobi(Q, VE, Xs, Us, V)[0]
        return {"pi": PI, "VE": VE, "X": X, "U": U, "V": V, "Q2": Q2}

    def __call__(self, x):
        return self.pieces(x)["Q2"][self.live].ravel()

    def x_of(self, Q_r):
        """The live rows of a full ``Q_r`` array, flattened."""
        return np.asarray(Q_r)[self.live].ravel().copy()


def dense_policy_evaluation(world, prior, p, pi_r):
    """V_h^e(s, h, g) for the robot policy ``pi_r`` by one dense linear solve per (h, g).

    ``V = M (1_g + (1 - 1_g) gamma_h V)`` with ``M[s, s'] = sum_a pi(a|s) sum_k P_hg(k|s) T(s'|s, a, k)``;
    terminal rows of T are empty, so V = 0 there.
    """
    T = world.dense_transitions()
    S, H, G = world.n_states, world.n_humans, world.n_goals
    out = np.zeros((S, H, G))
    for h in range(H):
        for g in range(world.goal_count[h]):
            M = np.einsum("sa,sk,saku->su", pi_r, prior.profile_fixed_goal[:, h, g, :], T)
            ach = world.achieved[h, g].astype(float)
            out[:, h, g] = np.linalg.solve(np.eye(S) - p.gamma_h * M * (1.0 - ach)[None, :], M @ ach)
    return out


def robot_transition(world, prior):
    """``P_r[s, a, s'] = sum_k P(k|s) T(s'|s, a, k)``: the successor distribution under the human prior."""
    return np.einsum("sk,saku->sau", prior.profile, world.dense_transitions())


def joint_jacobian(world, prior, p, sol, beta=None):
    """Analytic Jacobi-map Jacobian on ``z = (Q_r, V_h^e, V_r)`` (X_h, U_r eliminated) and the blocks."""
    system = NewtonSystem(world, prior, p)
    Q = np.where(world.terminal[:, None], -1.0, sol.Q_r)
    z = np.concatenate([Q.ravel(), sol.V_h_e.ravel(), sol.V_r])
    b = system.blocks(z, p.beta_r if beta is None else beta)
    E_from = b["VU"] @ b["UX"] @ b["XE"]
    A = sp.bmat([[None, None, b["QV"]], [b["EQ"], b["EE"], None], [b["VQ"], E_from, None]], format="csr")
    return A, b


def schur_reduced_jacobian(world, prior, p, sol):
    """``dR/dQ = QV (VQ + VU UX XE (I - EE)^-1 EQ)`` on the live rows and columns."""
    _, b = joint_jacobian(world, prior, p, sol)
    EE, EQ = b["EE"].toarray(), b["EQ"].toarray()
    dVE = np.linalg.solve(np.eye(EE.shape[0]) - EE, EQ)
    dV = b["VQ"].toarray() + (b["VU"] @ b["UX"] @ b["XE"]).toarray() @ dVE
    J = b["QV"].toarray() @ dV
    rows = np.repeat(~world.terminal, world.n_ar)
    return J[np.ix_(rows, rows)]


def heights(world):
    """Height of every state of an acyclic world (0 for states without successors)."""
    ptr, states = world.levels
    h = np.empty(world.n_states, dtype=np.int64)
    for level in range(len(ptr) - 1):
        h[states[ptr[level]:ptr[level + 1]]] = level
    return h


def descendants(world):
    """``desc[i, j]``: state j is reachable from state i in one or more steps."""
    T = world.dense_transitions().sum(axis=(1, 2)) > 0
    reach = T.copy()
    for _ in range(world.n_states):
        new = reach | ((reach.astype(int) @ T.astype(int)) > 0)
        if (new == reach).all():
            break
        reach = new
    return reach
