"""One call that analyses, runs SA on every cell of the predicted region, and writes the report and figures.

:func:`run_contraction_job` is used by the CLI subcommand ``empo-tabular contraction``, by the demo and by
``examples/contraction_vs_beta.py``.

Files written into ``out_dir``::

    contraction.csv, contraction.json       the report (ContractionReport.save)
    indicators.png                          indicators vs beta_r, one panel per map
    spectra_<map>.png                       spectrum snapshots per map, the critical beta_r included
    bifurcation.png                         V_r(s0) of the fixed points vs beta_r, stability per iteration
    region.png                              predicted region, one SA run per cell (needs the Jacobi map)

SA on the region (:func:`sa_on_region`): at the region's beta_r, one run of
:func:`~empo_tabular.sa.run_sa` on **every** (a, kappa) cell, with ``visit="synchronous"``,
``mode="expected"``, all five quantities as tables (so that one SA step is exactly the per-block damped
Jacobi update ``z <- z + D(a, kappa)(F_J(z) - z)`` whose linear rate ``rho_pred`` the region predicts),
evaluator rates ``a`` and Q_r/V_r rates ``kappa a``, started from the exact solution with Q_r and V_h^e
perturbed by 1e-3 (relative).  Each run is labelled by :func:`~empo_tabular.sa.labels.label_trace` on its
Q_r sup-norm error (converged, converging, oscillating, diverging, plateau).  The prediction *agrees*
with the run when ``rho_pred < 1`` and the label is converged or converging, or ``rho_pred >= 1`` and it
is not.  A cell whose predicted decay over the run's last half is below :data:`MEASURABLE_DECADES`
(``rho_pred`` so close to 1 that no trend can be measured in the run) is run but kept out of the
agreement count (``measurable = False``); a cell with ``kappa a > 1`` (a Q_r rate above 1) cannot be run
(``ran = False``).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..contraction.contraction_report import ContractionReport
from ..contraction.empo_sweep import analyze_contraction

__all__ = ["run_contraction_job", "sa_on_region", "sa_overlay", "region_agreement", "CONVERGING_LABELS",
           "DEFAULT_SA_POINTS", "JOB_OPTIONS", "MEASURABLE_DECADES"]

#: Legacy (a, kappa) points; ``sa_points=None`` (the default) runs every cell instead.
DEFAULT_SA_POINTS = None
#: Estimator budgets of the job (lighter than the defaults, to keep a 20-beta job near a minute).
JOB_OPTIONS = dict(picard_steps=60, n_samples=10, adversarial_starts=1, adversarial_maxfev=60)
#: Labels that count as "SA converges" when compared with a prediction rho_pred < 1.
CONVERGING_LABELS = ("converged", "converging")
#: A cell is measurable when the predicted fall of the error over the last half of its run is at least
#: this many decades (label_trace needs a trend of 0.05 decades and more than 3x its scatter).
MEASURABLE_DECADES = 0.15
#: Cell runs are lengthened (up to ``max_steps``) until the predicted fall over their last half reaches
#: this many decades, so that a decaying oscillation shows a trend above its scatter.
TARGET_DECADES = 0.5
#: Relative Q_r error counted as converged for the region runs (started 1e-3 from the exact solution).
REGION_TOL = 1e-9


def _cell_steps(rho: float, n_steps: int, max_steps: int) -> int:
    """Steps for a cell: enough for the predicted decay to be measurable, between n_steps and max_steps."""
    if not (math.isfinite(rho) and 0.0 < rho < 1.0):
        return int(n_steps)
    need = int(math.ceil(2.0 * TARGET_DECADES / -math.log10(rho)))
    return int(min(max(n_steps, need), max(n_steps, max_steps)))


def _one_cell(world, prior, p, exact, initial, a, kappa, rho, n_steps, seed, tol):
    from ..sa.config import SAConfig
    from ..sa.diagnose import diagnose
    from ..sa.engine import run_sa
    from ..sa.labels import label_trace

    cfg = SAConfig(mode="expected", visit="synchronous", lr_v_h_e=a, lr_x_h=a, lr_u_r=a, lr_q_r=kappa * a,
                   lr_v_r=kappa * a, x_h_use_network=True, u_r_use_network=True, v_r_use_network=True,
                   lr_schedule="constant", beta_r_rampup_steps=0)
    res = run_sa(world, prior, p, cfg, n_steps, exact=exact, seed=seed, initial=initial,
                 record_every=max(1, n_steps // 100))
    err = np.asarray(res.trace["err_sup_Q_r"], dtype=float)
    steps = np.asarray(res.trace["step"], dtype=float)
    lab = label_trace(err, steps, tol)
    e0, e1 = float(err[0]), float(err[-1])
    rate = float((e1 / e0) ** (1.0 / max(steps[-1], 1.0))) if (e0 > 0 and np.isfinite(e1) and e1 > 0) else \
        (0.0 if e1 == 0 else math.nan)
    measurable = bool(not (math.isfinite(rho) and rho < 1.0)
                      or 0.5 * n_steps * -math.log10(max(rho, 1e-300)) >= MEASURABLE_DECADES)
    conv = lab.label in CONVERGING_LABELS
    return {"a": float(a), "kappa": float(kappa), "ran": True, "rho_pred": float(rho),
            "predicted_converges": bool(rho < 1.0), "label": lab.label, "label_evidence": lab.evidence,
            "rate": lab.rate, "est_steps_to_tol": lab.steps_to_tol, "period": lab.period,
            "converges": conv, "converged": lab.label == "converged", "measurable": measurable,
            "agrees": bool(conv == (rho < 1.0)) if measurable else None,
            "symptoms": list(diagnose(res, tol).symptoms), "err0": e0, "err_final": e1,
            "rate_observed": rate, "n_steps": int(n_steps), "tol": float(tol), "rho_pred_nearest": float(rho)}


def _region_setup(world, prior, params, report, seed, perturbation):
    from ..exact.phase2 import solve_phase2
    from ..sa.engine import perturbed_exact_start

    beta = float(report.region["beta"])
    p = params.replace(beta_r=beta)
    exact = solve_phase2(world, prior, p)
    return p, exact, perturbed_exact_start(world, exact, perturbation, np.random.default_rng(seed))


def sa_on_region(world, prior, params, report: ContractionReport, *, n_steps: int = 400, max_steps: int = 1500,
                 seed: int = 0, perturbation: float = 1e-3, tol: float = REGION_TOL, n_jobs: int = 1) -> list:
    """One synchronous expected-mode SA run on every (a, kappa) cell of ``report.region`` (module docstring).

    Parameters
    ----------
    n_steps, max_steps : int
        Sweeps per cell: ``n_steps``, raised up to ``max_steps`` where the predicted rate is so close to 1
        that the decay would not be measurable in ``n_steps``.
    seed, perturbation :
        Seed and relative size of the perturbation of the exact start.
    tol : float
        Q_r sup-norm relative error counted as converged.
    n_jobs : int
        Forked worker processes (cells are independent).

    Returns
    -------
    list of dict
        Row-major over ``(a_values[i], kappa_values[j])``, keys ``i, j, a, kappa, ran, rho_pred,
        predicted_converges, label, label_evidence, rate, est_steps_to_tol, period, converges, converged,
        measurable, agrees, symptoms, err0, err_final, rate_observed, n_steps, tol``; a cell with
        ``kappa a > 1`` has ``ran = False`` and None results.
    """
    from ..core.forked import map_forked

    if report.region is None:
        return []
    p, exact, initial = _region_setup(world, prior, params, report, seed, perturbation)
    a_grid = [float(v) for v in report.region["a_values"]]
    k_grid = [float(v) for v in report.region["kappa_values"]]
    rho_grid = np.asarray(report.region["rho_pred"], dtype=float)
    cells = [(i, j) for i in range(len(a_grid)) for j in range(len(k_grid))]

    def one(cell):
        i, j = cell
        a, kappa, rho = a_grid[i], k_grid[j], float(rho_grid[i, j])
        if kappa * a > 1.0 + 1e-12:
            return {"i": i, "j": j, "a": a, "kappa": kappa, "ran": False, "rho_pred": rho,
                    "predicted_converges": bool(rho < 1.0), "label": None, "converges": None, "converged": None,
                    "measurable": False, "agrees": None, "symptoms": [],
                    "reason": f"not run: the Q_r rate kappa*a = {kappa * a:g} exceeds 1"}
        n = _cell_steps(rho, n_steps, max_steps)
        return {"i": i, "j": j, **_one_cell(world, prior, p, exact, initial, a, kappa, rho, n, seed, tol)}

    return map_forked(one, cells, n_jobs)


def region_agreement(runs) -> dict:
    """``{"agree": k, "counted": n, "ran": r, "cells": c, "unmeasurable": u, "not_run": m}`` of region runs."""
    runs = list(runs or [])
    ran = [r for r in runs if r.get("ran", True)]
    counted = [r for r in ran if r.get("agrees") is not None]
    return {"agree": sum(bool(r["agrees"]) for r in counted), "counted": len(counted), "ran": len(ran),
            "cells": len(runs), "unmeasurable": sum(1 for r in ran if r.get("agrees") is None),
            "not_run": len(runs) - len(ran)}


def sa_overlay(world, prior, params, report: ContractionReport, points, *, n_steps: int = 400,
               seed: int = 0, perturbation: float = 1e-3, tol: float = REGION_TOL) -> list:
    """SA runs at chosen (a, kappa) points (legacy; :func:`sa_on_region` runs every cell).

    Each row carries the same keys as :func:`sa_on_region`'s, ``rho_pred`` taken from the region cell
    nearest in log space (also as ``rho_pred_nearest``).  Points with ``kappa * a > 1`` are skipped.
    """
    if report.region is None:
        return []
    p, exact, initial = _region_setup(world, prior, params, report, seed, perturbation)
    a_grid = np.asarray(report.region["a_values"], dtype=float)
    k_grid = np.asarray(report.region["kappa_values"], dtype=float)
    rho_grid = np.asarray(report.region["rho_pred"], dtype=float)
    out = []
    for a, kappa in points:
        if kappa * a > 1.0 + 1e-12:
            continue
        i = int(np.argmin(np.abs(np.log(a_grid) - math.log(a))))
        j = int(np.argmin(np.abs(np.log(k_grid) - math.log(kappa))))
        row = _one_cell(world, prior, p, exact, initial, float(a), float(kappa), float(rho_grid[i, j]),
                        int(n_steps), seed, tol)
        out.append({"i": i, "j": j, **row})
    return out


def run_contraction_job(world, prior, params, betas, out_dir, maps=("reduced", "jacobi", "gauss_seidel"), *,
                        progress: bool = True, with_sa_overlay: bool = True, seed: int = 0, options=None,
                        sa_points=DEFAULT_SA_POINTS, sa_steps: int = 400, sa_max_steps: int = 1000,
                        n_jobs: int = 1, **analyze_kwargs) -> ContractionReport:
    """Analyse the contraction of the Phase 2 maps vs beta_r and write the report and figures.

    Parameters
    ----------
    world, prior, params, betas, maps, seed :
        As for :func:`~empo_tabular.contraction.analyze_contraction`.
    out_dir : path
        Output folder (created).
    progress : bool
        Progress bar over beta and a line per written file.
    with_sa_overlay : bool
        Run SA on the region (:func:`sa_on_region`) when the Jacobi map is analysed.
    options : dict, optional
        Estimator budgets (default :data:`JOB_OPTIONS`).
    sa_points : sequence of (a, kappa), optional
        Run SA only at these points (:func:`sa_overlay`); default None: on every cell.
    sa_steps, sa_max_steps : int
        Sweeps per SA run (raised up to ``sa_max_steps`` on cells whose predicted rate is close to 1).
    n_jobs : int
        Worker processes for the analyzer's beta grid and for the SA cells.
    **analyze_kwargs :
        Passed to :func:`analyze_contraction` (``region_beta``, ``a_values``, ...).

    Returns
    -------
    ContractionReport
        With ``sa_runs`` filled and ``notes`` listing the written files.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..plotting.contraction import plot_bifurcation, plot_convergence_region, plot_indicators, plot_spectra

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    report = analyze_contraction(world, prior, params, betas, maps, seed=seed, progress=progress,
                                 options={**JOB_OPTIONS, **(options or {})}, n_jobs=n_jobs, **analyze_kwargs)
    if with_sa_overlay and report.region is not None:
        if sa_points is None:
            report.sa_runs = sa_on_region(world, prior, params, report, n_steps=sa_steps, max_steps=sa_max_steps,
                                          seed=seed, n_jobs=n_jobs)
        else:
            report.sa_runs = sa_overlay(world, prior, params, report, sa_points, n_steps=sa_steps, seed=seed)
    written = []

    def save(fig, name):
        path = out / name
        fig.savefig(path, dpi=130, bbox_inches="tight")
        plt.close(fig)
        written.append(str(path))

    save(plot_indicators(report), "indicators.png")
    for m in report.maps:
        save(plot_spectra(report, m), f"spectra_{m}.png")
    save(plot_bifurcation(report), "bifurcation.png")
    if report.region is not None:
        save(plot_convergence_region(report), "region.png")
    report.seconds = time.perf_counter() - t0
    report.notes = list(report.notes) + [f"wrote {Path(p).name}" for p in written]
    csv_path, json_path = report.save(out / "contraction")
    if progress:
        print(report.summary())
        for p in [csv_path, json_path, *written]:
            print(f"  wrote {p}")
    return report
