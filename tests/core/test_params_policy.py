"""EmpoParams validation (one test per error) and the power-law policy at the extremes."""
import math

import numpy as np
import pytest

from empo_tabular import EmpoParams, power_law_policy


def test_defaults_and_roundtrip():
    p = EmpoParams()
    assert EmpoParams.from_dict(p.to_dict()) == p
    assert p.replace(beta_r=3.0).beta_r == 3.0


@pytest.mark.parametrize(
    "field, value, pattern",
    [
        ("beta_h", -1.0, r"beta_h must lie in \[0.0, inf\]"),
        ("beta_h", math.nan, "beta_h must not be NaN"),
        ("beta_r", -0.5, r"beta_r must lie in \[0.0, inf\]"),
        ("beta_r", math.nan, "beta_r must not be NaN"),
        ("gamma_h", 0.0, r"gamma_h must lie in \(0.0, 1.0\]"),
        ("gamma_h", 1.5, r"gamma_h must lie in \(0.0, 1.0\]"),
        ("gamma_r", 0.0, r"gamma_r must lie in \(0.0, 1.0\]"),
        ("gamma_r", math.inf, "gamma_r must be finite"),
        ("zeta", 0.0, r"zeta must lie in \(0.0, inf\]"),
        ("xi", -1.0, r"xi must lie in \(0.0, inf\]"),
        ("eta", 0.0, r"eta must lie in \(0.0, inf\]"),
        ("eta", math.inf, "eta must be finite"),
        ("terminal_v_r", 0.0, r"terminal_v_r must lie in \[-inf, 0.0\)"),
        ("terminal_v_r", 1e-12, r"terminal_v_r must lie in \[-inf, 0.0\)"),
        ("terminal_v_r", -1e-320, "too close to 0"),
        ("c_r", 0.0, r"c_r must lie in \(0.0, inf\]"),
    ],
)
def test_invalid_field(field, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        EmpoParams(**{field: value})


def test_type_errors():
    with pytest.raises(TypeError, match="beta_r must be a real number, got str"):
        EmpoParams(beta_r="10")
    with pytest.raises(TypeError, match="gamma_h must be a real number, got a bool"):
        EmpoParams(gamma_h=True)
    with pytest.raises(TypeError, match="unknown EmpoParams field"):
        EmpoParams.from_dict({"beta": 1.0})


def test_reference_c_r():
    assert EmpoParams.reference_c_r(1.0) == 1.0
    assert abs(EmpoParams.reference_c_r(0.99) - 0.9949916247342216) < 1e-15
    assert abs(EmpoParams.reference_c_r(0.5) - 0.7213475204444817) < 1e-15


# ---------------------------------------------------------------- power law
def test_power_law_matches_direct_formula():
    rng = np.random.default_rng(0)
    Q = -rng.uniform(0.5, 5.0, size=(20, 4))
    for beta in (0.0, 0.3, 1.0, 7.0):
        direct = (-Q) ** (-beta)
        direct /= direct.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(power_law_policy(Q, beta), direct, rtol=1e-13, atol=1e-15)


def test_power_law_beta_zero_uniform():
    pi = power_law_policy(np.array([-1.0, -1e-300, -1e300]), 0.0)
    assert np.all(pi == 1.0 / 3)


@pytest.mark.parametrize("beta", [1e6, 1e300])
def test_power_law_huge_beta_no_overflow(beta):
    Q = np.array([[-1.0, -1.0 - 1e-9, -5.0], [-1e-300, -1e300, -1.0], [-2.0, -2.0, -2.0]])
    pi = power_law_policy(Q, beta)
    assert np.all(np.isfinite(pi)) and np.allclose(pi.sum(axis=1), 1.0)
    assert pi[1, 0] == 1.0
    np.testing.assert_allclose(pi[2], 1.0 / 3)


def test_power_law_inf_is_greedy_with_ties():
    Q = np.array([[-2.0, -1.0, -1.0, -3.0], [-1.0, -1.0 * (1 + 1e-13), -1.1, -9.0], [-5.0, -4.0, -3.0, -2.0]])
    pi = power_law_policy(Q, math.inf)
    np.testing.assert_array_equal(pi[0], [0, 0.5, 0.5, 0])
    np.testing.assert_array_equal(pi[1], [0.5, 0.5, 0, 0])
    np.testing.assert_array_equal(pi[2], [0, 0, 0, 1])


def test_power_law_tiny_and_huge_magnitudes():
    Q = np.array([-1e-300, -2e-300])
    pi = power_law_policy(Q, 1.0)
    np.testing.assert_allclose(pi, [2 / 3, 1 / 3], rtol=1e-12)
    pi = power_law_policy(np.array([-1e300, -2e300]), 1.0)
    np.testing.assert_allclose(pi, [2 / 3, 1 / 3], rtol=1e-12)


def test_power_law_scale_invariant():
    Q = np.array([-1.0, -2.0, -7.0])
    for c in (1e-200, 1e-3, 1e5, 1e200):
        np.testing.assert_allclose(power_law_policy(c * Q, 3.0), power_law_policy(Q, 3.0), rtol=1e-12)


@pytest.mark.parametrize("bad", [0.0, 1.0, np.nan, -np.inf])
def test_power_law_rejects_non_negative_q(bad):
    with pytest.raises(ValueError, match=r"Q with shape \(2, 2\) must be finite and strictly negative; entry \[1, 0\]"):
        power_law_policy(np.array([[-1.0, -2.0], [bad, -1.0]]), 2.0)


def test_power_law_rejects_bad_beta():
    with pytest.raises(ValueError, match="beta must lie"):
        power_law_policy(np.array([-1.0]), -1.0)
    with pytest.raises(ValueError, match="beta must not be NaN"):
        power_law_policy(np.array([-1.0]), math.nan)
