"""Any :class:`~empo_tabular.TabularWorld` or gridworld as a Gymnasium environment seen from the robot's side.

The robot (fleet) chooses one of ``world.n_ar`` joint robot actions; the humans act by a Phase 1 prior; the
successor is sampled from the world's exact CSR row ``(s, a_r, a_h)``.  See :func:`make_env`.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec
from gymnasium.utils import seeding

from .._validation import as_int
from ..core.params import EmpoParams
from ..core.world import TabularWorld
from ..exact.phase1 import HumanPrior, solve_phase1
from ..exact.system import Phase2Solution

REWARDS = ("none", "u_r")
OBSERVATIONS = ("index", "grid")
GOAL_MODES = ("episode", "step")
ENV_ID = "empo_tabular/Robot-v0"


def _split_world(world):
    """``(TabularWorld, GridWorld or None)`` from either kind of world."""
    if isinstance(world, TabularWorld):
        return world, None
    inner = getattr(world, "world", None)
    if isinstance(inner, TabularWorld) and hasattr(world, "agent_cell"):
        return inner, world
    raise TypeError(f"world must be a TabularWorld or a GridWorld, got {type(world).__name__}")


def own_policies(world: TabularWorld, prior: HumanPrior) -> np.ndarray:
    """Goal-conditioned own-action policies ``(S, H, G, A_own)`` of the humans.

    ``prior.pi_h`` when the prior has it; otherwise human ``h``'s marginal of
    ``prior.profile_fixed_goal[s, h, g]`` over its own action (equal to
    ``pi_h(.|s, g)`` when the prior factorises over humans, as Phase 1 priors do).
    """
    if prior.pi_h is not None:
        return np.asarray(prior.pi_h, dtype=np.float64)
    S, H, G, A = world.n_states, world.n_humans, world.n_goals, world.n_own_actions
    out = np.zeros((S, H, G, A))
    for h in range(H):
        for a in range(int(world.human_action_counts[h])):
            rows = world.human_profiles[:, h] == a
            out[:, h, :, a] = prior.profile_fixed_goal[:, h][..., rows].sum(axis=-1)
    return out


class EmpoRobotEnv(gym.Env):
    """A finite EMPO world as a Gymnasium environment for the robot; build it with :func:`make_env`.

    Attributes
    ----------
    world : TabularWorld
    gridworld : GridWorld or None
    params : EmpoParams
    prior : HumanPrior
        The prior the humans act by.
    solution : Phase2Solution or None
        The exact solution the ``"u_r"`` reward is read from (None for reward ``"none"``).
    state : int
        The current state index.
    goals : int array (H,)
        Each human's goal in the current episode (``goal_mode="step"``: of the current step).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, world, params: EmpoParams, prior: HumanPrior | None = None, reward: str = "none", *,
                 solution: Phase2Solution | None = None, observation: str = "index", goal_mode: str = "episode",
                 max_steps: int | None = None, seed: int | None = None, render_mode: str | None = None):
        tw, gw = _split_world(world)
        if not isinstance(params, EmpoParams):
            raise TypeError(f"params must be an EmpoParams, got {type(params).__name__}")
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        if observation not in OBSERVATIONS:
            raise ValueError(f"observation must be one of {OBSERVATIONS}, got {observation!r}")
        if observation == "grid" and gw is None:
            raise ValueError("observation='grid' needs a GridWorld (this world has no grid)")
        if goal_mode not in GOAL_MODES:
            raise ValueError(f"goal_mode must be one of {GOAL_MODES}, got {goal_mode!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        if max_steps is not None:
            max_steps = as_int(max_steps, "max_steps")
            if max_steps < 1:
                raise ValueError(f"max_steps must be >= 1 or None, got {max_steps}")
        if tw.terminal[tw.initial_state]:
            raise ValueError(f"the initial state {tw.initial_state} is terminal; there is nothing to act on")
        if prior is None:
            prior = solve_phase1(tw, params)
        if not isinstance(prior, HumanPrior):
            raise TypeError(f"prior must be a HumanPrior, got {type(prior).__name__}")
        prior.check_world(tw)
        if reward == "u_r":
            if solution is None:
                from ..exact.phase2 import solve_phase2

                solution = solve_phase2(tw, prior, params)
            if not isinstance(solution, Phase2Solution):
                raise TypeError(f"solution must be a Phase2Solution, got {type(solution).__name__}")
            if solution.U_r.shape != (tw.n_states,):
                raise ValueError(f"solution.U_r has shape {solution.U_r.shape}, the world needs ({tw.n_states},)")
            if solution.world_checksum and solution.world_checksum != tw.checksum:
                raise ValueError("solution was computed for a different world (checksum mismatch)")
        self.world, self.gridworld, self.params, self.prior = tw, gw, params, prior
        self.solution = solution if reward == "u_r" else None
        self.reward_kind, self.observation_kind, self.goal_mode = reward, observation, goal_mode
        self.max_steps, self.render_mode = max_steps, render_mode

        H = tw.n_humans
        self._pi_own = own_policies(tw, prior)
        self._goal_p = [tw.goal_weight[h, :tw.goal_count[h]] / tw.goal_weight[h, :tw.goal_count[h]].sum()
                        for h in range(H)]
        counts = tuple(int(c) for c in tw.human_action_counts)
        flat = np.ravel_multi_index(tuple(tw.human_profiles.T), counts)
        self._profile_row = np.empty(int(np.prod(counts)), dtype=np.int64)
        self._profile_row[flat] = np.arange(tw.n_ah)
        self._counts = counts
        self.action_space = spaces.Discrete(tw.n_ar)
        if observation == "index":
            self.observation_space = spaces.Discrete(tw.n_states)
        else:
            self.observation_space = spaces.Box(0.0, 1.0, shape=(gw.n_agents + 3, gw.height, gw.width),
                                                dtype=np.float32)
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(as_int(seed, "seed"))
        # a spec lets gymnasium (and check_env) rebuild the same env, e.g. with another render mode
        self.spec = EnvSpec(ENV_ID, entry_point=type(self), kwargs=dict(
            world=world, params=params, prior=prior, reward=reward, solution=self.solution,
            observation=observation, goal_mode=goal_mode, max_steps=max_steps), disable_env_checker=True)
        self.state = tw.initial_state
        self.goals = np.zeros(H, dtype=np.int64)
        self.t = 0
        self._done = True

    # ---------------------------------------------------------------- encodings
    def grid_encoding(self, s: int) -> np.ndarray:
        """``(n_agents + 3, height, width)`` float32 planes of state ``s``.

        One plane per agent (humans first, 1 on its cell), then rocks, open
        doors, and a constant plane ``step / horizon`` (0 in stationary worlds).
        """
        gw = self.gridworld
        out = np.zeros((gw.n_agents + 3, gw.height, gw.width), dtype=np.float32)
        for a, c in enumerate(gw.agent_cell[s]):
            x, y = gw.xy(c)
            out[a, y, x] = 1.0
        for c in gw.rock_cell[s]:
            x, y = gw.xy(c)
            out[gw.n_agents, y, x] = 1.0
        for j, (x, y) in enumerate(gw.layout.doors):
            out[gw.n_agents + 1, y, x] = float(gw.door_open[s, j])
        if gw.horizon:
            out[gw.n_agents + 2] = float(gw.step[s]) / float(gw.horizon)
        return out

    def _obs(self):
        if self.observation_kind == "index":
            return np.int64(self.state)
        return self.grid_encoding(self.state)

    def _info(self, a_h=None) -> dict:
        s, w = self.state, self.world
        info = {
            "state": int(s),
            "goals": self.goals.copy(),
            "achieved": w.achieved[np.arange(w.n_humans), self.goals, s].copy(),
            "achieved_all": w.achieved_by_state[s].copy(),
            "terminal": bool(w.terminal[s]),
            "step": int(self.t),
        }
        if a_h is not None:
            info["human_action"] = int(a_h)
        if self.solution is not None:
            info["u_r"] = float(self.solution.U_r[s]) if not w.terminal[s] else float("nan")
        return info

    def _sample_goals(self) -> np.ndarray:
        rng = self.np_random
        return np.array([rng.choice(p.size, p=p) for p in self._goal_p], dtype=np.int64)

    def _sample_human_action(self, s: int) -> int:
        rng = self.np_random
        if self.goal_mode == "step":
            self.goals = self._sample_goals()
        own = []
        for h, g in enumerate(self.goals):
            p = self._pi_own[s, h, g, :self._counts[h]]
            own.append(int(rng.choice(p.size, p=p / p.sum())))
        return int(self._profile_row[np.ravel_multi_index(tuple(own), self._counts)])

    # ---------------------------------------------------------------- Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode at the initial state with freshly sampled human goals.

        ``options`` may hold ``"state"`` (a non-terminal start state, e.g. for
        exploring starts) and ``"goals"`` (one goal index per human).
        """
        super().reset(seed=seed)
        w = self.world
        options = dict(options or {})
        unknown = set(options) - {"state", "goals"}
        if unknown:
            raise ValueError(f"reset options may hold 'state' and 'goals', got {sorted(unknown)}")
        s = as_int(options.get("state", w.initial_state), "options['state']")
        if not 0 <= s < w.n_states:
            raise ValueError(f"options['state'] must be in [0, {w.n_states}), got {s}")
        if w.terminal[s]:
            raise ValueError(f"options['state'] = {s} is a terminal state; start from a non-terminal state")
        self.goals = self._sample_goals()
        if "goals" in options:
            g = np.asarray(options["goals"], dtype=np.int64).reshape(-1)
            if g.shape != (w.n_humans,):
                raise ValueError(f"options['goals'] must hold one goal per human ({w.n_humans}), got shape {g.shape}")
            bad = np.flatnonzero((g < 0) | (g >= w.goal_count))
            if bad.size:
                h = int(bad[0])
                raise ValueError(f"options['goals'][{h}] = {g[h]} is not a goal of human {h} "
                                 f"(it has {w.goal_count[h]} goals)")
            self.goals = g
        self.state, self.t, self._done = s, 0, False
        return self._obs(), self._info()

    def step(self, action):
        if self._done:
            raise RuntimeError("the episode has ended (terminal state or max_steps); call reset() first")
        a_r = int(action)
        if not 0 <= a_r < self.world.n_ar:
            raise ValueError(f"action must be in [0, {self.world.n_ar}), got {action!r}")
        s = self.state
        a_h = self._sample_human_action(s)
        succ, prob = self.world.row(s, a_r, a_h)
        k = int(self.np_random.choice(succ.size, p=prob / prob.sum())) if succ.size > 1 else 0
        s2 = int(succ[k])
        self.state, self.t = s2, self.t + 1
        terminated = bool(self.world.terminal[s2])
        truncated = bool(self.max_steps is not None and self.t >= self.max_steps and not terminated)
        self._done = terminated or truncated
        reward = 0.0
        if self.solution is not None:
            reward = (float(self.params.terminal_v_r) if terminated
                      else float(self.params.c_r * self.solution.U_r[s2]))
        return self._obs(), reward, terminated, truncated, self._info(a_h)

    def render(self):
        if self.render_mode != "ansi":
            return None
        if self.gridworld is not None:
            return self.gridworld.render(self.state) + "\n"
        return f"state {self.state} (step {self.t})\n"

    # ---------------------------------------------------------------- model access for trainers
    def next_state_distribution(self, s: int, a_r: int):
        """Exact ``P(s' | s, a_r)`` with the joint human action marginalised over ``prior.profile``.

        Returns ``(successors, probabilities)``; this is the law of the next
        state under ``goal_mode="step"`` (and at the first step of an episode).
        """
        w = self.world
        out = {}
        for a_h in np.flatnonzero(self.prior.profile[s] > 0.0):
            succ, prob = w.row(s, a_r, int(a_h))
            for t, p in zip(succ, prob):
                out[int(t)] = out.get(int(t), 0.0) + float(self.prior.profile[s, a_h]) * float(p)
        keys = sorted(out)
        return np.array(keys, dtype=np.int64), np.array([out[k] for k in keys])


def make_env(world, params: EmpoParams, prior: HumanPrior | None = None, reward: str = "none",
             seed: int | None = None, *, solution: Phase2Solution | None = None, observation: str = "index",
             goal_mode: str = "episode", max_steps: int | None = None,
             render_mode: str | None = None) -> EmpoRobotEnv:
    """A Gymnasium environment of ``world`` seen from the robot's side.

    Parameters
    ----------
    world : TabularWorld or GridWorld
    params : EmpoParams
    prior : HumanPrior, optional
        How the humans act; default :func:`~empo_tabular.solve_phase1` ``(world, params)``.
    reward : {"none", "u_r"}
        ``"none"``: 0.0 every step (the trainer computes its own).  ``"u_r"``:
        on entering ``s'`` the reward is ``c_r * U_r(s')`` (non-terminal
        ``s'``) or ``terminal_v_r`` (terminal ``s'``), read from ``solution``
        (default: :func:`~empo_tabular.solve_phase2`).  Then ``reward + (1 -
        terminated) * sum_a pi_r(a|s') Q_r(s', a) = V_r(s')``, so the exact
        solution satisfies ``Q_r(s, a) = gamma_r * E[reward + (1 - terminated)
        * sum_a' pi_r(a'|s') Q_r(s', a')]`` under ``goal_mode="step"``.
    seed : int, optional
        Seeds ``np_random`` now; ``reset(seed=...)`` reseeds it.
    observation : {"index", "grid"}
        ``Discrete(n_states)`` state index, or (gridworlds) the
        :meth:`EmpoRobotEnv.grid_encoding` planes as a ``Box``.
    goal_mode : {"episode", "step"}
        ``"episode"``: each human's goal is drawn from the world's goal
        weights at ``reset`` and kept; the human then acts by
        ``prior.pi_h(.|s, goal)``.  ``"step"``: the goals are redrawn every
        step, so the joint human action at ``s`` follows ``prior.profile[s]``:
        the Markov model under which the exact ``Q_r`` and ``V_r`` are defined
        (under ``"episode"`` the goal posterior given the history differs from
        the weights, and so does the law of the human action after step 0).
    max_steps : int, optional
        Truncate episodes after this many steps (default: never; cyclic
        worlds without terminal states then never end an episode).
    render_mode : None or "ansi"

    Notes
    -----
    ``info`` (from ``reset`` and ``step``) holds ``state``, ``goals`` (H,),
    ``achieved`` (H,) whether each human's goal holds at the state just
    entered, ``achieved_all`` (H, G) every goal's flag there, ``terminal``,
    ``step``, ``human_action`` (the joint human action row; ``step`` only)
    and, with reward ``"u_r"``, ``u_r`` (``U_r`` of the state, NaN at terminal states).
    """
    return EmpoRobotEnv(world, params, prior, reward, solution=solution, observation=observation,
                        goal_mode=goal_mode, max_steps=max_steps, seed=seed, render_mode=render_mode)
