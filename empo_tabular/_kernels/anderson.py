"""Anderson mixing step (arrays in, preallocated arrays out): the numeric core of ``exact.anderson``.

One call does what took about 15 NumPy calls per iteration (about 40 us at 3,000 unknowns, 17% of a
shared_switch solve): the weighted residual, the push of the new difference pair into the ring buffer with
its Gram row, the regularised least-squares coefficients (Gaussian elimination with partial pivoting on the
``k x k`` Gram system, ``k <= m``) and the extrapolated point.
"""
import numpy as np

from . import kernel

MIX_PLAIN = 0      # no history: take the plain map value
MIX_OK = 1         # ``cand`` holds the extrapolated point
MIX_RESTART = 2    # singular or non-finite coefficients or point: clear the history, take the plain value


@kernel
def weighted_residual(x, gx, w, f):
    """``f = (gx - x) * w``; returns ``max |f|`` (inf if any entry is not finite)."""
    nr = 0.0
    for i in range(x.shape[0]):
        v = (gx[i] - x[i]) * w[i]
        f[i] = v
        a = abs(v)
        if not a <= 1.7976931348623157e308:  # NaN or inf
            return np.inf
        if a > nr:
            nr = a
    return nr


@kernel
def anderson_mix(f, f_prev, gx, g_prev, push, dF, dG, gram, kh, reg, coef, cand):
    """Push ``(f - f_prev, gx - g_prev)`` (if ``push``) into slot ``kh[1]`` of ``(dF, dG)``, update the Gram
    matrix ``dF dF^T`` by one row, and write ``cand = gx - sum_i coef_i dG_i`` with ``coef`` the least-squares
    coefficients of ``f`` on the stored ``dF`` (ridge ``reg * trace``).  ``kh = [k, head]``.  Returns
    ``MIX_PLAIN``, ``MIX_OK`` or ``MIX_RESTART``."""
    n = f.shape[0]
    m = dF.shape[0]
    if push:
        h = kh[1]
        for i in range(n):
            dF[h, i] = f[i] - f_prev[i]
            dG[h, i] = gx[i] - g_prev[i]
        k = min(kh[0] + 1, m)
        kh[0] = k
        for j in range(k):
            acc = 0.0
            for i in range(n):
                acc += dF[j, i] * dF[h, i]
            gram[h, j] = acc
            gram[j, h] = acc
        kh[1] = (h + 1) % m
    k = kh[0]
    if k == 0:
        return MIX_PLAIN
    A = np.empty((k, k))
    b = np.empty(k)
    tr = 0.0
    for j in range(k):
        tr += gram[j, j]
    ridge = reg * max(tr, 1e-300)
    for j in range(k):
        for l in range(k):
            A[j, l] = gram[j, l]
        A[j, j] += ridge
        acc = 0.0
        for i in range(n):
            acc += dF[j, i] * f[i]
        b[j] = acc
    # Gaussian elimination with partial pivoting
    for c in range(k):
        p = c
        for r in range(c + 1, k):
            if abs(A[r, c]) > abs(A[p, c]):
                p = r
        if not abs(A[p, c]) > 0.0:
            return MIX_RESTART
        if p != c:
            for l in range(k):
                A[c, l], A[p, l] = A[p, l], A[c, l]
            b[c], b[p] = b[p], b[c]
        for r in range(c + 1, k):
            fac = A[r, c] / A[c, c]
            for l in range(c, k):
                A[r, l] -= fac * A[c, l]
            b[r] -= fac * b[c]
    for c in range(k - 1, -1, -1):
        acc = b[c]
        for l in range(c + 1, k):
            acc -= A[c, l] * coef[l]
        coef[c] = acc / A[c, c]
        if not abs(coef[c]) <= 1.7976931348623157e308:
            return MIX_RESTART
    for i in range(n):
        v = gx[i]
        for j in range(k):
            v -= coef[j] * dG[j, i]
        if not abs(v) <= 1.7976931348623157e308:
            return MIX_RESTART
        cand[i] = v
    return MIX_OK
