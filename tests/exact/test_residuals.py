"""Negative controls for the residuals: a perturbed solution must give a large residual, of the size worked out by hand.

``phase2_residuals`` (equations (4)-(9)) and ``phase1_residuals`` (equations (1)-(3)) are what every solver and
the SA trace report as "residual"; a residual that returned 0 would pass every test that only looks at solutions.
"""
import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.exact.phase1 import phase1_residuals
from empo_tabular.exact.system import phase2_residuals
from oracle.naive import naive_phase2_apply, phase1_state, state_blocks


@pytest.fixture(scope="module")
def solved():
    w = et.random_world(25, n_humans=2, n_goals=2, seed=3)
    p = et.EmpoParams(beta_h=3.0, gamma_h=0.85, beta_r=4.0, gamma_r=0.9, zeta=1.5, xi=1.2, eta=1.1, c_r=0.8)
    prior = et.solve_phase1(w, p)
    return w, p, prior, et.solve_phase2(w, prior, p)


def _arrays(sol):
    return {k: getattr(sol, k).copy() for k in ("Q_r", "V_h_e", "X_h", "U_r", "V_r", "pi_r")}


def _res(w, p, prior, a):
    return phase2_residuals(w, prior, p, a["Q_r"], a["V_h_e"], a["X_h"], a["U_r"], a["V_r"], a["pi_r"])


def test_phase2_residual_of_the_solution_is_tiny(solved):
    w, p, prior, sol = solved
    assert _res(w, p, prior, _arrays(sol))["max"] <= 1e-10


def test_phase2_residual_sees_a_scaled_q_row(solved):
    """Q_r(s, .) * 1.01 at one state: Q_r' = gamma_r E[V_r] is unchanged there, so the relative residual is 0.01/1.01."""
    w, p, prior, sol = solved
    a = _arrays(sol)
    s = int(np.flatnonzero(~w.terminal)[0])
    a["Q_r"][s] *= 1.01
    r = _res(w, p, prior, a)
    assert r["Q_r"] == pytest.approx(0.01 / 1.01, rel=1e-8)
    assert r["max"] >= r["Q_r"]


def test_phase2_residual_sees_a_scaled_u_r(solved):
    """U_r(s) * 1.02: U_r' from the unchanged X_h, relative residual 0.02/1.02."""
    w, p, prior, sol = solved
    a = _arrays(sol)
    s = int(np.flatnonzero(~w.terminal)[1])
    a["U_r"][s] *= 1.02
    assert _res(w, p, prior, a)["U_r"] == pytest.approx(0.02 / 1.02, rel=1e-8)


def test_phase2_residual_sees_a_shifted_policy(solved):
    """pi_r with 0.1 moved between two actions at one state: pi_r' = power law of the unchanged Q_r, residual 0.1."""
    w, p, prior, sol = solved
    a = _arrays(sol)
    s = int(np.flatnonzero(~w.terminal)[2])
    i, j = np.argsort(a["pi_r"][s])[[-1, 0]]
    a["pi_r"][s, i] -= 0.1
    a["pi_r"][s, j] += 0.1
    assert _res(w, p, prior, a)["pi_r"] == pytest.approx(0.1, rel=1e-10)


def test_phase2_residual_equals_the_oracle_at_perturbed_arrays(solved):
    """Every component against the NumPy oracle's Jacobi application, at arrays perturbed everywhere."""
    w, p, prior, sol = solved
    rng = np.random.default_rng(0)
    a = _arrays(sol)
    live = ~w.terminal
    a["Q_r"][live] *= rng.uniform(0.9, 1.1, a["Q_r"][live].shape)
    a["V_h_e"][live] = np.clip(a["V_h_e"][live] + rng.uniform(-0.05, 0.05, a["V_h_e"][live].shape), 0.01, 1.0)
    a["X_h"][live] *= rng.uniform(0.9, 1.1, a["X_h"][live].shape)
    a["U_r"][live] *= rng.uniform(0.9, 1.1, live.sum())
    a["V_r"][live] *= rng.uniform(0.9, 1.1, live.sum())
    r = _res(w, p, prior, a)
    o = naive_phase2_apply(w, prior.profile, prior.profile_fixed_goal, p, a["Q_r"], a["V_h_e"], a["X_h"], a["U_r"],
                           a["V_r"])
    real = (np.arange(w.n_goals)[None, :] < w.goal_count[:, None])[None] & live[:, None, None]

    def rel(new, old):
        return float(np.max(np.abs(new - old) / np.abs(old)))

    expect = {"Q_r": rel(o["Q_r"][live], a["Q_r"][live]), "X_h": rel(o["X_h"][live], a["X_h"][live]),
              "U_r": rel(o["U_r"][live], a["U_r"][live]), "V_r": rel(o["V_r"][live], a["V_r"][live]),
              "V_h_e": float(np.max(np.abs(o["V_h_e"] - a["V_h_e"])[real])),
              "pi_r": float(np.max(np.abs(o["pi_r"][live] - a["pi_r"][live])))}
    for k, v in expect.items():
        assert v > 1e-3, k  # the perturbation is visible in every equation
        assert r[k] == pytest.approx(v, rel=1e-9), k


# ---------------------------------------------------------------- Phase 1
@pytest.fixture(scope="module")
def prior_cyclic():
    w = et.random_world(25, n_humans=2, n_goals=2, seed=4)
    p = et.EmpoParams(beta_h=3.0, gamma_h=0.8)
    return w, p, et.solve_phase1(w, p)


def test_phase1_residual_of_the_prior_is_tiny(prior_cyclic):
    w, p, prior = prior_cyclic
    assert not w.is_acyclic and prior.residual <= 1e-12
    assert phase1_residuals(w, p, prior.V_h_m, prior.pi_h)["max"] <= 1e-12


def _open_entry(w, prior):
    """A (state, human, goal) that is live, real and not yet achieved (so equation (1) applies there)."""
    for s in np.flatnonzero(~w.terminal):
        for h in range(w.n_humans):
            for g in range(int(w.goal_count[h])):
                if not w.achieved[h, g, s] and 0.05 < prior.V_h_m[s, h, g] < 0.9:
                    return int(s), h, g
    raise AssertionError("no open entry")


def test_phase1_residual_sees_a_shifted_value(prior_cyclic):
    """V_h^m + 0.1 at one entry: the backup there moves by at most gamma_h * 0.1, so the residual is >= 0.1 (1 - gamma_h)."""
    w, p, prior = prior_cyclic
    s, h, g = _open_entry(w, prior)
    V = prior.V_h_m.copy()
    V[s, h, g] += 0.1
    assert phase1_residuals(w, p, V)["V_h_m"] >= 0.1 * (1 - p.gamma_h) - 1e-15


def test_phase1_residual_sees_a_shifted_policy(prior_cyclic):
    """pi_h with 0.2 moved between two actions: the softmax of the unchanged Q_h^m differs by exactly 0.2."""
    w, p, prior = prior_cyclic
    s, h, g = _open_entry(w, prior)
    pi = prior.pi_h.copy()
    i, j = np.argsort(pi[s, h, g, : w.human_action_counts[h]])[[-1, 0]]
    pi[s, h, g, i] -= 0.2
    pi[s, h, g, j] += 0.2
    r = phase1_residuals(w, p, prior.V_h_m, pi)
    assert r["pi_h"] == pytest.approx(0.2, rel=1e-10) and r["V_h_m"] <= 1e-12


def test_phase1_residual_equals_the_oracle_at_perturbed_values(prior_cyclic):
    """Equations (1)-(3) applied once to perturbed V_h^m: the package's residual equals the oracle's, entry by entry."""
    w, p, prior = prior_cyclic
    rng = np.random.default_rng(1)
    V = np.clip(prior.V_h_m + rng.uniform(-0.1, 0.1, prior.V_h_m.shape), 0.0, 1.0)
    blocks = state_blocks(w)
    newV, newpi = np.zeros_like(V), np.zeros_like(prior.pi_h)
    for s in range(w.n_states):
        newpi[s], newV[s] = phase1_state(w, p, blocks, s, V, None, False)
    real = (np.arange(w.n_goals)[None, :] < w.goal_count[:, None])[None] & (~w.terminal)[:, None, None]
    expect_v = float(np.max(np.abs(newV - V)[real]))
    expect_pi = float(np.max(np.abs(newpi - prior.pi_h)[real]))
    r = phase1_residuals(w, p, V, prior.pi_h)
    assert expect_v > 1e-3 and expect_pi > 1e-3
    assert r["V_h_m"] == pytest.approx(expect_v, rel=1e-12) and r["pi_h"] == pytest.approx(expect_pi, rel=1e-12)


def test_phase1_residual_shape_error_names_the_array(prior_cyclic):
    w, p, _ = prior_cyclic
    with pytest.raises(ValueError, match="V_h_m"):
        phase1_residuals(w, p, np.zeros((2, 2, 2)))
