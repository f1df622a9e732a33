"""One call that analyses, overlays SA runs, and writes the report and figures: :func:`run_contraction_job`.

Used by the CLI subcommand ``empo-tabular contraction`` and by ``examples/contraction_vs_beta.py``.

Files written into ``out_dir``::

    contraction.csv, contraction.json       the report (ContractionReport.save)
    indicators.png                          indicators vs beta_r, one panel per map
    spectra_<map>.png                       spectrum snapshots per map
    bifurcation.png                         V_r(s0) of the fixed points vs beta_r
    region.png                              predicted region + SA markers (needs the Jacobi map)

SA overlay: at the region's beta_r, :func:`~empo_tabular.sa.run_sa` with ``visit="synchronous"``,
``mode="expected"``, all five quantities as tables (so that one SA step is exactly the
per-block damped Jacobi update ``z <- z + D(a, kappa)(F_J(z) - z)`` whose linear rate the region
predicts), evaluator rates ``a`` and Q_r/V_r rates ``kappa a``, started from the exact solution
with Q_r and V_h^e perturbed by 1e-3 (relative).  A run counts as converged when its final
sup-norm error of Q_r is finite and below half its initial error (so its observed rate
``(err_final / err0)^(1/n_steps)`` is < 1).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..contraction.contraction_report import ContractionReport
from ..contraction.empo_sweep import analyze_contraction

__all__ = ["run_contraction_job", "sa_overlay", "DEFAULT_SA_POINTS", "JOB_OPTIONS"]

#: (a, kappa) pairs of the SA overlay (kappa * a <= 1 is required by SAConfig).
DEFAULT_SA_POINTS = ((1.0, 1.0), (1.0, 0.1), (0.5, 1.0), (0.5, 0.1), (0.2, 0.3), (0.2, 3.0))
#: Estimator budgets of the job (lighter than the defaults, to keep a 20-beta job near a minute).
JOB_OPTIONS = dict(picard_steps=60, n_samples=10, adversarial_starts=1, adversarial_maxfev=60)


def sa_overlay(world, prior, params, report: ContractionReport, points=DEFAULT_SA_POINTS, *, n_steps: int = 400,
               seed: int = 0, perturbation: float = 1e-3) -> list:
    """Empirical synchronous expected-mode SA runs at the report's region beta (see module docstring).

    Returns a list of dicts ``a, kappa, converged, err0, err_final, rate_observed, rho_pred``
    (``rho_pred`` from the region grid point nearest in log space).  Points with ``kappa * a > 1``
    are skipped.
    """
    from ..exact.phase2 import solve_phase2
    from ..sa.engine import run_sa
    from ..sa.config import SAConfig

    if report.region is None:
        return []
    beta = float(report.region["beta"])
    p = params.replace(beta_r=beta)
    exact = solve_phase2(world, prior, p)
    rng = np.random.default_rng(seed)
    live = ~world.terminal
    Q = exact.Q_r.copy()
    Q[live] *= np.exp(perturbation * rng.uniform(-1, 1, Q[live].shape))
    VE = exact.V_h_e.copy()
    VE[live] = np.clip(VE[live] * (1 + perturbation * rng.uniform(-1, 1, VE[live].shape)), 0.0, 1.0)
    initial = {"Q_r": Q, "V_h_e": VE, "X_h": exact.X_h, "U_r": exact.U_r, "V_r": exact.V_r}
    a_grid = np.asarray(report.region["a_values"])
    k_grid = np.asarray(report.region["kappa_values"])
    rho_grid = np.asarray(report.region["rho_pred"])
    out = []
    for a, kappa in points:
        if kappa * a > 1.0 + 1e-12:
            continue
        cfg = SAConfig(mode="expected", visit="synchronous", lr_v_h_e=a, lr_x_h=a, lr_u_r=a, lr_q_r=kappa * a,
                       lr_v_r=kappa * a, x_h_use_network=True, u_r_use_network=True, v_r_use_network=True,
                       lr_schedule="constant", beta_r_rampup_steps=0)
        res = run_sa(world, prior, p, cfg, n_steps, exact=exact, seed=seed, initial=initial)
        err = np.asarray(res.trace["err_sup_Q_r"], dtype=float)
        steps = np.asarray(res.trace["step"], dtype=float)
        e0, e1 = float(err[0]), float(err[-1])
        conv = bool(np.isfinite(e1) and e1 < 0.5 * e0)
        rate = float((e1 / e0) ** (1.0 / max(steps[-1], 1.0))) if (e0 > 0 and np.isfinite(e1) and e1 > 0) else \
            (0.0 if e1 == 0 else math.nan)
        i = int(np.argmin(np.abs(np.log(a_grid) - math.log(a))))
        j = int(np.argmin(np.abs(np.log(k_grid) - math.log(kappa))))
        out.append({"a": float(a), "kappa": float(kappa), "converged": conv, "err0": e0, "err_final": e1,
                    "rate_observed": rate, "n_steps": int(n_steps), "rho_pred_nearest": float(rho_grid[i, j])})
    return out


def run_contraction_job(world, prior, params, betas, out_dir, maps=("reduced", "jacobi", "gauss_seidel"), *,
                        progress: bool = True, with_sa_overlay: bool = True, seed: int = 0, options=None,
                        sa_points=DEFAULT_SA_POINTS, sa_steps: int = 400, **analyze_kwargs) -> ContractionReport:
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
        Run the SA overlay (:func:`sa_overlay`) when the Jacobi map is analysed.
    options : dict, optional
        Estimator budgets (default :data:`JOB_OPTIONS`).
    sa_points, sa_steps :
        (a, kappa) pairs and steps of the SA overlay.
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
                                 options={**JOB_OPTIONS, **(options or {})}, **analyze_kwargs)
    if with_sa_overlay and report.region is not None:
        report.sa_runs = sa_overlay(world, prior, params, report, sa_points, n_steps=sa_steps, seed=seed)
    written = []

    def save(fig, name):
        path = out / name
        fig.savefig(path, dpi=130)
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
