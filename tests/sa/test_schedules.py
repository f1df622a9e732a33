"""Schedules of two-timescale SA against their formulas and EMPO_SEMANTICS §4.6, §4.7, §4.9."""
import math

import numpy as np
import pytest

from empo_tabular.sa.config import SAConfig
from empo_tabular.sa.schedules import (
    SIGMOID_M3,
    SIGMOID_P3,
    beta_at,
    epsilon_at,
    lr_at,
    lr_decay_start,
    stage_at,
    warmup_boundaries,
)


def test_sigmoid_constants_match_the_spec():
    assert SIGMOID_M3 == pytest.approx(0.047426, abs=1e-6)
    assert SIGMOID_P3 == pytest.approx(0.952574, abs=1e-6)


def test_reference_default_timeline():
    # code defaults: 10k V_h^e, 10k X_h, U_r forced to 0, 10k Q_r, V_r forced to 0, ramp 20k
    cfg = SAConfig(warmup_v_h_e_steps=10_000, warmup_x_h_steps=10_000, warmup_u_r_steps=5_000,
                   warmup_q_r_steps=10_000, warmup_v_r_steps=5_000, beta_r_rampup_steps=20_000)
    assert cfg.boundaries() == (10_000, 20_000, 20_000, 30_000, 30_000)
    stages = stage_at(np.array([0, 9_999, 10_000, 19_999, 20_000, 29_999, 30_000, 49_999, 50_000]),
                      cfg.boundaries(), 20_000)
    assert stages.tolist() == [0, 0, 1, 1, 3, 3, 5, 5, 6]
    assert lr_decay_start(30_000, 20_000, 100_000, 0.7) == 70_000


def test_warmup_boundaries_are_cumulative():
    assert warmup_boundaries(1, 2, 3, 4, 5) == (1, 3, 6, 10, 15)


def test_learned_u_r_and_v_r_keep_their_stages():
    cfg = SAConfig(u_r_use_network=True, v_r_use_network=True, warmup_v_h_e_steps=1, warmup_x_h_steps=2,
                   warmup_u_r_steps=3, warmup_q_r_steps=4, warmup_v_r_steps=5)
    assert cfg.boundaries() == (1, 3, 6, 10, 15)
    assert stage_at(np.arange(16), cfg.boundaries(), 0).tolist() == [0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 6]


def test_beta_schedule_values_of_the_reference_tests():
    # §4.7: E5 = 3000, B = 2000, beta_r = 10
    assert 0.0 < beta_at(3001, 10.0, 3000, 2000) < 1.0
    assert 4.0 < beta_at(4000, 10.0, 3000, 2000) < 6.0
    assert beta_at(6000, 10.0, 3000, 2000) == 10.0
    assert beta_at(2999, 10.0, 3000, 2000) == 0.0
    # B = 0: a jump at E5
    assert beta_at(2999, 10.0, 3000, 0) == 0.0
    assert beta_at(3000, 10.0, 3000, 0) == 10.0


def test_sigmoid_ramp_formula_and_midpoint():
    e5, B, br = 100, 1000, 7.0
    tau = np.arange(0, B + 1)
    x = 6.0 * (tau / B - 0.5)
    sig = 1.0 / (1.0 + np.exp(-x))
    want = br * np.clip((sig - SIGMOID_M3) / (SIGMOID_P3 - SIGMOID_M3), 0, 1)
    got = beta_at(e5 + tau, br, e5, B)
    np.testing.assert_allclose(got[:-1], want[:-1], rtol=1e-12, atol=1e-12)
    assert got[0] == 0.0 and got[-1] == br
    assert beta_at(e5 + B // 2, br, e5, B) == pytest.approx(br / 2, rel=1e-12)
    assert np.all(np.diff(got) >= 0)


def test_linear_ramp():
    np.testing.assert_allclose(beta_at([10, 15, 20, 30], 4.0, 10, 10, "linear"), [0.0, 2.0, 4.0, 4.0])


def test_beta_ramp_to_infinity_and_zero():
    assert beta_at(5, math.inf, 0, 0) == math.inf
    assert beta_at(0, 0.0, 0, 10) == 0.0


def test_lr_values_of_the_reference_tests():
    # §4.9: base 1e-3, N = 100k, fraction 0.5, 1/t
    t0 = lr_decay_start(0, 0, 100_000, 0.5)
    assert t0 == 50_000
    lr = lambda t: float(lr_at(t, 1e-3, "constant_then_1_over_t", t0))  # noqa: E731
    assert lr(50_000) == pytest.approx(1e-3)
    assert lr(100_000) == pytest.approx(5e-4)
    assert lr(80_000) / lr(60_000) == pytest.approx(0.75)
    sq = lambda t: float(lr_at(t, 1e-3, "constant_then_1_over_sqrt_t", t0))  # noqa: E731
    assert sq(80_000) / sq(60_000) == pytest.approx(math.sqrt(0.75))
    assert sq(10_000) == 1e-3


def test_lr_is_constant_during_warmup_and_ramp():
    cfg_t0 = lr_decay_start(30_000, 20_000, 60_000, 0.1)  # the fraction alone would start at 6000
    assert cfg_t0 == 50_000
    lrs = lr_at(np.arange(0, 50_000, 997), 0.2, "constant_then_1_over_t", cfg_t0)
    assert np.all(lrs == 0.2)


def test_polynomial_schedule():
    got = lr_at(np.array([5, 10, 40]), 0.5, "polynomial", 10, omega=0.6)
    np.testing.assert_allclose(got, [0.5, 0.5, 0.5 * 0.25 ** 0.6])
    np.testing.assert_array_equal(lr_at(np.arange(5), 0.3, "constant", 0), np.full(5, 0.3))


def test_unknown_schedules_are_rejected():
    with pytest.raises(ValueError, match="lr schedule"):
        lr_at(1, 0.1, "cosine", 1)
    with pytest.raises(ValueError, match="ramp mode"):
        beta_at(1, 1.0, 0, 10, "cosine")


def test_epsilon_schedule():
    np.testing.assert_allclose(epsilon_at([0, 5, 10, 20], 1.0, 0.01, 10), [1.0, 0.505, 0.01, 0.01])
    assert epsilon_at(0, 1.0, 0.2, 0) == 0.2
