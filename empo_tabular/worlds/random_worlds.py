"""Seeded random worlds for tests and benchmarks: :func:`random_world`."""
from __future__ import annotations

import numpy as np

from .._validation import as_int, as_real, check_scalar_range
from ..core.world import TabularWorld


def _profiles(n_agents: int, n_actions: int) -> np.ndarray:
    """Row-major Cartesian product of ``n_agents`` action sets of size ``n_actions``."""
    if n_agents == 0:
        return np.zeros((1, 0), dtype=np.int64)
    grids = np.indices((n_actions,) * n_agents).reshape(n_agents, -1).T
    return grids.astype(np.int64)


def random_world(n_states: int = 50, *, n_humans: int = 1, n_robots: int = 1, n_actions: int = 3, n_goals: int = 3,
                 acyclic: bool = False, horizon: int = 6, terminal_prob: float = 0.0, branching: int = 2,
                 concentration: float = 1.0, goal_density: float = 0.2, seed: int = 0,
                 ensure_power: bool = True) -> TabularWorld:
    """Generate a random valid :class:`TabularWorld`.

    Parameters
    ----------
    n_states : int
        Number of states (>= 2).
    n_humans, n_robots, n_actions : int
        Agents and actions per agent: ``n_ah = n_actions**n_humans``,
        ``n_ar = n_actions**n_robots`` (``n_robots = 0`` gives ``n_ar = 1``).
    n_goals : int
        Goals per human (weights drawn from a flat Dirichlet).
    acyclic : bool
        Acyclic: states are spread over ``horizon`` levels (state 0 alone on
        level 0), successors lie on the next level, the last level is
        terminal.  Cyclic: successors anywhere.
    terminal_prob : float
        Probability that a non-initial state is terminal (in addition to the
        last level of an acyclic world).
    branching : int
        Random successors per row (before merging duplicates).
    concentration : float
        Dirichlet concentration of the row probabilities (small = nearly
        deterministic).
    goal_density : float
        Probability that a goal holds in a state.
    seed : int
        Seed; the same arguments give the same world, bit for bit.
    ensure_power : bool
        Make ``X_h > 0`` everywhere: goal 0 of every human also holds in all
        terminal states and (cyclic worlds) every row can move from ``s`` to
        ``(s + 1) mod S``, so some goal is always reachable.

    Returns
    -------
    TabularWorld
    """
    S = as_int(n_states, "n_states")
    if S < 2:
        raise ValueError(f"n_states must be >= 2, got {S}")
    H, R, A, G = (as_int(n_humans, "n_humans"), as_int(n_robots, "n_robots"), as_int(n_actions, "n_actions"),
                  as_int(n_goals, "n_goals"))
    if H < 1 or R < 0 or A < 1 or G < 1:
        raise ValueError(f"need n_humans >= 1, n_robots >= 0, n_actions >= 1, n_goals >= 1; got {H}, {R}, {A}, {G}")
    L = as_int(horizon, "horizon")
    if acyclic and not 2 <= L <= S:
        raise ValueError(f"horizon must be in [2, n_states] for acyclic worlds, got {L}")
    k = as_int(branching, "branching")
    if k < 1:
        raise ValueError(f"branching must be >= 1, got {k}")
    tp = check_scalar_range(as_real(terminal_prob, "terminal_prob"), "terminal_prob", low=0.0, high=1.0, high_open=True)
    conc = check_scalar_range(as_real(concentration, "concentration"), "concentration", low=0.0, low_open=True)
    dens = check_scalar_range(as_real(goal_density, "goal_density"), "goal_density", low=0.0, high=1.0)
    rng = np.random.default_rng(as_int(seed, "seed"))

    hprof = _profiles(H, A)
    rprof = _profiles(R, A)
    n_ah, n_ar = hprof.shape[0], rprof.shape[0]
    per_state = n_ar * n_ah

    if acyclic:
        level = np.concatenate([[0], np.sort(rng.integers(1, L, size=S - 1))])
        level[1:] = np.maximum(level[1:], 1)
        terminal = level == L - 1
        # make sure every level below the last is non-empty so successors exist
        present = np.bincount(level, minlength=L)
        terminal |= np.array([present[min(lv + 1, L - 1)] == 0 for lv in level]) & (level < L - 1)
    else:
        level = np.zeros(S, dtype=np.int64)
        terminal = np.zeros(S, dtype=bool)
    if tp > 0:
        extra = rng.random(S) < tp
        extra[0] = False
        terminal |= extra
    if terminal.all():
        terminal[0] = False

    live_states = np.flatnonzero(~terminal)
    n_live_rows = live_states.size * per_state
    if acyclic:
        starts = np.searchsorted(level, level + 1, side="left")
        ends = np.searchsorted(level, level + 1, side="right")
        lo = np.repeat(starts[live_states], per_state)
        hi = np.repeat(ends[live_states], per_state)
        succ = lo[:, None] + (rng.random((n_live_rows, k)) * (hi - lo)[:, None]).astype(np.int64)
    else:
        succ = rng.integers(0, S, size=(n_live_rows, k))
        if ensure_power:
            chain = (np.repeat(live_states, per_state) + 1) % S
            succ = np.concatenate([succ, chain[:, None]], axis=1)
    width = succ.shape[1]
    prob = rng.gamma(conc, size=(n_live_rows, width)) + 1e-300
    prob /= prob.sum(axis=1, keepdims=True)
    if not acyclic and ensure_power:
        prob = 0.9 * prob + np.concatenate([np.zeros((n_live_rows, width - 1)), np.full((n_live_rows, 1), 0.1)], axis=1)
        prob /= prob.sum(axis=1, keepdims=True)

    row_len = np.zeros(S * per_state, dtype=np.int64)
    live_rows = (live_states[:, None] * per_state + np.arange(per_state)[None, :]).ravel()
    row_len[live_rows] = width
    ptr = np.concatenate([[0], np.cumsum(row_len)])
    achieved = rng.random((H, G, S)) < dens
    if ensure_power:
        achieved[:, 0, terminal] = True
    weight = rng.gamma(1.0, size=(H, G)) + 1e-3
    weight /= weight.sum(axis=1, keepdims=True)
    info = {"name": "random_world", "seed": int(seed), "acyclic": bool(acyclic)}
    return TabularWorld(S, 0, terminal, n_ar, hprof, ptr, succ.ravel(), prob.ravel(), achieved, weight,
                        robot_profiles=rprof, info=info)
