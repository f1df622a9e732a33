"""Which branch a fixed point lies on: the sign of ``det(I - J)``, the classical fold test function.

Along the branch of Phase 2 fixed points continued from ``beta_r = 0``, ``det(I - J)`` (``J`` the Jacobian of
the Jacobi map on ``(Q_r, V_h^e, V_r)``) is positive: at ``beta_r = 0`` the map is block triangular with
diagonal blocks of spectral radius at most ``gamma_h`` and ``gamma_r`` (the policy is uniform, so V_h^e does
not depend on V_r), so no real eigenvalue of ``J`` exceeds 1, and the sign can only change where a real
eigenvalue crosses 1, i.e. at a fold.  The middle sheet of a fold pair has the opposite sign.  A corrector
that lands there -- close to the branch when the fold is near, so that a distance test cannot tell them
apart -- is caught by the sign.  The same holds for the Gauss-Seidel sweep map on ``(V_h^e, V_r)``:
``I - J_GS = (I - L)^-1 (I - J)`` with ``L`` strictly triangular, so the determinants agree.

Two ways to read the sign: :func:`det_sign` from a sparse LU factorisation (``scipy.sparse.linalg.splu``;
Newton continuation, up to :data:`SIGN_MAX_UNKNOWNS` unknowns, where it factorises anyway), and
:func:`rightmost_eigenvalue` of a matrix-free map Jacobian by ARPACK (the sweep solvers: if no eigenvalue
has real part above 1, no real eigenvalue exceeds 1 and ``det(I - J) > 0``).  Newton continuation on worlds
whose LU fills in catastrophically combines them (:func:`screened_det_sign`: ARPACK on the sparse ``J``, the LU
only when that is inconclusive).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

#: Largest Newton system whose determinant sign is computed (one sparse LU per check).
SIGN_MAX_UNKNOWNS = 5_000
#: :func:`rightmost_at_fixed_point`: ARPACK's relative tolerance for the screen, and the band around 1 in which
#: the screen is repeated with a tight tolerance (measured on the six stationary scenarios, Phase 2: the screen
#: takes 13-23 map evaluations, 13-44 at tolerance 1e-3; the eigenvalues found were 0.85-0.88)
SCREEN_TOL = 1e-2
SCREEN_BAND = 5e-2
#: an eigenvalue with real part at least ``1 - ON_BRANCH_MARGIN`` fails the test
ON_BRANCH_MARGIN = 1e-6


def permutation_sign(perm) -> int:
    """``+1`` for an even permutation, ``-1`` for an odd one (from its number of cycles)."""
    n = len(perm)
    if n == 0:
        return 1
    g = sp.csr_matrix((np.ones(n), (np.arange(n), np.asarray(perm))), shape=(n, n))
    n_cycles, _ = csgraph.connected_components(g, directed=True, connection="weak")
    return -1 if (n - n_cycles) % 2 else 1


def det_sign(A) -> int:
    """Sign of ``det(A)`` for a sparse square matrix: +1, -1, or 0 when the LU finds it singular."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spla.MatrixRankWarning)
        try:
            lu = spla.splu(sp.csc_matrix(A))
        except RuntimeError:  # exactly singular
            return 0
    d = lu.U.diagonal()
    if np.any(d == 0.0) or not np.all(np.isfinite(d)):
        return 0
    neg = int(np.count_nonzero(d < 0.0))
    return (-1 if neg % 2 else 1) * permutation_sign(lu.perm_r) * permutation_sign(lu.perm_c)


def branch_index(system, z, beta, screen=False):
    """``det(I - J)`` sign at ``z`` (Newton coordinates of :class:`~.system.NewtonSystem`), or None if too large.

    ``screen``: by :func:`screened_det_sign` (ARPACK first, the LU only near a fold) instead of a LU.
    """
    if system.n > SIGN_MAX_UNKNOWNS:
        return None
    M = system.newton_matrix(z, beta)
    return screened_det_sign(M) if screen else det_sign(M)


def screened_det_sign(A, *, lu_max=SIGN_MAX_UNKNOWNS):
    """Sign of ``det(A)`` for ``A = I - J`` without a LU where ARPACK shows it: +1, -1, 0 or None.

    +1 when the rightmost eigenvalue of ``J = I - A`` (ARPACK on the sparse matrix, screened as in
    :func:`rightmost_at_fixed_point`) has real part below ``1 - ON_BRANCH_MARGIN``: then no real eigenvalue of
    ``J`` reaches 1 and ``det(I - J) > 0``.  Otherwise (an eigenvalue near or beyond 1, or ARPACK failed) the
    exact sign by :func:`det_sign` up to ``lu_max`` unknowns, None above.  For matrices whose LU fills in
    catastrophically (random graphs: one LU of 5,000 unknowns took 0.35 s where the whole Phase 1 Newton
    continuation on Krylov solves takes 0.12 s), this replaces one LU per continuation step by about 20
    sparse products, except near a fold.
    """
    n = A.shape[0]
    J = (sp.identity(n, format="csr") - sp.csr_matrix(A)).tocsr()
    lam = None
    if n <= 50:
        lam = np.linalg.eigvals(J.toarray())
        lam = complex(lam[np.argmax(lam.real)]) if n else None
    else:
        for tol, ncv, maxiter in ((SCREEN_TOL, 12, 200), (1e-9, 20, 1000)):
            try:
                vals = spla.eigs(J, k=1, which="LR", tol=tol, maxiter=maxiter, ncv=min(n - 1, ncv),
                                 return_eigenvectors=False, v0=np.ones(n))
                lam = complex(vals[0])
            except spla.ArpackNoConvergence:
                lam = None
            if lam is None or abs(lam.real - 1.0) >= SCREEN_BAND:
                break
    if n == 0 or passes_branch_test(lam):
        return 1
    return det_sign(A) if n <= lu_max else None


def rightmost_eigenvalue(gmap, x, gx, *, eps=1e-7, tol=1e-6, maxiter=200, ncv=20, v0=None):
    """The eigenvalue of largest real part of the Jacobian of ``gmap`` at its fixed point ``x`` (ARPACK).

    Jacobian-vector products by forward differences ``(gmap(x + h v) - gx) / h`` with ``h = eps * max(1, |x|)``
    (one map evaluation each); up to 50 unknowns the Jacobian is formed densely from ``n`` of them.
    ``v0``: ARPACK's start vector (default all ones; a secant of the branch is a good one, being dominated by
    the eigenvectors whose eigenvalues are near 1).  Returns a complex number, or None when ARPACK does not
    converge.
    """
    n = x.shape[0]
    h = eps * max(1.0, float(np.max(np.abs(x))))

    def matvec(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        nv = float(np.max(np.abs(v)))
        if nv == 0.0:
            return np.zeros(n)
        return (gmap(x + (h / nv) * v) - gx) * (nv / h)

    if n <= 50:  # dense by n map evaluations (ARPACK needs ncv < n)
        J = np.column_stack([matvec(e) for e in np.eye(n)])
        lam = np.linalg.eigvals(J)
        return complex(lam[np.argmax(lam.real)])
    op = spla.LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    try:
        lam = spla.eigs(op, k=1, which="LR", tol=tol, maxiter=maxiter, ncv=min(n, ncv), return_eigenvectors=False,
                        v0=np.ones(n) if v0 is None or not np.any(v0) else v0)
    except spla.ArpackNoConvergence:
        return None
    return complex(lam[0])


def rightmost_at_fixed_point(gmap, x, secant=None):
    """The rightmost eigenvalue of ``gmap``'s Jacobian at its fixed point ``x``, or None (ARPACK failed).

    A cheap screen (tolerance :data:`SCREEN_TOL`), repeated with tolerance 1e-9 when the screen's answer lies
    within :data:`SCREEN_BAND` of 1.  ``secant``: a secant of the branch at ``x`` (the difference of the last two
    continuation points) as ARPACK's start vector.  The solvers call :func:`passes_branch_test` on the result:
    if no eigenvalue has real part of 1 or more, no real eigenvalue exceeds 1 and ``det(I - J) > 0``, the sign
    on the branch from beta = 0.
    """
    gx = gmap(x)
    v0 = None if secant is None or not np.all(np.isfinite(secant)) else secant
    lam = rightmost_eigenvalue(gmap, x, gx, tol=SCREEN_TOL, ncv=12, v0=v0)
    if lam is not None and abs(lam.real - 1.0) < SCREEN_BAND:
        lam = rightmost_eigenvalue(gmap, x, gx, tol=1e-9, ncv=20, maxiter=1000)
    return lam


#: :attr:`~.system.Phase2Solution.branch_check` texts, one per way the solvers tie a point to the branch
DISTANCE_CHECK = "every continuation step ended near its secant predictor"
SIGN_CHECK = DISTANCE_CHECK + " and kept det(I - J) > 0 (sparse LU)"
SCREENED_SIGN_CHECK = (DISTANCE_CHECK + " and kept det(I - J) > 0 (ARPACK's rightmost eigenvalue of J below 1, "
                       "or a sparse LU near 1)")
POINT_SIGN_CHECK = DISTANCE_CHECK + "; at the returned point det(I - J) > 0 (sparse LU)"
DISTANCE_ONLY_CHECK = (DISTANCE_CHECK + f" (distance test only: det(I - J) is not computed above {SIGN_MAX_UNKNOWNS:,} "
                       "unknowns)")


def returned_point_check(newton_matrix) -> str:
    """The branch check of a Newton continuation too large for a sign per step (``> SIGN_MAX_UNKNOWNS``): the
    distance test, and ARPACK's screen of ``det(I - J)`` at the returned point only (``newton_matrix = I - J``
    there; about 2 s at 500,000 unknowns, one step's worth, where per step it would triple the solve)."""
    if screened_det_sign(newton_matrix, lu_max=0) == 1:
        return (DISTANCE_CHECK + f" (no sign per step above {SIGN_MAX_UNKNOWNS:,} unknowns); at the returned point "
                "ARPACK's rightmost eigenvalue of J has real part below 1, so det(I - J) > 0")
    return (DISTANCE_CHECK + f" (distance test only: no sign per step above {SIGN_MAX_UNKNOWNS:,} unknowns, and at "
            "the returned point ARPACK's rightmost eigenvalue of J was not below 1, so the sign is unknown)")


def newton_branch_check(out, signed, krylov_first, matrix_at_point) -> str:
    """``branch_check`` of a Newton continuation's outcome ``out`` (Phase 1 and Phase 2): the sign of
    ``det(I - J)`` at every step where it was ``signed`` (by LU, or screened by ARPACK where the linear solver went
    ``krylov_first``), else :func:`returned_point_check` on ``matrix_at_point()`` (``I - J`` at the returned point;
    called only then).  "" when the continuation did not converge."""
    if not out.converged:
        return ""
    if signed:
        return up_to_infinity(SCREENED_SIGN_CHECK if krylov_first else SIGN_CHECK, out.beta)
    if math.isfinite(out.beta):
        return returned_point_check(matrix_at_point())
    return up_to_infinity(DISTANCE_ONLY_CHECK, out.beta)


def up_to_infinity(check, beta) -> str:
    """``check`` for a continuation that ended at ``beta`` (``inf``: its last step, from the last finite point to
    beta = inf, has no predictor and is not checked)."""
    return check if math.isfinite(beta) else check + "; the last step, to beta = inf, is not checked"


def eigenvalue_check(lam, what) -> str:
    """The branch check of a sweep solution that passed :func:`passes_branch_test` with the eigenvalue ``lam``."""
    value = f"{lam.real:.4g}" if lam.imag == 0.0 else f"{lam.real:.4g} {'+-'[lam.imag < 0]} {abs(lam.imag):.3g}i"
    return (DISTANCE_CHECK + f"; at the returned point the rightmost eigenvalue of the {what} Jacobian is {value} "
            "(ARPACK), so det(I - J) > 0")


def passes_branch_test(lam) -> bool:
    """True when the rightmost eigenvalue ``lam`` (from :func:`rightmost_at_fixed_point`) has real part below 1."""
    return lam is not None and lam.real < 1.0 - ON_BRANCH_MARGIN


def branch_test_message(lam, what) -> str:
    """Why :func:`passes_branch_test` failed, for the result's message."""
    return ("branch test failed: " + ("ARPACK did not converge" if lam is None else
            f"the {what} Jacobian has the eigenvalue {lam:.6g} (real part >= 1)"))
