"""Phase 2 sweeps on the human-marginal successor table.

In Phase 2 the human profiles ``P(k|s)`` and ``P_hg(k|s)`` are fixed, so the human joint action ``k`` can be
summed out of the transitions once, before any sweep.  For every state ``s`` and robot action ``a`` the table
lists the distinct successors ``s'`` of the rows ``(s, a, k)`` with ``M + 1`` weights each (``M = H * G``)::

    mw[e, 0]     = sum_k P(k|s)    T(s'|s,a,k)      (the Q_r backup)
    mw[e, 1 + m] = sum_k P_hg(k|s) T(s'|s,a,k)      (the V_h^e backup of goal m = h * G + g)

Entries ``e`` of ``(s, a)`` are ``mptr[s * n_ar + a] <= e < mptr[s * n_ar + a + 1]``, successors ``msucc[e]``.
A backup then reads one row of the packed successor table ``Z`` (``Z[s', 0] = V_r(s')``,
``Z[s', 1 + m] = 1_g(s')`` or ``gamma_h V_h^e(s', m)``) per distinct successor, instead of one per row
``(s, a, k)``: in gridworlds, where the robot's and the humans' moves lead to few distinct cells, the 25 rows of
a robot action in a two-human world have 3.8 distinct successors on average (the scenario ``shared_switch``).
The fixed points are those of :func:`.phase2.gauss_seidel_sweep` (same equations, summed in another order).
"""
import numpy as np
from numba import prange

from . import kernel
from .core import power_law_state
from .phase2 import ST_X_ZERO, fill_packed, set_terminal_rows, soft_value, u_from_x, x_from_ve


@kernel
def count_marginal_entries(terminal, ptr, succ, n_ar, n_ah, mark, counts):
    """``counts[s * n_ar + a]`` = number of distinct successors of the rows ``(s, a, .)`` (0 at terminal
    states).  ``mark`` (length S, filled with -1) is scratch."""
    S = terminal.shape[0]
    for s in range(S):
        for a in range(n_ar):
            sa = s * n_ar + a
            c = 0
            if not terminal[s]:
                for k in range(n_ah):
                    r = sa * n_ah + k
                    for i in range(ptr[r], ptr[r + 1]):
                        j = succ[i]
                        if mark[j] != sa:
                            mark[j] = sa
                            c += 1
            counts[sa] = c


@kernel
def fill_marginal_entries(terminal, ptr, succ, prob, n_ar, n_ah, prof, prof_fg, mptr, slot, msucc, mw):
    """Fill ``msucc`` and ``mw`` (zeroed, shape ``(n_entries, M + 1)``) for the offsets ``mptr``
    (:func:`count_marginal_entries`, cumulated); ``prof_fg`` has shape ``(S, M, n_ah)``.  ``slot`` (length S,
    filled with -1) is scratch: the entry of successor ``j`` within the current ``(s, a)``."""
    S = terminal.shape[0]
    M = prof_fg.shape[1]
    for s in range(S):
        if terminal[s]:
            continue
        for a in range(n_ar):
            sa = s * n_ar + a
            nxt = mptr[sa]
            for k in range(n_ah):
                r = sa * n_ah + k
                pk = prof[s, k]
                for i in range(ptr[r], ptr[r + 1]):
                    j = succ[i]
                    e = slot[j]
                    if e < mptr[sa]:  # first time at this (s, a): entries of earlier (s, a) lie below mptr[sa]
                        e = nxt
                        nxt += 1
                        slot[j] = e
                        msucc[e] = j
                    p = prob[i]
                    mw[e, 0] += pk * p
                    for m in range(M):
                        mw[e, 1 + m] += prof_fg[s, m, k] * p


@kernel(inline="always")
def marginal_state(s, n_ar, mptr, msucc, mw, goal_weight, goal_count, pp, Q, PI, VEf, X, U, V, Z, acc, vef, ve3, x):
    """The chain-order update of one non-terminal state (as :func:`.phase2.gs_state` with ``alpha = 1``) from the
    marginal table; returns the human with X_h = 0, or -1.  ``acc`` (shape ``(n_ar, M + 1)``) is scratch."""
    beta_r, gamma_r, zeta, xi, eta, c_r = pp[0], pp[1], pp[3], pp[4], pp[5], pp[6]
    M1 = Z.shape[1]
    for a in range(n_ar):
        for c in range(M1):
            acc[a, c] = 0.0
        sa = s * n_ar + a
        for e in range(mptr[sa], mptr[sa + 1]):
            j = msucc[e]
            for c in range(M1):
                acc[a, c] += mw[e, c] * Z[j, c]
        Q[s, a] = gamma_r * acc[a, 0]
    power_law_state(Q, s, beta_r, PI)
    for m in range(M1 - 1):
        vef[m] = 0.0
    for a in range(n_ar):
        pa = PI[s, a]
        for m in range(M1 - 1):
            vef[m] += pa * acc[a, 1 + m]
    bad = x_from_ve(ve3, 0, goal_weight, goal_count, zeta, x)
    if bad >= 0:
        return bad
    for m in range(M1 - 1):
        VEf[s, m] = vef[m]
    for h in range(x.shape[0]):
        X[s, h] = x[h]
    U[s] = u_from_x(x, xi, eta)
    V[s] = c_r * U[s] + soft_value(PI, Q, s)
    return -1


@kernel(inline="always")
def packed_successor_table(terminal, terminal_v_r, ach, gamma_h, Q, PI, VE, X, U, V):
    """The packed successor table ``Z`` of the current iterate (:func:`.phase2.fill_packed`), with the terminal
    conventions set first."""
    S = VE.shape[0]
    M = VE.shape[1] * VE.shape[2]
    VEf = VE.reshape(S, M)
    achf = ach.reshape(S, M)
    Z = np.empty((S, M + 1))
    for s in range(S):
        fill_packed(s, achf, VEf, V, gamma_h, Z)
    set_terminal_rows(terminal, terminal_v_r, achf, VEf, gamma_h, Q, PI, VE, X, U, V, Z)
    return Z


@kernel(inline="always")
def marginal_chain(order, lo, hi, terminal, n_ar, mptr, msucc, mw, ach, goal_weight, goal_count, pp,
                   Q, PI, VE, X, U, V, Z):
    """Update the states ``order[lo:hi]`` in chain order (:func:`marginal_state`), refreshing their rows of ``Z``;
    returns ``s * H + h`` of the first state whose human ``h`` gets X_h = 0 (the chain stops there), or -1."""
    S, H = VE.shape[0], VE.shape[1]
    M = H * VE.shape[2]
    VEf = VE.reshape(S, M)
    achf = ach.reshape(S, M)
    acc, vef, x = np.empty((n_ar, M + 1)), np.empty(M), np.empty(H)
    ve3 = vef.reshape(1, H, VE.shape[2])
    for idx in range(lo, hi):
        s = order[idx]
        if terminal[s]:
            continue
        bad = marginal_state(s, n_ar, mptr, msucc, mw, goal_weight, goal_count, pp, Q, PI, VEf, X, U, V, Z, acc,
                             vef, ve3, x)
        if bad >= 0:
            return s * H + bad
        fill_packed(s, achf, VEf, V, pp[2], Z)
    return -1


@kernel
def marginal_gauss_seidel_sweep(order, terminal, n_ar, mptr, msucc, mw, ach, goal_weight, goal_count,
                                beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r,
                                Q, PI, VE, X, U, V, err):
    """One in-place Gauss-Seidel sweep over ``order`` on the marginal table: the iterate of
    :func:`.phase2.gauss_seidel_sweep` with ``alpha = 1`` and no fp16, up to rounding.  Reports ``X_h = 0``
    through ``err`` (status, ``s * H + h``)."""
    pp = np.array([beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r, 1.0])
    Z = packed_successor_table(terminal, terminal_v_r, ach, gamma_h, Q, PI, VE, X, U, V)
    bad = marginal_chain(order, 0, order.shape[0], terminal, n_ar, mptr, msucc, mw, ach, goal_weight, goal_count, pp,
                         Q, PI, VE, X, U, V, Z)
    if bad >= 0:
        err[0] = ST_X_ZERO
        err[1] = bad


@kernel(parallel=True)
def block_marginal_gauss_seidel_sweep(order, block_ptr, terminal, n_ar, mptr, msucc, mw, ach, goal_weight,
                                      goal_count, beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r,
                                      Q, PI, VE, X, U, V, err):
    """:func:`marginal_gauss_seidel_sweep` on blocks of ``order`` that run in parallel.

    Block ``b`` is ``order[block_ptr[b]:block_ptr[b + 1]]``.  Within a block the states are updated in
    chain order (Gauss-Seidel); a successor in another block is read as it was when the sweep started
    (Jacobi between blocks).  Each block reads its own copy of the packed successor table, so the result
    depends on the blocks, never on the number of threads or their timing.  Same fixed points.
    """
    pp = np.array([beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r, 1.0])
    Z0 = packed_successor_table(terminal, terminal_v_r, ach, gamma_h, Q, PI, VE, X, U, V)
    n_blocks = block_ptr.shape[0] - 1
    bad_at = np.full(n_blocks, -1, dtype=np.int64)
    for b in prange(n_blocks):
        bad_at[b] = marginal_chain(order, block_ptr[b], block_ptr[b + 1], terminal, n_ar, mptr, msucc, mw, ach,
                                   goal_weight, goal_count, pp, Q, PI, VE, X, U, V, Z0.copy())
    for b in range(n_blocks):
        if bad_at[b] >= 0:
            err[0] = ST_X_ZERO
            err[1] = bad_at[b]
            return
