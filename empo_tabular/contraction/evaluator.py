"""The evaluator system of the reduced map: ``(I - A_EE(pi)) e = c_E(pi)`` for V_h^e, its matrix and solvers.

:class:`EvaluatorSystem` builds ``A_EE(pi)`` and ``I - A_EE(pi)`` on cached sparsity patterns (``A_EE`` is linear
in the policy) and chooses the solver: a sparse LU (nested dissection from :data:`ND_MIN` unknowns, see
:mod:`.ordering`) or GMRES above :data:`KRYLOV_MIN`.  :func:`refine` and :func:`krylov_solve` solve the system at
a point near one whose factorisation is known (the estimators' evaluations of R, :meth:`.EmpoMaps.reduced_state`).
The module constants are read at call time (benchmarks and tests set them).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .matrix_free import KrylovSolver
from .ordering import PermutedLU, nested_dissection

__all__ = ["EvaluatorSystem", "krylov_solve", "policy_distance", "refine"]

#: Above this many V_h^e unknowns (cyclic worlds) the evaluator system is solved by GMRES, not a sparse LU.
KRYLOV_MIN = 50_000


#: From this many V_h^e unknowns (cyclic worlds, gamma_h < 1) the evaluator LU uses the nested-dissection order of
#: :mod:`.ordering` (computed once per pattern) instead of SuperLU's MMD_AT_PLUS_A.  Measured (one thread): the
#: 39,600-unknown system of the 10x10 room, factorisation 1.17 s vs 1.96 s, solve 19.8 vs 23.7 ms (fill 36.7 vs
#: 44.4); the 5,040-unknown system of the 6x6 room, solve 0.54 vs 0.41 ms (MMD better there).
ND_MIN = 20_000

#: Evaluations of R (no factorisation kept) fall back from refinement to GMRES instead of a fresh LU from this
#: many V_h^e unknowns on (cyclic worlds; see :meth:`~.empo_maps.EmpoMaps.reduced_state`).
FAR_KRYLOV_MIN = 2000
FAR_KRYLOV_RTOL = 1e-13
#: ... and skip the refinement attempt when the policy is this far from ``near``'s (max over states of the L1
#: distance): refinement then diverges or crawls (the box points of the estimators at beta_r >~ 10).
FAR_POLICY_DISTANCE = 0.5


def policy_distance(PI, PI_near, states) -> float:
    """``max_s sum_a |pi(a|s) - pi_near(a|s)|`` over ``states`` (inf without ``PI_near``)."""
    if PI_near is None or np.shape(PI_near) != np.shape(PI):
        return math.inf
    return float(np.max(np.sum(np.abs(PI[states] - PI_near[states]), axis=1))) if len(states) else 0.0


def krylov_solve(M, c, e0):
    """``M e = c`` by Jacobi-preconditioned GMRES from ``e0`` (relative residual :data:`FAR_KRYLOV_RTOL`);
    None when it does not get there (the caller then factorises ``M``)."""
    d = M.diagonal()
    if not np.all(d > 0):
        return None
    pre = spla.LinearOperator(M.shape, matvec=lambda v: v / d, dtype=float)
    x0 = None if e0 is None or np.shape(e0) != c.shape else np.asarray(e0, dtype=float)
    e, info = spla.gmres(M, c, x0=x0, rtol=FAR_KRYLOV_RTOL, atol=0.0, restart=100, maxiter=10, M=pre)
    if info != 0 or not np.all(np.isfinite(e)):
        return None
    return e


def refine(M, c, lu, e0, *, tol: float = 1e-14, max_iter: int = 15):
    """Solve ``M e = c`` by iterative refinement ``e <- e + LU^{-1}(c - M e)`` from ``e0``.

    ``lu`` factors a nearby matrix.  Stopping rule (converged: the error is then below ~tol, like a direct
    solve's), with ``t = tol * max(1, ||e||_inf)``: the last correction ``||de||_inf <= t``, or, from the second
    step on, the error left after it, estimated from the measured contraction ``r = ||de|| / ||de_prev||``
    (``r <= 0.5``) as the geometric tail ``||de|| r / (1 - r)``, is ``<= t``.  The estimate saves the one
    extra solve that would only confirm convergence (refinement contracts by ~1e-2 to 1e-6 per step on the
    evaluator systems of the analyzer's Picard orbits).  Returns None (the caller solves ``M e = c`` another
    way) when a step fails to halve the previous one or after ``max_iter`` steps.
    """
    e = np.array(e0, dtype=float)
    prev = math.inf
    for _ in range(max_iter):
        de = lu.solve(c - M @ e)
        e += de
        nd = float(np.max(np.abs(de))) if de.size else 0.0
        if not math.isfinite(nd):
            return None
        t = tol * max(1.0, float(np.max(np.abs(e))))
        if nd <= t:
            return e
        if nd > 0.5 * prev:
            return None
        if math.isfinite(prev):
            r = nd / prev
            if nd * r / (1.0 - r) <= t:
                return e
        prev = nd
    return None


class EvaluatorSystem:
    """Matrices and solvers of the V_h^e system on the unknowns ``e_index`` (flat ``(s, h, g)`` indices).

    Parameters
    ----------
    deterministic_ee : callable
        ``Q -> A_EE`` (full, S H G square, sparse) for the deterministic policy that ``Q`` (S, n_ar) selects with
        beta_r = inf (the kernel block of one action).
    e_index : ndarray of int
    S, n_ar, H, G : int
    acyclic : bool
        The world's states are ordered successors-first: the system is triangular (no pivoting, no fill).
    gamma_h : float
    """

    def __init__(self, deterministic_ee, e_index, S, n_ar, H, G, acyclic, gamma_h):
        self.deterministic_ee = deterministic_ee
        self.e_index = np.asarray(e_index)
        self.n_e = self.e_index.size
        self.S, self.n_ar, self.H, self.G = S, n_ar, H, G
        self.acyclic, self.gamma_h = bool(acyclic), float(gamma_h)
        self._ee_cache = None
        self._m_cache = None
        self._nd = None  # (shape, nnz, nested-dissection order) of the system's pattern

    def ee_matrix(self, PI) -> sp.csr_matrix:
        """``A_EE(pi) = dV_h^e'/dV_h^e`` restricted to the unknowns, for the policy ``PI`` (S, n_ar).

        ``A_EE`` is linear in pi: ``A_EE(pi) = sum_a diag(pi(a|s(row))) B_a`` with ``B_a`` the block of the
        deterministic policy ``a`` (one Jacobian-kernel call per action, once per system; the union
        sparsity pattern is cached), so each evaluation costs ``n_ar * nnz`` flops and no kernel call.
        """
        if self._ee_cache is None:
            S, n_ar, H, G = self.S, self.n_ar, self.H, self.G
            parts = []
            for a in range(n_ar):
                Q = np.full((S, n_ar), -2.0)
                Q[:, a] = -1.0  # beta = inf: the deterministic policy a
                B = self.deterministic_ee(Q)
                parts.append(B[self.e_index][:, self.e_index].tocoo())
            n = self.n_e
            lin = [p.row.astype(np.int64) * n + p.col for p in parts]
            union = np.unique(np.concatenate(lin)) if lin else np.zeros(0, dtype=np.int64)
            vals = np.zeros((n_ar, union.size))
            for a, (p, li) in enumerate(zip(parts, lin)):
                np.add.at(vals[a], np.searchsorted(union, li), p.data)
            rows, cols = union // n, union % n
            indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n)))).astype(np.int64)
            row_state = self.e_index[rows] // (H * G)
            self._ee_cache = (indptr, cols.astype(np.int64), vals, row_state)
        indptr, cols, vals, row_state = self._ee_cache
        data = np.einsum("an,na->n", vals, np.asarray(PI)[row_state])
        return sp.csr_matrix((data, cols, indptr), shape=(self.n_e, self.n_e))

    def evaluator_matrix(self, PI) -> sp.csc_matrix:
        """The V_h^e system matrix ``I - A_EE(pi)`` (CSC), see :meth:`ee_matrix`.

        Built directly in CSC order on the cached pattern of ``I - A_EE`` (the union pattern plus the
        diagonal): one weighted sum per evaluation, no sparse additions or format conversions.
        """
        if self._m_cache is None:
            if self._ee_cache is None:
                self.ee_matrix(np.full((self.S, self.n_ar), 1.0 / self.n_ar))
            indptr, cols, vals, row_state = self._ee_cache
            n = self.n_e
            rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
            lin = np.concatenate([cols * n + rows, np.arange(n, dtype=np.int64) * (n + 1)])  # col-major keys
            union, inv = np.unique(lin, return_inverse=True)
            k = cols.size
            mvals = np.zeros((self.n_ar, union.size))
            np.add.at(mvals, (slice(None), inv[:k]), -vals)
            ident = np.zeros(union.size)
            ident[inv[k:]] = 1.0
            mrows = union % n
            mstate = self.e_index[mrows] // (self.H * self.G)
            mptr = np.concatenate(([0], np.cumsum(np.bincount(union // n, minlength=n)))).astype(np.int64)
            self._m_cache = (mptr, mrows.astype(np.int64), mvals, mstate, ident)
        mptr, mrows, mvals, mstate, ident = self._m_cache
        PT = np.ascontiguousarray(np.asarray(PI, dtype=float).T)
        data = ident.copy()
        for a in range(self.n_ar):  # one contiguous gather per action (a 2-D fancy index is 4x slower)
            data += mvals[a] * PT[a].take(mstate)
        return sp.csc_matrix((data, mrows, mptr), shape=(self.n_e, self.n_e))

    def solver(self, M):
        """A solver of ``M x = b`` (``.solve(b, trans="N"|"T")``): sparse LU, or :class:`KrylovSolver` above
        :data:`KRYLOV_MIN` unknowns on cyclic worlds (the fill of an LU of a random cyclic graph grows much
        faster than its size; ``M`` is strictly diagonally dominant when gamma_h < 1, so GMRES converges fast)."""
        M = sp.csc_matrix(M)
        if not self.acyclic and M.shape[0] > KRYLOV_MIN:
            return KrylovSolver(M)
        if self.acyclic:  # triangular in the packing order: no pivoting, no fill, exact zeros
            return spla.splu(M, permc_spec="NATURAL", diag_pivot_thresh=0.0)
        if self.gamma_h < 1.0:  # I - gamma_h A with A substochastic: strictly diagonally dominant
            if M.shape[0] >= ND_MIN:  # nested dissection, computed once for the cached pattern of M
                if self._nd is None or self._nd[0] != M.shape or self._nd[1] != M.nnz:
                    self._nd = (M.shape, M.nnz, nested_dissection(M, leaf=32))
                return PermutedLU(M, self._nd[2])
            return spla.splu(M, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        return spla.splu(M)

    def far_krylov(self, M) -> bool:
        """Whether evaluations that keep no factorisation fall back to GMRES (:data:`FAR_KRYLOV_MIN`)."""
        return not self.acyclic and self.gamma_h < 1.0 and M.shape[0] >= FAR_KRYLOV_MIN
