"""Gridworld builder: transitions checked by hand, validation, decoding, plots."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empo_tabular import EmpoParams, TabularWorld, load_world, solve_phase1, solve_phase2
from empo_tabular.worlds.gridworld import GridWorld, build_gridworld
from empo_tabular.worlds.trajectories import rollout


def outcomes(gw, s, actions):
    """``{(humans, robots, rocks, doors): prob}`` of the successors of ``s``."""
    out = {}
    for t, p in gw.transition(s, actions):
        pos = gw.positions(t)
        key = (tuple(pos["humans"]), tuple(pos["robots"]), tuple(pos["rocks"]), tuple(pos["doors_open"]))
        out[key] = out.get(key, 0.0) + p
    return out


def one(gw, s, actions):
    res = outcomes(gw, s, actions)
    assert len(res) == 1, res
    return next(iter(res))


# ----------------------------------------------------------------------------- conflicts
def test_contest_stay_rule_both_stay():
    gw = build_gridworld(["H.R"])
    assert one(gw, 0, {"H0": "east", "R0": "west"})[:2] == (((0, 0),), ((2, 0),))


def test_contest_random_rule_each_wins_half():
    gw = build_gridworld(["H.R"], conflict="random")
    res = outcomes(gw, 0, {"H0": "east", "R0": "west"})
    assert res == {(((1, 0),), ((2, 0),), (), ()): pytest.approx(0.5), (((0, 0),), ((1, 0),), (), ()): pytest.approx(0.5)}


def test_contest_priority_rule_first_agent_wins():
    gw = build_gridworld(["H.R"], conflict="priority")
    assert one(gw, 0, {"H0": "east", "R0": "west"})[:2] == (((1, 0),), ((2, 0),))
    gw = build_gridworld(["H.R"], conflict="priority", priority=["R0", "H0"])
    assert one(gw, 0, {"H0": "east", "R0": "west"})[:2] == (((0, 0),), ((1, 0),))


def test_following_allowed_and_swap_blocked_under_stay_rule():
    gw = build_gridworld(["HR."])
    assert one(gw, 0, {"H0": "east", "R0": "east"})[:2] == (((1, 0),), ((2, 0),))
    assert one(gw, 0, {"H0": "east", "R0": "west"})[:2] == (((0, 0),), ((1, 0),))
    # the leader is blocked by the wall, so the follower stays too
    gw = build_gridworld(["HR#"])
    assert one(gw, 0, {"H0": "east", "R0": "east"})[:2] == (((0, 0),), ((1, 0),))


def test_following_under_random_order_depends_on_the_order():
    gw = build_gridworld(["HR."], conflict="random")
    res = outcomes(gw, 0, {"H0": "east", "R0": "east"})
    assert res == {(((1, 0),), ((2, 0),), (), ()): pytest.approx(0.5), (((0, 0),), ((2, 0),), (), ()): pytest.approx(0.5)}


def test_rotation_of_four_agents_moves_everybody():
    gw = build_gridworld(["HH", "RR"])
    # H0 (0,0) east, H1 (1,0) south, R1 (1,1) west, R0 (0,1) north: a cycle
    res = one(gw, 0, {"H0": "east", "H1": "south", "R1": "west", "R0": "north"})
    assert res[:2] == (((1, 0), (1, 1)), ((0, 0), (0, 1)))


def test_three_way_contest_and_blocked_cascade():
    gw = build_gridworld(["#H#", "H.R", "#.#"])
    # H0 (1,0) south, H1 (0,1) east, R0 (2,1) west all want (1,1)
    assert one(gw, 0, {"H0": "south", "H1": "east", "R0": "west"})[:2] == (((1, 0), (0, 1)), ((2, 1),))
    gw = build_gridworld(["#H#", "H.R", "#.#"], conflict="random")
    res = outcomes(gw, 0, {"H0": "south", "H1": "east", "R0": "west"})
    assert len(res) == 3 and all(p == pytest.approx(1 / 3) for p in res.values())


# ----------------------------------------------------------------------------- rocks
def test_robot_pushes_rock_humans_do_not_by_default():
    gw = build_gridworld(["RB..H"])
    assert one(gw, 0, {"R0": "east"})[1:3] == (((1, 0),), ((2, 0),))
    gw = build_gridworld(["HB..R"])
    assert one(gw, 0, {"H0": "east"})[0] == ((0, 0),)
    gw = build_gridworld(["HB..R"], human_push=True)
    assert one(gw, 0, {"H0": "east"})[0::2] == (((1, 0),), ((2, 0),))


def test_push_fails_against_rock_wall_agent_and_door():
    for row in ["RBB.H", "RB#.H", "RBH..", "RBd.H"]:
        gw = build_gridworld([row])
        before = gw.positions(0)
        res = one(gw, 0, {"R0": "east"})
        assert res[1] == tuple(before["robots"]) and list(res[2]) == before["rocks"], row


def test_two_robots_pushing_one_rock_both_stay_and_pusher_blocks_rock_target():
    gw = build_gridworld(["H.R..", ".RB..", "....."])
    # R0 (2,0) pushes south, R1 (1,1) pushes east: both feasible, both claim the rock's cell
    res = one(gw, 0, {"R0": "south", "R1": "east"})
    assert res[1:3] == (((2, 0), (1, 1)), ((2, 1),))
    assert one(gw, 0, {"R0": "south"})[1:3] == (((2, 1), (1, 1)), ((2, 2),))
    # a human entering the cell behind the rock contests the rock's destination
    gw = build_gridworld(["..H", "RB.", "..."])
    res = one(gw, 0, {"R0": "east", "H0": "south"})
    assert res[:3] == (((2, 0),), ((0, 1),), ((1, 1),))


def test_rocks_are_interchangeable():
    gw = build_gridworld(["H.....", ".RB.B.", "......"], horizon=None)
    # rocks are stored sorted, so a configuration of rock cells is one state whichever rock went where
    assert np.all(np.diff(gw.rock_cell, axis=1) > 0)
    combos = {tuple(gw.rock_cell[s]) + tuple(gw.agent_cell[s]) for s in range(gw.n_states)}
    assert len(combos) == gw.n_states
    # R0 pushes the left rock east twice: it lands next to the other rock, states stay consistent
    s1 = one(gw, 0, {"R0": "east"})
    assert s1[2] == ((3, 1), (4, 1))


# ----------------------------------------------------------------------------- doors
def test_toggle_opens_and_closes_adjacent_doors_only():
    gw = build_gridworld(["H.D.", "..R."])
    assert gw.actions[1] == ["stay", "north", "east", "south", "west", "toggle"]
    assert gw.actions[0] == ["stay", "north", "east", "south", "west"]
    assert one(gw, 0, {"R0": "toggle"})[3] == (True,)
    s1 = gw.state_of(doors_open=[True])
    assert one(gw, s1, {"R0": "toggle"})[3] == (False,)
    s_far = gw.state_of(robots=[(3, 1)])  # diagonal to the door: no effect
    assert one(gw, s_far, {"R0": "toggle"})[3] == (False,)


def test_closed_door_blocks_and_occupied_door_cannot_close():
    gw = build_gridworld(["H.D.", "..R."])
    s = gw.state_of(humans=[(1, 0)])
    assert one(gw, s, {"H0": "east"})[0] == ((1, 0),)
    s_open = gw.state_of(humans=[(1, 0)], doors_open=[True])
    # the human enters the open door while the robot toggles: the door stays open
    assert one(gw, s_open, {"H0": "east", "R0": "toggle"})[0::3] == (((2, 0),), (True,))
    s_in = gw.state_of(humans=[(2, 0)], doors_open=[True])
    assert one(gw, s_in, {"R0": "toggle"})[3] == (True,)


def test_human_toggle_option_and_no_toggle_without_doors():
    gw = build_gridworld(["HD.R"], human_toggle=True)
    assert "toggle" in gw.actions[0]
    assert one(gw, 0, {"H0": "toggle"})[3] == (True,)
    gw = build_gridworld(["H..R"])
    assert gw.actions[1] == ["stay", "north", "east", "south", "west"]


# ----------------------------------------------------------------------------- slip
def test_slip_makes_each_move_fail_independently():
    gw = build_gridworld(["H..", "..R"], slip=0.2)
    res = outcomes(gw, 0, {"H0": "east", "R0": "west"})
    assert res == {
        (((1, 0),), ((1, 1),), (), ()): pytest.approx(0.64),
        (((0, 0),), ((1, 1),), (), ()): pytest.approx(0.16),
        (((1, 0),), ((2, 1),), (), ()): pytest.approx(0.16),
        (((0, 0),), ((2, 1),), (), ()): pytest.approx(0.04),
    }
    gw = build_gridworld(["H..", "..R"], slip={"robots": 0.25})
    res = outcomes(gw, 0, {"H0": "east", "R0": "west"})
    assert res == {(((1, 0),), ((1, 1),), (), ()): pytest.approx(0.75), (((1, 0),), ((2, 1),), (), ()): pytest.approx(0.25)}


def test_slip_does_not_affect_stay_and_combines_with_random_order():
    gw = build_gridworld(["H.R"], slip=0.5, conflict="random")
    assert outcomes(gw, 0, {}) == {(((0, 0),), ((2, 0),), (), ()): pytest.approx(1.0)}
    res = outcomes(gw, 0, {"H0": "east", "R0": "west"})
    # both move attempt (1/4): random winner; only one attempts (1/4 each): it moves; none (1/4)
    assert res[(((1, 0),), ((2, 0),), (), ())] == pytest.approx(0.25 / 2 + 0.25)
    assert res[(((0, 0),), ((2, 0),), (), ())] == pytest.approx(0.25)


# ----------------------------------------------------------------------------- structure
def test_state_count_by_hand_and_reachability():
    # 11 walkable cells, 2 distinct agents, 2 door states, nobody inside a closed door:
    # 11*10*2 - 2*10 = 200 stationary states
    m = ["#######", "#H..R.#", "###D###", "#.....#", "#######"]
    gw = build_gridworld(m)
    assert gw.n_states == 200
    assert not gw.world.is_acyclic and not gw.world.terminal.any()
    assert gw.world.reachable().all()
    fin = build_gridworld(m, horizon=3)
    assert fin.world.is_acyclic
    assert set(np.unique(fin.step)) == {0, 1, 2, 3}
    np.testing.assert_array_equal(fin.world.terminal, fin.step == 3)
    # each step of the finite world holds states of the stationary world
    stat_keys = set(map(tuple, np.c_[gw.agent_cell, gw.door_open]))
    assert set(map(tuple, np.c_[fin.agent_cell, fin.door_open])) <= stat_keys


def test_rows_follow_profile_order_and_successor_steps():
    gw = build_gridworld(["H..", ".H.", "..R"], horizon=2)
    w = gw.world
    a_r, a_h = gw.joint_action({"H0": "east", "H1": "south", "R0": "north"})
    assert list(w.human_profiles[a_h]) == [2, 3] and list(w.robot_profiles[a_r]) == [1]
    assert w.human_profiles.tolist() == np.indices((5, 5)).reshape(2, -1).T.tolist()
    for t, _ in gw.transition(0, {"H0": "east"}):
        assert gw.step[t] == 1
    assert w.initial_state == 0 and gw.step[0] == 0


def test_achieved_matches_goal_cells_and_weights():
    with pytest.raises(ValueError, match="weight for every goal or for none"):
        build_gridworld(["H.a", ".Ra"], goals=["a", {"at": "1,1", "weight": 3}])
    gw = build_gridworld(["H.a", ".Ra"], goals=["a", (0, 0, 1, 0), "1,1"])
    assert [g.name for g in gw.goals[0]] == ["a", "[0..1]x[0..0]", "(1,1)"]
    np.testing.assert_allclose(gw.world.goal_weight[0], [1 / 3] * 3)
    for s in range(gw.n_states):
        xy = gw.positions(s)["humans"][0]
        for g, goal in enumerate(gw.goals[0]):
            assert gw.world.achieved[0, g, s] == (xy in goal.cells)
    gw = build_gridworld(["H.", ".R"], goals={"*": "cells"})
    assert gw.world.goal_count[0] == 4


def test_state_of_positions_roundtrip_and_vary_agent():
    gw = build_gridworld(["H..", ".B.", "..R"], horizon=None)
    for s in range(0, gw.n_states, 7):
        p = gw.positions(s)
        assert gw.state_of(humans=p["humans"], robots=p["robots"], rocks=p["rocks"]) == s
    with pytest.raises(KeyError):
        gw.state_of(humans=[(1, 1)])  # the rock is there
    grid = gw.vary_agent("H0")
    assert grid[0, 0] == 0 and grid[1, 1] == -1 and grid[2, 2] == -1
    for y in range(3):
        for x in range(3):
            if grid[y, x] >= 0:
                assert gw.positions(grid[y, x])["humans"] == [(x, y)]
    assert gw.render(0) == "H..\n.B.\n..R"


def test_spec_dict_equals_keywords_and_save_load_roundtrip(tmp_path):
    m = "#####\n#H.R#\n#.D.#\n#####"
    a = build_gridworld(m, horizon=4, slip=0.1)
    b = build_gridworld(m, spec=json.loads(json.dumps({"horizon": 4, "slip": 0.1})))
    assert a.world.checksum == b.world.checksum
    path = a.world.save(tmp_path / "w.npz")
    back = GridWorld.from_world(load_world(path))
    assert back.world.checksum == a.world.checksum
    np.testing.assert_array_equal(back.agent_cell, a.agent_cell)


@pytest.mark.parametrize("bad, match", [
    (dict(ascii_map="H.X"), "unknown character"),
    (dict(ascii_map="..R"), "no human"),
    (dict(ascii_map="H.R", goals=["zz"]), "neither a region name"),
    (dict(ascii_map="H.R", goals=[(5, 0)]), "outside"),
    (dict(ascii_map="H.R", conflict="swap"), "conflict must be"),
    (dict(ascii_map="H.R", slip=1.0), r"slip probabilities must be in \[0, 1\)"),
    (dict(ascii_map="H.R", horizon=0), "horizon must be"),
    (dict(ascii_map="HHHHRRR" + "." * 60, conflict="random"), "at most 6 agents"),
    (dict(ascii_map="H" * 8 + "R" * 8 + "." * 200), "does not fit in 62 bits"),
    (dict(ascii_map="H.....R", max_states=3), "max_states"),
])
def test_errors_are_explicit(bad, match):
    with pytest.raises(ValueError, match=match):
        build_gridworld(**bad)


# ----------------------------------------------------------------------------- property
@st.composite
def small_maps(draw):
    w = draw(st.integers(2, 3))
    h = draw(st.integers(1, 3))
    cells = [draw(st.sampled_from(".....#BD")) for _ in range(w * h)]
    n = w * h
    idx = draw(st.permutations(range(n)))
    n_h = draw(st.integers(1, 2))
    n_r = draw(st.integers(0, 2))
    if n_h + n_r > n:
        n_r = max(0, n - n_h)
    for i in idx[:n_h]:
        cells[i] = "H"
    for i in idx[n_h:n_h + n_r]:
        cells[i] = "R"
    return ["".join(cells[y * w:(y + 1) * w]) for y in range(h)]


@settings(deadline=None, max_examples=25)
@given(m=small_maps(), conflict=st.sampled_from(["stay", "random"]), slip=st.sampled_from([0.0, 0.3]),
       horizon=st.sampled_from([None, 2]))
def test_random_maps_give_valid_consistent_worlds(m, conflict, slip, horizon):
    gw = build_gridworld(m, conflict=conflict, slip=slip, horizon=horizon)
    w = gw.world
    assert isinstance(w, TabularWorld) and w.is_acyclic == (horizon is not None)
    assert w.reachable().all()
    walk = gw.layout.walkable.ravel()
    cells = np.sort(np.c_[gw.agent_cell, gw.rock_cell], axis=1)
    assert np.all(np.diff(cells, axis=1) > 0)  # nobody shares a cell
    assert walk[cells].all()
    for j, (x, y) in enumerate(gw.layout.doors):
        closed = ~gw.door_open[:, j]
        assert not np.any(cells[closed] == gw.cell((x, y)))
    # the all-stay row is the identity
    for s in np.flatnonzero(~w.terminal)[:10]:
        succ = gw.transition(s, {})
        if horizon is None:
            assert succ == [(int(s), 1.0)]
        else:
            assert len(succ) == 1 and gw.positions(succ[0][0])["humans"] == gw.positions(s)["humans"]


# ----------------------------------------------------------------------------- rollout, plots
def test_rollout_likely_and_sample():
    gw = build_gridworld(["H..R"], horizon=5)
    p = EmpoParams(gamma_h=0.9, gamma_r=0.9)
    prior = solve_phase1(gw.world, p)
    sol = solve_phase2(gw.world, prior, p)
    ro = rollout(gw.world, sol.pi_r, prior.profile, steps=10)
    assert ro["states"].size == 6 and gw.world.terminal[ro["states"][-1]]
    a = rollout(gw.world, sol.pi_r, prior.profile, steps=10, mode="sample", seed=3)
    b = rollout(gw.world, sol.pi_r, prior.profile, steps=10, mode="sample", seed=3)
    np.testing.assert_array_equal(a["states"], b["states"])
    assert np.all(a["probs"] > 0)


def test_plots_return_axes_and_figures(tmp_path):
    import matplotlib

    from empo_tabular import plotting as P

    gw = build_gridworld(["#######", "#H.R..#", "###D###", "#.B...#", "#######"], goals=[(1, 1, 2, 1), (1, 3, 5, 3)])
    p = EmpoParams(gamma_h=0.9, gamma_r=0.9, beta_r=5.0)
    prior = solve_phase1(gw.world, p)
    sol = solve_phase2(gw.world, prior, p)
    axes = [P.draw_map(gw), P.plot_goal_ability(gw, sol, 0, 1), P.plot_power(gw, sol),
            P.plot_intrinsic_reward(gw, sol), P.plot_robot_policy(gw, sol), P.plot_robot_policy(gw, sol, field=False),
            P.plot_policy_bars(gw, sol), P.plot_trajectory(gw, sol, prior, steps=4, mode="sample", seed=1)]
    for ax in axes:
        assert isinstance(ax, matplotlib.axes.Axes)
    assert axes[-1].empo_rollout["states"].size == 5
    fig = P.plot_overview(gw, sol, prior)
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) >= 6
    out = P.save_figure(fig, tmp_path / "sub" / "o.png")
    assert out.stat().st_size > 10_000
    with pytest.raises(ValueError, match="no goal"):
        P.plot_goal_ability(gw, sol, 0, "nope")
