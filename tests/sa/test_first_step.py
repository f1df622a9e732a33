"""Which table each learning rate drives, and the beta_r ramp run_sa really uses, checked by hand.

The expected values are written out with NumPy from the update rule
``x <- x + lr (target - x)`` and the targets of equations (4)-(9) (docs/EMPO_SEMANTICS.md), not taken
from the package.
"""
import math

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.sa.config import SAConfig
from empo_tabular.sa.engine import run_sa

RATES = {"lr_v_h_e": 0.11, "lr_x_h": 0.23, "lr_u_r": 0.37, "lr_q_r": 0.53, "lr_v_r": 0.71}


def tiny_world():
    """States 0, 1 live, 2 terminal; 2 robot actions, 1 human with 2 actions and 2 goals (at 1 and at 2)."""
    T = np.zeros((3, 2, 2, 3))
    T[0, 0, 0] = [0.5, 0.5, 0.0]
    T[0, 0, 1] = [0.2, 0.3, 0.5]
    T[0, 1, 0] = [0.0, 0.9, 0.1]
    T[0, 1, 1] = [0.6, 0.0, 0.4]
    T[1, 0, 0] = [0.7, 0.3, 0.0]
    T[1, 0, 1] = [0.1, 0.1, 0.8]
    T[1, 1, 0] = [0.3, 0.4, 0.3]
    T[1, 1, 1] = [0.0, 0.25, 0.75]
    achieved = np.array([[[False, True, False], [False, False, True]]])
    return et.TabularWorld.from_dense(T, [False, False, True], [[0], [1]], achieved, [[0.6, 0.4]]), T, achieved


def start_tables():
    """Deliberately inconsistent tables, so that every target differs from the current value."""
    nan = np.nan
    return {
        "Q_r": np.array([[-1.3, -0.7], [-2.1, -0.9], [nan, nan]]),
        "V_h_e": np.array([[[0.35, 0.8]], [[0.6, 0.15]], [[0.0, 0.0]]]),
        "X_h": np.array([[0.9], [0.05], [nan]]),
        "U_r": np.array([-3.0, -1.5, nan]),
        "V_r": np.array([-0.4, -2.7, -1e-3]),
    }


def test_first_synchronous_step_moves_each_table_by_its_own_rate():
    w, T, ach = tiny_world()
    p = et.EmpoParams(beta_h=2.0, gamma_h=0.8, beta_r=2.5, gamma_r=0.9, zeta=2.0, xi=1.3, eta=1.2,
                      terminal_v_r=-1e-3, c_r=0.7)
    prior = et.solve_phase1(w, p)
    P, Pfg = prior.profile, prior.profile_fixed_goal
    cfg = SAConfig(visit="synchronous", mode="expected", x_h_use_network=True, u_r_use_network=True,
                   v_r_use_network=True, **RATES)
    assert len(set(RATES.values())) == 5
    init = start_tables()
    res = run_sa(w, prior, p, cfg, 1, record_every=1, initial=init)

    # ---- by hand: targets from the start tables (no warm-up, no ramp: beta_r from step 0)
    Q, VE, X, U, V = (init[k] for k in ("Q_r", "V_h_e", "X_h", "U_r", "V_r"))
    Y = (-U) ** (1.0 / p.eta)                      # the U_r table stores y = mean_h X_h^-xi, U_r = -y^eta
    live = np.array([0, 1])
    Vd = V.copy()
    Vd[2] = p.terminal_v_r
    w_pow = (-Q[live]) ** (-p.beta_r)
    PI = w_pow / w_pow.sum(axis=1, keepdims=True)  # pi_r(a|s) ∝ (-Q_r)^(-beta_r)
    # (4) Q_r target: gamma_r sum_k P(k|s) sum_s' T V_r(s')
    tQ = p.gamma_r * np.einsum("sk,sakt,t->sa", P[live], T[live], Vd)
    # (6) V_h^e target: sum_a pi_r sum_k P_hg(k|s) sum_s' T (1 if g achieved at s' else gamma_h V_h^e(s'))
    cont = np.where(ach[0].T, 1.0, p.gamma_h * VE[:, 0, :])                    # (s', g)
    tVE = np.einsum("sa,sgk,sakt,tg->sg", PI, Pfg[live, 0], T[live], cont)
    # (7) X_h target: sum_g w_g V_h^e^zeta
    tX = (0.6 * VE[live, 0, 0] ** p.zeta + 0.4 * VE[live, 0, 1] ** p.zeta)
    # (8) y target: mean_h X_h^-xi (one human)
    tY = X[live, 0] ** (-p.xi)
    # (9) V_r target: c_r U_r + sum_a pi_r Q_r with U_r = -y^eta from the table
    tV = p.c_r * (-(Y[live] ** p.eta)) + (PI * Q[live]).sum(axis=1)

    def moved(old, target, lr):
        return old + lr * (target - old)

    st = res.state
    np.testing.assert_allclose(st["online_Q"][live], moved(Q[live], tQ, RATES["lr_q_r"]), rtol=1e-13)
    np.testing.assert_allclose(st["online_VE"][live, 0], moved(VE[live, 0], tVE, RATES["lr_v_h_e"]), rtol=1e-13)
    np.testing.assert_allclose(st["online_X"][live, 0], moved(X[live, 0], tX, RATES["lr_x_h"]), rtol=1e-13)
    np.testing.assert_allclose(st["online_Y"][live], moved(Y[live], tY, RATES["lr_u_r"]), rtol=1e-13)
    np.testing.assert_allclose(st["online_V"][live], moved(V[live], tV, RATES["lr_v_r"]), rtol=1e-13)
    # every table did move (a rate applied to a zero step would test nothing)
    for old, tgt in ((Q[live], tQ), (VE[live, 0], tVE), (X[live, 0], tX), (Y[live], tY), (V[live], tV)):
        assert np.min(np.abs(tgt - old)) > 1e-2


# ---------------------------------------------------------------- the beta_r ramp of a real run
def reference_sigmoid_fraction(tau, B):
    """The normalised sigmoid of the reference trainer, written out: (s(x) - s(-3)) / (s(3) - s(-3)), x = 6 (tau/B - 1/2)."""
    s = lambda x: 1.0 / (1.0 + math.exp(-x))  # noqa: E731
    return (s(6.0 * (tau / B - 0.5)) - s(-3.0)) / (s(3.0) - s(-3.0))


def test_run_sa_beta_trace_is_the_configured_sigmoid():
    w, _, _ = tiny_world()
    p = et.EmpoParams(beta_r=8.0, gamma_r=0.9, gamma_h=0.8)
    prior = et.solve_phase1(w, p)
    E5, B = 30, 200   # warm-up V_h^e 10, X_h 10, Q_r 10 steps, then a 200-step ramp
    cfg = SAConfig(warmup_v_h_e_steps=10, warmup_x_h_steps=10, warmup_q_r_steps=10, beta_r_rampup_steps=B)
    res = run_sa(w, prior, p, cfg, 400, record_every=10)
    steps, beta = res.trace["step"], res.trace["beta_r"]
    # a record after step t reports the beta_r of the last step taken, t - 1
    interior = [(t, b) for t, b in zip(steps, beta) if E5 < t - 1 < E5 + B]
    assert len(interior) >= 15
    for t, b in interior:
        assert b == pytest.approx(8.0 * reference_sigmoid_fraction(t - 1 - E5, B), rel=1e-12, abs=1e-12), t
    # the sigmoid is not the linear ramp: a quarter of the way it is far below beta_r / 4
    assert 8.0 * reference_sigmoid_fraction(B / 4, B) < 0.7 * 8.0 / 4
    assert all(b == 0.0 for t, b in zip(steps, beta) if t - 1 < E5)
    assert all(b == 8.0 for t, b in zip(steps, beta) if t - 1 >= E5 + B)


def test_run_sa_beta_trace_follows_a_configured_linear_ramp():
    w, _, _ = tiny_world()
    p = et.EmpoParams(beta_r=8.0, gamma_r=0.9, gamma_h=0.8)
    prior = et.solve_phase1(w, p)
    cfg = SAConfig(beta_r_rampup_steps=100, beta_r_continuation_mode="linear")
    res = run_sa(w, prior, p, cfg, 150, record_every=7)
    for t, b in zip(res.trace["step"], res.trace["beta_r"]):
        assert b == pytest.approx(8.0 * min(1.0, (t - 1) / 100) if t > 0 else 0.0, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------- outputs
def test_trace_csv_has_one_row_per_record_and_round_trips(capsys):
    w, _, _ = tiny_world()
    p = et.EmpoParams(beta_r=2.0, gamma_r=0.9, gamma_h=0.8)
    prior = et.solve_phase1(w, p)
    exact = et.solve_phase2(w, prior, p)
    res = run_sa(w, prior, p, SAConfig(visit="synchronous"), 30, exact=exact, record_every=10, progress=True)
    cap = capsys.readouterr()
    assert cap.out == "" and "SA" in cap.err  # the bar is on stderr
    lines = res.trace_csv().splitlines()
    header = lines[0].split(",")
    assert header == list(res.trace) and len(lines) == 1 + len(res.trace["step"]) == 5
    for i, line in enumerate(lines[1:]):
        for key, cell in zip(header, line.split(",")):
            assert float(cell) == float(res.trace[key][i]), key
