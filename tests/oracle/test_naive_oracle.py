"""Self-checks of the slow reference oracle ``tests/oracle/naive.py``.

These tests check the oracle against (1) the public reference export, (2) a
tiny world solved by hand, (3) its own equations at a cyclic fixed point and
(4) itself across its two algorithms.  They never compare with the package's
solvers (that is what the oracle is for).
"""
import math

import numpy as np
import pytest

from empo_tabular import EmpoParams, TabularWorld, random_world
from oracle.naive import (
    phase1_state,
    state_blocks,
    naive_is_acyclic,
    naive_phase1,
    naive_phase2,
    naive_phase2_apply,
    naive_power_law,
    naive_prior_arrays,
)

from empo_tabular.io.reference import PUBLIC_CASE
ARRAYS = ("Q_r", "pi_r", "V_h_e", "X_h", "U_r", "V_r")
RELATIVE = ("Q_r", "X_h", "U_r", "V_r")


def deviation(ours, ref, relative):
    """Largest deviation where ref is finite; NaN patterns must agree."""
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    finite = np.isfinite(ref)
    assert np.array_equal(finite, np.isfinite(ours)), "NaN pattern differs"
    if not finite.any():
        return 0.0
    diff = np.abs(ours[finite] - ref[finite])
    if relative:
        diff = diff / np.abs(ref[finite])
    return float(diff.max())


def residuals(world, profile, fixed, params, sol):
    """Largest change of every array under one synchronous application of the equations."""
    new = naive_phase2_apply(world, profile, fixed, params, sol["Q_r"], sol["V_h_e"], sol["X_h"], sol["U_r"],
                             sol["V_r"])
    return {k: deviation(new[k], sol[k], k in RELATIVE) for k in ARRAYS}


# --------------------------------------------------------------------------- 1. public reference case

def _load_public_case():
    with np.load(PUBLIC_CASE, allow_pickle=False) as d:
        data = {k: np.array(d[k]) for k in d.files}
    world = TabularWorld(
        int(data["n_states"]), int(data["initial_state"]), data["terminal"], data["robot_profiles"].shape[0],
        data["human_profiles"], data["trans_ptr"], data["trans_succ"], data["trans_prob"], data["achieved"],
        data["goal_weight"], goal_count=data["goal_count"], robot_profiles=data["robot_profiles"],
    )
    params = EmpoParams(
        beta_h=float(data["beta_h"]), gamma_h=float(data["gamma_h_eff"]), beta_r=float(data["beta_r"]),
        gamma_r=float(data["gamma_r_eff"]), zeta=float(data["zeta"]), xi=float(data["xi"]), eta=float(data["eta"]),
        terminal_v_r=float(data["terminal_Vr"]), c_r=float(data["ur_duration_weight"]),
    )
    return world, params, data


@pytest.fixture(scope="module")
def public():
    world, params, data = _load_public_case()
    phase1 = naive_phase1(world, params)
    phase2 = naive_phase2(world, data["prior_profile"], data["prior_profile_fixed_goal"], params)
    return world, params, data, phase1, phase2


def test_public_case_phase1(public):
    world, params, data, phase1, _ = public
    assert naive_is_acyclic(world)
    # float64 vs the reference's float16 storage of V_h^m: agreement to float16 precision
    assert np.abs(phase1["pi_h"] - data["ref_pi_h"]).max() <= 2e-3
    assert np.abs(phase1["V_h_m"] - data["ref_Vhm"].astype(np.float64)).max() <= 2e-3
    assert np.abs(phase1["profile"] - data["prior_profile"]).max() <= 2e-3
    assert np.abs(phase1["profile_fixed_goal"] - data["prior_profile_fixed_goal"]).max() <= 2e-3
    # the prior arrays of the *reference's* pi_h are the exported prior arrays (exact formula)
    profile, fixed = naive_prior_arrays(world, data["ref_pi_h"])
    assert np.abs(profile - data["prior_profile"]).max() <= 1e-12
    assert np.abs(fixed - data["prior_profile_fixed_goal"]).max() <= 1e-12


def test_public_case_phase2(public):
    world, params, data, _, phase2 = public
    assert deviation(phase2["V_h_e"], data["ref_Vhe"], False) <= 2e-3
    assert deviation(phase2["V_r"], data["ref_Vr"], True) <= 5e-4
    assert deviation(phase2["pi_r"], data["ref_pi_r"], False) <= 2e-3
    assert deviation(phase2["Q_r"], data["ref_Qr"], True) <= 5e-4
    assert deviation(phase2["X_h"], data["ref_Xh"], True) <= 2e-3
    assert deviation(phase2["U_r"], data["ref_Ur"], True) <= 2e-3
    assert phase2["V_r"][0] == pytest.approx(-34.29304036, rel=5e-4)


def test_public_case_phase2_from_own_prior(public):
    world, params, data, phase1, _ = public
    own = naive_phase2(world, phase1["profile"], phase1["profile_fixed_goal"], params)
    assert deviation(own["V_h_e"], data["ref_Vhe"], False) <= 2e-3
    assert deviation(own["V_r"], data["ref_Vr"], True) <= 5e-4
    assert deviation(own["pi_r"], data["ref_pi_r"], False) <= 2e-3


def test_public_case_tolerances_detect_a_wrong_c_r(public):
    """Negative control: dropping c_r (a 0.5 % change) must fail the V_r check."""
    world, params, data, _, _ = public
    wrong = naive_phase2(world, data["prior_profile"], data["prior_profile_fixed_goal"], params.replace(c_r=1.0))
    assert deviation(wrong["V_r"], data["ref_Vr"], True) > 5e-4


# --------------------------------------------------------------------------- 2. a world solved by hand

def hand_world():
    """Five states, one human (2 actions), one robot (2 actions), goals g0 and g1.

    s0 start;  s1 "A" (non-terminal, g0 holds);  s2 "B" (terminal, g1 holds);
    s3 "E" (terminal, nothing holds);  s4 "A'" (terminal, g0 holds).

    From s0:  a_r = 0:  a_h = 0 -> s2,                 a_h = 1 -> s1
              a_r = 1:  a_h = 0 -> s2 / s3 (1/2 each), a_h = 1 -> s1 / s3 (1/2 each)
    From s1 (every action): s4 / s2 (1/2 each).
    """
    S = 5
    T = np.zeros((S, 2, 2, S))
    T[0, 0, 0, 2] = 1.0
    T[0, 0, 1, 1] = 1.0
    T[0, 1, 0, [2, 3]] = 0.5
    T[0, 1, 1, [1, 3]] = 0.5
    T[1, :, :, 4] = 0.5
    T[1, :, :, 2] = 0.5
    terminal = np.array([False, False, True, True, True])
    achieved = np.zeros((1, 2, S), dtype=bool)
    achieved[0, 0, [1, 4]] = True
    achieved[0, 1, 2] = True
    weight = np.array([[0.25, 0.75]])
    world = TabularWorld.from_dense(T, terminal, np.array([[0], [1]]), achieved, weight)
    return world


HAND = EmpoParams(beta_h=2.0, gamma_h=0.8, beta_r=3.0, gamma_r=0.9, zeta=2.0, xi=1.5, eta=1.2, terminal_v_r=-1e-3,
                  c_r=0.7)


def softmax2(beta, q0, q1):
    e0, e1 = math.exp(beta * q0), math.exp(beta * q1)
    return np.array([e0, e1]) / (e0 + e1)


def test_hand_world_phase1():
    world, p = hand_world(), HAND
    gh = p.gamma_h
    out = naive_phase1(world, p)
    # s1: g0 holds -> "still" policy, V = 0.  g1: every row reaches s2 (g1) w.p. 1/2 -> Q = [1/2, 1/2].
    # s0, g0: cont = 1 at s1, 0 at s2, s3.  Q(0) = min(0, 0) = 0;  Q(1) = min(1, 1/2) = 1/2.
    # s0, g1: cont = 1 at s2, gamma_h * V(s1, g1) = gh/2 at s1.  Q(0) = min(1, 1/2);  Q(1) = min(gh/2, gh/4).
    q_g0 = np.array([0.0, 0.5])
    q_g1 = np.array([0.5, gh / 4])
    pi_g0 = softmax2(p.beta_h, *q_g0)
    pi_g1 = softmax2(p.beta_h, *q_g1)
    pi = np.zeros((5, 1, 2, 2))
    pi[0, 0, 0], pi[0, 0, 1] = pi_g0, pi_g1
    pi[1, 0, 0], pi[1, 0, 1] = [1.0, 0.0], [0.5, 0.5]
    V = np.zeros((5, 1, 2))
    V[0, 0] = [pi_g0 @ q_g0, pi_g1 @ q_g1]
    V[1, 0] = [0.0, 0.5]
    np.testing.assert_allclose(out["pi_h"], pi, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["V_h_m"], V, rtol=0, atol=1e-12)
    # prior: weights 1/4, 3/4 sum to 1
    m0 = 0.25 * pi_g0 + 0.75 * pi_g1
    m1 = 0.25 * np.array([1.0, 0.0]) + 0.75 * np.array([0.5, 0.5])
    profile = np.zeros((5, 2))
    profile[0], profile[1] = m0, m1
    np.testing.assert_allclose(out["profile"], profile, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["profile_fixed_goal"], pi, rtol=0, atol=1e-12)  # one human: Pfg = pi_h

    # variants: optimistic (max over a_r), beta_h = inf (argmax), beta_h = 0 (uniform)
    opt = naive_phase1(world, p, optimistic=True)
    np.testing.assert_allclose(opt["pi_h"][0, 0, 0], softmax2(p.beta_h, 0.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(opt["pi_h"][0, 0, 1], softmax2(p.beta_h, 1.0, gh / 2), atol=1e-12)
    greedy = naive_phase1(world, p.replace(beta_h=math.inf))
    np.testing.assert_array_equal(greedy["pi_h"][0, 0], [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(greedy["pi_h"][1, 0, 1], [0.5, 0.5])   # exact tie
    assert greedy["V_h_m"][0, 0, 0] == 0.5 and greedy["V_h_m"][0, 0, 1] == 0.5
    flat = naive_phase1(world, p.replace(beta_h=0.0))
    np.testing.assert_array_equal(flat["pi_h"][0, 0], np.full((2, 2), 0.5))


def hand_phase2_solution(p, pi_g0, pi_g1, m0, pr=None):
    """Closed-form Phase 2 of the hand world given the Phase 1 policies at s0 (pr: pi_r(s0) if given)."""
    tv, gr, gh = p.terminal_v_r, p.gamma_r, p.gamma_h
    nan = math.nan
    # s1: both rows lead to terminal states -> Q_r = gamma_r tv for both actions, uniform pi_r.
    # V_h^e(s1, g0) = 1/2 (s4 holds g0), V_h^e(s1, g1) = 1/2 (s2 holds g1).  (No special case for g0 holding at s1.)
    vhe1 = np.array([0.5, 0.5])
    x1 = 0.25 * 0.5 ** p.zeta + 0.75 * 0.5 ** p.zeta
    u1 = -((x1 ** -p.xi) ** p.eta)          # one human: the mean is the single term
    v1 = p.c_r * u1 + gr * tv
    # s0: Q_r(0) = gr (m0[0] tv + m0[1] V(s1));  Q_r(1) = gr (m0[0] tv + m0[1] (V(s1) + tv) / 2)
    q0 = np.array([gr * (m0[0] * tv + m0[1] * v1), gr * (m0[0] * tv + m0[1] * (v1 + tv) / 2)])
    if pr is None:
        w = (-q0) ** (-p.beta_r)
        pr = w / w.sum()
    # V_h^e(s0, g0): a_r = 0 reaches s1 with a_h = 1; a_r = 1 with probability 1/2.
    # V_h^e(s0, g1): a_h = 0 reaches s2 (1); a_h = 1 reaches s1 (gamma_h * 1/2); a_r = 1 halves both.
    reach = pr[0] + 0.5 * pr[1]
    vhe0 = np.array([reach * pi_g0[1], reach * (pi_g1[0] + pi_g1[1] * gh / 2)])
    x0 = 0.25 * vhe0[0] ** p.zeta + 0.75 * vhe0[1] ** p.zeta
    u0 = -((x0 ** -p.xi) ** p.eta)
    v0 = p.c_r * u0 + pr @ q0
    return {
        "Q_r": np.array([q0, [gr * tv, gr * tv], [nan, nan], [nan, nan], [nan, nan]]),
        "pi_r": np.array([pr, [0.5, 0.5], [0, 0], [0, 0], [0, 0]]),
        "V_h_e": np.array([vhe0, vhe1, [0, 0], [0, 0], [0, 0]])[:, None, :],
        "X_h": np.array([[x0], [x1], [nan], [nan], [nan]]),
        "U_r": np.array([u0, u1, nan, nan, nan]),
        "V_r": np.array([v0, v1, tv, tv, tv]),
    }


def hand_prior(p):
    """The Phase 1 policies and prior arrays of the hand world, by hand (see test_hand_world_phase1)."""
    pi_g0 = softmax2(p.beta_h, 0.0, 0.5)
    pi_g1 = softmax2(p.beta_h, 0.5, p.gamma_h / 4)
    m0 = 0.25 * pi_g0 + 0.75 * pi_g1
    profile = np.zeros((5, 2))
    profile[0], profile[1] = m0, [0.625, 0.375]
    fixed = np.zeros((5, 1, 2, 2))
    fixed[0, 0, 0], fixed[0, 0, 1] = pi_g0, pi_g1
    fixed[1, 0, 0], fixed[1, 0, 1] = [1.0, 0.0], [0.5, 0.5]
    return pi_g0, pi_g1, m0, profile, fixed


@pytest.mark.parametrize("beta_r", [0.0, 3.0, math.inf])
@pytest.mark.parametrize("method", ["sweep", "iterate"])
def test_hand_world_phase2(beta_r, method):
    world, p = hand_world(), HAND.replace(beta_r=beta_r)
    pi_g0, pi_g1, m0, profile, fixed = hand_prior(p)
    if beta_r == math.inf:
        # (-Q)^(-inf) is not usable: greedy picks a_r = 1, because Q(1) - Q(0) = gr m0[1] (tv - V(s1)) / 2 > 0
        expected = hand_phase2_solution(p, pi_g0, pi_g1, m0, pr=np.array([0.0, 1.0]))
        assert expected["Q_r"][0, 1] > expected["Q_r"][0, 0]
    else:
        expected = hand_phase2_solution(p, pi_g0, pi_g1, m0)
    if beta_r == 0.0:
        np.testing.assert_array_equal(expected["pi_r"][0], [0.5, 0.5])
    sol = naive_phase2(world, profile, fixed, p, method=method)
    for k in ARRAYS:
        assert deviation(sol[k], expected[k], k in RELATIVE) <= 1e-12, k


def test_hand_world_x_zero_raises():
    world = hand_world()
    T = world.dense_transitions()
    achieved = np.zeros((1, 2, 5), dtype=bool)
    achieved[0, 0, 0] = True           # only at the start: never reached again
    bad = TabularWorld.from_dense(T, world.terminal, world.human_profiles, achieved, world.goal_weight)
    phase1 = naive_phase1(bad, HAND)
    with pytest.raises(ValueError, match="X_h"):
        naive_phase2(bad, phase1["profile"], phase1["profile_fixed_goal"], HAND)


def coordination_world():
    """s0 -> s1 iff the two humans pick the same action, else s2 (both terminal); no robot choice (n_ar = 1).

    Human 0 has 2 actions and two goals (g0: s1, g1: s2); human 1 has 3 actions (action 2 never
    coordinates) and one goal (s1) plus a padding goal.
    """
    S = 3
    profiles = np.array([[a0, a1] for a0 in range(2) for a1 in range(3)])
    T = np.zeros((S, 1, 6, S))
    for k, (a0, a1) in enumerate(profiles):
        T[0, 0, k, 1 if a0 == a1 else 2] = 1.0
    terminal = np.array([False, True, True])
    achieved = np.zeros((2, 2, S), dtype=bool)
    achieved[0, 0, 1] = achieved[0, 1, 2] = achieved[1, 0, 1] = True
    weight = np.array([[0.8, 1.2], [1.0, 0.0]])   # human 0: weights sum to 2 (normalisation matters)
    return TabularWorld.from_dense(T, terminal, profiles, achieved, weight, goal_count=np.array([2, 1]))


def test_two_humans_phase1_belief_and_action_counts():
    """Human 0, g0: Q(a) = P(human 1 plays a);  g1: Q(a) = 1 - P(human 1 plays a);
    human 1, g0: Q(a) = P(human 0 plays a) (0 for a = 2)."""
    world = coordination_world()
    assert world.n_own_actions == 3
    p = EmpoParams(beta_h=1.5)

    out = naive_phase1(world, p)                       # uniform beliefs: 1/3 for human 1, 1/2 for human 0
    np.testing.assert_allclose(out["pi_h"][0, 0, :2], [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], atol=1e-12)
    pi1 = np.exp(1.5 * np.array([0.5, 0.5, 0.0]))
    pi1 /= pi1.sum()
    np.testing.assert_allclose(out["pi_h"][0, 1, 0], pi1, atol=1e-12)
    assert not out["pi_h"][:, 1, 1].any() and not out["profile_fixed_goal"][:, 1, 1].any()   # padding goal
    np.testing.assert_allclose(out["V_h_m"][0], [[1 / 3, 2 / 3], [pi1 @ [0.5, 0.5, 0.0], 0.0]], atol=1e-12)
    np.testing.assert_allclose(out["profile"][0], [0.5 * pi1[a1] for a0 in range(2) for a1 in range(3)], atol=1e-12)
    assert not out["pi_h"][1:].any() and not out["profile"][1:].any()

    belief = np.zeros((3, 2, 3))
    belief[0, 0, :2] = [0.3, 0.7]
    belief[0, 1] = [0.8, 0.2, 0.0]
    out = naive_phase1(world, p, belief=belief)
    q00, q01, q1 = np.array([0.8, 0.2]), np.array([0.2, 0.8]), np.array([0.3, 0.7, 0.0])
    pi00, pi01, pi1 = (np.exp(1.5 * q) / np.exp(1.5 * q).sum() for q in (q00, q01, q1))
    np.testing.assert_allclose(out["pi_h"][0, 0, 0, :2], pi00, atol=1e-12)
    np.testing.assert_allclose(out["pi_h"][0, 0, 1, :2], pi01, atol=1e-12)
    np.testing.assert_allclose(out["pi_h"][0, 1, 0], pi1, atol=1e-12)
    np.testing.assert_allclose(out["V_h_m"][0], [[pi00 @ q00, pi01 @ q01], [pi1 @ q1, 0.0]], atol=1e-12)


def test_two_humans_phase2_by_hand():
    """Fixed-goal profiles, the goal-weighted X_h, padding goals and the *mean* over humans in U_r."""
    world = coordination_world()
    p = EmpoParams(beta_h=1.5, gamma_r=0.9, zeta=2.0, xi=1.5, eta=1.2, terminal_v_r=-1e-3, c_r=0.8)
    out = naive_phase1(world, p)
    pi1 = np.exp(1.5 * np.array([0.5, 0.5, 0.0]))
    pi1 /= pi1.sum()
    # human 0 uniform over {0, 1} for both goals, human 1 plays pi1; coordination iff a1 = a0 in {0, 1}
    coord = 0.5 * (pi1[0] + pi1[1])
    vhe = np.array([[coord, 1.0 - coord], [coord, 0.0]])
    x = np.array([0.8 * vhe[0, 0] ** 2 + 1.2 * vhe[0, 1] ** 2, vhe[1, 0] ** 2])
    u = -((0.5 * (x[0] ** -1.5 + x[1] ** -1.5)) ** 1.2)
    tv, gr = p.terminal_v_r, p.gamma_r
    sol = naive_phase2(world, out["profile"], out["profile_fixed_goal"], p)
    np.testing.assert_allclose(sol["V_h_e"][0], vhe, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sol["X_h"][0], x, rtol=1e-12)
    assert sol["U_r"][0] == pytest.approx(u, rel=1e-12)
    assert sol["Q_r"][0, 0] == pytest.approx(gr * tv, rel=1e-12)
    assert sol["pi_r"][0, 0] == 1.0
    assert sol["V_r"][0] == pytest.approx(p.c_r * u + gr * tv, rel=1e-12)
    np.testing.assert_array_equal(sol["V_r"][1:], [tv, tv])


# --------------------------------------------------------------------------- 3. cyclic fixed point

@pytest.fixture(scope="module")
def cyclic_solution():
    world = random_world(12, n_humans=2, n_robots=1, n_actions=2, n_goals=3, terminal_prob=0.15, seed=3)
    params = EmpoParams(beta_h=5.0, gamma_h=0.9, beta_r=10.0, gamma_r=0.95, zeta=2.0, xi=1.2, eta=1.1, c_r=0.9)
    phase1 = naive_phase1(world, params)
    phase2 = naive_phase2(world, phase1["profile"], phase1["profile_fixed_goal"], params)
    return world, params, phase1, phase2


def test_consistency_cyclic_fixed_point(cyclic_solution):
    world, params, phase1, sol = cyclic_solution
    assert not naive_is_acyclic(world) and world.terminal.any()
    res = residuals(world, phase1["profile"], phase1["profile_fixed_goal"], params, sol)
    assert max(res.values()) <= 1e-10, res
    assert np.all(sol["Q_r"][~world.terminal] < 0)
    np.testing.assert_allclose(sol["pi_r"][~world.terminal].sum(axis=1), 1.0, atol=1e-14)
    assert sol["pi_r"].std(axis=1).max() > 1e-3           # the policy is not trivially uniform


def test_consistency_cyclic_phase1_fixed_point(cyclic_solution):
    world, params, phase1, _ = cyclic_solution
    blocks = state_blocks(world)
    for s in range(world.n_states):
        pi, V = phase1_state(world, params, blocks, s, phase1["V_h_m"], None, False)
        np.testing.assert_allclose(pi, phase1["pi_h"][s], rtol=0, atol=1e-12)
        np.testing.assert_allclose(V, phase1["V_h_m"][s], rtol=0, atol=1e-13)


def test_residual_check_detects_a_perturbation(cyclic_solution):
    """Negative control: the residual check is not vacuous."""
    world, params, phase1, sol = cyclic_solution
    for key in ("Q_r", "V_h_e", "V_r"):
        bad = {k: v.copy() for k, v in sol.items()}
        s = int(np.flatnonzero(~world.terminal)[0])
        bad[key][s] *= 1.0 + 1e-6
        res = residuals(world, phase1["profile"], phase1["profile_fixed_goal"], params, bad)
        assert max(res.values()) > 1e-8, key


# --------------------------------------------------------------------------- 4. internal consistency

@pytest.mark.parametrize("seed", [0, 1])
def test_consistency_sweep_and_iteration_agree_on_acyclic_worlds(seed):
    world = random_world(25, n_humans=2, n_robots=1, n_actions=2, n_goals=2, acyclic=True, horizon=5,
                         terminal_prob=0.1, seed=seed)
    params = EmpoParams(beta_h=3.0, gamma_h=0.9, beta_r=20.0, gamma_r=0.97)
    assert naive_is_acyclic(world) == world.is_acyclic is True
    p_sweep = naive_phase1(world, params, method="sweep")
    p_iter = naive_phase1(world, params, method="iterate")
    for k in p_sweep:
        np.testing.assert_allclose(p_iter[k], p_sweep[k], rtol=0, atol=1e-12)
    a = naive_phase2(world, p_sweep["profile"], p_sweep["profile_fixed_goal"], params, method="sweep")
    b = naive_phase2(world, p_sweep["profile"], p_sweep["profile_fixed_goal"], params, method="iterate")
    for k in ARRAYS:
        assert deviation(b[k], a[k], k in RELATIVE) <= 1e-10, k
    res = residuals(world, p_sweep["profile"], p_sweep["profile_fixed_goal"], params, a)
    assert max(res.values()) <= 1e-12, res


def test_blocks_match_dense_transitions_and_acyclicity():
    for seed, acyclic in [(0, True), (1, False)]:
        world = random_world(15, n_humans=1, n_robots=2, n_actions=2, n_goals=2, acyclic=acyclic, horizon=4,
                             seed=seed)
        T = world.dense_transitions()
        rebuilt = np.zeros_like(T)
        for s, block in enumerate(state_blocks(world)):
            if block is not None:
                succ, Ts = block
                rebuilt[s][:, :, succ] = Ts
        np.testing.assert_array_equal(rebuilt, T)
        assert naive_is_acyclic(world) == world.is_acyclic == acyclic


def test_power_law():
    Q = np.array([-1.0, -2.0, -1.0, -4.0])
    np.testing.assert_array_equal(naive_power_law(Q, 0.0), np.full(4, 0.25))
    np.testing.assert_array_equal(naive_power_law(Q, math.inf), [0.5, 0.0, 0.5, 0.0])
    w = (-Q) ** -3.0
    np.testing.assert_allclose(naive_power_law(Q, 3.0), w / w.sum(), rtol=1e-14)
    tiny = np.array([-1e-10, -1e-10 * (1 + 1e-13), -2e-10])
    np.testing.assert_array_equal(naive_power_law(tiny, math.inf), [0.5, 0.5, 0.0])   # relative ties
    with pytest.raises(ValueError):
        naive_power_law(np.array([-1.0, 0.0]), 2.0)


def test_prior_arrays_rows_and_marginals():
    world = random_world(10, n_humans=2, n_robots=1, n_actions=3, n_goals=2, acyclic=True, horizon=3, seed=5)
    out = naive_phase1(world, EmpoParams(beta_h=2.0))
    live = ~world.terminal
    np.testing.assert_allclose(out["profile"][live].sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(out["profile_fixed_goal"][live].sum(axis=-1), 1.0, atol=1e-14)
    assert not out["profile"][~live].any() and not out["pi_h"][~live].any()
    # summing the fixed-goal profiles of human h with weights w[h, g] gives the marginal profile
    for h in range(2):
        mixed = np.einsum("g,sgk->sk", world.goal_weight[h], out["profile_fixed_goal"][:, h])
        np.testing.assert_allclose(mixed / world.goal_weight[h].sum(), out["profile"], atol=1e-14)
