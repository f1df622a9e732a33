"""Phase 1 Newton continuation on Krylov solves: its branch test without a LU per step, and its answer."""
import numpy as np

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
