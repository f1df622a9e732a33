"""Property suite, part 1: P1-P6 of CONTRACTION_THEORY.md §6 (part 2: tests/contraction/test_properties_maps.py).

P1 power-law algebra, P2 policy Lipschitz bound, P3 soft value, P4 beta = 0 contraction of the
reduced map, P5 ranges and invariant sets, P6 nested-fixed-point consistency.  Inputs come from
the public strategies of :mod:`empo_tabular.testing`; example counts come from the loaded
hypothesis profile (``HYPOTHESIS_PROFILE=ci|dev|thorough``, see conftest.py).  Every expected
value is analytic or computed independently of the code under test (NumPy formulas written from
the equations, never the solver's own output).
"""
import itertools
import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import empo_tabular as et
from empo_tabular.contraction import analyze_map
from empo_tabular.sa.engine import run_sa
from empo_tabular.sa.config import SAConfig
from empo_tabular.testing import betas, params, power_law_inputs, q_tables, worlds
from oracle.property_tools import ReducedMap, dense_policy_evaluation, robot_transition, solve

pl = et.power_law_policy


def soft_value(Q, beta):
    """f(Q) = sum_a pi_a(Q) Q_a, row by row."""
    return np.sum(pl(Q, beta) * Q, axis=-1)


# ============================================================================================ P1
@given(power_law_inputs(max_actions=6, min_magnitude=1e-300, max_magnitude=1e300))
def test_p1_distribution_and_finiteness_at_extremes(case):
    Q, beta = case
    pi = pl(Q, beta)
    assert np.all(np.isfinite(pi)) and np.all(pi >= 0)
    assert abs(pi.sum() - 1.0) <= 1e-12


@given(power_law_inputs(), st.floats(-12, 12), st.data())
def test_p1_scale_invariance_global_and_per_state(case, log_c, data):
    Q, beta = case
    c = 10.0 ** log_c
    np.testing.assert_allclose(pl(c * Q, beta), pl(Q, beta), rtol=0, atol=1e-12)
    table = data.draw(q_tables(st.integers(1, 4), st.integers(1, 5)))
    cs = 10.0 ** np.asarray(data.draw(st.lists(st.floats(-12, 12), min_size=table.shape[0],
                                               max_size=table.shape[0])))
    np.testing.assert_allclose(pl(cs[:, None] * table, beta), pl(table, beta), rtol=0, atol=1e-12)


@given(power_law_inputs(min_magnitude=1e-6, max_magnitude=1e6))
def test_p1_log_odds_and_monotonicity(case):
    Q, beta = case
    pi = pl(Q, beta)
    for a, b in itertools.permutations(range(Q.size), 2):
        if pi[a] > 1e-290 and pi[b] > 1e-290:  # both representable: the log-odds are exact
            rhs = beta * math.log(Q[b] / Q[a])
            assert abs(math.log(pi[a] / pi[b]) - rhs) <= 1e-9 * max(1.0, abs(rhs))
        if Q[a] >= Q[b]:  # less negative Q, larger probability
            assert pi[a] >= pi[b] * (1 - 1e-12)


@given(q_tables(st.integers(1, 4), st.integers(1, 6), min_magnitude=1e-300, max_magnitude=1e300))
def test_p1_beta_zero_is_uniform(Q):
    np.testing.assert_allclose(pl(Q, 0.0), np.full(Q.shape, 1.0 / Q.shape[1]), rtol=0, atol=1e-15)


# ============================================================================================ P2
def hilbert_distance(Q, Qp):
    r = np.log(Q / Qp)
    return float(r.max() - r.min())


@given(power_law_inputs(), st.data())
def test_p2_policy_lipschitz_in_hilbert_metric(case, data):
    Q, beta = case
    Qp = data.draw(q_tables(1, Q.size))[0]
    lhs = np.abs(pl(Q, beta) - pl(Qp, beta)).sum()
    assert lhs <= beta / 2 * hilbert_distance(Q, Qp) + 1e-12


def inf_to_one_norm(J):
    """max over sign vectors v of ||J v||_1 (exact for small n)."""
    n = J.shape[1]
    return max(np.abs(J @ np.array(v)).sum() for v in itertools.product((-1.0, 1.0), repeat=n))


@given(power_law_inputs(max_actions=5, max_beta=200.0))
def test_p2_jacobian_bound_by_finite_differences(case):
    Q, beta = case
    assume(Q.size >= 2)
    n = Q.size
    J = np.empty((n, n))
    for b in range(n):
        h = 1e-6 * abs(Q[b])
        up, dn = Q.copy(), Q.copy()
        up[b] -= h  # stays negative: steps relative to |Q_b|
        dn[b] += h
        J[:, b] = (pl(up, beta) - pl(dn, beta)) / (-2 * h)
    bound = beta / np.min(np.abs(Q))
    # FD error of a central difference with relative step 1e-6: O(1e-6) relative to the bound
    assert inf_to_one_norm(J) <= bound * (1 + 1e-6) + 1e-9
    # and the analytic Jacobian beta pi_a (delta_ab - pi_b) / |Q_b| matches the FD one
    pi = pl(Q, beta)
    exact = beta * (np.diag(pi) - np.outer(pi, pi)) / np.abs(Q)[None, :]
    np.testing.assert_allclose(J, exact, rtol=1e-4, atol=1e-6 * max(bound, 1e-300))


# ============================================================================================ P3
@given(power_law_inputs(), st.floats(-6, 6))
def test_p3_soft_value_is_homogeneous(case, log_c):
    Q, beta = case
    c = 10.0 ** log_c
    f = soft_value(Q, beta)
    assert abs(soft_value(c * Q, beta) - c * f) <= 1e-12 * abs(c * f)


@given(power_law_inputs(max_beta=200.0), st.floats(1e-3, 1e3))
def test_p3_soft_value_expands_along_the_constant_direction(case, c):
    Q, beta = case
    f, fs = soft_value(Q, beta), soft_value(Q - c, beta)
    scale = max(abs(f), c)
    assert fs <= f - c + 1e-12 * scale
    if beta == 0.0 or np.all(Q == Q[0]):
        assert abs(fs - (f - c)) <= 1e-12 * scale


@given(power_law_inputs(), st.data())
def test_p3_thompson_non_expansion_for_beta_at_most_one(case, data):
    Q, _ = case
    beta = data.draw(st.floats(0.0, 1.0))
    Qp = data.draw(q_tables(1, Q.size))[0]
    lhs = abs(math.log(-soft_value(Q, beta)) - math.log(-soft_value(Qp, beta)))
    rhs = float(np.max(np.abs(np.log(-Q) - np.log(-Qp))))
    assert lhs <= rhs * (1 + 1e-12) + 1e-13


# ============================================================================================ P4
@given(worlds(max_states=6), params(beta_r=0.0), st.data())
def test_p4_beta_zero_reduced_map_is_a_gamma_contraction(world, p, data):
    prior, sol = solve(world, p)
    R = ReducedMap(world, prior, p)
    live = ~world.terminal
    Pr = robot_transition(world, prior)
    to_live = Pr[:, :, live].sum(axis=2)[live]  # P(non-terminal successor | s, a)
    k = p.gamma_r * to_live.max()
    n_live = int(live.sum())
    # random pairs
    for _ in range(3):
        Q1 = data.draw(q_tables(n_live, world.n_ar, min_magnitude=1e-3, max_magnitude=1e3)).ravel()
        Q2 = data.draw(q_tables(n_live, world.n_ar, min_magnitude=1e-3, max_magnitude=1e3)).ravel()
        g1, g2 = R(Q1), R(Q2)
        tiny = 1e-13 * max(np.abs(g1).max(), np.abs(g2).max())
        assert np.abs(g1 - g2).max() <= k * np.abs(Q1 - Q2).max() * (1 + 1e-10) + tiny
        # shift: G(Q + c 1) = G(Q) + gamma_r c P_r 1_live
        c = data.draw(st.floats(0.0, 10.0)) * np.abs(Q1).min()
        np.testing.assert_allclose(R(Q1 - c), g1 - c * p.gamma_r * to_live.ravel(), rtol=1e-10,
                                   atol=1e-12 * np.abs(g1).max())
    # the analyzer at the fixed point: every indicator and estimator <= gamma_r * max P(live)
    x = R.x_of(sol.Q_r)
    rep = analyze_map(R, x, n_samples=15, adversarial_starts=2, picard_steps=30, seed=1)
    for name in ("sup_norm", "rho_abs", "rho", "lower_bound_sampled", "lower_bound_adversarial"):
        assert getattr(rep, name) <= k + 1e-6, (name, getattr(rep, name), k)
    if not np.isnan(rep.picard_ratio):
        assert rep.picard_ratio <= k + 1e-3
    if not world.terminal.any():
        assert abs(rep.rho - p.gamma_r) <= 1e-6 and abs(rep.sup_norm - p.gamma_r) <= 1e-6


# ============================================================================================ P5
def power_bounds(world, p):
    W = world.goal_weight.sum(axis=1)
    return W, -np.mean(W ** (-p.xi)) ** p.eta


@given(worlds(max_states=6), params(beta_r=betas(50.0)), st.sampled_from(["synchronous", "uniform", "sweep"]),
       st.sampled_from(["expected", "sampled"]), st.lists(st.floats(0.01, 1.0), min_size=5, max_size=5),
       st.integers(1, 40), st.integers(0, 1000))
def test_p5_ranges_are_invariant_along_sa_runs(world, p, visit, mode, lrs, n_steps, seed):
    prior = et.solve_phase1(world, p)
    cfg = SAConfig(mode=mode, visit=visit, lr_v_h_e=lrs[0], lr_x_h=lrs[1], lr_u_r=lrs[2], lr_q_r=lrs[3],
                   lr_v_r=lrs[4], epsilon_r_start=0.3, epsilon_r_end=0.3)
    res = run_sa(world, prior, p, cfg, n_steps, seed=seed, record_every=n_steps)
    live = ~world.terminal
    W, u_max = power_bounds(world, p)
    assert np.all(res.V_h_e >= -1e-12) and np.all(res.V_h_e <= 1 + 1e-12)
    assert np.all(res.X_h[live] >= -1e-12) and np.all(res.X_h[live] <= W[None, :] * (1 + 1e-12))
    assert np.all(res.U_r[live] <= u_max * (1 - 1e-12))
    assert np.all(res.Q_r[live] < 0) and np.all(np.isfinite(res.Q_r[live]))
    assert np.all(res.V_r < 0)


@given(worlds(max_states=6), params(beta_r=betas(50.0)))
def test_p5_ranges_at_the_exact_solution(world, p):
    prior, sol = solve(world, p)
    live = ~world.terminal
    W, u_max = power_bounds(world, p)
    assert np.all(sol.V_h_e >= 0) and np.all(sol.V_h_e <= 1 + 1e-12)
    assert np.all(sol.X_h[live] >= 0) and np.all(sol.X_h[live] <= W[None, :] * (1 + 1e-12))
    assert np.all(sol.U_r[live] <= u_max * (1 - 1e-12))
    assert np.all(sol.Q_r[live] < 0) and np.all(sol.V_r < 0)
    if not world.terminal.any():  # cyclic, no terminals: Q* in gamma_r c_r [min U, max U] / (1 - gamma_r)
        lo = p.gamma_r * p.c_r * sol.U_r.min() / (1 - p.gamma_r)
        hi = p.gamma_r * p.c_r * sol.U_r.max() / (1 - p.gamma_r)
        assert np.all(sol.Q_r >= lo * (1 + 1e-9)) and np.all(sol.Q_r <= hi * (1 - 1e-9))


# ============================================================================================ P6
@given(worlds(max_states=6), params(beta_r=betas(50.0)))
def test_p6_nested_fixed_point_consistency(world, p):
    prior, sol = solve(world, p)
    live = ~world.terminal
    # V_h^e is exact policy evaluation under pi(Q_r) (independent dense linear solve)
    pi = np.zeros_like(sol.pi_r)
    pi[live] = pl(sol.Q_r[live], p.beta_r)
    np.testing.assert_allclose(sol.pi_r, pi, atol=1e-12)
    VE = dense_policy_evaluation(world, prior, p, pi)
    np.testing.assert_allclose(sol.V_h_e, VE, rtol=1e-8, atol=1e-10)
    # algebraic definitions of X_h, U_r, V_r and Q_r
    X = np.einsum("hg,shg->sh", world.goal_weight, sol.V_h_e ** p.zeta)
    np.testing.assert_allclose(sol.X_h[live], X[live], rtol=1e-10)
    U = -np.mean(sol.X_h[live] ** (-p.xi), axis=1) ** p.eta
    np.testing.assert_allclose(sol.U_r[live], U, rtol=1e-10)
    V = p.c_r * sol.U_r[live] + np.sum(sol.pi_r[live] * sol.Q_r[live], axis=1)
    np.testing.assert_allclose(sol.V_r[live], V, rtol=1e-10)
    np.testing.assert_allclose(sol.V_r[~live], p.terminal_v_r)
    Q = p.gamma_r * np.einsum("sau,u->sa", robot_transition(world, prior), sol.V_r)
    np.testing.assert_allclose(sol.Q_r[live], Q[live], rtol=1e-9)
    # the reduced map has Q_r* as a fixed point
    R = ReducedMap(world, prior, p)
    x = R.x_of(sol.Q_r)
    assert np.max(np.abs(R(x) - x) / np.abs(x)) <= 1e-8
    # a second solver: Newton on acyclic worlds (vs backward induction; the solution is unique, they must agree),
    # Picard on cyclic ones.  Cyclic EMPO worlds can have several fixed points at the same beta_r, and the two
    # continuations may end on different ones; then Picard's answer must still be a genuine fixed point.  Damped
    # iteration cannot reach a fixed point with a real Jacobian eigenvalue >= 1: a loud ConvergenceError from
    # Picard is then the correct outcome (Newton is checked above).
    try:
        other = et.solve_phase2(world, prior, p, method="newton" if world.is_acyclic else "picard", tol=1e-12,
                                max_sweeps=20_000)
    except et.ConvergenceError:
        assert not world.is_acyclic
        other = sol
    same = all(np.allclose(getattr(other, k), getattr(sol, k), rtol=1e-8, atol=1e-10, equal_nan=True)
               for k in et.Phase2Solution.FIELDS)
    if not same:
        assert not world.is_acyclic, "backward induction and Newton disagree on an acyclic world"
        y = R.x_of(other.Q_r)
        assert np.max(np.abs(R(y) - y) / np.abs(y)) <= 1e-8 and other.residual <= 1e-10
    # and SA started at the solution stays there (its fixed point is the exact one)
    cfg = SAConfig(mode="expected", visit="synchronous", lr_q_r=0.5, lr_v_h_e=0.5, lr_x_h=0.5)
    res = run_sa(world, prior, p, cfg, 5, exact=sol, initial=sol, record_every=5)
    for k, err in res.final_errors().items():
        assert err <= 1e-9, (k, err)
