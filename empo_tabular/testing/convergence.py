"""The contraction theory as a property: SA converges iff the analyzer predicts it (outside a margin).

Property (CONTRACTION_THEORY §4.3, §7).  For a stationary world, beta_r and an SA scheme (evaluator
step ``a``, ratio ``kappa``, update frequency ``k``, Q_r target interval), expected-mode synchronous SA
started close to the exact solution (relative perturbation ``perturbation`` of Q_r and V_h^e)
converges if and only if the predicted linear rate ``rho_pred`` (:func:`empo_tabular.atlas.predict.scheme_rate`
from the Jacobian at the exact fixed point) is < 1 - provided ``|rho_pred - 1| > margin``; inside the
margin the property says nothing (hypothesis discards the example).

Observed convergence: the Q_r sup error after ``n_steps`` is below its initial value.  With
``n_steps = ceil(3 / margin)`` a rate outside the margin moves the error by a factor of at least
``e^3 ~ 20`` (down if rho_pred < 1 - margin, up while it stays linear if rho_pred > 1 + margin).

Use it on your own world families:

>>> from hypothesis import given, settings
>>> from empo_tabular.testing import check_convergence, sa_schemes, stationary_world_specs
>>> @settings(max_examples=3, deadline=None)
... @given(stationary_world_specs(max_states=5), sa_schemes())
... def test_theory(world, scheme):
...     check_convergence(world, 10.0, scheme).assert_agrees()
>>> test_theory()

``world`` may be any :class:`~empo_tabular.atlas.spec.WorldSpec` (scenario, file or random family), so
cells of an atlas can be replayed as explicit ``@example`` s.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..atlas.group import build_world, sa_config
from ..atlas.predict import group_prediction
from ..atlas.spec import Scheme, WorldSpec
from ..exact.phase1 import solve_phase1
from ..exact.phase2 import solve_phase2
from ..sa.engine import perturbed_exact_start, run_sa

DEFAULT_MARGIN = 0.02


def random_family(n_states: int, seed: int, n_goals: int = 2, n_actions: int = 3, n_humans: int = 1) -> WorldSpec:
    """A random stationary world as a WorldSpec (the atlas's ``random`` worlds)."""
    args = {"family": "prop", "n_states": int(n_states), "seed": int(seed), "n_goals": int(n_goals),
            "n_actions": int(n_actions), "n_humans": int(n_humans)}
    return WorldSpec(f"prop_s{n_states}_seed{seed}", "random", tuple(sorted(args.items())))


def _valid(ws: WorldSpec) -> bool:
    """Every human keeps some power (X_h > 0): Phase 1 and Phase 2 solve."""
    from ..exact.system import XhZeroError

    w, params = build_world(ws)
    try:
        solve_phase2(w, solve_phase1(w, params), params.replace(beta_r=0.0))
    except XhZeroError:
        return False
    return True


def stationary_world_specs(min_states: int = 3, max_states: int = 7, goals=(1, 3), actions=(2, 3)):
    """Random stationary (cyclic) worlds as :class:`WorldSpec` (sizes and seed drawn, so they shrink), kept
    only when every human keeps some power (X_h > 0, so that EMPO is defined)."""
    return st.builds(random_family, st.integers(min_states, max_states), st.integers(0, 10_000),
                     st.integers(*goals), st.integers(*actions)).filter(_valid)


def sa_schemes(a=(0.05, 1.0), kappa=(0.05, 10.0), k=(1, 5), q_target=(1, 1)):
    """SA schemes: evaluator step ``a``, ratio ``kappa`` (log-uniform, with ``kappa * a <= 1``), k, Q_r target
    interval."""

    def build(a_, logk, k_, m_):
        a_ = round(a_, 6)
        kap = math.floor(min(math.exp(logk), 1.0 / a_) * 1e6) / 1e6  # kappa * a <= 1 after rounding too
        return Scheme(f"prop_a{a_:g}_k{kap:g}_f{k_}_t{m_}", a_, kap, k_, m_)

    return st.builds(build, st.floats(*a), st.floats(math.log(kappa[0]), math.log(kappa[1])),
                     st.integers(*k), st.integers(*q_target))


@dataclass(frozen=True)
class ConvergenceCheck:
    """The prediction and the observation for one (world, beta_r, scheme)."""

    world: str
    beta_r: float
    scheme: Scheme
    rho_pred: float
    margin: float
    err0: float
    err_final: float
    n_steps: int

    @property
    def decided(self) -> bool:
        """Outside the margin: the property makes a claim."""
        return abs(self.rho_pred - 1.0) > self.margin

    @property
    def predicted(self) -> bool:
        return self.rho_pred < 1.0

    @property
    def observed(self) -> bool:
        return bool(np.isfinite(self.err_final) and self.err_final < self.err0)

    @property
    def agrees(self) -> bool:
        return (not self.decided) or self.predicted == self.observed

    @property
    def message(self) -> str:
        return (f"{self.world}, beta_r={self.beta_r:g}, {self.scheme}: rho_pred={self.rho_pred:.5f} "
                f"(margin {self.margin:g}) predicts {'convergence' if self.predicted else 'divergence'}, but the Q_r "
                f"error went {self.err0:.3g} -> {self.err_final:.3g} in {self.n_steps} steps")

    def assert_agrees(self) -> None:
        """Discard the example inside the margin (hypothesis ``assume``); fail when theory and run disagree."""
        assume(self.decided)
        assert self.agrees, self.message


def check_convergence(world: WorldSpec, beta_r: float, scheme: Scheme, *, margin: float = DEFAULT_MARGIN,
                      perturbation: float = 1e-4, n_steps: int | None = None, seed: int = 0) -> ConvergenceCheck:
    """Predict and observe one (world, beta_r, scheme) (see the module docstring)."""
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    w, params = build_world(world)
    params = params.replace(beta_r=float(beta_r))
    prior = solve_phase1(w, params)
    exact = solve_phase2(w, prior, params)
    rho = float(group_prediction(w, prior, params, exact, [scheme], {"starts": 0}, seed)["rates"][scheme.linear_key])
    n = int(n_steps or math.ceil(3.0 / margin))
    n = max(n, scheme.k, scheme.q_target)
    start = perturbed_exact_start(w, exact, perturbation, np.random.default_rng(seed))
    start.pop("V_r")  # V_r follows from the others (not a learned table in these schemes)
    res = run_sa(w, prior, params, sa_config(scheme, "expected", n, {}), n, exact=exact, seed=seed,
                 record_every=n, initial=start)
    e = res.trace["err_sup_Q_r"]
    return ConvergenceCheck(world.key, float(beta_r), scheme, rho, float(margin), float(e[0]), float(e[-1]), n)
