"""Map-level estimators that need evaluations of F: observed Picard behaviour and Lipschitz lower bounds.

All lower bounds here are *lower bounds* of the Lipschitz constant

.. math:: L(C) = \\sup_{x \\ne y \\in C} \\frac{\\|F(x) - F(y)\\|_\\infty}{\\|x - y\\|_\\infty}

of F on the box C: each one is the ratio of an actual pair of points in C, so
it can never exceed L(C) (up to rounding in evaluating F).  They are not
estimates of L(C) and can be far below it (CONTRACTION_THEORY §3).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.optimize as so

from .._validation import as_array, as_real, check_finite

# --------------------------------------------------------------------------------------------
# perturbation geometry shared with generic.py


def scales_of(x: np.ndarray, log_mask: np.ndarray) -> np.ndarray:
    """Step scale per coordinate: ``max(1, |x_j|)`` on plain coordinates, ``|x_j|`` on log ones."""
    s = np.maximum(1.0, np.abs(x))
    s[log_mask] = np.abs(x[log_mask])
    return s


def perturb(x: np.ndarray, v: np.ndarray, t: float, log_mask: np.ndarray) -> np.ndarray:
    """Point ``x(t)`` on the path with ``x(0) = x`` and ``x'(0) = v``.

    The path is straight on plain coordinates and ``x_j exp(t v_j / x_j)`` on log
    coordinates (a straight line in ``y = log(-x)``), so negative coordinates stay negative.
    """
    y = x + t * v
    if log_mask.any():
        xl = x[log_mask]
        y[log_mask] = xl * np.exp(t * v[log_mask] / xl)
    return y


# --------------------------------------------------------------------------------------------
# the box


def ordered_bounds(lower, upper, n: int, lower_name: str = "lower", upper_name: str = "upper"):
    """Broadcast finite bounds to length ``n``; ``ValueError`` naming the first entry with lower >= upper."""
    lower = np.broadcast_to(lower, (n,)).astype(float)
    upper = np.broadcast_to(upper, (n,)).astype(float)
    check_finite(lower, lower_name)
    check_finite(upper, upper_name)
    bad = np.flatnonzero(lower >= upper)
    if bad.size:
        j = bad[0]
        raise ValueError(f"{lower_name} must be < {upper_name} in every coordinate; entry [{j}] has "
                         f"{lower_name}={lower[j]!r} >= {upper_name}={upper[j]!r}")
    return lower, upper


def make_box(x_star: np.ndarray, box, log_mask: np.ndarray, scales: np.ndarray):
    """Lower and upper corners of the sampling box.

    ``box`` is a relative half-width ``delta > 0`` (plain coordinates:
    ``x*_j +- delta * max(1, |x*_j|)``; log coordinates: ``x*_j * exp(-+delta)``) or a pair
    ``(lower, upper)`` of scalars or arrays of shape (n,).
    """
    n = x_star.size
    if isinstance(box, tuple) or (isinstance(box, list) and len(box) == 2):
        lower = as_array(box[0], "box[0] (lower)", kind="float")
        upper = as_array(box[1], "box[1] (upper)", kind="float")
        return ordered_bounds(lower, upper, n, "box[0] (lower)", "box[1] (upper)")
    delta = as_real(box, "box")
    if not (math.isfinite(delta) and delta > 0):
        raise ValueError(f"box (relative half-width) must be finite and > 0, got {delta}")
    lower = x_star - delta * scales
    upper = x_star + delta * scales
    if log_mask.any():
        xl = x_star[log_mask]
        lower[log_mask] = xl * math.exp(delta)
        upper[log_mask] = xl * math.exp(-delta)
    return lower, upper


def sample_box(rng, lower, upper, log_mask):
    """Uniform point in the box; log-uniform in ``|x|`` on log coordinates with a negative box."""
    x = rng.uniform(lower, upper)
    neg = log_mask & (upper < 0)
    if neg.any():
        x[neg] = -np.exp(rng.uniform(np.log(-upper[neg]), np.log(-lower[neg])))
    return x


def min_separation(lower, upper) -> float:
    """Smallest pair distance used: ``1e-4 * max_j (upper_j - lower_j)``.

    Closer pairs would let rounding in F (about ``eps * |F| / distance``) inflate the ratio
    above the true constant; at this separation it stays near ``1e-12`` relative.
    """
    return 1e-4 * float(np.max(upper - lower))


def _ratio(F, x, y, sep=0.0):
    """Secant ratio ``||F(x) - F(y)||_inf / ||x - y||_inf``; nan when ``||x - y||_inf <= sep`` or F is not finite."""
    den = float(np.max(np.abs(x - y)))
    if den <= sep or den == 0.0:
        return math.nan
    fx, fy = F(x), F(y)
    if not (np.all(np.isfinite(fx)) and np.all(np.isfinite(fy))):
        return math.nan
    return float(np.max(np.abs(fx - fy))) / den


# --------------------------------------------------------------------------------------------
# lower bounds


def sampled_lower_bound(F, lower, upper, log_mask, n_samples: int, rng):
    """Random-pair lower bound :math:`\\max_k \\|F(x_k)-F(y_k)\\|_\\infty / \\|x_k-y_k\\|_\\infty`.

    ``x_k, y_k`` are independent uniform points of the box.  Pairs where F is not finite are
    skipped.  Returns ``(bound, best_pair)``; the bound is nan when no pair was usable.
    """
    best, pair = math.nan, None
    sep = min_separation(lower, upper)
    for _ in range(n_samples):
        x = sample_box(rng, lower, upper, log_mask)
        y = sample_box(rng, lower, upper, log_mask)
        r = _ratio(F, x, y, sep)
        if r == r and not (r <= best):
            best, pair = r, (x, y)
    return best, pair


def _sign_vectors(rows: np.ndarray) -> list:
    out = []
    for row in rows:
        u = np.sign(row)
        u[u == 0] = 1.0
        out.append(u)
    return out


def top_row_signs(J, k: int) -> list:
    """Sign vectors ``sign(J_i.)`` of the ``k`` rows of ``J`` with the largest absolute row sums.

    For such a row, ``(J u)_i = sum_j |J_ij|``, i.e. the sign vector attains the row's
    contribution to :math:`\\|J\\|_\\infty`.
    """
    absrow = np.asarray(abs(J).sum(axis=1)).ravel()
    idx = np.argsort(-absrow, kind="stable")[: max(k, 1)]
    if hasattr(J, "getrow"):
        rows = [np.asarray(J.getrow(i).toarray()).ravel() for i in idx]
    else:
        rows = [J[i] for i in idx]
    return _sign_vectors(rows)


def adversarial_lower_bound(F, x_star, lower, upper, log_mask, rng, *, directions, jacobian_at,
                            n_starts: int, rows: int, nm_max: int, maxfev: int, seed_pairs=()):
    """Adversarial lower bound on the box Lipschitz constant (sup norm).

    Procedure (each step only evaluates actual pairs inside the box, so the result is a lower
    bound):

    1. *Sign-vector secants.*  For base points ``z`` (``x_star`` and ``n_starts`` random
       points of the box) and each direction ``u`` in ``directions`` (sign vectors of the
       worst rows of the Jacobian at ``x_star``; plus, when ``jacobian_at`` is given, of the
       Jacobian at ``z``), evaluate the pair ``z +- t u`` for ``t`` in ``{t_fit, t_fit/10,
       t_fit/100}``, with ``t_fit`` the largest ``t`` keeping both points in the box.  Pairs
       closer than :func:`min_separation` are never used (rounding would inflate them).  For a
       linear map and the worst row's sign vector this attains :math:`\\|A\\|_\\infty` exactly.
    2. *Local optimisation.*  For ``n <= nm_max``, Nelder-Mead on the pair ``(x, y)`` (clipped
       to the box) maximising the secant ratio, started from the best pair so far, with at most
       ``maxfev`` objective evaluations.
    3. The pairs in ``seed_pairs`` (e.g. the best random pair) are included, so the result is
       never below the sampled bound.

    Returns
    -------
    float
        The largest ratio found (nan if no pair was usable).
    """
    n = x_star.size
    best, best_pair = math.nan, None
    sep = min_separation(lower, upper)

    def consider(x, y):
        nonlocal best, best_pair
        r = _ratio(F, x, y, sep)
        if r == r and not (r <= best):
            best, best_pair = r, (x.copy(), y.copy())

    for pair in seed_pairs:
        if pair is not None:
            consider(*pair)
    bases = [x_star] + [sample_box(rng, lower, upper, log_mask) for _ in range(n_starts)]
    for b, z in enumerate(bases):
        us = list(directions)
        if b > 0 and jacobian_at is not None:
            Jz = jacobian_at(z)
            if Jz is not None and np.all(np.isfinite(Jz)):
                us += top_row_signs(Jz, rows)
        t_fit = float(np.min(np.minimum(z - lower, upper - z)))
        if not (t_fit > 0):
            continue
        for u in us:
            for t in (t_fit, 0.1 * t_fit, 0.01 * t_fit):
                if 2.0 * t <= sep:
                    continue
                consider(z - t * u, z + t * u)
    if n <= nm_max and best_pair is not None and maxfev > 0:
        def objective(p):
            x = np.clip(p[:n], lower, upper)
            y = np.clip(p[n:], lower, upper)
            r = _ratio(F, x, y, sep)
            return 0.0 if r != r else -r

        start = np.concatenate(best_pair)
        with np.errstate(all="ignore"):
            res = so.minimize(objective, start, method="Nelder-Mead",
                              options={"maxfev": int(maxfev), "xatol": 1e-12, "fatol": 1e-14})
        consider(np.clip(res.x[:n], lower, upper), np.clip(res.x[n:], lower, upper))
    return best


# --------------------------------------------------------------------------------------------
# observed Picard behaviour


def picard_observation(F, x_star, log_mask, scales, rng, *, steps: int, window: int, eps: float,
                       floor: float):
    """Observe plain iteration ``x_{k+1} = F(x_k)`` started near ``x_star``.

    Start: ``x_0 = x_star`` perturbed by ``eps * u_j * scale_j`` with ``u`` uniform in
    ``[-1, 1]^n`` (multiplicatively, ``x*_j exp(-eps u_j)``, on log coordinates).  Steps
    ``d_k = x_{k+1} - x_k`` are recorded.

    Stopping rules: ``||d_k||_inf < floor * max(1, ||x*||_inf)`` (converged to the rounding
    floor), a non-finite value, ``||x_k - x*||_inf > 1e6 * max(1, ||x*||_inf)`` (diverged), or
    ``steps`` iterations.

    Outputs
    -------
    ratio : float
        Geometric-mean step ratio :math:`(\\|d_{k_1}\\|/\\|d_{k_0}\\|)^{1/(k_1-k_0)}` over the last
        ``window`` steps of the *linear regime* (steps with ``||d_k|| <= 100 ||d_0||``, before
        the floor).  Tends to :math:`|\\lambda_{dom}|` when the dominant eigenvalue is simple
        and real; it measures the asymptotic rate, not a Lipschitz constant.
    flip : bool
        Period-2 signature: the median cosine between consecutive steps in that window is
        below -0.9 (steps alternate in direction, as for a dominant negative eigenvalue).
    orbit : bool
        A sustained period-2 orbit at the end of the run:
        ``||x_{K+1} - x_{K-1}||_inf <= 1e-3 ||x_{K+1} - x_K||_inf`` while the step is well above
        the floor.
    amplitude : float
        ``||x_{K+1} - x_K||_inf / 2`` at the end of the run when ``flip`` or ``orbit``, else 0.
    status : str
        ``"converged"``, ``"diverged"``, ``"nonfinite"`` or ``"max_steps"``.
    n_steps : int
        Number of steps taken.
    """
    n = x_star.size
    scale = max(1.0, float(np.max(np.abs(x_star)))) if n else 1.0
    floor_abs = floor * scale
    x = perturb(x_star, rng.uniform(-1.0, 1.0, n) * scales, eps, log_mask)
    norms, cosines, steps_taken = [], [], 0
    d_prev = d_last = None
    status = "max_steps"
    for _ in range(steps):
        fx = F(x)
        if not np.all(np.isfinite(fx)):
            status = "nonfinite"
            break
        d = fx - x
        nd = float(np.max(np.abs(d)))
        steps_taken += 1
        norms.append(nd)
        cos = math.nan
        if d_last is not None:
            den = float(np.linalg.norm(d) * np.linalg.norm(d_last))
            if den > 0:
                cos = float(np.dot(d, d_last)) / den
        cosines.append(cos)
        d_prev, d_last = d_last, d
        x = fx
        if nd < floor_abs:
            status = "converged"
            break
        if float(np.max(np.abs(x - x_star))) > 1e6 * scale:
            status = "diverged"
            break
    if len(norms) < 3:
        return math.nan, False, False, 0.0, status, steps_taken
    d_arr = np.asarray(norms)
    d0 = d_arr[0]
    linear = np.flatnonzero((d_arr > 100.0 * d0) | (d_arr < floor_abs))
    end = int(linear[0]) if linear.size else d_arr.size  # first index outside the regime
    start = max(0, end - 1 - window)
    if end - 1 - start < 1 or d_arr[start] <= 0:
        ratio = math.nan
        cos_window = np.asarray(cosines[1:])
    else:
        ratio = float((d_arr[end - 1] / d_arr[start]) ** (1.0 / (end - 1 - start)))
        cos_window = np.asarray(cosines[start + 1: end])
    cos_window = cos_window[np.isfinite(cos_window)]
    flip = bool(cos_window.size >= 2 and np.median(cos_window) < -0.9)
    orbit = False
    if status == "max_steps" and len(norms) >= 2:
        two_step = float(np.max(np.abs(d_last + d_prev)))
        orbit = bool(norms[-1] > 1e3 * floor_abs and two_step <= 1e-3 * norms[-1])
    amplitude = 0.5 * norms[-1] if (flip or orbit) else 0.0
    return ratio, flip, orbit, amplitude, status, steps_taken
