"""The hypothesis strategies of :mod:`empo_tabular.testing` (see the package docstring).

Every strategy draws *small, structural* arguments (sizes, flags, a seed,
ranges) and builds the object from them, so that hypothesis shrinks a failing
example towards few states, one human, deterministic rows and seed 0.
Default ranges follow CONTRACTION_THEORY.md §6: S in [2, 7], robot actions
2-4, human actions 1-3, 1-2 humans, gamma in [0.3, 0.97], zeta in [1, 3],
xi and eta in [1, 2], beta_r in [0, 200], Q magnitudes in [1e-6, 1e6].
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..core.params import EmpoParams
from ..worlds.random_worlds import random_world
from ..core.world import TabularWorld

_PARAM_FIELDS = tuple(f.name for f in dataclasses.fields(EmpoParams))


def _int_range(value, name, low):
    """``value`` as ``(lo, hi)``: an int fixes both ends, a pair is a closed range."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        lo = hi = int(value)
    else:
        try:
            lo, hi = (int(v) for v in value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an int or a (min, max) pair of ints, got {value!r}") from None
    if not low <= lo <= hi:
        raise ValueError(f"{name} must satisfy {low} <= min <= max, got ({lo}, {hi})")
    return lo, hi


def _log_uniform(lo: float, hi: float):
    """Floats whose log10 is uniform in ``[log10 lo, log10 hi]`` (shrinks towards ``lo``)."""
    a, b = math.log10(lo), math.log10(hi)
    return st.floats(a, b, allow_nan=False, allow_infinity=False).map(lambda e: float(min(hi, max(lo, 10.0 ** e))))


def _with_power(world: TabularWorld) -> TabularWorld:
    """The same world, with goal 0 of a human marked achieved in the last state if none of its goals ever holds.

    ``random_world(..., ensure_power=True)`` makes every state reach every
    other (cyclic) or a terminal state where goal 0 holds (acyclic), so one
    achievable goal per human is all that ``X_h > 0`` still needs.
    """
    achieved = np.array(world.achieved)
    live_goal = world.goal_weight > 0
    need = ~np.any(achieved & live_goal[:, :, None], axis=(1, 2))
    if not need.any():
        return world
    g0 = np.argmax(live_goal, axis=1)
    for h in np.flatnonzero(need):
        achieved[h, g0[h], world.n_states - 1] = True
    return TabularWorld(world.n_states, world.initial_state, world.terminal, world.n_ar, world.human_profiles,
                        world.trans_ptr, world.trans_succ, world.trans_prob, achieved, world.goal_weight,
                        goal_count=world.goal_count, robot_profiles=world.robot_profiles, info=world.info)


@st.composite
def _draw_world(draw, acyclic, states, humans, robots, actions, goals, stochastic, terminals):
    acyc = draw(st.booleans()) if acyclic is None else bool(acyclic)
    S = draw(st.integers(*states))
    H = draw(st.integers(*humans))
    R = draw(st.integers(*robots))
    A = draw(st.integers(*actions))
    G = draw(st.integers(*goals))
    stoch = draw(st.booleans()) if stochastic is None else bool(stochastic)
    if stoch:
        branching = draw(st.integers(2, 3))
        concentration = draw(_log_uniform(0.02, 1.0))
    else:
        branching, concentration = 1, 1.0
    horizon = draw(st.integers(2, S)) if acyc else 2
    extra_terminals = draw(st.booleans()) if terminals is None else bool(terminals)
    terminal_prob = 0.25 if extra_terminals else 0.0
    density = draw(st.floats(0.1, 0.6))
    seed = draw(st.integers(0, 2**31 - 1))
    world = random_world(S, n_humans=H, n_robots=R, n_actions=A, n_goals=G, acyclic=acyc, horizon=horizon,
                         terminal_prob=terminal_prob, branching=branching, concentration=concentration,
                         goal_density=density, seed=seed, ensure_power=True)
    return _with_power(world)


def worlds(*, acyclic=None, min_states: int = 2, max_states: int = 7, humans=(1, 2), robots=1, actions=(2, 3),
           goals=(1, 3), stochastic=None, terminals=None):
    """Valid :class:`~empo_tabular.TabularWorld` objects in which every human keeps some power.

    Worlds come from :func:`~empo_tabular.random_world` with drawn sizes and
    seed (``ensure_power=True``), plus one achieved goal for any human none of
    whose goals ever holds, so :func:`~empo_tabular.solve_phase1` and
    :func:`~empo_tabular.solve_phase2` succeed on them (``X_h > 0`` at every
    non-terminal state, for every policy).

    Parameters
    ----------
    acyclic : bool or None
        True: layered finite-horizon worlds (last layer terminal); False:
        stationary worlds with cycles; None: either.
    min_states, max_states : int
        Range of the number of states (``2 <= min_states <= max_states``).
    humans, robots, actions, goals : int or (min, max)
        Numbers of humans (>= 1), robots (>= 0; 0 gives one joint robot
        action), actions per agent (>= 1) and goals per human (>= 1).  Joint
        action counts are ``actions**humans`` and ``actions**robots``: keep
        them small.
    stochastic : bool or None
        True: 2-3 successors per row with Dirichlet(alpha) probabilities,
        alpha log-uniform in [0.02, 1]; False: one random successor per row
        (cyclic worlds keep ``random_world``'s 10 % drift to state ``s + 1``,
        which is what guarantees every human power there); None: either.
    terminals : bool or None
        Whether states other than an acyclic world's last layer may be
        terminal (each with probability 0.25); None: either.

    Returns
    -------
    hypothesis.strategies.SearchStrategy[TabularWorld]

    Examples
    --------
    >>> from hypothesis import given
    >>> from empo_tabular.testing import worlds
    >>> @given(worlds(acyclic=False, humans=2, terminals=False))
    ... def test_no_terminal_states(world):
    ...     assert world.n_humans == 2 and not world.terminal.any()
    """
    states = _int_range((min_states, max_states), "min_states/max_states", 2)
    return _draw_world(acyclic, states, _int_range(humans, "humans", 1), _int_range(robots, "robots", 0),
                       _int_range(actions, "actions", 1), _int_range(goals, "goals", 1), stochastic, terminals)


def betas(max_beta: float = 200.0, *, include_zero: bool = True, include_inf: bool = False, min_beta: float = 0.0):
    """Power-law exponents: 0, values in (0, 1], and log-uniform values up to ``max_beta``.

    Parameters
    ----------
    max_beta : float
        Largest finite value (> 0).
    include_zero : bool
        Draw ``0.0`` (the uniform policy) as one of the cases.
    include_inf : bool
        Also draw ``inf`` (the greedy policy).
    min_beta : float
        Smallest value (>= 0); with ``min_beta > 0`` zero is never drawn.

    Returns
    -------
    hypothesis.strategies.SearchStrategy[float]
    """
    if not (0.0 <= min_beta < max_beta < math.inf):
        raise ValueError(f"need 0 <= min_beta < max_beta < inf, got min_beta={min_beta}, max_beta={max_beta}")
    options = []
    if include_zero and min_beta == 0.0:
        options.append(st.just(0.0))
    if min_beta < 1.0:
        options.append(st.floats(max(min_beta, 1e-3), min(1.0, max_beta)))
    if max_beta > 1.0:
        options.append(_log_uniform(max(1.0, min_beta), max_beta))
    if include_inf:
        options.append(st.just(math.inf))
    return st.one_of(*options)


_DEFAULT_PARAMS = {
    "beta_h": lambda: st.one_of(st.just(0.0), st.floats(0.0, 20.0), st.just(math.inf)),
    "gamma_h": lambda: st.floats(0.3, 0.97),
    "beta_r": lambda: betas(200.0),
    "gamma_r": lambda: st.floats(0.3, 0.97),
    "zeta": lambda: st.floats(1.0, 3.0),
    "xi": lambda: st.floats(1.0, 2.0),
    "eta": lambda: st.floats(1.0, 2.0),
    "terminal_v_r": lambda: _log_uniform(1e-10, 1.0).map(lambda x: -x),
    "c_r": lambda: st.one_of(st.just(1.0), st.floats(0.5, 2.0)),
}


def params(**fields):
    """Valid :class:`~empo_tabular.EmpoParams` with the theory's ranges; any field may be fixed.

    Parameters
    ----------
    **fields
        ``name=value`` fixes a field, ``name=strategy`` draws it from your
        strategy.  Unnamed fields use these defaults: ``beta_h`` 0, [0, 20]
        or inf; ``gamma_h``, ``gamma_r`` in [0.3, 0.97]; ``beta_r`` from
        :func:`betas` (0, (0, 1], log-uniform up to 200); ``zeta`` in [1, 3];
        ``xi``, ``eta`` in [1, 2]; ``terminal_v_r`` = -10^u with u in
        [-10, 0]; ``c_r`` 1 or in [0.5, 2].

    Returns
    -------
    hypothesis.strategies.SearchStrategy[EmpoParams]

    Examples
    --------
    >>> from empo_tabular.testing import params, betas
    >>> at_zero = params(beta_r=0.0, gamma_r=0.9)        # fixed fields
    >>> sharp = params(beta_r=betas(1e3, min_beta=50.0))  # your own strategy
    """
    unknown = sorted(set(fields) - set(_PARAM_FIELDS))
    if unknown:
        raise TypeError(f"unknown EmpoParams field(s): {unknown}; known: {list(_PARAM_FIELDS)}")
    parts = {}
    for name in _PARAM_FIELDS:
        if name in fields:
            v = fields[name]
            parts[name] = v if isinstance(v, st.SearchStrategy) else st.just(v)
        else:
            parts[name] = _DEFAULT_PARAMS[name]()
    return st.fixed_dictionaries(parts).map(lambda d: EmpoParams(**d))


def _size(value, name):
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return st.just(int(value))
    raise TypeError(f"{name} must be a positive int or a strategy of ints, got {value!r}")


def q_tables(n_states=1, n_ar=st.integers(1, 6), *, min_magnitude: float = 1e-6, max_magnitude: float = 1e6):
    """Strictly negative, finite arrays of shape ``(n_states, n_ar)`` with log-uniform magnitudes.

    Parameters
    ----------
    n_states, n_ar : int or strategy of ints
        The shape (each >= 1).
    min_magnitude, max_magnitude : float
        Range of ``|Q|`` (``1e-300 <= min <= max <= 1e300``).  Entries are
        ``-10**u`` with ``u`` uniform; ties (repeated entries) are drawn too.

    Returns
    -------
    hypothesis.strategies.SearchStrategy[numpy.ndarray]

    Examples
    --------
    >>> from empo_tabular.testing import q_tables
    >>> extreme = q_tables(3, 4, min_magnitude=1e-300, max_magnitude=1e300)
    """
    if not (1e-300 <= min_magnitude <= max_magnitude <= 1e300):
        raise ValueError(f"need 1e-300 <= min_magnitude <= max_magnitude <= 1e300, got {min_magnitude}, {max_magnitude}")
    lo, hi = math.log10(min_magnitude), math.log10(max_magnitude)
    exps = st.floats(lo, hi, allow_nan=False, allow_infinity=False) if hi > lo else st.just(lo)

    @st.composite
    def draw_table(draw):
        shape = (draw(_size(n_states, "n_states")), draw(_size(n_ar, "n_ar")))
        e = draw(hnp.arrays(np.float64, shape, elements=exps))
        return -np.clip(10.0 ** e, min_magnitude, max_magnitude)

    return draw_table()


def power_law_inputs(max_actions: int = 6, *, min_magnitude: float = 1e-6, max_magnitude: float = 1e6,
                     max_beta: float = 1e3):
    """``(Q_row, beta)`` pairs: a negative row of 1..``max_actions`` values and an exponent from :func:`betas`.

    Returns
    -------
    hypothesis.strategies.SearchStrategy[tuple[numpy.ndarray, float]]
    """
    rows = q_tables(1, st.integers(1, max_actions), min_magnitude=min_magnitude,
                    max_magnitude=max_magnitude).map(lambda q: q[0])
    return st.tuples(rows, betas(max_beta))
