"""The learning-rate experiments: definitions, runner, summaries and plots (fast)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import empo_tabular as et  # noqa: E402
from empo_tabular.sa import experiments as ex  # noqa: E402
from empo_tabular.sa.labels import LABELS  # noqa: E402
from empo_tabular.plotting.sa import plot_experiment, plot_sa_errors  # noqa: E402
from empo_tabular.sa.engine import run_sa  # noqa: E402

EVAL = ("lr_v_h_e", "lr_x_h", "lr_u_r")
OPT = ("lr_q_r", "lr_v_r")


def _rates(cfg):
    e = {getattr(cfg, k) for k in EVAL}
    o = {getattr(cfg, k) for k in OPT}
    assert len(e) == 1 and len(o) == 1, (e, o)
    return e.pop(), o.pop()


@pytest.fixture(scope="module")
def tiny():
    world = et.random_world(6, n_humans=1, n_actions=2, n_goals=2, seed=3)
    params = et.EmpoParams(gamma_h=0.8, gamma_r=0.8)
    prior = et.solve_phase1(world, params)
    return world, prior, params


def test_all_five_experiments_defined():
    assert set(ex.EXPERIMENTS) == {"equal_rates", "u_r_fast", "q_r_fast", "frequency_separation_5to1",
                                   "staged_warmup_vs_none"}
    for name, exp in ex.EXPERIMENTS.items():
        assert exp.name == name and exp.description and len(exp.variants) >= 2
        assert len(set(exp.labels)) == len(exp.labels)
        for _, cfg in exp.variants:
            assert cfg.mode == "expected" and cfg.visit == "synchronous" and cfg.lr_schedule == "constant"
            assert cfg.u_r_use_network and cfg.x_h_use_network


def test_rate_ratios():
    eq = ex.EXPERIMENTS["equal_rates"]
    assert sorted(_rates(c) for _, c in eq.variants) == [(ex.SLOW, ex.SLOW), (ex.FAST, ex.FAST)]
    ur = ex.EXPERIMENTS["u_r_fast"]
    e, o = _rates(ur.variants[1][1])
    assert e == pytest.approx(10 * o) and o == ex.SLOW
    assert _rates(ur.variants[0][1]) == (ex.SLOW, ex.SLOW)
    qr = ex.EXPERIMENTS["q_r_fast"]
    e, o = _rates(qr.variants[1][1])
    assert o == pytest.approx(10 * e) and e == ex.SLOW
    # the note's numbers, scaled: Experiment 2 speeds up the evaluator, Experiment 3 speeds up Q_r
    assert ur.variants[1][1].lr_q_r == qr.variants[0][1].lr_q_r


def test_frequency_separation_settings():
    fs = ex.EXPERIMENTS["frequency_separation_5to1"]
    ks = [c.evaluator_updates_per_q_update for _, c in fs.variants]
    assert ks == [1, 5, 1]
    assert _rates(fs.variants[1][1]) == (ex.FAST, ex.FAST)
    e, o = _rates(fs.variants[2][1])
    assert e / o == pytest.approx(5.0)


def test_staged_warmup_settings():
    n = 1000
    exp = ex.get_experiment("staged_warmup_vs_none", n)
    staged = [c for lab, c in exp.variants if lab.startswith("staged")]
    none = [c for lab, c in exp.variants if lab.startswith("no warm-up")]
    assert len(staged) == 2 and len(none) == 2
    for c in none:
        assert c.boundaries() == (0, 0, 0, 0, 0) and c.beta_r_rampup_steps == 0
    for c in staged:
        # V_h^e, +X_h, +U_r, +Q_r stages of n/20 each (V_r is computed, its stage forced to 0), ramp n/5
        assert c.boundaries() == (50, 100, 150, 200, 200)
        assert c.beta_r_rampup_steps == 200 and c.beta_r_continuation_mode == "sigmoid"
    assert {_rates(c) for c in staged} == {_rates(c) for c in none}


def test_custom_levels_and_unknown_name():
    exp = ex.get_experiment("u_r_fast", slow=0.02, fast=0.2)
    assert _rates(exp.variants[1][1]) == (0.2, 0.02)
    with pytest.raises(KeyError):
        ex.get_experiment("nope")
    with pytest.raises(KeyError):
        exp.config("nope")


def test_first_step_below():
    steps = np.arange(0, 110, 10)
    geometric = {"step": steps, "updates": steps * 3, "err_sup_Q_r": 0.5 ** np.arange(11)}
    assert ex.first_step_below(geometric, 0.1) == 40
    assert ex.first_step_below(geometric, 0.1, key="updates") == 120
    assert ex.first_step_below(geometric, 1e-9) is None
    flip = dict(geometric, err_sup_Q_r=np.r_[1.0, np.tile([0.02, 0.05], 5)])
    assert ex.first_step_below(flip, 0.03) is None


def test_run_lr_experiment_tiny(tiny, tmp_path):
    world, prior, params = tiny
    cache = {}
    r = ex.run_lr_experiment("u_r_fast", world, prior, params, betas=(1.0, 10.0), n_steps=1500, cache=cache)
    assert set(r.results) == {(lab, b) for lab in r.experiment.labels for b in (1.0, 10.0)}
    assert len(r.summary) == 4 and set(r.exact) == {1.0, 10.0}
    for row in r.summary:
        assert row["label"] in LABELS
        assert np.isfinite(row["final_Q_r"]) and row["final_Q_r"] >= 0
        assert row["experiment"] == "u_r_fast"
    # a contractive tiny world: both schemes converge, and the fast evaluator reaches 1e-3 sooner
    for b in (1.0, 10.0):
        rows = {row["variant"]: row for row in r.summary if row["beta_r"] == b}
        base, fast = rows["equal 0.1"], rows["U_r pathway x10 (1/0.1)"]
        assert base["converged"] and fast["converged"]
        assert fast["steps_to_0.001"] < base["steps_to_0.001"]
    # errors are those of run_sa against the exact solution at that beta_r
    res = r.result("equal 0.1", 10.0)
    assert res.params.beta_r == 10.0
    sol = et.solve_phase2(world, prior, params.replace(beta_r=10.0))
    live = ~world.terminal
    assert np.max(np.abs(res.Q_r[live] / sol.Q_r[live] - 1)) == pytest.approx(r.summary[2]["final_Q_r"], rel=1e-6)
    # the shared baseline is reused from the cache by another experiment
    n_cached = len(cache)
    r2 = ex.run_lr_experiment("q_r_fast", world, prior, params, exact=r.exact, betas=(1.0, 10.0), n_steps=1500,
                              cache=cache)
    assert len(cache) == n_cached + 2
    assert r2.result("equal 0.1", 1.0) is r.result("equal 0.1", 1.0)
    table = ex.format_summary(ex.summarise([r, r2]))
    assert table.count("\n") == 2 + 8 - 1 and "u_r_fast" in table and "q_r_fast" in table
    # plots write files
    path = tmp_path / "exp.png"
    fig = plot_experiment(r, path)
    plt.close(fig)
    assert path.exists() and path.stat().st_size > 10_000


def test_staged_experiment_and_plot_sa_errors(tiny, tmp_path):
    world, prior, params = tiny
    r = ex.run_lr_experiment("staged_warmup_vs_none", world, prior, params, betas=(5.0,), n_steps=200)
    staged = r.result("staged, equal 1", 5.0)
    assert np.all(staged.trace["beta_r"][staged.trace["step"] <= 40] == 0.0)
    assert staged.trace["beta_r"][-1] == 5.0 and 0 < staged.trace["beta_r"][staged.trace["step"] == 60][0] < 5.0
    fig = plot_sa_errors({lab: r.result(lab, 5.0) for lab in r.experiment.labels}, ("Q_r", "V_h_e"),
                         title="tiny", status={"staged, equal 1": "converged"})
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    path = tmp_path / "errors.png"
    fig.savefig(path)
    plt.close(fig)
    assert path.exists()
    fig = plot_sa_errors(staged, x="updates", kind="rms")
    plt.close(fig)
    with pytest.raises(ValueError):
        plot_sa_errors(run_sa(world, prior, params, ex.BASE_CONFIG, 5), ("Q_r",))  # no exact -> no errors
    with pytest.raises(ValueError):
        plot_sa_errors(staged, kind="max")


def test_exact_argument_validation(tiny):
    world, prior, params = tiny
    sol = et.solve_phase2(world, prior, params.replace(beta_r=1.0))
    with pytest.raises(ValueError):
        ex.run_lr_experiment("equal_rates", world, prior, params, exact=sol, betas=(1.0, 2.0), n_steps=10)
    with pytest.raises(TypeError):
        ex.run_lr_experiment("equal_rates", world, prior, params, exact=[sol], betas=(1.0,), n_steps=10)
    r = ex.run_lr_experiment("equal_rates", world, prior, params, exact=sol, betas=(1.0,), n_steps=10)
    assert r.exact[1.0] is sol
