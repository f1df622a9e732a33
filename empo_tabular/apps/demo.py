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
import os
import time
from pathlib import Path

import numpy as np

DEMO_SCENARIO = "shared_switch"
DEMO_GAMMA_R = 0.5
LR_BETAS = (1.0, 10.0, 100.0)
SLOW, FAST = 0.1, 1.0  # the experiments' rate levels (sa.experiments.SLOW / FAST)
TARGET_INTERVAL = 10
#: Lighter estimator budgets for ``--quick`` (a smoke run): fewer Picard steps and samples, no adversarial search.
QUICK_OPTIONS = dict(picard_steps=20, n_samples=5, adversarial=False)


def _contraction_betas(quick: bool) -> list:
    """0 and a log grid that contains 1, 10 and 100 exactly (the SA experiments' betas)."""
    if quick:
        return [0.0, 100.0]
    return [0.0] + [float(10.0 ** e) for e in np.linspace(-1.0, 3.0, 13)]


#: The predicted region at beta_r = 100 and its SA runs: every (a, kappa) cell can be run (kappa a <= 1).
REGION_A = (0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0)
REGION_KAPPA = (0.1, 0.2, 0.5, 1.0)
QUICK_REGION_A, QUICK_REGION_KAPPA = (0.1, 0.35, 1.0), (0.1, 0.5, 1.0)  # --quick: 9 cells instead of 28


def _label_words(r) -> str:
    if r["label"] == "converging" and r.get("est_steps_to_tol") is not None:
        return f"converging, ~{r['est_steps_to_tol']:.2g} more steps to tol"
    if r["label"] == "oscillating" and r.get("period"):
        return f"oscillating, period {r['period']} steps"
    return r["label"]


def _lr_findings(rows: list) -> list:
    """One sentence per variant: its measured label at each beta_r."""
    by_variant: dict = {}
    for r in rows:
        by_variant.setdefault((r["experiment"], r["variant"]), []).append(r)
    lines = []
    for (exp, variant), rs in by_variant.items():
        parts = [f"beta_r = {r['beta_r']:g}: {_label_words(r)} (Q_r error {r['final_Q_r']:.1e})" for r in rs]
        lines.append(f"*{exp}* / **{variant}**: " + "; ".join(parts) + ".")
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
    e = next((ev for ev in events if ev.get("direction") in ("start", "up")), None)
    if e is None:
        return "stays below 1 on the whole grid (it falls back below 1 after an earlier crossing)"
    if e.get("direction") == "start":
        return "is already >= 1 at the smallest beta_r"
    kind = CROSSING_KINDS.get(e.get("type"), "")
    return f"crosses 1 at beta_r ~ {e['beta']:.3g}" + (f" ({kind})" if kind else "")


def _where(rows, experiment, prefix):
    rs = [r for r in rows if r["experiment"] == experiment and r["variant"].startswith(prefix)]
    if not rs:
        return "was not run"
    groups: dict = {}
    for r in rs:
        groups.setdefault(r["label"], []).append(f"{r['beta_r']:g}")
    return "is " + "; ".join(f"{lab} at beta_r = {', '.join(bs)}" for lab, bs in groups.items())


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
    from .contraction_job import region_agreement

    lines = []
    for m in report.maps:
        stars = report.beta_star_by_map.get(m, {})
        parts = [f"{ind} ({INDICATOR_MEANING[ind]}) {_crossing_text(stars.get(ind))}"
                 for ind in ("sup_norm", "rho_abs", "rho", "max_re") if ind in stars]
        if parts:
            lines.append(f"**{m}** map: " + "; ".join(parts) + ".")
    multi = report.beta_star.get("multi") or {}
    first = multi.get("first")
    if not multi.get("searched"):
        lines.append("Other fixed points: not searched (multistart search skipped on this world).")
    elif isinstance(first, (int, float)) and math.isfinite(first):
        lines.append(f"More than one fixed point first found at beta_r ~ {first:.3g}.")
    else:
        lines.append(f"Other fixed points: searched, none found up to beta_r = {max(report.betas):g}.")
    ag = region_agreement(report.sa_runs)
    if report.region and ag["ran"]:
        lines.append(f"Learning-rate ratios at beta_r = {report.region['beta']:g}: the linearised prediction "
                     f"rho(I + D(a, kappa)(J - I)) < 1 agrees with the measured label of synchronous SA on "
                     f"{ag['agree']} of {ag['counted']} cells ({ag['ran']} cells run, {ag['unmeasurable']} with a "
                     f"rate too close to 1 to measure; kappa = lr_q_r / lr_evaluator).")
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


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (forked workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def extra_experiment(n_steps: int, levels=(SLOW, FAST)):
    """Warm-up stages without a ramp, a ramp without stages, and Q_r/V_r target tables, at equal rates.

    The note's staged warm-up experiment combines stages and the beta_r ramp; these variants separate the
    two claims ("staged warm-up essential", "ramp essential for large beta_r") and test "target networks
    help" (Q_r and V_r targets copied every :data:`TARGET_INTERVAL` steps).
    """
    from ..sa.experiments import Experiment, rates, staged_warmup

    w = staged_warmup(n_steps)
    stages = {k: v for k, v in w.items() if k.startswith("warmup_")}
    variants = []
    for r in levels:
        variants += [(f"stages only, equal {r:g}", rates(r, r, None, **stages, beta_r_rampup_steps=0)),
                     (f"ramp only, equal {r:g}", rates(r, r, None, beta_r_rampup_steps=w["beta_r_rampup_steps"],
                                                        beta_r_continuation_mode="sigmoid")),
                     (f"targets every {TARGET_INTERVAL}, equal {r:g}",
                      rates(r, r, None, q_r_target_update_interval=TARGET_INTERVAL,
                            v_r_target_update_interval=TARGET_INTERVAL))]
    return Experiment("warmup_parts_and_targets", "Warm-up stages, β_r ramp and target tables, separately",
                      "Warm-up stages at beta_r = 0 without a ramp; a sigmoid beta_r ramp without stages; Q_r and V_r "
                      f"target tables copied every {TARGET_INTERVAL} steps (compare with 'equal' in Experiment 1).",
                      tuple(variants))


def _run_experiments(world, prior, params, exacts, betas, n_steps, seed, n_jobs, quick, world_name):
    """The note's experiments plus :func:`extra_experiment`; unique runs spread over forked workers."""
    from ..sa.engine import run_sa
    from ..sa.experiments import EXPERIMENT_NAMES, get_experiment, run_lr_experiment
    from ..core.forked import map_forked

    exps = [get_experiment(n, n_steps) for n in EXPERIMENT_NAMES]
    exps.append(extra_experiment(n_steps, (FAST,) if quick else (SLOW, FAST)))
    rec = max(1, n_steps // (50 if quick else 200))
    unique = list(dict.fromkeys((cfg, float(b)) for e in exps for _, cfg in e.variants for b in betas))
    done = map_forked(lambda job: run_sa(world, prior, params.replace(beta_r=job[1]), job[0], n_steps,
                                         exact=exacts[job[1]], seed=seed, record_every=rec), unique, n_jobs)
    cache = {(cfg, b, int(n_steps), int(seed), world.checksum, rec): res for (cfg, b), res in zip(unique, done)}
    return {e.name: run_lr_experiment(e, world, prior, params, exacts, betas, n_steps, seed, record_every=rec,
                                      cache=cache, world_name=world_name) for e in exps}


def _records(results, region_runs, sampled, region_beta):
    """Run records (:func:`~.verdicts.run_record`) of every regime and family."""
    from ..sa.config import SAConfig
    from ..sa.diagnose import diagnose
    from .verdicts import run_record

    recs, seen = [], set()
    for er in results.values():
        for row in er.summary:
            res = er.results[(row["variant"], row["beta_r"])]
            if (res.config, row["beta_r"]) in seen:  # the same run under another experiment's name
                continue
            seen.add((res.config, row["beta_r"]))
            recs.append(run_record(res.config, row["beta_r"], label=row["label"], final=row["final_Q_r"],
                                   steps_to=row.get("steps_to_0.001"), symptoms=diagnose(res, er.tol).symptoms,
                                   variant=row["variant"]))
    for r in region_runs or []:
        if not r.get("ran", True):
            continue
        cfg = SAConfig(lr_v_h_e=r["a"], lr_x_h=r["a"], lr_u_r=r["a"], lr_q_r=r["kappa"] * r["a"],
                       lr_v_r=r["kappa"] * r["a"])
        recs.append(run_record(cfg, region_beta, label=r["label"], final=r["err_final"], symptoms=r["symptoms"],
                               family="region", variant=f"cell a={r['a']:g} κ={r['kappa']:g}"))
    for a in sampled or []:
        recs.append(run_record(a["config"], a["beta_r"], label=max(set(a["labels"]), key=a["labels"].count),
                               final=a["final_median"], steps_to=a["steps_to_median"], symptoms=a["symptoms"],
                               regime="sampled", variant=a["variant"], n_seeds=len(a["labels"]),
                               n_converging=a["n_converging"]))
    return recs


LR_CAPTION = ("Rows: β_r; columns: error of Q_r, π_r, V_h^e and U_r against the exact solution (sup norm over "
              "non-terminal states; relative for Q_r and U_r, absolute for π_r and V_h^e; log scale) per SA step "
              "(one synchronous expected-mode sweep, constant rates). One colour per variant; the marker at the "
              "end of each line is the run's measured label (legend; measured on the Q_r error, tol 1e-6). Grey "
              "band: warm-up stages at β_r = 0 (dotted lines: stage boundaries); amber band: the β_r ramp.")


OVERVIEW_CAPTION = (
    "Top left: the map in the initial state (dark: wall; brown square with a light dot: closed door, dashed brown "
    "frame: open door; circles: humans H0, H1; rounded square: the robot R0; hatched cells: the goals of H0 with "
    "their weights, legend). Top middle: V_h^e of H0 for the goal named in the panel title over H0's cell, the other agents as in the "
    "initial state; top right: X_h of H0 over H0's cell; bottom left: U_r over R0's cell (numbers: the values; "
    "colour bars beside). Bottom middle: π_r of R0 at each of its cells: arrows are moves (length ∝ probability), a "
    "disc is stay (area ∝ probability), a brown ring is toggling the door. Bottom right: a sampled rollout (the demo seed) "
    "under the exact π_r and the human prior: paths from the start cells (faded) to the final state (solid), numbers "
    "mark the step at each visited cell.")


def _figure(md: list, path: str, alt: str, caption: str):
    md += [f"![{alt}]({path})", "", f"*Figure: {caption}*", ""]


def run_demo(out, *, quick: bool = False, seed: int = 0, progress: bool = True, scenario: str = DEMO_SCENARIO,
             gamma_r: float = DEMO_GAMMA_R, n_jobs: int = 2, n_seeds: int = 5) -> Path:
    """Run the whole demo and write ``out/report.md`` with figures and data; returns the report path.

    ``quick`` shortens the SA runs, the beta_r grid and the sampled regime (a smoke run, for tests);
    ``n_jobs`` forked workers share the independent runs; ``n_seeds`` seeds per sampled scheme.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .._version import __version__
    from ..core.storage import atomic_write_text, dumps_strict, versions
    from ..exact.phase1 import solve_phase1
    from ..exact.phase2 import solve_phase2
    from ..io.results import save_result
    from ..plotting import plot_overview, save_figure
    from ..plotting.contraction import caption as contraction_caption
    from ..plotting.layout import draw_caption
    from ..plotting.sa import plot_experiment, plot_seed_bands
    from ..sa.experiments import format_summary, summarise
    from ..worlds.scenarios import describe_scenario, get_scenario
    from .contraction_job import run_contraction_job
    from .sampled import (SAMPLED_TOL, label_counts, run_sampled_regime, sampled_extra_schemes, sampled_schemes,
                          schedule_text)
    from .verdicts import CLAIMS, beta_table_verdicts, evaluate_claims, format_table, monitoring_verdicts
    from .warmup import warm_up_exact_kernels

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_start, c_start = time.perf_counter(), _cpu()
    say = print if progress else (lambda *a, **k: None)
    timing = []

    def lap(name, t0, c0):
        timing.append((name, time.perf_counter() - t0, _cpu() - c0))

    # 1. world and exact solution --------------------------------------------------------------
    gw, params = get_scenario(scenario)
    params = params.replace(gamma_r=gamma_r)
    world = gw.world
    wname = f"{scenario} (stationary, gamma_r={gamma_r:g})"
    say(f"[1/5] exact solution on '{scenario}' ({world.n_states} states, stationary), gamma_r = {gamma_r:g}")
    warm_up_exact_kernels()  # compile / load kernels outside the timings
    t0, c0 = time.perf_counter(), _cpu()
    prior = solve_phase1(world, params)
    t1 = time.perf_counter()
    exact = solve_phase2(world, prior, params)
    t2 = time.perf_counter()
    world.save(out / "world.npz", params=params)
    save_result(prior, out / "phase1_prior")
    save_result(exact, out / "phase2_solution")
    fig = plot_overview(gw, exact, prior, seed=seed)
    draw_caption(fig, OVERVIEW_CAPTION)
    save_figure(fig, out / "world_overview.png")
    plt.close(fig)
    s0 = world.initial_state
    names = gw.robot_action_names()
    top = np.argsort(-exact.pi_r[s0])[:3]
    exacts = {float(b): solve_phase2(world, prior, params.replace(beta_r=float(b))) for b in LR_BETAS}
    lap("exact solutions and overview", t0, c0)

    # 2. contraction analysis and SA on every cell of the predicted region -------------------------
    t0, c0 = time.perf_counter(), _cpu()
    betas = _contraction_betas(quick)
    a_values, kappa_values = (QUICK_REGION_A, QUICK_REGION_KAPPA) if quick else (REGION_A, REGION_KAPPA)
    say(f"[2/5] contraction of the coupled map at {len(betas)} values of beta_r in [0, {max(betas):g}], "
        f"SA on {len(a_values) * len(kappa_values)} cells at beta_r = 100")
    report = run_contraction_job(world, prior, params, betas, out / "contraction", progress=progress, seed=seed,
                                 region_beta=100.0, a_values=a_values, kappa_values=kappa_values, n_jobs=n_jobs,
                                 sa_steps=100 if quick else 400, sa_max_steps=250 if quick else 1000,
                                 options=QUICK_OPTIONS if quick else None,
                                 **({"n_fixed_point_starts": 0} if quick else {}))  # quick: no multistart search
    lap("contraction analysis, region SA, figures", t0, c0)

    # 3. the note's experiments, expected mode -------------------------------------------------
    t0, c0 = time.perf_counter(), _cpu()
    n_steps = 200 if quick else 2000
    lr_betas = (1.0, 100.0) if quick else LR_BETAS  # quick: the smallest and the largest beta_r only
    say(f"[3/5] the note's learning-rate experiments, beta_r in {lr_betas}, {n_steps} sweeps per run")
    results = _run_experiments(world, prior, params, exacts, lr_betas, n_steps, seed, n_jobs, quick, wname)
    lr_rows = summarise(list(results.values()))
    for name, er in results.items():
        fig = plot_experiment(er, out / f"lr_{name}.png", dpi=90 if quick else 150)
        plt.close(fig)
    _write_csv(out / "lr_summary.csv", lr_rows)
    atomic_write_text(out / "lr_summary.json", dumps_strict({"rows": lr_rows}) + "\n")
    lap("learning-rate experiments (expected mode)", t0, c0)

    # 4. the stochastic regime -----------------------------------------------------------------
    t0, c0 = time.perf_counter(), _cpu()
    s_betas = (1.0, 100.0) if quick else LR_BETAS
    s_steps = 60_000 if quick else 300_000
    say(f"[4/5] sampled asynchronous SA, decaying rates, {n_seeds} seeds, beta_r in {s_betas}, {s_steps} steps")
    sampled = run_sampled_regime(world, prior, params, exacts, s_betas, n_steps=s_steps, seeds=range(n_seeds),
                                 schemes=sampled_schemes(quick), n_jobs=n_jobs)
    if not quick:  # warm-up stages, ramp and target tables at the largest beta_r only (their claims are about it)
        sampled += run_sampled_regime(world, prior, params, exacts, (max(s_betas),), n_steps=s_steps,
                                      seeds=range(n_seeds), schemes=sampled_extra_schemes(s_steps, world),
                                      n_jobs=n_jobs)
    s_caption = (f"Sampled, asynchronous SA (one uniformly drawn state per step, unbiased sampled targets) over "
                 f"{n_seeds} seeds per scheme: line = median, shaded = min-max over the seeds of the Q_r relative "
                 f"sup-norm error; k/n at the line end: seeds whose measured label is converged or converging "
                 f"(tol {SAMPLED_TOL:g}, dotted). Schedule: {schedule_text()}.")
    fig = plot_seed_bands(sampled, tol=SAMPLED_TOL, title=f"Stochastic regime — {wname}, {s_steps} steps",
                          caption=s_caption, path=out / "sampled_regime.png", dpi=90 if quick else 140)
    plt.close(fig)
    s_rows = [{"variant": a["variant"], "beta_r": a["beta_r"], "seeds": a["seeds"], "labels": a["labels"],
               "n_converging": a["n_converging"], "final_median": a["final_median"], "symptoms": a["symptoms"]}
              for a in sampled]
    atomic_write_text(out / "sampled_summary.json", dumps_strict({"rows": s_rows}) + "\n")
    lap("stochastic regime (sampled, seeds)", t0, c0)

    # 5. verdicts and report -------------------------------------------------------------------
    say("[5/5] verdicts and report")
    recs = _records(results, report.sa_runs, sampled, 100.0)
    ce, cs = evaluate_claims(recs, "expected"), evaluate_claims(recs, "sampled")
    me, ms = monitoring_verdicts(recs, "expected"), monitoring_verdicts(recs, "sampled")
    bt = beta_table_verdicts(report.table, "reduced")
    evidence = {"equal_small": "lr_equal_rates.png, sampled_regime.png",
                "ur_fast_large": "lr_u_r_fast.png, region.png, sampled_regime.png",
                "qr_fast": "lr_q_r_fast.png, sampled_regime.png",
                "frequency": "lr_frequency_separation_5to1.png, sampled_regime.png",
                "warmup": "lr_warmup_parts_and_targets.png, lr_staged_warmup_vs_none.png",
                "ramp": "lr_warmup_parts_and_targets.png, lr_staged_warmup_vs_none.png",
                "targets": "lr_warmup_parts_and_targets.png", "monitoring": "region.png, lr_*.png",
                "beta_table": "indicators.png, bifurcation.png"}
    table = format_table(ce, cs, me, ms, bt, evidence)
    atomic_write_text(out / "verdicts.json", dumps_strict(
        {"claims_expected": ce, "claims_sampled": cs, "monitoring_expected": me, "monitoring_sampled": ms,
         "beta_table": bt}) + "\n")
    elapsed, cpu = time.perf_counter() - t_start, _cpu() - c_start
    regime_dep = [text for k, text in CLAIMS
                  if cs.get(k) and not cs[k]["verdict"].startswith("not tested") and ce[k]["verdict"] != cs[k]["verdict"]]
    md = [f"# empo_tabular demo: {scenario}", "",
          f"empo_tabular {__version__}; seed {seed}; {elapsed:.0f} s wall, {cpu:.0f} s CPU (all processes) on "
          f"{n_jobs} worker(s){' (quick run)' if quick else ''}. Parameters: {json.dumps(params.to_dict())}.", "",
          "## What was found", "",
          *[f"* {line}" for line in _lr_headline(lr_rows, report)],
          *[f"* {line}" for line in _contraction_findings(report)], "",
          "## Verdicts on the design note", "",
          "Each verdict is computed from the runs below by the rule in its row (`empo_tabular/apps/verdicts.py`): "
          "holds (every case), fails (no case), holds only when (the cases listed), not tested (no run of the "
          "kind). Expected mode: deterministic synchronous sweeps with constant rates, the dynamics alone; "
          f"sampled: asynchronous SA with sampled targets and decaying rates over {n_seeds} seeds. "
          + (f"Verdicts that depend on the regime: {', '.join(regime_dep)}." if regime_dep else
             "No verdict of the claims differs between the regimes."), "",
          table, "",
          "## The world and its exact solution", "", describe_scenario(scenario).strip(), "", "```", gw.render(), "```",
          "",
          f"{world.n_states} states (stationary, cyclic), {world.n_humans} humans, {world.n_ar} joint robot "
          f"actions. Phase 1: {(t1 - t0) * 1e3:.1f} ms; Phase 2: {(t2 - t1) * 1e3:.1f} ms ({exact.method}, "
          f"residual {exact.residual:.1e}). V_r(s0) = {exact.V_r[s0]:.6g}; the robot's most likely first actions: "
          + ", ".join(f"{names[a]} ({exact.pi_r[s0, a]:.3f})" for a in top) + ".", ""]
    _figure(md, "world_overview.png", "overview", OVERVIEW_CAPTION)
    md += ["## Is the coupled map a contraction? (analyzer, along the branch from β_r = 0)", "",
           "```", report.summary(), "```", ""]
    _figure(md, "contraction/indicators.png", "indicators", contraction_caption("indicators", report))
    for m in report.maps:
        _figure(md, f"contraction/spectra_{m}.png", f"spectra {m}", contraction_caption("spectra", report, map_name=m))
    _figure(md, "contraction/bifurcation.png", "bifurcation", contraction_caption("bifurcation", report))
    md += ["## Which learning-rate ratios converge: prediction against SA on every cell", ""]
    _figure(md, "contraction/region.png", "region", contraction_caption("region", report))
    md += ["## The note's experiments (expected mode, synchronous, constant rates)", "",
           "The only thing that can stop convergence here is the coupled dynamics itself. Labels are measured on the "
           "Q_r sup-norm relative error (converged below 1e-6).", "",
           *[f"* {line}" for line in _lr_findings(lr_rows)], "", format_summary(lr_rows), ""]
    for name, er in results.items():
        _figure(md, f"lr_{name}.png", name, f"{er.experiment.title}. {er.experiment.description} {LR_CAPTION}")
    md += ["## The stochastic regime (sampled, asynchronous, decaying rates)", "",
           f"Schedule: {schedule_text()}. A scheme converges when more than half of its seeds are labelled "
           "converged or converging. The labels measure the last half of each run: a scheme with the lowest error can "
           "still be labelled plateau when its error no longer falls measurably there (the noise floor of sampled "
           "targets at the current rate), and none of these runs is near the exact solution yet (median final "
           "errors in the table), so the sampled verdicts compare progress within the run length.", "",
           "| scheme | β_r | seeds | labels | median final Q_r error | symptoms in most seeds |", "|---|---|---|---|---|---|",
           *[f"| {a['variant']} | {a['beta_r']:g} | {len(a['seeds'])} | {label_counts(a['labels'])} | "
             f"{a['final_median']:.2e} | {', '.join(a['symptoms']) or 'none'} |" for a in sampled], ""]
    _figure(md, "sampled_regime.png", "sampled regime", s_caption)
    md += ["## Time", "", "| phase | wall s | CPU s |", "|---|---|---|",
           *[f"| {n} | {w:.1f} | {c:.1f} |" for n, w, c in timing], "",
           "## Files", "",
           "world.npz, phase1_prior.npz/.json, phase2_solution.npz/.json (load with empo_tabular.load_world / "
           "load_result); lr_summary.csv/.json; sampled_summary.json; verdicts.json; contraction/ (report CSV + "
           "JSON, figures).", "", f"Versions: {json.dumps(versions())}", ""]
    path = atomic_write_text(out / "report.md", "\n".join(md))
    say("")
    say(table)
    say(f"\nreport: {path}  ({elapsed:.0f} s wall, {cpu:.0f} s CPU)")
    return path
