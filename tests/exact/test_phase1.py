"""Phase 1 Newton continuation on Krylov solves: its branch test without a LU per step, and its answer."""
import numpy as np
import pytest

import empo_tabular as et
import empo_tabular.exact.phase1 as phase1_module


def test_phase1_newton_on_the_krylov_path_agrees_with_the_default(monkeypatch):
    """Consistency check (Newton continuation with Krylov solves against the default sweeps), and the branch
    test's cost: 4,000 unknowns are above ``NEWTON_LU_FIRST_BELOW`` (and at most ``SIGN_MAX_UNKNOWNS``), so the
    sign of det(I - J) is screened by ARPACK at every accepted step and no LU is taken."""
    calls = {"lu": 0, "screened": 0}
    real_lu, real_screened = phase1_module.det_sign, phase1_module.screened_det_sign

    def lu(A):
        calls["lu"] += 1
        return real_lu(A)

    def screened(A):
        calls["screened"] += 1
        return real_screened(A)

    monkeypatch.setattr(phase1_module, "det_sign", lu)
    monkeypatch.setattr(phase1_module, "screened_det_sign", screened)
    w = et.random_world(2000, n_humans=1, n_robots=1, n_actions=2, n_goals=2, acyclic=False, horizon=50,
                        branching=2, seed=7)
    p = et.EmpoParams(beta_r=5.0, gamma_r=0.9, gamma_h=0.9)
    newton = et.solve_phase1(w, p, method="newton")
    n = w.n_states * w.n_goals
    assert newton.method == "newton_continuation"
    assert phase1_module.NEWTON_LU_FIRST_BELOW < n <= phase1_module.SIGN_MAX_UNKNOWNS
    assert calls == {"lu": 0, "screened": len(newton.betas)}  # beta = 0 and every accepted step
    default = et.solve_phase1(w, p)
    np.testing.assert_allclose(newton.V_h_m, default.V_h_m, rtol=1e-10, atol=1e-12)


def test_each_prior_says_what_ties_it_to_the_branch(monkeypatch):
    from empo_tabular.worlds.scenarios import get_scenario

    gw, p = get_scenario("door")
    w = gw.world
    assert "rightmost eigenvalue of the Phase 1 sweep map's Jacobian is 0.2" in et.solve_phase1(w, p).branch_check
    assert "kept det(I - J) > 0 (sparse LU)" in et.solve_phase1(w, p, method="newton").branch_check  # 1,000 unknowns
    greedy = et.solve_phase1(w, p.replace(beta_h=np.inf)).branch_check
    assert greedy.endswith("the last step, to beta = inf, is not checked") and "eigenvalue" not in greedy
    monkeypatch.setattr(phase1_module, "SIGN_MAX_UNKNOWNS", 10)
    assert "no sign per step" in et.solve_phase1(w, p, method="newton").branch_check
    acyclic_gw, q = get_scenario("door", horizon=3)
    assert et.solve_phase1(acyclic_gw.world, q).branch_check == "acyclic world: the solution is unique"


# A Phase 1 world with several fixed points.  One start state s0; goal state and failure state terminal; the
# robot has one action; the human's "careful" action reaches the goal w.p. 0.01, stays at s0 w.p. 0.98 and fails
# otherwise, its "gamble" reaches the goal w.p. 0.1 and fails otherwise.  With gamma_h = 0.99 the Boltzmann value
# V = f(V) = sum_a pi_a Q_a, Q_careful = 0.01 + 0.99 * 0.98 V, Q_gamble = 0.1, is S-shaped in V: between
# beta_h ~ 26 and ~ 44 it has three fixed points, and the branch from beta_h = 0 (the lowest) folds into the
# middle one near beta_h = 44.23, after which only the upper one is left.
CAREFUL, GAMBLE, GAMMA_H = (0.01, 0.98), 0.1, 0.99


def fold_world():
    T = np.zeros((3, 1, 2, 3))  # states: 0 = s0, 1 = goal, 2 = failure
    T[0, 0, 0] = [CAREFUL[1], CAREFUL[0], 1.0 - sum(CAREFUL)]
    T[0, 0, 1] = [0.0, GAMBLE, 1.0 - GAMBLE]
    achieved = np.zeros((1, 1, 3), dtype=bool)
    achieved[0, 0, 1] = True
    return et.TabularWorld.from_dense(T, np.array([False, True, True]), np.array([[0], [1]]), achieved,
                                      np.ones((1, 1)))


def scalar_fixed_points(beta):
    """The roots of f(V) = V on [0, 1], by bisection on a fine grid of sign changes (written from the model)."""
    def g(v):
        q = np.array([CAREFUL[0] + GAMMA_H * CAREFUL[1] * v, GAMBLE])
        e = np.exp(beta * (q - q.max()))
        return float(e @ q / e.sum()) - v

    grid = np.linspace(0.0, 1.0, 4001)
    vals = [g(v) for v in grid]
    roots = []
    for a, b, ga, gb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]):
        if ga == 0.0 or ga * gb < 0.0:
            for _ in range(200):
                m = 0.5 * (a + b)
                if g(a) * g(m) <= 0.0:
                    b = m
                else:
                    a = m
            roots.append(0.5 * (a + b))
    return roots


@pytest.mark.parametrize("method", ["auto", "newton"])
def test_phase1_returns_the_branch_from_beta_zero_where_there_are_three_fixed_points(method):
    w = fold_world()
    p = et.EmpoParams(beta_h=30.0, gamma_h=GAMMA_H)
    roots = scalar_fixed_points(30.0)
    assert len(roots) == 3  # the world really has three fixed points here
    prior = et.solve_phase1(w, p, method=method)
    assert prior.converged and abs(prior.V_h_m[0, 0, 0] - roots[0]) < 1e-10  # the lowest: the branch's
    for v in roots[1:]:  # the others are fixed points of the package's equations too, not artefacts
        assert phase1_module.phase1_residuals(w, p, np.array([v, 0.0, 0.0]).reshape(3, 1, 1))["max"] < 1e-12


@pytest.mark.parametrize("method", ["auto", "newton"])
def test_phase1_past_the_fold_raises_with_the_fold_beta(method):
    # the fold: the largest beta (to 1e-3) at which the scalar equation still has its lowest root below 0.15
    lo, hi = 40.0, 50.0
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if scalar_fixed_points(mid)[0] < 0.15 else (lo, mid)
    with pytest.raises(et.ConvergenceError, match=r"fold at beta = 44\.2") as info:
        et.solve_phase1(fold_world(), et.EmpoParams(beta_h=50.0, gamma_h=GAMMA_H), method=method)
    found = float(str(info.value).split("fold at beta = ")[1].split(":")[0])
    assert abs(found - lo) < 2e-3 and "(last residual" in str(info.value)
