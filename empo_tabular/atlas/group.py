"""The per-(world, beta_r) task: exact solution, Jacobian and prediction once, then every SA cell.

:func:`run_group` is what a Dask worker executes (or the serial engine, in process).  It builds the
world, solves Phase 1 and Phase 2 exactly, computes the group's prediction
(:func:`~empo_tabular.atlas.predict.group_prediction`), runs the SA cells that are not done yet and
writes their rows as one Parquet part (atomically) before returning the number of cells written.

SA settings per mode (the design note's tables: V_h^e, X_h, U_r, Q_r learned, V_r computed):

Start: the cold start Q_r = -1, V_h^e = 0.5, with Q_r multiplied by ``exp(init_noise U(-1, 1))`` (drawn from
the cell's seed) so that an exactly symmetric start cannot hide an unstable mode.

* ``expected``: synchronous sweeps of full expectations, constant rates ``a`` (evaluator) and
  ``kappa a`` (Q_r, V_r), ``n_steps`` sweeps, tol on the final Q_r sup error ``expected.tol``;
* ``sampled``: one uniformly drawn state per step, unbiased sampled targets, the polynomial
  two-timescale schedule ``a_n = a (t0/n)^fast_exponent``, ``b_n = kappa a (t0/n)^slow_exponent``
  after ``t0 = max(end of warm-up and ramp, constant_fraction * n_steps)``,
  ``sweeps x (non-terminal states)`` steps, tol ``sampled.tol``.

The label is :func:`~empo_tabular.sa.labels.label_trace` of the Q_r sup error; ``converged`` is the
label "converged"; ``observed_converges`` counts "converged" and "converging" (a measured falling
trend), which is what the linear prediction speaks about.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..core.numerics import one_numba_thread
from ..core.params import EmpoParams
from ..exact.phase1 import solve_phase1
from ..exact.phase2 import solve_phase2
from ..sa.engine import FIELDS, run_sa
from ..sa.experiments import first_step_below, rates, staged_warmup
from ..sa.labels import label_trace
from .cells import Group, cell_seed
from .predict import group_prediction

N_RECORDS = 60
"""Trace records per SA run (the label is measured on them)."""
RANDOM_BASE_PARAMS = dict(beta_h=10.0, gamma_h=0.9, beta_r=10.0, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1)
"""Parameters of random and file worlds (the scenarios' suggested parameters)."""


def build_world(ws):
    """``(TabularWorld, EmpoParams)`` of a :class:`~empo_tabular.atlas.spec.WorldSpec`."""
    if ws.kind == "scenario":
        from ..worlds.scenarios import get_scenario

        gw, params = get_scenario(ws.arg("name"))
        return gw.world, params
    if ws.kind == "file":
        from ..core.world import load_world

        return load_world(ws.arg("path")), EmpoParams(**RANDOM_BASE_PARAMS)
    from ..worlds.random_worlds import random_world

    kw = {k: v for k, v in ws.args if k != "family"}
    return random_world(acyclic=False, **kw), EmpoParams(**RANDOM_BASE_PARAMS)


def sa_config(scheme, mode: str, n_steps: int, sampled: dict):
    """The :class:`~empo_tabular.sa.SAConfig` of a scheme in a mode (see the module docstring)."""
    extra = {"evaluator_updates_per_q_update": int(scheme.k), "q_r_target_update_interval": int(scheme.q_target)}
    if scheme.warmup:
        extra.update(staged_warmup(n_steps))
    elif scheme.ramp:
        extra.update(beta_r_rampup_steps=max(1, int(round(0.2 * n_steps))), beta_r_continuation_mode="sigmoid")
    if mode == "expected":
        extra.update(mode="expected", visit="synchronous", lr_schedule="constant")
    else:
        extra.update(mode="sampled", visit="uniform", lr_schedule="polynomial",
                     lr_decay_exponent=float(sampled["fast_exponent"]),
                     lr_slow_decay_exponent=float(sampled["slow_exponent"]),
                     lr_constant_fraction=float(sampled["constant_fraction"]))
    return rates(scheme.a, scheme.kappa * scheme.a, **extra)


def cold_start(world, noise: float, seed: int):
    """The cold start Q_r = -exp(noise U(-1, 1)) (noise 0: exactly -1), V_h^e = 0.5 on real goals; None for the
    engine's default when ``noise == 0``."""
    if noise <= 0.0:
        return None
    rng = np.random.default_rng(seed)
    live = ~world.terminal
    Q = np.full((world.n_states, world.n_ar), -1.0)
    Q[live] = -np.exp(noise * rng.uniform(-1.0, 1.0, Q[live].shape))
    real = np.arange(world.n_goals)[None, :] < world.goal_count[:, None]
    VE = np.where(live[:, None, None] & real[None], 0.5, 0.0) * np.ones((world.n_states, world.n_humans, world.n_goals))
    return {"Q_r": Q, "V_h_e": VE}


def _n_steps(mode, spec_dict, world) -> int:
    if mode == "expected":
        return int(spec_dict["expected"]["n_steps"])
    return int(spec_dict["sampled"]["sweeps"]) * int(np.count_nonzero(~world.terminal))


def run_cell(cell, world, prior, params, exact, pred: dict, spec_dict: dict) -> dict:
    """One SA run and its row (prediction beside outcome)."""
    mode, s = cell.mode, cell.scheme
    n_steps = _n_steps(mode, spec_dict, world)
    cfg = sa_config(s, mode, n_steps, spec_dict["sampled"])
    tol = float(spec_dict[mode]["tol"])
    key = cell.key
    seed = cell_seed(key)
    t0 = time.perf_counter()
    res = run_sa(world, prior, params, cfg, n_steps, exact=exact, seed=seed, record_every=max(1, n_steps // N_RECORDS),
                 initial=cold_start(world, float(spec_dict.get("init_noise", 0.0)), seed))
    tr = res.trace
    lab = label_trace(tr["err_sup_Q_r"], tr["step"], tol)
    rho = float(pred["rates"][s.linear_key])
    fast_ok = pred["fast_bound"] < 1.0
    ode_ok = bool(pred["ode_max_re"] < 1.0 and fast_ok)
    if mode == "expected":
        predicted, basis = bool(rho < 1.0), "rho(I + D(J - I)) < 1"
    else:
        predicted, basis = ode_ok, "ODE limit: max Re lambda(J_R) < 1 and ||J_EE||_inf < 1"
    row = {"cell_key": key, "world": cell.world, "beta_r": float(cell.beta_r), "scheme": s.name, "mode": mode,
           "seed": int(cell.seed), "sa_seed": int(seed), "a": float(s.a), "kappa": float(s.kappa), "k": int(s.k),
           "q_target": int(s.q_target), "warmup": bool(s.warmup), "ramp": bool(s.ramp), "n_steps": int(n_steps),
           "tol": tol, "predicted_converges": predicted, "predicted_rate": rho, "prediction_basis": basis,
           "ode_max_re": float(pred["ode_max_re"]), "fast_bound": float(pred["fast_bound"]),
           "ode_converges": ode_ok,
           "fixed_points_searched": pred["n_fixed_points"] is not None,
           "n_fixed_points": pred["n_fixed_points"],
           "label": lab.label, "label_evidence": lab.evidence,
           "observed_rate": None if lab.rate is None else float(lab.rate),
           "converged": lab.label == "converged",
           "observed_converges": lab.label in ("converged", "converging")}
    for k in FIELDS:
        v = float(tr[f"err_sup_{k}"][-1])
        row[f"err_{k}"] = v if math.isfinite(v) else None
    row["err_nonfinite"] = any(row[f"err_{k}"] is None for k in FIELDS)
    row["steps_to_1e-3"] = first_step_below(tr, 1e-3)
    row["sa_seconds"] = time.perf_counter() - t0
    row["n_states"] = int(world.n_states)
    row["n_q"] = int(pred["n_q"])
    return row


def run_group(group: Group, spec_dict: dict, done: frozenset = frozenset(), out_dir=None) -> dict:
    """Compute every cell of ``group`` not in ``done``; write one Parquet part under ``out_dir/cells``.

    Returns ``{"group": key, "n_cells": computed, "part": path or None, "seconds": ..., "rows": rows}``
    (``rows`` only when ``out_dir`` is None).
    """
    from threadpoolctl import threadpool_limits

    from .store import write_part

    t0, c0 = time.perf_counter(), time.process_time()
    todo = [c for c in group.cells if c.key not in done]
    if not todo:
        return {"group": group.key, "n_cells": 0, "part": None, "seconds": 0.0, "rows": []}
    with threadpool_limits(1), one_numba_thread():  # one thread per task: the engine runs one task per core
        world, base = build_world(group.world)
        params = base.replace(beta_r=float(group.beta_r))
        prior = solve_phase1(world, params)
        exact = solve_phase2(world, prior, params)
        schemes = {c.scheme.name: c.scheme for c in todo}.values()
        pred = group_prediction(world, prior, params, exact, schemes, spec_dict["fixed_points"],
                                seed=cell_seed(group.key))
        rows = [run_cell(c, world, prior, params, exact, pred, spec_dict) for c in todo]
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0  # CPU of this task (load-independent, unlike the wall time on a shared machine)
    for r in rows:
        r["group_seconds"] = seconds
        r["group_cpu_seconds"] = cpu
        r["prediction_seconds"] = float(pred["seconds"])
    part = None if out_dir is None else str(write_part(out_dir, group.key, rows))
    return {"group": group.key, "n_cells": len(rows), "part": part, "seconds": seconds,
            "rows": rows if out_dir is None else []}
