"""Two-timescale SA on exact tables: exact rate law, convergence to the exact arrays, determinism, resume.

Tests named ``test_consistency_...`` compare the package with itself: SA against the package's exact
solver (which tests/exact/test_against_naive.py checks against the NumPy oracle), or one run against
another.  Hand-derived expectations for SA are in test_beta0_q_error_follows_the_exact_rate_law here and
in tests/sa/test_first_step.py.
"""
import math

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.sa import checkpoint as sa_checkpoint
from empo_tabular.core.conventions import FIELDS
from empo_tabular.sa.engine import run_sa
from empo_tabular.sa.config import SAConfig


def _setup(seed=0, n_states=25, beta_r=2.0, **world_kw):
    w = et.random_world(n_states, seed=seed, **world_kw)
    p = et.EmpoParams(beta_r=beta_r, gamma_r=0.9, gamma_h=0.9)
    prior = et.solve_phase1(w, p)
    return w, p, prior, et.solve_phase2(w, prior, p)


def _shifted(exact, c):
    init = {k: getattr(exact, k).copy() for k in FIELDS}
    init["Q_r"] = init["Q_r"] + c
    return init


# ---------------------------------------------------------------- exact rate law at beta_r = 0
@pytest.mark.parametrize("schedule", ["constant", "constant_then_1_over_t"])
def test_beta0_q_error_follows_the_exact_rate_law(schedule):
    """At beta_r = 0, from Q* + c, synchronous expected steps give e_{n+1} = (1 - a_n (1 - gamma_r)) e_n."""
    w, p, prior, exact = _setup(seed=4, beta_r=0.0)
    assert not w.terminal.any()
    cfg = SAConfig(visit="synchronous", lr_q_r=0.3, lr_schedule=schedule, lr_constant_fraction=0.25)
    n = 40
    res = run_sa(w, prior, p, cfg, n, exact=exact, record_every=1, initial=_shifted(exact, -3.0))
    e = res.trace["err_sup_Q_r"]
    a = res.trace["lr_q_r"][1:]
    assert e[0] > 0.1
    predicted = e[:-1] * (1.0 - a * (1.0 - p.gamma_r))
    np.testing.assert_allclose(e[1:], predicted, rtol=1e-9)
    if schedule != "constant":
        assert a[-1] < a[0]  # the decay was exercised
    # the evaluators started exact and stay exact (pi_r is uniform whatever Q_r is)
    for k in ("V_h_e", "X_h", "U_r"):
        assert res.trace[f"err_sup_{k}"].max() < 1e-12


# ---------------------------------------------------------------- convergence to the exact arrays
def _assert_close(res, tol):
    errs = res.final_errors()
    assert set(errs) == set(FIELDS)
    bad = {k: v for k, v in errs.items() if not v <= tol}
    assert not bad, f"errors above {tol}: {bad}"


@pytest.mark.parametrize("seed,beta_r,kw", [
    (1, 0.5, {}),
    (2, 2.0, {"n_humans": 2, "n_actions": 2}),
    (3, 2.0, {"n_robots": 2, "n_actions": 2, "n_goals": 2}),
])
def test_consistency_expected_mode_reaches_exact_arrays_on_random_cyclic_worlds(seed, beta_r, kw):
    w, p, prior, exact = _setup(seed=seed, beta_r=beta_r, **kw)
    assert not w.is_acyclic
    res = run_sa(w, prior, p, SAConfig(lr_v_h_e=0.5, lr_x_h=0.5, lr_q_r=0.5), 150_000, exact=exact, seed=seed)
    _assert_close(res, 1e-6)
    assert np.array_equal(np.isnan(res.Q_r), np.isnan(exact.Q_r))


def test_consistency_expected_mode_reaches_the_public_case(public_case):
    c = public_case
    exact = et.solve_phase2(c.world, c.prior, c.params)
    res = run_sa(c.world, c.prior, c.params, SAConfig(visit="sweep", lr_v_h_e=1.0, lr_x_h=1.0, lr_q_r=1.0),
                 20 * c.world.n_states, exact=exact)
    _assert_close(res, 1e-6)
    for k in FIELDS:  # terminal-state conventions match Phase2Solution
        assert np.array_equal(np.isnan(getattr(res, k)), np.isnan(getattr(exact, k))), k


def test_consistency_warmup_and_sigmoid_ramp_end_at_the_exact_solution():
    """Stages, beta ramp, targets, 1/t decay: the end point is still the exact fixed point."""
    w, p, prior, exact = _setup(seed=5, beta_r=2.0)
    cfg = SAConfig(warmup_v_h_e_steps=2_000, warmup_x_h_steps=2_000, warmup_q_r_steps=2_000,
                   beta_r_rampup_steps=20_000, q_r_target_update_interval=50, x_h_target_update_interval=7,
                   lr_schedule="constant_then_1_over_t", lr_constant_fraction=0.8, lr_q_r=0.5, lr_v_h_e=0.5,
                   lr_x_h=0.5)
    res = run_sa(w, prior, p, cfg, 200_000, exact=exact, record_every=1000)
    _assert_close(res, 1e-6)
    tr = res.trace
    assert tr["beta_r"][0] == 0.0 and tr["beta_r"][-1] == 2.0
    assert np.all(np.diff(tr["beta_r"]) >= 0)
    assert tr["stage"].tolist() == sorted(tr["stage"].tolist())
    assert set(tr["stage"].tolist()) == {0, 1, 3, 5, 6}


@pytest.mark.parametrize("changes", [
    {"evaluator_updates_per_q_update": 5},
    {"q_r_target_update_interval": 20, "v_h_e_target_update_interval": 5, "target_polyak_tau": 0.5},
    {"u_r_use_network": True, "v_r_use_network": True, "x_h_use_network": False},
    {"lr_clock": "visits", "lr_visits_constant": 200, "lr_decay_exponent": 0.8},
])
def test_consistency_every_scheme_keeps_the_exact_fixed_point(changes):
    w, p, prior, exact = _setup(seed=6, beta_r=1.0)
    cfg = SAConfig(lr_v_h_e=0.5, lr_x_h=0.5, lr_u_r=0.5, lr_q_r=0.5, lr_v_r=0.5, **changes)
    res = run_sa(w, prior, p, cfg, 250_000, exact=exact, seed=2)
    _assert_close(res, 1e-6)


def test_consistency_sampled_mode_reaches_exact_arrays_within_1e_2():
    w, p, prior, exact = _setup(seed=3, n_states=30, beta_r=2.0, n_actions=2, n_goals=2)
    cfg = SAConfig(mode="sampled", lr_schedule="polynomial", lr_decay_exponent=0.7, lr_constant_fraction=0.05,
                   lr_clock="visits", lr_visits_constant=50, epsilon_r_start=1.0, epsilon_r_end=1.0)
    res = run_sa(w, prior, p, cfg, 3_000_000, exact=exact, seed=1)
    _assert_close(res, 1e-2)
    assert res.trace["err_sup_Q_r"][0] > 0.1  # it started far away


def test_consistency_sampled_goal_x_target_is_unbiased_but_assigned_goals_are_not():
    w, p, prior, exact = _setup(seed=8, n_states=12, beta_r=1.0, n_actions=2, n_goals=3)
    base = SAConfig(mode="sampled", lr_schedule="polynomial", lr_decay_exponent=0.7, lr_constant_fraction=0.05,
                    lr_clock="visits", lr_visits_constant=50, epsilon_r_start=1.0, epsilon_r_end=1.0)
    unbiased = run_sa(w, prior, p, base.replace(x_h_target="sampled_goal"), 1_500_000, exact=exact, seed=3)
    assert unbiased.final_errors()["X_h"] < 2e-2
    biased = run_sa(w, prior, p, base.replace(visit="on_policy", goal_assignment=True, x_h_target="assigned_goal",
                                              steps_per_episode=20), 1_500_000, exact=exact, seed=3)
    assert biased.final_errors()["X_h"] > 5 * unbiased.final_errors()["X_h"]


def test_consistency_on_policy_trajectories_reach_the_exact_arrays_in_expected_mode():
    w, p, prior, exact = _setup(seed=9, n_states=15, beta_r=1.0)
    cfg = SAConfig(visit="on_policy", steps_per_episode=30, epsilon_r_end=0.5, lr_q_r=0.5, lr_v_h_e=0.5,
                   lr_x_h=0.5)
    res = run_sa(w, prior, p, cfg, 300_000, exact=exact, seed=4)
    # only states reachable from s0 are visited; this world is strongly connected enough to reach all
    visited = res.state["visits"] > 0
    assert visited[~w.terminal].all()
    _assert_close(res, 1e-6)


def test_consistency_beta_inf_is_greedy_and_converges():
    w, p, prior, _ = _setup(seed=10, beta_r=math.inf)
    exact = et.solve_phase2(w, prior, p)
    res = run_sa(w, prior, p, SAConfig(lr_q_r=0.5, lr_v_h_e=0.5, lr_x_h=0.5), 150_000, exact=exact)
    assert np.isfinite(res.V_r).all()
    assert res.final_errors()["Q_r"] < 1e-6


# ---------------------------------------------------------------- reproducibility
def test_consistency_same_seed_same_bits_and_different_seed_differs():
    w, p, prior, exact = _setup(seed=11, beta_r=1.0)
    cfg = SAConfig(mode="sampled", visit="on_policy", goal_assignment=True, epsilon_h_start=0.2,
                   epsilon_h_end=0.1, q_r_target_update_interval=13)
    runs = [run_sa(w, prior, p, cfg, 40_000, exact=exact, seed=s, record_every=4_000) for s in (7, 7, 8)]
    for k in FIELDS:
        np.testing.assert_array_equal(getattr(runs[0], k), getattr(runs[1], k))
    for k in runs[0].trace:
        np.testing.assert_array_equal(runs[0].trace[k], runs[1].trace[k])
    assert not np.array_equal(runs[0].Q_r, runs[2].Q_r, equal_nan=True)


def test_consistency_chunking_does_not_change_the_bits():
    w, p, prior, exact = _setup(seed=12, beta_r=3.0)
    cfg = SAConfig(mode="sampled", beta_r_rampup_steps=5_000, warmup_v_h_e_steps=500)
    a = run_sa(w, prior, p, cfg, 20_000, seed=5, record_every=20_000)
    b = run_sa(w, prior, p, cfg, 20_000, seed=5, record_every=777)
    for k in FIELDS:
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))


class _Killed(Exception):
    pass


def test_consistency_resume_after_a_kill_is_bit_identical(tmp_path, monkeypatch):
    w, p, prior, exact = _setup(seed=13, beta_r=2.0)
    cfg = SAConfig(mode="sampled", beta_r_rampup_steps=10_000, q_r_target_update_interval=100)
    kw = dict(exact=exact, seed=9, record_every=2_000)
    full = run_sa(w, prior, p, cfg, 30_000, **kw)
    ckpt = tmp_path / "run.ckpt.npz"
    real_save = sa_checkpoint.save_checkpoint
    saves = []

    def save_then_die(*args, **kwargs):
        out = real_save(*args, **kwargs)
        saves.append(1)
        if len(saves) == 3:
            raise _Killed
        return out

    monkeypatch.setattr(sa_checkpoint, "save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        run_sa(w, prior, p, cfg, 30_000, checkpoint=ckpt, checkpoint_every=4_000, **kw)
    monkeypatch.setattr(sa_checkpoint, "save_checkpoint", real_save)
    resumed = run_sa(w, prior, p, cfg, 30_000, checkpoint=ckpt, checkpoint_every=4_000, resume=True, **kw)
    for k in FIELDS:
        np.testing.assert_array_equal(getattr(full, k), getattr(resumed, k))
    for k in ("step", "err_sup_Q_r", "beta_r", "residual"):
        np.testing.assert_array_equal(full.trace[k], resumed.trace[k])


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    w, p, prior, _ = _setup(seed=14)
    ckpt = tmp_path / "c.npz"
    run_sa(w, prior, p, SAConfig(), 1000, checkpoint=ckpt, checkpoint_every=500)
    with pytest.raises(ValueError, match="different run: config"):
        run_sa(w, prior, p, SAConfig(lr_q_r=0.2), 1000, checkpoint=ckpt, resume=True)
    with pytest.raises(ValueError, match="different run: seed"):
        run_sa(w, prior, p, SAConfig(), 1000, checkpoint=ckpt, resume=True, seed=1)


def test_resume_without_a_checkpoint_file_is_an_error(tmp_path):
    w, p, prior, _ = _setup(seed=14)
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        run_sa(w, prior, p, SAConfig(), 10, checkpoint=tmp_path / "none.npz", resume=True)
    with pytest.raises(ValueError, match="needs a checkpoint path"):
        run_sa(w, prior, p, SAConfig(), 10, resume=True)


# ---------------------------------------------------------------- argument errors
@pytest.fixture(scope="module")
def small():
    return _setup(seed=15, n_states=8)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"n_steps": 0}, ValueError, "n_steps must be >= 1"),
    ({"n_steps": 2.5}, TypeError, "n_steps"),
    ({"seed": -1}, ValueError, "seed must be in"),
    ({"record_every": 0}, ValueError, "record_every must be >= 1"),
    ({"exact": "x"}, TypeError, "exact must be a Phase2Solution"),
    ({"config": {"lr_q_r": 0.1}}, TypeError, "config must be a SAConfig"),
])
def test_run_sa_argument_errors(small, kwargs, exc, match):
    w, p, prior, _ = small
    args = dict(config=SAConfig(), n_steps=10)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        run_sa(w, prior, p, **args)


def test_ramp_to_infinite_beta_is_rejected(small):
    w, _, prior, _ = small
    with pytest.raises(ValueError, match="ramp to beta_r = inf"):
        run_sa(w, prior, et.EmpoParams(beta_r=math.inf), SAConfig(beta_r_rampup_steps=10), 10)


@pytest.mark.parametrize("field,value,exc,match", [
    ("mode", "mc", ValueError, "SAConfig.mode must be one of"),
    ("visit", "random", ValueError, "SAConfig.visit must be one of"),
    ("lr_schedule", "cosine", ValueError, "SAConfig.lr_schedule must be one of"),
    ("lr_clock", "wall", ValueError, "SAConfig.lr_clock must be one of"),
    ("beta_r_continuation_mode", "arclength", ValueError, "SAConfig.beta_r_continuation_mode"),
    ("x_h_target", "mean", ValueError, "SAConfig.x_h_target must be one of"),
    ("lr_v_h_e", 0.0, ValueError, "SAConfig.lr_v_h_e"),
    ("lr_x_h", 1.5, ValueError, "SAConfig.lr_x_h"),
    ("lr_u_r", float("nan"), ValueError, "SAConfig.lr_u_r"),
    ("lr_q_r", -0.1, ValueError, "SAConfig.lr_q_r"),
    ("lr_v_r", "fast", TypeError, "SAConfig.lr_v_r"),
    ("lr_constant_fraction", 1.2, ValueError, "SAConfig.lr_constant_fraction"),
    ("lr_decay_exponent", 0.0, ValueError, "SAConfig.lr_decay_exponent"),
    ("lr_visits_constant", 0, ValueError, "SAConfig.lr_visits_constant"),
    ("warmup_v_h_e_steps", -1, ValueError, "SAConfig.warmup_v_h_e_steps"),
    ("warmup_x_h_steps", 1.5, TypeError, "SAConfig.warmup_x_h_steps"),
    ("warmup_u_r_steps", -5, ValueError, "SAConfig.warmup_u_r_steps"),
    ("warmup_q_r_steps", -1, ValueError, "SAConfig.warmup_q_r_steps"),
    ("warmup_v_r_steps", -1, ValueError, "SAConfig.warmup_v_r_steps"),
    ("beta_r_rampup_steps", -1, ValueError, "SAConfig.beta_r_rampup_steps"),
    ("evaluator_updates_per_q_update", 0, ValueError, "SAConfig.evaluator_updates_per_q_update"),
    ("q_r_target_update_interval", 0, ValueError, "SAConfig.q_r_target_update_interval"),
    ("v_r_target_update_interval", 0, ValueError, "SAConfig.v_r_target_update_interval"),
    ("v_h_e_target_update_interval", 0, ValueError, "SAConfig.v_h_e_target_update_interval"),
    ("x_h_target_update_interval", 0, ValueError, "SAConfig.x_h_target_update_interval"),
    ("u_r_target_update_interval", 0, ValueError, "SAConfig.u_r_target_update_interval"),
    ("target_polyak_tau", 0.0, ValueError, "SAConfig.target_polyak_tau"),
    ("x_h_use_network", 1, TypeError, "SAConfig.x_h_use_network must be a bool"),
    ("u_r_use_network", "yes", TypeError, "SAConfig.u_r_use_network must be a bool"),
    ("v_r_use_network", None, TypeError, "SAConfig.v_r_use_network must be a bool"),
    ("goal_assignment", 0, TypeError, "SAConfig.goal_assignment must be a bool"),
    ("steps_per_episode", 0, ValueError, "SAConfig.steps_per_episode"),
    ("epsilon_r_start", 1.1, ValueError, "SAConfig.epsilon_r_start"),
    ("epsilon_r_end", -0.1, ValueError, "SAConfig.epsilon_r_end"),
    ("epsilon_r_decay_steps", -1, ValueError, "SAConfig.epsilon_r_decay_steps"),
    ("epsilon_h_start", 2.0, ValueError, "SAConfig.epsilon_h_start"),
    ("epsilon_h_end", -1.0, ValueError, "SAConfig.epsilon_h_end"),
    ("epsilon_h_decay_steps", -2, ValueError, "SAConfig.epsilon_h_decay_steps"),
    ("goal_resample_prob", 1.5, ValueError, "SAConfig.goal_resample_prob"),
    ("x_h_floor", 0.0, ValueError, "SAConfig.x_h_floor"),
])
def test_config_error_per_field(field, value, exc, match):
    with pytest.raises(exc, match=match):
        SAConfig(**{field: value})


@pytest.mark.parametrize("kwargs,match", [
    ({"goal_assignment": True}, "goal_assignment needs visit='on_policy'"),
    ({"x_h_target": "assigned_goal"}, "needs goal_assignment=True"),
    ({"x_h_target": "sampled_goal", "x_h_use_network": False}, "needs x_h_use_network=True"),
])
def test_config_inconsistent_combinations(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SAConfig(**kwargs)


def test_config_dict_round_trip_and_unknown_field():
    cfg = SAConfig(mode="sampled", lr_q_r=0.01, warmup_q_r_steps=10)
    assert SAConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(TypeError, match="unknown SAConfig field"):
        SAConfig.from_dict({"lr_q": 0.1})
