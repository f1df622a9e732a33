"""The analyzer's multiplicity search (contraction/multiplicity.py) on a small EMPO world with three fixed points.

World: the 8-state random stationary world of tests/exact/test_continuation.py, whose branch from beta_r = 0
folds near beta_r = 89.17; at beta_r = 89 the reduced map has three fixed points (the branch point, the fold's
unstable middle point, and a stable point of another sheet).  The branch point is checked against solve_phase2
(another solver), every row against the fixed-point equation, the box against its definition by hand.
"""
import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.contraction import EmpoMaps
from empo_tabular.contraction.multiplicity import fixed_point_search

FOLD_WORLD = dict(n_states=8, n_actions=2, n_goals=2, concentration=0.2, branching=2, goal_density=0.3, seed=11)
BETA = 89.0


@pytest.fixture(scope="module")
def fold_search():
    w = et.random_world(**FOLD_WORLD)
    p = et.EmpoParams(beta_r=BETA, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    sol = et.solve_phase2(w, prior, p)
    em = EmpoMaps(w, prior, p)
    q_star = em.pack_q(sol.Q_r)
    pts, fps = fixed_point_search(em, q_star, BETA, 10, 0, int(w.initial_state), box=3.0)
    return em, sol, q_star, pts, fps


def test_three_fixed_points_each_a_root_with_the_branch_point_from_the_solver(fold_search):
    em, sol, q_star, pts, fps = fold_search
    assert fps.shape == (3, em.n_q) and len(pts) == 3
    for k in range(3):
        q = fps.points[k]
        assert np.max(np.abs(em.reduced(q, BETA) - q)) <= 1e-10 * np.max(np.abs(q))
    on = [p["on_branch"] for p in pts]
    assert on.count(True) == 1
    np.testing.assert_allclose(fps.points[on.index(True)], q_star, rtol=1e-9)
    assert pts[on.index(True)]["V_r_s0"] == pytest.approx(sol.V_r[em.world.initial_state], rel=1e-9)
    assert sum(p["rho"] > 1.0 for p in pts) == 1  # the fold's middle point is unstable


def test_the_search_says_how_hard_it_searched(fold_search):
    """10 random starts, the branch point as the one user start, the box [3 min q*, max q*/3] (by hand)."""
    em, sol, q_star, pts, fps = fold_search
    assert fps.n_starts == 10 and fps.n_user_starts == 1 and fps.log_coords and fps.jacobian_kind == "analytic"
    np.testing.assert_array_equal(fps.lower, np.full(em.n_q, 3.0 * q_star.min()))
    np.testing.assert_array_equal(fps.upper, np.full(em.n_q, q_star.max() / 3.0))


def test_stability_per_point_consistency_with_the_dense_jacobian(fold_search):
    """Consistency check: rho and max Re lambda of every point equal those of EmpoMaps.reduced_jacobian at that
    point (the search's Jacobian reuses the evaluator state of the latest F(q) only when q is that point)."""
    em, sol, q_star, pts, fps = fold_search
    for k in range(3):
        lam = np.linalg.eigvals(em.reduced_jacobian(fps.points[k], BETA))
        assert fps.rho[k] == pytest.approx(np.max(np.abs(lam)), rel=1e-10, abs=1e-12)
        assert fps.max_re[k] == pytest.approx(np.max(lam.real), rel=1e-10, abs=1e-12)


def test_the_timed_trial_stops_at_its_deadline_and_says_so(fold_search):
    import time

    from empo_tabular.contraction.multiplicity import TrialTimeout, plan_search

    em, sol, q_star, _, _ = fold_search
    with pytest.raises(TrialTimeout):
        fixed_point_search(em, q_star, BETA, 1, 0, 0, deadline=time.perf_counter() - 1.0)
    grid = [0.0, 50.0, BETA]
    sols = [None, None, {"Q_r": sol.Q_r}]
    fp = {"starts": 10, "max_dim": None, "user": None, "box": 3.0, "budget": 0.0}
    search, reason, estimate = plan_search(em, grid, sols, fp, 0, 0, 1)
    assert not search and estimate is None
    assert "was stopped after" in reason and "> fixed_point_budget = 0 s" in reason
    fp["budget"] = 1e6  # affordable: the trial runs to the end and gives a number
    search, reason, estimate = plan_search(em, grid, sols, fp, 0, 0, 1)
    assert search and reason == "" and 0.0 < estimate < 1e6
