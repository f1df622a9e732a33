"""The three Phase 2 fixed-point maps of CONTRACTION_THEORY §0 on flat vectors, with analytic Jacobians.

For every non-terminal state ``s`` (EMPO_SEMANTICS §3.2, equations (4')-(9'))::

    Q_r(s,a)    = gamma_r sum_k P(k|s) sum_s' T(s'|s,a,k) V_r(s')                  (4')
    pi_r(a|s)   = (-Q_r(s,a))^(-beta) / sum_b (-Q_r(s,b))^(-beta)                  (5')
    V_h^e(s,h,g)= sum_a pi_r(a|s) sum_k P_hg(k|s) sum_s' T [1_g(s') + (1-1_g(s')) gamma_h V_h^e(s',h,g)]  (6')
    X_h(s)      = sum_g w_hg V_h^e(s,h,g)^zeta                                      (7')
    U_r(s)      = -((1/H) sum_h X_h(s)^(-xi))^eta                                   (8')
    V_r(s)      = c_r U_r(s) + sum_a pi_r(a|s) Q_r(s,a)                             (9')

Terminal states are constants (``V_r = terminal_v_r``, ``V_h^e = 0``) and are not unknowns.

The maps (:class:`EmpoMaps`)
----------------------------
``reduced`` R: q -> q'
    pi = pi(q); V_h^e solves the linear system ``(I - A_EE(pi)) e = c_E(pi)`` exactly (sparse
    LU); then X_h, U_r, V_r by (7')-(9') and ``q' = gamma_r E[V_r(s')]`` by (4').  Two-timescale
    SA converges to the fixed points of this map (slow ODE ``q' = R(q) - q``).
``jacobi`` J on z = (Q_r, V_h^e, X_h, U_r[, V_r])
    Every block gets one backup computed from the *old* z (exactly ``_kernels.phase2.jacobi_map``):
    Q' from V (or, without V_r, from ``c_r U + <pi(Q), Q>`` of the successors), V_h^e' from
    pi(Q) and V_h^e, X' from V_h^e, U' from X, V' = c_r U + <pi(Q), Q>.  Synchronous SA with
    equal rates linearises to it.
``gauss_seidel`` GS on the same z
    Block Gauss-Seidel in chain order Q -> pi -> V_h^e -> X -> U -> V_r: each block uses the
    freshest blocks (Q' from the old V; V_h^e' from pi(Q') and the old V_h^e; X' from V_h^e';
    U' from X'; V' = c_r U' + <pi(Q'), Q'>).  Within a block all states are updated
    synchronously, so the map does not depend on a state order.

Flat vectors
------------
``q`` lists Q_r(s, a) for non-terminal s (in :attr:`EmpoMaps.states` order, actions inner);
the joint vector is ``z = [q, e, x, u(, v)]`` with ``e`` = V_h^e(s, h, g) over non-terminal s and
real goals (``g < goal_count[h]``), ``x`` = X_h(s, h), ``u`` = U_r(s), ``v`` = V_r(s).  On
acyclic worlds the states are ordered successors-first (reverse topological order), which makes
every Jacobian strictly triangular, hence nilpotent *exactly* in floating point.

Jacobians (``_kernels/jacobian.py`` blocks, restricted to the unknowns)
-----------------------------------------------------------------------
With ``QV = dQ'/dV``, ``EE = dV^e'/dV^e``, ``EQ = dV^e'/dQ``, ``XE = dX/dV^e``, ``UX = dU/dX``,
``VQ = dV/dQ``, ``VU = c_r I``:

* Jacobi: ``[[0,0,0,0,QV],[EQ,EE,0,0,0],[0,XE,0,0,0],[0,0,UX,0,0],[VQ,0,0,VU,0]]`` (without V_r
  the Q row is ``[QV VQ, 0, 0, QV VU]``);
* Gauss-Seidel: the product of the block updates, blocks taken at the intermediate points;
* reduced: ``J_R = P W`` with ``P = QV`` (n_q x n_live, nonnegative) and
  ``W = VQ + VU UX XE (I - EE)^{-1} EQ`` (n_live x n_q).  So ``J_R`` has rank <= n_live and its
  non-zero spectrum is that of the small matrix ``W P`` (:meth:`EmpoMaps.reduced_factors`).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_beta
from .._kernels import phase2 as _k2
from .._kernels import world as _kw
from ..core.params import EmpoParams
from ..exact.phase1 import HumanPrior
from ..exact.system import param_args, world_args, check_phase2_inputs, jacobian_blocks
from ..core.world import TabularWorld
from . import evaluator
from .evaluator import EvaluatorSystem, krylov_solve, policy_distance, refine
from .joint_maps import JointMaps
from .spectral import component_product

__all__ = ["MAP_NAMES", "EmpoMaps"]

MAP_NAMES = ("reduced", "jacobi", "gauss_seidel")
def check_map_name(name) -> str:
    """Return ``name`` if it is one of :data:`MAP_NAMES`, else raise."""
    if not isinstance(name, str):
        raise TypeError(f"map name must be a str, got {type(name).__name__}")
    if name not in MAP_NAMES:
        raise ValueError(f"unknown map {name!r}; known maps: {MAP_NAMES}")
    return name


class EmpoMaps(JointMaps):
    """The reduced, Jacobi and Gauss-Seidel maps of Phase 2 as functions of flat vectors.

    Parameters
    ----------
    world : TabularWorld
    prior : HumanPrior
    params : EmpoParams
        All parameters except ``beta_r``, which every method takes explicitly.
    include_v_r : bool, default True
        Whether V_r is a block of the joint vector (as in ``jacobi_map`` and in SA with a V_r
        table).  Without it, Q' is computed from ``c_r U + <pi(Q), Q>`` of the successors.

    Attributes
    ----------
    states : ndarray of int
        The non-terminal states in packing order.
    n_q, n_e, n_x, n_u, n_v, n_joint : int
        Block sizes; ``n_joint = n_q + n_e + n_x + n_u + n_v``.
    blocks : dict
        Name -> slice of the joint vector (``"Q_r", "V_h_e", "X_h", "U_r"[, "V_r"]``).
    """

    def __init__(self, world: TabularWorld, prior: HumanPrior, params: EmpoParams, *, include_v_r: bool = True):
        check_phase2_inputs(world, prior, params)
        self.world, self.prior, self.params = world, prior, params
        self.include_v_r = bool(include_v_r)
        S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
        self.S, self.n_ar, self.H, self.G = S, n_ar, H, G
        live = ~np.asarray(world.terminal)
        if world.is_acyclic:
            order = np.asarray(world.topological_order)[::-1]
            states = order[live[order]]
        else:
            states = np.flatnonzero(live)
        self.states = np.ascontiguousarray(states, dtype=np.int64)
        self.live = live
        nL = self.states.size
        if nL == 0:
            raise ValueError("the world has no non-terminal state: the maps have no unknowns")
        real = np.arange(G)[None, :] < np.asarray(world.goal_count)[:, None]  # (H, G)
        hg = np.flatnonzero(real.ravel())
        self.q_index = (self.states[:, None] * n_ar + np.arange(n_ar)[None, :]).ravel()
        self.e_index = (self.states[:, None] * (H * G) + hg[None, :]).ravel()
        self.x_index = (self.states[:, None] * H + np.arange(H)[None, :]).ravel()
        self.n_q, self.n_e, self.n_x, self.n_u = self.q_index.size, self.e_index.size, self.x_index.size, nL
        self.n_v = nL if self.include_v_r else 0
        sizes = [("Q_r", self.n_q), ("V_h_e", self.n_e), ("X_h", self.n_x), ("U_r", self.n_u)]
        if self.include_v_r:
            sizes.append(("V_r", self.n_v))
        self.blocks, start = {}, 0
        for name, m in sizes:
            self.blocks[name] = slice(start, start + m)
            start += m
        self.n_joint = start
        self.wargs = world_args(world, prior)
        max_succ, total = _kw.distinct_successor_counts(world.trans_ptr, world.trans_succ, S, n_ar * world.n_ah)
        self.max_succ = max(1, int(max_succ))
        self.caps = (S * n_ar * self.max_succ, max(1, int(total)) * H * G, S * H * G * n_ar, S * H * G, S * H,
                     S * n_ar)
        # dQ'/dV does not depend on anything: rows of the unknowns, all S columns (for evaluation)
        b = self._raw_blocks(0.0, np.full((S, n_ar), -1.0), np.zeros((S, H, G)), np.ones((S, H)))
        self._qv_all = b["QV"][self.q_index].tocsr()
        self._qv = self._qv_all[:, self.states].tocsc().tocsr()
        self._v_terminal = np.where(live, 0.0, params.terminal_v_r)
        self.evaluator_system = EvaluatorSystem(
            lambda Q: self._raw_blocks(np.inf, Q, np.zeros((S, H, G)), np.ones((S, H)))["EE"], self.e_index,
            S, n_ar, H, G, world.is_acyclic, params.gamma_h)

    # ------------------------------------------------------------------ packing

    def pack_q(self, Q_r) -> np.ndarray:
        """Flat ``q`` from a full (S, n_ar) Q_r array (terminal rows ignored)."""
        Q = np.asarray(Q_r, dtype=float)
        if Q.shape != (self.S, self.n_ar):
            raise ValueError(f"Q_r must have shape ({self.S}, {self.n_ar}), got {Q.shape}")
        return Q.ravel()[self.q_index].copy()

    def unpack_q(self, q) -> np.ndarray:
        """Full (S, n_ar) Q_r from ``q`` (NaN rows at terminal states)."""
        q = self._vec(q, self.n_q, "q")
        Q = np.full(self.S * self.n_ar, np.nan)
        Q[self.q_index] = q
        return Q.reshape(self.S, self.n_ar)

    def pack_joint(self, arrays) -> np.ndarray:
        """Joint ``z`` from a :class:`Phase2Solution` or a dict with ``Q_r, V_h_e, X_h, U_r[, V_r]``."""
        src = arrays.arrays() if hasattr(arrays, "arrays") else dict(arrays)
        need = ["Q_r", "V_h_e", "X_h", "U_r"] + (["V_r"] if self.include_v_r else [])
        missing = [k for k in need if k not in src]
        if missing:
            raise ValueError(f"arrays must provide {need}; missing {missing}")
        shapes = {"Q_r": (self.S, self.n_ar), "V_h_e": (self.S, self.H, self.G), "X_h": (self.S, self.H),
                  "U_r": (self.S,), "V_r": (self.S,)}
        index = {"Q_r": self.q_index, "V_h_e": self.e_index, "X_h": self.x_index, "U_r": self.states,
                 "V_r": self.states}
        parts = []
        for k in need:
            a = np.asarray(src[k], dtype=float)
            if a.shape != shapes[k]:
                raise ValueError(f"{k} must have shape {shapes[k]}, got {a.shape}")
            parts.append(a.ravel()[index[k]])
        return np.concatenate(parts)

    def unpack_joint(self, z) -> dict:
        """Full arrays ``Q_r, V_h_e, X_h, U_r, V_r`` from ``z`` (terminal conventions applied).

        Without V_r in ``z`` (``include_v_r=False``) no ``V_r`` is returned (it depends on beta).
        """
        z = self._vec(z, self.n_joint, "z")
        out = {"Q_r": self.unpack_q(z[self.blocks["Q_r"]])}
        VE = np.zeros(self.S * self.H * self.G)
        VE[self.e_index] = z[self.blocks["V_h_e"]]
        out["V_h_e"] = VE.reshape(self.S, self.H, self.G)
        X = np.full(self.S * self.H, np.nan)
        X[self.x_index] = z[self.blocks["X_h"]]
        out["X_h"] = X.reshape(self.S, self.H)
        U = np.full(self.S, np.nan)
        U[self.states] = z[self.blocks["U_r"]]
        out["U_r"] = U
        if self.include_v_r:
            V = np.full(self.S, self.params.terminal_v_r)
            V[self.states] = z[self.blocks["V_r"]]
            out["V_r"] = V
        return out

    def log_mask(self, map_name: str) -> np.ndarray:
        """Coordinates that are strictly negative at a fixed point and use ``log(-x)`` steps.

        Reduced map: all of ``q``.  Joint maps: Q_r, U_r and V_r (V_h^e and X_h are >= 0).
        """
        check_map_name(map_name)
        if map_name == "reduced":
            return np.ones(self.n_q, dtype=bool)
        m = np.zeros(self.n_joint, dtype=bool)
        for k in ("Q_r", "U_r", "V_r"):
            if k in self.blocks:
                m[self.blocks[k]] = True
        return m

    def fast_mask(self) -> np.ndarray:
        """Evaluator coordinates of the joint vector (V_h^e, X_h, U_r): step ``a``; Q_r and V_r: ``kappa a``."""
        m = np.zeros(self.n_joint, dtype=bool)
        for k in ("V_h_e", "X_h", "U_r"):
            m[self.blocks[k]] = True
        return m

    def dimension(self, map_name: str) -> int:
        """Length of the flat vector of ``map_name``."""
        return self.n_q if check_map_name(map_name) == "reduced" else self.n_joint

    # ------------------------------------------------------------------ helpers

    def _vec(self, x, n, name):
        x = np.asarray(x, dtype=float)
        if x.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {x.shape}")
        return x

    def _full(self, q=None, e=None, x=None, u=None, v=None):
        S, n_ar, H, G = self.S, self.n_ar, self.H, self.G
        Q = np.full(S * n_ar, -1.0)
        if q is not None:
            if np.any(~(q < 0)):
                raise ValueError("Q_r must be finite and strictly negative (the power law needs -Q_r > 0)")
            Q[self.q_index] = q
        VE = np.zeros(S * H * G)
        if e is not None:
            VE[self.e_index] = e
        X = np.ones(S * H)
        if x is not None:
            X[self.x_index] = x
        U = np.full(S, -1.0)
        if u is not None:
            U[self.states] = u
        V = self._v_terminal.copy()
        if v is not None:
            V[self.states] = v
        return Q.reshape(S, n_ar), VE.reshape(S, H, G), X.reshape(S, H), U, V

    def _kernel_map(self, beta, Q, VE, X, U, V):
        S, n_ar, H, G = self.S, self.n_ar, self.H, self.G
        Q2, PI2, VE2 = np.empty((S, n_ar)), np.empty((S, n_ar)), np.empty((S, H, G))
        X2, U2, V2 = np.empty((S, H)), np.empty(S), np.empty(S)
        err = np.zeros(2, dtype=np.int64)
        p = self.params
        _k2.jacobi_map(*self.wargs, *param_args(p, beta), p.terminal_v_r, np.ascontiguousarray(Q),
                       np.ascontiguousarray(VE), np.ascontiguousarray(X), np.ascontiguousarray(U),
                       np.ascontiguousarray(V), Q2, PI2, VE2, X2, U2, V2, err)
        return Q2, PI2, VE2, X2, U2, V2

    def _raw_blocks(self, beta, Q, VE, X):
        return jacobian_blocks(self.world, self.prior, self.params, beta, np.ascontiguousarray(Q),
                               np.ascontiguousarray(VE), np.ascontiguousarray(X), self.max_succ, self.caps)

    @property
    def qv_matrix(self) -> sp.csr_matrix:
        """``P = dQ'/dV_r`` restricted to the unknowns (n_q x n_live, nonnegative, constant)."""
        return self._qv

    def restricted_blocks(self, beta, Q, VE, X) -> dict:
        """Jacobian blocks ``EE, EQ, XE, UX, VQ, VU`` at full arrays ``(Q, VE, X)``, restricted to the unknowns."""
        return self._blocks(beta, Q, VE, X)

    def _blocks(self, beta, Q, VE, X) -> dict:
        """Jacobian blocks restricted to the unknowns (rows and columns)."""
        b = self._raw_blocks(beta, Q, VE, X)
        qi, ei, xi, si = self.q_index, self.e_index, self.x_index, self.states
        return {
            "EE": b["EE"][ei][:, ei], "EQ": b["EQ"][ei][:, qi], "XE": b["XE"][xi][:, ei],
            "UX": b["UX"][si][:, xi], "VQ": b["VQ"][si][:, qi],
            "VU": sp.identity(self.n_u, format="csr") * self.params.c_r,
        }

    def _xu(self, VE):
        S, H = self.S, self.H
        X, U = np.empty((S, H)), np.empty(S)
        err = np.zeros(2, dtype=np.int64)
        p = self.params
        _k2.xu_from_ve(self.world.terminal, np.ascontiguousarray(VE), self.world.goal_weight, self.world.goal_count,
                       p.zeta, p.xi, p.eta, X, U, err)
        return X, U

    def ee_matrix(self, PI) -> sp.csr_matrix:
        """``A_EE(pi) = dV_h^e'/dV_h^e`` restricted to the unknowns (:meth:`.EvaluatorSystem.ee_matrix`)."""
        return self.evaluator_system.ee_matrix(PI)

    def evaluator_matrix(self, PI) -> sp.csc_matrix:
        """The V_h^e system matrix ``I - A_EE(pi)`` (CSC; :meth:`.EvaluatorSystem.evaluator_matrix`)."""
        return self.evaluator_system.evaluator_matrix(PI)

    def evaluator_solver(self, M):
        """A solver of ``M x = b`` (``.solve(b, trans="N"|"T")``; :meth:`.EvaluatorSystem.solver`)."""
        return self.evaluator_system.solver(M)

    # ------------------------------------------------------------------ reduced map

    def reduced_state(self, q, beta, *, near=None, keep_solver: bool = True, start=None) -> dict:
        """Everything the reduced map computes at ``q``: full arrays and the ``V_h^e`` LU.

        Returns a dict with ``Q_r, pi_r, V_h_e, X_h, U_r, V_r`` (full arrays, terminal
        conventions), ``q_next`` (= R(q)), ``e`` (the exact V_h^e unknowns), ``M`` (the V_h^e
        system matrix ``I - A_EE(pi)``, CSC) and ``lu`` (its sparse LU, or None when ``near``
        solved the system).

        ``near`` (optional) is the state dict of a nearby point (same beta or a close one): the
        V_h^e system is then solved by iterative refinement preconditioned with that point's LU
        (:func:`.evaluator.refine`), falling back to a fresh LU when refinement does not converge.  The
        result is the exact solution to ~1e-14 either way.

        ``start`` (optional, with ``near``): the V_h^e unknowns to start the refinement (or GMRES) from instead
        of ``near["e"]``, e.g. the solution at a point closer to ``q`` (:meth:`reduced_near`).

        ``keep_solver=False`` (the caller needs the values, not a factorisation: the estimators'
        evaluations of R, :meth:`reduced_near`): on cyclic worlds with at least :data:`.evaluator.FAR_KRYLOV_MIN`
        unknowns the fallback is GMRES (Jacobi-preconditioned, started from ``near``'s solution, relative
        residual :data:`.evaluator.FAR_KRYLOV_RTOL`) instead of a fresh LU, whose cost grows much faster than the size
        (measured on the rooms of ``benchmarks/bench_contraction.py``, at a random point of the estimators'
        box: 5,040 unknowns LU 27 ms vs GMRES 13 ms; 39,600 unknowns LU 3.7 s vs GMRES 0.12 s).  The values
        then agree with the LU's to ~1e-12 (tested to 1e-11; ``M`` is strictly diagonally dominant with ``gamma_h < 1``:
        ``||M^-1||_inf <= 1 / (1 - gamma_h)``); ``lu`` is None.
        """
        beta = check_beta(beta)
        q = self._vec(q, self.n_q, "q")
        Q, VE0, X1, U1, V0 = self._full(q=q)
        # c_E: the V_h^e backup with zero continuation values; A_EE(pi) on its cached sparsity pattern
        _, PI, cE, _, _, _ = self._kernel_map(beta, Q, VE0, X1, U1, V0)
        M = self.evaluator_matrix(PI)
        c = cE.ravel()[self.e_index]
        e = lu = None
        far = not keep_solver and near is not None and self.evaluator_system.far_krylov(M)
        hopeless = far and policy_distance(PI, near.get("pi_r"), self.states) > evaluator.FAR_POLICY_DISTANCE
        e0 = near.get("e") if near is not None and (start is None or np.shape(start) != c.shape) else start
        if near is not None and near.get("lu") is not None and not self.world.is_acyclic and not hopeless:
            e = refine(M, c, near["lu"], e0)
        if e is None and far:
            e = krylov_solve(M, c, e0)
        if e is None:
            lu = self.evaluator_system.solver(M)
            e = lu.solve(c)
        VE = np.zeros(self.S * self.H * self.G)
        VE[self.e_index] = e
        VE = VE.reshape(self.S, self.H, self.G)
        X, U = self._xu(VE)
        V = self._v_terminal.copy()
        Vl = self.params.c_r * U[self.states] + np.sum(PI[self.states] * Q[self.states], axis=1)
        V[self.states] = Vl
        q_next = self._qv_all @ V
        Qn = np.where(self.live[:, None], Q, np.nan)
        return {"Q_r": Qn, "pi_r": PI, "V_h_e": VE, "X_h": X, "U_r": U, "V_r": V, "q_next": q_next, "e": e,
                "lu": lu, "M": M, "q": q.copy()}

    def reduced_near(self, state, beta):
        """``R_beta`` as a closure that solves V_h^e by refinement from ``state`` (see :meth:`reduced_state`).

        Same values as :meth:`reduced` (to ~1e-14); much cheaper for points near ``state``'s q
        (Picard orbits, finite differences in beta, a box around the fixed point).  The closure remembers its
        last evaluation and starts the solve from that point's V_h^e when it is closer to ``q`` than
        ``state``'s point (max norm): consecutive points of a Picard orbit are much closer to each other than
        to the fixed point once the orbit follows its dominant mode.  Use one closure per sequence of points.
        """
        beta = check_beta(beta)
        last = {}

        def R(q):
            q = np.asarray(q, dtype=float)
            start = None
            if "q" in last and state.get("q") is not None and np.shape(last["q"]) == np.shape(q) and \
                    np.max(np.abs(q - last["q"])) < np.max(np.abs(q - state["q"])):
                start = last["e"]
            st = self.reduced_state(q, beta, near=state, keep_solver=False, start=start)
            last["q"], last["e"] = q.copy(), st["e"]
            return st["q_next"]

        return R

    def reduced(self, q, beta) -> np.ndarray:
        """The reduced map :math:`R_\\beta(q) = \\gamma_r E[V_r(s')]` with V_h^e solved exactly for pi(q)."""
        return self.reduced_state(q, beta)["q_next"]

    def reduced_factors(self, q, beta, state=None):
        """Factors of the reduced-map Jacobian :math:`J_R = P W` at ``q``.

        Returns
        -------
        P : scipy.sparse.csr_matrix, shape (n_q, n_live)
            :math:`\\partial Q'/\\partial V_r` (nonnegative: ``gamma_r`` times transition probabilities).
        W : numpy.ndarray, shape (n_live, n_q)
            :math:`dV_r/dq = VQ + c_r\\,UX\\,XE\\,(I - EE)^{-1} EQ` (dense: V_h^e couples all
            states).  Cyclic worlds: ``(I - EE)`` splits into connected components (one per
            human-goal pair plus trivial ones); each component's dense inverse (LAPACK, at most
            :data:`~.spectral.DENSE_BLOCK_MAX` unknowns) gives its part of ``UX XE (I - EE)^{-1} EQ``.
            Acyclic worlds (and larger components): ``n_live`` transposed solves with the sparse LU.
        state : dict
            :meth:`reduced_state` at ``q`` (computed unless given).
        """
        st = self.reduced_state(q, beta) if state is None else state
        Q, VE, X = self._full(q=q)[0], st["V_h_e"], np.where(self.live[:, None], st["X_h"], 1.0)
        b = self._blocks(beta, Q, VE, X)
        Rm = (b["VU"] @ b["UX"] @ b["XE"]).tocsr()  # (n_live, n_e)
        K = None
        if self.n_e and not self.world.is_acyclic:
            K = component_product(st["M"], Rm, b["EQ"], self.n_u, self.n_q)
        if K is None and self.n_e:
            lu = st["lu"] if st.get("lu") is not None else self.evaluator_system.solver(st["M"])
            Y = lu.solve(np.asarray(Rm.T.toarray(), order="F"), trans="T")  # M^{-T} R^T, (n_e, n_live)
            K = np.asarray((b["EQ"].T @ Y).T)  # (n_live, n_q)
        elif K is None:
            K = np.zeros((self.n_u, self.n_q))
        VQ = b["VQ"].tocoo()
        VQ.sum_duplicates()
        K[VQ.row, VQ.col] += VQ.data  # W = VQ + K, in place
        return self._qv, K, st

    def reduced_jacobian(self, q, beta) -> np.ndarray:
        """Dense :math:`J_R = dR/dq` at ``q`` (``P @ W``, see :meth:`reduced_factors`)."""
        P, W, _ = self.reduced_factors(q, beta)
        return np.asarray(P @ W)

    def reduced_beta_derivative(self, q, beta, h: float = 1e-6, state=None) -> np.ndarray:
        """:math:`\\partial R_\\beta(q)/\\partial\\beta` at fixed ``q`` by a central difference in beta.

        ``state`` (the :meth:`reduced_state` at ``q``, optional) lets the four-point solves use
        refinement (:meth:`reduced_near`); the values are the same to ~1e-14.
        """
        beta = check_beta(beta)
        step = h * max(1.0, beta)
        lo = beta - step

        def R(b):
            return self.reduced(q, b) if state is None else \
                self.reduced_state(q, b, near=state, keep_solver=False)["q_next"]

        if lo < 0.0:  # the power law is defined for negative exponents too; stay in the checked range
            return (R(beta + step) - R(beta)) / step
        return (R(beta + step) - R(lo)) / (2.0 * step)

    # ------------------------------------------------------------------ dispatch

    def map_function(self, map_name: str, beta):
        """``F(x)`` of ``map_name`` at fixed ``beta`` (a closure on flat vectors)."""
        check_map_name(map_name)
        beta = check_beta(beta)
        fn = {"reduced": self.reduced, "jacobi": self.jacobi, "gauss_seidel": self.gauss_seidel}[map_name]
        return lambda x: fn(x, beta)

    def jacobian(self, map_name: str, x, beta):
        """Analytic Jacobian of ``map_name`` at ``x`` (dense for ``reduced``, CSR for the joint maps)."""
        check_map_name(map_name)
        if map_name == "reduced":
            return self.reduced_jacobian(x, beta)
        if map_name == "jacobi":
            return self.jacobi_jacobian(x, beta)
        return self.gauss_seidel_jacobian(x, beta)

    def fixed_point(self, map_name: str, solution) -> np.ndarray:
        """The flat vector of ``map_name`` at a Phase 2 solution (a fixed point of every map)."""
        check_map_name(map_name)
        if map_name == "reduced":
            return self.pack_q(solution.Q_r)
        return self.pack_joint(solution)
