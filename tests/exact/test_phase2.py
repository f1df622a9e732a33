"""Phase 2 Newton continuation on Krylov solves: its branch test without a LU per step, and its answer."""
import numpy as np

import empo_tabular as et
import empo_tabular.exact.branch as branch
from empo_tabular.exact.linear import NEWTON_LU_FIRST_BELOW
from empo_tabular.exact.system import NewtonSystem


def test_phase2_newton_on_the_krylov_path_agrees_with_the_default(monkeypatch):
    """Consistency check (Newton continuation with Krylov solves against the default sweeps), and the branch
    test's cost: above ``NEWTON_LU_FIRST_BELOW`` unknowns (and at most ``SIGN_MAX_UNKNOWNS``) the sign of
    det(I - J) is screened by ARPACK at every accepted step and no LU is taken (before: 4 LUs, 2.6 of the
    3.3 CPU s of this solve at 1,000 states)."""
    calls = {"lu": 0, "screened": 0}
    real_lu, real_screened = branch.det_sign, branch.screened_det_sign

    def lu(A):
        calls["lu"] += 1
        return real_lu(A)

    def screened(A, **kw):
        calls["screened"] += 1
        return real_screened(A, **kw)

    monkeypatch.setattr(branch, "det_sign", lu)
    monkeypatch.setattr(branch, "screened_det_sign", screened)
    w = et.random_world(300, n_humans=1, n_robots=1, n_actions=2, n_goals=2, acyclic=False, horizon=30,
                        branching=2, seed=7)
    p = et.EmpoParams(beta_r=5.0, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    n = NewtonSystem(w, prior, p).n
    assert NEWTON_LU_FIRST_BELOW < n <= branch.SIGN_MAX_UNKNOWNS
    newton = et.solve_phase2(w, prior, p, method="newton")
    assert newton.method == "newton_continuation"
    assert calls == {"lu": 0, "screened": len(newton.betas)}  # beta = 0 and every accepted step
    default = et.solve_phase2(w, prior, p)
    live = ~w.terminal
    np.testing.assert_allclose(newton.V_r[live], default.V_r[live], rtol=1e-10, atol=0)
    np.testing.assert_allclose(newton.V_h_e, default.V_h_e, rtol=1e-10, atol=1e-12)
