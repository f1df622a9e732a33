"""Schedules of two-timescale SA: warm-up stages, the beta_r ramp, learning rates, exploration.

All functions are vectorised over the global step ``t`` (the number of SA
steps taken so far, starting at 0), follow the public reference trainer's
definitions (EMPO_SEMANTICS §4.6-§4.10) and are used by :mod:`empo_tabular.sa`
to precompute per-step arrays for the jitted update loop.
"""
from __future__ import annotations

import math

import numpy as np

STAGE_NAMES = ("V_h^e only", "+X_h", "+U_r", "+Q_r", "+V_r", "beta_r ramp", "full")
SIGMOID_M3 = 1.0 / (1.0 + math.exp(3.0))  # sigma(-3) = 0.047426
SIGMOID_P3 = 1.0 / (1.0 + math.exp(-3.0))  # sigma(3) = 0.952574


def warmup_boundaries(v_h_e: int, x_h: int, u_r: int, q_r: int, v_r: int) -> tuple:
    """Cumulative stage ends ``(E1, E2, E3, E4, E5)`` from the five warm-up durations.

    ``E1 = v_h_e``, ``E2 = E1 + x_h``, ``E3 = E2 + u_r``, ``E4 = E3 + q_r``,
    ``E5 = E4 + v_r``.  Durations of quantities that are not learned must be
    passed as 0 (the reference forces them to 0).
    """
    e1 = int(v_h_e)
    e2 = e1 + int(x_h)
    e3 = e2 + int(u_r)
    e4 = e3 + int(q_r)
    e5 = e4 + int(v_r)
    return e1, e2, e3, e4, e5


def stage_at(t, boundaries: tuple, ramp_steps: int) -> np.ndarray:
    """Warm-up stage index (0..6, see ``STAGE_NAMES``) at step(s) ``t``.

    Stage ``i < 5`` is ``[E_i, E_{i+1})`` (with ``E_0 = 0``), stage 5 the
    beta_r ramp ``[E5, E5 + B)``, stage 6 everything after.
    """
    t = np.asarray(t)
    e = np.asarray(boundaries + (boundaries[-1] + int(ramp_steps),))
    return np.searchsorted(e, t, side="right").astype(np.int64)


def beta_at(t, beta_r: float, e5: int, ramp_steps: int, mode: str = "sigmoid") -> np.ndarray:
    """Effective beta_r at step(s) ``t``.

    ``t < E5``: 0 (uniform robot).  ``B = ramp_steps <= 0``: ``beta_r`` from
    ``E5`` on.  Otherwise, with ``tau = t - E5``:

    * ``"sigmoid"`` (reference default): ``x = 6 (tau/B - 1/2)``,
      ``beta = beta_r clip((sigma(x) - sigma(-3)) / (sigma(3) - sigma(-3)), 0, 1)``,
      so ``beta(E5) = 0``, ``beta(E5 + B/2) = beta_r / 2`` and ``beta = beta_r``
      for ``tau >= B``;
    * ``"linear"``: ``beta = beta_r clip(tau / B, 0, 1)``.
    """
    t = np.asarray(t, dtype=np.float64)
    tau = t - e5
    if ramp_steps <= 0:
        frac = np.where(tau >= 0, 1.0, 0.0)
    elif mode == "sigmoid":
        x = 6.0 * (tau / ramp_steps - 0.5)
        sig = 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))
        frac = np.clip((sig - SIGMOID_M3) / (SIGMOID_P3 - SIGMOID_M3), 0.0, 1.0)
        frac = np.where(tau >= ramp_steps, 1.0, frac)
    elif mode == "linear":
        frac = np.clip(tau / ramp_steps, 0.0, 1.0)
    else:
        raise ValueError(f"beta ramp mode must be 'sigmoid' or 'linear', got {mode!r}")
    frac = np.where(tau < 0, 0.0, frac)
    if math.isinf(beta_r):
        return np.where(frac > 0.0, math.inf, 0.0)  # any positive fraction of infinity is infinity
    return beta_r * frac


LR_SCHEDULES = ("constant", "constant_then_1_over_t", "constant_then_1_over_sqrt_t", "polynomial")


def lr_decay_start(e5: int, ramp_steps: int, n_steps: int, constant_fraction: float) -> int:
    """``t0 = max(F, floor(constant_fraction * n_steps))`` with ``F = E5 + B``."""
    return max(int(e5) + max(int(ramp_steps), 0), int(math.floor(constant_fraction * n_steps)))


def lr_at(t, base: float, schedule: str, t0: int, omega: float = 1.0) -> np.ndarray:
    """Learning rate at step(s) ``t``: constant ``base`` before ``t0``, then decaying.

    * ``"constant"``: ``base``;
    * ``"constant_then_1_over_t"`` (reference default): ``base * t0 / t``;
    * ``"constant_then_1_over_sqrt_t"``: ``base * sqrt(t0 / t)``;
    * ``"polynomial"``: ``base * (t0 / t)**omega``.

    Only ``1/t`` and polynomial with ``omega in (1/2, 1]`` satisfy the
    Robbins-Monro conditions (``sum a = inf``, ``sum a^2 < inf``); ``1/sqrt(t)``
    does not (``sum 1/t`` diverges), whatever the reference's docs say.
    """
    t = np.asarray(t, dtype=np.float64)
    if schedule == "constant":
        return np.full(t.shape, float(base))
    if schedule == "constant_then_1_over_t":
        w = 1.0
    elif schedule == "constant_then_1_over_sqrt_t":
        w = 0.5
    elif schedule == "polynomial":
        w = float(omega)
    else:
        raise ValueError(f"lr schedule must be one of {LR_SCHEDULES}, got {schedule!r}")
    t0 = max(int(t0), 1)
    ratio = np.where(t >= t0, t0 / np.maximum(t, 1.0), 1.0)
    return base * ratio ** w


def epsilon_at(t, start: float, end: float, decay_steps: int) -> np.ndarray:
    """Linear exploration schedule from ``start`` to ``end`` over ``decay_steps``, then ``end``."""
    t = np.asarray(t, dtype=np.float64)
    if decay_steps <= 0:
        return np.full(t.shape, float(end))
    frac = np.clip(t / decay_steps, 0.0, 1.0)
    return start + (end - start) * frac
