"""Hypothesis strategies for property-based tests of EMPO code (needs the ``dev`` extra).

This subpackage is for *your* tests: it draws valid inputs for
:mod:`empo_tabular` so that you can state properties of your own solver,
learner or analyzer and let `hypothesis <https://hypothesis.readthedocs.io>`_
search for counterexamples (and shrink them to small ones).

Strategies
----------
worlds(...)            valid :class:`~empo_tabular.TabularWorld` objects (acyclic or cyclic,
                       1-2 humans, robots, goals, deterministic or stochastic rows)
params(...)            valid :class:`~empo_tabular.EmpoParams` (any field can be fixed)
betas(...)             power-law exponents: 0, small, and log-uniform up to a maximum
q_tables(...)          strictly negative finite Q arrays with magnitudes from 1e-6 to 1e6
                       (or any range inside [1e-300, 1e300])
power_law_inputs(...)  ``(Q_row, beta)`` pairs for the power-law policy

Properties
----------
check_convergence(...)       SA converges iff the analyzer predicts it, outside a margin |rho_pred - 1|
stationary_world_specs(...)  random stationary worlds as atlas WorldSpecs (replayable as @example)
sa_schemes(...)              SA schemes (a, kappa, k, Q_r target interval)

hypothesis is not a runtime dependency of empo_tabular.  Importing this
subpackage without it raises an ``ImportError`` that says how to install it
(``pip install "empo-tabular[dev]"`` or ``pip install hypothesis``).

Examples
--------
>>> from hypothesis import given, settings
>>> import empo_tabular as et
>>> from empo_tabular.testing import worlds, params
>>> @settings(max_examples=5, deadline=None)
... @given(worlds(acyclic=True, max_states=5), params(beta_r=0.0))
... def test_v_h_e_is_a_probability(world, p):
...     prior = et.solve_phase1(world, p)
...     sol = et.solve_phase2(world, prior, p)
...     assert 0.0 <= sol.V_h_e.min() and sol.V_h_e.max() <= 1.0 + 1e-12  # rounding
>>> test_v_h_e_is_a_probability()
"""
try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the dev extra
    raise ImportError(
        "empo_tabular.testing needs the 'hypothesis' package, which is not a runtime dependency of "
        "empo_tabular; install it with  pip install \"empo-tabular[dev]\"  (or  pip install hypothesis)"
    ) from exc

from .convergence import (ConvergenceCheck, check_convergence, random_family, sa_schemes,
                          stationary_world_specs)
from .strategies import betas, params, power_law_inputs, q_tables, worlds

__all__ = ["ConvergenceCheck", "betas", "check_convergence", "params", "power_law_inputs", "q_tables",
           "random_family", "sa_schemes", "stationary_world_specs", "worlds"]
