"""Phase 1 kernels: the human policy prior (EMPO_SEMANTICS §3.1).

For a non-terminal state ``s``, human ``h`` and goal ``g`` not achieved at ``s``::

    Q_h^m(s,g,a) = sum_{a_-h} mu(a_-h | s) min_{a_r} sum_s' T(s'|s,a_r,(a,a_-h))
                       [1_g(s') + (1 - 1_g(s')) gamma_h V_h^m(s',g)]
    pi_h(.|s,g)  = softmax(beta_h Q_h^m(s,g,.))
    V_h^m(s,g)   = sum_a pi_h(a|s,g) Q_h^m(s,g,a)

(``max`` instead of ``min`` when optimistic).  At a state where ``g`` holds:
``V_h^m = 0`` and ``pi_h`` is the point mass on action 0.  Terminal states:
``V_h^m = 0`` and ``pi_h = 0``.  The belief ``mu`` about the other humans is
uniform unless ``use_belief``, in which case human ``j`` is believed to play
``belief[s, j, a_j]`` independently.
"""
import numpy as np

from . import kernel
from .core import round_fp16, softmax_row


@kernel
def others_weight(s, h, k, hprof, belief, use_belief, uniform_w):
    """Probability of the other humans' part of joint profile ``k``."""
    if not use_belief:
        return uniform_w
    w = 1.0
    for j in range(hprof.shape[1]):
        if j != h:
            w *= belief[s, j, hprof[k, j]]
    return w


@kernel
def q_human(s, h, g, ptr, succ, prob, n_ar, n_ah, hprof, n_own, ach, VM, gamma_h, belief, use_belief,
            uniform_w, fp16, optimistic, out_q, out_arg):
    """``out_q[a] = Q_h^m(s, g, a)`` for ``a < n_own``; ``out_arg[k]`` = minimising a_r."""
    for a in range(out_q.shape[0]):
        out_q[a] = 0.0
    for k in range(n_ah):
        a = hprof[k, h]
        mu = others_weight(s, h, k, hprof, belief, use_belief, uniform_w)
        if mu == 0.0:
            out_arg[k] = -1
            continue
        best = np.inf
        best_r = 0
        for ar in range(n_ar):
            r = (s * n_ar + ar) * n_ah + k
            t = 0.0
            for i in range(ptr[r], ptr[r + 1]):
                j = succ[i]
                p = round_fp16(prob[i]) if fp16 else prob[i]
                if ach[j, h, g]:
                    t += p
                else:
                    t += p * gamma_h * VM[j, h, g]
            if optimistic:
                t = -t
            if t < best:
                best = t
                best_r = ar
        if optimistic:
            best = -best
        out_arg[k] = best_r
        out_q[a] += mu * best


@kernel
def phase1_sweep(order, terminal, ptr, succ, prob, n_ar, n_ah, hprof, n_own_h, ach, goal_count,
                 gamma_h, beta_h, belief, use_belief, fp16, optimistic, VM_read, VM_write, PI):
    """Apply the Phase 1 backup at every state of ``order`` (in that order).

    ``VM_read`` is read for successors and ``VM_write`` written; pass the same
    array for an in-place (Gauss-Seidel / backward induction) sweep.  With
    ``fp16`` the stored V_h^m and the transition probabilities are rounded
    to half precision.  ``PI[s, h, g, :]`` receives the policy.
    """
    H = hprof.shape[1]
    A = PI.shape[3]
    q = np.empty(A)
    arg = np.empty(n_ah, dtype=np.int64)
    pi = np.empty(A)
    for idx in range(order.shape[0]):
        s = order[idx]
        for h in range(H):
            n_own = n_own_h[h]
            uniform_w = n_own / n_ah
            for g in range(goal_count[h]):
                if terminal[s] or ach[s, h, g]:
                    VM_write[s, h, g] = 0.0
                    for a in range(A):
                        PI[s, h, g, a] = 0.0
                    if not terminal[s]:
                        PI[s, h, g, 0] = 1.0
                    continue
                q_human(s, h, g, ptr, succ, prob, n_ar, n_ah, hprof, n_own, ach, VM_read, gamma_h, belief,
                        use_belief, uniform_w, fp16, optimistic, q, arg)
                softmax_row(q, n_own, beta_h, pi)
                v = 0.0
                for a in range(n_own):
                    v += pi[a] * q[a]
                for a in range(A):
                    PI[s, h, g, a] = pi[a]
                VM_write[s, h, g] = round_fp16(v) if fp16 else v


@kernel
def phase1_jacobian(terminal, ptr, succ, prob, n_ar, n_ah, hprof, n_own_h, ach, goal_count, gamma_h, beta_h,
                    belief, use_belief, optimistic, VM, rows, cols, vals, max_succ):
    """COO entries of the (semi-smooth) Jacobian of the Phase 1 map at ``VM``.

    Unknown ``(s, h, g)`` has index ``(s * H + h) * G + g``.  The minimising
    robot action is held fixed (first minimiser), and
    ``dV/dQ_a = pi_a (1 + beta_h (Q_a - V))`` (``pi_a`` for ``beta_h`` in
    {0, inf}).  Returns the number of entries written; ``rows/cols/vals``
    need room for ``sum_s max_succ * H * G`` entries, where ``max_succ``
    bounds the number of distinct successors of a state.
    """
    S = terminal.shape[0]
    H = hprof.shape[1]
    G = VM.shape[2]
    A = n_own_h.max()
    q = np.empty(A)
    arg = np.empty(n_ah, dtype=np.int64)
    pi = np.empty(A)
    c = np.empty(A)
    slot = np.full(S, -1, dtype=np.int64)
    local = np.empty(max_succ, dtype=np.int64)
    coef = np.zeros(max_succ)
    n = 0
    for s in range(S):
        if terminal[s]:
            continue
        for h in range(H):
            n_own = n_own_h[h]
            uniform_w = n_own / n_ah
            for g in range(goal_count[h]):
                if ach[s, h, g]:
                    continue
                q_human(s, h, g, ptr, succ, prob, n_ar, n_ah, hprof, n_own, ach, VM, gamma_h, belief,
                        use_belief, uniform_w, False, optimistic, q, arg)
                softmax_row(q, n_own, beta_h, pi)
                v = 0.0
                for a in range(n_own):
                    v += pi[a] * q[a]
                for a in range(n_own):
                    if beta_h == 0.0 or beta_h == np.inf:
                        c[a] = pi[a]
                    else:
                        c[a] = pi[a] * (1.0 + beta_h * (q[a] - v))
                m = 0
                for k in range(n_ah):
                    if arg[k] < 0:
                        continue
                    a = hprof[k, h]
                    mu = others_weight(s, h, k, hprof, belief, use_belief, uniform_w)
                    w = c[a] * mu * gamma_h
                    if w == 0.0:
                        continue
                    r = (s * n_ar + arg[k]) * n_ah + k
                    for i in range(ptr[r], ptr[r + 1]):
                        j = succ[i]
                        if ach[j, h, g]:
                            continue
                        if slot[j] < 0:
                            slot[j] = m
                            local[m] = j
                            coef[m] = 0.0
                            m += 1
                        coef[slot[j]] += w * prob[i]
                row = (s * H + h) * G + g
                for t in range(m):
                    j = local[t]
                    rows[n] = row
                    cols[n] = (j * H + h) * G + g
                    vals[n] = coef[t]
                    n += 1
                    slot[j] = -1
    return n


@kernel
def build_profiles(terminal, hprof, goal_count, goal_weight, PI, out_prof, out_prof_fg):
    """Joint profile distributions of the prior from the goal-conditioned policies.

    ``m_h(a|s) = normalise(sum_g w_hg pi_h(a|s,g))``,
    ``P(k|s) = prod_h m_h(k_h|s)`` and
    ``P_hg(k|s) = normalise(pi_h(.|s,g))[k_h] * prod_{j != h} m_j(k_j|s)``.
    Terminal states get zero rows.
    """
    S = PI.shape[0]
    H = PI.shape[1]
    A = PI.shape[3]
    n_ah = hprof.shape[0]
    marg = np.zeros((H, A))
    for s in range(S):
        if terminal[s]:
            for k in range(n_ah):
                out_prof[s, k] = 0.0
                for h in range(H):
                    for g in range(out_prof_fg.shape[2]):
                        out_prof_fg[s, h, g, k] = 0.0
            continue
        for h in range(H):
            tot = 0.0
            for a in range(A):
                acc = 0.0
                for g in range(goal_count[h]):
                    acc += goal_weight[h, g] * PI[s, h, g, a]
                marg[h, a] = acc
                tot += acc
            for a in range(A):
                marg[h, a] /= tot
        for k in range(n_ah):
            p = 1.0
            for h in range(H):
                p *= marg[h, hprof[k, h]]
            out_prof[s, k] = p
        for h in range(H):
            for g in range(out_prof_fg.shape[2]):
                if g >= goal_count[h]:
                    for k in range(n_ah):
                        out_prof_fg[s, h, g, k] = 0.0
                    continue
                tot = 0.0
                for a in range(A):
                    tot += PI[s, h, g, a]
                for k in range(n_ah):
                    p = PI[s, h, g, hprof[k, h]] / tot
                    for j in range(H):
                        if j != h:
                            p *= marg[j, hprof[k, j]]
                    out_prof_fg[s, h, g, k] = p
