"""The sparse linear solves of the Newton steps: LU where it is cheap, Krylov methods with bounded cost elsewhere.

Every Krylov solve works on the system with its right-hand side scaled to unit sup norm.  SciPy's BiCGSTAB
declares a breakdown when ``|r0 . r|`` falls below ``eps**2``, an *absolute* threshold: near Newton's
convergence the right-hand side (the nonlinear residual) is about 1e-12, ``r0 . r`` is of order 1e-24 to
start with and falls below ``eps**2 = 4.9e-32`` long before the solve is accurate.  Measured on the Phase 1
Newton system of the 10^5-state random stationary family at seed 7 (200,000 unknowns, right-hand side
1.4e-12): unscaled, BiCGSTAB broke down after 11 iterations at relative residual 6.1e-8 (above the 1e-8
acceptance), and the fallback of the time, an incomplete LU (``spilu``, fill factor 10), ran for minutes
without finishing; scaled, BiCGSTAB reached 2.6e-14 in 21 iterations (0.6 s).  The fallbacks are now of
bounded cost too: restarted GMRES preconditioned by symmetric Gauss-Seidel sweeps (``O(nnz)`` per
iteration), then a full LU only where it is allowed (at most ``direct_below`` unknowns).
"""
from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._kernels import sparse as _ks

#: Newton continuations (both phases) put a sparse LU first only up to this many unknowns, Krylov first above,
#: with the LU as the fallback up to ``direct_below``: their Newton systems suit BiCGSTAB, and Newton corrects
#: an inexact step.  Measured on the random stationary family (CPU s of the whole Newton continuation): Phase 1,
#: 5,000 unknowns LU-first 0.43-0.52 (2.1-2.3 with a LU for the det(I - J) sign per step), 5,200 Krylov-first
#: 0.11-0.15; Phase 2 on the six scenarios, LU-first -> Krylov-first above 1,000: shared_switch 0.71 -> 0.45,
#: open_room 0.39 -> 0.19, bottleneck 0.35 -> 0.18, the rest unchanged (minimum of 3), answers unchanged.
NEWTON_LU_FIRST_BELOW = 1000


class LinearSolver:
    """Sparse solves for the Newton steps of one continuation; no LU above ``direct_below`` unknowns.

    * At most ``lu_first_below`` unknowns (default: ``direct_below``): sparse LU (``splu``) first.  If its
      factors hold more than ``max_fill`` times the matrix's nonzeros (random graphs), the continuation goes
      Krylov-first from then on.  Between ``lu_first_below`` and ``direct_below``: Krylov first, decided
      before anything is factorised, with the LU as the fallback, whose cost is bounded at that size
      (measured: about 2 s for a 5,000-unknown random-graph Phase 2 Newton matrix with fill 111; 0.35 s for
      the Phase 1 matrix of 5,000 unknowns, where the 22 BiCGSTAB solves of its whole continuation take 0.07 s).
    * Above: Krylov only, decided from the size before anything is factorised, every step of bounded cost
      (``O(nnz)`` per iteration, at most ``krylov_maxiter`` iterations per method): row-scaled BiCGSTAB
      (each row divided by its largest entry, which evens out the scales of the Q_r, V_h^e and V_r blocks)
      on the right-hand side scaled to unit norm (see the module docstring); if it breaks down or stagnates,
      GMRES(``gmres_restart``) from BiCGSTAB's best point, preconditioned by ``sgs_sweeps`` symmetric
      Gauss-Seidel sweeps.  No incomplete LU: SuperLU's ``spilu`` has no cost bound on random graphs
      (measured: minutes on a 200,000-unknown Phase 1 system where GMRES takes 0.3 s).
      An unsolvable system raises ``RuntimeError`` (Newton then reports a failed step).

    A Krylov answer is accepted when its true relative residual ``max |A x - b| / max |b|`` is at most
    ``accept``: Newton steps may be inexact (the nonlinear residual is checked after every step).  Where no
    LU is allowed, a Krylov answer with relative residual up to ``loose_accept`` is accepted as an inexact
    Newton step.  ``last_method`` records the method of the last solve, ``last_report`` what was tried in
    it (method, iterations, relative residual, SciPy's info code: negative is a breakdown) and ``counts``
    the solves per method over the solver's life.
    """

    def __init__(self, *, rtol=1e-12, accept=1e-8, direct_below=5000, lu_first_below=None, krylov_maxiter=1000,
                 max_fill=20.0, loose_accept=1e-3, gmres_restart=50, sgs_sweeps=2):
        self.rtol, self.accept = rtol, accept
        self.direct_below, self.krylov_maxiter = direct_below, krylov_maxiter
        self.lu_first_below = direct_below if lu_first_below is None else min(lu_first_below, direct_below)
        self.max_fill = max_fill
        self.loose_accept = loose_accept
        self.gmres_restart, self.sgs_sweeps = gmres_restart, sgs_sweeps
        self.lu_ok = None  # decided at the first solve, from the size
        self.krylov_first = False
        self.last_method = ""
        self.last_report = []
        self.counts = Counter()

    def _decide(self, A):
        self.lu_ok = A.shape[0] <= self.direct_below
        self.krylov_first = A.shape[0] > self.lu_first_below

    def _done(self, how, x):
        self.last_method = how
        self.counts[how] += 1
        return x

    def solve(self, A, b, fallback=True):
        """Solve ``A x = b``; with ``fallback=False`` return None instead of falling back to LU."""
        n = A.shape[0]
        bnorm = float(np.max(np.abs(b))) if n else 0.0
        self.last_report = []
        if bnorm == 0.0:
            return self._done("trivial", np.zeros(n))
        A = A.tocsr()
        if self.lu_ok is None:
            self._decide(A)
        if self.krylov_first:
            x, rel, how = self.krylov(A, b / bnorm)
            if rel <= self.accept:
                return self._done(how, x * bnorm)
            if not fallback:
                return None
            if not self.lu_ok:
                if rel <= self.loose_accept:
                    return self._done(how + "_inexact", x * bnorm)
                tried = "; ".join(f"{m} {its} iterations, relative residual {r:.3g}, info {i}"
                                  for m, its, r, i in self.last_report)
                raise RuntimeError(f"no Krylov solver reached relative residual {self.loose_accept:g} ({tried}); "
                                   f"no LU above {self.direct_below} unknowns")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", spla.MatrixRankWarning)
            lu = spla.splu(A.tocsc())
            x = lu.solve(b)
        if not self.krylov_first and lu.L.nnz + lu.U.nnz > self.max_fill * max(A.nnz, 1):
            self.krylov_first = True  # catastrophic fill-in (random graphs): Krylov first from now on
        if not np.all(np.isfinite(x)):
            raise RuntimeError("sparse LU produced a non-finite solution (singular matrix)")
        return self._done("splu", x)

    def krylov(self, A, b):
        """``(x, relative residual, method)``: BiCGSTAB, then SGS-preconditioned GMRES from the better point.

        ``b`` should have unit sup norm (as :meth:`solve` passes it).  Appends ``(method, iterations,
        relative residual, info)`` per method tried to ``last_report``.
        """
        bnorm = float(np.max(np.abs(b)))
        rowmax = abs(A).max(axis=1).toarray().ravel()
        scale = 1.0 / np.maximum(rowmax, 1e-300)
        As = (sp.diags(scale) @ A).tocsr()
        bs = scale * b

        def rel_of(x):
            return float(np.max(np.abs(A @ x - b))) / bnorm if np.all(np.isfinite(x)) else math.inf

        its = [0]

        def count(*_):
            its[0] += 1

        with np.errstate(all="ignore"):
            x, info = spla.bicgstab(As, bs, rtol=self.rtol, atol=0.0, maxiter=self.krylov_maxiter, callback=count)
        rel = rel_of(x)
        self.last_report.append(("bicgstab", its[0], rel, int(info)))
        if rel <= self.accept:
            return x, rel, "bicgstab"
        best, best_rel, how = (x, rel, "bicgstab") if rel < 1.0 else (np.zeros_like(b), 1.0, "none")
        x2, rel2, how2 = self._sgs_gmres(As, bs, best, rel_of)
        if rel2 < best_rel:
            best, best_rel, how = x2, rel2, how2
        return best, best_rel, how

    def _sgs_gmres(self, As, bs, x0, rel_of):
        diag = As.diagonal()
        M = None
        if np.all(np.isfinite(diag)) and np.all(np.abs(diag) > 1e-8):  # rows are scaled to max |entry| = 1
            inv_diag = 1.0 / diag
            ip, ix, dat = As.indptr, As.indices, As.data
            sweeps = self.sgs_sweeps

            def apply(r):
                z = np.zeros(r.shape[0])
                _ks.csr_symmetric_gauss_seidel(ip, ix, dat, inv_diag, np.ascontiguousarray(r, dtype=np.float64),
                                               z, sweeps)
                return z

            M = spla.LinearOperator(As.shape, apply)
        its = [0]

        def count(*_):
            its[0] += 1

        restart = max(1, min(self.gmres_restart, As.shape[0]))
        with np.errstate(all="ignore"):
            x, info = spla.gmres(As, bs, x0=x0, M=M, rtol=self.rtol, atol=0.0, restart=restart,
                                 maxiter=max(1, self.krylov_maxiter // restart), callback=count,
                                 callback_type="pr_norm")
        rel = rel_of(x)
        how = "sgs_gmres" if M is not None else "gmres"
        self.last_report.append((how, its[0], rel, int(info)))
        return x, rel, how


def solve_linear(A, b, **options):
    """One-off sparse solve with :class:`LinearSolver`; returns ``(x, method)``."""
    solver = LinearSolver(**options)
    x = solver.solve(A, b)
    return x, solver.last_method
