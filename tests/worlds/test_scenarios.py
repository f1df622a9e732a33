"""Scenario library: every world builds in both horizons, solves exactly, and behaves as its docstring says."""

import numpy as np
import pytest

from empo_tabular import EmpoParams, TabularWorld, solve_phase1, solve_phase2
from empo_tabular.worlds.gridworld import GridWorld
from empo_tabular.worlds.trajectories import rollout
from empo_tabular.worlds.scenarios import (
    DEFAULT_SCENARIO,
    describe_scenario,
    get_scenario,
    list_scenarios,
    suggested_horizon,
)

NAMES = list_scenarios()
_CACHE = {}


def solved(name, horizon=None, **param_changes):
    key = (name, horizon, tuple(sorted(param_changes.items())))
    if key not in _CACHE:
        gw, p = get_scenario(name, horizon=horizon)
        p = p.replace(**param_changes)
        prior = solve_phase1(gw.world, p)
        _CACHE[key] = (gw, p, prior, solve_phase2(gw.world, prior, p))
    return _CACHE[key]


def robot_choice(gw, sol, s=None):
    s = gw.world.initial_state if s is None else s
    return gw.robot_action_names()[int(np.argmax(sol.pi_r[s]))].split(":")[1]


def test_library_lists_at_least_five_documented_worlds():
    assert len(NAMES) >= 5
    for name in NAMES:
        doc = describe_scenario(name)
        assert "Probes" in doc and len(doc) > 200, name
    assert DEFAULT_SCENARIO in NAMES
    gw, _ = get_scenario("default")
    assert gw.horizon is None and gw.world.info["name"] == DEFAULT_SCENARIO
    with pytest.raises(KeyError, match="unknown scenario"):
        get_scenario("nope")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("horizon", [None, "default"])
def test_scenario_builds_validates_and_solves(name, horizon):
    gw, p = get_scenario(name, horizon=horizon)
    assert isinstance(gw, GridWorld) and isinstance(gw.world, TabularWorld) and isinstance(p, EmpoParams)
    assert gw.world.is_acyclic == (horizon is not None)
    if horizon is not None:
        assert gw.horizon == suggested_horizon(name)
    assert gw.world.reachable().all()
    # every walkable cell is covered by a positive-weight goal of every human (so X_h > 0)
    for h, goals in enumerate(gw.goals):
        covered = {c for g in goals if g.weight > 0 for c in g.cells}
        assert set(gw.layout.walkable_cells()) <= covered, (name, h)
    prior = solve_phase1(gw.world, p)
    sol = solve_phase2(gw.world, prior, p)
    assert sol.converged and prior.converged
    live = ~gw.world.terminal
    assert np.all(sol.X_h[live] > 0) and np.all(np.isfinite(sol.U_r[live]))
    # the "under a second" budget is measured in benchmarks/bench_scenarios.py, not here


@pytest.mark.parametrize("horizon", [None, "default"])
@pytest.mark.parametrize("beta_r", [5.0, 10.0])
def test_door_robot_opens_the_door_first(horizon, beta_r):
    gw, p, prior, sol = solved("door", horizon, beta_r=beta_r)
    assert robot_choice(gw, sol) == "toggle"
    # and opening the door raises the human's power (compare after one step in the finite world)
    step = None if horizon is None else 1
    s_open, s_closed = gw.state_of(doors_open=[True], step=step), gw.state_of(doors_open=[False], step=step)
    assert sol.X_h[s_open, 0] > sol.X_h[s_closed, 0]


@pytest.mark.parametrize("horizon", [None, "default"])
def test_corridor_robot_gets_out_of_the_way(horizon):
    gw, p, prior, sol = solved("corridor", horizon)
    assert robot_choice(gw, sol) == "south"
    # with the robot in the niche the human can do more than with the robot in the corridor
    if horizon is None:
        niche = gw.state_of(robots=[(3, 2)])
        assert sol.X_h[niche, 0] > sol.X_h[gw.world.initial_state, 0]


@pytest.mark.parametrize("horizon", [None, "default"])
def test_bottleneck_robot_steps_into_the_niche(horizon):
    gw, p, prior, sol = solved("bottleneck", horizon)
    assert robot_choice(gw, sol) == "east"


@pytest.mark.parametrize("horizon", [None, "default"])
def test_two_trapped_robot_frees_the_near_human_then_the_other(horizon):
    gw, p, prior, sol = solved("two_trapped", horizon)
    assert robot_choice(gw, sol) == "west"
    ro = rollout(gw.world, sol.pi_r, prior.profile, steps=10, mode="likely")
    start_rocks = set(gw.positions(0)["rocks"])
    end_rocks = set(gw.positions(ro["states"][-1])["rocks"])
    assert not (start_rocks & end_rocks), "both rocks should have been pushed away"


def test_open_room_robot_moves_away_from_the_human():
    for horizon in (None, "default"):
        gw, p, prior, sol = solved("open_room", horizon)
        m = gw.robot_marginal(sol.pi_r)[gw.world.initial_state]  # stay, north, east, south, west
        # the human is north-west of the robot
        assert m[2] + m[3] > m[1] + m[4] + 0.1


def test_shared_switch_trades_one_human_against_the_other():
    gw, p, prior, sol = solved("shared_switch")
    place = dict(humans=[(2, 2), (4, 2)], robots=[(1, 2)])  # robot out of the way, west end
    a_open = gw.state_of(doors_open=[True, False], **place)
    b_open = gw.state_of(doors_open=[False, True], **place)
    # H0 favours door cell A, H1 door cell B: each door state favours one human at the other's cost
    assert sol.X_h[a_open, 0] > sol.X_h[b_open, 0] + 0.05
    assert sol.X_h[b_open, 1] > sol.X_h[a_open, 1] + 0.05
    # both open (possible only if somebody stood in B while A opened) is better for both
    both = gw.state_of(doors_open=[True, True], **place)
    assert np.all(sol.X_h[both] > np.maximum(sol.X_h[a_open], sol.X_h[b_open]))


@pytest.mark.parametrize("name", ["door", "open_room"])
def test_finite_horizon_values_approach_the_stationary_ones(name):
    gw, p, prior, sol = solved(name, None)
    s_stat = gw.world.initial_state
    errs_e, errs_m, errs_pi = [], [], []
    for n in (4, 15, 45):
        gwf, _, priorf, solf = solved(name, n)
        s0 = gwf.world.initial_state
        errs_e.append(np.max(np.abs(solf.V_h_e[s0] - sol.V_h_e[s_stat])))
        errs_m.append(np.max(np.abs(priorf.V_h_m[s0] - prior.V_h_m[s_stat])))
        errs_pi.append(np.max(np.abs(solf.pi_r[s0] - sol.pi_r[s_stat])))
    # gamma = 0.9: the truncation error shrinks roughly like 0.9**N
    assert errs_e[0] > errs_e[1] > errs_e[2] and errs_e[2] < 0.02, errs_e
    assert errs_m[2] <= errs_m[0] and errs_m[2] < 0.02, errs_m
    assert errs_pi[2] < 0.02, errs_pi
