"""The analyzer's prediction for a scheme at one (world, beta_r): computed once per group.

Linearisation (CONTRACTION_THEORY §4.3, §7).  Expected-mode synchronous SA with the design note's
tables (V_h^e, X_h, U_r and Q_r learned, V_r computed from them: ``sa.experiments.BASE_CONFIG``) is,
near the exact solution z*, the per-block damped Jacobi iteration ``z <- z + D (F_J(z) - z)`` on
``z = (Q_r, V_h^e, X_h, U_r)`` with ``D = a`` on the evaluator (V_h^e, X_h, U_r) and ``kappa a`` on
Q_r.  With ``J`` the Jacobian of the Jacobi map at z* (:meth:`EmpoMaps.jacobian`, ``include_v_r=False``):

* plain scheme: ``rho_pred = rho(I + D (J - I))``;
* k:1 update frequency (Q_r updated every k-th step): ``rho_pred = rho(A_full A_eval^(k-1))^(1/k)``,
  ``A_full = I + D (J - I)``, ``A_eval = I + D_eval (J - I)`` (``D_eval`` zero on Q_r);
* Q_r target copied every m steps: over one copy period ``z_m = (A^m + sum_{i<m} A^i B) z_0`` with
  ``A = I + D (J P_other - I)`` and ``B = D J P_Q`` (``P_Q`` keeps the Q_r coordinates, which enter
  every target through the frozen copy); ``rho_pred = rho(...)^(1/m)``;
* staged warm-up and the beta_r ramp change the start, not the map at the end: the same rho_pred.

The expected-mode prediction is ``rho_pred < 1``.  The sampled mode (decaying a_n, b_n with
b_n / a_n -> 0) follows the two-timescale ODE limit: the fast (evaluator) block is stable (its
spectrum is that of the V_h^e block, bounded by its inf-norm) and the slow ODE ``q' = R(q) - q``
is stable, ``max Re lambda(J_R) < 1`` with ``J_R`` the Jacobian of the reduced map.
Fixed-point multiplicity: a multistart Newton search of the reduced map where ``n_q <= max_nq``;
otherwise "not searched".
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..contraction import EmpoMaps, find_fixed_points

DENSE_MAX = 700
"""Above this dimension spectral radii come from ARPACK on matrix-vector products."""
ARPACK_TOL = 1e-9


def _radius(matvec, n: int) -> float:
    """Spectral radius of the linear map ``matvec`` on R^n (dense eigvals up to DENSE_MAX, else ARPACK)."""
    if n == 0:
        return 0.0
    if n <= DENSE_MAX:
        M = np.column_stack([matvec(e) for e in np.eye(n)])
        return float(np.max(np.abs(np.linalg.eigvals(M))))
    op = spla.LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    try:
        # k = 4 and a wide Krylov space: with k = 1 ARPACK misses a dominant complex-conjugate pair of a real
        # nonsymmetric matrix (seen: two_trapped, beta_r = 300: 0.9215 instead of 1.0216); a fixed start
        # vector gives the same bits on every worker
        vals = spla.eigs(op, k=min(4, n - 2), which="LM", tol=ARPACK_TOL, ncv=min(n - 1, 40), maxiter=20 * n,
                         v0=np.full(n, n ** -0.5), return_eigenvectors=False)
    except spla.ArpackNoConvergence as exc:  # pragma: no cover - fall back to the dense spectrum
        if len(exc.eigenvalues):
            return float(np.max(np.abs(exc.eigenvalues)))
        M = np.column_stack([matvec(e) for e in np.eye(n)])
        return float(np.max(np.abs(np.linalg.eigvals(M))))
    return float(np.max(np.abs(vals)))


def scheme_rate(J, fast_mask, a: float, kappa: float, k: int = 1, q_target: int = 1) -> float:
    """Linearised rate per SA step of a scheme (see the module docstring)."""
    J = sp.csr_matrix(J)
    fast = np.asarray(fast_mask, dtype=bool)
    d = np.where(fast, a, kappa * a)
    d_eval = np.where(fast, a, 0.0)
    slow = ~fast
    n = J.shape[0]

    def step(v, dd):  # (I + diag(dd)(J - I)) v
        return v + dd * (J @ v - v)

    if q_target > 1:
        m = int(q_target)

        def mv(v):
            w = d * (J @ np.where(slow, v, 0.0))
            acc = v.copy()
            for _ in range(m):
                acc = acc + d * (J @ np.where(slow, 0.0, acc) - acc) + w
            return acc

        return _radius(mv, n) ** (1.0 / m)
    if k > 1:
        def mv(v):
            for _ in range(k - 1):
                v = step(v, d_eval)
            return step(v, d)

        return _radius(mv, n) ** (1.0 / k)
    return _radius(lambda v: step(v, d), n)


def ode_indicators(maps: EmpoMaps, J, q_star, beta: float) -> dict:
    """``ode_max_re`` = max Re lambda(J_R) (reduced map) and ``fast_bound`` = ||J_EE||_inf."""
    JR = np.asarray(maps.jacobian("reduced", q_star, beta))
    n = JR.shape[0]
    if n <= DENSE_MAX:
        lam = np.linalg.eigvals(JR)
        max_re = float(lam.real.max()) if lam.size else -math.inf
    else:
        k = min(6, n - 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                lam = spla.eigs(JR, k=k, which="LR", tol=ARPACK_TOL, ncv=min(n - 1, 40), maxiter=20 * n,
                                v0=np.full(n, n ** -0.5),
                                return_eigenvectors=False)
                max_re = float(lam.real.max())
            except spla.ArpackNoConvergence:  # pragma: no cover
                max_re = float(np.linalg.eigvals(JR).real.max())
    e = maps.blocks["V_h_e"]
    EE = sp.csr_matrix(J)[e][:, e]
    fast_bound = float(abs(EE).sum(axis=1).max()) if EE.shape[0] else 0.0
    return {"ode_max_re": max_re, "fast_bound": fast_bound}


def fixed_point_count(maps: EmpoMaps, q_star, beta: float, starts: int, max_nq: int, seed: int):
    """Distinct fixed points of the reduced map in a box around q*, q* included (None: not searched)."""
    if starts <= 0 or maps.n_q > max_nq:
        return None
    lo = 3.0 * float(np.min(q_star))
    hi = float(np.max(q_star)) / 3.0
    R = maps.map_function("reduced", beta)

    def F(q):
        if not np.all(q < 0):
            return np.full(q.size, np.nan)
        return R(q)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fps = find_fixed_points(F, lo, hi, int(starts), seed, log_uniform=True, dim=q_star.size)
    pts = np.asarray(fps.points if hasattr(fps, "points") else fps, dtype=float).reshape(-1, q_star.size)
    # the exact solution is a fixed point: count it even when no start converged to it
    near = [np.max(np.abs(p - q_star) / np.abs(q_star)) <= 1e-6 for p in pts]
    return int(pts.shape[0] + (0 if any(near) else 1))


def group_prediction(world, prior, params, exact, schemes, fixed_points: dict, seed: int) -> dict:
    """Everything the group's cells share: ``rates`` (linear key -> rho_pred), ODE indicators,
    fixed-point count, sizes, seconds."""
    import time

    t0 = time.perf_counter()
    beta = float(params.beta_r)
    em = EmpoMaps(world, prior, params, include_v_r=False)
    z = em.fixed_point("jacobi", exact)
    J = em.jacobian("jacobi", z, beta)
    mask = em.fast_mask()
    rates = {}
    for s in schemes:
        if s.linear_key not in rates:
            rates[s.linear_key] = scheme_rate(J, mask, s.a, s.kappa, s.k, s.q_target)
    q_star = em.pack_q(exact.Q_r)
    ode = ode_indicators(em, J, q_star, beta)
    nfp = fixed_point_count(em, q_star, beta, fixed_points.get("starts", 0), fixed_points.get("max_nq", 0), seed)
    return {"rates": rates, **ode, "n_fixed_points": nfp, "n_q": int(em.n_q), "n_joint": int(em.n_joint),
            "seconds": time.perf_counter() - t0}
