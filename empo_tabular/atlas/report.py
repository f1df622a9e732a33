"""``DIR/atlas.md``: the atlas report (agreement, disagreements, verdicts, phase diagrams)."""
from __future__ import annotations

from pathlib import Path

from ..core.storage import atomic_write_text
from .analysis import agreement, confusion, disagreements, verdicts
from .store import run_history

MAX_LISTED = 60


def _confusion_md(df, title) -> list:
    c = confusion(df)
    n = sum(c.values())
    agree = c[(True, True)] + c[(False, False)]
    return [f"**{title}**: {agree} of {n} cells agree ({agreement(df):.1%}).", "",
            "| | observed converges | observed does not |", "|---|---|---|",
            f"| predicted converges | {c[(True, True)]} | {c[(True, False)]} |",
            f"| predicted does not | {c[(False, True)]} | {c[(False, False)]} |", ""]


def _fp_text(df) -> str:
    searched = df.drop_duplicates(["world", "beta_r"])
    parts = []
    for w, g in searched.groupby("world"):
        if not g["fixed_points_searched"].any():
            parts.append(f"{w}: not searched (n_q = {int(g['n_q'].iloc[0])})")
        else:
            counts = ", ".join(f"beta_r={b:g}: {int(n)}" for b, n in zip(g["beta_r"], g["n_fixed_points"])
                               if n is not None and n == n)
            parts.append(f"{w}: {counts}")
    return "; ".join(parts)


def build_report(df, spec, run=None, figures=None, spec_out=None) -> str:
    """The Markdown text of the report (``spec_out``: the atlas folder, for the run history)."""
    lines = [f"# Convergence atlas: {spec.name}", ""]
    worlds = sorted(df["world"].unique())
    lines += [f"{len(df)} cells: {len(worlds)} worlds ({', '.join(worlds)}) x {len(df['beta_r'].unique())} beta_r "
              f"({', '.join(f'{b:g}' for b in sorted(df['beta_r'].unique()))}) x schemes x modes "
              f"({', '.join(sorted(df['mode'].unique()))}) x seeds (sampled: {spec.seeds})."]
    runs = [r for r in run_history(spec_out) if r["n_computed"] > 0] if spec_out else []
    if runs:
        lines += ["", "Runs that computed cells (wall time on the machine as it was loaded at the time; "
                  "`group_cpu_seconds` in the cells gives the CPU):", ""]
        lines += [f"* {r['finished']}: {r['n_computed']} cells in {r['n_tasks']} group tasks on {r['n_workers']} "
                  f"worker(s) ({r['engine']}) in {r['seconds']:.1f} s = {r['cells_per_second']:.2f} cells/s"
                  for r in runs]
    cpu = df.drop_duplicates(["world", "beta_r"])["group_cpu_seconds"].sum() if "group_cpu_seconds" in df else None
    if cpu is not None:
        lines += ["", f"CPU time of all group tasks: {cpu:.0f} s ({cpu / len(df) * 1e3:.0f} ms per cell)."]
    lines += ["", "## What is predicted and what is observed", "",
              "* **Prediction** (computed once per (world, beta_r) at the exact fixed point, from the Jacobian J of "
              "the Jacobi map on (Q_r, V_h^e, X_h, U_r)): expected mode, the linearised rate "
              "rho(I + D(J - I)) of the scheme's steps (D = a on the evaluator, kappa a on Q_r; k:1 update "
              "frequency and target copies as products over one period) must be < 1; sampled mode "
              "(a_n ~ n^-%g, b_n ~ n^-%g, b_n / a_n -> 0), the ODE-limit criterion max Re lambda(J_R) < 1 of the "
              "reduced map with the evaluator block stable (||J_EE||_inf < 1)." % (
                  spec.sampled["fast_exponent"], spec.sampled["slow_exponent"]),
              f"* **Outcome**: SA from a cold start (Q_r = -1 times exp({spec.init_noise:g} U(-1, 1)) drawn from the "
              f"cell's seed, V_h^e = 0.5) against the exact solution; the label "
              f"is measured on the Q_r sup-norm error trace (converged <= tol: {spec.expected['tol']:g} expected, "
              f"{spec.sampled['tol']:g} sampled; converging = fitted geometric trend falls; oscillating, "
              f"diverging, plateau). **Observed converges** = converged or converging. Budgets: expected "
              f"{spec.expected['n_steps']} synchronous sweeps, sampled {spec.sampled['sweeps']} sweeps of single-"
              f"state updates.",
              f"* Fixed-point multiplicity of the reduced map (multistart Newton, {spec.fixed_points['starts']} "
              f"starts, where n_q <= {spec.fixed_points['max_nq']}): {_fp_text(df)}.", ""]
    lines += ["## Agreement", ""]
    lines += _confusion_md(df, "All cells")
    for m in sorted(df["mode"].unique()):
        lines += _confusion_md(df[df["mode"] == m], f"{m} mode")
    figs = list(figures or [])
    for name, cap in figs:
        if "confusion" in name or "rates" in name:
            lines += [f"![{Path(name).stem}]({name})", "", f"*{cap}*", ""]
    vs = verdicts(df)
    modes = [m for m in ("expected", "sampled") if (df["mode"] == m).any()]
    lines += ["## Verdicts on the design note's claims", "",
              "Judged per world and separately per regime (expected: deterministic synchronous sweeps; sampled: "
              "noisy asynchronous updates with decaying two-timescale rates). At each beta_r a scheme is compared "
              "with its baseline: 'better' = more cells observed to converge, or the same and a median final Q_r "
              "error (clipped at tol) 2x smaller, or the same error and 1.5x fewer steps to 1e-3.", "",
              "| claim | " + " | ".join(f"{m} mode" for m in modes) + " |", "|---|" + "---|" * len(modes)]
    for v in vs:
        lines.append(f"| {v['text']} | " + " | ".join(v["modes"][m]["summary"] for m in modes) + " |")
    lines += ["", "Not tested by the atlas: the monitoring table's symptom -> cause rows and the beta_r "
              "behaviour table (they need traces of internal quantities, see the demo report).", "",
              "### Evidence per world", ""]
    for v in vs:
        lines += [f"**{v['text']}**", ""]
        for m in modes:
            for w, (verdict, ev) in v["modes"][m]["per_world"].items():
                lines.append(f"* {m}, {w}: {verdict}. {ev}")
        lines.append("")
    lines += ["## Phase diagrams", ""]
    for name, cap in figs:
        if "phase_" in name:
            lines += [f"![{Path(name).stem}]({name})", "", f"*{cap}*", ""]
    if not figs:
        lines += ["Figures not drawn (run through `empo-tabular atlas` or "
                  "`empo_tabular.apps.atlas_job.run_atlas_job` to draw them).", ""]
    d = disagreements(df)
    kinds = d.groupby(["mode", "predicted_converges", "label"]).size()
    lines += ["## Cells where theory and runs disagree", "",
              f"{len(d)} cells. By mode, prediction and measured label: " + "; ".join(
                  f"{m}, predicted {'converges' if p else 'does not'}, {lab}: {n}" for (m, p, lab), n in kinds.items())
              + ". A sampled cell labelled plateau did not show a measurable fall of its Q_r error over the second "
              "half of its budget; the ODE-limit criterion speaks about the limit n -> infinity.", "",
              f"Listed: up to {MAX_LISTED}, largest |rho_pred - 1| first within each mode.", "",
              "| world | beta_r | scheme | mode | seed | predicted | rho_pred | ODE max Re | label | err Q_r |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in d.head(MAX_LISTED).iterrows():
        err = "non-finite" if r["err_Q_r"] is None or r["err_Q_r"] != r["err_Q_r"] else f"{r['err_Q_r']:.2e}"
        lines.append(f"| {r['world']} | {r['beta_r']:g} | {r['scheme']} | {r['mode']} | {r['seed']} | "
                     f"{'converges' if r['predicted_converges'] else 'does not'} | {r['predicted_rate']:.5f} | "
                     f"{r['ode_max_re']:.4f} | {r['label']} | {err} |")
    lines.append("")
    return "\n".join(lines)


def write_report(df, out, spec, run=None, figure_writer=None) -> Path:
    """Write ``out/atlas.md`` (figures first, through ``figure_writer``)."""
    figures = figure_writer(df, out) if figure_writer is not None else []
    path = Path(out) / "atlas.md"
    atomic_write_text(path, build_report(df, spec, run, figures, spec_out=out))
    return path
