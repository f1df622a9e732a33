"""Tests of :func:`empo_tabular.contraction.follow_branch` (the analyzer's branch of Phase 2 fixed points).

Oracle: an independent branch by Newton at beta_r = 0, then Newton at beta = 0.25, 0.5, ... each started at the
previous solution (the construction of tests/exact/test_sweeps.py), on a 4-state world with several fixed points
at beta_r = 50 (Anderson started at the usual start converges to one 40% away from the branch's).
"""
import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.contraction import analyze_contraction, branch_follow, follow_branch
from empo_tabular.exact.continuation import ConvergenceError
from empo_tabular.exact.system import NewtonSystem, newton_at_beta

SEVERAL = dict(n_states=4, n_actions=2, n_goals=2, concentration=0.1, branching=1, goal_density=0.3, seed=36)
SEVERAL_PARAMS = et.EmpoParams(beta_r=50.0, gamma_r=0.5, gamma_h=0.9)
GRID = [0.0, 5.0, 20.0, 50.0]


@pytest.fixture(scope="module")
def several():
    w = et.random_world(**SEVERAL)
    prior = et.solve_phase1(w, SEVERAL_PARAMS)
    return w, prior


def fine_branch(w, prior, p, betas, step=0.25):
    """Independent branch: Newton at beta = 0, step, 2 step, ... each started at the previous solution."""
    system = NewtonSystem(w, prior, p)
    solve_at = newton_at_beta(system, 1e-12)
    z = solve_at(0.0, system.beta0_start()).z
    out = {0.0: system.split(z)}
    for beta in np.arange(step, max(betas) + step / 2, step):
        res = solve_at(float(beta), z)
        assert res.converged, beta
        z = res.z
        out[float(beta)] = system.split(z)
    return out


def assert_on_branch(sols, ref):
    for d in sols:
        Q, VE, V = ref[d["beta_r"]]
        np.testing.assert_allclose(d["V_r"], V, rtol=1e-10)
        np.testing.assert_allclose(d["Q_r"][~np.isnan(d["Q_r"])], Q[~np.isnan(d["Q_r"])], rtol=1e-10)
        np.testing.assert_allclose(d["V_h_e"], VE, atol=1e-10)
        assert d["residual"] <= 1e-10


@pytest.mark.parametrize("method", ["auto", "anderson", "newton"])
def test_every_method_returns_the_branch_from_beta_zero(several, method):
    w, prior = several
    sols = follow_branch(w, prior, SEVERAL_PARAMS, GRID, method=method)
    assert [d["beta_r"] for d in sols] == GRID
    assert {d["branch_method"] for d in sols} == {"newton" if method == "newton" else "anderson"}
    assert_on_branch(sols, fine_branch(w, prior, SEVERAL_PARAMS, GRID))


def test_auto_falls_back_to_newton_where_the_sweeps_stop(several, monkeypatch):
    w, prior = several
    monkeypatch.setattr(branch_follow, "MAX_SWEEPS", 2)  # no Anderson corrector converges in 2 sweeps
    with pytest.raises(ConvergenceError, match="Anderson continuation"):
        follow_branch(w, prior, SEVERAL_PARAMS, GRID, method="anderson")
    sols = follow_branch(w, prior, SEVERAL_PARAMS, GRID, method="auto")
    assert {d["branch_method"] for d in sols} == {"newton"}
    assert_on_branch(sols, fine_branch(w, prior, SEVERAL_PARAMS, GRID))


def test_bad_branch_method_raises(several):
    w, prior = several
    with pytest.raises(ValueError, match="method must be one of"):
        follow_branch(w, prior, SEVERAL_PARAMS, GRID, method="picard")
    with pytest.raises(ValueError, match=r"options\['branch_method'\]"):
        analyze_contraction(w, prior, SEVERAL_PARAMS, GRID, maps=("reduced",), n_fixed_point_starts=0,
                            options={"branch_method": "picard"})


def test_failed_branch_test_sends_the_whole_grid_to_newton(several, monkeypatch):
    w, prior = several
    monkeypatch.setattr(branch_follow, "passes_branch_test", lambda lam: False)
    with pytest.raises(ConvergenceError, match="branch test failed"):
        follow_branch(w, prior, SEVERAL_PARAMS, GRID, method="anderson")
    sols = follow_branch(w, prior, SEVERAL_PARAMS, GRID, method="auto")
    assert [d["branch_method"] for d in sols] == ["newton"] * len(GRID)  # none of the suspect sweep points kept
    assert_on_branch(sols, fine_branch(w, prior, SEVERAL_PARAMS, GRID))


def test_grid_intervals_resume_with_the_secant_of_the_interval_before():
    # the branch z = sqrt(5 - beta) folds at beta = 5; past it the corrector lands on the far sheet z = -10 (as a
    # fast fixed-point method may).  Two grid intervals, [0, 4.9] then [4.9, 7.9], chained as follow_branch does:
    # the second interval's first step (length 1, across the fold) must be rejected, and the continuation stop at
    # a fold between 4.9 and 5 on the branch (without `previous` it returns z = -10: see tests/exact).
    import math

    from empo_tabular.contraction.branch_follow import resume_from
    from empo_tabular.exact.continuation import NewtonOutcome, continuation

    def jumping(beta):
        return NewtonOutcome(np.array([math.sqrt(5.0 - beta) if beta <= 5.0 else -10.0]), 0.0, 3, True)

    first = continuation(lambda t, z0: jumping(t), np.array([math.sqrt(5.0)]), 4.9)
    assert first.converged
    before = resume_from(first, 4.9)
    assert before[0] < 0.0 and before[1][0] == math.sqrt(5.0 - (4.9 + before[0]))  # a branch point, in new coordinates
    second = continuation(lambda t, z0: jumping(4.9 + t), first.z, 3.0, previous=before)
    assert not second.converged and second.z[0] > 0.0 and 0.0 <= second.fold_beta <= 0.1
