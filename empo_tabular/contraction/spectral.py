"""Matrix-level indicators: spectra, damping limits, Perron weights, rate predictions.

Everything in this module takes a Jacobian *matrix* (dense, or SciPy sparse
where stated) and no map.  The map-level analyzer in :mod:`.generic` builds
the matrix and calls these functions.

Formulas (CONTRACTION_THEORY §3, §4.2, §4.3)
---------------------------------------------
With eigenvalues :math:`\\lambda_i` of :math:`J` and :math:`z_i = 1 - \\lambda_i`:

* damped (Krasnoselskii-Mann) map :math:`x \\leftarrow (1-\\alpha)x + \\alpha F(x)` has
  Jacobian :math:`(1-\\alpha)I + \\alpha J` with eigenvalues :math:`1 - \\alpha z_i`, so its
  linear rate is :math:`\\max_i |1 - \\alpha z_i|`;
* it converges locally iff :math:`\\alpha < \\alpha_{max} = \\min_i 2\\,\\mathrm{Re}\\,z_i/|z_i|^2`
  (which needs :math:`\\mathrm{Re}\\,\\lambda_i < 1` for all i; otherwise :math:`\\alpha_{max} = 0`);
* the best constant step :math:`\\alpha^* = \\arg\\min_{\\alpha \\ge 0} \\max_i |1-\\alpha z_i|`.
  Writing :math:`|1-\\alpha z_i|^2 = 1 + \\alpha(c_i + b_i\\alpha)` with :math:`c_i = -2\\,\\mathrm{Re}\\,z_i`,
  :math:`b_i = |z_i|^2`, the objective is :math:`1 + \\alpha\\,g(\\alpha)` with :math:`g` the upper
  envelope of the lines :math:`c_i + b_i\\alpha`; it is minimised exactly piece by piece.
  For a real spectrum in :math:`[\\lambda_{lo}, \\lambda_{hi}]`, :math:`\\lambda_{hi} < 1`, this gives
  :math:`\\alpha^* = 2/(2 - \\lambda_{lo} - \\lambda_{hi})`;
* per-block steps :math:`z \\leftarrow z + D(F(z) - z)` with :math:`D = \\mathrm{diag}(d)` have linear
  rate :math:`\\rho(I + D(J - I))`.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._kernels import contraction as _kc
from .._validation import as_array, as_real, check_finite

__all__ = [
    "alpha_best_from_eigenvalues",
    "alpha_max_from_eigenvalues",
    "damped_rate",
    "dominant_index",
    "perron",
    "predict_convergence_region",
]


def check_square(J, name: str = "J", n: int | None = None):
    """Return ``J`` as a float64 dense array or CSR matrix after checking it is square (and ``n x n``)."""
    if sp.issparse(J):
        J = sp.csr_matrix(J, dtype=np.float64)
        shape = J.shape
    else:
        J = as_array(J, name, kind="float")
        shape = J.shape
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix, got shape {shape}")
    if n is not None and shape[0] != n:
        raise ValueError(f"{name} must have shape ({n}, {n}) to match x_star, got {shape}")
    if sp.issparse(J):
        check_finite(J.data, f"{name} (stored entries)")
    else:
        check_finite(J, name)
    return J


def dominant_index(eigenvalues: np.ndarray) -> int:
    """Index of the dominant eigenvalue: largest modulus; ties (to 1e-12 relative) broken by the
    largest real part, then by the positive imaginary part (so a complex pair reports ``Im > 0``)."""
    lam = np.asarray(eigenvalues, dtype=complex)
    if lam.size == 0:
        raise ValueError("eigenvalues must not be empty")
    mod = np.abs(lam)
    top = mod.max()
    cand = np.flatnonzero(mod >= top * (1.0 - 1e-12) - 1e-300)
    key = sorted(cand, key=lambda i: (-round(lam[i].real, 12), -lam[i].imag))
    return int(key[0])


def alpha_max_from_eigenvalues(eigenvalues) -> float:
    """Damping limit :math:`\\alpha_{max} = \\min_i 2(1-\\mathrm{Re}\\,\\lambda_i)/|1-\\lambda_i|^2`.

    Returns 0 when some :math:`\\mathrm{Re}\\,\\lambda_i \\ge 1` (no damping helps) and ``inf`` for an
    empty spectrum.  Damped iteration with step :math:`\\alpha` converges locally iff
    :math:`0 < \\alpha < \\alpha_{max}`.
    """
    z = 1.0 - np.asarray(eigenvalues, dtype=complex).ravel()
    if z.size == 0:
        return math.inf
    a = z.real
    if np.any(a <= 0.0):
        return 0.0
    return float(np.min(2.0 * a / (np.abs(z) ** 2)))


def _upper_envelope(c: np.ndarray, b: np.ndarray):
    """Upper envelope of lines ``c_i + b_i t`` on the whole real line.

    Returns the lines (as index arrays) in increasing-slope order and the breakpoints
    between consecutive envelope lines.
    """
    order = np.lexsort((c, b))  # by slope, then intercept
    b_s, c_s = b[order], c[order]
    # keep, for equal slopes, only the largest intercept (the last one after sorting)
    keep = np.ones(b_s.size, dtype=bool)
    keep[:-1] = b_s[:-1] != b_s[1:]
    b_s, c_s = b_s[keep], c_s[keep]
    hull_b: list = []
    hull_c: list = []

    def cross(b1, c1, b2, c2):  # abscissa where line 2 overtakes line 1 (b2 > b1)
        return (c1 - c2) / (b2 - b1)

    for bi, ci in zip(b_s, c_s):
        while len(hull_b) >= 2 and (
            cross(hull_b[-2], hull_c[-2], bi, ci) <= cross(hull_b[-2], hull_c[-2], hull_b[-1], hull_c[-1])
        ):
            hull_b.pop()
            hull_c.pop()
        hull_b.append(bi)
        hull_c.append(ci)
    hb, hc = np.array(hull_b), np.array(hull_c)
    breaks = np.array([cross(hb[k], hc[k], hb[k + 1], hc[k + 1]) for k in range(hb.size - 1)])
    return hb, hc, breaks


def alpha_best_from_eigenvalues(eigenvalues) -> tuple[float, float]:
    """Best constant damping step and its rate.

    Solves :math:`\\min_{\\alpha \\ge 0} \\max_i |1 - \\alpha(1-\\lambda_i)|` exactly via the upper
    envelope described in the module docstring.

    Returns
    -------
    alpha_best : float
        The minimiser; 0 when some :math:`\\mathrm{Re}\\,\\lambda_i \\ge 1` (then no step beats the
        identity) and ``nan`` for an empty spectrum.
    rate : float
        :math:`\\max_i |1 - \\alpha^*(1-\\lambda_i)|`, the local linear rate at that step.
    """
    z = 1.0 - np.asarray(eigenvalues, dtype=complex).ravel()
    if z.size == 0:
        return math.nan, math.nan
    if np.any(z.real <= 0.0):
        return 0.0, 1.0
    c = -2.0 * z.real
    b = np.abs(z) ** 2
    hb, hc, breaks = _upper_envelope(c, b)
    lefts = np.concatenate(([-math.inf], breaks))
    rights = np.concatenate((breaks, [math.inf]))
    best_alpha, best_phi = 0.0, 0.0
    for k in range(hb.size):
        lo, hi = max(lefts[k], 0.0), rights[k]
        if hi < lo:
            continue
        vertex = -hc[k] / (2.0 * hb[k])  # minimiser of c t + b t^2
        t = min(max(vertex, lo), hi)
        phi = t * (hc[k] + hb[k] * t)
        if phi < best_phi:
            best_alpha, best_phi = float(t), float(phi)
    rate = float(np.max(np.abs(1.0 - best_alpha * z)))
    return best_alpha, rate


def perron(A, *, dense_limit: int = 500, v0=None, rtol: float = 1e-6):
    """Perron root and a Perron vector of a nonnegative matrix ``A`` (= ``|J|``).

    The Perron root equals :math:`\\rho(A)` and the best weighted max-norm constant
    :math:`\\inf_{w > 0} \\max_i (A w)_i / w_i` (Collatz-Wielandt).  The vector is returned
    nonnegative with maximum entry 1; for reducible ``A`` it may contain zeros.

    ``n <= dense_limit``: dense eigen-decomposition.  Above that, :func:`_perron_krylov`:
    ARPACK for the one eigenvalue of largest modulus (started from ``v0``, e.g. the Perron
    vector of a nearby matrix), certified by the Collatz-Wielandt bounds of its modulus vector
    (stopping rule: relative gap ``<= rtol``); when that fails, ARPACK for six eigenvalues
    (``tol=1e-12``) as before, falling back to the dense decomposition if ARPACK fails.
    ``A`` may be a float32 dense array (half the memory traffic); the certificate then holds
    for the stored matrix, whose Perron root is within a factor ``1 +- 2**-24`` of the exact one.
    """
    n = A.shape[0]
    lam = vec = None
    if n > dense_limit and n > 3:
        res = _perron_krylov(A, v0, rtol)
        if res is not None:
            return res
        try:
            vals, vecs = spla.eigs(_operator(A), k=min(6, n - 2), which="LM", tol=1e-12,
                                   v0=np.ones(n))  # a fixed start: ARPACK's own is random and process-global
            lam, vec = vals, vecs
        except spla.ArpackNoConvergence as exc:  # pragma: no cover - rare
            if exc.eigenvalues.size:
                lam, vec = exc.eigenvalues, exc.eigenvectors
        except spla.ArpackError:  # pragma: no cover - rare (e.g. nilpotent |J|)
            lam = None
    if lam is None:
        dense = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)
        lam, vec = np.linalg.eig(dense)
    root = float(np.max(np.abs(lam)))
    i = int(np.argmin(np.abs(lam - root)))
    v = np.abs(vec[:, i])
    m = v.max()
    w = v / m if m > 0 else np.ones(n)
    return root, w


def _operator(A):
    """``A`` as an ARPACK operator (float32 dense arrays: :func:`_matvec64`)."""
    if not sp.issparse(A) and A.dtype == np.float32:
        return spla.LinearOperator(A.shape, matvec=lambda v: _matvec64(A, np.asarray(v).ravel()), dtype=float)
    return A


def _matvec64(A, x):
    """``A @ x`` with float64 accumulation (float32 dense ``A``: Numba kernel :func:`~empo_tabular._kernels.contraction.matvec_f32`)."""
    if sp.issparse(A) or A.dtype != np.float32:
        return np.asarray(A @ x).ravel()
    out = np.empty(A.shape[0])
    if np.iscomplexobj(x):
        return _matvec64(A, x.real) + 1j * _matvec64(A, x.imag)
    _kc.matvec_f32(A, np.ascontiguousarray(x, dtype=np.float64), out)
    return out



def collatz_wielandt(A, x):
    """Bounds ``(lo, hi)`` on the Perron root of ``A >= 0`` from a vector ``x >= 0``, ``x != 0``.

    ``lo = min_{x_i > 0} (A x)_i / x_i`` and ``hi = max_i (A x)_i / x_i`` (``inf`` unless
    ``x > 0``); ``lo <= rho(A) <= hi`` (Collatz-Wielandt).
    """
    y = _matvec64(A, x)
    pos = x > 0
    if not pos.any():
        return 0.0, math.inf, y
    r = y[pos] / x[pos]
    lo = float(r.min())
    hi = float(r.max()) if pos.all() else math.inf
    return lo, hi, y


def _perron_krylov(A, v0, rtol, power_steps: int = 4):
    """Perron pair by ARPACK (``k=1``, ``ncv=20``, ``tol=1e-10``, start ``v0``) with a certificate.

    The modulus ``x`` of the Ritz vector (maximum 1) is accepted when its Collatz-Wielandt
    bounds satisfy ``hi - lo <= rtol * hi`` (bounds widened by ``2**-24`` relative for float32
    ``A``); otherwise up to ``power_steps`` power steps ``x <- A x`` are tried.  The root is the
    Ritz value clipped to ``[lo, hi]``.  Returns None when not certified (the caller falls back).
    """
    n = A.shape[0]
    start = None
    if v0 is not None:
        v0 = np.asarray(v0, dtype=float).ravel()
        if v0.shape == (n,) and np.all(np.isfinite(v0)) and np.any(v0 > 0):
            start = np.abs(v0)
    try:
        vals, vecs = spla.eigs(_operator(A), k=1, which="LM", ncv=min(n - 1, 20), tol=1e-10, v0=start)
    except (spla.ArpackNoConvergence, spla.ArpackError):
        return None
    ritz = float(abs(vals[0]))
    x = np.abs(vecs[:, 0])
    widen = 2.0 ** -24 if (not sp.issparse(A) and A.dtype == np.float32) else 0.0
    for _ in range(power_steps + 1):
        m = float(x.max())
        if not (m > 0 and np.isfinite(m)):
            return None
        x = x / m
        lo, hi, y = collatz_wielandt(A, x)
        lo, hi = lo * (1.0 - widen), hi * (1.0 + widen)
        if hi - lo <= rtol * hi:
            return min(max(ritz, lo), hi), x
        x = y
    return None


def _dense_spectral_radius(M: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(M)))) if M.shape[0] else 0.0


def damped_rate(J, alpha):
    """Local linear rate :math:`\\rho((1-\\alpha)I + \\alpha J) = \\max_i |1 - \\alpha(1-\\lambda_i)|`.

    Parameters
    ----------
    J : array_like, shape (n, n)
        Jacobian of the undamped map at the fixed point.
    alpha : float or array_like of float
        Damping step(s); the eigenvalues of ``J`` are computed once.

    Returns
    -------
    float or numpy.ndarray
        The rate for each ``alpha`` (same shape as ``alpha``).  Damped iteration converges
        locally iff the rate is < 1.
    """
    J = check_square(J, "J")
    dense = J.toarray() if sp.issparse(J) else J
    lam = np.linalg.eigvals(dense) if dense.shape[0] else np.zeros(0, complex)
    alphas = as_array(alpha, "alpha", kind="float")
    check_finite(alphas, "alpha")
    z = 1.0 - lam
    if lam.size == 0:
        out = np.zeros(alphas.shape)
    else:
        out = np.max(np.abs(1.0 - alphas[..., None] * z), axis=-1)
    return float(out) if out.ndim == 0 else out


def predict_convergence_region(J, fast_mask, a_values, kappa_values, *, dense_max: int = 2000):
    """Predicted linear rate of per-block damped updates on a grid of step sizes and ratios.

    The update is :math:`z \\leftarrow z + D(a,\\kappa)(F(z) - z)` with
    :math:`D = \\mathrm{diag}(d)`, :math:`d_i = a` on fast coordinates and :math:`d_i = \\kappa a`
    on slow coordinates (CONTRACTION_THEORY §4.3; :math:`\\kappa` = lr_slow / lr_fast, e.g.
    lr_q_r / lr_evaluator in EMPO, where Q_r is the slow block).  The prediction is

    .. math:: \\rho_{pred}(a, \\kappa) = \\rho\\bigl(I + D(a,\\kappa)(J - I)\\bigr),

    and the scheme converges locally iff :math:`\\rho_{pred} < 1`.

    Parameters
    ----------
    J : array_like or scipy.sparse matrix, shape (n, n)
        Jacobian of the joint (one-sweep) map at the fixed point.
    fast_mask : array_like of bool, shape (n,)
        True on fast coordinates (step ``a``), False on slow ones (step ``kappa * a``).
    a_values : array_like of float, shape (p,)
        Fast step sizes, each > 0.
    kappa_values : array_like of float, shape (q,)
        Ratios slow/fast, each > 0.
    dense_max : int, optional
        Above this size a sparse/ARPACK spectral radius (``which='LM'``) is used.

    Returns
    -------
    numpy.ndarray, shape (p, q)
        ``rho_pred[i, j]`` for ``a_values[i]`` and ``kappa_values[j]``.
    """
    J = check_square(J, "J")
    n = J.shape[0]
    mask = as_array(fast_mask, "fast_mask", kind="bool", shape=(n,))
    a_vals = as_array(a_values, "a_values", kind="float", ndim=1)
    k_vals = as_array(kappa_values, "kappa_values", kind="float", ndim=1)
    for arr, name in ((a_vals, "a_values"), (k_vals, "kappa_values")):
        check_finite(arr, name)
        if np.any(arr <= 0):
            raise ValueError(f"{name} with shape {arr.shape} must be > 0; got min {arr.min()!r}")
    out = np.empty((a_vals.size, k_vals.size))
    use_sparse = n > dense_max and n > 3
    if use_sparse:
        Js = sp.csr_matrix(J) if sp.issparse(J) else sp.csr_matrix(np.asarray(J))
        JmI = (Js - sp.identity(n, format="csr")).tocsr()
    else:
        dense = J.toarray() if sp.issparse(J) else np.asarray(J)
        JmI = dense - np.eye(n)
    for i, a in enumerate(a_vals):
        for j, kappa in enumerate(k_vals):
            d = np.where(mask, a, kappa * a)
            if use_sparse:
                M = sp.identity(n, format="csr") + sp.diags(d) @ JmI
                # k = 4 and a wide subspace: with k = 1 ARPACK can miss a dominant complex pair (seen at
                # 0.92 for a true 1.02); a fixed start keeps the result the same from run to run
                vals = spla.eigs(M, k=min(4, n - 2), which="LM", tol=1e-10, ncv=min(n - 1, 40),
                                 return_eigenvectors=False, v0=np.ones(n))
                out[i, j] = float(np.max(np.abs(vals)))
            else:
                out[i, j] = _dense_spectral_radius(np.eye(n) + d[:, None] * JmI)
    return out


def as_alpha(alpha, name: str = "alpha") -> float:
    """A finite real damping step (any sign is accepted; 1 is plain iteration)."""
    value = as_real(alpha, name)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


# --------------------------------------------------------------------------------------------
# products with inverses of block-diagonal sparse matrices (factored Jacobians)

#: Largest connected component of the V_h^e system inverted densely by :meth:`EmpoMaps.reduced_factors`.
DENSE_BLOCK_MAX = 3000


def component_product(M, Rm, EQ, n_rows, n_cols):
    """``Rm M^{-1} EQ`` (dense, n_rows x n_cols) through the connected components of ``M``.

    Components with one unknown use ``1 / M_cc``; larger ones (at most :data:`DENSE_BLOCK_MAX`
    unknowns) a dense LAPACK inverse.  Returns None when a component is larger.
    """
    from scipy.sparse.csgraph import connected_components

    n_comp, lab = connected_components(M, directed=False)
    sizes = np.bincount(lab, minlength=n_comp)
    if sizes.max() > DENSE_BLOCK_MAX:
        return None
    K = np.zeros((n_rows, n_cols))
    Rc, EQr = Rm.tocsc(), EQ.tocsr()
    single = np.flatnonzero(sizes[lab] == 1)
    if single.size:
        d = 1.0 / M.diagonal()[single]
        part = (Rc[:, single] @ sp.diags(d) @ EQr[single]).tocoo()
        part.sum_duplicates()
        K[part.row, part.col] += part.data
    order = np.argsort(lab, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    for comp in np.flatnonzero(sizes > 1):
        idx = order[starts[comp]:starts[comp + 1]]
        Minv = np.linalg.inv(M[idx][:, idx].toarray())
        Rs = Rc[:, idx].tocsr()
        rows = np.flatnonzero(np.diff(Rs.indptr))
        if rows.size == 0:
            continue
        Z = np.ascontiguousarray(Rs[rows] @ Minv)  # (|rows|, |C|)
        Er = EQr[idx]
        _kc.add_dense_times_csr(K, rows, Z, Er.indptr, Er.indices, Er.data)
    return K
