"""Analytic Jacobian of the Phase 2 Jacobi map, block by block, as COO triplets.

The Jacobi map ``F`` reads ``z = (Q, VE, X, U, V)`` and returns (see
``phase2.jacobi_map``)::

    Q'(s,a)     = gamma_r sum_k P(k|s) sum_s' T V(s')
    VE'(s,h,g)  = sum_a pi_a(Q(s)) E_a(s,h,g),
                  E_a = sum_k P_hg(k|s) sum_s' T [1_g(s') + (1-1_g(s')) gamma_h VE(s',h,g)]
    X'(s,h)     = sum_g w_hg VE(s,h,g)^zeta
    U'(s)       = -((1/H) sum_h X(s,h)^(-xi))^eta
    V'(s)       = c_r U(s) + sum_a pi_a(Q(s)) Q(s,a)

Block derivatives (``pi = power_law(Q(s))``, ``Vbar = sum pi Q``)::

    dQ'(s,a)/dV(s')        = gamma_r sum_k P(k|s) T(s'|s,a,k)
    dVE'(s,h,g)/dVE(s',h,g)= gamma_h sum_a pi_a sum_k P_hg(k|s) T(s'|s,a,k) (1 - 1_g(s'))
    dVE'(s,h,g)/dQ(s,b)    = (beta/|Q_b|) pi_b (E_b - sum_a pi_a E_a)
    dX'(s,h)/dVE(s,h,g)    = w_hg zeta VE^(zeta-1)
    dU'(s)/dX(s,h)         = eta xi y^(eta-1) X_h^(-xi-1) / H,  y = (1/H) sum_h X_h^(-xi)
    dV'(s)/dU(s)           = c_r
    dV'(s)/dQ(s,b)         = pi_b + (beta/|Q_b|) pi_b (Q_b - Vbar)

(the ``beta`` terms vanish for ``beta = 0`` and ``beta = inf``).  Unknown
indices: Q ``s*n_ar + a``; VE ``(s*H + h)*G + g``; X ``s*H + h``; U and V ``s``.
Terminal states contribute no entries (their values are constants).
"""
import numpy as np

from . import kernel
from .core import power_law_row


@kernel
def phase2_jacobian(terminal, ptr, succ, prob, n_ar, n_ah, prof, prof_fg, ach, goal_weight, goal_count,
                    beta_r, gamma_r, gamma_h, zeta, xi, eta, c_r, Q, VE, X, max_succ,
                    qv_r, qv_c, qv_v, ee_r, ee_c, ee_v, eq_r, eq_c, eq_v, xe_r, xe_c, xe_v,
                    ux_r, ux_c, ux_v, vq_r, vq_c, vq_v, vu_v, counts):
    """Fill the COO blocks of the Jacobi-map Jacobian at ``(Q, VE, X)``.

    ``counts`` receives the number of entries of the blocks
    ``[QV, VEVE, VEQ, XVE, UX, VQ]``; ``vu_v[s]`` receives ``dV'(s)/dU(s)``.
    Capacities: QV ``S*n_ar*max_succ``, VEVE ``total_succ*H*G`` (with
    ``total_succ`` the sum over states of distinct successors), VEQ
    ``S*H*G*n_ar``, XVE ``S*H*G``, UX ``S*H``, VQ ``S*n_ar``.
    """
    S = terminal.shape[0]
    H = VE.shape[1]
    G = VE.shape[2]
    pi = np.empty(n_ar)
    E = np.empty((n_ar, H, G))
    slot = np.full(S, -1, dtype=np.int64)
    local = np.empty(max_succ, dtype=np.int64)
    coef = np.zeros((max_succ, H, G))
    qcoef = np.zeros(max_succ)
    nqv = 0
    nee = 0
    neq = 0
    nxe = 0
    nux = 0
    nvq = 0
    finite_beta = beta_r > 0.0 and beta_r < np.inf
    for s in range(S):
        if terminal[s]:
            vu_v[s] = 0.0
            continue
        # dQ'/dV
        for a in range(n_ar):
            m = 0
            for k in range(n_ah):
                w = prof[s, k]
                if w == 0.0:
                    continue
                r = (s * n_ar + a) * n_ah + k
                for i in range(ptr[r], ptr[r + 1]):
                    j = succ[i]
                    if slot[j] < 0:
                        slot[j] = m
                        local[m] = j
                        qcoef[m] = 0.0
                        m += 1
                    qcoef[slot[j]] += gamma_r * w * prob[i]
            for t in range(m):
                qv_r[nqv] = s * n_ar + a
                qv_c[nqv] = local[t]
                qv_v[nqv] = qcoef[t]
                nqv += 1
                slot[local[t]] = -1
        # policy, per-action expectations E_a and dVE'/dVE
        power_law_row(Q[s], beta_r, pi)
        m = 0
        for a in range(n_ar):
            for h in range(H):
                for g in range(G):
                    E[a, h, g] = 0.0
            for k in range(n_ah):
                r = (s * n_ar + a) * n_ah + k
                for i in range(ptr[r], ptr[r + 1]):
                    j = succ[i]
                    p = prob[i]
                    if slot[j] < 0:
                        slot[j] = m
                        local[m] = j
                        for h in range(H):
                            for g in range(G):
                                coef[m, h, g] = 0.0
                        m += 1
                    t = slot[j]
                    for h in range(H):
                        for g in range(goal_count[h]):
                            w = prof_fg[s, h, g, k]
                            if w == 0.0:
                                continue
                            if ach[j, h, g]:
                                E[a, h, g] += w * p
                            else:
                                E[a, h, g] += w * p * gamma_h * VE[j, h, g]
                                coef[t, h, g] += pi[a] * w * p * gamma_h
        for t in range(m):
            j = local[t]
            for h in range(H):
                for g in range(goal_count[h]):
                    c = coef[t, h, g]
                    if c != 0.0:
                        ee_r[nee] = (s * H + h) * G + g
                        ee_c[nee] = (j * H + h) * G + g
                        ee_v[nee] = c
                        nee += 1
            slot[j] = -1
        vbar = 0.0
        for a in range(n_ar):
            vbar += pi[a] * Q[s, a]
        # dVE'/dQ and dV'/dQ
        for b in range(n_ar):
            sens = beta_r / abs(Q[s, b]) if finite_beta else 0.0
            if finite_beta:
                for h in range(H):
                    for g in range(goal_count[h]):
                        mean = 0.0
                        for a in range(n_ar):
                            mean += pi[a] * E[a, h, g]
                        val = sens * pi[b] * (E[b, h, g] - mean)
                        if val != 0.0:
                            eq_r[neq] = (s * H + h) * G + g
                            eq_c[neq] = s * n_ar + b
                            eq_v[neq] = val
                            neq += 1
            vq_r[nvq] = s
            vq_c[nvq] = s * n_ar + b
            vq_v[nvq] = pi[b] + sens * pi[b] * (Q[s, b] - vbar)
            nvq += 1
        # dX'/dVE
        for h in range(H):
            for g in range(goal_count[h]):
                w = goal_weight[h, g]
                if w == 0.0:
                    continue
                v = VE[s, h, g]
                if v > 0.0:
                    d = w * zeta * v ** (zeta - 1.0)
                elif zeta == 1.0:
                    d = w
                elif zeta > 1.0:
                    d = 0.0
                else:
                    d = np.inf
                xe_r[nxe] = s * H + h
                xe_c[nxe] = (s * H + h) * G + g
                xe_v[nxe] = d
                nxe += 1
        # dU'/dX
        y = 0.0
        for h in range(H):
            y += X[s, h] ** (-xi)
        y /= H
        for h in range(H):
            ux_r[nux] = s
            ux_c[nux] = s * H + h
            ux_v[nux] = eta * xi * y ** (eta - 1.0) * X[s, h] ** (-xi - 1.0) / H
            nux += 1
        vu_v[s] = c_r
    counts[0] = nqv
    counts[1] = nee
    counts[2] = neq
    counts[3] = nxe
    counts[4] = nux
    counts[5] = nvq
