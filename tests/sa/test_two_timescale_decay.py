"""SAConfig.lr_slow_decay_exponent: the optimizer's rate decays faster (b_n / a_n -> 0), checked by hand."""
import numpy as np
import pytest

from empo_tabular.core.params import EmpoParams
from empo_tabular.exact.phase1 import solve_phase1
from empo_tabular.sa import SAConfig, run_sa
from empo_tabular.worlds.random_worlds import random_world


def test_traced_rates_follow_two_exponents():
    w = random_world(6, n_goals=2, seed=1)
    p = EmpoParams(beta_h=5.0, gamma_h=0.9, beta_r=2.0, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1)
    cfg = SAConfig(mode="sampled", visit="uniform", lr_schedule="polynomial", lr_decay_exponent=0.6,
                   lr_slow_decay_exponent=0.9, lr_constant_fraction=0.1, lr_v_h_e=0.8, lr_x_h=0.8, lr_u_r=0.8,
                   lr_q_r=0.5, lr_v_r=0.5, u_r_use_network=True)
    n = 2000
    res = run_sa(w, solve_phase1(w, p), p, cfg, n, record_every=100)
    t0 = 200  # floor(0.1 * 2000), no warm-up
    t = res.trace["step"][-1] - 1  # rates recorded are those of the last step of the chunk
    assert res.trace["lr_v_h_e"][-1] == pytest.approx(0.8 * (t0 / t) ** 0.6, rel=1e-12)
    assert res.trace["lr_u_r"][-1] == pytest.approx(0.8 * (t0 / t) ** 0.6, rel=1e-12)
    assert res.trace["lr_q_r"][-1] == pytest.approx(0.5 * (t0 / t) ** 0.9, rel=1e-12)
    assert res.trace["lr_v_r"][-1] == pytest.approx(0.5 * (t0 / t) ** 0.9, rel=1e-12)
    ratio = np.asarray(res.trace["lr_q_r"]) / np.asarray(res.trace["lr_v_h_e"])
    assert np.all(np.diff(ratio[3:]) < 0)  # b_n / a_n falls after t0


def test_slow_exponent_needs_the_global_clock():
    with pytest.raises(ValueError, match="lr_slow_decay_exponent needs lr_clock='global'"):
        SAConfig(lr_slow_decay_exponent=0.9, lr_clock="visits")
    with pytest.raises(ValueError, match="lr_slow_decay_exponent"):
        SAConfig(lr_slow_decay_exponent=0.0)
