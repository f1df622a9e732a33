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

The robot's actions are read through ``robot_ptr, robot_rows`` (``TabularWorld.robot_rows``): for state ``s`` and joint
human action ``k`` the rows ``(s, a_r, k)`` with repeated rows dropped, which changes neither the minimum nor the
first minimiser.
"""
import numpy as np
from numba import prange

from . import kernel
from .core import round_fp16, softmax_row


@kernel(inline="always")
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
def q_human(s, h, g, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own, ach, VM, gamma_h, belief, use_belief,
            uniform_w, fp16, optimistic, out_q, out_arg):
    """``out_q[a] = Q_h^m(s, g, a)`` for ``a < n_own``; ``out_arg[k]`` = the row ``(s, a_r, k)`` of the first
    minimising a_r (-1 where the other humans' weight is 0)."""
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
        for idx in range(robot_ptr[s * n_ah + k], robot_ptr[s * n_ah + k + 1]):
            r = robot_rows[idx]
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
                best_r = r
        if optimistic:
            best = -best
        out_arg[k] = best_r
        out_q[a] += mu * best


@kernel(inline="always")
def fill_continuation(s, achf, VM, gamma_h, W):
    """Row ``s`` of the continuation table: ``W[s, m] = 1`` where goal ``m`` holds at ``s``, else
    ``gamma_h V(s, m)``."""
    for m in range(VM.shape[1]):
        W[s, m] = 1.0 if achf[s, m] else gamma_h * VM[s, m]


@kernel(inline="always")
def set_terminal_state(s, VMw, PI):
    """Terminal state: ``V_h^m = 0`` and ``pi_h = 0`` for every human and goal."""
    for m in range(VMw.shape[1]):
        VMw[s, m] = 0.0
    for h in range(PI.shape[1]):
        for g in range(PI.shape[2]):
            for a in range(PI.shape[3]):
                PI[s, h, g, a] = 0.0


@kernel(inline="always")
def phase1_state(s, terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own_h, goal_count, gamma_h, beta_h,
                 belief, use_belief, fp16, sign, achf, W, VMw, PI, t, best, Q, q, pi):
    """The Phase 1 backup at one state for all goals of all humans (flat index ``m = h * G + g``).

    For every joint human profile ``k`` and distinct robot-action row the row is read
    once, giving ``t[m] = sum_s' T W(s', m)`` with the continuation table
    ``W(s', m) = 1_g(s') + (1 - 1_g(s')) gamma_h V(s', m)`` (:func:`fill_continuation`:
    one gather per successor instead of two);
    the worst case over robot actions (``sign = -1``: best case) is kept per
    ``m`` and ``Q[m, a_h]`` accumulates it with the other humans' weight.
    ``t, best, Q, q, pi`` are scratch.  The caller refreshes row ``s`` of ``W``
    after the call when the sweep is in place.  Non-terminal states only: the
    callers set terminal rows with :func:`set_terminal_state` (with that branch
    inside this inlined function the P2 sweep ran 10-25% slower).
    """
    H = hprof.shape[1]
    G = PI.shape[2]
    A = PI.shape[3]
    M = H * G
    for m in range(M):
        for a in range(A):
            Q[m, a] = 0.0
    for k in range(n_ah):
        for m in range(M):
            best[m] = np.inf
        for idx in range(robot_ptr[s * n_ah + k], robot_ptr[s * n_ah + k + 1]):
            r = robot_rows[idx]
            lo = ptr[r]
            hi = ptr[r + 1]
            j = succ[lo]
            p = round_fp16(prob[lo]) if fp16 else prob[lo]
            if hi - lo == 1:  # deterministic row: no accumulation needed
                sp = sign * p
                for m in range(M):
                    v = sp * W[j, m]
                    best[m] = v if v < best[m] else best[m]
                continue
            for m in range(M):
                t[m] = p * W[j, m]
            for i in range(lo + 1, hi):
                j = succ[i]
                p = round_fp16(prob[i]) if fp16 else prob[i]
                for m in range(M):
                    t[m] += p * W[j, m]
            for m in range(M):
                v = sign * t[m]
                best[m] = v if v < best[m] else best[m]
        for h in range(H):
            mu = others_weight(s, h, k, hprof, belief, use_belief, n_own_h[h] / n_ah)
            if mu == 0.0:
                continue
            a = hprof[k, h]
            for g in range(goal_count[h]):
                m = h * G + g
                Q[m, a] += mu * (sign * best[m])
    for h in range(H):
        n_own = n_own_h[h]
        for g in range(G):
            m = h * G + g
            if g >= goal_count[h] or achf[s, m]:
                VMw[s, m] = 0.0
                for a in range(A):
                    PI[s, h, g, a] = 0.0
                if g < goal_count[h]:
                    PI[s, h, g, 0] = 1.0
                continue
            for a in range(A):
                q[a] = Q[m, a]
            softmax_row(q, n_own, beta_h, pi)
            v = 0.0
            for a in range(n_own):
                v += pi[a] * q[a]
            for a in range(A):
                PI[s, h, g, a] = pi[a]
            VMw[s, m] = round_fp16(v) if fp16 else v


@kernel
def phase1_sweep(order, terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own_h, ach, goal_count,
                 gamma_h, beta_h, belief, use_belief, fp16, optimistic, VM_read, VM_write, PI):
    """Apply the Phase 1 backup (:func:`phase1_state`) at every state of ``order``, in that order.

    ``VM_read`` is read for successors and ``VM_write`` written; pass the same
    array for an in-place (Gauss-Seidel / backward induction) sweep.  With
    ``fp16`` the stored V_h^m and the transition probabilities are rounded
    to half precision.  ``PI[s, h, g, :]`` receives the policy.
    """
    S = VM_read.shape[0]
    M = hprof.shape[1] * VM_read.shape[2]
    A = PI.shape[3]
    VMr = VM_read.reshape(S, M)
    VMw = VM_write.reshape(S, M)
    achf = ach.reshape(S, M)
    t, best, Q, q, pi = np.empty(M), np.empty(M), np.empty((M, A)), np.empty(A), np.empty(A)
    sign = -1.0 if optimistic else 1.0
    W = np.empty((S, M))
    for s in range(S):
        fill_continuation(s, achf, VMr, gamma_h, W)
    in_place = VM_read.ctypes.data == VM_write.ctypes.data
    for idx in range(order.shape[0]):
        s = order[idx]
        if terminal[s]:
            set_terminal_state(s, VMw, PI)
            if in_place:
                fill_continuation(s, achf, VMw, gamma_h, W)
            continue
        phase1_state(s, terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own_h, goal_count, gamma_h,
                     beta_h, belief, use_belief, fp16, sign, achf, W, VMw, PI, t, best, Q, q, pi)
        if in_place:
            fill_continuation(s, achf, VMw, gamma_h, W)


@kernel(parallel=True)
def block_phase1_sweep(order, block_ptr, terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own_h, ach,
                       goal_count, gamma_h, beta_h, belief, use_belief, optimistic, VM, PI):
    """In-place :func:`phase1_sweep` (no fp16) on blocks of ``order`` that run in parallel.

    Gauss-Seidel within block ``b = order[block_ptr[b]:block_ptr[b + 1]]``, Jacobi between blocks (each
    block reads its own copy of the continuation table, taken when the sweep starts): the result depends on
    the blocks, not on the number of threads.
    """
    S = VM.shape[0]
    M = hprof.shape[1] * VM.shape[2]
    A = PI.shape[3]
    VMf = VM.reshape(S, M)
    achf = ach.reshape(S, M)
    sign = -1.0 if optimistic else 1.0
    W0 = np.empty((S, M))
    for s in range(S):
        fill_continuation(s, achf, VMf, gamma_h, W0)
    for b in prange(block_ptr.shape[0] - 1):
        W = W0.copy()
        t, best, Q, q, pi = np.empty(M), np.empty(M), np.empty((M, A)), np.empty(A), np.empty(A)
        for idx in range(block_ptr[b], block_ptr[b + 1]):
            s = order[idx]
            if terminal[s]:
                set_terminal_state(s, VMf, PI)
            else:
                phase1_state(s, terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own_h, goal_count,
                             gamma_h, beta_h, belief, use_belief, False, sign, achf, W, VMf, PI, t, best, Q, q, pi)
            fill_continuation(s, achf, VMf, gamma_h, W)


@kernel(parallel=True)
def phase1_levels(level_ptr, level_states, n_chunks, terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof,
                  n_own_h, ach, goal_count, gamma_h, beta_h, belief, use_belief, fp16, optimistic, VM, PI):
    """Backward induction level by level, the states of one level split over ``n_chunks`` threads.

    ``level_states[level_ptr[L]:level_ptr[L + 1]]`` are the states of height
    ``L`` (all their successors have smaller heights), so within a level the
    backups are independent and the result equals the serial sweep bit for bit.
    """
    S = VM.shape[0]
    M = hprof.shape[1] * VM.shape[2]
    A = PI.shape[3]
    VMf = VM.reshape(S, M)
    achf = ach.reshape(S, M)
    sign = -1.0 if optimistic else 1.0
    W = np.empty((S, M))  # every row is written at its own level, before any higher level reads it
    for L in range(level_ptr.shape[0] - 1):
        lo = level_ptr[L]
        n = level_ptr[L + 1] - lo
        for c in prange(n_chunks):
            t, best, Q, q, pi = np.empty(M), np.empty(M), np.empty((M, A)), np.empty(A), np.empty(A)
            for idx in range(lo + (n * c) // n_chunks, lo + (n * (c + 1)) // n_chunks):
                s = level_states[idx]
                if terminal[s]:
                    set_terminal_state(s, VMf, PI)
                    fill_continuation(s, achf, VMf, gamma_h, W)
                    continue
                phase1_state(s, terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own_h, goal_count,
                             gamma_h, beta_h, belief, use_belief, fp16, sign, achf, W, VMf, PI, t, best, Q, q, pi)
                fill_continuation(s, achf, VMf, gamma_h, W)


@kernel
def phase1_jacobian(terminal, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own_h, ach, goal_count, gamma_h,
                    beta_h, belief, use_belief, optimistic, VM, rows, cols, vals, max_succ):
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
                q_human(s, h, g, ptr, succ, prob, robot_ptr, robot_rows, n_ah, hprof, n_own, ach, VM, gamma_h, belief,
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
                    r = arg[k]
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
    Terminal states and padding goals get zero rows.
    """
    S = PI.shape[0]
    H = PI.shape[1]
    G = out_prof_fg.shape[2]
    A = PI.shape[3]
    n_ah = hprof.shape[0]
    marg = np.zeros((H, A))
    others = np.empty((H, n_ah))
    npi = np.empty(A)
    for s in range(S):
        if terminal[s]:
            for k in range(n_ah):
                out_prof[s, k] = 0.0
                for h in range(H):
                    for g in range(G):
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
                o = 1.0
                for j in range(H):
                    if j != h:
                        o *= marg[j, hprof[k, j]]
                others[h, k] = o
        for h in range(H):
            for g in range(G):
                if g >= goal_count[h]:
                    for k in range(n_ah):
                        out_prof_fg[s, h, g, k] = 0.0
                    continue
                tot = 0.0
                for a in range(A):
                    tot += PI[s, h, g, a]
                for a in range(A):
                    npi[a] = PI[s, h, g, a] / tot
                for k in range(n_ah):
                    out_prof_fg[s, h, g, k] = npi[hprof[k, h]] * others[h, k]
