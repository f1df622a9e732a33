"""Matrix-free spectral route of the reduced map: nothing dense in n_q or S^2.

With ``J_R = P W``, ``W = VQ + R_m M^{-1} EQ`` (``M = I - A_EE``, ``R_m = c_r UX XE``; see
:mod:`.empo_maps`), a product ``W P u`` costs one solve with ``M`` and a few sparse products, so the
non-zero spectrum of ``J_R`` (that of the ``n_live x n_live`` operator ``W P``) is found by ARPACK
(``scipy.sparse.linalg.eigs``) on a :class:`~scipy.sparse.linalg.LinearOperator`:

* ``which="LM"``: rho(J), the dominant eigenvalue and its eigenvector ``P u``;
* ``which="LR"``: max Re lambda (the eigenvalue of largest real part, which need not have the largest
  modulus; ``J_R`` also has ``n_q - n_live`` zero eigenvalues, so ``max_re >= 0`` when ``n_q > n_live``);
* alpha_max / alpha_best from those Ritz values (``spectrum_complete = False``).

rho(|J_R|) needs the entries of ``W`` (dense: ``M^{-1}`` couples all states), so this route reports a
certified UPPER BOUND: ``M^{-1} >= 0`` entrywise (``A_EE >= 0`` with spectral radius < 1), hence

.. math:: |J_R| \\le B = P\\,(|VQ| + |R_m|\\,M^{-1}\\,|EQ|)

entrywise, and ``rho(|J_R|) <= rho(B) <= max_i (B x)_i / x_i`` for any ``x > 0`` (Collatz-Wielandt).
The reported ``rho_abs`` is that last number for ``x`` = the Perron vector of ``B`` found by ARPACK
(``rho_abs_kind = "upper_bound"``); ``sup_norm`` and ``log_norm`` are likewise the row sums of ``B``
(``norms_kind = "upper_bound"``).

The solves with ``M`` use the LU (or GMRES, :class:`~.empo_maps.KrylovSolver`) of the evaluator system at
the fixed point, or the previous beta's factorisation with iterative refinement (:class:`RefinedSolver`).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .spectral import dominant_index

__all__ = ["KrylovSolver", "ReducedOperator", "RefinedSolver", "arpack_spectrum", "perron_upper_bound"]


class KrylovSolver:
    """``M x = b`` by GMRES (Jacobi-preconditioned, relative residual ``rtol``); the interface of ``splu``."""

    def __init__(self, M, rtol: float = 1e-12):
        self.M = sp.csr_matrix(M)
        self.MT = self.M.T.tocsr()
        d = self.M.diagonal()
        self.pre = spla.LinearOperator(self.M.shape, matvec=lambda v: v / d, dtype=float)
        self.preT = self.pre
        self.rtol = rtol
        self.shape = self.M.shape

    def _one(self, b, trans):
        A, P = (self.MT, self.preT) if trans == "T" else (self.M, self.pre)
        nb = float(np.linalg.norm(b))
        if nb == 0.0:
            return np.zeros_like(b)
        x, info = spla.gmres(A, b, rtol=self.rtol, atol=0.0, restart=60, maxiter=50, M=P)
        if info != 0:
            raise RuntimeError(f"GMRES on the V_h^e system did not reach rtol = {self.rtol:g} (info = {info})")
        return x

    def solve(self, b, trans: str = "N"):
        b = np.asarray(b, dtype=float)
        if b.ndim == 1:
            return self._one(b, trans)
        return np.column_stack([self._one(b[:, j], trans) for j in range(b.shape[1])])



class RefinedSolver:
    """``M x = b`` by iterative refinement with the factorisation ``base`` of a nearby matrix (a previous
    beta's), falling back to ``factor(M)`` the first time refinement does not converge to ``tol``."""

    def __init__(self, M, base, factor, tol: float = 1e-14, max_iter: int = 30, max_cheap: int = 3):
        self.M, self.base, self.factor, self.tol, self.max_iter = M, base, factor, tol, max_iter
        self.max_cheap = max_cheap  # more refinement steps than this on one solve: a fresh factorisation pays
        self.fresh = None
        self.refined = 0

    def solve(self, b, trans: str = "N"):
        if self.fresh is not None:
            return self.fresh.solve(b, trans=trans)
        A = self.M.T if trans == "T" else self.M
        x = self.base.solve(b, trans=trans)
        prev = math.inf
        for it in range(self.max_iter):
            dx = self.base.solve(b - A @ x, trans=trans)
            x = x + dx
            nd = float(np.max(np.abs(dx))) if dx.size else 0.0
            if nd <= self.tol * max(1.0, float(np.max(np.abs(x)))):
                self.refined += 1
                if it + 1 > self.max_cheap:
                    self.fresh = self.factor(self.M)
                return x
            if not (nd < 0.7 * prev):
                break
            prev = nd
        self.fresh = self.factor(self.M)
        return self.fresh.solve(b, trans=trans)


class ReducedOperator:
    """Products with ``J_R``, ``W P`` and the majorant ``B`` of ``|J_R|`` at one point (no dense block).

    Parameters
    ----------
    maps : EmpoMaps
    q_star : ndarray (n_q,)
    beta : float
    state : dict
        :meth:`EmpoMaps.reduced_state` at ``q_star`` (its ``lu`` is the solver of ``M``: an LU, a
        :class:`~.empo_maps.KrylovSolver` or a :class:`RefinedSolver`).
    """

    def __init__(self, maps, q_star, beta, state):
        self.q_star = np.asarray(q_star, dtype=float)
        Q = maps.unpack_q(self.q_star)
        Q = np.where(maps.live[:, None], Q, -1.0)
        X = np.where(maps.live[:, None], state["X_h"], 1.0)
        b = maps.restricted_blocks(beta, Q, state["V_h_e"], X)
        self.P = maps.qv_matrix  # (n_q, n_live), nonnegative
        self.VQ, self.EQ = b["VQ"].tocsr(), b["EQ"].tocsr()
        self.Rm = (b["VU"] @ b["UX"] @ b["XE"]).tocsr()  # (n_live, n_e)
        self.aVQ, self.aEQ = abs(self.VQ), abs(self.EQ)
        self.aRm = (abs(b["VU"]) @ abs(b["UX"]) @ abs(b["XE"])).tocsr()
        self.solver = state["lu"]
        self.n_q, self.n_live = self.P.shape
        self.n_solves = 0

    def _solve(self, rhs):
        self.n_solves += 1
        return self.solver.solve(rhs)

    def w(self, y):
        """``W y`` (``y`` of length n_q)."""
        out = self.VQ @ y
        if self.Rm.shape[1]:
            out = out + self.Rm @ self._solve(self.EQ @ y)
        return out

    def wp(self, u):
        """``W P u`` (length n_live): the operator whose spectrum is the non-zero spectrum of J_R."""
        return self.w(self.P @ u)

    def jr(self, v):
        """``J_R v``."""
        return self.P @ self.w(v)

    def bound_w(self, y):
        """``(|VQ| + |R_m| M^{-1} |EQ|) y`` for ``y >= 0`` (a nonnegative majorant of ``|W| y``)."""
        out = self.aVQ @ y
        if self.aRm.shape[1]:
            out = out + self.aRm @ np.maximum(self._solve(self.aEQ @ y), 0.0)
        return out

    def bound_small(self, u):
        return self.bound_w(self.P @ u)

    def operator(self, kind: str = "wp"):
        n = self.n_live
        fn = {"wp": self.wp, "bound": self.bound_small}[kind]

        def mv(u):
            u = np.asarray(u).ravel()
            if np.iscomplexobj(u):
                return fn(u.real) + 1j * fn(u.imag)
            return fn(u)

        return spla.LinearOperator((n, n), matvec=mv, dtype=float)

    def norm_bounds(self):
        """``(sup_norm_bound, log_norm_bound)``: max row sums of ``B`` and of ``D^{-1} B D`` (``D = |q*|``)."""
        ones = np.ones(self.n_q)
        aq = np.abs(self.q_star)
        sup = float(np.max(self.P @ self.bound_w(ones))) if self.n_q else 0.0
        log = float(np.max((self.P @ self.bound_w(aq)) / aq)) if self.n_q and np.all(aq > 0) else math.nan
        return sup, log

    def branch_derivative(self, r, tol: float = 1e-12, y0=None):
        """``(I - J_R)^{-1} r`` via ``x = r + P y``, ``(I - W P) y = W r`` (GMRES on the n_live operator, relative
        residual ``tol``, started from ``y0`` when given, e.g. the previous beta's ``self.last_y``)."""
        n = self.n_live
        A = spla.LinearOperator((n, n), matvec=lambda u: u - self.wp(np.asarray(u).ravel()), dtype=float)
        rhs = self.w(r)
        if not np.any(rhs):
            return r.copy()
        x0 = np.asarray(y0, dtype=float) if y0 is not None and np.shape(y0) == (n,) and np.all(np.isfinite(y0)) \
            else None
        y, info = spla.gmres(A, rhs, x0=x0, rtol=tol, atol=0.0, restart=min(n, 80), maxiter=20)
        if info != 0:
            return np.full(r.size, np.nan)
        self.last_y = y
        return r + self.P @ y


def arpack_spectrum(op, n_full: int, k: int, tol: float, rng, notes: list, v0=None):
    """Ritz values of ``op`` (``n x n``) for ``which = "LM"`` and ``"LR"`` and the dominant Ritz pair.

    Returns ``(lam, dom, vec, max_re)``: the union of Ritz values (deduplicated), the dominant eigenvalue and its
    vector, and the largest real part (including the ``n_full - n`` zero eigenvalues of ``J_R``).

    ``v0`` (optional, length n): added to a random unit vector as ARPACK's start for ``"LM"`` (e.g. the previous
    beta's dominant vector; default the random vector alone from ``rng``).  When the dominant Ritz value is real and
    positive it is also the eigenvalue of largest real part (``Re lambda <= |lambda| <= rho`` for every
    eigenvalue), which the ``"LR"`` run would return again; that run is then skipped (a note says so).
    """
    n = op.shape[0]
    k = max(1, min(int(k), n - 2))
    ncv = min(n, max(2 * k + 1, 20))
    got = {}
    def with_random_part(v):
        # a warm start keeps a random component of the same norm: started from the previous beta's dominant
        # vector alone, ARPACK (k = 1) returned a subdominant eigenvalue on the 9,900-state room at beta_r = 1000
        # (0.9007; from a random start 0.9448, confirmed with k = 6 and by the LU and GMRES evaluators)
        r = rng.standard_normal(n)
        r /= np.linalg.norm(r)
        if v is None or np.shape(v) != (n,) or not np.all(np.isfinite(v)) or not np.any(v):
            return r
        v = np.asarray(v, dtype=float)
        return v / np.linalg.norm(v) + r

    v0 = with_random_part(v0)
    for which in ("LM", "LR"):
        if which == "LR" and got["LM"][0].size == k == 1:
            lm = got["LM"][0][0]
            if lm.imag == 0.0 and lm.real > 0.0:
                got["LR"] = got["LM"]
                notes.append("ARPACK which='LR' skipped: the dominant eigenvalue is real and positive, hence also "
                             "the eigenvalue of largest real part")
                continue
        try:
            vals, vecs = spla.eigs(op, k=k, which=which, tol=tol, ncv=ncv, v0=v0, maxiter=max(1000, 10 * n))
            if which == "LM" and vals.size:  # start LR from the dominant vector: often the same eigenvalue
                v0 = with_random_part(np.real(vecs[:, 0]))
        except spla.ArpackNoConvergence as exc:
            vals, vecs = exc.eigenvalues, exc.eigenvectors
            notes.append(f"ARPACK (which={which!r}) did not converge; {vals.size} Ritz values kept")
        got[which] = (np.asarray(vals, dtype=complex), vecs)
    lam_lm, vec_lm = got["LM"]
    lam = np.concatenate([got["LM"][0], got["LR"][0]])
    keep = []
    for z in lam:
        if not any(abs(z - y) <= 1e-9 * max(1.0, abs(z)) for y in keep):
            keep.append(z)
    if n_full > n:
        keep.append(0j)
    lam = np.array(keep, dtype=complex)
    dom = vec = None
    if lam_lm.size:
        j = dominant_index(lam_lm)
        dom, vec = complex(lam_lm[j]), vec_lm[:, j]
        if dom.imag < 0:
            dom, vec = dom.conjugate(), vec.conjugate()
    max_re = float(np.max(lam.real)) if lam.size else -math.inf
    return lam, dom, vec, max_re


def perron_upper_bound(op_apply, n: int, v0=None, tol: float = 1e-6, rng=None):
    """Certified upper bound on the Perron root of a nonnegative operator (``op_apply(x) >= 0`` for ``x >= 0``).

    ARPACK (``k=1``, ``which="LM"``) gives an approximate Perron vector ``x``; ``x`` is made strictly positive
    (``|x| + 1e-12 max|x|``) and ``hi = max_i (A x)_i / x_i`` is returned with ``lo = min_i (A x)_i / x_i``
    (Collatz-Wielandt: ``lo <= rho <= hi``) and ``x``.  Up to 4 power steps tighten the gap.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    start = np.abs(np.asarray(v0, dtype=float)) if v0 is not None and np.shape(v0) == (n,) else None
    if start is not None and not (np.all(np.isfinite(start)) and start.max() > 0):
        start = None
    if start is None:
        start = np.ones(n) + 0.01 * rng.random(n)
    x = start
    if n > 3:
        op = spla.LinearOperator((n, n), matvec=lambda v: op_apply(np.asarray(v).ravel()), dtype=float)
        try:
            _, vecs = spla.eigs(op, k=1, which="LM", ncv=min(n - 1, 20), tol=tol, v0=start)
            x = np.abs(vecs[:, 0].real) + np.abs(vecs[:, 0].imag)
        except (spla.ArpackNoConvergence, spla.ArpackError):
            x = start
    best = (math.inf, 0.0, x)
    for _ in range(5):
        m = float(np.max(x))
        if not (m > 0 and math.isfinite(m)):
            break
        x = x / m + 1e-12
        y = op_apply(x)
        r = y / x
        lo, hi = float(np.min(r)), float(np.max(r))
        if hi < best[0]:
            best = (hi, lo, x)
        if hi - lo <= 1e-9 * hi:
            break
        x = y
    return best


