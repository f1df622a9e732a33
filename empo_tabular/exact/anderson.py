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

from .continuation import InvalidIterate, NewtonOutcome


class History:
    """The last ``m`` difference pairs ``(dF, dG)`` and the Gram matrix ``dF dF^T`` of the stored ``dF``.

    The pairs are kept in a ring buffer (slots ``0 .. k-1`` are filled after a :meth:`clear`); the Gram
    matrix is updated by one row per :meth:`push` (``k`` dot products instead of ``k^2``: at 10^6 states
    the full product costs about as much as a sweep).
    """

    def __init__(self, n, m):
        self.dF = np.empty((m, n))
        self.dG = np.empty((m, n))
        self.gram = np.zeros((m, m))
        self.m, self.k, self.head = m, 0, 0

    def push(self, df, dg):
        h = self.head
        self.dF[h] = df
        self.dG[h] = dg
        self.k = min(self.k + 1, self.m)
        row = self.dF[:self.k] @ df
        self.gram[h, :self.k] = row
        self.gram[:self.k, h] = row
        self.head = (h + 1) % self.m

    def clear(self):
        self.k = 0
        self.head = 0


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
    f_prev = g_prev = None
    best, best_g, best_it = math.inf, None, 0
    accept = tol if accept is None else max(tol, accept)
    for it in range(1, max_iter + 1):
        w = 1.0 if weights is None else weights(gx)
        f = (gx - x) * w
        nr = float(np.max(np.abs(f))) if n else 0.0
        if not math.isfinite(nr):
            return NewtonOutcome(x, math.inf, it, False, "non-finite residual")
        if nr <= tol:
            return NewtonOutcome(gx, nr, it, True)
        if nr > restart_growth * best:
            hist.clear()  # diverging extrapolation: restart from the plain sweep
            f_prev = None
        if nr < best:
            best, best_g, best_it = nr, gx, it
        elif it - best_it >= patience and best <= accept:
            return NewtonOutcome(best_g, best, it, True, f"stagnated at residual {best:.3g} (rounding)")
        elif it - best_it >= stall:
            return NewtonOutcome(best_g, best, it, False, f"no progress in {stall} sweeps (best residual {best:.3g})")
        if f_prev is not None:
            hist.push(f - f_prev, gx - g_prev)
        f_prev, g_prev = f, gx
        x_new = gx
        k = hist.k
        if k:
            Fk, Gk = hist.dF[:k], hist.dG[:k]
            gram = hist.gram[:k, :k].copy()
            gram[np.diag_indices(k)] += reg * max(float(np.trace(gram)), 1e-300)
            try:
                gamma = np.linalg.solve(gram, Fk @ f)
            except np.linalg.LinAlgError:
                gamma = None
            if gamma is not None and np.all(np.isfinite(gamma)):
                with np.errstate(over="ignore", invalid="ignore"):
                    cand = gx - gamma @ Gk  # an ill-conditioned history can overflow: then restart below
                if not np.all(np.isfinite(cand)):
                    cand = None
                elif project is not None:
                    cand = project(cand)
                if cand is not None:
                    x_new = cand
                else:
                    hist.clear()
                    f_prev = None
            else:
                hist.clear()
                f_prev = None
        try:
            g_new = gmap(x_new)
        except InvalidIterate:
            if x_new is gx:
                return NewtonOutcome(x, nr, it, False, "the plain sweep left the admissible set")
            hist.clear()
            f_prev = None
            x_new = gx
            try:
                g_new = gmap(x_new)
            except InvalidIterate:
                return NewtonOutcome(x, nr, it, False, "the plain sweep left the admissible set")
        x, gx = x_new, g_new
    w = 1.0 if weights is None else weights(gx)
    nr = float(np.max(np.abs((gx - x) * w))) if n else 0.0
    return NewtonOutcome(gx, nr, max_iter, nr <= tol, "" if nr <= tol else f"iteration limit ({max_iter} sweeps)")
