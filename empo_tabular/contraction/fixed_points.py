"""Multiplicity of fixed points: multistart root finding on G(x) = F(x) - x.

Two distinct fixed points in a convex set force the Lipschitz constant to be
>= 1 in *every* norm (CONTRACTION_THEORY §3), so finding several certifies
non-contraction; the stability of each one tells fold (λ -> +1) from flip.

Algorithm
---------
1. Draw ``n_starts`` points uniformly in ``[lower, upper]`` (log-uniformly in
   ``|x|`` when ``log_uniform=True``; the box must then be strictly negative or
   strictly positive in every coordinate).
2. From each start run MINPACK's hybrid Powell method (``scipy.optimize.root``,
   ``method='hybr'``) on ``G``; if that fails, Newton's method (the ``jacobian``
   when given, else central differences) with backtracking on :math:`\\|G\\|_\\infty`.  Both converge
   to unstable fixed points as well as stable ones (unlike plain iteration).
3. Polish every candidate with up to 8 Newton steps (stop when
   :math:`\\|G\\|_\\infty` stops decreasing: no step of length 1, 1/2, 1/4 or 1/8
   lowers it) so that near-folds, where :math:`I - J` is nearly singular, are
   located to near machine precision.  Trial points where ``x`` is not finite
   (``exp`` overflow in log coordinates) fail like points outside F's domain;
   F is never called there.
4. Keep candidates with :math:`\\|G(x)\\|_\\infty \\le tol \\cdot \\max(1, \\|x\\|_\\infty)` that lie in
   the box enlarged by ``margin * (upper - lower)``.
5. Deduplicate: ``x`` and ``y`` are the same point when
   :math:`\\|x - y\\|_\\infty \\le dedup\\_tol \\cdot \\max(1, \\|x\\|_\\infty, \\|y\\|_\\infty)`
   (the candidate with the smaller residual is kept).
6. Bridge starts: from points on the segments between pairs of points already
   found (see ``bridge_points``), repeated while new points appear.  Between two
   attractors there is typically a saddle on the basin boundary, and the middle
   point of a fold pair has a small basin for Newton from random starts
   (about 1.5% of random starts in [0, 2]^2 reach it in the Asadi-Littman example).
7. Sort rows lexicographically; compute the Jacobian (analytic, or FD) at each point
   for its spectral radius, largest real part and dominant eigenvalue.

BLAS runs on one thread throughout (the forked workers inherit the limit): at
n = 600 with two workers on a 2-core machine, OpenBLAS threads made the search
several times slower and bought nothing.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.optimize as so

from ..core.forked import map_forked
from ..core.numerics import one_blas_thread
from .._validation import as_array, as_int, as_real
from . import _estimators as est
from .generic import CountedMap, fd_dense
from .spectral import dominant_index

__all__ = ["FixedPointSet", "find_fixed_points"]


class FixedPointSet(np.ndarray):
    """Distinct fixed points as the rows of a (k, n) float array, with per-point stability.

    Attributes (arrays of length k, aligned with the rows; sliced together with the rows)
    ----------------------------------------------------------------------------------------
    rho : numpy.ndarray of float
        Spectral radius of the Jacobian of F at each point.
    max_re : numpy.ndarray of float
        Largest real part of its eigenvalues.
    stable : numpy.ndarray of bool
        ``rho < 1`` (a point of attraction of plain iteration).
    residual : numpy.ndarray of float
        :math:`\\|F(x) - x\\|_\\infty`.
    dominant_eigenvalue : numpy.ndarray of complex
        An eigenvalue of largest modulus.

    Other attributes: ``n_starts`` (random starts drawn), ``n_converged`` (random and bridge starts whose root was
    accepted before deduplication), ``lower``, ``upper`` (the box).

    Indexing rows (``fps[1:]``, ``fps[mask]``, ``fps[[0, 2]]``) returns a FixedPointSet whose
    attributes are sliced accordingly; indexing a single row or column returns a plain
    ``numpy.ndarray``.  Arithmetic keeps the attributes of the left operand.
    """

    _ROW_ATTRS = ("rho", "max_re", "stable", "residual", "dominant_eigenvalue")
    _META_ATTRS = ("n_starts", "n_converged", "lower", "upper", "n_user_starts", "log_coords", "jacobian_kind",
                   "seconds")

    def __new__(cls, points, *, rho, max_re, stable, residual, dominant_eigenvalue,
                n_starts=0, n_converged=0, lower=None, upper=None, n_user_starts=0, log_coords=False,
                jacobian_kind="finite_difference", seconds=0.0):
        obj = np.asarray(points, dtype=float).view(cls)
        if obj.ndim != 2:
            raise ValueError(f"points must be 2-D (k, n), got shape {obj.shape}")
        k = obj.shape[0]
        for name, value, dtype in (("rho", rho, float), ("max_re", max_re, float), ("stable", stable, bool),
                                   ("residual", residual, float), ("dominant_eigenvalue", dominant_eigenvalue, complex)):
            arr = np.asarray(value, dtype=dtype).reshape(-1)
            if arr.size != k:
                raise ValueError(f"{name} must have length {k} (one per row), got shape {arr.shape}")
            setattr(obj, name, arr)
        obj.n_starts, obj.n_converged, obj.lower, obj.upper = int(n_starts), int(n_converged), lower, upper
        obj.n_user_starts, obj.log_coords = int(n_user_starts), bool(log_coords)
        obj.jacobian_kind, obj.seconds = str(jacobian_kind), float(seconds)
        return obj

    def __array_finalize__(self, obj):
        if obj is None:
            return
        for name in self._ROW_ATTRS + self._META_ATTRS:
            setattr(self, name, getattr(obj, name, None))

    def __getitem__(self, index):
        result = super().__getitem__(index)
        if not isinstance(result, FixedPointSet):
            return result
        if result.ndim != 2:
            return result.view(np.ndarray)
        rows = index[0] if isinstance(index, tuple) and len(index) > 0 else index
        if isinstance(index, tuple) and len(index) == 0:
            rows = slice(None)
        if rows is Ellipsis:
            rows = slice(None)
        if isinstance(rows, FixedPointSet):
            rows = rows.view(np.ndarray)
        for name in self._ROW_ATTRS:
            value = getattr(self, name, None)
            if value is not None and value.shape[0] == self.shape[0]:
                try:
                    setattr(result, name, np.asarray(value[rows]).reshape(-1))
                except (IndexError, TypeError):  # pragma: no cover - exotic index
                    setattr(result, name, None)
        return result

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if return_scalar:
            return array[()]
        if array.ndim != 2 or array.shape[0] != self.shape[0] or array.dtype.kind not in "f":
            return np.asarray(array)
        return super().__array_wrap__(array, context)

    def __reduce__(self):
        base = super().__reduce__()
        extra = {name: getattr(self, name, None) for name in self._ROW_ATTRS + self._META_ATTRS}
        return base[0], base[1], (base[2], extra)

    def __setstate__(self, state):
        nd_state, extra = state
        super().__setstate__(nd_state)
        for name, value in extra.items():
            setattr(self, name, value)

    @property
    def points(self) -> np.ndarray:
        """The rows as a plain ``numpy.ndarray``."""
        return self.view(np.ndarray)

    @property
    def n_stable(self) -> int:
        """Number of stable points."""
        return int(np.count_nonzero(self.stable))

    def to_dict(self) -> dict:
        """JSON-serialisable summary (complex as ``[re, im]``)."""
        return {
            "points": self.points.tolist(),
            "rho": self.rho.tolist(), "max_re": self.max_re.tolist(), "stable": self.stable.tolist(),
            "residual": self.residual.tolist(),
            "dominant_eigenvalue": [[float(z.real), float(z.imag)] for z in self.dominant_eigenvalue],
            "n_starts": self.n_starts, "n_converged": self.n_converged, "n_user_starts": self.n_user_starts,
            "log_coords": self.log_coords, "jacobian_kind": self.jacobian_kind, "seconds": self.seconds,
        }


def _box(lower, upper, dim):
    lo = as_array(lower, "lower", kind="float")
    hi = as_array(upper, "upper", kind="float")
    if lo.ndim > 1 or hi.ndim > 1:
        raise ValueError(f"lower and upper must be scalars or 1-D arrays, got shapes {lo.shape} and {hi.shape}")
    sizes = {a.size for a in (lo, hi) if a.ndim == 1}
    if dim is not None:
        sizes.add(as_int(dim, "dim"))
    if not sizes:
        raise ValueError("lower and upper are both scalars: pass dim=n to give the dimension")
    if len(sizes) > 1:
        raise ValueError(f"lower (shape {lo.shape}), upper (shape {hi.shape}) and dim={dim} disagree on the dimension")
    n = sizes.pop()
    if n < 1:
        raise ValueError(f"the dimension must be >= 1, got {n}")
    return est.ordered_bounds(lo, hi, n)


class _NonFinite(Exception):
    pass


#: Trial steps (1, 1/2, 1/4, 1/8) per iteration of the Newton polish (see :func:`_solve_one`).
POLISH_TRIALS = 4


def _newton(G, x, tol_fn, h_rel, max_iter, Jg=None, trials=30):
    """Newton on G (Jacobian ``Jg`` when given, else central differences) with backtracking on ||G||_inf
    (at most ``trials`` step lengths 1, 1/2, 1/4, ... per iteration)."""
    n = x.size
    zero = np.zeros(n, dtype=bool)
    g = G(x)
    r = float(np.max(np.abs(g)))
    for _ in range(max_iter):
        if r <= tol_fn(x):
            break
        J = Jg(x) if Jg is not None else fd_dense(G, x, h_rel, est.scales_of(x, zero), zero)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                step = np.linalg.solve(J, -g)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(J, -g, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            break
        t, improved = 1.0, False
        for _ in range(trials):
            try:
                x_new = x + t * step
                g_new = G(x_new)
            except _NonFinite:
                t *= 0.5
                continue
            r_new = float(np.max(np.abs(g_new)))
            if r_new < r:
                x, g, r, improved = x_new, g_new, r_new, True
                break
            t *= 0.5
        if not improved:
            break
    return x, r


#: Largest dimension for which find_fixed_points may use finite-difference Jacobians (above it, pass ``jacobian``).
FD_MAX_DIM = 100


def find_fixed_points(F, lower, upper, n_starts, seed=0, *, tol: float = 1e-10, dedup_tol: float = 1e-8,
                      log_uniform: bool = False, margin: float = 1e-6, h_rel: float = 1e-6,
                      max_newton: int = 50, bridge_rounds: int = 2, bridge_points=(0.25, 0.5, 0.75),
                      dim=None, jacobian=None, starts=None, log_coords: bool = False, n_jobs: int = 1,
                      fd_max_dim: int = FD_MAX_DIM) -> FixedPointSet:
    """Find the distinct fixed points of ``F`` in a box by multistart root finding.

    Parameters
    ----------
    F : callable
        1-D array of shape (n,) -> 1-D array of shape (n,).
    lower, upper : float or array_like, shape (n,)
        Box corners, ``lower < upper`` in every coordinate (scalars need ``dim``).
    n_starts : int
        Number of random starts (>= 1, or >= 0 when ``starts`` are given).
    seed : int
        Seed of the starts.
    tol : float
        Acceptance: :math:`\\|F(x) - x\\|_\\infty \\le tol \\max(1, \\|x\\|_\\infty)`.
    dedup_tol : float
        Relative distance below which two roots are the same point.
    log_uniform : bool
        Draw starts log-uniformly in ``|x|`` (box must not contain 0 in any coordinate).
    margin : float
        Roots may lie up to ``margin * (upper - lower)`` outside the box.
    h_rel : float
        Relative step of the finite-difference Jacobians (only without ``jacobian``).
    max_newton : int
        Newton iterations for the fallback solver.
    bridge_rounds, bridge_points
        After the random starts, extra starts at ``x_i + t (x_j - x_i)`` for every pair of points
        found (the first 12) and ``t`` in ``bridge_points``, repeated while new points appear
        (at most ``bridge_rounds`` rounds; 0 disables).  Unstable points of a fold sit between
        the two stable ones and have small basins for random starts; bridge starts find them.
        With ``log_coords`` the segments are straight in ``log|x|``.
    dim : int, optional
        Dimension when ``lower`` and ``upper`` are both scalars.
    jacobian : callable, optional
        ``jacobian(x)`` -> the (dense) Jacobian of F at x.  Used by hybr, Newton and the stability of
        each point; without it finite differences are used, allowed only up to ``fd_max_dim``.
    starts : array_like, shape (k, n), optional
        User start points, tried before the random ones (not counted in ``n_starts``).
    log_coords : bool
        Solve for ``y = log|x|`` (box and starts must keep one sign per coordinate; implies
        ``log_uniform``): roots stay on the sign of the box, and the steps are relative.
    n_jobs : int
        Worker processes for the starts (forked; serial where ``fork`` is unavailable or inside a
        worker).  The points found do not depend on ``n_jobs``.
    fd_max_dim : int
        Largest ``n`` for finite-difference Jacobians.

    Returns
    -------
    FixedPointSet
        Shape (k, n), rows sorted lexicographically, with ``rho``, ``max_re``, ``stable``,
        ``residual`` and ``dominant_eigenvalue`` per row, and how hard it searched (``n_starts``,
        ``n_user_starts``, ``n_converged``, ``lower``, ``upper``, ``log_coords``, ``jacobian_kind``,
        ``seconds``).  See the module docstring for the algorithm.  F may return non-finite
        values outside its domain; such starts fail quietly.
    """
    import time

    t_start = time.perf_counter()
    lo, hi = _box(lower, upper, dim)
    n = lo.size
    n_starts = as_int(n_starts, "n_starts")
    user = np.zeros((0, n))
    if starts is not None:
        user = as_array(starts, "starts", kind="float")
        if user.ndim == 1:
            user = user[None, :]
        if user.ndim != 2 or user.shape[1] != n:
            raise ValueError(f"starts must have shape (k, {n}), got {user.shape}")
        if not np.all(np.isfinite(user)):
            raise ValueError("starts must be finite")
    if n_starts < (0 if user.shape[0] else 1):
        raise ValueError(f"n_starts must be >= 1, got {n_starts}")
    seed = as_int(seed, "seed")
    n_jobs = as_int(n_jobs, "n_jobs")
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1, got {n_jobs}")
    for value, name in ((tol, "tol"), (dedup_tol, "dedup_tol"), (h_rel, "h_rel")):
        v = as_real(value, name)
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be finite and > 0, got {v}")
    margin = as_real(margin, "margin")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be finite and >= 0, got {margin}")
    if jacobian is not None and not callable(jacobian):
        raise TypeError(f"jacobian must be callable (x -> J), got {type(jacobian).__name__}")
    if jacobian is None and n > int(fd_max_dim):
        raise ValueError(f"n = {n} > fd_max_dim = {fd_max_dim}: pass jacobian= (finite-difference Jacobians "
                         f"cost 2n evaluations each)")
    log_uniform = bool(log_uniform or log_coords)
    if log_uniform and not np.all((hi < 0) | (lo > 0)):
        j = int(np.flatnonzero(~((hi < 0) | (lo > 0)))[0])
        raise ValueError(f"log_uniform=True needs a box that excludes 0 in every coordinate; "
                         f"entry [{j}] is [{lo[j]!r}, {hi[j]!r}]")
    sign = np.where(hi < 0, -1.0, 1.0)
    if log_coords and user.shape[0] and np.any(user * sign <= 0):
        raise ValueError("starts must have the sign of the box in every coordinate (log_coords=True)")
    Fc = CountedMap(F, n)
    ctx = _Problem(Fc, jacobian, tol, h_rel, max_newton, log_coords, sign)

    rng = np.random.default_rng(seed)
    width = hi - lo
    lo_m, hi_m = lo - margin * width, hi + margin * width
    kept: list = []  # (residual, x), distinct
    n_converged = 0

    def accept(res):
        nonlocal n_converged
        if res is None:
            return False
        x, r = res
        if not (r <= ctx.tol_x(x) and np.all(x >= lo_m) and np.all(x <= hi_m)):
            return False
        n_converged += 1
        for i, (r_old, y) in enumerate(kept):
            if np.max(np.abs(x - y)) <= dedup_tol * max(1.0, np.max(np.abs(x)), np.max(np.abs(y))):
                if r < r_old:
                    kept[i] = (r, x)
                return False
        kept.append((r, x))
        return True

    # BLAS on one thread (core.numerics.one_blas_thread): with n_jobs workers on a shared machine threading made
    # the 600-unknown benchmark search 2-3x slower in CPU seconds.  The forked workers inherit the limit.
    with one_blas_thread():
        x0s = [x for x in user]
        for _ in range(n_starts):
            if log_uniform:
                a, b = np.log(np.minimum(np.abs(lo), np.abs(hi))), np.log(np.maximum(np.abs(lo), np.abs(hi)))
                x0s.append(sign * np.exp(rng.uniform(a, b)))
            else:
                x0s.append(rng.uniform(lo, hi))
        for res in map_forked(ctx.solve, x0s, n_jobs):
            accept(res)
        # bridge starts: between two attractors there is usually a saddle on a basin boundary
        done = set()
        for _ in range(max(0, bridge_rounds)):
            m = min(len(kept), 12)
            batch = []
            for i in range(m):
                for j in range(i + 1, m):
                    if (i, j) in done:
                        continue
                    done.add((i, j))
                    xi, xj = kept[i][1], kept[j][1]
                    for t in bridge_points:
                        if log_coords:
                            li, lj = np.log(np.abs(xi)), np.log(np.abs(xj))
                            batch.append(sign * np.exp(li + t * (lj - li)))
                        else:
                            batch.append(xi + t * (xj - xi))
            new = False
            for res in map_forked(ctx.solve, batch, n_jobs):
                new |= accept(res)
            if not new:
                break
        points = np.array([x for _, x in kept], dtype=float).reshape(len(kept), n)
        residual = np.array([r for r, _ in kept], dtype=float)
        order = np.lexsort(points.T[::-1]) if len(kept) else np.zeros(0, dtype=int)
        points, residual = points[order], residual[order]
        rho, max_re, dom = [], [], []
        zero = np.zeros(n, dtype=bool)
        for x in points:
            J = np.asarray(jacobian(x), dtype=float) if jacobian is not None else \
                fd_dense(Fc, x, h_rel, est.scales_of(x, zero), zero)
            lam = np.linalg.eigvals(J)
            rho.append(float(np.max(np.abs(lam))))
            max_re.append(float(np.max(lam.real)))
            dom.append(complex(lam[dominant_index(lam)]))
        rho = np.array(rho, dtype=float)
    return FixedPointSet(points, rho=rho, max_re=max_re, stable=rho < 1.0, residual=residual,
                         dominant_eigenvalue=dom, n_starts=n_starts, n_converged=n_converged, lower=lo, upper=hi,
                         n_user_starts=user.shape[0], log_coords=log_coords,
                         jacobian_kind="analytic" if jacobian is not None else "finite_difference",
                         seconds=time.perf_counter() - t_start)


class _Problem:
    """G(y) = F(x) - x in the solver's coordinates (``y = x``, or ``y = log|x|`` with ``log_coords``)."""

    def __init__(self, F, jacobian, tol, h_rel, max_newton, log_coords, sign):
        self.F, self.jacobian, self.tol, self.h_rel, self.max_newton = F, jacobian, tol, h_rel, max_newton
        self.log_coords, self.sign = log_coords, sign

    def tol_x(self, x):
        return self.tol * max(1.0, float(np.max(np.abs(x))))

    def to_x(self, y):
        if not self.log_coords:
            return y
        with np.errstate(over="ignore"):
            return self.sign * np.exp(y)

    def G(self, y):
        x = self.to_x(y)
        if not np.all(np.isfinite(x)):  # a long step overflowed exp(y) (or hybr tried a non-finite point):
            raise _NonFinite            # the trial fails like a point outside F's domain; F never sees it
        fx = self.F(x)
        self._last = (np.array(y, dtype=float), fx)  # Jg at the same y reuses F(x) (log coordinates)
        if not np.all(np.isfinite(fx)):
            raise _NonFinite
        if not self.log_coords:
            return fx - x
        r = fx * self.sign
        if np.any(r <= 0):
            raise _NonFinite
        return np.log(r) - y

    def Jg(self, y):
        if self.jacobian is None:
            return None
        x = self.to_x(y)
        J = np.asarray(self.jacobian(x), dtype=float)
        if not self.log_coords:
            return J - np.eye(x.size)
        last = getattr(self, "_last", None)
        fx = last[1] if last is not None and np.array_equal(last[0], y) else self.F(x)
        return (J * x[None, :]) / fx[:, None] - np.eye(x.size)  # d log|F| / d log|x| - I

    def solve(self, x0):
        """One start: ``(x, ||F(x) - x||_inf)`` or None."""
        y0 = np.log(np.abs(x0)) if self.log_coords else np.asarray(x0, dtype=float)
        ytol = (lambda _y: 0.1 * self.tol) if self.log_coords else (lambda y: self.tol_x(y))
        try:
            y, _ = _solve_one(self.G, y0, ytol, self.h_rel, self.max_newton,
                              self.Jg if self.jacobian is not None else None)
            x = self.to_x(y)
            fx = self.F(x)
        except _NonFinite:
            return None
        if not np.all(np.isfinite(fx)):
            return None
        return x, float(np.max(np.abs(fx - x)))


def _solve_one(G, x0, tol_fn, h_rel, max_newton, Jg=None):
    """hybr, then Newton if needed, then a Newton polish; returns ``(x, ||G(x)||_inf)``."""
    x, r = x0, math.inf
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            sol = so.root(G, x0, jac=Jg, method="hybr", options={"xtol": 1e-14, "maxfev": 200 * (x0.size + 1)})
        if np.all(np.isfinite(sol.x)):
            x = sol.x
            r = float(np.max(np.abs(G(x))))
    except _NonFinite:
        pass
    if not r <= tol_fn(x) * 1e3:
        x, r = _newton(G, x0, tol_fn, h_rel, max_newton, Jg)
    # polish: Newton until the residual stops decreasing.  Near a root the full Newton step decreases
    # ||G||; once it does not, the residual is at rounding level, where 30 step halvings (30 evaluations
    # of F, a third of a start's time at n = 600) found nothing: stop after POLISH_TRIALS step lengths.
    x, r = _newton(G, x, lambda _x: 0.0, h_rel, 8, Jg, POLISH_TRIALS)
    return x, r
