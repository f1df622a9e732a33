"""EMPO's theory parameters: :class:`EmpoParams`."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .._validation import DictRecord, as_real, check_scalar_range


@dataclass(frozen=True)
class EmpoParams(DictRecord):
    """Parameters of EMPO Phase 1 and Phase 2 (validated on construction).

    Parameters
    ----------
    beta_h : float, default 10.0
        Human Boltzmann inverse temperature of the Phase 1 prior,
        ``pi_h ∝ exp(beta_h * Q_h^m)``.  Range ``[0, inf]``: 0 is uniform,
        ``inf`` is uniform over the argmax (ties within 1e-12 relative).
    gamma_h : float, default 0.99
        Human discount, applied to the continuation value after a step that
        does not achieve the goal.  Range ``(0, 1]``; 1 is allowed on acyclic
        (finite-horizon) worlds only: the solvers refuse it on cyclic worlds.
    beta_r : float, default 10.0
        Robot power-law exponent, ``pi_r(a) ∝ (-Q_r(s, a))^(-beta_r)``.
        Range ``[0, inf]``: 0 is uniform, ``inf`` is greedy (uniform over
        ties within 1e-12 relative).  Normative: larger values optimise
        harder.
    gamma_r : float, default 0.99
        Robot discount inside ``Q_r = gamma_r E[V_r(s')]``.  Range ``(0, 1]``;
        1 is allowed on acyclic worlds only (on a cyclic world V_r would be unbounded).
    zeta : float, default 2.0
        Risk aversion in ``X_h = sum_g w_g V_h^e(s, g)^zeta``; 1 is neutral.
        Range ``(0, inf)``; the theory assumes ``>= 1`` (values below 1 are
        accepted, as in the public reference, but make ``X_h`` non-Lipschitz
        at ``V_h^e = 0``).
    xi : float, default 1.0
        Inter-human inequality aversion in
        ``U_r = -((1/H) sum_h X_h^(-xi))^eta``.  Range ``(0, inf)``,
        theory ``>= 1``.
    eta : float, default 1.1
        Intertemporal inequality aversion (exponent on the mean above); 1 is
        neutral.  Range ``(0, inf)``, theory ``>= 1``.
    terminal_v_r : float, default -1e-10
        ``V_r`` at terminal states.  Must be strictly negative (the power law
        needs ``Q_r < 0``).
    c_r : float, default 1.0
        Weight of ``U_r`` in ``V_r(s) = c_r U_r(s) + sum_a pi_r(a|s) Q_r(s, a)``.
        The paper uses 1; the reference backward induction uses
        ``(1 - gamma_r) / (-ln gamma_r)`` (``ur_duration_weight`` in its
        exports).  Range ``(0, inf)``.  A constant ``c_r`` rescales ``Q_r``
        and ``V_r`` but leaves ``pi_r`` and ``V_h^e`` unchanged on worlds
        without terminal states.

    Defaults follow the public reference's ``Phase2Config`` (gamma 0.99,
    zeta 2, xi 1, eta 1.1, beta_r 10) and its backward-induction beta_h = 10.
    """

    beta_h: float = 10.0
    gamma_h: float = 0.99
    beta_r: float = 10.0
    gamma_r: float = 0.99
    zeta: float = 2.0
    xi: float = 1.0
    eta: float = 1.1
    terminal_v_r: float = -1e-10
    c_r: float = 1.0

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, as_real(getattr(self, f.name), f.name))
        check_scalar_range(self.beta_h, "beta_h", low=0.0, allow_inf=True, meaning=" (human inverse temperature)")
        check_scalar_range(self.beta_r, "beta_r", low=0.0, allow_inf=True, meaning=" (robot power-law exponent)")
        check_scalar_range(self.gamma_h, "gamma_h", low=0.0, high=1.0, low_open=True, meaning=" (human discount)")
        check_scalar_range(self.gamma_r, "gamma_r", low=0.0, high=1.0, low_open=True, meaning=" (robot discount)")
        check_scalar_range(self.zeta, "zeta", low=0.0, low_open=True, meaning=" (risk aversion)")
        check_scalar_range(self.xi, "xi", low=0.0, low_open=True, meaning=" (inter-human inequality aversion)")
        check_scalar_range(self.eta, "eta", low=0.0, low_open=True, meaning=" (intertemporal inequality aversion)")
        check_scalar_range(self.terminal_v_r, "terminal_v_r", high=0.0, high_open=True,
                           meaning=" (V_r at terminal states must be < 0 so that Q_r < 0)")
        check_scalar_range(self.c_r, "c_r", low=0.0, low_open=True, meaning=" (weight of U_r in V_r)")
        if -self.terminal_v_r < 1e-300:
            raise ValueError(f"terminal_v_r = {self.terminal_v_r} is too close to 0 for log(-Q_r); use <= -1e-300")


    @staticmethod
    def reference_c_r(gamma_r: float) -> float:
        """The reference's ``U_r`` weight ``(1 - gamma_r) / (-ln gamma_r)`` (1 at ``gamma_r = 1``)."""
        if gamma_r == 1.0:
            return 1.0
        return (1.0 - gamma_r) / (-math.log(gamma_r))
