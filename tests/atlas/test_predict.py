"""The atlas's linearised rates: analytic values on diagonal Jacobians, the analyzer's region, and the rate
that expected-mode SA actually shows near the fixed point."""
import numpy as np
import pytest
import scipy.sparse as sp

from empo_tabular.atlas import predict
from empo_tabular.atlas.group import build_world, sa_config
from empo_tabular.atlas.predict import group_prediction, scheme_rate
from empo_tabular.atlas.spec import Scheme, WorldSpec
from empo_tabular.contraction import predict_convergence_region
from empo_tabular.exact.phase1 import solve_phase1
from empo_tabular.exact.phase2 import solve_phase2
from empo_tabular.sa.engine import run_sa

LAM = np.array([0.9, -0.5, 0.3, 1.2, 0.95])
FAST = np.array([True, True, True, False, False])


def test_plain_rate_on_a_diagonal_jacobian():
    a, kappa = 0.5, 0.2
    d = np.where(FAST, a, kappa * a)
    hand = np.max(np.abs(1 + d * (LAM - 1)))
    assert scheme_rate(np.diag(LAM), FAST, a, kappa) == pytest.approx(hand, rel=1e-12)


def test_k_to_1_rate_on_a_diagonal_jacobian():
    a, kappa, k = 0.5, 1.0, 5
    d = np.where(FAST, a, kappa * a)
    d_eval = np.where(FAST, a, 0.0)
    hand = np.max(np.abs((1 + d_eval * (LAM - 1)) ** (k - 1) * (1 + d * (LAM - 1)))) ** (1 / k)
    assert scheme_rate(np.diag(LAM), FAST, a, kappa, k=k) == pytest.approx(hand, rel=1e-12)


def test_target_interval_rate_on_one_slow_coordinate():
    # one slow coordinate x' = x + d (lam t - x) with the target t frozen for m steps, then t <- x:
    # x_m = (1-d)^m x0 + (1 - (1-d)^m) lam x0
    lam, a, kappa, m = 0.8, 0.5, 0.6, 7
    d = kappa * a
    hand = abs((1 - d) ** m + (1 - (1 - d) ** m) * lam) ** (1 / m)
    assert scheme_rate(np.array([[lam]]), np.array([False]), a, kappa, q_target=m) == pytest.approx(hand, rel=1e-12)


def test_plain_rate_equals_the_analyzer_region():  # consistency check against contraction.predict_convergence_region
    rng = np.random.default_rng(1)
    J = sp.random(40, 40, density=0.1, random_state=2, format="csr") * 0.9
    mask = rng.random(40) < 0.6
    region = predict_convergence_region(J, mask, [0.3, 1.0], [0.1, 2.0])
    for i, a in enumerate([0.3, 1.0]):
        for j, kappa in enumerate([0.1, 2.0]):
            assert scheme_rate(J, mask, a, kappa) == pytest.approx(region[i, j], rel=1e-9)


def test_arpack_branch_equals_dense(monkeypatch):  # consistency check of the two spectral-radius routes
    J = sp.random(60, 60, density=0.08, random_state=3, format="csr") * 1.5
    mask = np.arange(60) % 3 != 0
    dense = scheme_rate(J, mask, 0.7, 0.4, k=3)
    monkeypatch.setattr(predict, "DENSE_MAX", 10)
    assert scheme_rate(J, mask, 0.7, 0.4, k=3) == pytest.approx(dense, rel=1e-6)


@pytest.mark.parametrize("scheme", [Scheme("plain", 0.5, 1.0), Scheme("ratio", 1.0, 0.3),
                                    Scheme("k5", 0.5, 1.0, k=5), Scheme("tgt10", 0.5, 1.0, q_target=10)],
                         ids=lambda s: s.name)
def test_predicted_rate_is_the_rate_expected_sa_shows(scheme):
    """SA started 1e-5 from the exact solution decays at the predicted rate (to 4 digits)."""
    w, p = build_world(WorldSpec("t", "random", (("family", "t"), ("n_goals", 2), ("n_states", 8), ("seed", 5))))
    p = p.replace(beta_r=50.0)
    prior = solve_phase1(w, p)
    ex = solve_phase2(w, prior, p)
    pred = group_prediction(w, prior, p, ex, [scheme], {"starts": 0}, 0)["rates"][scheme.linear_key]
    rng = np.random.default_rng(0)
    live = ~w.terminal
    Q = ex.Q_r.copy()
    Q[live] *= np.exp(1e-5 * rng.uniform(-1, 1, Q[live].shape))
    VE = ex.V_h_e.copy()
    VE[live] *= 1 + 1e-5 * rng.uniform(-1, 1, VE[live].shape)
    res = run_sa(w, prior, p, sa_config(scheme, "expected", 400, {}), 400, exact=ex, record_every=10,
                 initial={"Q_r": Q, "V_h_e": VE, "X_h": ex.X_h, "U_r": ex.U_r})
    e, st = res.trace["err_sup_Q_r"], res.trace["step"]
    i1 = int(np.flatnonzero(e > 1e-12)[-1])
    observed = (e[i1] / e[10]) ** (1.0 / (st[i1] - st[10]))
    assert observed == pytest.approx(pred, abs=2e-4)


def test_arpack_finds_a_dominant_complex_pair():
    """Regression: ARPACK with k = 1 returned 0.9215 on two_trapped at beta_r = 300 (n_joint = 816 > DENSE_MAX),
    whose dominant eigenvalues are a complex pair of modulus 1.0216437 (LAPACK eigvals of the dense
    I + D(J - I), an independent route, recorded here)."""
    w, p = build_world(WorldSpec("two_trapped", "scenario", (("name", "two_trapped"),)))
    p = p.replace(beta_r=300.0)
    prior = solve_phase1(w, p)
    ex = solve_phase2(w, prior, p)
    s = Scheme("equal_fast", 1.0, 1.0)
    pred = group_prediction(w, prior, p, ex, [s], {"starts": 0}, 0)
    assert pred["n_joint"] > predict.DENSE_MAX  # the ARPACK route
    assert pred["rates"][s.linear_key] == pytest.approx(1.0216436594, rel=1e-8)
