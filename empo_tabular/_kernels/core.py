"""Numerical primitives shared by the Phase 1, Phase 2 and SA kernels.

* :func:`power_law_row` — the robot's power-law policy in log space,
* :func:`softmax_row` — the human's Boltzmann policy with max subtraction,
* :func:`round_fp16` — IEEE half-precision rounding of a float64 (round to
  nearest, ties to even), used to emulate the reference's float16 storage.

Note on the Numba cache: a kernel in another file that calls these helpers
is not recompiled when only this file changes (a documented Numba
limitation).  Developers who edit this file should clear ``__pycache__`` or
use a fresh ``NUMBA_CACHE_DIR``; CI always starts with an empty cache.
"""
import math

import numpy as np

from . import kernel

TIE_RTOL = 1e-12


@kernel(inline="always")
def round_fp16(x):
    """Round a float64 to the nearest IEEE binary16 value (ties to even)."""
    if x == 0.0 or not np.isfinite(x):
        return x
    a = abs(x)
    if a >= 65520.0:
        return math.copysign(np.inf, x)
    m, e = math.frexp(a)  # a = m * 2**e with m in [0.5, 1)
    lead = e - 1  # exponent of the leading bit
    q = lead - 10 if lead >= -14 else -24  # exponent of one unit in the last place
    y = math.ldexp(a, -q)  # exact: scaling by a power of two
    r = math.floor(y)
    frac = y - r
    if frac > 0.5 or (frac == 0.5 and (r % 2.0) == 1.0):
        r += 1.0
    return math.copysign(math.ldexp(r, q), x)


@kernel
def power_law_row(q, beta, out):
    """``out[a] = (-q[a])**(-beta) / sum_b (-q[b])**(-beta)`` computed in log space.

    ``q`` must be strictly negative.  ``beta = 0`` gives the uniform policy,
    ``beta = inf`` the uniform policy over the actions whose ``q`` is within
    ``TIE_RTOL`` (relative) of the largest (least negative) ``q``.
    """
    n = q.shape[0]
    if beta == 0.0:
        for a in range(n):
            out[a] = 1.0 / n
        return
    if beta == np.inf:
        best = q[0]
        for a in range(1, n):
            if q[a] > best:
                best = q[a]
        thresh = best - TIE_RTOL * abs(best)
        cnt = 0
        for a in range(n):
            if q[a] >= thresh:
                cnt += 1
        for a in range(n):
            out[a] = 1.0 / cnt if q[a] >= thresh else 0.0
        return
    m = -np.inf
    for a in range(n):
        z = -beta * math.log(-q[a])
        out[a] = z
        if z > m:
            m = z
    tot = 0.0
    for a in range(n):
        e = math.exp(out[a] - m)
        out[a] = e
        tot += e
    for a in range(n):
        out[a] /= tot


@kernel(inline="always")
def softmax_row(x, n, beta, out):
    """Boltzmann policy over the first ``n`` entries of ``x``; the rest of ``out`` is 0.

    ``beta = 0``: uniform; ``beta = inf``: uniform over the entries within
    ``TIE_RTOL`` (relative, at least absolute ``TIE_RTOL``) of the maximum.
    """
    for a in range(n, out.shape[0]):
        out[a] = 0.0
    if beta == 0.0:
        for a in range(n):
            out[a] = 1.0 / n
        return
    m = x[0]
    for a in range(1, n):
        if x[a] > m:
            m = x[a]
    if beta == np.inf:
        thresh = m - TIE_RTOL * max(abs(m), 1.0)
        cnt = 0
        for a in range(n):
            if x[a] >= thresh:
                cnt += 1
        for a in range(n):
            out[a] = 1.0 / cnt if x[a] >= thresh else 0.0
        return
    tot = 0.0
    for a in range(n):
        e = math.exp(beta * (x[a] - m))
        out[a] = e
        tot += e
    for a in range(n):
        out[a] /= tot


@kernel(inline="always")
def power_law_state(Q, s, beta, PI):
    """:func:`power_law_row` on row ``s`` of ``Q`` into row ``s`` of ``PI`` (no array views)."""
    n = Q.shape[1]
    if beta == 0.0:
        for a in range(n):
            PI[s, a] = 1.0 / n
        return
    if beta == np.inf:
        best = Q[s, 0]
        for a in range(1, n):
            if Q[s, a] > best:
                best = Q[s, a]
        thresh = best - TIE_RTOL * abs(best)
        cnt = 0
        for a in range(n):
            if Q[s, a] >= thresh:
                cnt += 1
        for a in range(n):
            PI[s, a] = 1.0 / cnt if Q[s, a] >= thresh else 0.0
        return
    m = -np.inf
    for a in range(n):
        z = -beta * math.log(-Q[s, a])
        PI[s, a] = z
        if z > m:
            m = z
    tot = 0.0
    for a in range(n):
        e = math.exp(PI[s, a] - m)
        PI[s, a] = e
        tot += e
    for a in range(n):
        PI[s, a] /= tot


@kernel
def power_law_table(Q, beta, rows, out):
    """Apply :func:`power_law_row` to ``Q[s]`` for every ``s`` with ``rows[s]``; others get 0."""
    for s in range(Q.shape[0]):
        if rows[s]:
            power_law_row(Q[s], beta, out[s])
        else:
            for a in range(Q.shape[1]):
                out[s, a] = 0.0
