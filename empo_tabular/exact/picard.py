"""Picard continuation for Phase 2 on large cyclic worlds (memory O(S * H * G)).

Damped in-place Gauss-Seidel sweeps (``_kernels.phase2.gauss_seidel_sweep``)
at a sequence of beta_r values from 0 to the target.  The damping factor is
halved whenever the residual stops decreasing over a window of sweeps.
"""
from __future__ import annotations

import math

import numpy as np

from .._kernels import phase2 as _k2
from ..core.progress import progress_bar
from .system import Phase2Solution, param_args, phase2_residuals, raise_status, world_args


def beta_schedule(target: float, first: float = 1.0, greedy_from: float = 1e3) -> list:
    """0, first, 3*first, 7*first, ... (steps doubling) up to ``target``.

    For ``target = inf`` the schedule runs to ``greedy_from`` and appends ``inf``.
    """
    finite = target if math.isfinite(target) else greedy_from
    out = [0.0]
    step = min(first, finite)
    while finite > 0 and out[-1] < finite:
        out.append(min(finite, out[-1] + step))
        step *= 2.0
    if not math.isfinite(target):
        out.append(math.inf)
    return out


def solve_picard(world, prior, params, tol, max_sweeps, progress):
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    live = ~world.terminal
    Q = np.full((S, n_ar), -1.0)
    PI = np.full((S, n_ar), 1.0 / n_ar)
    VE = np.where(live[:, None, None], 0.5, 0.0) * np.ones((S, H, G))
    X = np.ones((S, H))
    U = np.full(S, -1.0)
    V = np.where(live, -1.0, params.terminal_v_r)
    err = np.zeros(2, dtype=np.int64)
    order = np.arange(S - 1, -1, -1, dtype=np.int64)
    wargs = world_args(world, prior)
    betas = beta_schedule(params.beta_r)
    sweeps = 0
    reached = []
    residual = math.inf
    converged = True
    message = ""
    bar = progress_bar(len(betas), "Phase 2 Picard continuation", "beta") if progress else None
    window = 10
    for i, beta in enumerate(betas):
        stage_tol = tol if i == len(betas) - 1 else max(tol, 1e-6)
        alpha = 1.0
        prev = math.inf
        while True:
            for _ in range(window):
                _k2.gauss_seidel_sweep(order, *wargs, *param_args(params, beta), params.terminal_v_r, False, alpha,
                                       Q, PI, VE, X, U, V, err)
                raise_status(err, H)
            sweeps += window
            res = phase2_residuals(world, prior, params.replace(beta_r=beta), Q, VE, X, U, V)["max"]
            if res <= stage_tol:
                residual = res
                break
            if not res < 0.999 * prev:
                alpha = max(alpha * 0.5, 1.0 / 64)
            prev = min(prev, res)
            if sweeps >= max_sweeps:
                residual = res
                converged = False
                message = f"sweep budget {max_sweeps} exhausted at beta_r = {beta:g} (damping {alpha:g})"
                break
        if not converged:
            break
        reached.append(beta)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(beta=f"{beta:g}", sweeps=sweeps, residual=f"{residual:.2g}")
    if bar is not None:
        bar.close()
    return Phase2Solution.from_iterate(world, params, Q, PI, VE, X, U, V, method="picard_continuation",
                                       iterations=sweeps, residual=residual, converged=converged, betas=reached,
                                       message=message, branch_check="none: Picard warm-starts each beta_r of a fixed "
                                       "schedule from the previous one and tests no step")
