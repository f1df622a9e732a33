"""A slow, obviously correct reference implementation of EMPO Phase 1 and Phase 2.

This module is a *test oracle*.  It is written from the equations in
``docs/EMPO_SEMANTICS.md`` (sections 2 and 3) and
``docs/REFERENCE_FORMAT.md`` and deliberately shares no code with the
package's solvers: it only reads the public attributes of a
:class:`empo_tabular.TabularWorld` and the fields of
:class:`empo_tabular.EmpoParams`.  Speed is irrelevant; every equation is
written out once, in float64, with explicit loops where that is clearer.

Notation (all arrays float64)::

    T[s, a_r, a_h, s']        transition kernel (world rows)
    pi_h[s, h, g, a]          Phase 1 goal-conditioned human policy (own action a)
    V_h_m[s, h, g]            Phase 1 value
    profile[s, k]             prior over joint human profiles k
    profile_fixed_goal[s, h, g, k]
    Q_r[s, a_r], pi_r[s, a_r], V_h_e[s, h, g], X_h[s, h], U_r[s], V_r[s]

Phase 1 (non-terminal s, human h, real goal g < goal_count[h])::

    achieved[h, g, s]:  V_h^m = 0,  pi_h = one-hot on action 0
    otherwise:          cont(s') = 1 if achieved[h, g, s'] else gamma_h V_h^m(s', g)
                        Q(a) = sum_{k: k_h = a} mu_h(k | s) min_{a_r} sum_s' T[s, a_r, k, s'] cont(s')
                        pi_h = softmax(beta_h Q),  V_h^m = sum_a pi_h(a) Q(a)
    terminal s:         V_h^m = 0, pi_h = 0 row

    mu_h(k | s) = prod_{j != h} b_j(k_j | s), b_j uniform (or the given belief).

Phase 2 (non-terminal s)::

    Q_r(s, a)   = gamma_r sum_k P[s, k] sum_s' T[s, a, k, s'] V_r(s')
    pi_r(a | s) ∝ (-Q_r(s, a))^(-beta_r)
    V_h^e(s,h,g)= sum_a pi_r(a|s) sum_k Pfg[s,h,g,k] sum_s' T[s,a,k,s'] (1 if achieved[h,g,s'] else gamma_h V_h^e(s',h,g))
    X_h(s)      = sum_{g < count} w[h, g] V_h^e(s, h, g)^zeta
    U_r(s)      = -((1/H) sum_h X_h(s)^(-xi))^eta
    V_r(s)      = c_r U_r(s) + sum_a pi_r(a|s) Q_r(s, a)
    terminal s: V_r = terminal_v_r, V_h^e = 0, Q_r = NaN, pi_r = 0, X_h = NaN, U_r = NaN

Algorithms:

* acyclic worlds: one backward sweep in a reverse topological order that this
  module computes itself (Kahn's algorithm on the successor sets); every
  quantity at s is computed from already final successor values.
* cyclic worlds, Phase 1: plain (synchronous) value iteration until the
  largest change is below 1e-14.
* cyclic worlds, Phase 2: continuation in beta_r from 0 to the target; at each
  beta a damped fixed-point iteration on Q_r in which, given Q_r, the policy
  is evaluated *exactly* with dense linear solves (V_h^e for each (h, g),
  then V_r), and Q_r' = gamma_r P V_r.

Both algorithms can be forced on any world (``method="iterate"``) so the two
can be checked against each other on acyclic worlds.
"""
from __future__ import annotations

import math

import numpy as np

TIE_TOL = 1e-12          # ties for beta = inf (absolute for Q_h in [0, 1], relative for Q_r)
PHASE1_TOL = 1e-14       # value-iteration stopping rule (largest absolute change of V_h^m)
PHASE2_TOL = 1e-13       # continuation stopping rule (largest relative change of Q_r)


# --------------------------------------------------------------------------- world access

def state_blocks(world):
    """Per-state transition blocks ``(succ, Ts)`` read from the world's CSR rows.

    ``succ`` lists the distinct successors of ``s`` (over all joint actions),
    ``Ts[a_r, a_h, j]`` is the probability of moving to ``succ[j]``.
    Terminal states get ``None``.
    """
    blocks = []
    for s in range(world.n_states):
        if world.terminal[s]:
            blocks.append(None)
            continue
        rows = {}
        all_succ = set()
        for a_r in range(world.n_ar):
            for a_h in range(world.n_ah):
                succ, prob = world.row(s, a_r, a_h)
                rows[a_r, a_h] = (np.asarray(succ, dtype=np.int64), np.asarray(prob, dtype=np.float64))
                all_succ.update(int(t) for t in succ)
        succ_list = np.array(sorted(all_succ), dtype=np.int64)
        position = {int(t): j for j, t in enumerate(succ_list)}
        Ts = np.zeros((world.n_ar, world.n_ah, succ_list.size))
        for (a_r, a_h), (succ, prob) in rows.items():
            for t, p in zip(succ, prob):
                Ts[a_r, a_h, position[int(t)]] += p
        blocks.append((succ_list, Ts))
    return blocks


def _reverse_topological_order(world, blocks):
    """States ordered so that every successor comes *before* its predecessors, or None if cyclic.

    Kahn's algorithm on the graph "s -> s' if some joint action moves s to s'
    with positive probability" (self-loops count as cycles).
    """
    S = world.n_states
    n_succ = np.zeros(S, dtype=np.int64)      # successors not yet placed
    predecessors = [[] for _ in range(S)]
    for s in range(S):
        if blocks[s] is None:
            continue
        succ, Ts = blocks[s]
        reached = Ts.sum(axis=(0, 1)) > 0.0
        for t in succ[reached]:
            predecessors[int(t)].append(s)
            n_succ[s] += 1
    ready = [s for s in range(S) if n_succ[s] == 0]
    order = []
    while ready:
        t = ready.pop()
        order.append(t)
        for s in predecessors[t]:
            n_succ[s] -= 1
            if n_succ[s] == 0:
                ready.append(s)
    return order if len(order) == S else None


def naive_is_acyclic(world) -> bool:
    """Acyclicity decided by this module (not by the world object)."""
    return _reverse_topological_order(world, state_blocks(world)) is not None


# --------------------------------------------------------------------------- policies

def _softmax(Q, beta):
    """Boltzmann policy softmax(beta Q); beta = inf is uniform over the argmax (ties within TIE_TOL)."""
    Q = np.asarray(Q, dtype=np.float64)
    if beta == math.inf:
        best = Q >= Q.max() - TIE_TOL
        return best / best.sum()
    z = beta * Q
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def naive_power_law(Q_row, beta):
    """Robot policy pi(a) ∝ (-Q(a))^(-beta) for one state's Q_r row (all entries < 0).

    beta = 0: uniform.  beta = inf: uniform over the actions with the largest
    Q (ties within 1e-12 relative).  Otherwise computed in log space as
    softmax(-beta log(-Q)).
    """
    Q = np.asarray(Q_row, dtype=np.float64)
    if not np.all(Q < 0.0):
        raise ValueError(f"the power law needs Q_r < 0 everywhere, got {Q}")
    if beta == 0.0:
        return np.full(Q.size, 1.0 / Q.size)
    if beta == math.inf:
        q_max = Q.max()
        best = np.abs(Q - q_max) <= TIE_TOL * abs(q_max)
        return best / best.sum()
    logits = -beta * np.log(-Q)
    logits = logits - logits.max()
    e = np.exp(logits)
    return e / e.sum()


# --------------------------------------------------------------------------- Phase 1

def _belief(world, belief, s, j, a):
    """Probability that human j plays own action a at s (uniform by default)."""
    if belief is None:
        return 1.0 / world.human_action_counts[j]
    return float(belief[s, j, a])


def phase1_state(world, params, blocks, s, V_h_m, belief, optimistic):
    """One application of the Phase 1 equations at state s, from successor values V_h_m.

    Returns (pi[H, G, A_own], V[H, G]).
    """
    H, G, A = world.n_humans, world.n_goals, world.n_own_actions
    pi = np.zeros((H, G, A))
    V = np.zeros((H, G))
    if world.terminal[s]:
        return pi, V
    succ, Ts = blocks[s]
    profiles = world.human_profiles
    for h in range(H):
        n_h = int(world.human_action_counts[h])
        # mu_h(k | s): the other humans' believed behaviour
        mu = np.ones(world.n_ah)
        for k in range(world.n_ah):
            for j in range(H):
                if j != h:
                    mu[k] *= _belief(world, belief, s, j, profiles[k, j])
        for g in range(int(world.goal_count[h])):
            if world.achieved[h, g, s]:
                pi[h, g, 0] = 1.0
                V[h, g] = 0.0
                continue
            cont = np.array([1.0 if world.achieved[h, g, t] else params.gamma_h * V_h_m[t, h, g] for t in succ])
            W = Ts @ cont                                   # W[a_r, k] = E[cont | s, a_r, k]
            inner = W.max(axis=0) if optimistic else W.min(axis=0)
            Q = np.zeros(n_h)
            for k in range(world.n_ah):
                Q[profiles[k, h]] += mu[k] * inner[k]
            p = _softmax(Q, params.beta_h)
            pi[h, g, :n_h] = p
            V[h, g] = float(p @ Q)
    return pi, V


def naive_prior_arrays(world, pi_h):
    """Prior arrays (profile[S, n_ah], profile_fixed_goal[S, H, G, n_ah]) from pi_h[S, H, G, A_own].

    m_h(a|s) = normalise(sum_g w[h, g] pi_h(a|s, g));  profile[s, k] = prod_h m_h(k_h|s);
    profile_fixed_goal[s, h, g, k] = normalise(pi_h(.|s, g))[k_h] prod_{j != h} m_j(k_j|s).
    Zero rows for terminal states and padding goals.
    """
    S, H, G, n_ah = world.n_states, world.n_humans, world.n_goals, world.n_ah
    profiles = world.human_profiles
    profile = np.zeros((S, n_ah))
    fixed = np.zeros((S, H, G, n_ah))
    for s in range(S):
        if world.terminal[s]:
            continue
        marginal = []
        for h in range(H):
            m = np.zeros(pi_h.shape[3])
            for g in range(int(world.goal_count[h])):
                m += world.goal_weight[h, g] * pi_h[s, h, g]
            marginal.append(m / m.sum())
        for k in range(n_ah):
            profile[s, k] = np.prod([marginal[h][profiles[k, h]] for h in range(H)])
        for h in range(H):
            for g in range(int(world.goal_count[h])):
                own = pi_h[s, h, g] / pi_h[s, h, g].sum()
                for k in range(n_ah):
                    p = own[profiles[k, h]]
                    for j in range(H):
                        if j != h:
                            p *= marginal[j][profiles[k, j]]
                    fixed[s, h, g, k] = p
    return profile, fixed


def naive_phase1(world, params, belief=None, optimistic=False, *, method="auto", max_iter=200_000):
    """Phase 1 human policy prior.

    Parameters
    ----------
    belief : array [S, H, A_own], optional
        belief[s, j, a]: probability that human j plays its own action a at s,
        as believed by the other humans (default uniform).
    optimistic : bool
        Max instead of min over the joint robot action.
    method : "auto" | "sweep" | "iterate"
        "sweep": one backward sweep (acyclic worlds only); "iterate": value
        iteration until the change is < 1e-14; "auto": sweep if acyclic.

    Returns
    -------
    dict with pi_h[S, H, G, A_own], V_h_m[S, H, G], profile[S, n_ah],
    profile_fixed_goal[S, H, G, n_ah].
    """
    S, H, G, A = world.n_states, world.n_humans, world.n_goals, world.n_own_actions
    blocks = state_blocks(world)
    order = _reverse_topological_order(world, blocks)
    if method == "auto":
        method = "sweep" if order is not None else "iterate"
    pi_h = np.zeros((S, H, G, A))
    V_h_m = np.zeros((S, H, G))
    if method == "sweep":
        if order is None:
            raise ValueError("method='sweep' needs an acyclic world")
        for s in order:                       # successors first
            pi_h[s], V_h_m[s] = phase1_state(world, params, blocks, s, V_h_m, belief, optimistic)
    elif method == "iterate":
        for _ in range(max_iter):
            new_pi = np.zeros_like(pi_h)
            new_V = np.zeros_like(V_h_m)
            for s in range(S):
                new_pi[s], new_V[s] = phase1_state(world, params, blocks, s, V_h_m, belief, optimistic)
            change = np.max(np.abs(new_V - V_h_m))
            pi_h, V_h_m = new_pi, new_V
            if change < PHASE1_TOL:
                break
        else:
            raise RuntimeError(f"Phase 1 value iteration did not converge in {max_iter} iterations (change {change:.3e})")
        # the returned policy is the one consistent with the returned values
        for s in range(S):
            pi_h[s], _ = phase1_state(world, params, blocks, s, V_h_m, belief, optimistic)
    else:
        raise ValueError(f"unknown method {method!r}")
    profile, fixed = naive_prior_arrays(world, pi_h)
    return {"pi_h": pi_h, "V_h_m": V_h_m, "profile": profile, "profile_fixed_goal": fixed}


# --------------------------------------------------------------------------- Phase 2, one state

def _q_state(world, params, blocks, profile, s, V_r):
    """Q_r(s, .) = gamma_r sum_k P[s, k] sum_s' T[s, a, k, s'] V_r(s')."""
    succ, Ts = blocks[s]
    Q = np.zeros(world.n_ar)
    for a in range(world.n_ar):
        for k in range(world.n_ah):
            Q[a] += profile[s, k] * float(Ts[a, k] @ V_r[succ])
    return params.gamma_r * Q


def _vhe_state(world, params, blocks, profile_fixed_goal, s, pi_row, V_h_e):
    """V_h^e(s, h, g) from the robot policy at s and the successors' V_h^e (no special case at s)."""
    succ, Ts = blocks[s]
    out = np.zeros((world.n_humans, world.n_goals))
    for h in range(world.n_humans):
        for g in range(int(world.goal_count[h])):
            cont = np.array([1.0 if world.achieved[h, g, t] else params.gamma_h * V_h_e[t, h, g] for t in succ])
            total = 0.0
            for a in range(world.n_ar):
                for k in range(world.n_ah):
                    total += pi_row[a] * profile_fixed_goal[s, h, g, k] * float(Ts[a, k] @ cont)
            out[h, g] = total
    return out


def _x_state(world, params, V_h_e_row):
    """X_h(s) = sum_{g < count} w[h, g] V_h^e(s, h, g)^zeta."""
    X = np.zeros(world.n_humans)
    for h in range(world.n_humans):
        for g in range(int(world.goal_count[h])):
            X[h] += world.goal_weight[h, g] * V_h_e_row[h, g] ** params.zeta
    return X


def _u_state(params, X_row, s):
    """U_r(s) = -((1/H) sum_h X_h^(-xi))^eta; X_h = 0 raises ValueError."""
    if np.any(X_row == 0.0):
        raise ValueError(f"X_h(s) = 0 at state {s} for human(s) {np.flatnonzero(X_row == 0.0).tolist()}: "
                         f"no goal is reachable")
    return -(np.mean(X_row ** (-params.xi))) ** params.eta


def _empty_phase2(world):
    S, H, G, n_ar = world.n_states, world.n_humans, world.n_goals, world.n_ar
    return {
        "Q_r": np.full((S, n_ar), np.nan),
        "pi_r": np.zeros((S, n_ar)),
        "V_h_e": np.zeros((S, H, G)),
        "X_h": np.full((S, H), np.nan),
        "U_r": np.full(S, np.nan),
        "V_r": np.full(S, np.nan),
    }


def naive_phase2_apply(world, profile, profile_fixed_goal, params, Q, V_h_e, X, U, V):
    """One synchronous ("Jacobi") application of every Phase 2 equation.

    Returns dict(Q_r, pi_r, V_h_e, X_h, U_r, V_r) with
    Q_r' from V; pi_r = power_law(Q); V_h_e' from pi_r(Q) and V_h_e; X_h' from
    V_h_e; U_r' from X; V_r' = c_r U + <pi_r(Q), Q>.  Terminal states get the
    terminal conventions.  A fixed point satisfies every equation.
    """
    blocks = state_blocks(world)
    Q = np.asarray(Q, dtype=np.float64)
    V_h_e = np.asarray(V_h_e, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    U = np.asarray(U, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    out = _empty_phase2(world)
    for s in range(world.n_states):
        if world.terminal[s]:
            out["V_r"][s] = params.terminal_v_r
            continue
        out["Q_r"][s] = _q_state(world, params, blocks, profile, s, V)
        pi_row = naive_power_law(Q[s], params.beta_r)
        out["pi_r"][s] = pi_row
        out["V_h_e"][s] = _vhe_state(world, params, blocks, profile_fixed_goal, s, pi_row, V_h_e)
        out["X_h"][s] = _x_state(world, params, V_h_e[s])
        out["U_r"][s] = _u_state(params, X[s], s)
        out["V_r"][s] = params.c_r * U[s] + float(pi_row @ Q[s])
    return out


def naive_gauss_seidel_sweep(world, profile, profile_fixed_goal, params, V_h_e, V_r, order):
    """One in-place ("Gauss-Seidel") sweep of the Phase 2 equations over ``order``, from ``(V_h_e, V_r)``.

    At each state of ``order`` in turn: Q_r from the current V_r, pi_r = power_law(Q_r), V_h^e from pi_r and the
    current V_h^e, X_h, U_r and V_r = c_r U_r + <pi_r, Q_r>; later states read the values just written.
    Terminal states get the terminal conventions first.  Returns dict(Q_r, pi_r, V_h_e, X_h, U_r, V_r) with the
    states not in ``order`` (and the terminal ones) left at the input values (NaN for Q_r, X_h, U_r).
    """
    blocks = state_blocks(world)
    out = _empty_phase2(world)
    out["V_h_e"][:] = V_h_e
    out["V_r"][:] = V_r
    for s in np.flatnonzero(world.terminal):
        out["V_r"][s] = params.terminal_v_r
        out["V_h_e"][s] = 0.0
    for s in order:
        if world.terminal[s]:
            continue
        Q = _q_state(world, params, blocks, profile, s, out["V_r"])
        pi_row = naive_power_law(Q, params.beta_r)
        out["V_h_e"][s] = _vhe_state(world, params, blocks, profile_fixed_goal, s, pi_row, out["V_h_e"])
        out["Q_r"][s], out["pi_r"][s] = Q, pi_row
        out["X_h"][s] = _x_state(world, params, out["V_h_e"][s])
        out["U_r"][s] = _u_state(params, out["X_h"][s], s)
        out["V_r"][s] = params.c_r * out["U_r"][s] + float(pi_row @ Q)
    return out


# --------------------------------------------------------------------------- Phase 2 solvers

def _phase2_sweep(world, profile, profile_fixed_goal, params, blocks, order):
    """Backward induction: successors are final when a state is processed."""
    out = _empty_phase2(world)
    for s in order:
        if world.terminal[s]:
            out["V_r"][s] = params.terminal_v_r
            continue
        Q = _q_state(world, params, blocks, profile, s, out["V_r"])
        pi_row = naive_power_law(Q, params.beta_r)
        V_h_e = _vhe_state(world, params, blocks, profile_fixed_goal, s, pi_row, out["V_h_e"])
        X = _x_state(world, params, V_h_e)
        U = _u_state(params, X, s)
        out["Q_r"][s] = Q
        out["pi_r"][s] = pi_row
        out["V_h_e"][s] = V_h_e
        out["X_h"][s] = X
        out["U_r"][s] = U
        out["V_r"][s] = params.c_r * U + float(pi_row @ Q)
    return out


def _evaluate_policy_of(world, profile, profile_fixed_goal, params, T, Q, beta):
    """Given Q_r: pi_r = power_law(Q_r), then V_h^e, X_h, U_r, V_r by exact dense linear solves,
    then Q_r' = gamma_r P V_r.  Returns the dict of all arrays plus "Q_next"."""
    S, H = world.n_states, world.n_humans
    live = ~np.asarray(world.terminal)
    out = _empty_phase2(world)
    for s in np.flatnonzero(live):
        out["pi_r"][s] = naive_power_law(Q[s], beta)
    pi = out["pi_r"]
    I = np.eye(S)
    # V_h^e(., h, g):  V = b + gamma_h M diag(1 - achieved) V,  M[s, s'] = sum_a pi sum_k Pfg T
    for h in range(H):
        for g in range(int(world.goal_count[h])):
            M = np.einsum("sa,sk,sakt->st", pi, profile_fixed_goal[:, h, g, :], T)
            ach = np.asarray(world.achieved[h, g], dtype=np.float64)
            b = M @ ach
            A = I - params.gamma_h * M * (1.0 - ach)[None, :]
            out["V_h_e"][:, h, g] = np.linalg.solve(A, b)
    for s in np.flatnonzero(live):
        out["X_h"][s] = _x_state(world, params, out["V_h_e"][s])
        out["U_r"][s] = _u_state(params, out["X_h"][s], s)
    # V_r:  V(s) = c_r U(s) + gamma_r sum_a pi sum_k P T V  (live),  V(s) = terminal_v_r (terminal)
    Pr = np.einsum("sa,sk,sakt->st", pi, profile, T)
    A = I - params.gamma_r * Pr * live[:, None]
    rhs = np.where(live, params.c_r * np.nan_to_num(out["U_r"]), params.terminal_v_r)
    V = np.linalg.solve(A, rhs)
    out["V_r"] = V
    Q_next = params.gamma_r * np.einsum("sk,sakt,t->sa", profile, T, V)
    Q_next[~live] = np.nan
    out["Q_next"] = Q_next
    return out


def default_betas(beta_r):
    """0, then 0.25, 0.5, 1, 2, ... (doubling) up to the target (inf: up to 1024, then inf)."""
    if beta_r == 0.0:
        return [0.0]
    betas = [0.0]
    b = 0.25
    top = 1024.0 if beta_r == math.inf else beta_r
    while b < top:
        betas.append(b)
        b *= 2.0
    betas.append(top)
    if beta_r == math.inf:
        betas.append(math.inf)
    return betas


def _phase2_continuation(world, profile, profile_fixed_goal, params, betas, tol, max_iter):
    T = world.dense_transitions()
    live = ~np.asarray(world.terminal)
    Q = np.where(live[:, None], -1.0, np.nan) * np.ones((world.n_states, world.n_ar))
    if betas[-1] != params.beta_r:
        raise ValueError(f"the last continuation beta {betas[-1]} must be the target beta_r {params.beta_r}")
    for beta in betas:
        alpha = 1.0
        previous = math.inf
        for _ in range(max_iter):
            ev = _evaluate_policy_of(world, profile, profile_fixed_goal, params, T, Q, beta)
            step = ev["Q_next"][live] - Q[live]
            change = np.max(np.abs(step) / np.abs(Q[live]))
            if change < tol:
                break
            if change >= previous:
                alpha = max(alpha / 2.0, 1.0 / 4096.0)
            previous = change
            Q[live] = Q[live] + alpha * step
        else:
            raise RuntimeError(f"Phase 2 continuation did not converge at beta_r = {beta} in {max_iter} iterations "
                               f"(relative change {change:.3e}, damping {alpha})")
    # all arrays consistent with the final Q_r (pi_r = pi(Q_r), exact V_h^e, X_h, U_r, V_r given pi_r)
    ev = _evaluate_policy_of(world, profile, profile_fixed_goal, params, T, Q, params.beta_r)
    ev.pop("Q_next")
    ev["Q_r"] = Q
    return ev


def naive_phase2(world, profile, profile_fixed_goal, params, *, method="auto", betas=None, tol=PHASE2_TOL,
                 max_iter=20_000):
    """Exact Phase 2 given the human prior arrays.

    method: "sweep" (backward induction, acyclic worlds only), "iterate"
    (beta_r continuation with exact policy evaluation, any world), or "auto"
    (sweep if acyclic).  ``betas`` is the continuation list (default
    :func:`default_betas`).

    Returns dict(Q_r[S, n_ar], pi_r[S, n_ar], V_h_e[S, H, G], X_h[S, H], U_r[S], V_r[S]).
    Raises ValueError if some X_h = 0, RuntimeError if the iteration fails.
    """
    profile = np.asarray(profile, dtype=np.float64)
    profile_fixed_goal = np.asarray(profile_fixed_goal, dtype=np.float64)
    blocks = state_blocks(world)
    order = _reverse_topological_order(world, blocks)
    if method == "auto":
        method = "sweep" if order is not None else "iterate"
    if method == "sweep":
        if order is None:
            raise ValueError("method='sweep' needs an acyclic world")
        return _phase2_sweep(world, profile, profile_fixed_goal, params, blocks, order)
    if method == "iterate":
        betas = default_betas(params.beta_r) if betas is None else list(betas)
        try:
            return _phase2_continuation(world, profile, profile_fixed_goal, params, betas, tol, max_iter)
        except np.linalg.LinAlgError as exc:
            raise RuntimeError(f"Phase 2 policy evaluation failed: {exc}") from exc
    raise ValueError(f"unknown method {method!r}")
