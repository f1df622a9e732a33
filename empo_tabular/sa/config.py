"""Configuration of two-timescale stochastic approximation: :class:`SAConfig`.

Field names follow the public reference's ``Phase2Config`` wherever it has
the knob (``lr_*``, ``warmup_*_steps``, ``beta_r_rampup_steps``,
``*_target_update_interval``, ``x_h_use_network`` ...), so that its users
feel at home.  Defaults differ where tables differ from networks: plain SGD
steps ``x <- x + lr (target - x)`` on exact tables need learning rates of
order 0.1, not the 1e-4 of Adam on networks, and no warm-up unless asked.
"""
from __future__ import annotations

from dataclasses import dataclass

from .._validation import DictRecord, as_int, as_real, check_scalar_range
from .schedules import LR_SCHEDULES, warmup_boundaries

MODES = ("expected", "sampled")
VISITS = ("uniform", "sweep", "synchronous", "on_policy")
LR_CLOCKS = ("global", "visits")
RAMPS = ("sigmoid", "linear")
X_TARGETS = ("exact", "sampled_goal", "assigned_goal")
QUANTITIES = ("v_h_e", "x_h", "u_r", "q_r", "v_r")


@dataclass(frozen=True)
class SAConfig(DictRecord):
    """Every knob of the learning-rate note and of the reference trainer (validated).

    Update rule (all quantities): ``x <- x + lr_x(t) (target_x - x)``, the
    target computed from the *target tables* (hard copies every
    ``*_target_update_interval`` steps, or Polyak averages).

    Parameters
    ----------
    mode : {"expected", "sampled"}
        ``expected``: targets are full expectations over robot actions, human
        profiles and successors at the visited state (model-based).
        ``sampled``: Q_r(s, a_r) for one robot action from the behaviour
        policy, and V_h^e(s, h, g) from a robot action drawn from the target
        policy, a human profile drawn from ``P_hg`` and a successor - all
        unbiased, so Robbins-Monro schedules converge to the exact arrays.
    lr_v_h_e, lr_x_h, lr_u_r, lr_q_r, lr_v_r : float in (0, 1]
        Base step sizes of the five tables (U_r is learned as ``y = mean_h X_h^-xi``,
        ``U_r = -y^eta``, as in the reference).
    lr_schedule : {"constant", "constant_then_1_over_t", "constant_then_1_over_sqrt_t", "polynomial"}
        Constant until ``t0 = max(E5 + B, floor(lr_constant_fraction * n_steps))``,
        then ``t0/t``, ``sqrt(t0/t)`` or ``(t0/t)**lr_decay_exponent``.
    lr_constant_fraction : float in [0, 1]
    lr_decay_exponent : float > 0
        ``omega`` of the polynomial schedule (and of the visit clock).
    lr_slow_decay_exponent : float > 0 or None
        Two-timescale decay: exponent of the polynomial decay of Q_r and V_r (the slow
        optimizer) while V_h^e, X_h and U_r use ``lr_decay_exponent``.  With the polynomial
        schedule ``a_n = lr_v_h_e (t0/t)**lr_decay_exponent`` and
        ``b_n = lr_q_r (t0/t)**lr_slow_decay_exponent``, so ``b_n / a_n -> 0`` when it is
        larger (Borkar's regime).  None (default): the same exponent for all.  Needs the
        global clock (``lr_clock="global"``).
    lr_clock : {"global", "visits"}
        ``visits``: after the warm-up and ramp the decay uses the number of
        updates of the visited state, ``lr = base * min(1, (lr_visits_constant / n_s)**omega)``
        (per-entry Robbins-Monro steps, as Even-Dar & Mansour).
    lr_visits_constant : int >= 1
    warmup_v_h_e_steps, warmup_x_h_steps, warmup_u_r_steps, warmup_q_r_steps, warmup_v_r_steps : int >= 0
        Stage durations (V_h^e only, +X_h, +U_r, +Q_r, +V_r), beta_r = 0
        throughout.  A duration of a quantity that is not learned is forced
        to 0 (as the reference does).
    beta_r_rampup_steps : int >= 0
        Length ``B`` of the ramp from 0 to beta_r after the warm-up.
    beta_r_continuation_mode : {"sigmoid", "linear"}
        The reference's normalised sigmoid, or a linear ramp.
    evaluator_updates_per_q_update : int >= 1
        Update-frequency separation ``k``: V_h^e, X_h, U_r are updated at every
        step, Q_r and V_r only at every ``k``-th step (the note's "5 U_r
        updates per Q_r update"; the reference does not have it).
    q_r_target_update_interval, v_r_target_update_interval, v_h_e_target_update_interval,
    x_h_target_update_interval, u_r_target_update_interval : int >= 1
        Target copies every that many steps (1: no separate target table).
    target_polyak_tau : float in (0, 1]
        1: hard copies; below 1: ``target <- (1 - tau) target + tau online`` at
        each interval (Polyak averaging).
    x_h_use_network, u_r_use_network, v_r_use_network : bool
        Learn the quantity as a table (True) or compute it directly from the
        others (False).  Reference defaults: True, False, False.
    visit : {"uniform", "sweep", "synchronous", "on_policy"}
        Which states a step updates: one uniform random non-terminal state,
        the next state of a fixed sweep (reverse topological order on acyclic
        worlds), all states at once from the same targets (Jacobi), or the
        current state of a trajectory from the initial state.
    steps_per_episode : int >= 1
        On-policy: reset to the initial state after this many steps (or at a
        terminal state).
    epsilon_r_start, epsilon_r_end, epsilon_r_decay_steps :
        Robot exploration (linear schedule): the behaviour policy is
        ``(1 - eps) pi_r + eps uniform``; it chooses which Q_r entry a sampled
        step updates and where trajectories go.  It never enters a target.
    epsilon_h_start, epsilon_h_end, epsilon_h_decay_steps :
        Human exploration for trajectories and sampled Q_r targets (each human
        acts uniformly with probability eps).  Default 0: any eps_h > 0 biases
        the fixed point, as in the reference.
    goal_assignment : bool
        Reference-style bias (on-policy only): every human pursues an assigned
        goal (drawn with probability w/W, redrawn when achieved or with
        ``goal_resample_prob``) and acts by ``pi_h(.|s, g_assigned)``; sampled
        human actions then come from the assigned goals and V_h^e is updated
        for the assigned goals only.  Requires a prior with ``pi_h``.
    goal_resample_prob : float in [0, 1]
    x_h_target : {"exact", "sampled_goal", "assigned_goal"}
        X_h target: ``sum_g w V^zeta`` (exact), ``W V(s, g)^zeta`` with one goal
        drawn with probability ``w/W`` (unbiased sample), or with the
        assigned goal (the reference's biased target; needs ``goal_assignment``).
    x_h_floor : float > 0
        Lower bound applied to X_h before ``X^-xi`` (guards the transient
        X_h = 0 of a cold start; never active at a fixed point of a valid world).
    """

    mode: str = "expected"
    lr_v_h_e: float = 0.1
    lr_x_h: float = 0.1
    lr_u_r: float = 0.1
    lr_q_r: float = 0.1
    lr_v_r: float = 0.1
    lr_schedule: str = "constant"
    lr_constant_fraction: float = 0.7
    lr_decay_exponent: float = 1.0
    lr_slow_decay_exponent: float | None = None
    lr_clock: str = "global"
    lr_visits_constant: int = 1
    warmup_v_h_e_steps: int = 0
    warmup_x_h_steps: int = 0
    warmup_u_r_steps: int = 0
    warmup_q_r_steps: int = 0
    warmup_v_r_steps: int = 0
    beta_r_rampup_steps: int = 0
    beta_r_continuation_mode: str = "sigmoid"
    evaluator_updates_per_q_update: int = 1
    q_r_target_update_interval: int = 1
    v_r_target_update_interval: int = 1
    v_h_e_target_update_interval: int = 1
    x_h_target_update_interval: int = 1
    u_r_target_update_interval: int = 1
    target_polyak_tau: float = 1.0
    x_h_use_network: bool = True
    u_r_use_network: bool = False
    v_r_use_network: bool = False
    visit: str = "uniform"
    steps_per_episode: int = 50
    epsilon_r_start: float = 1.0
    epsilon_r_end: float = 0.01
    epsilon_r_decay_steps: int = 10_000
    epsilon_h_start: float = 0.0
    epsilon_h_end: float = 0.0
    epsilon_h_decay_steps: int = 10_000
    goal_assignment: bool = False
    goal_resample_prob: float = 0.01
    x_h_target: str = "exact"
    x_h_floor: float = 1e-12

    def __post_init__(self):
        def choice(name, options):
            v = getattr(self, name)
            if v not in options:
                raise ValueError(f"SAConfig.{name} must be one of {options}, got {v!r}")

        def flag(name):
            v = getattr(self, name)
            if not isinstance(v, bool):
                raise TypeError(f"SAConfig.{name} must be a bool, got {type(v).__name__} ({v!r})")

        def real(name, **rng):
            v = as_real(getattr(self, name), f"SAConfig.{name}")
            object.__setattr__(self, name, check_scalar_range(v, f"SAConfig.{name}", **rng))

        def integer(name, low):
            v = as_int(getattr(self, name), f"SAConfig.{name}")
            if v < low:
                raise ValueError(f"SAConfig.{name} must be an integer >= {low}, got {v}")
            object.__setattr__(self, name, v)

        choice("mode", MODES)
        choice("visit", VISITS)
        choice("lr_schedule", LR_SCHEDULES)
        choice("lr_clock", LR_CLOCKS)
        choice("beta_r_continuation_mode", RAMPS)
        choice("x_h_target", X_TARGETS)
        for q in QUANTITIES:
            real(f"lr_{q}", low=0.0, high=1.0, low_open=True)
        real("lr_constant_fraction", low=0.0, high=1.0)
        real("lr_decay_exponent", low=0.0, low_open=True)
        if self.lr_slow_decay_exponent is not None:
            real("lr_slow_decay_exponent", low=0.0, low_open=True)
        integer("lr_visits_constant", 1)
        for q in QUANTITIES:
            integer(f"warmup_{q}_steps", 0)
            integer(f"{q}_target_update_interval", 1)
        integer("beta_r_rampup_steps", 0)
        integer("evaluator_updates_per_q_update", 1)
        real("target_polyak_tau", low=0.0, high=1.0, low_open=True)
        for name in ("x_h_use_network", "u_r_use_network", "v_r_use_network", "goal_assignment"):
            flag(name)
        integer("steps_per_episode", 1)
        for who in ("r", "h"):
            real(f"epsilon_{who}_start", low=0.0, high=1.0)
            real(f"epsilon_{who}_end", low=0.0, high=1.0)
            integer(f"epsilon_{who}_decay_steps", 0)
        real("goal_resample_prob", low=0.0, high=1.0)
        real("x_h_floor", low=0.0, low_open=True)
        if self.lr_slow_decay_exponent is not None and self.lr_clock != "global":
            raise ValueError("SAConfig.lr_slow_decay_exponent needs lr_clock='global' (the visit clock uses one "
                             "exponent for every table)")
        if self.goal_assignment and self.visit != "on_policy":
            raise ValueError("SAConfig.goal_assignment needs visit='on_policy' (goals are assigned along trajectories)")
        if self.x_h_target == "assigned_goal" and not self.goal_assignment:
            raise ValueError("SAConfig.x_h_target='assigned_goal' needs goal_assignment=True")
        if self.x_h_target != "exact" and not self.x_h_use_network:
            raise ValueError(f"SAConfig.x_h_target={self.x_h_target!r} is a target for a learned X_h table; "
                             f"it needs x_h_use_network=True")

    @property
    def learned(self) -> dict:
        """Which quantities are tables (V_h^e and Q_r always are)."""
        return {"v_h_e": True, "x_h": self.x_h_use_network, "u_r": self.u_r_use_network, "q_r": True,
                "v_r": self.v_r_use_network}

    def effective_warmups(self) -> dict:
        """Warm-up durations with those of directly computed quantities forced to 0."""
        return {q: (getattr(self, f"warmup_{q}_steps") if self.learned[q] else 0) for q in QUANTITIES}

    def boundaries(self) -> tuple:
        """Stage ends ``(E1, ..., E5)`` of the effective warm-up."""
        w = self.effective_warmups()
        return warmup_boundaries(w["v_h_e"], w["x_h"], w["u_r"], w["q_r"], w["v_r"])
