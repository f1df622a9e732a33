"""The public hypothesis strategies of empo_tabular.testing produce valid objects across their ranges."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import empo_tabular as et
from empo_tabular.testing import betas, params, power_law_inputs, q_tables, worlds


@given(worlds(), st.data())
def test_worlds_are_valid_and_solvable_at_beta_zero(world, data):
    assert isinstance(world, et.TabularWorld)
    assert 2 <= world.n_states <= 7 and 1 <= world.n_humans <= 2 and 1 <= world.n_goals <= 3
    assert world.n_ar in (2, 3) and not world.terminal.all()
    # every human has an achievable goal with positive weight
    assert np.all(np.any(world.achieved & (world.goal_weight > 0)[:, :, None], axis=(1, 2)))
    p = data.draw(params(beta_r=0.0))
    prior = et.solve_phase1(world, p)
    sol = et.solve_phase2(world, prior, p)
    live = ~world.terminal
    assert np.all(sol.X_h[live] > 0) and np.all(np.isfinite(sol.V_r))


@given(st.data())
def test_world_options_are_respected(data):
    acyclic = data.draw(st.booleans())
    stochastic = data.draw(st.booleans())
    terminals = data.draw(st.booleans())
    w = data.draw(worlds(acyclic=acyclic, min_states=3, max_states=5, humans=2, robots=(0, 2), actions=2, goals=1,
                         stochastic=stochastic, terminals=terminals))
    assert w.is_acyclic == acyclic and 3 <= w.n_states <= 5
    assert w.n_humans == 2 and w.n_ah == 4 and w.n_goals == 1 and w.n_ar in (1, 2, 4)
    widths = np.diff(w.trans_ptr).reshape(w.n_states, -1)[~w.terminal]
    if not stochastic:  # one successor per row (plus the 10 % drift of cyclic worlds)
        assert widths.max() <= (1 if acyclic else 2)
    if not acyclic and not terminals:
        assert not w.terminal.any()


@given(params())
def test_params_defaults_are_in_the_theory_ranges(p):
    assert isinstance(p, et.EmpoParams)
    assert 0.3 <= p.gamma_r <= 0.97 and 0.3 <= p.gamma_h <= 0.97
    assert 1 <= p.zeta <= 3 and 1 <= p.xi <= 2 and 1 <= p.eta <= 2
    assert 0 <= p.beta_r <= 200 and p.terminal_v_r < 0 and p.c_r > 0


@given(params(beta_r=0.0, gamma_r=st.just(0.5), c_r=2.0))
def test_params_fields_can_be_fixed(p):
    assert p.beta_r == 0.0 and p.gamma_r == 0.5 and p.c_r == 2.0


def test_params_rejects_unknown_fields():
    with pytest.raises(TypeError, match="unknown EmpoParams field"):
        params(beta=1.0)


@given(betas(1e3, include_inf=True))
def test_betas_range(beta):
    assert beta == math.inf or 0.0 <= beta <= 1e3


@given(betas(50.0, min_beta=5.0))
def test_betas_min(beta):
    assert 5.0 <= beta <= 50.0


@given(q_tables(st.integers(1, 4), st.integers(1, 5), min_magnitude=1e-300, max_magnitude=1e300))
def test_q_tables_are_strictly_negative_and_finite(Q):
    assert Q.ndim == 2 and 1 <= Q.shape[0] <= 4 and 1 <= Q.shape[1] <= 5
    assert np.all(np.isfinite(Q)) and np.all(Q < 0)
    assert np.all(np.abs(Q) >= 1e-300) and np.all(np.abs(Q) <= 1e300)
    et.power_law_policy(Q, 3.0)  # accepted by the public validator


@given(q_tables(3, 2))
def test_q_tables_default_magnitudes(Q):
    assert Q.shape == (3, 2) and np.all((np.abs(Q) >= 1e-6) & (np.abs(Q) <= 1e6))


@given(power_law_inputs(max_actions=4))
def test_power_law_inputs(case):
    Q, beta = case
    assert Q.ndim == 1 and 1 <= Q.size <= 4 and np.all(Q < 0) and 0 <= beta <= 1e3


def test_argument_errors():
    with pytest.raises(ValueError):
        worlds(min_states=1)
    with pytest.raises(TypeError):
        worlds(humans="two")
    with pytest.raises(ValueError):
        q_tables(2, 2, min_magnitude=0.0)
    with pytest.raises(ValueError):
        betas(0.0)


def test_docstring_examples_run():
    import doctest

    import empo_tabular.testing as package
    import empo_tabular.testing.strategies as module

    for m in (package, module):
        assert doctest.testmod(m).failed == 0, m.__name__


def test_clear_import_error_without_hypothesis():
    import subprocess
    import sys

    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import empo_tabular.testing\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "needs the 'hypothesis' package" in out and "pip install" in out
    # and the package itself does not need hypothesis
    code = "import sys; sys.modules['hypothesis'] = None; import empo_tabular; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "ok"
