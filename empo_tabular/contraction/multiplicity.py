"""The multiplicity search of :func:`~.empo_sweep.analyze_contraction`: where it runs (a timed estimate against a
budget), how (log coordinates, the analytic Jacobian, user starts, an adjustable box) and what it reports
(Q* of every point found, how hard it searched), plus the stability of a fixed point per iteration."""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .fixed_points import find_fixed_points

__all__ = ["fixed_point_search", "plan_search", "search_box", "stability"]


def stability(rho, max_re, rho_abs=math.nan, rho_abs_kind="exact") -> dict:
    """Local stability of the fixed point per iteration (CONTRACTION_THEORY §0 item 3).

    ``stable_sync``: synchronous undamped iteration, ``rho(J) < 1``; ``stable_ode``: small damped steps / the
    ODE limit, ``max Re lambda < 1``; ``stable_async``: every asynchronous schedule, ``rho(|J|) < 1`` (None
    when undetermined: ``rho_abs`` only an upper bound >= 1 while ``rho < 1``, or not computed).
    """
    out = {"stable_sync": bool(rho < 1.0), "stable_ode": bool(max_re < 1.0)}
    if rho_abs_kind == "exact" and math.isfinite(rho_abs):
        out["stable_async"] = bool(rho_abs < 1.0)
    elif math.isfinite(rho_abs) and rho_abs < 1.0:
        out["stable_async"] = True
    elif rho >= 1.0:
        out["stable_async"] = False  # rho(|J|) >= rho(J)
    else:
        out["stable_async"] = None
    return out


def search_box(q_star, box):
    """Search box of the multiplicity search: ``box`` a factor ``c > 1`` -> ``[c min q*, max q* / c]`` (scalars,
    every coordinate), or a pair ``(lower, upper)`` of scalars or arrays of length n_q (negative)."""
    if isinstance(box, (tuple, list)):
        lo = np.broadcast_to(np.asarray(box[0], dtype=float), q_star.shape).copy()
        hi = np.broadcast_to(np.asarray(box[1], dtype=float), q_star.shape).copy()
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi) and np.all(hi < 0)):
            raise ValueError("fixed_point_box = (lower, upper) must be finite with lower < upper < 0")
        return lo, hi
    c = float(box)
    if not (math.isfinite(c) and c > 1.0):
        raise ValueError(f"fixed_point_box must be a factor > 1 or a pair (lower, upper), got {box!r}")
    return np.full(q_star.shape, c * float(np.min(q_star))), np.full(q_star.shape, float(np.max(q_star)) / c)


class TrialTimeout(Exception):
    """The timed trial of :func:`plan_search` passed its deadline (the search is then known to exceed its budget)."""


def fixed_point_search(maps, q_star, beta, n_starts, seed, s0, box=3.0, starts=None, n_jobs=1, deadline=None):
    """Distinct fixed points of R_beta in a box around the branch point (log coordinates, analytic Jacobian).

    Returns ``(points, fps)``: the JSON summaries (``V_r_s0``, stability per iteration, ``rho``, ``max_re``,
    ``residual``, ``q_min``, ``q_max``, ``log_dist_to_branch`` = max |log(q/q*)|, ``on_branch``) and the
    FixedPointSet (rows = the q vectors).  ``deadline`` (a ``time.perf_counter()`` value, serial searches only):
    the next evaluation of the map after it raises :class:`TrialTimeout`.
    """
    lo, hi = search_box(q_star, box)
    last = {}  # the reduced_state of the latest F(q): the Jacobian at that q (the usual case) reuses it

    def F(q):  # outside Q < 0 the map is undefined: report non-finite values to the root finder
        if deadline is not None and time.perf_counter() > deadline:
            raise TrialTimeout
        if not np.all(q < 0):
            return np.full(q.size, np.nan)
        st = maps.reduced_state(q, beta)
        last.update(q=q.copy(), state=st)
        return st["q_next"]

    def jacobian(q):
        st = last.get("state") if np.array_equal(last.get("q"), q) else None
        P, W, _ = maps.reduced_factors(q, beta, state=st)
        return np.asarray(P @ W)  # = maps.reduced_jacobian(q, beta)

    user = [q_star]
    if starts is not None:
        st = np.asarray(starts, dtype=float)
        user += list(st.reshape(-1, q_star.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fps = find_fixed_points(F, lo, hi, n_starts, seed, log_coords=True, starts=np.array(user),
                                jacobian=jacobian, n_jobs=n_jobs)
    pts = []
    for k in range(fps.shape[0]):
        q = np.asarray(fps[k])
        v = float(maps.reduced_state(q, beta)["V_r"][s0])
        dist = float(np.max(np.abs(np.log(q / q_star)))) if q.size else 0.0
        pts.append({"V_r_s0": v, "stable": bool(fps.stable[k]),
                    **stability(float(fps.rho[k]), float(fps.max_re[k])), "rho": float(fps.rho[k]),
                    "max_re": float(fps.max_re[k]), "residual": float(fps.residual[k]),
                    "q_min": float(q.min()), "q_max": float(q.max()), "log_dist_to_branch": dist,
                    "on_branch": bool(dist <= 1e-6)})
    return pts, fps


def plan_search(em, grid, sols, fp, seed, s0, n_jobs):
    """``(search, reason, estimate_seconds)``: whether the multiplicity search is affordable (timed trial)."""
    if fp["starts"] <= 0:
        return False, "n_fixed_point_starts = 0", None
    if fp["max_dim"] is not None and em.n_q > int(fp["max_dim"]):
        return False, f"n_q = {em.n_q} > fixed_point_max_dim = {fp['max_dim']}", None
    beta = grid[-1]
    q_star = em.pack_q(sols[-1]["Q_r"])
    user = fp["user"]
    n_user = 0 if user is None or isinstance(user, dict) else np.asarray(user).reshape(-1, em.n_q).shape[0]
    scale = (fp["starts"] + 1 + n_user) * len(grid) / max(1, n_jobs)  # estimate = per_start * scale
    # the trial (the branch point and one random start) stops once it has shown the estimate over the budget
    limit = 2.0 * fp["budget"] / scale
    t0 = time.perf_counter()
    try:
        fixed_point_search(em, q_star, beta, 1, seed, s0, fp["box"], None, 1, deadline=t0 + limit)
    except TrialTimeout:
        elapsed = time.perf_counter() - t0
        return False, (f"estimated > {elapsed / 2.0 * scale:.3g} s (the trial of one start at beta_r = {beta:g} "
                       f"was stopped after {elapsed:.3g} s) > fixed_point_budget = {fp['budget']:g} s"), None
    per_start = (time.perf_counter() - t0) / 2.0  # the trial ran the branch point and one random start
    est = per_start * scale
    if est > fp["budget"]:
        return False, (f"estimated {est:.3g} s (one start took {per_start:.3g} s at beta_r = {beta:g}) > "
                       f"fixed_point_budget = {fp['budget']:g} s"), est
    return True, "", est
