"""The two-timescale SA update loop on exact tables (one jitted kernel, run in chunks).

Per step the kernel picks the state(s) to update (uniform, sweep, all at once
or the current state of a trajectory), computes every active quantity's
target from the *target tables* and their caches, and moves the online
tables ``x <- x + lr (target - x)``.  Targets at one state are all computed
before any update at that state.  Caches (per state, from the target
tables): ``PIt`` = power law of ``Qt`` at the beta_r in force when the row
was refreshed, ``Ut`` = U_r, ``Vdt`` = V_r used in Q_r targets.  A visited
row is refreshed after its update; all rows are refreshed after target
copies, after synchronous steps, every ``ip[IP_RAMP_EVERY]`` steps of the
beta_r ramp and at its end, so that once beta_r is final every cached policy
uses it.

Packed arguments (indices below): ``ip`` int64 settings, ``fp`` float64
settings, ``ctr`` int64 counters (mutable), ``rng`` uint64[4] state.
The U_r table holds ``y = mean_h X_h^-xi`` (``U_r = -y^eta``), as the reference.
"""
import numpy as np

from . import kernel
from .core import power_law_state
from .phase2 import fpow, q_backup, soft_value, ve_backup, x_from_ve
from .rng import rng_categorical, rng_categorical_row, rng_index, rng_successor, rng_uniform

# ip
IP_MODE, IP_VISIT, IP_XL, IP_UL, IP_VL, IP_KSEP, IP_XTGT, IP_GASSIGN, IP_EPLEN = 0, 1, 2, 3, 4, 5, 6, 7, 8
IP_E1, IP_E2, IP_E3, IP_E4, IP_E5, IP_F, IP_LRCLOCK, IP_N0, IP_S0 = 9, 10, 11, 12, 13, 14, 15, 16, 17
IP_INT0 = 18  # five target intervals: ve, x, u, q, v
IP_ALIAS0 = 23  # five alias flags (target table is the online table)
IP_RAMP_EVERY = 28  # full cache refresh every that many steps of the beta_r ramp
IP_SIZE = 29
# fp
FP_GR, FP_GH, FP_ZETA, FP_XI, FP_ETA, FP_CR, FP_TV, FP_XFLOOR, FP_GRESAMPLE, FP_TAU, FP_OMEGA = range(11)
FP_SIZE = 11
# ctr
C_T, C_CUR, C_EPSTEP, C_SWEEP, C_UPDATES = 0, 1, 2, 3, 4
C_SIZE = 5
# quantity order in lr arrays
Q_VE, Q_X, Q_U, Q_Q, Q_V = 0, 1, 2, 3, 4
# settings values
MODE_EXPECTED, MODE_SAMPLED = 0, 1
VISIT_UNIFORM, VISIT_SWEEP, VISIT_SYNC, VISIT_ONPOLICY = 0, 1, 2, 3
XT_EXACT, XT_SAMPLED, XT_ASSIGNED = 0, 1, 2


def scratch_arrays(S, n_ar, n_ah, H, G, sync):
    """Scratch arrays for :func:`sa_chunk` (per-state target rows only for synchronous visits)."""
    M = H * G
    ns = S if sync else 1
    return (np.empty((ns, n_ar)), np.ones((ns, n_ar), dtype=np.bool_), np.zeros((ns, M)),
            np.ones((ns, M), dtype=np.bool_), np.zeros((ns, H)), np.zeros((ns, 2)), np.empty(n_ar),
            np.ones(n_ar, dtype=np.bool_), np.zeros(M), np.ones(M, dtype=np.bool_), np.zeros(H), np.zeros(2),
            np.empty((n_ah, M)), np.empty(H), np.zeros(5))


@kernel(inline="always")
def u_value(x, xi, eta, floor):
    """``-(mean_h max(x_h, floor)^-xi)^eta``."""
    acc = 0.0
    for h in range(x.shape[0]):
        acc += fpow(max(x[h], floor), -xi)
    return -fpow(acc / x.shape[0], eta)


@kernel(inline="always")
def refresh_state(s, beta, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, Yt, Vt, PIt, Ut, Vdt, xbuf):
    """Recompute the caches ``PIt[s]``, ``Ut[s]``, ``Vdt[s]`` from the target tables."""
    power_law_state(Qt, s, beta, PIt)
    if ip[IP_UL]:
        Ut[s] = -fpow(Yt[s], fp[FP_ETA])
    else:
        if ip[IP_XL]:
            for h in range(xbuf.shape[0]):
                xbuf[h] = Xt[s, h]
        else:
            x_from_ve(VEt, s, goal_weight, goal_count, fp[FP_ZETA], xbuf)
        Ut[s] = u_value(xbuf, fp[FP_XI], fp[FP_ETA], fp[FP_XFLOOR])
    if ip[IP_VL]:
        Vdt[s] = Vt[s]
    else:
        Vdt[s] = fp[FP_CR] * Ut[s] + soft_value(PIt, Qt, s)


@kernel
def behaviour_profile(s, eps_h, ip, prof, marg, pi_h, assigned, strides, lookup, n_own, rng):
    """Joint human profile of the behaviour (trajectory) policy at ``s``."""
    H = strides.shape[0]
    if not ip[IP_GASSIGN] and eps_h == 0.0:
        return rng_categorical_row(prof, s, rng)
    flat = 0
    for h in range(H):
        if eps_h > 0.0 and rng_uniform(rng) < eps_h:
            a = rng_index(n_own[h], rng)
        elif ip[IP_GASSIGN]:
            a = rng_categorical(pi_h[s, h, assigned[h]], rng)
        else:
            a = rng_categorical(marg[s, h], rng)
        flat += a * strides[h]
    return lookup[flat]


@kernel
def behaviour_robot(s, eps_r, PIt, rng):
    """Robot action of the behaviour policy ``(1 - eps) pi_r^tgt + eps uniform``."""
    if eps_r > 0.0 and rng_uniform(rng) < eps_r:
        return rng_index(PIt.shape[1], rng)
    return rng_categorical_row(PIt, s, rng)


@kernel
def draw_goal(goal_weight, goal_count, h, rng):
    """A goal of human ``h`` drawn with probability ``w_hg / W_h``."""
    tot = 0.0
    for g in range(goal_count[h]):
        tot += goal_weight[h, g]
    u = rng_uniform(rng) * tot
    acc = 0.0
    for g in range(goal_count[h]):
        acc += goal_weight[h, g]
        if u < acc:
            return g
    return goal_count[h] - 1


@kernel
def resample_goals(goal_weight, goal_count, assigned, rng):
    """Draw every human's assigned goal afresh."""
    for h in range(assigned.shape[0]):
        assigned[h] = draw_goal(goal_weight, goal_count, h, rng)


@kernel
def state_targets(s, kb, ar_b, sp_b, ip, fp, ptr, succ, prob, n_ar, n_ah, prof, pfgf, achf, goal_weight,
                  goal_count, Wh, assigned, Qt, VEt, VEtf, Xt, PIt, Ut, Vdt, rng, tq, mq, tve, mve, tx, ty_tv, tmp,
                  xbuf):
    """Targets at ``s``; ``mq``/``mve`` mark the entries that get an update.

    V_h^e quantities use flat goal indices ``m = h * G + g`` (``VEtf``,
    ``achf``, ``pfgf``, ``tve``, ``mve``; see ``phase2.ve_backup``).
    ``kb``, ``ar_b``, ``sp_b``: the behaviour sample (human profile, robot
    action, successor) or -1 when none was drawn.  ``ty_tv`` receives
    ``[y target, V_r target]``.
    """
    H = VEt.shape[1]
    G = VEt.shape[2]
    gr = fp[FP_GR]
    gh = fp[FP_GH]
    sampled = ip[IP_MODE] == MODE_SAMPLED
    gassign = ip[IP_GASSIGN] != 0
    # ---- Q_r
    if sampled:
        for a in range(n_ar):
            mq[a] = False
        mq[ar_b] = True
        tq[ar_b] = gr * Vdt[sp_b]
    elif gassign:
        for a in range(n_ar):
            r = (s * n_ar + a) * n_ah + kb
            acc = 0.0
            for i in range(ptr[r], ptr[r + 1]):
                acc += prob[i] * Vdt[succ[i]]
            tq[a] = gr * acc
            mq[a] = True
    else:
        q_backup(s, ptr, succ, prob, n_ar, n_ah, prof, Vdt, gr, tq)
        for a in range(n_ar):
            mq[a] = True
    # ---- V_h^e
    if gassign:
        for m in range(H * G):
            mve[m] = False
        for h in range(H):
            m = h * G + assigned[h]
            acc = 0.0
            for a in range(n_ar):
                pa = PIt[s, a]
                if pa == 0.0:
                    continue
                r = (s * n_ar + a) * n_ah + kb
                for i in range(ptr[r], ptr[r + 1]):
                    j = succ[i]
                    if achf[j, m]:
                        acc += pa * prob[i]
                    else:
                        acc += pa * prob[i] * gh * VEtf[j, m]
            tve[m] = acc
            mve[m] = True
    elif sampled:
        for h in range(H):
            for g in range(G):
                m = h * G + g
                mve[m] = g < goal_count[h]
                if g >= goal_count[h]:
                    continue
                a = rng_categorical_row(PIt, s, rng)
                k = rng_categorical(pfgf[s, m], rng)
                j = rng_successor(ptr, succ, prob, (s * n_ar + a) * n_ah + k, rng)
                tve[m] = 1.0 if achf[j, m] else gh * VEtf[j, m]
    else:
        ve_backup(s, ptr, succ, prob, n_ar, n_ah, pfgf, achf, VEtf, gh, PIt, tve, tmp)
        for m in range(H * G):
            mve[m] = True
    # ---- X_h
    if ip[IP_XL]:
        kind = ip[IP_XTGT]
        if kind == XT_EXACT:
            x_from_ve(VEt, s, goal_weight, goal_count, fp[FP_ZETA], tx)
        else:
            for h in range(H):
                if kind == XT_ASSIGNED:
                    g = assigned[h]
                else:
                    g = draw_goal(goal_weight, goal_count, h, rng)
                tx[h] = Wh[h] * fpow(VEt[s, h, g], fp[FP_ZETA])
    yv_targets(s, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, PIt, Ut, n_ar, ty_tv, xbuf)


@kernel(inline="always")
def yv_targets(s, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, PIt, Ut, n_ar, ty_tv, xbuf):
    """Targets of the learned U_r table (``y = mean_h X_h^-xi``) and V_r table at ``s``."""
    H = xbuf.shape[0]
    if ip[IP_UL]:
        if ip[IP_XL]:
            for h in range(H):
                xbuf[h] = Xt[s, h]
        else:
            x_from_ve(VEt, s, goal_weight, goal_count, fp[FP_ZETA], xbuf)
        acc = 0.0
        for h in range(H):
            acc += fpow(max(xbuf[h], fp[FP_XFLOOR]), -fp[FP_XI])
        ty_tv[0] = acc / H
    if ip[IP_VL]:
        ty_tv[1] = fp[FP_CR] * Ut[s] + soft_value(PIt, Qt, s)


@kernel(inline="always")
def step_rates(s, t, step, ip, fp, lr, lr_base, visits, rates):
    """Effective step sizes ``rates[q]`` at state ``s`` and step ``t`` (0 = not updated now).

    Stage gating: X_h from E1, U_r from E2, Q_r from E3, V_r from E4 (if
    learned); Q_r and V_r only on every k-th step.  Global clock: the
    precomputed ``lr[:, step]``; visit clock after ``F = E5 + B``:
    ``lr_base * min(1, (n0 / visits[s])**omega)``.
    """
    per_visit = ip[IP_LRCLOCK] == 1 and t >= ip[IP_F]
    f = 1.0
    if per_visit:
        r = ip[IP_N0] / max(visits[s], 1)
        f = r ** fp[FP_OMEGA] if r < 1.0 else 1.0
    for q in range(5):
        rates[q] = lr_base[q] * f if per_visit else lr[q, step]
    if not (ip[IP_XL] and t >= ip[IP_E1]):
        rates[Q_X] = 0.0
    if not (ip[IP_UL] and t >= ip[IP_E2]):
        rates[Q_U] = 0.0
    slow_turn = ip[IP_KSEP] == 1 or (t + 1) % ip[IP_KSEP] == 0
    if not (t >= ip[IP_E3] and slow_turn):
        rates[Q_Q] = 0.0
    if not (ip[IP_VL] and t >= ip[IP_E4] and slow_turn):
        rates[Q_V] = 0.0


@kernel(inline="always")
def apply_state(s, rates, tq, mq, tve, mve, tx, ty_tv, Q, VEf, X, Y, V):
    """``x <- x + rate (target - x)`` for the marked entries at ``s`` (``VEf``: flat ``(S, H*G)``)."""
    a = rates[Q_VE]
    for m in range(VEf.shape[1]):
        if mve[m]:
            VEf[s, m] += a * (tve[m] - VEf[s, m])
    a = rates[Q_X]
    if a != 0.0:
        for h in range(X.shape[1]):
            X[s, h] += a * (tx[h] - X[s, h])
    a = rates[Q_U]
    if a != 0.0:
        Y[s] += a * (ty_tv[0] - Y[s])
    a = rates[Q_Q]
    if a != 0.0:
        for b in range(Q.shape[1]):
            if mq[b]:
                Q[s, b] += a * (tq[b] - Q[s, b])
    a = rates[Q_V]
    if a != 0.0:
        V[s] += a * (ty_tv[1] - V[s])


@kernel(inline="always")
def expected_targets(s, ip, fp, ptr, succ, prob, n_ar, n_ah, prof, pfgf, achf, goal_weight, goal_count, Qt, VEt,
                     VEtf, Xt, PIt, Ut, Vdt, tq, tve, tx, ty_tv, tmp, xbuf):
    """Targets at ``s`` in expected mode without goal assignment (every entry is updated)."""
    q_backup(s, ptr, succ, prob, n_ar, n_ah, prof, Vdt, fp[FP_GR], tq)
    ve_backup(s, ptr, succ, prob, n_ar, n_ah, pfgf, achf, VEtf, fp[FP_GH], PIt, tve, tmp)
    if ip[IP_XL]:
        x_from_ve(VEt, s, goal_weight, goal_count, fp[FP_ZETA], tx)
    if ip[IP_UL] or ip[IP_VL]:
        yv_targets(s, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, PIt, Ut, n_ar, ty_tv, xbuf)


@kernel(inline="always")
def copy_due(t, ip):
    """Whether any non-aliased target table is copied after step ``t``."""
    for q in range(5):
        if not ip[IP_ALIAS0 + q] and (t + 1) % ip[IP_INT0 + q] == 0:
            return True
    return False


@kernel
def refresh_all(live, beta, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, Yt, Vt, PIt, Ut, Vdt, xbuf):
    """:func:`refresh_state` at every non-terminal state."""
    for idx in range(live.shape[0]):
        refresh_state(live[idx], beta, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, Yt, Vt, PIt, Ut, Vdt, xbuf)


@kernel
def blend(src, dst, tau):
    """``dst <- (1 - tau) dst + tau src`` elementwise (flat 1-D views)."""
    for i in range(src.shape[0]):
        dst[i] = (1.0 - tau) * dst[i] + tau * src[i]


@kernel
def copy_targets(t, ip, fp, Q, VE, X, Y, V, Qt, VEt, Xt, Yt, Vt):
    """Hard copies / Polyak updates due after step ``t``; returns True if any happened."""
    tau = fp[FP_TAU]
    any_copy = False
    for q in range(5):
        if ip[IP_ALIAS0 + q] or (t + 1) % ip[IP_INT0 + q] != 0:
            continue
        any_copy = True
        if q == Q_VE:
            blend(VE.reshape(VE.size), VEt.reshape(VEt.size), tau)
        elif q == Q_X:
            blend(X.reshape(X.size), Xt.reshape(Xt.size), tau)
        elif q == Q_U:
            blend(Y, Yt, tau)
        elif q == Q_Q:
            blend(Q.reshape(Q.size), Qt.reshape(Qt.size), tau)
        else:
            blend(V, Vt, tau)
    return any_copy


@kernel
def move_trajectory(sp_b, ip, fp, ctr, terminal, ach, goal_weight, goal_count, assigned, rng):
    """On-policy bookkeeping after a step to ``sp_b``: reset, or move and maintain goals."""
    ctr[C_EPSTEP] += 1
    if terminal[sp_b] or ctr[C_EPSTEP] >= ip[IP_EPLEN]:
        ctr[C_CUR] = ip[IP_S0]
        ctr[C_EPSTEP] = 0
        if ip[IP_GASSIGN]:
            resample_goals(goal_weight, goal_count, assigned, rng)
        return
    ctr[C_CUR] = sp_b
    if not ip[IP_GASSIGN]:
        return
    if rng_uniform(rng) < fp[FP_GRESAMPLE]:
        resample_goals(goal_weight, goal_count, assigned, rng)
        return
    for h in range(assigned.shape[0]):
        if ach[sp_b, h, assigned[h]]:
            assigned[h] = draw_goal(goal_weight, goal_count, h, rng)


@kernel(_nrt=False)
def sa_chunk(n_steps, ip, fp, ctr, rng, beta, lr, lr_base, eps_r, eps_h,
             terminal, ptr, succ, prob, n_ar, n_ah, prof, prof_fg, ach, goal_weight, goal_count, Wh,
             marg, pi_h, strides, lookup, n_own, live, sweep_order, visits, assigned,
             Q, VE, X, Y, V, Qt, VEt, Xt, Yt, Vt, PIt, Ut, Vdt,
             TQ, MQ, TVE, MVE, TX, TYV, tq, mq, tve, mve, tx, tyv, tmp, xbuf, rates):
    """Run ``n_steps`` SA steps, continuing the run described by ``ctr`` and ``rng``.

    Per-step arrays ``beta``, ``lr[5, n]``, ``eps_r``, ``eps_h`` are indexed by
    the step within the chunk.  Modifies tables, caches, counters and the
    generator state in place.  All scratch arrays come from the caller (see
    :func:`scratch_arrays`), so the kernel runs without Numba's reference
    counting (``_nrt=False``), which otherwise costs a fifth of the time.
    """
    H = VE.shape[1]
    G = VE.shape[2]
    M = H * G
    S = Q.shape[0]
    VEf = VE.reshape(S, M)
    VEtf = VEt.reshape(S, M)
    achf = ach.reshape(S, M)
    pfgf = prof_fg.reshape(S, M, n_ah)
    n_live = live.shape[0]
    visit = ip[IP_VISIT]
    sync = visit == VISIT_SYNC
    fast = ip[IP_MODE] == MODE_EXPECTED and ip[IP_GASSIGN] == 0
    need_behaviour = ip[IP_MODE] == MODE_SAMPLED or visit == VISIT_ONPOLICY or ip[IP_GASSIGN] != 0
    n_visit = n_live if sync else 1
    copies = False
    for q in range(5):
        if not ip[IP_ALIAS0 + q]:
            copies = True
    for step in range(n_steps):
        t = ctr[C_T]
        b = beta[step]
        if t >= ip[IP_E5] and t <= ip[IP_F] and ((t - ip[IP_E5]) % ip[IP_RAMP_EVERY] == 0 or t == ip[IP_F]):
            # beta_r is changing: bring every state's cached policy up to date (a rule on t alone,
            # so chunking and resuming do not change the bits)
            refresh_all(live, b, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, Yt, Vt, PIt, Ut, Vdt, xbuf)
        for idx in range(n_visit):
            # pick the state; synchronous steps keep one target row per state
            row = 0
            if sync:
                s = live[idx]
                row = s
            elif visit == VISIT_UNIFORM:
                s = live[rng_index(n_live, rng)]
            elif visit == VISIT_SWEEP:
                s = sweep_order[ctr[C_SWEEP]]
                ctr[C_SWEEP] = (ctr[C_SWEEP] + 1) % n_live
            else:
                s = ctr[C_CUR]
            visits[s] += 1
            kb, ar_b, sp_b = -1, -1, -1
            if need_behaviour:
                kb = behaviour_profile(s, eps_h[step], ip, prof, marg, pi_h, assigned, strides, lookup, n_own, rng)
                ar_b = behaviour_robot(s, eps_r[step], PIt, rng)
                sp_b = rng_successor(ptr, succ, prob, (s * n_ar + ar_b) * n_ah + kb, rng)
            if fast:
                expected_targets(s, ip, fp, ptr, succ, prob, n_ar, n_ah, prof, pfgf, achf, goal_weight, goal_count,
                                 Qt, VEt, VEtf, Xt, PIt, Ut, Vdt, TQ[row], TVE[row], TX[row], TYV[row], tmp, xbuf)
            else:
                state_targets(s, kb, ar_b, sp_b, ip, fp, ptr, succ, prob, n_ar, n_ah, prof, pfgf, achf,
                              goal_weight, goal_count, Wh, assigned, Qt, VEt, VEtf, Xt, PIt, Ut, Vdt, rng,
                              TQ[row], MQ[row], TVE[row], MVE[row], TX[row], TYV[row], tmp, xbuf)
            if not sync:
                step_rates(s, t, step, ip, fp, lr, lr_base, visits, rates)
                apply_state(s, rates, TQ[0], MQ[0], TVE[0], MVE[0], TX[0], TYV[0], Q, VEf, X, Y, V)
                refresh_state(s, b, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, Yt, Vt, PIt, Ut, Vdt, xbuf)
                if visit == VISIT_ONPOLICY:
                    move_trajectory(sp_b, ip, fp, ctr, terminal, ach, goal_weight, goal_count, assigned, rng)
        if sync:
            for idx in range(n_live):
                s = live[idx]
                step_rates(s, t, step, ip, fp, lr, lr_base, visits, rates)
                apply_state(s, rates, TQ[s], MQ[s], TVE[s], MVE[s], TX[s], TYV[s], Q, VEf, X, Y, V)
        ctr[C_UPDATES] += n_visit
        copied = copies and copy_due(t, ip)
        if copied:
            copy_targets(t, ip, fp, Q, VE, X, Y, V, Qt, VEt, Xt, Yt, Vt)
        if sync or copied:
            refresh_all(live, b, ip, fp, goal_weight, goal_count, Qt, VEt, Xt, Yt, Vt, PIt, Ut, Vdt, xbuf)
        ctr[C_T] = t + 1
