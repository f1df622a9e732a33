"""Measured trace labels (empo_tabular.sa.labels): constructed traces with known fate, and real SA runs.

Expected rates, periods and step estimates are written out from the constructions (geometric factors,
periods), never taken from the code under test.
"""
import math

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.sa import experiments as ex
from empo_tabular.sa.labels import LABEL_TEXT, LABELS, label_trace
from empo_tabular.worlds.scenarios import get_scenario

STEPS = np.arange(0, 400, 10)  # 40 records, one every 10 steps


def test_every_label_has_a_legend_text():
    assert set(LABEL_TEXT) == set(LABELS) == {"converged", "converging", "oscillating", "diverging", "plateau"}


def test_converged_below_tol():
    lab = label_trace(0.5 ** np.arange(40), STEPS, tol=1e-6)
    assert lab.label == "converged" and lab.final == 0.5 ** 39


def test_geometric_decay_is_converging_with_its_rate_and_steps_to_tol():
    err = 0.9 ** np.arange(40)  # factor 0.9 per record = 0.9 ** (1/10) per step
    lab = label_trace(err, STEPS, tol=1e-12)
    assert lab.label == "converging"
    assert lab.rate == pytest.approx(0.9 ** 0.1, rel=1e-9)
    expected = (math.log10(1e-12) - math.log10(0.9 ** 39)) / math.log10(0.9 ** 0.1)
    assert lab.steps_to_tol == pytest.approx(expected, rel=1e-6)


def test_damped_oscillation_is_converging():
    k = np.arange(40)
    err = 0.85 ** k * (1.0 + 0.3 * (-1) ** k)
    assert label_trace(err, STEPS, tol=1e-12).label == "converging"


def test_period_two_flip_is_oscillating_with_its_period_in_steps():
    err = np.tile([0.02, 0.05], 20)
    lab = label_trace(err, STEPS, tol=1e-6)
    assert lab.label == "oscillating" and lab.period == 20


def test_smooth_cycle_reports_its_period():
    k = np.arange(40)
    err = 1e-3 * 10 ** (0.2 * np.sin(2 * np.pi * k / 5))
    lab = label_trace(err, STEPS, tol=1e-6)
    assert lab.label == "oscillating" and lab.period == 50


def test_growth_and_non_finite_are_diverging():
    assert label_trace(1.2 ** np.arange(40), STEPS, tol=1e-6).label == "diverging"
    assert label_trace(np.r_[np.full(39, 0.1), np.inf], STEPS, tol=1e-6).label == "diverging"
    assert label_trace(np.r_[np.full(39, 0.1), np.nan], STEPS, tol=1e-6).label == "diverging"


def test_noise_floor_is_a_plateau():
    rng = np.random.default_rng(0)
    err = 1e-2 * np.exp(0.05 * rng.standard_normal(40))
    lab = label_trace(err, STEPS, tol=1e-6)
    assert lab.label == "plateau"
    flat = label_trace(np.full(40, 3e-3), STEPS, tol=1e-6)
    assert flat.label == "plateau"


@pytest.mark.parametrize("kwargs, match", [
    ({"errors": []}, "errors is empty"),
    ({"errors": [1.0, 0.5], "steps": [0]}, "steps has 1 entries"),
    ({"errors": [1.0], "tol": 0.0}, "tol must be a positive"),
    ({"errors": [1.0], "window": 0.0}, "window must be in"),
])
def test_bad_input_is_one_line(kwargs, match):
    with pytest.raises(ValueError, match=match):
        label_trace(**kwargs)


@pytest.fixture(scope="module")
def demo_world():
    gw, params = get_scenario("shared_switch")
    params = params.replace(gamma_r=0.5)
    prior = et.solve_phase1(gw.world, params)
    return gw.world, prior, params


def _run(demo_world, beta, lr, n_steps, record_every=None):
    world, prior, params = demo_world
    p = params.replace(beta_r=beta)
    exact = et.solve_phase2(world, prior, p)
    cfg = ex.rates(lr, lr)
    res = et.run_sa(world, prior, p, cfg, n_steps, exact=exact, record_every=record_every or max(1, n_steps // 100))
    return label_trace(res.trace["err_sup_Q_r"], res.trace["step"], 1e-6)


def test_real_run_equal_rates_short_is_converging(demo_world):
    """Notebook 03's case: equal rates 0.1 for 300 sweeps fall steadily; they must not be called stalled."""
    lab = _run(demo_world, 1.0, 0.1, 300)
    assert lab.label == "converging" and lab.rate < 1.0 and lab.steps_to_tol > 0


def test_real_run_equal_rates_long_converges(demo_world):
    assert _run(demo_world, 1.0, 0.1, 2000).label == "converged"


def test_real_run_undamped_at_beta_100_is_a_limit_cycle(demo_world):
    """Undamped equal rates at beta_r = 100 cycle (rho(J) > 1 of the Jacobi map on this world)."""
    lab = _run(demo_world, 100.0, 1.0, 2000, record_every=10)  # the experiments' default resolution
    assert lab.label == "oscillating", lab
    assert lab.final > 1e-4 and lab.period is not None and lab.period % 10 == 0
