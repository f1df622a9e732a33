"""Phase 2 kernels: per-state backups, sweeps, the Jacobi map and residuals.

Equations (EMPO_SEMANTICS §3.2), for a non-terminal state ``s``::

    Q_r(s, a)   = gamma_r sum_k P(k|s) sum_s' T(s'|s,a,k) V_r(s')
    pi_r(s)     = power_law_beta_r(Q_r(s, .))
    V_h^e(s,h,g)= sum_a pi_r(a|s) sum_k P_hg(k|s) sum_s' T(s'|s,a,k)
                     [1_g(s') + (1 - 1_g(s')) gamma_h V_h^e(s',h,g)]
    X_h(s)      = sum_g w_hg V_h^e(s,h,g)^zeta
    U_r(s)      = -((1/H) sum_h X_h(s)^(-xi))^eta
    V_r(s)      = c_r U_r(s) + sum_a pi_r(a|s) Q_r(s, a)

Terminal states: ``V_r = terminal_v_r``, ``V_h^e = 0``, and ``Q_r``, ``X_h``,
``U_r`` are undefined (NaN), ``pi_r = 0``.

Array conventions: ``prof[S, n_ah]`` = P(k|s), ``prof_fg[S, H, G, n_ah]`` =
P_hg(k|s), ``ach[S, H, G]`` achieved (state-major), ``V[S]``, ``Q[S, n_ar]``,
``PI[S, n_ar]``, ``VE[S, H, G]``, ``X[S, H]``, ``U[S]``.
Status codes returned by kernels: 0 ok, 1 ``X_h = 0`` (index = s * H + h).
"""
import numpy as np
from numba import prange

from . import kernel
from .core import power_law_state, round_fp16

ST_OK = 0
ST_X_ZERO = 1


@kernel(inline="always")
def q_backup(s, ptr, succ, prob, n_ar, n_ah, prof, V, gamma_r, out_q):
    """``out_q[a] = gamma_r * sum_k P(k|s) sum_s' T(s'|s,a,k) V[s']``."""
    for a in range(n_ar):
        acc = 0.0
        for k in range(n_ah):
            w = prof[s, k]
            if w == 0.0:
                continue
            r = (s * n_ar + a) * n_ah + k
            t = 0.0
            for i in range(ptr[r], ptr[r + 1]):
                t += prob[i] * V[succ[i]]
            acc += w * t
        out_q[a] = gamma_r * acc


@kernel(inline="always")
def ve_backup(s, ptr, succ, prob, n_ar, n_ah, prof_fg, ach, VE, gamma_h, PI, out_ve, tmp):
    """V_h^e backup at ``s`` for every (h, g) under the robot policy ``PI[s]``.

    Works on flat goal indices ``m = h * G + g``: ``prof_fg`` has shape
    ``(S, M, n_ah)``, ``ach`` and ``VE`` ``(S, M)``, ``out_ve`` ``(M,)`` and the
    scratch ``tmp`` ``(n_ah, M)``.  ``tmp[k, m]`` collects the robot-averaged
    continuation ``E_k = sum_a pi_a sum_s' T(s'|s,a,k) [1_g(s') + (1 - 1_g(s')) gamma_h VE(s')]``,
    then ``out_ve[m] = sum_k P_hg(k|s) E_k[m]``.  Padding goals need no special
    case: their ``P_hg`` rows are zero, so they get 0.
    """
    M = out_ve.shape[0]
    tmp[:n_ah, :M] = 0.0
    for a in range(n_ar):
        pa = PI[s, a]
        if pa == 0.0:
            continue
        for k in range(n_ah):
            r = (s * n_ar + a) * n_ah + k
            for i in range(ptr[r], ptr[r + 1]):
                j = succ[i]
                w = pa * prob[i]
                wg = w * gamma_h
                for m in range(M):
                    tmp[k, m] += w if ach[j, m] else wg * VE[j, m]
    weigh_by_profiles(s, n_ah, prof_fg, tmp, out_ve)


@kernel(inline="always")
def weigh_by_profiles(s, n_ah, prof_fg, tmp, out_ve):
    """``out_ve[m] = sum_k P_hg(k|s) tmp[k, m]``: the last step of the V_h^e backups."""
    for m in range(out_ve.shape[0]):
        acc = 0.0
        for k in range(n_ah):
            acc += prof_fg[s, m, k] * tmp[k, m]
        out_ve[m] = acc


@kernel(inline="always")
def fill_packed(s, achf, VEf, V, gamma_h, Z):
    """Row ``s`` of the packed successor table: ``Z[s, 0] = V_r(s)``, ``Z[s, 1 + m] = 1_g(s)`` or
    ``gamma_h V_h^e(s, m)``."""
    Z[s, 0] = V[s]
    for m in range(VEf.shape[1]):
        Z[s, 1 + m] = 1.0 if achf[s, m] else gamma_h * VEf[s, m]


@kernel(inline="always")
def ve_backup_packed(s, ptr, succ, prob, n_ar, n_ah, prof_fg, Z, PI, out_ve, tmp):
    """:func:`ve_backup` reading ``1_g(s') + (1 - 1_g(s')) gamma_h V_h^e(s')`` from columns ``1 + m`` of ``Z``.

    One gather of one row of ``Z`` per successor instead of three (V_r, V_h^e and the goal flags live in
    separate arrays); measured at 10^5 random states: 50 -> 42 ms per Gauss-Seidel sweep.
    """
    M = out_ve.shape[0]
    tmp[:n_ah, :M] = 0.0
    for a in range(n_ar):
        pa = PI[s, a]
        if pa == 0.0:
            continue
        for k in range(n_ah):
            r = (s * n_ar + a) * n_ah + k
            for i in range(ptr[r], ptr[r + 1]):
                j = succ[i]
                w = pa * prob[i]
                for m in range(M):
                    tmp[k, m] += w * Z[j, 1 + m]
    weigh_by_profiles(s, n_ah, prof_fg, tmp, out_ve)


@kernel(inline="always")
def fpow(x, e):
    """``x ** e`` with fast paths for the exponents 1, 2, -1 and 0.5 (equal to pow up to the last bit)."""
    if e == 1.0:
        return x
    if e == 2.0:
        return x * x
    if e == -1.0:
        return 1.0 / x
    if e == 0.5:
        return np.sqrt(x)
    return x ** e


@kernel(inline="always")
def x_from_ve(VE, s, goal_weight, goal_count, zeta, out_x):
    """``out_x[h] = sum_g w_hg VE[s, h, g]**zeta``; returns the first h with X_h = 0, or -1."""
    bad = -1
    for h in range(VE.shape[1]):
        acc = 0.0
        for g in range(goal_count[h]):
            w = goal_weight[h, g]
            if w != 0.0:
                acc += w * fpow(VE[s, h, g], zeta)
        out_x[h] = acc
        if acc <= 0.0 and bad < 0:
            bad = h
    return bad


@kernel(inline="always")
def u_from_x(x, xi, eta):
    """``U_r = -((1/H) sum_h x[h]**(-xi))**eta`` (x must be positive)."""
    H = x.shape[0]
    acc = 0.0
    for h in range(H):
        acc += fpow(x[h], -xi)
    return -fpow(acc / H, eta)


@kernel(inline="always")
def soft_value(PI, Q, s):
    """``sum_a PI[s, a] Q[s, a]``."""
    acc = 0.0
    for a in range(Q.shape[1]):
        acc += PI[s, a] * Q[s, a]
    return acc


@kernel(inline="always")
def set_terminal(s, terminal_v_r, Q, PI, VE, X, U, V):
    """Terminal conventions: V_r = terminal_v_r, V_h^e = 0, Q/X/U = NaN, pi = 0."""
    V[s] = terminal_v_r
    U[s] = np.nan
    for a in range(Q.shape[1]):
        Q[s, a] = np.nan
        PI[s, a] = 0.0
    for h in range(X.shape[1]):
        X[s, h] = np.nan
        for g in range(VE.shape[2]):
            VE[s, h, g] = 0.0


@kernel(inline="always")
def set_terminal_rows(terminal, terminal_v_r, achf, VEf, gamma_h, Q, PI, VE, X, U, V, Z):
    """Terminal conventions (:func:`set_terminal`) and packed rows at every terminal state."""
    for s in range(terminal.shape[0]):
        if terminal[s]:
            set_terminal(s, terminal_v_r, Q, PI, VE, X, U, V)
            fill_packed(s, achf, VEf, V, gamma_h, Z)


@kernel(inline="always")
def gs_state(s, terminal, ptr, succ, prob, n_ar, n_ah, prof, pfgf, achf, goal_weight, goal_count, pp, fp16,
             Q, PI, VE, VEf, X, U, V, Z, q, vef, ve3, tmp, x):
    """Chain-order update of one non-terminal state (see :func:`gauss_seidel_sweep`); returns the human with
    X_h = 0, or -1.  Terminal states are set once per sweep by :func:`set_terminal_rows` (they are constants;
    with their branch inside this inlined function the sweep ran 10-25% slower at 10^5 states).

    ``pp = [beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r, alpha]`` (packed so that the
    function stays inlinable into parallel loops).  Successors are read from the packed table ``Z``
    (:func:`fill_packed`), whose row ``s`` is rewritten after the update.
    """
    beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, alpha = pp[0], pp[1], pp[2], pp[3], pp[4], pp[5], pp[6], pp[8]
    M = VEf.shape[1]
    relax = alpha != 1.0
    q_backup(s, ptr, succ, prob, n_ar, n_ah, prof, Z[:, 0], gamma_r, q)  # V_r: column 0 of the packed table
    for a in range(n_ar):
        Q[s, a] = (1.0 - alpha) * Q[s, a] + alpha * q[a] if relax else q[a]
    power_law_state(Q, s, beta_r, PI)
    ve_backup_packed(s, ptr, succ, prob, n_ar, n_ah, pfgf, Z, PI, vef, tmp)
    if relax:
        for m in range(M):
            vef[m] = (1.0 - alpha) * VEf[s, m] + alpha * vef[m]
    bad = x_from_ve(ve3, 0, goal_weight, goal_count, zeta, x)
    if bad >= 0:
        return bad
    for m in range(M):
        VEf[s, m] = round_fp16(vef[m]) if fp16 else vef[m]
    for h in range(x.shape[0]):
        X[s, h] = (1.0 - alpha) * X[s, h] + alpha * x[h] if relax else x[h]
    u = u_from_x(x, xi, eta)
    U[s] = (1.0 - alpha) * U[s] + alpha * u if relax else u
    v = c_r * U[s] + soft_value(PI, Q, s)
    V[s] = (1.0 - alpha) * V[s] + alpha * v if relax else v
    fill_packed(s, achf, VEf, V, gamma_h, Z)
    return -1


@kernel
def gauss_seidel_sweep(order, terminal, ptr, succ, prob, n_ar, n_ah, prof, prof_fg, ach, goal_weight, goal_count,
                       beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r, fp16, alpha,
                       Q, PI, VE, X, U, V, err):
    """One in-place sweep over ``order``, each state updated in chain order.

    At each state: Q_r from the current V_r of the successors, pi_r from the
    new Q_r, V_h^e from pi_r and the current successor V_h^e, then X_h, U_r,
    V_r.  With ``alpha < 1`` every quantity is relaxed,
    ``x <- (1 - alpha) x + alpha * backup`` (pi_r is recomputed from the
    relaxed Q_r).  In acyclic worlds one sweep in reverse topological order
    with ``alpha = 1`` is the exact backward induction.  ``fp16`` rounds the
    stored V_h^e to half precision (the reference's storage); X_h then uses
    the unrounded value.  Reports ``X_h = 0`` through ``err``.
    """
    S = VE.shape[0]
    H = VE.shape[1]
    M = H * VE.shape[2]
    VEf = VE.reshape(S, M)
    achf = ach.reshape(S, M)
    pfgf = prof_fg.reshape(S, M, n_ah)
    q, vef, tmp, x = np.empty(n_ar), np.empty(M), np.empty((n_ah, M)), np.empty(H)
    ve3 = vef.reshape(1, H, VE.shape[2])
    pp = np.array([beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r, alpha])
    Z = np.empty((S, M + 1))
    for s in range(S):
        fill_packed(s, achf, VEf, V, gamma_h, Z)
    set_terminal_rows(terminal, terminal_v_r, achf, VEf, gamma_h, Q, PI, VE, X, U, V, Z)
    for idx in range(order.shape[0]):
        s = order[idx]
        if terminal[s]:
            continue
        bad = gs_state(s, terminal, ptr, succ, prob, n_ar, n_ah, prof, pfgf, achf, goal_weight, goal_count, pp, fp16,
                       Q, PI, VE, VEf, X, U, V, Z, q, vef, ve3, tmp, x)
        if bad >= 0:
            err[0] = ST_X_ZERO
            err[1] = s * H + bad
            return


@kernel(parallel=True)
def backward_levels(level_ptr, level_states, n_chunks, terminal, ptr, succ, prob, n_ar, n_ah, prof, prof_fg, ach,
                    goal_weight, goal_count, beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r, fp16,
                    Q, PI, VE, X, U, V, err):
    """Backward induction level by level, each level split over ``n_chunks`` threads.

    Same result as :func:`gauss_seidel_sweep` in reverse topological order,
    bit for bit: the states of one height only read lower heights.
    """
    S = VE.shape[0]
    H = VE.shape[1]
    M = H * VE.shape[2]
    VEf = VE.reshape(S, M)
    achf = ach.reshape(S, M)
    pfgf = prof_fg.reshape(S, M, n_ah)
    bad_at = np.full(n_chunks, -1, dtype=np.int64)
    pp = np.array([beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r, 1.0])
    Z = np.empty((S, M + 1))  # every row is written at its own level (terminal rows first), before it is read
    set_terminal_rows(terminal, terminal_v_r, achf, VEf, gamma_h, Q, PI, VE, X, U, V, Z)
    for L in range(level_ptr.shape[0] - 1):
        lo = level_ptr[L]
        n = level_ptr[L + 1] - lo
        for c in prange(n_chunks):
            q, vef, tmp, x = np.empty(n_ar), np.empty(M), np.empty((n_ah, M)), np.empty(H)
            ve3 = vef.reshape(1, H, VE.shape[2])
            for idx in range(lo + (n * c) // n_chunks, lo + (n * (c + 1)) // n_chunks):
                s = level_states[idx]
                if terminal[s]:
                    continue
                bad = gs_state(s, terminal, ptr, succ, prob, n_ar, n_ah, prof, pfgf, achf, goal_weight, goal_count,
                               pp, fp16, Q, PI, VE, VEf, X, U, V, Z, q, vef, ve3, tmp, x)
                if bad >= 0 and bad_at[c] < 0:
                    bad_at[c] = s * H + bad
        for c in range(n_chunks):
            if bad_at[c] >= 0:
                err[0] = ST_X_ZERO
                err[1] = bad_at[c]
                return


@kernel
def jacobi_map(terminal, ptr, succ, prob, n_ar, n_ah, prof, prof_fg, ach, goal_weight, goal_count,
               beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, terminal_v_r,
               Q, VE, X, U, V, Q2, PI2, VE2, X2, U2, V2, err):
    """One synchronous application of all equations (the Jacobi map).

    Reads ``(Q, VE, X, U, V)`` and writes ``(Q2, PI2, VE2, X2, U2, V2)``:
    ``Q2`` from ``V``; ``PI2 = pi(Q)``; ``VE2`` from ``pi(Q)`` and ``VE``;
    ``X2`` from ``VE``; ``U2`` from ``X``; ``V2 = c_r U + <pi(Q), Q>``.
    Terminal states get the terminal conventions.  Returns via ``err`` the
    first state whose ``VE`` row gives ``X_h = 0``.
    """
    S = Q.shape[0]
    H = VE.shape[1]
    G = VE.shape[2]
    M = H * G
    VEf = VE.reshape(S, M)
    achf = ach.reshape(S, M)
    pfgf = prof_fg.reshape(S, M, n_ah)
    VE2f = VE2.reshape(S, M)
    vef = np.empty(M)
    tmp = np.empty((n_ah, M))
    x = np.empty(H)
    xin = np.empty(H)
    for s in range(S):
        if terminal[s]:
            set_terminal(s, terminal_v_r, Q2, PI2, VE2, X2, U2, V2)
            continue
        q_backup(s, ptr, succ, prob, n_ar, n_ah, prof, V, gamma_r, Q2[s])
        power_law_state(Q, s, beta_r, PI2)
        ve_backup(s, ptr, succ, prob, n_ar, n_ah, pfgf, achf, VEf, gamma_h, PI2, vef, tmp)
        for m in range(M):
            VE2f[s, m] = vef[m]
        bad = x_from_ve(VE, s, goal_weight, goal_count, zeta, x)
        if bad >= 0 and err[0] == ST_OK:
            err[0] = ST_X_ZERO
            err[1] = s * H + bad
        for h in range(H):
            X2[s, h] = x[h]
        for h in range(H):
            xin[h] = X[s, h]
        U2[s] = u_from_x(xin, xi, eta)
        V2[s] = c_r * U[s] + soft_value(PI2, Q, s)


@kernel
def xu_from_ve(terminal, VE, goal_weight, goal_count, zeta, xi, eta, X, U, err):
    """``X = X(VE)`` and ``U = U(X)`` at every non-terminal state (NaN at terminal ones)."""
    H = VE.shape[1]
    for s in range(VE.shape[0]):
        if terminal[s]:
            U[s] = np.nan
            for h in range(H):
                X[s, h] = np.nan
            continue
        bad = x_from_ve(VE, s, goal_weight, goal_count, zeta, X[s])
        if bad >= 0:
            if err[0] == ST_OK:
                err[0] = ST_X_ZERO
                err[1] = s * H + bad
            U[s] = -np.inf
            continue
        U[s] = u_from_x(X[s], xi, eta)
