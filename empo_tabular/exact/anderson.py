"""Anderson acceleration of a fixed-point map ``x = g(x)`` (type II, with restarts).

The stationary solvers apply it to one in-place Gauss-Seidel sweep of the Phase 1 or Phase 2 backup
(``_kernels/phase1.py``, ``_kernels/phase2.py``): the sweep is cheap (about 1 ns per transition and goal)
and already a good smoother, and Anderson mixing of the last ``m`` sweeps turns its linear convergence
into a Krylov-like one without assembling a Jacobian or factorising anything.  Memory: ``2 m`` vectors of
the unknowns' length, nothing dense in the number of unknowns squared.

One iteration, with ``f_k = W (g(x_k) - x_k)`` (``W`` a diagonal scaling that makes the sup norm of
``f`` the solver's stopping measure)::

    gamma   = argmin || f_k - dF gamma ||_2          (dF: the last m differences of f)
    x_{k+1} = g(x_k) - dG gamma                       (dG: the same differences of g(x))

Safeguards: the extrapolated point is passed through ``project`` (None = not admissible, e.g. a value
of the wrong sign); if it is not admissible, or the residual grew by more than ``restart_growth`` over
the best one seen, the history is cleared and the plain sweep ``g(x_k)`` is taken.
"""
from __future__ import annotations

import math

import numpy as np

from .._kernels import anderson as _ka
from .continuation import InvalidIterate, NewtonOutcome


class History:
    """The last ``m`` difference pairs ``(dF, dG)`` and the Gram matrix ``dF dF^T`` of the stored ``dF``.

    The pairs are kept in a ring buffer (slots ``0 .. k-1`` are filled after a :meth:`clear`); the Gram
    matrix is updated by one row per push (``k`` dot products instead of ``k^2``: at 10^6 states the full
    product costs about as much as a sweep).  ``kh = [k, head]`` is shared with the mixing kernel
    (``_kernels.anderson.anderson_mix``), which pushes during the iteration.
    """

    def __init__(self, n, m):
        self.dF = np.empty((m, n))
        self.dG = np.empty((m, n))
        self.gram = np.zeros((m, m))
        self.kh = np.zeros(2, dtype=np.int64)
        self.m = m

    @property
    def k(self) -> int:
        return int(self.kh[0])

    @property
    def head(self) -> int:
        return int(self.kh[1])

    def push(self, df, dg):
        """Store one pair (the kernel's push, for callers outside the iteration)."""
        zero = np.zeros_like(df)
        _ka.anderson_mix(np.asarray(df, dtype=float), zero, np.asarray(dg, dtype=float), zero, True, self.dF,
                         self.dG, self.gram, self.kh, 0.0, np.empty(self.m), np.empty(df.shape[0]))

    def clear(self):
        self.kh[:] = 0


def anderson(gmap, x0, *, tol, weights=None, m=8, max_iter=500, project=None, restart_growth=1e3,
             reg=1e-14, history=None, accept=None, patience=30, stall=150) -> NewtonOutcome:
    """Solve ``x = gmap(x)`` by Anderson-accelerated iteration.

    Parameters
    ----------
    gmap : callable
        ``x -> g(x)`` (a new array); may raise :class:`InvalidIterate`.
    x0 : array
        Start (admissible).
    tol : float
        Stop when ``max |W (g(x) - x)| <= tol``; the returned ``z`` is then
        ``g(x)``, the last sweep's output.
    weights : callable, optional
        ``g(x) -> W`` (a positive array of the same length), e.g. ``1/|V|``
        for relative residuals of negative values; default 1.
    m : int
        History length.
    accept, patience : float, int
        Stop with success when the residual has not improved for ``patience`` iterations and its best value
        is at most ``accept`` (rounding floor).
    stall : int
        Stop with failure when the residual has not improved for ``stall`` iterations (a continuation then
        shortens its step instead of spending ``max_iter`` sweeps on a corrector that cycles).
    project : callable, optional
        ``x -> x'`` or None (not admissible) applied to every extrapolated point.

    Returns
    -------
    NewtonOutcome
        ``iterations`` counts the applications of ``gmap``.
    """
    x = np.array(x0, dtype=np.float64)
    try:
        gx = gmap(x)
    except InvalidIterate as exc:
        return NewtonOutcome(x, math.inf, 1, False, f"invalid start: {exc}")
    n = x.shape[0]
    hist = History(n, m) if history is None else history
    f, f_prev = np.empty(n), np.empty(n)
    ones = np.ones(n)
    coef = np.empty(hist.m)
    have_prev = False
    g_prev = gx
    best, best_g, best_it = math.inf, None, 0
    accept = tol if accept is None else max(tol, accept)
    for it in range(1, max_iter + 1):
        w = ones if weights is None else weights(gx)
        nr = _ka.weighted_residual(x, gx, w, f) if n else 0.0
        if not math.isfinite(nr):
            return NewtonOutcome(x, math.inf, it, False, "non-finite residual")
        if nr <= tol:
            return NewtonOutcome(gx, nr, it, True)
        if nr > restart_growth * best:
            hist.clear()  # diverging extrapolation: restart from the plain sweep
            have_prev = False
        if nr < best:
            best, best_g, best_it = nr, gx, it
        elif it - best_it >= patience and best <= accept:
            return NewtonOutcome(best_g, best, it, True, f"stagnated at residual {best:.3g} (rounding)")
        elif it - best_it >= stall:
            return NewtonOutcome(best_g, best, it, False, f"no progress in {stall} sweeps (best residual {best:.3g})")
        cand = np.empty(n)
        status = _ka.anderson_mix(f, f_prev, gx, g_prev, have_prev, hist.dF, hist.dG, hist.gram, hist.kh, reg,
                                  coef, cand)
        f, f_prev = f_prev, f  # f_prev now holds this iteration's residual
        have_prev, g_prev = True, gx
        x_new = gx
        if status == _ka.MIX_OK:
            cand = project(cand) if project is not None else cand
            if cand is not None:
                x_new = cand
            else:
                hist.clear()
                have_prev = False
        elif status == _ka.MIX_RESTART:
            hist.clear()
            have_prev = False
        try:
            g_new = gmap(x_new)
        except InvalidIterate:
            if x_new is gx:
                return NewtonOutcome(x, nr, it, False, "the plain sweep left the admissible set")
            hist.clear()
            have_prev = False
            x_new = gx
            try:
                g_new = gmap(x_new)
            except InvalidIterate:
                return NewtonOutcome(x, nr, it, False, "the plain sweep left the admissible set")
        x, gx = x_new, g_new
    nr = _ka.weighted_residual(x, gx, ones if weights is None else weights(gx), f) if n else 0.0
    return NewtonOutcome(gx, nr, max_iter, nr <= tol, "" if nr <= tol else f"iteration limit ({max_iter} sweeps)")
