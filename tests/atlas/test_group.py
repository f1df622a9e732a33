"""The per-group task's SA settings and cold start, checked field by field."""
import numpy as np
import pytest

from empo_tabular.atlas.group import cold_start, sa_config
from empo_tabular.atlas.spec import Scheme
from empo_tabular.worlds.random_worlds import random_world

SAMPLED = {"fast_exponent": 0.6, "slow_exponent": 0.9, "constant_fraction": 0.3}


def test_expected_scheme_fields():
    cfg = sa_config(Scheme("x", 0.5, 0.4, k=5, q_target=10), "expected", 300, SAMPLED)
    assert (cfg.mode, cfg.visit, cfg.lr_schedule) == ("expected", "synchronous", "constant")
    assert cfg.lr_v_h_e == cfg.lr_x_h == cfg.lr_u_r == 0.5
    assert cfg.lr_q_r == cfg.lr_v_r == pytest.approx(0.2)
    assert cfg.evaluator_updates_per_q_update == 5 and cfg.q_r_target_update_interval == 10
    assert cfg.x_h_use_network and cfg.u_r_use_network and not cfg.v_r_use_network


def test_sampled_scheme_is_two_timescale_with_warmup():
    cfg = sa_config(Scheme("w", 1.0, 1.0, warmup=True), "sampled", 1000, SAMPLED)
    assert (cfg.mode, cfg.visit, cfg.lr_schedule) == ("sampled", "uniform", "polynomial")
    assert (cfg.lr_decay_exponent, cfg.lr_slow_decay_exponent, cfg.lr_constant_fraction) == (0.6, 0.9, 0.3)
    assert cfg.warmup_v_h_e_steps == 50 and cfg.beta_r_rampup_steps == 200  # 5 % per stage, 20 % ramp
    ramp = sa_config(Scheme("r", 1.0, 1.0, ramp=True), "expected", 1000, SAMPLED)
    assert ramp.beta_r_rampup_steps == 200 and ramp.warmup_v_h_e_steps == 0


def test_cold_start_noise():
    w = random_world(7, n_goals=2, seed=3)
    assert cold_start(w, 0.0, 5) is None  # the engine's exactly symmetric default
    a, b = cold_start(w, 1e-6, 5), cold_start(w, 1e-6, 5)
    live = ~w.terminal
    np.testing.assert_array_equal(a["Q_r"], b["Q_r"])  # same seed, same bits
    q = -a["Q_r"][live]
    assert np.all(np.abs(np.log(q)) <= 1e-6) and np.ptp(q) > 0
    assert np.all(a["V_h_e"][live][:, :, : int(w.goal_count.min())] == 0.5)


def test_a_group_runs_numba_on_one_thread(monkeypatch, tmp_path):
    # the engine runs one group per core; a world from 50,000 states would otherwise sweep its blocks on every
    # core inside every task.  Spy on the exact solver inside the task (serial engine, same function as on Dask)
    import numba

    import empo_tabular.atlas.group as group_module
    from empo_tabular.atlas.cells import enumerate_groups
    from empo_tabular.atlas.spec import parse_spec

    seen = []
    real = group_module.solve_phase2

    def spy(*args, **kwargs):
        seen.append(numba.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(group_module, "solve_phase2", spy)
    spec = parse_spec({"name": "threads", "betas": [2.0], "modes": ["expected"], "seeds": 1,
                       "schemes": ["equal_fast"], "expected": {"n_steps": 20}, "fixed_points": {"starts": 0},
                       "worlds": [{"random": "tiny", "seed": 4, "n_states": 10, "n_goals": 2}]})
    before = numba.get_num_threads()
    group_module.run_group(enumerate_groups(spec)[0], spec.to_dict(), out_dir=None)
    assert seen == [1] and numba.get_num_threads() == before
