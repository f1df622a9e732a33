"""Generic (EMPO-independent) contraction analysis of a map F: R^n -> R^n at a point.

:func:`analyze_map` linearises F at ``x_star`` (normally a fixed point) and
reports the chain of indicators of CONTRACTION_THEORY §0/§4.1:

.. math:: \\|J\\|_\\infty \\ge \\rho(|J|) \\ge \\rho(J) \\ge \\max_i \\mathrm{Re}\\,\\lambda_i(J),

with their meanings: local sup-norm contraction; contraction in the best
weighted max-norm (convergence under every asynchronous schedule); local
convergence of plain synchronous iteration (Ostrowski); stability of the ODE
``x' = F(x) - x`` (damped iteration / small SA steps).  It adds the damping
limit and best damping step, the observed Picard ratio with period-2
detection, and two *lower bounds* on the Lipschitz constant on a box.

Jacobians
---------
* ``jacobian`` given (callable or matrix, dense or SciPy sparse): used as is.
* otherwise central finite differences with relative steps
  ``h_j = h_rel * max(1, |x_j|)``; on ``log_coords`` the step is taken in
  ``y = log(-x)`` (``x_j -> x_j exp(+-h_rel)``) and converted back by the
  chain rule, so ``J`` is always reported in x coordinates.  Dense (2n
  evaluations of F) for ``n <= dense_max``; above that matrix-free
  Jacobian-vector products ``Jv ~ (F(x(t)) - F(x(-t)))/(2t)`` feed ARPACK.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import as_array, as_int, as_real, check_finite
from . import _estimators as est
from ._report import MapReport
from .spectral import (
    alpha_best_from_eigenvalues,
    alpha_max_from_eigenvalues,
    as_alpha,
    check_square,
    dominant_index,
    perron,
)

__all__ = ["MapReport", "analyze_map", "fd_jacobian", "iterate_damped"]


# --------------------------------------------------------------------------------------------
# evaluating F safely


class CountedMap:
    """Wraps F: passes a copy of x, checks the output shape/dtype, counts evaluations."""

    def __init__(self, F, n: int, name: str = "F"):
        if not callable(F):
            raise TypeError(f"{name} must be callable, got {type(F).__name__}")
        self.F, self.n, self.name, self.count = F, n, name, 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = np.asarray(self.F(np.array(x, dtype=float)))
        self.count += 1
        if y.dtype.kind not in "biuf":
            raise TypeError(f"{self.name} must return a real array, got dtype {y.dtype} with shape {y.shape}")
        if y.shape != (self.n,):
            raise ValueError(f"{self.name} must return a 1-D array of shape ({self.n},), got shape {y.shape}")
        return y.astype(float, copy=False)


def _check_x(x, name: str) -> np.ndarray:
    arr = as_array(x, name, kind="float")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    check_finite(arr, name)
    return arr.copy()


def _log_mask(log_coords, x: np.ndarray, name: str = "log_coords") -> np.ndarray:
    n = x.size
    if log_coords is None:
        return np.zeros(n, dtype=bool)
    mask = as_array(log_coords, name, kind="bool", shape=(n,)).copy()
    bad = np.flatnonzero(mask & ~(x < 0))
    if bad.size:
        raise ValueError(f"{name} marks coordinate [{bad[0]}] but x_star[{bad[0]}] = {x[bad[0]]!r} is not < 0 "
                         f"(log coordinates y = log(-x) need strictly negative values)")
    return mask


def _jvp(F, x, v, h_rel, scales, log_mask):
    """Central-difference ``J v`` along the path of :func:`_estimators.perturb`."""
    w = float(np.max(np.abs(v) / scales)) if v.size else 0.0
    if w == 0.0:
        return np.zeros_like(x)
    t = h_rel / w
    return (F(est.perturb(x, v, t, log_mask)) - F(est.perturb(x, v, -t, log_mask))) / (2.0 * t)


def fd_jacobian(F, x, *, h_rel: float = 1e-6, log_coords=None) -> np.ndarray:
    """Dense central-difference Jacobian of ``F`` at ``x`` (2n evaluations of F).

    Column j is :math:`(F(x + h_j e_j) - F(x - h_j e_j)) / (2 h_j)` with
    :math:`h_j = h_{rel} \\max(1, |x_j|)`; for ``log_coords[j]`` it is
    :math:`(F(x_j e^{h}) - F(x_j e^{-h})) / (2 h |x_j|)` up to sign, i.e. the derivative in
    ``y_j = log(-x_j)`` divided by ``dy/dx``.  Truncation error O(h^2), rounding O(eps/h).
    """
    x = _check_x(x, "x")
    h_rel = _positive(h_rel, "h_rel")
    mask = _log_mask(log_coords, x)
    Fc = F if isinstance(F, CountedMap) else CountedMap(F, x.size)
    return fd_dense(Fc, x, h_rel, est.scales_of(x, mask), mask)


def fd_dense(F, x, h_rel, scales, mask):
    n = x.size
    J = np.empty((n, n))
    e = np.zeros(n)
    for j in range(n):
        e[j] = 1.0
        J[:, j] = _jvp(F, x, e, h_rel, scales, mask)
        e[j] = 0.0
    return J


def _positive(value, name):
    v = as_real(value, name)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be finite and > 0, got {v}")
    return v


def _nonneg_int(value, name):
    v = as_int(value, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


# --------------------------------------------------------------------------------------------
# spectral indicators from a matrix


def _dominant_vector(J: np.ndarray, lam: complex, rng) -> np.ndarray:
    """Eigenvector for ``lam`` by three steps of shifted inverse iteration."""
    n = J.shape[0]
    shift = lam + 1e-10 * max(1.0, abs(lam))
    M = J.astype(complex) - shift * np.eye(n)
    v = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu = sla.lu_factor(M, check_finite=False)
        for _ in range(3):
            v = sla.lu_solve(lu, v, check_finite=False)
            nv = np.linalg.norm(v)
            if not (nv > 0 and np.isfinite(nv)):
                return np.full(n, np.nan + 0j)
            v = v / nv
    return normalise_vector(v)


def normalise_vector(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=complex)
    nv = np.linalg.norm(v)
    if nv > 0:
        v = v / nv
        k = int(np.argmax(np.abs(v)))
        v = v * (abs(v[k]) / v[k])
    return v


def spectral_fields(lam: np.ndarray, complete: bool) -> dict:
    if lam.size == 0:
        return dict(rho=0.0, dominant_eigenvalue=0j, max_re=-math.inf, alpha_max=math.inf,
                    alpha_best=math.nan, alpha_best_rate=math.nan, eigenvalues=lam, spectrum_complete=complete)
    lam = lam[np.lexsort((-lam.imag, -lam.real, -np.round(np.abs(lam), 12)))]
    i = dominant_index(lam)
    a_best, a_rate = alpha_best_from_eigenvalues(lam)
    return dict(rho=float(np.max(np.abs(lam))), dominant_eigenvalue=complex(lam[i]), max_re=float(np.max(lam.real)),
                alpha_max=alpha_max_from_eigenvalues(lam), alpha_best=a_best, alpha_best_rate=a_rate,
                eigenvalues=lam, spectrum_complete=complete)


def norm_fields(absJ, x_star) -> dict:
    """sup_norm, log_norm, rho_abs, perron_weights from |J| (dense array or sparse)."""
    n = x_star.size
    if n == 0:
        return dict(sup_norm=0.0, log_norm=0.0, rho_abs=0.0, perron_weights=np.zeros(0))
    rows = np.asarray(absJ.sum(axis=1)).ravel()
    sup = float(rows.max())
    ax = np.abs(x_star)
    if np.all(ax > 0):
        log_rows = np.asarray(absJ @ ax).ravel() / ax
        log_norm = float(log_rows.max())
    else:
        log_norm = math.nan
    rho_abs, w = perron(absJ)
    return dict(sup_norm=sup, log_norm=log_norm, rho_abs=rho_abs, perron_weights=w)


def _arnoldi(op, n, which_list, k, tol, rng, notes):
    """Ritz values (union over ``which_list``) and the dominant Ritz pair ``(value, vector)`` of ``op``."""
    k = max(1, min(k, n - 2))
    ncv = min(n, max(2 * k + 1, 20))
    values, dom_vals, dom_vecs = [], None, None
    for which in which_list:
        v0 = rng.standard_normal(n)
        try:
            vals, vecs = spla.eigs(op, k=k, which=which, tol=tol, ncv=ncv, v0=v0)
        except spla.ArpackNoConvergence as exc:
            vals, vecs = exc.eigenvalues, exc.eigenvectors
            notes.append(f"ARPACK (which={which!r}) did not converge; {vals.size} Ritz values kept")
        except spla.ArpackError as exc:  # pragma: no cover - rare
            notes.append(f"ARPACK (which={which!r}) failed: {exc}")
            continue
        values.append(np.asarray(vals, dtype=complex))
        if which == "LM" and vals.size:
            dom_vals, dom_vecs = np.asarray(vals, dtype=complex), vecs
    lam = np.concatenate(values) if values else np.zeros(0, complex)
    same = max(1e-7, 100.0 * tol)
    if lam.size:  # drop duplicates found by several runs (they differ by the JVP noise)
        keep = []
        for z in lam:
            if not any(abs(z - y) <= same * max(1.0, abs(z)) for y in keep):
                keep.append(z)
        lam = np.array(keep, dtype=complex)
    dom = vec = None
    if dom_vals is not None and dom_vals.size:
        j = dominant_index(dom_vals)
        if abs(dom_vals[j]) >= np.max(np.abs(lam)) - same * max(1.0, abs(dom_vals[j])):
            dom, vec = complex(dom_vals[j]), normalise_vector(dom_vecs[:, j])
            if dom.imag < 0:
                dom, vec = dom.conjugate(), vec.conjugate()
    return lam, dom, vec


# --------------------------------------------------------------------------------------------
# the analyzer


def analyze_map(F, x_star, *, jacobian=None, log_coords=None, h_rel: float = 1e-6, n_samples: int = 200,
                box=0.1, seed: int = 0, dense_max: int = 2000, picard_steps: int = 200, picard_window: int = 20,
                picard_eps: float = 1e-4, picard_floor: float = 1e-11, adversarial: bool = True,
                adversarial_starts: int = 8, adversarial_rows: int = 4, adversarial_jacobian_max: int = 64,
                adversarial_nm_max: int = 10, adversarial_maxfev: int = 400, n_eigs: int = 6,
                arnoldi_tol: float = 1e-9, svd=None, keep_jacobian: bool = False) -> MapReport:
    """Contraction indicators of ``F`` at ``x_star``.

    Parameters
    ----------
    F : callable
        ``F(x) -> y`` with ``x, y`` 1-D float arrays of shape (n,).
    x_star : array_like, shape (n,)
        The point of linearisation, normally a fixed point (``residual`` reports how close).
    jacobian : callable, array_like or scipy.sparse matrix, optional
        ``J`` at ``x_star`` (a callable is called as ``jacobian(x_star)``).  Default: finite
        differences.
    log_coords : array_like of bool, shape (n,), optional
        Coordinates that are strictly negative and are differentiated in ``y = log(-x)``
        (relative steps); also sampled log-uniformly in the box.
    h_rel : float
        Relative finite-difference step (``h_j = h_rel * max(1, |x_j|)``; ``h_rel`` in y on log
        coordinates).  Default 1e-6 (about eps^(1/3)).
    n_samples : int
        Random pairs for ``lower_bound_sampled`` (0 disables it: nan).
    box : float or (lower, upper)
        Region for the lower bounds: a relative half-width ``delta`` (``x*_j +- delta max(1,
        |x*_j|)``, multiplicative ``x*_j e^(-+delta)`` on log coordinates) or explicit corners.
    seed : int
        Seed for every random choice (pairs, starts, ARPACK start vectors).
    dense_max : int
        Largest n for a dense Jacobian; above it, matrix-free mode (or ARPACK on a given
        matrix).
    picard_steps, picard_window, picard_eps, picard_floor
        Plain iteration from ``x_star`` perturbed by ``picard_eps`` (relative); see
        :func:`._estimators.picard_observation` for the stopping rules.  ``picard_steps=0``
        skips it.
    adversarial : bool
        Compute ``lower_bound_adversarial`` (see :func:`._estimators.adversarial_lower_bound`;
        ``adversarial_*`` set its budget: random starts, rows, the largest n for FD Jacobians at
        the starts, the largest n for Nelder-Mead, and its evaluation budget).
    n_eigs, arnoldi_tol
        ARPACK's ``k`` and ``tol`` (large-n modes).
    svd : bool, optional
        Compute ``norm_2`` and ``fold_distance`` by dense SVD; default: when n <= 500.
    keep_jacobian : bool
        Store J (dense or sparse; None in matrix-free mode) in ``report.jacobian``.

    Returns
    -------
    MapReport

    Notes
    -----
    *Modes.*  Dense (``n <= dense_max``, J given or FD): every indicator from the full
    spectrum.  Given matrix with ``n > dense_max``: norms exact from the (sparse) matrix,
    spectra from ARPACK (``which`` = LM, LR, SR).  Matrix-free (FD, ``n > dense_max``): spectra
    from ARPACK on central-difference Jacobian-vector products; ``sup_norm``, ``log_norm``,
    ``rho_abs`` are nan and ``perron_weights`` is None, because |J| and the rows of J cannot be
    formed from Jacobian-vector products alone (they need vector-Jacobian products).  Use
    ``lower_bound_adversarial`` there, which is a lower bound for the box constant, or pass a
    sparse ``jacobian``.  ``alpha_max``/``alpha_best`` then use the Ritz values only.

    *Accuracy.*  FD Jacobians carry a perturbation of about ``eps / h_rel ~ 1e-10`` (relative).
    Entries of F that do not depend on a coordinate come out exactly 0, so the dense path keeps
    structural zeros and a nilpotent J (acyclic worlds) gets rho = 0 exactly.  Matrix-free
    spectra are spectra of the *noisy* operator: for strongly non-normal J (e.g. nilpotent with
    large entries) they can be far off (the eigenvalues of a perturbed Jordan-like block of
    size D move by about ``(noise)^(1/D)``).  Use the dense path or a given Jacobian there.

    *Lower bounds.*  ``lower_bound_sampled`` and ``lower_bound_adversarial`` are ratios of
    actual pairs in the box, hence LOWER BOUNDS on the sup-norm Lipschitz constant of F on the
    box, never estimates of it; random pairs are typically far below it in high dimension.
    """
    x_star = _check_x(x_star, "x_star")
    n = x_star.size
    h_rel = _positive(h_rel, "h_rel")
    n_samples = _nonneg_int(n_samples, "n_samples")
    dense_max = _nonneg_int(dense_max, "dense_max")
    picard_steps = _nonneg_int(picard_steps, "picard_steps")
    picard_window = max(1, _nonneg_int(picard_window, "picard_window"))
    picard_eps = _positive(picard_eps, "picard_eps")
    picard_floor = _positive(picard_floor, "picard_floor")
    seed = as_int(seed, "seed")
    mask = _log_mask(log_coords, x_star)
    Fc = CountedMap(F, n)
    rng = np.random.default_rng(seed)
    notes: list = []

    fx = Fc(x_star)
    if not np.all(np.isfinite(fx)):
        raise ValueError(f"F(x_star) must be finite; got a non-finite value with x_star of shape {x_star.shape}")
    residual = float(np.max(np.abs(fx - x_star))) if n else 0.0
    scales = est.scales_of(x_star, mask)
    lower, upper = est.make_box(x_star, box, mask, scales)

    # ---- the Jacobian and the spectral indicators
    J = None
    large = n > dense_max and n > 3
    if jacobian is not None:
        method = "given"
        J = jacobian(x_star.copy()) if callable(jacobian) else jacobian
        J = check_square(J, "jacobian", n)
    elif not large:
        method = "dense_fd"
        J = fd_dense(Fc, x_star, h_rel, scales, mask)
    else:
        method = "matrix_free"

    out = {}
    if J is not None and not large:
        Jd = J.toarray() if sp.issparse(J) else np.asarray(J)
        out.update(norm_fields(np.abs(Jd), x_star))
        lam = np.linalg.eigvals(Jd) if n else np.zeros(0, complex)
        out.update(spectral_fields(lam, True))
        out["dominant_eigenvector"] = _dominant_vector(Jd, out["dominant_eigenvalue"], rng) if n else np.zeros(0, complex)
        do_svd = (n <= 500) if svd is None else bool(svd)
        if do_svd and n:
            out["norm_2"] = float(np.linalg.svd(Jd, compute_uv=False)[0])
            out["fold_distance"] = float(np.linalg.svd(np.eye(n) - Jd, compute_uv=False)[-1])
        J = Jd
    else:
        if J is not None:  # given, large: exact norms, ARPACK spectra
            absJ = abs(J) if sp.issparse(J) else np.abs(J)
            out.update(norm_fields(absJ, x_star))
            op = spla.aslinearoperator(J)
        else:
            out.update(sup_norm=math.nan, log_norm=math.nan, rho_abs=math.nan, perron_weights=None)
            notes.append("matrix-free mode: sup_norm, log_norm and rho_abs are not available (nan); "
                         "lower_bound_adversarial is the reported substitute (a lower bound)")
            op = spla.LinearOperator((n, n), dtype=float,
                                     matvec=lambda v: _jvp(Fc, x_star, np.asarray(v, float).ravel(), h_rel, scales, mask))
        lam, dom, vec = _arnoldi(op, n, ("LM", "LR", "SR"), n_eigs, arnoldi_tol, rng, notes)
        out.update(spectral_fields(lam, False))
        if dom is not None:  # the LM run's own Ritz pair (value and vector consistent)
            out["dominant_eigenvalue"] = dom
        else:
            notes.append("dominant eigenvector not available (the LM run missed the largest Ritz value)")
        out["dominant_eigenvector"] = vec
        notes.append("spectrum from ARPACK Ritz values (LM, LR, SR): alpha_max/alpha_best use those only")
    out.setdefault("norm_2", math.nan)
    out.setdefault("fold_distance", math.nan)

    # ---- observed Picard behaviour
    if picard_steps > 0 and n:
        ratio, flip, orbit, amp, status, steps = est.picard_observation(
            Fc, x_star, mask, scales, rng, steps=picard_steps, window=picard_window, eps=picard_eps,
            floor=picard_floor)
    else:
        ratio, flip, orbit, amp, status, steps = math.nan, False, False, 0.0, "skipped", 0

    # ---- lower bounds on the box
    lb_sampled, pair = (math.nan, None)
    if n_samples > 0 and n:
        lb_sampled, pair = est.sampled_lower_bound(Fc, lower, upper, mask, n_samples, rng)
    lb_adv = math.nan
    if adversarial and n:
        if J is not None:
            directions = est.top_row_signs(J, _nonneg_int(adversarial_rows, "adversarial_rows"))
        else:
            directions = []
            if out.get("dominant_eigenvector") is not None:
                directions = est._sign_vectors([np.real(out["dominant_eigenvector"])])
            directions += [rng.choice([-1.0, 1.0], size=n) for _ in range(max(1, adversarial_rows))]
        jac_at = None
        if J is not None and n <= _nonneg_int(adversarial_jacobian_max, "adversarial_jacobian_max"):
            jac_at = _jacobian_at(Fc, jacobian, n, h_rel, mask)
        lb_adv = est.adversarial_lower_bound(
            Fc, x_star, lower, upper, mask, rng, directions=directions, jacobian_at=jac_at,
            n_starts=_nonneg_int(adversarial_starts, "adversarial_starts"),
            rows=adversarial_rows, nm_max=_nonneg_int(adversarial_nm_max, "adversarial_nm_max"),
            maxfev=_nonneg_int(adversarial_maxfev, "adversarial_maxfev"), seed_pairs=(pair,))

    return MapReport(
        n=n, jacobian_method=method, residual=residual,
        sup_norm=out["sup_norm"], log_norm=out["log_norm"], rho_abs=out["rho_abs"],
        perron_weights=out["perron_weights"], rho=out["rho"], dominant_eigenvalue=out["dominant_eigenvalue"],
        dominant_eigenvector=out["dominant_eigenvector"], max_re=out["max_re"], alpha_max=out["alpha_max"],
        alpha_best=out["alpha_best"], alpha_best_rate=out["alpha_best_rate"], norm_2=out["norm_2"],
        fold_distance=out["fold_distance"], picard_ratio=ratio, period2=flip, period2_orbit=orbit,
        period2_amplitude=amp, picard_status=status, picard_steps=steps, lower_bound_sampled=lb_sampled,
        lower_bound_adversarial=lb_adv, box_lower=lower, box_upper=upper, eigenvalues=out["eigenvalues"],
        spectrum_complete=out["spectrum_complete"], n_evals=Fc.count, notes=notes,
        jacobian=J if keep_jacobian else None,
    )


def _jacobian_at(Fc, jacobian, n, h_rel, mask):
    """Jacobian at other points: the user's callable, or dense FD (None for a fixed matrix)."""
    if jacobian is None:
        def fd(z):
            m = mask & (z < 0)
            return fd_dense(Fc, z, h_rel, est.scales_of(z, m), m)
        return fd
    if callable(jacobian):
        def given(z):
            Jz = check_square(jacobian(z.copy()), "jacobian", n)
            return Jz.toarray() if sp.issparse(Jz) else Jz
        return given
    return None


# --------------------------------------------------------------------------------------------
# damped iteration


def iterate_damped(F, x0, alpha, n_steps, *, x_star=None, blowup: float = 1e12):
    """Damped (Krasnoselskii-Mann) iteration :math:`x_{k+1} = (1-\\alpha)x_k + \\alpha F(x_k)`.

    Parameters
    ----------
    F : callable
        1-D array -> 1-D array of the same shape.
    x0 : array_like, shape (n,)
        Start.
    alpha : float
        Step (1 is plain iteration).
    n_steps : int
        Number of steps (>= 0).
    x_star : array_like, shape (n,), optional
        Reference point; the error is then :math:`\\|x_k - x^*\\|_\\infty`, otherwise the residual
        :math:`\\|F(x_k) - x_k\\|_\\infty`.
    blowup : float
        Stop early once the error exceeds ``blowup * max(1, error_0)`` or anything is non-finite
        (the last recorded error is then that value or ``inf``).

    Returns
    -------
    x : numpy.ndarray
        The last iterate.
    errors : numpy.ndarray
        ``errors[k]`` for ``x_0 .. x_K`` (length ``n_steps + 1`` unless stopped early).
    """
    x = _check_x(x0, "x0")
    alpha = as_alpha(alpha)
    n_steps = _nonneg_int(n_steps, "n_steps")
    ref = None
    if x_star is not None:
        ref = _check_x(x_star, "x_star")
        if ref.shape != x.shape:
            raise ValueError(f"x_star must have the shape of x0 {x.shape}, got {ref.shape}")
    Fc = CountedMap(F, x.size)
    fx = Fc(x)
    errors = []
    limit = None
    for k in range(n_steps + 1):
        if not np.all(np.isfinite(fx)) or not np.all(np.isfinite(x)):
            errors.append(math.inf)
            break
        err = float(np.max(np.abs(x - ref))) if ref is not None else float(np.max(np.abs(fx - x), initial=0.0))
        errors.append(err)
        if limit is None:
            limit = blowup * max(1.0, err)
        if k == n_steps or err > limit:
            break
        x = (1.0 - alpha) * x + alpha * fx
        fx = Fc(x)
    return x, np.asarray(errors)
