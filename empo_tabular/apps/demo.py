"""The main job, ``empo-tabular demo``: everything the package is for, on one embedded world.

Steps (one direction, each feeding the next):

1. the embedded stationary gridworld (:data:`DEMO_SCENARIO`, robot discount
   :data:`DEMO_GAMMA_R`) and its exact solution (Phase 1, Phase 2), saved
   with a six-panel overview figure;
2. the learning-rate note's five experiments (:mod:`empo_tabular.experiments`)
   at beta_r in {1, 10, 100}, traced against the exact solution: one figure
   per experiment, a CSV/JSON summary;
3. the contraction sweep (:mod:`empo_tabular.contraction`): indicators of
   the reduced, Jacobi and Gauss-Seidel maps versus beta_r, the critical
   beta_r of each, the predicted convergence region with SA runs overlaid;
4. ``report.md``: what was found, in words, with the figures.

Why this world: with ``gamma_r = 0.5`` the robot's Q-values are small, so
beta_r / |Q_r| (the power law's effective sharpness) is large and the coupled
map stops contracting inside the beta_r range the note talks about - the
regime where the choice of learning rates decides convergence.  At the
scenario's own ``gamma_r = 0.9`` every scheme converges up to beta_r = 100.
"""
from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

import numpy as np

DEMO_SCENARIO = "shared_switch"
DEMO_GAMMA_R = 0.5
LR_BETAS = (1.0, 10.0, 100.0)


def _contraction_betas(quick: bool) -> list:
    """0 and a log grid over [0.1, 1000] that contains 1, 10 and 100 exactly (the SA experiments' betas)."""
    n = 5 if quick else 17
    return [0.0] + [float(10.0 ** e) for e in np.linspace(-1.0, 3.0, n)]


#: (a, kappa) SA runs overlaid on the predicted region at beta_r = 100: the experiments' schemes
#: (equal 1, 5:1, U_r pathway x10, equal 0.1) and two more.
REGION_SA_POINTS = ((1.0, 1.0), (1.0, 0.2), (1.0, 0.1), (0.1, 1.0), (0.5, 0.5), (0.2, 3.0))


def _lr_findings(rows: list) -> list:
    """One sentence per variant: where it converged and where not."""
    by_variant: dict = {}
    for r in rows:
        by_variant.setdefault((r["experiment"], r["variant"]), []).append(r)
    lines = []
    for (exp, variant), rs in by_variant.items():
        ok = [f"{r['beta_r']:g}" for r in rs if r["converged"]]
        bad = [f"{r['beta_r']:g} ({r['label']}, Q_r error {r['final_Q_r']:.1e})" for r in rs if not r["converged"]]
        text = f"*{exp}* / **{variant}**: "
        text += f"converged at beta_r = {', '.join(ok)}" if ok else "converged nowhere"
        if bad:
            text += f"; did not converge at beta_r = {', '.join(bad)}"
        lines.append(text + ".")
    return lines


CROSSING_KINDS = {
    "flip": "flip: a real eigenvalue leaves through -1",
    "neimark_sacker": "Neimark-Sacker: a complex pair leaves the unit circle",
    "fold": "fold: a real eigenvalue leaves through +1",
    "hopf": "Hopf: a complex pair crosses Re = 1",
}
INDICATOR_MEANING = {
    "sup_norm": "sup-norm contraction, sufficient for every update order",
    "rho_abs": "guarantee for asynchronous, one-state-at-a-time updates",
    "rho": "synchronous undamped iteration",
    "max_re": "small damped steps, the ODE limit",
}


def _crossing_text(crossing) -> str:
    events = (crossing or {}).get("all") or []
    if not events:
        return "stays below 1 on the whole grid"
    e = events[0]
    if e.get("direction") == "start":
        return "is already >= 1 at the smallest beta_r"
    kind = CROSSING_KINDS.get(e.get("type"), "")
    return f"crosses 1 at beta_r ~ {e['beta']:.3g}" + (f" ({kind})" if kind else "")


def _where(rows, experiment, prefix):
    rs = [r for r in rows if r["experiment"] == experiment and r["variant"].startswith(prefix)]
    ok = [f"{r['beta_r']:g}" for r in rs if r["converged"]]
    bad = [f"{r['beta_r']:g}" for r in rs if not r["converged"]]
    if not rs:
        return "was not run"
    if not bad:
        return f"converges at every beta_r tried ({', '.join(ok)})"
    return (f"converges at beta_r = {', '.join(ok)} and not at {', '.join(bad)}" if ok
            else f"does not converge at beta_r = {', '.join(bad)}")


def _lr_headline(rows: list, report) -> list:
    """The sentences the note's reader wants first, tying SA runs to the analyzer."""
    jac = report.beta_star_by_map.get("jacobi", {}).get("rho")
    lines = [f"SA with undamped equal rates (every rate 1.0, i.e. synchronous Picard iteration of the equations) "
             f"{_where(rows, 'equal_rates', 'equal 1')}. "
             + (f"The Jacobi map's spectral radius, which decides exactly this iteration, {_crossing_text(jac)}."
                if jac is not None else ""),
             f"SA with equal rates 0.1 {_where(rows, 'equal_rates', 'equal 0.1')} (within the run length).",
             f"With the U_r pathway (V_h^e, X_h, U_r) 10x faster than Q_r, SA "
             f"{_where(rows, 'u_r_fast', 'U_r pathway')}; with Q_r 10x faster it "
             f"{_where(rows, 'q_r_fast', 'Q_r')}.",
             f"SA with k = 5 evaluator updates per Q_r update {_where(rows, 'frequency_separation_5to1', 'equal 1, k=5')}"
             f", while the 5:1 rate ratio {_where(rows, 'frequency_separation_5to1', 'rates 5:1')}."]
    return lines


def _contraction_findings(report) -> list:
    lines = []
    for m in report.maps:
        stars = report.beta_star_by_map.get(m, {})
        parts = [f"{ind} ({INDICATOR_MEANING[ind]}) {_crossing_text(stars.get(ind))}"
                 for ind in ("sup_norm", "rho_abs", "rho", "max_re") if ind in stars]
        if parts:
            lines.append(f"**{m}** map: " + "; ".join(parts) + ".")
    multi = report.beta_star.get("multi")
    if isinstance(multi, dict) and multi.get("searched") and math.isfinite(multi.get("first", math.inf)):
        lines.append(f"More than one fixed point first found at beta_r ~ {multi['first']:.3g}.")
    runs = report.sa_runs or []
    if runs and report.region:
        agree = sum((r["rho_pred_nearest"] < 1.0) == bool(r["converged"]) for r in runs)
        lines.append(f"Learning-rate ratios at beta_r = {report.region['beta']:g}: the linearised prediction "
                     f"rho(I + D(a, kappa)(J - I)) < 1 agrees with {agree} of {len(runs)} synchronous SA runs "
                     f"(region figure; kappa = lr_q_r / lr_evaluator).")
    lines.append("Self-check: ||J|| >= rho(|J|) >= rho(J) >= max Re holds in every row."
                 if report.ordering.get("rows_ok") else
                 "Self-check VIOLATED (||J|| >= rho(|J|) >= rho(J) >= max Re): see the JSON report.")
    return lines


def _write_csv(path: Path, rows: list):
    from ..core.storage import atomic_write_text

    if not rows:
        return
    keys = list(rows[0])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r.get(k) for k in keys})
    atomic_write_text(path, buf.getvalue())


def run_demo(out, *, quick: bool = False, seed: int = 0, progress: bool = True, scenario: str = DEMO_SCENARIO,
             gamma_r: float = DEMO_GAMMA_R) -> Path:
    """Run the whole demo and write ``out/report.md`` with figures and data; returns the report path.

    ``quick`` shortens the SA runs and the beta_r grid (a smoke run, for tests).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .._version import __version__
    from .warmup import warm_up_exact_kernels
    from .contraction_job import run_contraction_job
    from ..sa.experiments import EXPERIMENT_NAMES, format_summary, run_all, summarise
    from ..io.results import save_result
    from ..exact.phase1 import solve_phase1
    from ..exact.phase2 import solve_phase2
    from ..plotting import plot_overview, save_figure
    from ..plotting.sa import plot_experiment
    from ..core.storage import atomic_write_text, versions
    from ..worlds.scenarios import describe_scenario, get_scenario

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    say = print if progress else (lambda *a, **k: None)

    # 1. world and exact solution --------------------------------------------------------------
    gw, params = get_scenario(scenario)
    params = params.replace(gamma_r=gamma_r)
    world = gw.world
    say(f"[1/4] exact solution on '{scenario}' ({world.n_states} states, stationary), gamma_r = {gamma_r:g}")
    warm_up_exact_kernels()  # compile / load kernels outside the timings
    t0 = time.perf_counter()
    prior = solve_phase1(world, params)
    t1 = time.perf_counter()
    exact = solve_phase2(world, prior, params)
    t2 = time.perf_counter()
    world.save(out / "world.npz", params=params)
    save_result(prior, out / "phase1_prior")
    save_result(exact, out / "phase2_solution")
    fig = plot_overview(gw, exact, prior, seed=seed)
    save_figure(fig, out / "world_overview.png")
    plt.close(fig)
    s0 = world.initial_state
    names = gw.robot_action_names()
    top = np.argsort(-exact.pi_r[s0])[:3]

    # 2. learning-rate experiments ------------------------------------------------------------
    n_steps = 300 if quick else 2000
    say(f"[2/4] the note's five learning-rate experiments, beta_r in {LR_BETAS}, {n_steps} sweeps per run")
    results = run_all(world, prior, params, betas=LR_BETAS, n_steps=n_steps, seed=seed, progress=progress,
                      world_name=f"{scenario} (stationary, gamma_r={gamma_r:g})")
    lr_rows = summarise([results[n] for n in EXPERIMENT_NAMES])
    for name in EXPERIMENT_NAMES:
        fig = plot_experiment(results[name], out / f"lr_{name}.png")
        plt.close(fig)
    _write_csv(out / "lr_summary.csv", lr_rows)
    atomic_write_text(out / "lr_summary.json", json.dumps(lr_rows, indent=1, default=str) + "\n")

    # 3. contraction sweep --------------------------------------------------------------------
    betas = _contraction_betas(quick)
    say(f"[3/4] contraction of the coupled map at {len(betas)} values of beta_r in [0, {max(betas):g}]")
    report = run_contraction_job(world, prior, params, betas, out / "contraction", progress=progress, seed=seed,
                                 region_beta=100.0, sa_points=REGION_SA_POINTS,
                                 n_jobs=2)  # betas spread over two forked workers (2 cores)

    # 4. report -------------------------------------------------------------------------------
    say("[4/4] writing the report")
    elapsed = time.perf_counter() - t_start
    figs = sorted(p.name for p in (out / "contraction").glob("*.png"))
    md = [
        f"# empo_tabular demo: {scenario}",
        "",
        f"empo_tabular {__version__}; seed {seed}; {elapsed:.0f} s in total. "
        f"Parameters: {json.dumps(params.to_dict())}.",
        "",
        "## What was found",
        "",
        *[f"* {line}" for line in _lr_headline(lr_rows, report)],
        *[f"* {line}" for line in _contraction_findings(report)],
        "",
        "## The world and its exact solution",
        "",
        describe_scenario(scenario).strip(),
        "",
        "```",
        gw.render(),
        "```",
        "",
        f"{world.n_states} states (stationary, cyclic), {world.n_humans} humans, {world.n_ar} joint robot "
        f"actions. Phase 1: {(t1 - t0) * 1e3:.1f} ms; Phase 2: {(t2 - t1) * 1e3:.1f} ms ({exact.method}, "
        f"residual {exact.residual:.1e}). V_r(s0) = {exact.V_r[s0]:.6g}; the robot's most likely first actions: "
        + ", ".join(f"{names[a]} ({exact.pi_r[s0, a]:.3f})" for a in top) + ".",
        "",
        "![overview](world_overview.png)",
        "",
        "## Learning-rate experiments (two-timescale SA against the exact solution)",
        "",
        "Expected-mode SA with synchronous sweeps and constant rates (slow 0.1, fast 1.0): the only thing that "
        "can stop convergence is the coupled dynamics itself. A run counts as converged when its final Q_r "
        "sup-norm relative error is below 1e-6.",
        "",
        *[f"* {line}" for line in _lr_findings(lr_rows)],
        "",
        format_summary(lr_rows),
        "",
        *[f"![{n}](lr_{n}.png)\n" for n in EXPERIMENT_NAMES],
        "## Contraction of the coupled map versus beta_r",
        "",
        "```",
        report.summary(),
        "```",
        "",
        *[f"![{f}](contraction/{f})\n" for f in figs],
        "## Files",
        "",
        "world.npz, phase1_prior.npz/.json, phase2_solution.npz/.json (load with empo_tabular.load_world / "
        "load_result); lr_summary.csv/.json; contraction/ (report CSV + JSON, figures).",
        "",
        f"Versions: {json.dumps(versions())}",
        "",
    ]
    path = atomic_write_text(out / "report.md", "\n".join(md))
    say("")
    say(format_summary([r for r in lr_rows]))
    say("")
    say(report.summary())
    say(f"\nreport: {path}  ({elapsed:.0f} s)")
    return path
