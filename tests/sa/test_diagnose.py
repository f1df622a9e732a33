"""diagnose(): the note's monitoring table on synthetic traces and on real runs."""
from types import SimpleNamespace

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.sa.engine import run_sa
from empo_tabular.sa.config import SAConfig
from empo_tabular.sa.diagnose import diagnose

N = 40


def _fake(config=None, **errs):
    trace = {"stage": np.full(N, 6), "residual": np.full(N, 1e-3)}
    for k in ("Q_r", "V_h_e", "X_h", "U_r", "V_r"):
        trace[f"err_sup_{k}"] = np.asarray(errs.get(k, np.geomspace(1e-1, 1e-9, N)), dtype=float)
    return SimpleNamespace(trace=trace, config=config or SAConfig())


def test_converged_run_has_no_findings():
    d = diagnose(_fake())
    assert d.converged and d.findings == []
    assert "converged" in str(d)


def test_oscillating_q_r_suggests_reducing_lr_q_r():
    zig = 1e-2 * np.where(np.arange(N) % 2 == 0, 1.0, 3.0)
    d = diagnose(_fake(Q_r=zig))
    assert not d.converged
    assert "Q_r oscillating" in d.symptoms
    assert "reduce lr_q_r" in str(d)


def test_u_r_lagging_q_r():
    d = diagnose(_fake(Q_r=np.geomspace(1e-2, 1e-5, N), U_r=np.geomspace(1e-1, 1e-3, N)))
    assert "U_r lagging Q_r" in d.symptoms
    assert "increase lr_v_h_e, lr_x_h, lr_u_r" in str(d)


def test_v_h_e_growing_after_q_r_starts():
    d = diagnose(_fake(Q_r=np.geomspace(1e-2, 1e-3, N), V_h_e=np.geomspace(1e-4, 1e-2, N)))
    assert "V_h^e unstable" in d.symptoms


def test_divergence_is_flagged():
    d = diagnose(_fake(Q_r=np.geomspace(1e-3, 10.0, N)))
    assert "diverging" in d.symptoms
    d = diagnose(_fake(Q_r=np.r_[np.geomspace(1e-1, 1e-3, N - 1), np.inf]))
    assert "diverging" in d.symptoms


@pytest.mark.parametrize("mode,schedule,expect", [
    ("expected", "constant_then_1_over_t", "increase all learning rates"),
    ("sampled", "constant", "decaying schedule"),
])
def test_plateau_remedy_depends_on_mode(mode, schedule, expect):
    slow = np.geomspace(1e-3, 8e-4, N)
    cfg = SAConfig(mode=mode, lr_schedule=schedule)
    d = diagnose(_fake(cfg, **{k: slow for k in ("Q_r", "V_h_e", "X_h", "U_r", "V_r")}))
    assert d.symptoms == ["all plateau"]
    assert expect in str(d)


@pytest.mark.parametrize("residual,symptom", [(1e-2, "Q_r oscillating"), (1e-13, "stuck at another fixed point")])
def test_flat_errors_under_constant_expected_steps(residual, symptom):
    flat = np.full(N, 1e-2)
    fake = _fake(SAConfig(), **{k: flat for k in ("Q_r", "V_h_e", "X_h", "U_r", "V_r")})
    fake.trace["residual"] = np.full(N, residual)
    assert diagnose(fake).symptoms == [symptom]


def test_diagnose_needs_a_trace():
    with pytest.raises(ValueError, match="fewer than 2 records"):
        diagnose(SimpleNamespace(trace={"stage": np.array([6])}, config=SAConfig()))


def test_real_runs():
    w = et.random_world(20, seed=2)
    p = et.EmpoParams(beta_r=1.0, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    exact = et.solve_phase2(w, prior, p)
    good = run_sa(w, prior, p, SAConfig(lr_q_r=0.5, lr_v_h_e=0.5, lr_x_h=0.5), 100_000, exact=exact)
    assert diagnose(good).converged
    slow = run_sa(w, prior, p, SAConfig(lr_q_r=1e-4, lr_v_h_e=1e-4, lr_x_h=1e-4), 20_000, exact=exact)
    d = diagnose(slow)
    assert not d.converged and "all plateau" in d.symptoms
    no_exact = run_sa(w, prior, p, SAConfig(lr_q_r=0.5, lr_v_h_e=0.5, lr_x_h=0.5), 100_000)
    assert set(diagnose(no_exact, tol=1e-9).final_errors) == {"residual"}


def test_unstable_equal_rates_at_high_beta_and_the_u_r_fast_remedy():
    """shared_switch at gamma_r = 0.5, beta_r = 100: undamped equal rates cycle, a 10x faster U_r pathway converges."""
    from empo_tabular.worlds.scenarios import get_scenario

    gw, p = get_scenario("shared_switch")
    p = p.replace(gamma_r=0.5, beta_r=100.0)
    prior = et.solve_phase1(gw.world, p)
    exact = et.solve_phase2(gw.world, prior, p)
    base = SAConfig(visit="synchronous", u_r_use_network=True)
    rates = dict(lr_v_h_e=1.0, lr_x_h=1.0, lr_u_r=1.0, lr_v_r=1.0)
    bad = diagnose(run_sa(gw.world, prior, p, base.replace(lr_q_r=1.0, **rates), 2000, exact=exact, record_every=10))
    assert not bad.converged and bad.findings
    assert all("lr_q_r" in f.remedy for f in bad.findings)
    good = diagnose(run_sa(gw.world, prior, p, base.replace(lr_q_r=0.1, **rates), 2000, exact=exact, record_every=10))
    assert good.converged and not good.findings


def test_diagnosis_uses_the_measured_label_words():
    """diagnose() reports the same label as the experiments' summaries (sa.labels), per quantity."""
    k = np.arange(N)
    d = diagnose(_fake(Q_r=np.tile([0.02, 0.05], N // 2)))
    assert d.label == "oscillating" and d.labels["Q_r"].period == 2
    assert str(d).startswith("SA run oscillating")
    slow = diagnose(_fake(Q_r=0.8 ** k))
    assert slow.label == "converging" and slow.labels["Q_r"].rate == pytest.approx(0.8)
