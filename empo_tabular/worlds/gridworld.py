"""Gridworlds from ASCII maps: :func:`build_gridworld` and :class:`GridWorld`.

Map legend (one character per cell; rows may differ in length)::

    #   wall                  .   floor             (space)  outside: blocked, drawn blank
    H   human                 R   robot             B        box / rock (pushable by robots)
    D   closed door           d   open door         a-z      floor of the region named by the
                                                             letter (except d)

Humans and robots are numbered in reading order (left to right, top to
bottom): ``H0, H1, ...`` and ``R0, R1, ...``.  Coordinates are ``(x, y)``
with ``x`` the column and ``y`` the row counted from the top.  Agents and
rocks stand on floor; ``D``/``d`` cells are floor that a door can block.

Actions
-------
Every agent has ``0 stay, 1 north, 2 east, 3 south, 4 west`` (action 0 is
"stay", as Phase 1 requires).  If the map has doors, every robot also has
``5 toggle``: it flips each door orthogonally adjacent to it (a closed door
opens; an open door closes unless somebody stands in it).  Humans get the
toggle only with ``human_toggle=True``.  Moving into a rock pushes it one
cell further if the mover may push (robots by default, humans with
``human_push=True``) and the cell behind is empty floor (no wall, door,
rock or agent); otherwise the move fails.  Rocks never enter door cells.
Joint actions are enumerated row-major, first agent most significant
(``np.ravel_multi_index`` order), for the humans (``human_profiles``) and
the robots (``robot_profiles``) separately; rows of the world are indexed
``(s * n_ar + a_r) * n_ah + a_h``.

Conflicts (``conflict=``)
-------------------------
``"stay"`` (default, deterministic, symmetric between agents)
    All agents act at once.  (1) A move is *feasible* if its target is
    floor or an open door (door states at the start of the step) and holds
    no rock, or holds a rock the mover can push onto empty floor.  (2)
    Feasible movers that claim a common cell (their targets or a pushed
    rock's destination) all stay, and two agents that would swap cells both
    stay.  (3) Then, repeatedly, a mover whose target is occupied by an
    agent that stays also stays; following a moving agent (and moving round
    a cycle of at least three agents) is allowed.  (4) Toggles act after the
    moves: each door adjacent to a toggling agent flips once, an open door
    closes only if it is empty after the moves.
``"random"``
    Agents act one after the other in a uniformly random order (all
    ``n!`` orders equally likely, as in the public reference's MultiGrid),
    each against the state the earlier ones left: a move succeeds if the
    target is free at that moment.  This makes contested moves stochastic
    (two agents racing for one cell each win with probability 1/2).
``"priority"``
    Sequential in a fixed order (``priority=[...]`` of agent labels such as
    ``["H0", "R0"]``; default: humans first, then robots).

Slip (``slip=``): each attempted move independently fails (the agent
stays) with the agent's slip probability; a float for everybody or a dict
``{"humans": p, "robots": q}`` or a per-agent list (humans first).

Horizons: ``horizon=N`` puts a step counter into the state; states at step
``N`` are terminal and the world is acyclic (solved by one backward sweep).
``horizon=None`` gives the stationary, cyclic world without counter (no
terminal states; solve it with ``gamma_h, gamma_r < 1``).

Only states reachable from the start are enumerated (a jitted
breadth-first search over packed integer states with a hash table); state 0
is the start.
"""
from __future__ import annotations

import itertools
import math
import time

import numpy as np

from .._kernels import gridworld as _kg
from .._validation import as_int
from .gridspec import LEGEND, Goal, Layout, normalise_map, parse_map, resolve_goals
from ..core.world import TabularWorld

__all__ = ["ACTION_NAMES", "CONFLICT_RULES", "LEGEND", "Goal", "GridWorld", "Layout", "build_gridworld"]

ACTION_NAMES = ("stay", "north", "east", "south", "west", "toggle")
DIRECTIONS = ((0, -1), (1, 0), (0, 1), (-1, 0))  # north, east, south, west as (dx, dy)
CONFLICT_RULES = ("stay", "random", "priority")
MAX_RANDOM_AGENTS = 6


def _profiles(counts) -> np.ndarray:
    if len(counts) == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.indices(tuple(counts)).reshape(len(counts), -1).T.astype(np.int64)


def _per_agent_slip(slip, n_h, n_r) -> np.ndarray:
    if isinstance(slip, dict):
        unknown = sorted(set(slip) - {"humans", "robots"})
        if unknown:
            raise ValueError(f"slip dict keys must be 'humans' and/or 'robots', got {unknown}")
        vals = [float(slip.get("humans", 0.0))] * n_h + [float(slip.get("robots", 0.0))] * n_r
    elif isinstance(slip, (list, tuple, np.ndarray)):
        vals = [float(v) for v in slip]
        if len(vals) != n_h + n_r:
            raise ValueError(f"slip list must have one entry per agent ({n_h} humans + {n_r} robots), got {len(vals)}")
    else:
        vals = [float(slip)] * (n_h + n_r)
    arr = np.array(vals, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0.0) & (arr < 1.0)))
    if bad.size:
        raise ValueError(f"slip probabilities must be in [0, 1), got {arr[bad[0]]!r} for agent {int(bad[0])}")
    return arr


class GridWorld:
    """A gridworld: the validated :class:`TabularWorld` plus the decoding of its states.

    Attributes
    ----------
    world : TabularWorld
        The world (``world.info["gridworld"]`` holds the build arguments, so
        :meth:`from_world` can re-attach the decoding to a saved world).
    layout : Layout
        Map, terrain, initial positions, doors and named regions.
    goals : list[list[Goal]]
        ``goals[h][g]``: cells and weight of goal ``g`` of human ``h``.
    keys : int64 (S,)
        Packed state keys (state ``s`` has key ``keys[s]``).
    agent_cell : int (S, n_agents)
        Flat cell ``y * width + x`` of every agent (humans first, then robots).
    rock_cell : int (S, n_rocks), door_open : bool (S, n_doors), step : int (S,)
        The other parts of each state (``step`` is 0 in stationary worlds).
    horizon, conflict, slip, labels, actions :
        Build options, agent labels (``"H0", ..., "R0", ...``) and each
        agent's own action names.
    build_seconds : dict
        Wall time of the jitted enumeration (``"enumerate"``), of goals,
        validation and decoding (``"world"``) and in total.
    """

    def __init__(self, world, layout, goals, keys, config, codec):
        self.world = world
        self.layout = layout
        self.goals = goals
        self.keys = keys
        self.config = config
        self._codec = codec
        self.n_humans = len(layout.humans)
        self.n_robots = len(layout.robots)
        self.n_agents = self.n_humans + self.n_robots
        self.labels = [f"H{i}" for i in range(self.n_humans)] + [f"R{i}" for i in range(self.n_robots)]
        self.actions = config["actions"]
        self.horizon = config["horizon"]
        self.conflict = config["conflict"]
        self.slip = np.array(config["slip"], dtype=np.float64)
        self.agent_cell, self.rock_cell, self.door_open, self.step = self._decode(keys)
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]

    # ----------------------------------------------------------------- decoding
    def _decode(self, keys):
        c = self._codec
        walk_cell, bp, nr, nd = c["walk_cell"], c["bp"], c["n_rocks"], c["n_doors"]
        mask = (1 << bp) - 1
        k = keys.copy()
        doors = ((k[:, None] >> np.arange(nd, dtype=np.int64)[None, :]) & 1).astype(bool)
        k >>= nd
        rocks = np.empty((keys.size, nr), dtype=np.int64)
        for r in range(nr):
            rocks[:, r] = walk_cell[k & mask]
            k >>= bp
        agents = np.empty((keys.size, self.n_agents), dtype=np.int64)
        for a in range(self.n_agents):
            agents[:, a] = walk_cell[k & mask]
            k >>= bp
        return agents, rocks, doors, k

    def _encode(self, agent_cells, rock_cells, doors, step) -> int:
        return _encode_key(self._codec, self.n_agents, agent_cells, rock_cells, doors, step)

    def lookup(self, keys) -> np.ndarray:
        """State indices of packed keys (-1 where the key is not a reachable state)."""
        keys = np.atleast_1d(np.asarray(keys, dtype=np.int64))
        i = np.searchsorted(self._sorted, keys)
        i = np.minimum(i, self._sorted.size - 1)
        hit = self._sorted[i] == keys
        return np.where(hit, self._order[i], -1)

    # ------------------------------------------------------------------ helpers
    @property
    def n_states(self) -> int:
        return self.world.n_states

    @property
    def width(self) -> int:
        return self.layout.width

    @property
    def height(self) -> int:
        return self.layout.height

    def xy(self, cell) -> tuple:
        """``(x, y)`` of a flat cell index."""
        return int(cell) % self.width, int(cell) // self.width

    def cell(self, xy) -> int:
        """Flat cell index of ``(x, y)``."""
        x, y = xy
        return int(y) * self.width + int(x)

    def agent_index(self, agent) -> int:
        """Global agent index of ``"H0"``/``"R1"``, ``("human", 0)``, ``("robot", 1)`` or an int."""
        if isinstance(agent, (int, np.integer)):
            a = int(agent)
        elif isinstance(agent, str) and agent in self.labels:
            a = self.labels.index(agent)
        elif isinstance(agent, tuple) and len(agent) == 2 and agent[0] in ("human", "robot"):
            a = int(agent[1]) + (0 if agent[0] == "human" else self.n_humans)
            if not (0 <= int(agent[1]) < (self.n_humans if agent[0] == "human" else self.n_robots)):
                a = -1
        else:
            a = -1
        if not 0 <= a < self.n_agents:
            raise ValueError(f"unknown agent {agent!r}; agents are {self.labels}")
        return a

    def positions(self, s) -> dict:
        """The parts of state ``s`` as plain Python: agent, rock and door positions, step."""
        s = as_int(s, "s")
        return {
            "humans": [self.xy(c) for c in self.agent_cell[s, :self.n_humans]],
            "robots": [self.xy(c) for c in self.agent_cell[s, self.n_humans:]],
            "rocks": sorted(self.xy(c) for c in self.rock_cell[s]),
            "doors_open": [bool(v) for v in self.door_open[s]],
            "step": int(self.step[s]),
        }

    def state_of(self, humans=None, robots=None, rocks=None, doors_open=None, step=None) -> int:
        """Index of the state with the given parts; omitted parts are taken from the start state.

        ``humans``/``robots``: lists of ``(x, y)``; ``rocks``: list of
        ``(x, y)``; ``doors_open``: list of bools (map order of doors).
        Raises ``KeyError`` if that state is not reachable from the start.
        """
        s0 = self.world.initial_state
        cells = list(self.agent_cell[s0])
        if humans is not None:
            if len(humans) != self.n_humans:
                raise ValueError(f"humans: expected {self.n_humans} positions, got {len(humans)}")
            cells[:self.n_humans] = [self.cell(p) for p in humans]
        if robots is not None:
            if len(robots) != self.n_robots:
                raise ValueError(f"robots: expected {self.n_robots} positions, got {len(robots)}")
            cells[self.n_humans:] = [self.cell(p) for p in robots]
        rock_cells = list(self.rock_cell[s0]) if rocks is None else [self.cell(p) for p in rocks]
        if len(rock_cells) != self.rock_cell.shape[1]:
            raise ValueError(f"rocks: expected {self.rock_cell.shape[1]} positions, got {len(rock_cells)}")
        doors = list(self.door_open[s0]) if doors_open is None else list(doors_open)
        if len(doors) != self.door_open.shape[1]:
            raise ValueError(f"doors_open: expected {self.door_open.shape[1]} values, got {len(doors)}")
        step = int(self.step[s0]) if step is None else int(step)
        walk_id = self._codec["walk_id"]
        for c in list(cells) + list(rock_cells):
            if not 0 <= c < walk_id.size or walk_id[c] < 0:
                raise KeyError(f"{self.xy(c)} is not a walkable cell")
        if self.horizon is None and step != 0:
            raise KeyError("stationary worlds have no step counter; use step=None or 0")
        s = int(self.lookup(self._encode(cells, rock_cells, doors, step))[0])
        if s < 0:
            raise KeyError(
                f"no reachable state with humans={[self.xy(c) for c in cells[:self.n_humans]]}, "
                f"robots={[self.xy(c) for c in cells[self.n_humans:]]}, rocks={[self.xy(c) for c in rock_cells]}, "
                f"doors_open={doors}, step={step}"
            )
        return s

    def vary_agent(self, agent, state=None) -> np.ndarray:
        """``(height, width)`` array of state indices: ``state`` with ``agent`` moved to each cell.

        Everything else (other agents, rocks, doors, step) is as in
        ``state`` (default: the start).  Cells where that state is not
        reachable (walls, occupied cells, ...) hold -1.
        """
        a = self.agent_index(agent)
        s = self.world.initial_state if state is None else as_int(state, "state")
        c = self._codec
        off = key_offset(c, agent=a)
        walk_cell = c["walk_cell"]
        base = int(self.keys[s]) & ~(((1 << c["bp"]) - 1) << off)
        queries = base | (np.arange(walk_cell.size, dtype=np.int64) << off)
        idx = self.lookup(queries)
        out = np.full(self.width * self.height, -1, dtype=np.int64)
        out[walk_cell] = idx
        return out.reshape(self.height, self.width)

    def on_cells(self, values, agent, state=None) -> np.ndarray:
        """``(height, width)`` float array: ``values[s]`` over the cells of ``agent`` (NaN elsewhere)."""
        idx = self.vary_agent(agent, state)
        vals = np.asarray(values, dtype=np.float64)
        out = np.full(idx.shape, np.nan)
        ok = idx >= 0
        out[ok] = vals[idx[ok]]
        return out

    def render(self, s=None) -> str:
        """ASCII picture of state ``s`` (agents as their labels' first letter)."""
        s = self.world.initial_state if s is None else as_int(s, "s")
        grid = [list(r) for r in self.layout.rows]
        for y, row in enumerate(grid):
            for x, ch in enumerate(row):
                if ch in "HRB":
                    grid[y][x] = "."
        for j, (x, y) in enumerate(self.layout.doors):
            grid[y][x] = "d" if self.door_open[s, j] else "D"
        for c in self.rock_cell[s]:
            x, y = self.xy(c)
            grid[y][x] = "B"
        for a, c in enumerate(self.agent_cell[s]):
            x, y = self.xy(c)
            grid[y][x] = "H" if a < self.n_humans else "R"
        return "\n".join("".join(r) for r in grid)

    def robot_action_names(self) -> list:
        """Names of the joint robot actions, e.g. ``"R0:east R1:stay"`` (``world.robot_profiles`` order)."""
        if self.n_robots == 0:
            return ["(no robot)"]
        prof = self.world.robot_profiles
        return [" ".join(f"R{i}:{self.actions[self.n_humans + i][a]}" for i, a in enumerate(row)) for row in prof]

    def human_action_names(self) -> list:
        """Names of the joint human actions (``world.human_profiles`` order)."""
        prof = self.world.human_profiles
        return [" ".join(f"H{i}:{self.actions[i][a]}" for i, a in enumerate(row)) for row in prof]

    def joint_action(self, actions) -> tuple:
        """``(a_r, a_h)`` row indices of a joint action.

        ``actions`` maps agent labels to action names or own indices, e.g.
        ``{"H0": "east", "R0": "toggle"}``; agents left out stay.
        """
        own = [0] * self.n_agents
        for agent, act in dict(actions).items():
            a = self.agent_index(agent)
            names = self.actions[a]
            if isinstance(act, str):
                if act not in names:
                    raise ValueError(f"{self.labels[a]} has no action {act!r}; its actions are {names}")
                own[a] = names.index(act)
            else:
                own[a] = int(act)
                if not 0 <= own[a] < len(names):
                    raise ValueError(f"{self.labels[a]} has actions 0..{len(names) - 1}, got {act!r}")
        n_h_act = [len(self.actions[a]) for a in range(self.n_humans)]
        n_r_act = [len(self.actions[a]) for a in range(self.n_humans, self.n_agents)]
        a_h = int(np.ravel_multi_index(own[:self.n_humans], n_h_act))
        a_r = int(np.ravel_multi_index(own[self.n_humans:], n_r_act)) if self.n_robots else 0
        return a_r, a_h

    def transition(self, s, actions) -> list:
        """Successors of state ``s`` under a joint action (see :meth:`joint_action`): ``[(s', p), ...]``."""
        a_r, a_h = self.joint_action(actions)
        succ, prob = self.world.row(as_int(s, "s"), a_r, a_h)
        return [(int(t), float(p)) for t, p in zip(succ, prob)]

    def robot_marginal(self, pi_r, robot=0) -> np.ndarray:
        """Per-state distribution of one robot's own action: ``(S, n_actions)`` from ``(S, n_ar)``."""
        r = int(robot)
        if not 0 <= r < self.n_robots:
            raise ValueError(f"robot {robot} out of range (the world has {self.n_robots} robots)")
        prof = self.world.robot_profiles[:, r]
        n_act = len(self.actions[self.n_humans + r])
        out = np.zeros((np.asarray(pi_r).shape[0], n_act))
        for a in range(n_act):
            out[:, a] = np.asarray(pi_r)[:, prof == a].sum(axis=1)
        return out

    def __repr__(self) -> str:
        kind = "stationary" if self.horizon is None else f"horizon={self.horizon}"
        return (f"GridWorld({self.world.info.get('name', '')!r}, {self.width}x{self.height}, {kind}, "
                f"humans={self.n_humans}, robots={self.n_robots}, rocks={len(self.layout.rocks)}, "
                f"doors={len(self.layout.doors)}, S={self.n_states}, conflict={self.conflict!r})")

    @classmethod
    def from_world(cls, world: TabularWorld) -> "GridWorld":
        """Rebuild the decoding of a world made by :func:`build_gridworld` (e.g. after ``load_world``)."""
        cfg = world.info.get("gridworld")
        if cfg is None:
            raise ValueError("this world was not built by build_gridworld (no info['gridworld'])")
        gw = build_gridworld(cfg["map"], **cfg["build"])
        if gw.world.checksum != world.checksum:
            raise ValueError("rebuilding the gridworld from its info gives a different world (checksum mismatch)")
        gw.world = world
        return gw


def build_gridworld(ascii_map, spec=None, *, goals=None, regions=None, horizon=None, slip=0.0, conflict="stay",
                    priority=None, robot_push=True, human_push=False, robot_toggle=True, human_toggle=False,
                    name=None, max_states=20_000_000) -> GridWorld:
    """Build a validated gridworld from an ASCII map (legend in the module docstring).

    Parameters
    ----------
    ascii_map : str or list of str
        The map (a multi-line string is dedented; blank first/last lines
        are dropped).
    spec : dict, optional
        The keyword arguments below as a dict (e.g. read from JSON);
        explicit keywords win.
    goals : optional
        ``None`` or ``"cells"``: every walkable cell is a goal of every
        human (weights 1/n; this guarantees X_h > 0 everywhere, as the
        public reference's coverage rule).  ``"regions"``: one goal per
        named region.  A list of goal items: the same goals for every
        human.  A dict ``{h: goals}`` per human (key ``"*"``: the default).
        A goal item is a cell ``(x, y)``, a rectangle ``(x1, y1, x2, y2)``
        (inclusive), a region name (a map letter or a key of ``regions``),
        the strings ``"x,y"`` / ``"x1,y1,x2,y2"``, or a dict
        ``{"at": item or [items], "name": str, "weight": float}`` (the union
        of the items).  Weights default to 1/n per human; give all or none.
        A goal holds in a state when the human stands in one of its cells.
    regions : dict, optional
        Extra named regions ``{name: item or [items]}``.
    horizon : int or None
        ``N``: finite horizon (step counter, terminal at step N, acyclic).
        ``None``: stationary cyclic world.
    slip : float, dict or list
        Probability that an attempted move fails (the agent stays).
    conflict : {"stay", "random", "priority"}
        Conflict rule (module docstring); ``"stay"`` is the default.
    priority : list of str, optional
        Agent order for ``conflict="priority"`` (default humans, then robots).
    robot_push, human_push, robot_toggle, human_toggle : bool
        Who may push rocks and who has the toggle action (toggle exists only
        if the map has doors).
    name : str, optional
        Stored in ``world.info["name"]``.
    max_states : int
        Abort with ``ValueError`` beyond this many reachable states.

    Returns
    -------
    GridWorld
    """
    options = dict(goals=goals, regions=regions, horizon=horizon, slip=slip, conflict=conflict, priority=priority,
                   robot_push=robot_push, human_push=human_push, robot_toggle=robot_toggle,
                   human_toggle=human_toggle, name=name, max_states=max_states)
    if spec is not None:
        if not isinstance(spec, dict):
            raise TypeError(f"spec must be a dict, got {type(spec).__name__}")
        unknown = sorted(set(spec) - set(options))
        if unknown:
            raise ValueError(f"spec has unknown key(s) {unknown}; known: {sorted(options)}")
        defaults = build_gridworld.__kwdefaults__
        for k, v in spec.items():
            if options[k] == defaults[k]:
                options[k] = v
    o = options
    rows = normalise_map(ascii_map)
    layout = parse_map(rows)
    n_h, n_r = len(layout.humans), len(layout.robots)
    n_agents = n_h + n_r
    if o["conflict"] not in CONFLICT_RULES:
        raise ValueError(f"conflict must be one of {CONFLICT_RULES}, got {o['conflict']!r}")
    hz = o["horizon"]
    if hz is not None:
        hz = as_int(hz, "horizon")
        if hz < 1:
            raise ValueError(f"horizon must be >= 1 or None, got {hz}")
    goal_lists = resolve_goals(layout, o["goals"], n_h, o["regions"])
    slip_arr = _per_agent_slip(o["slip"], n_h, n_r)

    # actions
    has_doors = bool(layout.doors)
    human_kinds_own = [0, 1, 2, 3, 4] + ([5] if has_doors and o["human_toggle"] else [])
    robot_kinds_own = [0, 1, 2, 3, 4] + ([5] if has_doors and o["robot_toggle"] else [])
    actions = [[ACTION_NAMES[k] for k in human_kinds_own]] * n_h + [[ACTION_NAMES[k] for k in robot_kinds_own]] * n_r
    human_profiles = _profiles([len(human_kinds_own)] * n_h)
    robot_profiles = _profiles([len(robot_kinds_own)] * n_r)
    human_kinds = np.asarray(human_kinds_own, dtype=np.int64)[human_profiles]
    robot_kinds = np.asarray(robot_kinds_own, dtype=np.int64)[robot_profiles]

    # conflict order(s)
    labels = [f"H{i}" for i in range(n_h)] + [f"R{i}" for i in range(n_r)]
    if o["conflict"] == "stay":
        mode, perms = _kg.MODE_SIMULTANEOUS, np.zeros((1, n_agents), dtype=np.int64)
    elif o["conflict"] == "random":
        if n_agents > MAX_RANDOM_AGENTS:
            raise ValueError(f"conflict='random' enumerates n! orders; at most {MAX_RANDOM_AGENTS} agents, got {n_agents}")
        mode = _kg.MODE_RANDOM
        n_fact = math.factorial(n_agents)
        perms = np.zeros(((n_agents + 1) * n_fact, max(n_agents, 1)), dtype=np.int64)
        for k in range(n_agents + 1):
            for q, order in enumerate(itertools.permutations(range(k))):
                perms[k * n_fact + q, :k] = order
    else:
        order = labels if o["priority"] is None else list(o["priority"])
        if sorted(order) != sorted(labels):
            raise ValueError(f"priority must list every agent once: {labels}, got {order}")
        mode, perms = _kg.MODE_SEQUENTIAL, np.array([[labels.index(a) for a in order]], dtype=np.int64)

    # geometry and packing
    W, Hh = layout.width, layout.height
    terrain = layout.terrain.ravel().astype(np.int64)
    walk = layout.walkable.ravel()
    walk_cell = np.flatnonzero(walk).astype(np.int64)
    walk_id = np.full(W * Hh, -1, dtype=np.int64)
    walk_id[walk_cell] = np.arange(walk_cell.size)
    door_id = np.full(W * Hh, -1, dtype=np.int64)
    for j, (x, y) in enumerate(layout.doors):
        door_id[y * W + x] = j
    nbr = np.full((W * Hh, 4), -1, dtype=np.int64)
    ys, xs = np.divmod(np.arange(W * Hh), W)
    for d, (dx, dy) in enumerate(DIRECTIONS):
        nx, ny = xs + dx, ys + dy
        inside = (nx >= 0) & (nx < W) & (ny >= 0) & (ny < Hh)
        nbr[inside, d] = (ny * W + nx)[inside]
    n_rocks, n_doors = len(layout.rocks), len(layout.doors)
    bp = max(1, int(walk_cell.size - 1).bit_length())
    step_bits = 0 if hz is None else int(hz).bit_length()
    total_bits = n_doors + (n_rocks + n_agents) * bp + step_bits
    if total_bits > 62:
        raise ValueError(f"the state does not fit in 62 bits ({total_bits} needed: {n_agents} agents and {n_rocks} "
                         f"rocks on {walk_cell.size} cells, {n_doors} doors, horizon {hz})")
    codec = dict(walk_cell=walk_cell, walk_id=walk_id, bp=bp, n_rocks=n_rocks, n_doors=n_doors)
    start_cells = [y * W + x for x, y in layout.humans + layout.robots]
    rock_cells0 = [y * W + x for x, y in layout.rocks]
    start_key = _encode_key(codec, n_agents, start_cells, rock_cells0, layout.doors_open, 0)
    can_push = np.array([o["human_push"]] * n_h + [o["robot_push"]] * n_r, dtype=np.bool_)

    t_start = time.perf_counter()
    keys, ptr, succ, prob, status = _kg.enumerate_states(
        np.int64(start_key), np.int64(-1 if hz is None else hz), nbr, terrain, door_id, walk_id, walk_cell,
        np.int64(n_h), np.int64(bp), np.int64(n_rocks), np.int64(n_doors), robot_kinds, human_kinds, can_push,
        slip_arr, np.int64(mode), perms, np.int64(o["max_states"]))
    if status == _kg.ST_TOO_MANY_STATES:
        raise ValueError(f"more than max_states = {o['max_states']} reachable states; raise max_states or shrink the map")

    t_enum = time.perf_counter()
    # goals
    steps = keys >> key_offset(codec, agent=n_agents)  # the step counter sits after the last agent
    terminal = (steps >= hz) if hz is not None else np.zeros(keys.size, dtype=bool)
    G = max(len(g) for g in goal_lists)
    goal_mask = np.zeros((n_h, G, W * Hh), dtype=bool)
    weight = np.zeros((n_h, G))
    for h, gl in enumerate(goal_lists):
        for g, goal in enumerate(gl):
            goal_mask[h, g, [y * W + x for x, y in goal.cells]] = True
            weight[h, g] = goal.weight
    mask = (1 << bp) - 1
    achieved = np.zeros((n_h, G, keys.size), dtype=bool)
    for h in range(n_h):
        cell_h = walk_cell[(keys >> key_offset(codec, agent=h)) & mask]
        achieved[h] = goal_mask[h][:, cell_h]
    goal_count = np.array([len(g) for g in goal_lists], dtype=np.int64)

    build = dict(o)
    build["goals"] = {str(h): [g.to_dict() for g in gl] for h, gl in enumerate(goal_lists)}
    build["regions"] = None
    build["horizon"] = hz
    build["slip"] = slip_arr.tolist()
    config = dict(horizon=hz, conflict=o["conflict"], slip=slip_arr.tolist(), actions=actions, labels=labels,
                  priority=[labels[i] for i in perms[0]] if o["conflict"] == "priority" else None)
    info = {
        "name": o["name"] or "gridworld",
        "kind": "gridworld",
        "gridworld": {
            "map": rows,
            "build": build,
            "legend": LEGEND,
            "agents": {lab: list(p) for lab, p in zip(labels, layout.humans + layout.robots)},
            "actions": actions,
            "goals": [[g.name for g in gl] for gl in goal_lists],
            "encoding": {"bits_per_position": bp, "n_rocks": n_rocks, "n_doors": n_doors,
                         "walkable_cells": walk_cell.tolist(), "width": W, "height": Hh},
        },
    }
    world = TabularWorld(keys.size, 0, terminal, robot_profiles.shape[0], human_profiles, ptr, succ, prob, achieved,
                         weight, goal_count=goal_count, robot_profiles=robot_profiles, info=info)
    gw = GridWorld(world, layout, goal_lists, keys, config, codec)
    t_end = time.perf_counter()
    gw.build_seconds = {"enumerate": t_enum - t_start, "world": t_end - t_enum, "total": t_end - t_start}
    return gw


def key_offset(codec, *, agent: int) -> int:
    """Bit offset of agent ``agent``'s position in a packed state key.

    The one definition of the key format (``_encode_key``, ``GridWorld._decode`` and the enumeration
    kernel ``_kernels.gridworld`` pack in this order), from the least significant bit: one bit per door
    (open), ``bp`` bits per rock (walkable-cell id, sorted), ``bp`` bits per agent (humans, then
    robots), then the step counter (finite horizon). ``agent = n_agents`` gives the step's offset.
    """
    return int(codec["n_doors"] + (codec["n_rocks"] + agent) * codec["bp"])


def _encode_key(codec, n_agents, agent_cells, rock_cells, doors, step) -> int:
    bp, walk_id = codec["bp"], codec["walk_id"]
    k = int(step)
    for a in reversed(range(n_agents)):
        k = (k << bp) | int(walk_id[agent_cells[a]])
    for w in sorted((int(walk_id[r]) for r in rock_cells), reverse=True):
        k = (k << bp) | w
    for j in reversed(range(len(doors))):
        k = (k << 1) | int(bool(doors[j]))
    return k
