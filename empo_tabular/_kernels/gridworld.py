"""Jitted breadth-first enumeration of gridworld states (see :mod:`empo_tabular.gridworld`).

A state is packed into one non-negative ``int64`` key, from the least
significant bit up:

* ``n_doors`` bits: door ``j`` open (1) or closed (0);
* ``n_rocks`` fields of ``bp`` bits: the walkable-cell index of each rock,
  sorted ascending (rocks are interchangeable, so sorting makes the key
  canonical);
* ``n_agents`` fields of ``bp`` bits: the walkable-cell index of each agent
  (humans first, then robots);
* the rest: the step counter (always 0 in stationary worlds).

Cells are indexed over the full grid (``c = y * width + x``); ``walk_id``
maps a cell to its walkable index and ``walk_cell`` back.  ``nbr[c, d]`` is
the neighbour of ``c`` in direction ``d`` (0 north, 1 east, 2 south, 3 west)
or -1 outside the grid.

Action kinds: 0 stay, 1-4 move north/east/south/west, 5 toggle the doors
orthogonally adjacent to the agent.
"""
import numpy as np

from . import kernel

FLOOR = 0
WALL = 1
DOOR = 2
OUTSIDE = 3

STAY = 0
TOGGLE = 5

MODE_SIMULTANEOUS = 0
MODE_SEQUENTIAL = 1  # one fixed order (priority)
MODE_RANDOM = 2  # every order of the acting agents equally likely

ST_OK = 0
ST_TOO_MANY_STATES = 1

_GOLDEN = np.uint64(11400714819323198485)


@kernel
def _slot(key, shift):
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(shift))


@kernel
def decode_key(key, n_agents, n_rocks, n_doors, bp, walk_cell, pos, rocks, doors):
    """Unpack ``key`` into ``pos`` (agent cells), ``rocks`` (rock cells), ``doors``; return the step."""
    mask = (np.int64(1) << bp) - 1
    k = key
    for j in range(n_doors):
        doors[j] = (k >> j) & 1
    k >>= n_doors
    for r in range(n_rocks):
        rocks[r] = walk_cell[k & mask]
        k >>= bp
    for a in range(n_agents):
        pos[a] = walk_cell[k & mask]
        k >>= bp
    return k


@kernel
def encode_key(step, pos, rocks, doors, n_agents, n_rocks, n_doors, bp, walk_id, sorted_buf):
    """Pack a state (rock order is canonicalised by sorting their walkable indices)."""
    for r in range(n_rocks):
        v = walk_id[rocks[r]]
        i = r
        while i > 0 and sorted_buf[i - 1] > v:
            sorted_buf[i] = sorted_buf[i - 1]
            i -= 1
        sorted_buf[i] = v
    k = np.int64(step)
    for a in range(n_agents - 1, -1, -1):
        k = (k << bp) | walk_id[pos[a]]
    for r in range(n_rocks - 1, -1, -1):
        k = (k << bp) | sorted_buf[r]
    for j in range(n_doors - 1, -1, -1):
        k = (k << 1) | doors[j]
    return k


@kernel
def _agent_at(c, pos, n_agents):
    for a in range(n_agents):
        if pos[a] == c:
            return a
    return -1


@kernel
def _rock_at(c, rocks, n_rocks):
    for r in range(n_rocks):
        if rocks[r] == c:
            return r
    return -1


@kernel
def _target(i, d, pos, rocks, doors, n_agents, n_rocks, nbr, terrain, door_id, can_push, out):
    """Static feasibility of agent ``i`` moving in direction ``d``.

    Writes ``(target, pushed rock, rock destination)`` into ``out``
    (``target = -1`` if infeasible; -1 for no rock).  The target may hold an
    agent (the caller decides); a pushed rock's destination must be an empty
    floor cell (no rock, no agent, no door).
    """
    out[0] = -1
    out[1] = -1
    out[2] = -1
    t = nbr[pos[i], d]
    if t < 0:
        return
    tt = terrain[t]
    if tt == DOOR:
        if doors[door_id[t]] == 0:
            return
    elif tt != FLOOR:
        return
    r = _rock_at(t, rocks, n_rocks)
    if r >= 0:
        if not can_push[i]:
            return
        t2 = nbr[t, d]
        if t2 < 0 or terrain[t2] != FLOOR:
            return
        if _rock_at(t2, rocks, n_rocks) >= 0 or _agent_at(t2, pos, n_agents) >= 0:
            return
        out[1] = r
        out[2] = t2
    out[0] = t


@kernel
def _toggle(i, pos, n_agents, doors, nbr, terrain, door_id):
    """Agent ``i`` toggles every door orthogonally adjacent to it (sequential rule)."""
    for d in range(4):
        c = nbr[pos[i], d]
        if c >= 0 and terrain[c] == DOOR:
            j = door_id[c]
            if doors[j] == 0:
                doors[j] = 1
            elif _agent_at(c, pos, n_agents) < 0:
                doors[j] = 0


@kernel
def resolve_sequential(acts, perm, n_order, pos, rocks, doors, n_agents, n_rocks, nbr, terrain, door_id, can_push,
                       tmp):
    """Execute the agents ``perm[:n_order]`` one after the other (in place); the others stay."""
    for idx in range(n_order):
        i = perm[idx]
        k = acts[i]
        if 1 <= k <= 4:
            _target(i, k - 1, pos, rocks, doors, n_agents, n_rocks, nbr, terrain, door_id, can_push, tmp)
            t = tmp[0]
            if t >= 0 and _agent_at(t, pos, n_agents) < 0:
                pos[i] = t
                if tmp[1] >= 0:
                    rocks[tmp[1]] = tmp[2]
        elif k == TOGGLE:
            _toggle(i, pos, n_agents, doors, nbr, terrain, door_id)


@kernel
def resolve_simultaneous(acts, pos, rocks, doors, n_agents, n_rocks, n_doors, nbr, terrain, door_id, can_push,
                         tgt, rk, rd, ok, flip, tmp):
    """All agents act at once (in place); see the module docstring of ``empo_tabular.gridworld``.

    1. A move is feasible if its target is a floor cell or an open door
       (door states at the start of the step) and either holds no rock, or
       the mover may push and the cell behind the rock is empty floor.
    2. Feasible movers that claim a common cell (target or pushed-rock
       destination) all stay; two agents that would swap cells both stay.
    3. Repeatedly, a mover whose target is occupied by an agent that stays,
       stays too (following a moving agent is allowed).
    4. Toggles: every door adjacent to a toggling agent flips; an open door
       closes only if no agent stands in it after the moves.
    """
    for i in range(n_agents):
        tgt[i] = -1
        rk[i] = -1
        rd[i] = -1
        k = acts[i]
        if 1 <= k <= 4:
            _target(i, k - 1, pos, rocks, doors, n_agents, n_rocks, nbr, terrain, door_id, can_push, tmp)
            tgt[i] = tmp[0]
            rk[i] = tmp[1]
            rd[i] = tmp[2]
        ok[i] = tgt[i] >= 0
    for i in range(n_agents):
        if tgt[i] < 0:
            continue
        for j in range(i + 1, n_agents):
            if tgt[j] < 0:
                continue
            clash = tgt[i] == tgt[j]
            if rd[j] >= 0 and tgt[i] == rd[j]:
                clash = True
            if rd[i] >= 0 and (rd[i] == tgt[j] or rd[i] == rd[j]):
                clash = True
            if tgt[i] == pos[j] and tgt[j] == pos[i]:
                clash = True
            if clash:
                ok[i] = False
                ok[j] = False
    changed = True
    while changed:
        changed = False
        for i in range(n_agents):
            if not ok[i]:
                continue
            j = _agent_at(tgt[i], pos, n_agents)
            if j >= 0 and not ok[j]:
                ok[i] = False
                changed = True
    for j in range(n_doors):
        flip[j] = False
    for i in range(n_agents):
        if acts[i] == TOGGLE:
            for d in range(4):
                c = nbr[pos[i], d]
                if c >= 0 and terrain[c] == DOOR:
                    flip[door_id[c]] = True
    for i in range(n_agents):
        if ok[i]:
            pos[i] = tgt[i]
            if rk[i] >= 0:
                rocks[rk[i]] = rd[i]
    for j in range(n_doors):
        if flip[j]:
            if doors[j] == 0:
                doors[j] = 1
            else:
                doors[j] = 0
    # an open door with an agent in it cannot close: undo those closings
    for i in range(n_agents):
        c = pos[i]
        if terrain[c] == DOOR:
            j = door_id[c]
            if flip[j] and doors[j] == 0:
                doors[j] = 1


@kernel
def _grow_i64(a, need):
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    b[:a.shape[0]] = a
    return b


@kernel
def _grow_i32(a, need):
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    b[:a.shape[0]] = a
    return b


@kernel
def _grow_f64(a, need):
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), dtype=a.dtype)
    b[:a.shape[0]] = a
    return b


@kernel
def enumerate_states(start_key, horizon, nbr, terrain, door_id, walk_id, walk_cell, n_humans, bp, n_rocks, n_doors,
                     robot_kinds, human_kinds, can_push, slip, mode, perms, max_states):
    """Breadth-first enumeration of the states reachable from ``start_key``.

    Parameters
    ----------
    horizon : int
        ``>= 0``: states whose step equals ``horizon`` are terminal and the
        step counter advances; ``< 0``: stationary (no counter).
    robot_kinds : int (n_ar, R) / human_kinds : int (n_ah, H)
        Action kind of every agent in every joint action (row-major).
    can_push : bool (n_agents,), slip : float (n_agents,)
        Per agent (humans first).
    mode : MODE_SIMULTANEOUS, MODE_SEQUENTIAL or MODE_RANDOM
        Sequential: the agents act in the order ``perms[0]``.  Random: the
        outcome is averaged over every order of the agents that do not
        stay, each order equally likely (this equals averaging over all
        ``n!`` orders, since staying agents change nothing);
        ``perms[k * n! + q, :k]`` is the ``q``-th order of ``k`` agents.
    max_states : int
        Stop with status ``ST_TOO_MANY_STATES`` beyond this many states.

    Returns
    -------
    keys (S,), trans_ptr (S*n_ar*n_ah + 1,), trans_succ (nnz,) int32,
    trans_prob (nnz,), status.  State 0 is the start, states are numbered
    in discovery order and rows appear in ``(s, a_r, a_h)`` order.
    """
    n_agents = can_push.shape[0]
    n_ar = robot_kinds.shape[0]
    n_ah = human_kinds.shape[0]
    n_robots = robot_kinds.shape[1]
    rps = n_ar * n_ah
    n_fact = 1
    for k in range(2, n_agents + 1):
        n_fact *= k
    max_out = (np.int64(1) << n_agents) * (n_fact if mode == MODE_RANDOM else 1)
    active = np.empty(n_agents, dtype=np.int64)
    order = np.empty(n_agents, dtype=np.int64)

    cap = 1024
    keys = np.empty(cap, dtype=np.int64)
    ptr = np.empty(cap * rps + 1, dtype=np.int64)
    succ = np.empty(cap * 4, dtype=np.int32)
    prob = np.empty(cap * 4, dtype=np.float64)
    log_size = 11
    size = np.int64(1) << log_size
    ht_keys = np.full(size, -1, dtype=np.int64)
    ht_vals = np.empty(size, dtype=np.int64)

    keys[0] = start_key
    ht_keys[_slot(start_key, 64 - log_size)] = start_key
    ht_vals[_slot(start_key, 64 - log_size)] = 0
    n = 1
    ptr[0] = 0
    nnz = 0

    pos0 = np.empty(n_agents, dtype=np.int64)
    rocks0 = np.empty(max(n_rocks, 1), dtype=np.int64)
    doors0 = np.empty(max(n_doors, 1), dtype=np.int64)
    pos = np.empty(n_agents, dtype=np.int64)
    rocks = np.empty(max(n_rocks, 1), dtype=np.int64)
    doors = np.empty(max(n_doors, 1), dtype=np.int64)
    sorted_buf = np.empty(max(n_rocks, 1), dtype=np.int64)
    acts = np.empty(n_agents, dtype=np.int64)
    eff = np.empty(n_agents, dtype=np.int64)
    movers = np.empty(n_agents, dtype=np.int64)
    tgt = np.empty(n_agents, dtype=np.int64)
    rk = np.empty(n_agents, dtype=np.int64)
    rd = np.empty(n_agents, dtype=np.int64)
    ok = np.empty(n_agents, dtype=np.bool_)
    flip = np.empty(max(n_doors, 1), dtype=np.bool_)
    tmp = np.empty(3, dtype=np.int64)
    out_keys = np.empty(max_out, dtype=np.int64)
    out_p = np.empty(max_out, dtype=np.float64)

    i = 0
    while i < n:
        ptr = _grow_i64(ptr, (i + 1) * rps + 1)
        step = decode_key(keys[i], n_agents, n_rocks, n_doors, bp, walk_cell, pos0, rocks0, doors0)
        if horizon >= 0 and step >= horizon:
            for rr in range(rps):
                ptr[i * rps + rr + 1] = nnz
            i += 1
            continue
        next_step = step + 1 if horizon >= 0 else 0
        for ar in range(n_ar):
            for a in range(n_robots):
                acts[n_humans + a] = robot_kinds[ar, a]
            for ah in range(n_ah):
                for a in range(n_humans):
                    acts[a] = human_kinds[ah, a]
                m = 0
                for a in range(n_agents):
                    if 1 <= acts[a] <= 4 and slip[a] > 0.0:
                        movers[m] = a
                        m += 1
                n_out = 0
                for mask in range(np.int64(1) << m):
                    p_slip = 1.0
                    for a in range(n_agents):
                        eff[a] = acts[a]
                    for b in range(m):
                        a = movers[b]
                        if (mask >> b) & 1:
                            p_slip *= slip[a]
                            eff[a] = STAY
                        else:
                            p_slip *= 1.0 - slip[a]
                    if p_slip <= 0.0:
                        continue
                    n_q = 1
                    k_act = 0
                    if mode == MODE_RANDOM:
                        for a in range(n_agents):
                            if eff[a] != STAY:
                                active[k_act] = a
                                k_act += 1
                        for k in range(2, k_act + 1):
                            n_q *= k
                    for q in range(n_q):
                        for a in range(n_agents):
                            pos[a] = pos0[a]
                        for r in range(n_rocks):
                            rocks[r] = rocks0[r]
                        for j in range(n_doors):
                            doors[j] = doors0[j]
                        if mode == MODE_RANDOM:
                            for b in range(k_act):
                                order[b] = active[perms[k_act * n_fact + q, b]]
                            resolve_sequential(eff, order, k_act, pos, rocks, doors, n_agents, n_rocks, nbr, terrain,
                                               door_id, can_push, tmp)
                            p = p_slip / n_q
                        elif mode == MODE_SEQUENTIAL:
                            resolve_sequential(eff, perms[0], n_agents, pos, rocks, doors, n_agents, n_rocks, nbr,
                                               terrain, door_id, can_push, tmp)
                            p = p_slip
                        else:
                            resolve_simultaneous(eff, pos, rocks, doors, n_agents, n_rocks, n_doors, nbr, terrain,
                                                 door_id, can_push, tgt, rk, rd, ok, flip, tmp)
                            p = p_slip
                        key = encode_key(next_step, pos, rocks, doors, n_agents, n_rocks, n_doors, bp, walk_id,
                                         sorted_buf)
                        found = False
                        for o in range(n_out):
                            if out_keys[o] == key:
                                out_p[o] += p
                                found = True
                                break
                        if not found:
                            out_keys[n_out] = key
                            out_p[n_out] = p
                            n_out += 1
                succ = _grow_i32(succ, nnz + n_out)
                prob = _grow_f64(prob, nnz + n_out)
                for o in range(n_out):
                    key = out_keys[o]
                    h = _slot(key, 64 - log_size)
                    while True:
                        kh = ht_keys[h]
                        if kh == key:
                            idx = ht_vals[h]
                            break
                        if kh == -1:
                            idx = n
                            if n >= max_states:
                                return keys[:0], ptr[:1], succ[:0], prob[:0], ST_TOO_MANY_STATES
                            ht_keys[h] = key
                            ht_vals[h] = idx
                            keys = _grow_i64(keys, n + 1)
                            keys[n] = key
                            n += 1
                            break
                        h = (h + 1) & (size - 1)
                    succ[nnz] = idx
                    prob[nnz] = out_p[o]
                    nnz += 1
                    if 2 * n > size:
                        log_size += 1
                        size = np.int64(1) << log_size
                        ht_keys = np.full(size, -1, dtype=np.int64)
                        ht_vals = np.empty(size, dtype=np.int64)
                        for t in range(n):
                            h = _slot(keys[t], 64 - log_size)
                            while ht_keys[h] != -1:
                                h = (h + 1) & (size - 1)
                            ht_keys[h] = keys[t]
                            ht_vals[h] = t
                ptr[(i * n_ar + ar) * n_ah + ah + 1] = nnz
        i += 1
    return keys[:n].copy(), ptr[:n * rps + 1].copy(), succ[:nnz].copy(), prob[:nnz].copy(), ST_OK
