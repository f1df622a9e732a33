"""et.score: zero on the exact tables, known perturbations give known errors, visitation weights, bad input."""
import json

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular import EmpoParams, TabularWorld, solve_phase1, solve_phase2
from empo_tabular.core.storage import dumps_strict
from empo_tabular.exact.score import visitation_weights
from empo_tabular.worlds.scenarios import get_scenario

_CACHE = {}


def solved(name="door", horizon=None):
    key = (name, horizon)
    if key not in _CACHE:
        gw, p = get_scenario(name, horizon=horizon)
        prior = solve_phase1(gw.world, p)
        _CACHE[key] = (gw, p, prior, solve_phase2(gw.world, prior, p))
    return _CACHE[key]


def copies(sol):
    return {k: np.array(v, copy=True) for k, v in sol.arrays().items()}


def test_exact_tables_score_zero():
    gw, p, prior, sol = solved()
    res = et.score(sol, copies(sol), world=gw, prior=prior, tol=0.0)
    assert isinstance(res, et.ScoreResult) and res.converged and res.status == 0
    for q, row in res.errors.items():
        for m, v in row.items():
            assert v == 0.0, (q, m)
    assert res.v_r_gap == 0.0
    assert [r["quantity"] for r in res.table] == list(et.Phase2Solution.FIELDS)
    assert all(r["worst_state"] is None for r in res.table)


def test_relative_perturbation_gives_its_size():
    gw, p, prior, sol = solved()
    learned = {"Q_r": sol.Q_r * (1 + 1e-3), "X_h": sol.X_h * (1 - 2e-4), "U_r": sol.U_r * (1 + 5e-2),
               "V_r": sol.V_r * (1 + 1e-6)}
    res = et.score(sol, learned, world=gw, prior=prior)
    for q, size in (("Q_r", 1e-3), ("X_h", 2e-4), ("U_r", 5e-2), ("V_r", 1e-6)):
        for m in ("sup", "mean", "weighted"):
            assert res.errors[q][m] == pytest.approx(size, rel=1e-9), (q, m)
    s0 = gw.world.initial_state
    assert res.v_r_gap == pytest.approx(1e-6 * sol.V_r[s0], rel=1e-9)
    assert res.status == 2  # no tol: not measured


def test_absolute_perturbation_of_v_h_e_ignores_padding_goals():
    gw, p, prior, sol = solved("two_trapped")
    learned = {"V_h_e": sol.V_h_e + 0.01}
    res = et.score(sol, learned, world=gw, prior=prior)
    for m in ("sup", "mean", "weighted"):
        assert res.errors["V_h_e"][m] == pytest.approx(0.01, rel=1e-9)


def test_pi_r_mixed_with_uniform_gives_analytic_tv_and_kl():
    gw, p, prior, sol = solved()
    eps = 0.1
    n_ar = sol.pi_r.shape[1]
    live = ~gw.world.terminal
    mixed = (1 - eps) * sol.pi_r + eps / n_ar
    res = et.score(sol, {"pi_r": mixed}, world=gw, prior=prior)
    # TV(s) = eps * 0.5 * sum_a |1/n - pi(a|s)|, KL(s) = sum_a pi log(pi / ((1-eps) pi + eps/n))
    tv = eps * 0.5 * np.abs(1.0 / n_ar - sol.pi_r).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(sol.pi_r > 0, sol.pi_r * np.log(sol.pi_r / mixed), 0.0).sum(axis=1)
    sup_abs = (eps * np.abs(1.0 / n_ar - sol.pi_r)).max(axis=1)
    e = res.errors["pi_r"]
    assert e["tv"] == pytest.approx(tv[live].max(), rel=1e-9)
    assert e["kl"] == pytest.approx(kl[live].max(), rel=1e-9)
    assert e["sup"] == pytest.approx(sup_abs[live].max(), rel=1e-9)
    assert e["mean"] == pytest.approx(sup_abs[live].mean(), rel=1e-9)
    assert e["tv_weighted"] == pytest.approx(np.sum(res.weights[live] * tv[live]), rel=1e-9)
    assert e["tv"] > 1e-3  # the perturbation is visible


def padded_world():
    """One decision (state 0) into three terminal states; human 1 has two goals, human 0 one (plus padding)."""
    T = np.zeros((4, 2, 4, 4))
    profiles = [[0, 0], [0, 1], [1, 0], [1, 1]]
    for a_h, (h0, _) in enumerate(profiles):
        T[0, 0, a_h, 1 + h0] = 1.0
        T[0, 1, a_h, 1 + h0] = 0.5
        T[0, 1, a_h, 3] += 0.5
    achieved = np.zeros((2, 2, 4), bool)
    achieved[0, 0, 1] = True
    achieved[1, 0, 2] = True
    achieved[1, 1, [1, 3]] = True
    return TabularWorld.from_dense(T, [False, True, True, True], profiles, achieved, [[1.0, 0.0], [0.5, 0.5]],
                                   goal_count=[1, 2])


def test_padding_goals_are_not_scored():
    w = padded_world()
    p = EmpoParams()
    prior = solve_phase1(w, p)
    sol = solve_phase2(w, prior, p)
    V = sol.V_h_e + 0.01
    V[:, 0, 1] = 5.0  # padding goal of human 0: not a goal, never scored
    res = et.score(sol, {"V_h_e": V}, world=w, prior=prior)
    assert res.errors["V_h_e"]["sup"] == pytest.approx(0.01, rel=1e-9)


def test_given_weights_on_terminal_states_are_dropped():
    gw, p, prior, sol = solved("corridor", horizon=3)
    live = ~gw.world.terminal
    U = sol.U_r * (1 + np.linspace(0, 1e-2, gw.world.n_states))
    res = et.score(sol, {"U_r": U}, world=gw, weights=np.ones(gw.world.n_states))
    e = np.abs(U - sol.U_r)[live] / np.abs(sol.U_r[live])
    assert res.errors["U_r"]["weighted"] == pytest.approx(e.mean(), rel=1e-9)


def test_callables_over_state_indices():
    gw, p, prior, sol = solved()
    calls = []

    def q_net(states):
        calls.append(states.copy())
        return sol.Q_r[states] * (1 + 1e-3)

    res = et.score(sol, {"Q_r": q_net}, world=gw, prior=prior)
    assert res.errors["Q_r"]["sup"] == pytest.approx(1e-3, rel=1e-9)
    np.testing.assert_array_equal(calls[0], np.arange(gw.world.n_states))


def test_worst_state_with_grid_coordinates_and_given_weights():
    gw, p, prior, sol = solved()
    s_bad = 17
    Q = sol.Q_r.copy()
    Q[s_bad] *= 1.5
    weights = np.zeros(gw.world.n_states)
    weights[[s_bad, 3]] = 1.0
    res = et.score(sol, {"Q_r": Q}, world=gw, weights=weights)
    assert res.worst["Q_r"][0]["state"] == s_bad
    assert res.errors["Q_r"]["sup"] == pytest.approx(0.5, rel=1e-12)
    assert res.errors["Q_r"]["weighted"] == pytest.approx(0.25, rel=1e-12)  # half the weight on s_bad
    assert res.errors["Q_r"]["mean"] == pytest.approx(0.5 / gw.world.n_states, rel=1e-12)
    x, y = gw.xy(gw.agent_cell[s_bad, 0])
    assert f"H0 ({x}, {y})" in res.worst["Q_r"][0]["where"]
    assert res.weights_source == "given"


def chain_world(n):
    """0 -> 1 -> ... -> n (terminal), deterministic, one robot and one human action."""
    T = np.zeros((n + 1, 1, 1, n + 1))
    for s in range(n):
        T[s, 0, 0, s + 1] = 1.0
    terminal = np.zeros(n + 1, bool)
    terminal[n] = True
    achieved = np.zeros((1, 1, n + 1), bool)
    achieved[0, 0, n] = True
    return TabularWorld.from_dense(T, terminal, [[0]], achieved, [[1.0]])


def test_visitation_weights_analytic_chain():
    w = chain_world(3)
    gamma = 0.8
    d = visitation_weights(w, np.ones((4, 1)), np.ones((4, 1)), gamma)
    expect = np.array([1, gamma, gamma ** 2, 0.0]) / (1 + gamma + gamma ** 2)
    np.testing.assert_allclose(d, expect, rtol=1e-12)
    np.testing.assert_allclose(visitation_weights(w, np.ones((4, 1)), np.ones((4, 1)), 1.0), [1 / 3] * 3 + [0],
                               rtol=1e-12)


def test_visitation_weights_against_dense_formula():
    gw, p, prior, sol = solved("two_trapped")
    w = gw.world
    T = w.dense_transitions()
    P = np.einsum("sa,sh,sahz->sz", sol.pi_r, prior.profile, T)
    e0 = np.zeros(w.n_states)
    e0[w.initial_state] = 1.0
    d = (1 - p.gamma_r) * np.linalg.solve((np.eye(w.n_states) - p.gamma_r * P).T, e0)
    res = et.score(sol, {"U_r": sol.U_r}, world=gw, prior=prior)
    np.testing.assert_allclose(res.weights, d / d.sum(), rtol=1e-9, atol=1e-15)


def test_terminal_states_are_ignored():
    gw, p, prior, sol = solved("corridor", horizon=3)
    term = gw.world.terminal
    Q = sol.Q_r.copy()
    Q[term] = np.nan  # nothing is learned there
    res = et.score(sol, {"Q_r": Q, "V_r": np.where(term, 123.0, sol.V_r)}, world=gw, prior=prior)
    assert res.errors["Q_r"]["sup"] == 0.0 and res.errors["V_r"]["sup"] == 0.0
    assert np.all(np.isnan(res.per_state["Q_r"][term]))


def test_strict_json_with_infinite_kl():
    gw, p, prior, sol = solved()
    pi = np.zeros_like(sol.pi_r)
    pi[:, 0] = 1.0
    res = et.score(sol, {"pi_r": pi}, world=gw, prior=prior)
    assert res.errors["pi_r"]["kl"] == np.inf
    text = dumps_strict(res.to_dict())
    d = json.loads(text)
    assert d["errors"]["pi_r"]["kl"] is None and d["nonfinite"]["/errors/pi_r/kl"] == "inf"
    assert "Infinity" not in text


def test_report_lists_the_scored_quantities_only():
    gw, p, prior, sol = solved()
    res = et.score(sol, {"Q_r": sol.Q_r, "V_r": sol.V_r}, world=gw, prior=prior)
    rows = [line.split()[0] for line in res.report.splitlines()[1:3]]
    assert rows == ["Q_r", "V_r"] and "V_r(s0) gap" in res.report
    assert not any(line.strip().startswith("X_h") for line in res.report.splitlines())


# ----------------------------------------------------------------- bad input, one test each
def test_unknown_quantity():
    gw, p, prior, sol = solved()
    with pytest.raises(ValueError, match="learned has unknown quantity 'Q'; known: "):
        et.score(sol, {"Q": sol.Q_r})


def test_wrong_shape():
    gw, p, prior, sol = solved()
    with pytest.raises(ValueError, match=r"learned\['Q_r'\] has shape \(200, 5\), expected \(200, 6\)"):
        et.score(sol, {"Q_r": sol.Q_r[:, :5]})


def test_nan_at_non_terminal_state():
    gw, p, prior, sol = solved()
    U = sol.U_r.copy()
    U[7] = np.nan
    with pytest.raises(ValueError, match=r"learned\['U_r'\] is not finite at non-terminal index \[7\]"):
        et.score(sol, {"U_r": U})


def test_callable_that_fails():
    gw, p, prior, sol = solved()
    with pytest.raises(ValueError, match=r"learned\['V_r'\] \(a callable\) failed on the state indices"):
        et.score(sol, {"V_r": lambda s: s.missing})


def test_empty_learned():
    gw, p, prior, sol = solved()
    with pytest.raises(ValueError, match="learned must be a non-empty dict"):
        et.score(sol, {})


def test_exact_not_a_solution():
    with pytest.raises(TypeError, match="exact must be a Phase2Solution"):
        et.score({"Q_r": 1}, {"Q_r": 1})


def test_negative_weights():
    gw, p, prior, sol = solved()
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        et.score(sol, {"U_r": sol.U_r}, weights=-np.ones(gw.world.n_states))


def test_world_mismatch():
    gw, p, prior, sol = solved()
    other, _, _, _ = solved("corridor")
    with pytest.raises(ValueError, match="exact was computed for a different world"):
        et.score(sol, {"U_r": sol.U_r}, world=other)


def test_cyclic_world_needs_discount_below_one():
    gw, p, prior, sol = solved()
    with pytest.raises(ValueError, match="need an acyclic world; this world is cyclic"):
        et.score(sol, {"U_r": sol.U_r}, world=gw, prior=prior, discount=1.0)


def test_without_world_weighted_is_not_computed():
    gw, p, prior, sol = solved()
    res = et.score(sol, {"U_r": sol.U_r * 1.01})
    assert res.errors["U_r"]["weighted"] is None and res.weights is None
    assert "not computed" in res.report
    assert isinstance(EmpoParams(), EmpoParams)


def test_weights_without_mass_on_live_states():
    gw, p, prior, sol = solved("corridor", horizon=3)
    w = gw.world.terminal.astype(float)  # mass on terminal states only
    with pytest.raises(ValueError, match="weights must put positive mass on some non-terminal state"):
        et.score(sol, {"U_r": sol.U_r}, weights=w)


def test_world_of_wrong_type():
    gw, p, prior, sol = solved()
    with pytest.raises(TypeError, match="world must be a TabularWorld or a GridWorld"):
        et.score(sol, {"U_r": sol.U_r}, world="door")
