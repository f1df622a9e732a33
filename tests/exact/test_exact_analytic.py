"""Exact solvers against cases solved by hand, error conditions and extreme parameters."""
import math

import numpy as np
import pytest
from scipy.optimize import brentq

import empo_tabular as et
from empo_tabular import EmpoParams, HumanPrior, TabularWorld
from empo_tabular.exact.system import check_phase2_inputs
from oracle.naive import naive_phase1, naive_phase2


def dag_world():
    """0 -> {1 (robot action 0), 2 (action 1)}; 1 -> 3; 2 -> 3 or 4 (action 0, 1/2 each) or 4 (action 1).

    States 3, 4 terminal.  Two humans, one action each.  Human 0 has one goal,
    achieved in 3; human 1 has goals "in 4" (w 0.25) and "in 1" (w 0.75).
    """
    S = 5
    T = np.zeros((S, 2, 1, S))
    T[0, 0, 0, 1] = 1.0
    T[0, 1, 0, 2] = 1.0
    T[1, :, 0, 3] = 1.0
    T[2, 0, 0, 3] = T[2, 0, 0, 4] = 0.5
    T[2, 1, 0, 4] = 1.0
    achieved = np.zeros((2, 2, S), dtype=bool)
    achieved[0, 0, 3] = True
    achieved[1, 0, 4] = True
    achieved[1, 1, 1] = True
    weight = np.array([[1.0, 0.0], [0.25, 0.75]])
    return TabularWorld.from_dense(T, [False, False, False, True, True], [[0, 0]], achieved, weight,
                                   goal_count=[1, 2])


def test_dag_world_state1_has_no_power_for_human1():
    w = dag_world()
    prior = HumanPrior.from_profiles(w, np.ones((5, 1)), np.ones((5, 2, 2, 1)))
    with pytest.raises(et.XhZeroError, match="X_h = 0 at state 1 for human 1") as info:
        et.solve_phase2(w, prior, EmpoParams())
    assert (info.value.state, info.value.human) == (1, 1)


def chain_world():
    """0 -> 1 (robot a0) or 2 (a1); 1 -> 3 (goal A, terminal) or 4; 2 -> 3 or 4 (50/50 under a0), 4 under a1.

    One human (one action) with goals A (in 3, w 0.6) and B (in 4, w 0.4).
    From 1 the robot picks 3 (a0) or 4 (a1).
    """
    S = 5
    T = np.zeros((S, 2, 1, S))
    T[0, 0, 0, 1] = 1.0
    T[0, 1, 0, 2] = 1.0
    T[1, 0, 0, 3] = 1.0
    T[1, 1, 0, 4] = 1.0
    T[2, 0, 0, 3] = T[2, 0, 0, 4] = 0.5
    T[2, 1, 0, 4] = 1.0
    achieved = np.zeros((1, 2, S), dtype=bool)
    achieved[0, 0, 3] = True
    achieved[0, 1, 4] = True
    return TabularWorld.from_dense(T, [False, False, False, True, True], [[0]], achieved, [[0.6, 0.4]])


@pytest.mark.parametrize("beta_r", [0.0, 0.7, 4.0, math.inf])
@pytest.mark.parametrize("numerics", ["float64", "reference_fp16"])
def test_chain_world_by_hand(beta_r, numerics):
    p = EmpoParams(beta_r=beta_r, gamma_r=0.9, gamma_h=0.8, zeta=2.0, xi=1.3, eta=1.1, c_r=0.7, terminal_v_r=-1e-3)
    w = chain_world()
    prior = et.solve_phase1(w, p, numerics)
    np.testing.assert_array_equal(prior.profile[:3], 1.0)
    sol = et.solve_phase2(w, prior, p, numerics)

    def pl(q):
        return np.asarray(et.power_law_policy(np.asarray(q), beta_r))

    gr, gh, z, xi, eta, c, t = p.gamma_r, p.gamma_h, p.zeta, p.xi, p.eta, p.c_r, p.terminal_v_r
    rnd = (lambda x: float(np.float16(x))) if numerics == "reference_fp16" else (lambda x: x)
    # states 1 and 2: Q equal (both actions end in a terminal state) -> uniform
    Ve1 = np.array([0.5, 0.5])  # goal A via a0, goal B via a1
    Ve2 = np.array([0.5 * 0.5, 0.5 * 0.5 + 0.5])
    X1, X2 = 0.6 * Ve1[0] ** z + 0.4 * Ve1[1] ** z, 0.6 * Ve2[0] ** z + 0.4 * Ve2[1] ** z
    U1, U2 = -(X1 ** (-xi)) ** eta, -(X2 ** (-xi)) ** eta
    V1, V2 = c * U1 + gr * t, c * U2 + gr * t
    Q0 = np.array([gr * V1, gr * V2])
    pi0 = pl(Q0)
    Ve0 = np.array([pi0[0] * gh * rnd(Ve1[0]) + pi0[1] * gh * rnd(Ve2[0]),
                    pi0[0] * gh * rnd(Ve1[1]) + pi0[1] * gh * rnd(Ve2[1])])
    X0 = 0.6 * Ve0[0] ** z + 0.4 * Ve0[1] ** z
    U0 = -(X0 ** (-xi)) ** eta
    V0 = c * U0 + pi0 @ Q0
    np.testing.assert_allclose(sol.Q_r[0], Q0, rtol=1e-13)
    np.testing.assert_allclose(sol.pi_r[0], pi0, atol=1e-14)
    np.testing.assert_allclose(sol.pi_r[1:3], 0.5, atol=1e-15)
    np.testing.assert_allclose(sol.V_h_e[0, 0], [rnd(v) for v in Ve0], atol=1e-14)
    np.testing.assert_allclose(sol.X_h[:3, 0], [X0, X1, X2], rtol=1e-13)
    np.testing.assert_allclose(sol.U_r[:3], [U0, U1, U2], rtol=1e-13)
    np.testing.assert_allclose(sol.V_r, [V0, V1, V2, t, t], rtol=1e-13)
    assert np.all(np.isnan(sol.Q_r[3:])) and np.all(sol.pi_r[3:] == 0) and np.all(sol.V_h_e[3:] == 0)
    if beta_r == math.inf:
        assert pi0[np.argmax(Q0)] == 1.0


def test_chain_world_phase1_by_hand():
    """Phase 1 at state 0: the robot minimises; goal A from 0 is blocked by a1 (2 -> 4 under a1)."""
    p = EmpoParams(beta_h=3.0, gamma_h=0.8)
    w = chain_world()
    prior = et.solve_phase1(w, p)
    # the human has a single action: pi_h = 1 wherever the goal does not hold yet
    np.testing.assert_array_equal(prior.pi_h[:3, 0, :, 0], 1.0)
    # state 1: min over robot of reaching 3 (A): a1 sends to 4 -> 0; B: a0 sends to 3 -> 0
    np.testing.assert_array_equal(prior.V_h_m[1, 0], [0.0, 0.0])
    # state 2: A: a1 -> 4 gives 0; B: a0 gives 0.5, a1 gives 1 -> min 0.5
    np.testing.assert_allclose(prior.V_h_m[2, 0], [0.0, 0.5])
    # state 0: successors not achieving; min over a_r of gamma_h V(s')
    np.testing.assert_allclose(prior.V_h_m[0, 0], [0.0, 0.8 * 0.0])
    opt = et.solve_phase1(w, p, optimistic=True)
    np.testing.assert_allclose(opt.V_h_m[2, 0], [0.5, 1.0])
    np.testing.assert_allclose(opt.V_h_m[0, 0], [0.8 * 1.0, 0.8 * 1.0])


def test_phase1_softmax_by_hand():
    """One state, human with 3 actions reaching the goal with probabilities 0.2, 0.5, 0.9 (robot irrelevant)."""
    S = 3
    T = np.zeros((S, 1, 3, S))
    for a, q in enumerate([0.2, 0.5, 0.9]):
        T[0, 0, a, 1] = q
        T[0, 0, a, 2] = 1 - q
    achieved = np.zeros((1, 1, S), dtype=bool)
    achieved[0, 0, 1] = True
    w = TabularWorld.from_dense(T, [False, True, True], [[0], [1], [2]], achieved, [[1.0]])
    for beta in (0.0, 2.5, math.inf):
        prior = et.solve_phase1(w, EmpoParams(beta_h=beta))
        q = np.array([0.2, 0.5, 0.9])
        e = np.exp(beta * (q - q.max())) if math.isfinite(beta) else (q == q.max()).astype(float)
        pi = e / e.sum()
        np.testing.assert_allclose(prior.pi_h[0, 0, 0], pi, atol=1e-15)
        np.testing.assert_allclose(prior.V_h_m[0, 0, 0], pi @ q, atol=1e-15)


def cycle_world():
    """Stationary: from 0 the robot moves to 1 (a0) or stays (a1); from 1 everything returns to 0.

    One human (one action), one goal: being in state 1.
    """
    T = np.zeros((2, 2, 1, 2))
    T[0, 0, 0, 1] = 1.0
    T[0, 1, 0, 0] = 1.0
    T[1, :, 0, 0] = 1.0
    achieved = np.array([[[False, True]]])
    return TabularWorld.from_dense(T, [False, False], [[0]], achieved, [[1.0]])


@pytest.mark.parametrize("method", ["auto", "newton"])
@pytest.mark.parametrize("beta_r", [0.0, 0.5, 2.0, 20.0])
def test_cyclic_world_by_hand(beta_r, method):
    """Reduce the fixed point to one equation in pi = pi_r(a0|0) and solve it with brentq."""
    p = EmpoParams(beta_r=beta_r, gamma_r=0.8, gamma_h=0.7, zeta=1.5, xi=1.0, eta=1.2, c_r=1.0)
    gr, gh, z, eta = p.gamma_r, p.gamma_h, p.zeta, p.eta

    def solve_given(pi):
        ve0 = pi / (1 - (1 - pi) * gh)  # V(0) = pi * 1 + (1 - pi) * gh * V(0)
        ve1 = gh * ve0
        U0, U1 = -(ve0 ** (-z)) ** eta, -(ve1 ** (-z)) ** eta
        # V0 = U0 + gr (pi V1 + (1-pi) V0),  V1 = U1 + gr V0
        A = np.array([[1 - gr * (1 - pi), -gr * pi], [-gr, 1.0]])
        V0, V1 = np.linalg.solve(A, [U0, U1])
        return ve0, ve1, U0, U1, V0, V1

    def gap(pi):
        *_, V0, V1 = solve_given(pi)
        q = np.array([gr * V1, gr * V0])
        return (-q[0]) ** (-beta_r) / ((-q[0]) ** (-beta_r) + (-q[1]) ** (-beta_r)) - pi

    pi = brentq(gap, 1e-9, 1 - 1e-9, xtol=1e-15, rtol=1e-15)
    ve0, ve1, U0, U1, V0, V1 = solve_given(pi)
    prior = et.solve_phase1(cycle_world(), p)
    sol = et.solve_phase2(cycle_world(), prior, p, method=method)
    assert sol.method == {"auto": "anderson_continuation", "newton": "newton_continuation"}[method] and sol.converged
    np.testing.assert_allclose(sol.pi_r[0, 0], pi, atol=1e-12)
    np.testing.assert_allclose(sol.V_h_e[:, 0, 0], [ve0, ve1], atol=1e-12)
    np.testing.assert_allclose(sol.V_r, [V0, V1], rtol=1e-12)
    np.testing.assert_allclose(sol.Q_r[0], [gr * V1, gr * V0], rtol=1e-12)


# ---------------------------------------------------------------- errors
def test_prior_must_fit_world():
    w = chain_world()
    prior = et.solve_phase1(cycle_world(), EmpoParams())
    with pytest.raises(ValueError, match=r"prior.profile has shape \(2, 1\), the world needs \(5, 1\)"):
        et.solve_phase2(w, prior, EmpoParams())


def test_prior_profile_not_a_distribution():
    w = chain_world()
    prof = np.ones((5, 1))
    prof[1, 0] = 0.9
    with pytest.raises(ValueError, match=r"profile with shape \(5, 1\): the distribution at \[1\] sums to 0.9"):
        HumanPrior.from_profiles(w, prof, np.ones((5, 1, 2, 1)))


def test_unknown_numerics():
    with pytest.raises(ValueError, match="numerics must be one of"):
        et.solve_phase1(chain_world(), EmpoParams(), "float32")


def test_unknown_method():
    w = chain_world()
    prior = et.solve_phase1(w, EmpoParams())
    with pytest.raises(ValueError, match="method must be one of"):
        et.solve_phase2(w, prior, EmpoParams(), method="magic")


def test_backward_sweep_needs_acyclic():
    w = cycle_world()
    prior = et.solve_phase1(w, EmpoParams())
    with pytest.raises(ValueError, match="needs an acyclic world"):
        et.solve_phase2(w, prior, EmpoParams(), method="backward_sweep")


def test_fp16_needs_acyclic():
    with pytest.raises(ValueError, match="reference_fp16"):
        et.solve_phase1(cycle_world(), EmpoParams(), "reference_fp16")


def test_wrong_types():
    with pytest.raises(TypeError, match="world must be a TabularWorld"):
        et.solve_phase1("world", EmpoParams())
    with pytest.raises(TypeError, match="params must be an EmpoParams"):
        et.solve_phase1(chain_world(), {"beta_r": 1})


def test_gamma_r_one_on_cyclic_world_is_refused_up_front():
    """gamma_r = 1 on a world that can cycle forever: no solution; refused before any iteration."""
    w = cycle_world()
    p = EmpoParams(gamma_r=1.0, gamma_h=0.5)
    prior = et.solve_phase1(w, p)
    with pytest.raises(ValueError, match=r"gamma_r = 1 on a cyclic world is not supported: .*V_r .* unbounded"):
        et.solve_phase2(w, prior, p)


def test_gamma_h_one_on_cyclic_world_is_refused_in_phase1():
    with pytest.raises(ValueError, match=r"gamma_h = 1 on a cyclic world is not supported: .*V_h\^m"):
        et.solve_phase1(cycle_world(), EmpoParams(gamma_h=1.0, gamma_r=0.5))


def test_gamma_h_one_on_cyclic_world_is_refused_in_phase2():
    """V_h^e also uses gamma_h: a prior computed at gamma_h < 1 does not let Phase 2 run at gamma_h = 1."""
    w = cycle_world()
    prior = et.solve_phase1(w, EmpoParams(gamma_h=0.5, gamma_r=0.5))
    with pytest.raises(ValueError, match="gamma_h = 1 on a cyclic world"):
        check_phase2_inputs(w, prior, EmpoParams(gamma_h=1.0, gamma_r=0.5))


def test_non_convergence_is_loud():
    """A cyclic world whose greedy (beta_r = inf) map has no fixed point: an error, or a warning with strict=False."""
    w = et.random_world(30, n_humans=2, n_goals=2, seed=11)
    p = EmpoParams(beta_r=math.inf, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        sol = et.solve_phase2(w, prior, p, strict=False)
    assert not sol.converged and sol.status == 1


# ---------------------------------------------------------------- extremes
def assert_matches_oracle(sol, ref, tol=1e-12):
    """Every Phase 2 array against the NumPy oracle: relative for Q_r, X_h, U_r, V_r, absolute for pi_r, V_h^e."""
    for k in et.Phase2Solution.FIELDS:
        a, b = getattr(sol, k), ref[k]
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{k}: NaN pattern differs"
        ok = ~np.isnan(b)
        if k in ("Q_r", "X_h", "U_r", "V_r"):
            np.testing.assert_allclose(a[ok], b[ok], rtol=tol, atol=0, err_msg=k)
        else:
            np.testing.assert_allclose(a[ok], b[ok], rtol=0, atol=tol, err_msg=k)


@pytest.mark.parametrize("beta_r", [0.0, 1e-8, 1e6, 1e300, math.inf])
def test_extreme_beta_acyclic(public_case, beta_r):
    p = public_case.params.replace(beta_r=beta_r)
    sol = et.solve_phase2(public_case.world, public_case.prior, p)
    ref = naive_phase2(public_case.world, public_case.prior.profile, public_case.prior.profile_fixed_goal, p)
    assert_matches_oracle(sol, ref)
    live = ~sol.terminal
    np.testing.assert_allclose(sol.pi_r[live].sum(axis=1), 1.0, atol=1e-12)
    if beta_r >= 1e6:
        # (near-)greedy: an action 1e-4 worse (relative) keeps at most (1 + 1e-4)^(-1e6) ~ e^-100
        worse = sol.Q_r[live] < sol.Q_r[live].max(axis=1, keepdims=True) * (1 + 1e-4)
        assert sol.pi_r[live][worse].max(initial=0.0) < 1e-12


@pytest.mark.parametrize("beta_r", [0.0, 1e6, math.inf])
def test_extreme_beta_cyclic(beta_r):
    w = et.random_world(30, n_humans=2, n_goals=2, seed=1)
    p = EmpoParams(beta_r=beta_r, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    sol = et.solve_phase2(w, prior, p)
    assert sol.converged and sol.residual <= 1e-10
    assert np.all(np.isfinite(sol.Q_r)) and np.all(sol.Q_r < 0)
    if beta_r == math.inf:
        best = sol.Q_r >= sol.Q_r.max(axis=1, keepdims=True) * (1 + 1e-12)
        assert np.all(sol.pi_r[~best] == 0.0)


def test_greedy_without_fixed_point_is_reported():
    """On this world policy iteration on the greedy map does not settle: say so, do not return a guess."""
    w = et.random_world(30, n_humans=2, n_goals=2, seed=11)
    p = EmpoParams(beta_r=math.inf, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    with pytest.raises(et.ConvergenceError, match="policy iteration on the greedy map"):
        et.solve_phase2(w, prior, p)


def test_phase1_beta_h_inf_cyclic():
    w = et.random_world(30, n_humans=2, n_goals=2, seed=1)
    prior = et.solve_phase1(w, EmpoParams(beta_h=math.inf, gamma_h=0.9))
    assert prior.converged and prior.residual <= 1e-12
    pi = prior.pi_h
    assert np.all((pi == 0) | (pi == 1) | (pi == 0.5) | (np.abs(pi - 1 / 3) < 1e-15))


def test_gamma_one_acyclic(public_case):
    """gamma_r = gamma_h = 1 on the acyclic public case: Phase 1 and Phase 2 against the oracle."""
    p = public_case.params.replace(gamma_r=1.0, gamma_h=1.0, c_r=1.0)
    prior = et.solve_phase1(public_case.world, p)
    ref1 = naive_phase1(public_case.world, p)
    for k in ("pi_h", "V_h_m", "profile", "profile_fixed_goal"):
        np.testing.assert_allclose(getattr(prior, k), ref1[k], rtol=0, atol=1e-12, err_msg=k)
    sol = et.solve_phase2(public_case.world, prior, p)
    assert_matches_oracle(sol, naive_phase2(public_case.world, ref1["profile"], ref1["profile_fixed_goal"], p))
    # without discounting V_h^e is a probability of achieving the goal
    assert np.all((sol.V_h_e >= 0) & (sol.V_h_e <= 1 + 1e-12))


@pytest.mark.parametrize("tv", [-1e-300, -1e-10, -1e300])
def test_extreme_terminal_value(public_case, tv):
    p = public_case.params.replace(terminal_v_r=tv)
    sol = et.solve_phase2(public_case.world, public_case.prior, p)
    ref = naive_phase2(public_case.world, public_case.prior.profile, public_case.prior.profile_fixed_goal, p)
    assert_matches_oracle(sol, ref)
    assert np.all(sol.V_r[sol.terminal] == tv)
