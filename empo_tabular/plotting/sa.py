"""Error-vs-step plots of two-timescale SA runs and of the learning-rate experiments.

:func:`plot_sa_errors` draws the traced error of each quantity against the
exact solution (log scale, one panel per quantity, one line per run), with
the warm-up stages (beta_r = 0) and the beta_r ramp shaded;
:func:`plot_experiment` draws a whole :class:`~empo_tabular.experiments.ExperimentResult`
(rows beta_r, columns quantities) and marks how each run ended.  Only the
object-oriented matplotlib API is used (any backend, ``Agg`` included).
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..core.conventions import RELATIVE
from ..sa.labels import LABEL_TEXT, LABELS
from .grid import param_label, save_figure

DEFAULT_QUANTITIES = ("Q_r", "pi_r", "V_h_e", "X_h", "U_r")
QUANTITY_LABELS = {"Q_r": "$Q_r$", "pi_r": r"$\pi_r$", "V_h_e": r"$V_h^e$", "X_h": "$X_h$", "U_r": "$U_r$",
                   "V_r": "$V_r$"}
VARIANT_COLORS = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#9c755f", "#2e3440",
                  "#edc948", "#ff9da7", "#8cd17d", "#bab0ac")
WARMUP_COLOR = "#8a8d91"
RAMP_COLOR = "#e9c46a"
LABEL_MARKERS = {"converged": ("o", True), "converging": ("o", False), "oscillating": ("D", False),
                 "diverging": ("X", True), "plateau": ("s", False)}
"""End-of-line marker (shape, filled) for each measured label of :mod:`empo_tabular.sa.labels`."""


def _as_runs(results) -> dict:
    """Normalise an SAResult, a sequence of them or a dict label -> SAResult to a dict."""
    if hasattr(results, "trace"):
        return {"": results}
    if isinstance(results, dict):
        return dict(results)
    runs = {}
    for i, r in enumerate(results):
        label = f"run {i}"
        runs[label] = r
    return runs


def _xvalues(res, x: str) -> np.ndarray:
    if x not in ("step", "updates"):
        raise ValueError(f"x must be 'step' or 'updates', got {x!r}")
    return np.asarray(res.trace[x], dtype=float)


def _schedule_marks(res, x: str):
    """``(stage ends E1..E4, end of warm-up E5, end of ramp F)`` in units of ``x`` (None without warm-up/ramp)."""
    cfg = res.config
    bounds = cfg.boundaries()
    e5, f = bounds[-1], bounds[-1] + cfg.beta_r_rampup_steps
    if f == 0:
        return None
    steps = np.asarray(res.trace["step"], dtype=float)
    conv = (lambda t: float(t)) if x == "step" else \
        (lambda t: float(np.interp(t, steps, np.asarray(res.trace["updates"], dtype=float))))
    inner = tuple(conv(b) for b in sorted(set(bounds[:-1])) if 0 < b < e5)
    return inner, conv(e5), conv(f)


def _shade(ax, runs: dict, x: str):
    """Shade warm-up and ramp spans (once per distinct schedule); returns whether anything was drawn."""
    seen, drawn = set(), False
    for res in runs.values():
        marks = _schedule_marks(res, x)
        if marks is None or marks in seen:
            continue
        seen.add(marks)
        inner, e5, f = marks
        if e5 > 0:
            ax.axvspan(0, e5, color=WARMUP_COLOR, alpha=0.2, lw=0, zorder=0)
            for b in inner:
                ax.axvline(b, color=WARMUP_COLOR, lw=0.6, ls=":", zorder=0.5)
        if f > e5:
            ax.axvspan(e5, f, color=RAMP_COLOR, alpha=0.18, lw=0, zorder=0)
        drawn = True
    return drawn


def shading_handles() -> list:
    """Legend handles explaining the shaded spans."""
    return [Patch(color=WARMUP_COLOR, alpha=0.35, label=r"warm-up ($\beta_r = 0$; dotted: stages)"),
            Patch(color=RAMP_COLOR, alpha=0.35, label=r"$\beta_r$ ramp")]


def plot_sa_errors(results, quantities=DEFAULT_QUANTITIES, *, kind: str = "sup", x: str = "step", axes=None,
                   title: str | None = None, shade: bool = True, legend: bool = True, floor: float = 1e-16,
                   colors=VARIANT_COLORS, status: dict | None = None, ncols: int | None = None):
    """Error against the exact solution vs step, one panel per quantity, one line per run.

    Parameters
    ----------
    results : SAResult, sequence of SAResult, or dict label -> SAResult
        Runs traced with ``exact`` (their traces hold ``err_<kind>_<field>``).
    quantities : sequence of str
        Fields to plot (``Q_r, pi_r, V_h_e, X_h, U_r, V_r``); errors are
        relative for Q_r, X_h, U_r, V_r and absolute for pi_r and V_h^e.
    kind : {"sup", "rms"}
        Sup-norm or RMS error over non-terminal states.
    x : {"step", "updates"}
        Horizontal axis: SA steps or state-visit updates.
    axes : sequence of Axes, optional
        One per quantity (a new figure otherwise).
    title : str, optional
        Figure title (only when a new figure is made).
    shade : bool
        Shade warm-up stages (grey, dotted stage boundaries) and the beta_r
        ramp (amber).
    legend : bool
        Draw a legend in the first panel.
    floor : float
        Errors below are drawn at ``floor`` (exact zeros on a log axis).
    colors : sequence of colours
        One per run, cycled.
    status : dict label -> str, optional
        Mark each line's end by its measured label (:func:`~empo_tabular.sa.labels.label_trace`;
        markers in :data:`LABEL_MARKERS`, explained by :func:`status_handles`).
    ncols : int, optional
        Panels per row for a new figure (default: all in one row).

    Returns
    -------
    Figure
    """
    if kind not in ("sup", "rms"):
        raise ValueError(f"kind must be 'sup' or 'rms', got {kind!r}")
    runs = _as_runs(results)
    if not runs:
        raise ValueError("no runs to plot")
    quantities = tuple(quantities)
    for label, res in runs.items():
        missing = [q for q in quantities if f"err_{kind}_{q}" not in res.trace]
        if missing:
            raise ValueError(f"run {label!r} has no error trace for {missing}: pass exact= to run_sa")
    if axes is None:
        n = len(quantities)
        nc = n if ncols is None else max(1, min(int(ncols), n))
        nr = -(-n // nc)
        fig, grid = plt.subplots(nr, nc, figsize=(3.3 * nc, 2.7 * nr + 0.6), squeeze=False, sharex=True,
                                 layout="constrained")
        axes = list(grid.ravel())
        for ax in axes[n:]:
            ax.set_visible(False)
        axes = axes[:n]
        if title:
            fig.suptitle(title, fontsize=11)
    else:
        axes = list(np.ravel(axes))
        if len(axes) != len(quantities):
            raise ValueError(f"need one Axes per quantity ({len(quantities)}), got {len(axes)}")
        fig = axes[0].figure
    for ax, q in zip(axes, quantities):
        has_shade = _shade(ax, runs, x) if shade else False
        for i, (label, res) in enumerate(runs.items()):
            xs = _xvalues(res, x)
            err = np.asarray(res.trace[f"err_{kind}_{q}"], dtype=float)
            err = np.where(np.isfinite(err), np.maximum(err, floor), np.nan)
            color = colors[i % len(colors)]
            ax.plot(xs, err, color=color, lw=1.5, label=label or None, zorder=2 + 0.01 * i)
            st = None if status is None else status.get(label)
            if st in LABEL_MARKERS and np.isfinite(err[-1]):
                marker, filled = LABEL_MARKERS[st]
                ax.plot(xs[-1], err[-1], marker=marker, ms=7, color=color, mfc=color if filled else "white",
                        mew=1.5, zorder=3, clip_on=False)
        ax.set_yscale("log")
        ax.set_title(f"{QUANTITY_LABELS.get(q, q)}  ({'relative ' if RELATIVE.get(q) else ''}{kind} error)",
                     fontsize=9.5)
        ax.grid(True, which="major", color="#dfe3e8", lw=0.6)
        ax.grid(True, which="minor", axis="y", color="#eef0f3", lw=0.4)
        ax.tick_params(labelsize=8, colors="#3b4252")
        for sp in ("top", "right"):
            ax.spines[sp].set_visible(False)
        ax.set_xlim(left=0)
        ax.set_xlabel("SA step" if x == "step" else "state-visit updates", fontsize=8.5)
        ax._empo_shaded = has_shade
    if legend and any(runs):
        handles, labels = axes[0].get_legend_handles_labels()
        if shade and any(getattr(a, "_empo_shaded", False) for a in axes):
            handles += shading_handles()
        axes[0].legend(handles=handles, fontsize=7.5, frameon=False, loc="best")
    return fig


def status_handles() -> list:
    """Legend handles explaining the end-of-line label markers (the words of :data:`~empo_tabular.sa.labels.LABEL_TEXT`)."""
    out = []
    for st in LABELS:
        text = LABEL_TEXT[st]
        marker, filled = LABEL_MARKERS[st]
        out.append(Line2D([], [], ls="none", marker=marker, ms=7, color="#3b4252",
                          mfc="#3b4252" if filled else "white", mew=1.5, label=text))
    return out


def plot_experiment(experiment_result, path=None, quantities=("Q_r", "pi_r", "V_h_e", "U_r"), *,
                    kind: str = "sup", x: str = "step", dpi: int = 150):
    """One figure for one experiment: rows beta_r, columns quantities, one line per variant.

    Parameters
    ----------
    experiment_result : ExperimentResult
        From :func:`~empo_tabular.experiments.run_lr_experiment`.
    path : str or Path, optional
        Save the figure there (PNG by extension; folders are created).
    quantities : sequence of str
        Columns.
    kind, x :
        As for :func:`plot_sa_errors`.
    dpi : int

    Returns
    -------
    Figure
    """
    er = experiment_result
    exp = er.experiment
    betas = tuple(er.betas)
    quantities = tuple(quantities)
    nr, nc = len(betas), len(quantities)
    fig, grid = plt.subplots(nr, nc, figsize=(3.25 * nc + 0.4, 2.45 * nr + 1.5), squeeze=False, sharex=True,
                             sharey="col", layout="constrained")
    status = {(r["variant"], r["beta_r"]): r["label"] for r in er.summary}
    for i, b in enumerate(betas):
        runs = {label: er.results[(label, b)] for label in exp.labels}
        st = {label: status.get((label, b)) for label in exp.labels}
        plot_sa_errors(runs, quantities, kind=kind, x=x, axes=grid[i], legend=False, status=st)
        grid[i, 0].set_ylabel(rf"$\beta_r = {b:g}$" + "\n" + ("error"), fontsize=10)
        for j in range(nc):
            if i < nr - 1:
                grid[i, j].set_xlabel("")
            if i > 0:
                grid[i, j].set_title("")
    p = er.params
    sub = (f"{er.world_name or 'world'} · {param_label(p).split(' β_r=')[0]} γ_r={p.gamma_r:g} ζ={p.zeta:g} "
           f"ξ={p.xi:g} η={p.eta:g} · {_mode_text(exp)} · {er.n_steps} steps")
    wrapped = textwrap.fill(exp.description, 40 * nc)
    fig.suptitle(f"{exp.title}\n{sub}\n{wrapped}", fontsize=9, color="#2e3440")
    handles = [Line2D([], [], color=VARIANT_COLORS[k % len(VARIANT_COLORS)], lw=2, label=lab)
               for k, lab in enumerate(exp.labels)]
    if any(_schedule_marks(er.results[(lab, betas[0])], x) for lab in exp.labels):
        handles += shading_handles()
    handles += status_handles()
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig


def _mode_text(exp) -> str:
    cfg = exp.variants[0][1]
    visits = {"synchronous": "synchronous sweeps", "uniform": "uniform visits", "sweep": "sweeps",
              "on_policy": "on-policy visits"}[cfg.visit]
    return f"{cfg.mode} mode, {visits}, {cfg.lr_schedule} rates"


def plot_seed_bands(aggregates, *, tol: float | None = None, title: str = "", caption: str | None = None,
                    path=None, dpi: int = 140):
    """Median and min-max band over seeds of the Q_r sup-norm error, one panel per beta_r, one colour per scheme.

    Parameters
    ----------
    aggregates : list of dict
        From :func:`empo_tabular.apps.sampled.run_sampled_regime` (keys ``variant, beta_r, step, median,
        low, high, labels, n_converging``).
    tol : float, optional
        Drawn as a dotted horizontal line (the tolerance of the labels).
    title, caption : str
        Figure title; caption drawn under the figure.
    path : path, optional
        Save there.
    """
    from .layout import draw_caption

    if not aggregates:
        raise ValueError("no aggregates to plot")
    betas = sorted({a["beta_r"] for a in aggregates})
    variants = list(dict.fromkeys(a["variant"] for a in aggregates))
    fig, axes = plt.subplots(1, len(betas), figsize=(4.4 * len(betas), 3.6), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, b in zip(axes[0], betas):
        for k, v in enumerate(variants):
            agg = next((a for a in aggregates if a["variant"] == v and a["beta_r"] == b), None)
            if agg is None:
                continue
            c = VARIANT_COLORS[k % len(VARIANT_COLORS)]
            x = np.asarray(agg["step"], dtype=float)
            ax.fill_between(x, np.maximum(agg["low"], 1e-16), np.maximum(agg["high"], 1e-16), color=c, alpha=0.18,
                            lw=0)
            ax.plot(x, np.maximum(agg["median"], 1e-16), color=c, lw=1.6)
            ax.annotate(f"{agg['n_converging']}/{len(agg['labels'])}", (x[-1], max(agg["median"][-1], 1e-16)),
                        xytext=(3, 0), textcoords="offset points", fontsize=7, color=c, va="center")
        if tol is not None:
            ax.axhline(tol, color="#3b4252", lw=0.9, ls=":")
        ax.set_yscale("log")
        ax.set_title(rf"$\beta_r = {b:g}$", fontsize=10)
        ax.set_xlabel("SA step (one sampled state update)", fontsize=8.5)
        ax.grid(True, which="major", color="#dfe3e8", lw=0.6)
        ax.tick_params(labelsize=8)
    axes[0][0].set_ylabel("Q_r relative sup-norm error", fontsize=9)
    n_seeds = max(len(a["labels"]) for a in aggregates)
    handles = [Line2D([], [], color=VARIANT_COLORS[k % len(VARIANT_COLORS)], lw=2, label=v)
               for k, v in enumerate(variants)]
    handles.append(Patch(color="#888888", alpha=0.3, label=f"shaded: min-max over {n_seeds} seeds; line: median"))
    handles.append(Line2D([], [], ls="none", marker="$k/n$", ms=14, color="#3b4252",
                          label="k/n at the line end: seeds labelled converged or converging"))
    if tol is not None:
        handles.append(Line2D([], [], color="#3b4252", lw=0.9, ls=":", label=f"tol = {tol:g} (converged below)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=7.5, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    if caption:
        draw_caption(fig, caption)
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig
