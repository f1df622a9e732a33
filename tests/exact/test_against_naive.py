"""Every exact kernel against the slow NumPy oracle (tests/oracle/naive.py) and the public reference case.

Tests named ``test_consistency_...`` compare the package with itself (two solvers, or a solver with the
package's own residual); the others compare with the oracle or with the reference's own numbers.
"""
import math

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular import EmpoParams
from empo_tabular.io.reference import compare_with_reference
from oracle.naive import naive_phase1, naive_phase2

FIELDS = et.Phase2Solution.FIELDS


def assert_phase2_close(sol, ref, rtol=1e-12, atol=1e-12):
    for k in FIELDS:
        a, b = getattr(sol, k), ref[k]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=k)


WORLDS = [
    dict(n_states=25, n_humans=1, n_robots=1, n_actions=3, n_goals=3, acyclic=True, horizon=5, seed=1),
    dict(n_states=40, n_humans=2, n_robots=1, n_actions=2, n_goals=3, acyclic=True, horizon=6, seed=2,
         terminal_prob=0.1),
    dict(n_states=30, n_humans=2, n_robots=2, n_actions=2, n_goals=2, acyclic=True, horizon=4, seed=3),
    dict(n_states=20, n_humans=1, n_robots=1, n_actions=3, n_goals=4, acyclic=False, seed=4),
    dict(n_states=24, n_humans=2, n_robots=1, n_actions=2, n_goals=2, acyclic=False, seed=5, terminal_prob=0.15),
    dict(n_states=15, n_humans=3, n_robots=1, n_actions=2, n_goals=2, acyclic=False, seed=6, concentration=0.2),
]


@pytest.mark.parametrize("spec", WORLDS, ids=lambda d: f"{'dag' if d['acyclic'] else 'cyc'}-s{d['seed']}")
@pytest.mark.parametrize("beta_r", [0.0, 3.0, 40.0])
def test_phase1_and_phase2_match_oracle(spec, beta_r):
    w = et.random_world(**spec)
    p = EmpoParams(beta_h=4.0, gamma_h=0.85, beta_r=beta_r, gamma_r=0.9, zeta=1.5, xi=1.2, eta=1.1, c_r=0.8)
    prior = et.solve_phase1(w, p)
    ref1 = naive_phase1(w, p)
    for k in ("pi_h", "V_h_m", "profile", "profile_fixed_goal"):
        np.testing.assert_allclose(getattr(prior, k), ref1[k], rtol=1e-12, atol=1e-12, err_msg=k)
    sol = et.solve_phase2(w, prior, p)
    ref2 = naive_phase2(w, ref1["profile"], ref1["profile_fixed_goal"], p)
    assert_phase2_close(sol, ref2, rtol=1e-10 if not w.is_acyclic else 1e-12)


def test_belief_and_optimistic_match_oracle():
    w = et.random_world(30, n_humans=2, n_actions=3, n_goals=2, acyclic=True, horizon=5, seed=8)
    rng = np.random.default_rng(0)
    belief = rng.dirichlet(np.ones(3), size=(w.n_states, 2))
    p = EmpoParams(beta_h=2.0, gamma_h=0.9)
    for optimistic in (False, True):
        prior = et.solve_phase1(w, p, belief=belief, optimistic=optimistic)
        ref = naive_phase1(w, p, belief=belief, optimistic=optimistic)
        np.testing.assert_allclose(prior.pi_h, ref["pi_h"], atol=1e-13)
        np.testing.assert_allclose(prior.V_h_m, ref["V_h_m"], atol=1e-13)


@pytest.mark.parametrize("beta_h", [0.0, math.inf])
def test_phase1_extreme_beta_h_matches_oracle(beta_h):
    w = et.random_world(30, n_humans=2, n_actions=3, n_goals=3, acyclic=True, horizon=6, seed=9)
    p = EmpoParams(beta_h=beta_h, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    ref = naive_phase1(w, p)
    np.testing.assert_allclose(prior.pi_h, ref["pi_h"], atol=1e-14)


@pytest.mark.parametrize("method", ["newton", "picard"])
@pytest.mark.parametrize("seed", [1, 2])
def test_consistency_fixed_point_solvers_agree_with_backward_sweep(method, seed):
    w = et.random_world(40, n_humans=2, n_goals=3, acyclic=True, horizon=6, seed=seed)
    p = EmpoParams(beta_r=8.0, gamma_r=0.95, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    sweep = et.solve_phase2(w, prior, p)
    fixed = et.solve_phase2(w, prior, p, method=method, tol=1e-13)
    assert fixed.method.startswith(method)
    for k in FIELDS:
        np.testing.assert_allclose(getattr(fixed, k), getattr(sweep, k), rtol=1e-10, atol=1e-12, equal_nan=True,
                                   err_msg=k)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_consistency_cyclic_solution_satisfies_every_equation(seed):
    w = et.random_world(60, n_humans=2, n_goals=3, acyclic=False, seed=seed, terminal_prob=0.05)
    p = EmpoParams(beta_r=10.0, gamma_r=0.95, gamma_h=0.95)
    prior = et.solve_phase1(w, p)
    assert prior.converged and prior.residual <= 1e-12
    sol = et.solve_phase2(w, prior, p)
    res = et.phase2_residuals(w, prior, p, sol.Q_r, sol.V_h_e, sol.X_h, sol.U_r, sol.V_r, sol.pi_r)
    assert res["max"] <= 1e-10, res
    assert sol.residual == res["max"] and sol.converged


def test_consistency_newton_and_picard_agree_on_cyclic_world():
    w = et.random_world(50, n_humans=2, n_goals=2, acyclic=False, seed=21)
    p = EmpoParams(beta_r=5.0, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    a = et.solve_phase2(w, prior, p, method="newton")
    b = et.solve_phase2(w, prior, p, method="picard", tol=1e-13)
    for k in FIELDS:
        np.testing.assert_allclose(a.__dict__[k], b.__dict__[k], rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=k)


# ---------------------------------------------------------------- the public reference case (issue acceptance)
def test_public_case_fp16_matches_reference(public_case):
    dev = compare_with_reference(public_case, "reference_fp16")
    for k in ("V_r", "Q_r", "X_h", "U_r", "pi_r", "V_h_e", "pi_h", "V_h_m", "profile", "profile_fixed_goal"):
        assert dev[k] <= 1e-10, (k, dev[k])


def test_public_case_float64_within_float16_precision(public_case):
    dev = compare_with_reference(public_case, "float64")
    assert dev["V_h_e"] <= 2e-3
    assert dev["V_r"] <= 5e-4
    assert dev["pi_r"] <= 2e-3
    # and it is not *identical*: the float16 storage makes a visible difference
    assert dev["V_r"] > 1e-7


def test_public_case_matches_oracle(public_case):
    c = public_case
    sol = et.solve_phase2(c.world, c.prior, c.params)
    ref = naive_phase2(c.world, c.prior.profile, c.prior.profile_fixed_goal, c.params)
    assert_phase2_close(sol, ref, rtol=1e-12, atol=1e-12)


def test_public_case_without_c_r_is_detectably_wrong(public_case):
    """The comparison is sensitive: dropping c_r moves V_r by ~5e-3 relative (docs/REFERENCE_FORMAT.md)."""
    c = public_case
    wrong = c.params.replace(c_r=1.0)
    sol = et.solve_phase2(c.world, c.prior, wrong, "reference_fp16")
    rel = np.max(np.abs(sol.V_r - c.reference["ref_Vr"]) / np.abs(c.reference["ref_Vr"]))
    assert rel > 1e-3
