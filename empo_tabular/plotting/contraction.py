"""Plots of a :class:`~empo_tabular.contraction.ContractionReport` (CONTRACTION_THEORY §4.5).

plot_indicators          indicators vs beta_r, one panel per map (log-log; beta_r = 0 drawn at the left)
plot_spectra             eigenvalues in the complex plane at selected beta_r, the critical beta_r included
plot_bifurcation         V_r(s0) of the fixed points vs beta_r, and for which iteration each point is stable
plot_convergence_region  predicted rho(I + D(a, kappa)(J - I)) per cell, one measured SA label per cell

Every function returns the Figure (object-oriented matplotlib API only) with its caption drawn under the
axes; the same caption text is available from :func:`caption` for reports.  Every glyph is in a legend or in
the caption; indicator legends use the report's field names.  Missing values (None, "not searched") are
drawn as gaps and said so, never as numbers.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..sa.labels import LABEL_TEXT, LABELS
from ..contraction import INDICATORS
from .layout import draw_caption
from .sa import LABEL_MARKERS

__all__ = ["plot_bifurcation", "plot_convergence_region", "plot_indicators", "plot_spectra", "caption",
           "INDICATOR_STYLE", "ITERATIONS", "draw_caption", "stability_rows", "snapshot_betas"]

MAP_TITLES = {"reduced": "reduced map R (exact V_h^e solve)", "jacobi": "Jacobi sweep (joint)",
              "gauss_seidel": "Gauss-Seidel sweep (joint)"}
#: field name -> (formula, colour, line style); legends show "field  formula"
INDICATOR_STYLE = {
    "sup_norm": ("‖J‖∞", "#4e79a7", "-"),
    "log_norm": ("‖D⁻¹JD‖∞", "#76b7b2", "-"),
    "rho_abs": ("ρ(|J|)", "#f28e2b", "-"),
    "rho": ("ρ(J)", "#e15759", "-"),
    "max_re": ("max Re λ", "#59a14f", "-"),
    "picard_ratio": ("observed", "#9c755f", ":"),
    "lower_bound_adversarial": ("L̂, lower bound", "#bab0ac", "--"),
}
#: The three iterations "stable"/"unstable" can refer to: (field, words, criterion); the words are the
#: indicator registry's (``contraction.INDICATORS``), the one definition of what each indicator certifies.
_REGISTRY = {i.name: i for i in INDICATORS}
ITERATIONS = tuple((name, _REGISTRY[name].iteration, f"{INDICATOR_STYLE[name][0]} < 1")
                   for name in ("rho", "max_re", "rho_abs"))
INDICATOR_DEFINITIONS = (
    "sup_norm = ‖J‖∞ (max row sum of |J|; < 1: contraction in the sup norm, every update order converges); "
    "log_norm = ‖D⁻¹JD‖∞ with D = diag(|x*|), the same constant in relative (log) coordinates; "
    "rho_abs = ρ(|J|) (< 1: asynchronous, one-state-at-a-time updates converge); "
    "rho = ρ(J) (< 1: synchronous undamped iteration converges locally); "
    "max_re = max Re λ(J) (< 1: small damped steps, the ODE limit, converge locally); "
    "picard_ratio = observed geometric-mean ratio of successive step lengths ‖x_(k+1) − x_k‖ of plain "
    "iteration started from a small perturbation of the fixed point (tends to |λ_dom|; a measured rate, not a Lipschitz "
    "constant); lower_bound_adversarial = largest secant ratio ‖F(x) − F(y)‖/‖x − y‖ found by local search in "
    "a box around the fixed point (a lower bound on the Lipschitz constant)."
)


def _num(v) -> float:
    """A table value as float (None, "not searched" and other non-numbers become nan)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _xpos(betas):
    """Plot positions on a log axis: beta = 0 is drawn one decade left of the smallest positive beta."""
    b = np.asarray(betas, dtype=float)
    pos = b[b > 0]
    zero_at = (pos.min() / 10.0) if pos.size else 1e-2
    return np.where(b > 0, b, zero_at), zero_at


def _log_axis(ax, betas, zero_at):
    ax.set_xscale("log")
    if np.any(np.asarray(betas) == 0):
        ax.axvline(zero_at * 3.0, color="#cccccc", lw=0.6, ls=(0, (1, 3)))
        ax.annotate("β_r=0", (zero_at, 0), xycoords=("data", "axes fraction"), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize=7, color="#555555")


def _crossing_words(report, map_name: str, ind: str) -> str:
    """'crosses 1 at beta_r ~ x' / '>= 1 already at the smallest beta_r' / 'not crossed up to beta_r = y'."""
    c = (report.beta_star_by_map.get(map_name) or {}).get(ind)
    top = max(report.betas) if report.betas else math.nan
    if not isinstance(c, dict):
        return "not measured"
    events = c.get("all") or []
    first = next((e for e in events if e.get("direction") in ("start", "up")), None)
    if first is None:
        return f"not crossed up to β_r = {top:g}"
    if first.get("direction") == "start":
        return "≥ 1 already at the smallest β_r"
    return f"crosses 1 at β_r ≈ {_num(first.get('beta')):.3g}"


def _first_crossing(report, map_name, ind):
    c = (report.beta_star_by_map.get(map_name) or {}).get(ind)
    if not isinstance(c, dict):
        return None
    for e in c.get("all") or []:
        if e.get("direction") in ("start", "up"):
            return _num(e.get("beta"))
    return None


# ------------------------------------------------------------------------------------------ indicators

def plot_indicators(report, maps=None, indicators=None, *, figsize=None):
    """Contraction indicators against beta_r, one panel per map, on log-log axes.

    The line at 1 (contraction threshold) is drawn thick; dashed: gamma_r; ▼ on the line at 1: the first
    crossing beta* of each plotted indicator, in its colour.  Values <= 0 (max_re can be negative) cannot be
    drawn on the log axis and are counted in the caption.
    """
    maps = list(report.maps if maps is None else maps)
    indicators = list(INDICATOR_STYLE if indicators is None else indicators)
    gamma_r = _num(report.params.get("gamma_r"))
    fig, axes = plt.subplots(1, len(maps), figsize=figsize or (5.0 * len(maps), 4.3), squeeze=False,
                             layout="constrained")
    nonpos, drawn = {}, []
    for ax, m in zip(axes[0], maps):
        rows = report.rows(m)
        betas = [r["beta_r"] for r in rows]
        x, zero_at = _xpos(betas)
        for ind in indicators:
            y = np.array([_num(r.get(ind)) for r in rows], dtype=float)
            if not np.any(np.isfinite(y)):
                continue
            bad = np.isfinite(y) & (y <= 0)
            if bad.any():
                nonpos[(m, ind)] = int(bad.sum())
            y = np.where(y > 0, y, np.nan)
            formula, color, ls = INDICATOR_STYLE.get(ind, ("", None, "-"))
            ax.plot(x, y, ls=ls, color=color, marker="o", ms=3, lw=1.6 if ls == "-" else 1.2,
                    label=f"{ind}  {formula}".strip())
            if ind not in drawn:
                drawn.append(ind)
            bs = _first_crossing(report, m, ind)
            if bs is not None and math.isfinite(bs):
                ax.plot([bs if bs > 0 else zero_at], [1.0], marker="v", ms=9, color=color, mec="black", mew=0.6,
                        zorder=6, ls="none")
        ax.axhline(1.0, color="black", lw=2.4, zorder=4, label="1: contraction threshold")
        if math.isfinite(gamma_r) and gamma_r > 0:
            ax.axhline(gamma_r, color="black", lw=0.8, ls="--", label=f"γ_r = {gamma_r:g}")
        _log_axis(ax, betas, zero_at)
        ax.set_yscale("log")
        ax.set_xlabel("β_r")
        ax.set_ylabel("indicator at the fixed point (log scale)")
        ax.set_title(MAP_TITLES.get(m, m), fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    handles.append(Line2D([], [], ls="none", marker="v", ms=9, color="#888888", mec="black", mew=0.6))
    labels.append("▼ first β* where the indicator of that colour reaches 1")
    fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=8, frameon=False)
    name = report.world.get("name") or "world"
    fig.suptitle(f"Contraction indicators vs β_r — {name} ({report.world.get('n_states')} states)", fontsize=11)
    draw_caption(fig, caption("indicators", report, nonpositive=nonpos, drawn=drawn))
    return fig


# ------------------------------------------------------------------------------------------ spectra

def snapshot_betas(report, map_name: str, n: int = 5) -> list:
    """Grid betas for spectrum panels: the ends, and the grid points on both sides of each first crossing
    of rho and max_re (the critical beta_r), filled up to ``n`` with evenly spaced grid points."""
    grid = sorted(float(b) for b in report.betas)
    if len(grid) <= n:
        return grid
    pick = {grid[0], grid[-1]}
    for ind in ("rho", "max_re"):
        bs = _first_crossing(report, map_name, ind)
        if bs is None or not math.isfinite(bs):
            continue
        after = next((b for b in grid if b >= bs), grid[-1])
        before = max((b for b in grid if b < bs), default=grid[0])
        pick.update((before, after))
    for idx in np.round(np.linspace(0, len(grid) - 1, n)).astype(int):
        if len(pick) >= n:
            break
        pick.add(grid[int(idx)])
    return sorted(pick)


def plot_spectra(report, map_name=None, betas=None, *, n_snapshots: int = 5, figsize=None):
    """Eigenvalues of the map's Jacobian in the complex plane at selected beta_r.

    The panels include the grid points on both sides of the critical beta_r (first crossing of 1 by rho and
    by max_re, :func:`snapshot_betas`); their titles say so.  Unit circle: synchronous undamped iteration
    converges when every eigenvalue is inside; dashed line Re λ = 1: small damped steps converge when every
    eigenvalue is left of it.
    """
    map_name = map_name or ("reduced" if "reduced" in report.maps else report.maps[0])
    if map_name not in report.spectra:
        raise ValueError(f"no spectra for map {map_name!r}; maps: {list(report.spectra)}")
    betas = snapshot_betas(report, map_name, n_snapshots) if betas is None else [float(b) for b in betas]
    fig, axes = plt.subplots(1, len(betas), figsize=figsize or (3.2 * len(betas), 4.3), squeeze=False,
                             layout="constrained")
    grid = list(report.betas)
    crit = {ind: _first_crossing(report, map_name, ind) for ind in ("rho", "max_re")}
    t = np.linspace(0, 2 * np.pi, 400)
    for ax, b in zip(axes[0], betas):
        i = int(np.argmin(np.abs(np.asarray(grid) - b)))
        lam = np.asarray(report.spectra[map_name][i])
        if lam.ndim == 2:
            lam = lam[:, 0] + 1j * lam[:, 1]
        lam = np.asarray(lam, dtype=complex)
        ax.plot(np.cos(t), np.sin(t), color="black", lw=0.8)
        ax.axvline(1.0, color="#59a14f", lw=1.0, ls="--")
        ax.axhline(0.0, color="#dddddd", lw=0.5, zorder=0)
        outside = np.abs(lam) >= 1
        ax.scatter(lam.real[~outside], lam.imag[~outside], s=12, color="#4e79a7", alpha=0.8, lw=0)
        ax.scatter(lam.real[outside], lam.imag[outside], s=18, color="#e15759", lw=0)
        if lam.size:
            k = int(np.argmax(np.abs(lam)))
            ax.scatter([lam[k].real], [lam[k].imag], s=90, facecolors="none", edgecolors="black", lw=1.0)
        r = max(1.25, float(np.max(np.abs(lam))) * 1.1 if lam.size else 1.25)
        ax.set_xlim(-r, r)
        ax.set_ylim(-r, r)
        ax.set_aspect("equal")
        tags = []
        for ind, words in (("rho", "ρ"), ("max_re", "max Re λ")):
            bs = crit[ind]
            if bs is None or not math.isfinite(bs):
                continue
            j_after = next((k for k, g in enumerate(grid) if g >= bs), None)
            if j_after is not None and j_after == i:
                tags.append(f"first past β*({words}) ≈ {bs:.3g}")
            elif j_after is not None and j_after - 1 == i:
                tags.append(f"last before β*({words}) ≈ {bs:.3g}")
        ax.set_title(f"β_r = {grid[i]:.3g}" + ("".join(f"\n{tg}" for tg in tags)), fontsize=8.5)
        ax.set_xlabel("Re λ")
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("Im λ")
    complete = all(bool(r.get("spectrum_complete", False)) for r in report.rows(map_name))
    handles = [Line2D([], [], color="black", lw=0.8, label="|λ| = 1 (synchronous undamped iteration: all inside)"),
               Line2D([], [], color="#59a14f", lw=1.0, ls="--", label="Re λ = 1 (small damped steps: all left of it)"),
               Line2D([], [], ls="none", marker="o", ms=5, color="#4e79a7", label="eigenvalue, |λ| < 1"),
               Line2D([], [], ls="none", marker="o", ms=5, color="#e15759", label="eigenvalue, |λ| ≥ 1"),
               Line2D([], [], ls="none", marker="o", ms=10, mfc="none", mec="black", label="dominant (largest |λ|)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=7.5, frameon=False)
    fig.suptitle(f"Spectrum of J — {MAP_TITLES.get(map_name, map_name)}"
                 f"{'' if complete else ' (ARPACK Ritz values only)'}\ncritical β_r: ρ(J) "
                 f"{_crossing_words(report, map_name, 'rho')}; max Re λ {_crossing_words(report, map_name, 'max_re')}",
                 fontsize=9.5)
    draw_caption(fig, caption("spectra", report, map_name=map_name))
    return fig


# ------------------------------------------------------------------------------------------ bifurcation

def stability_rows(report, map_name: str) -> dict:
    """Per iteration field (rho, max_re, rho_abs): list over the report's betas of True (stable: < 1),
    False (unstable: >= 1) or None (not measured)."""
    rows = {r["beta_r"]: r for r in report.rows(map_name)}
    out = {}
    for ind, _, _ in ITERATIONS:
        vals = []
        for b in sorted(report.betas):
            v = _num(rows.get(b, {}).get(ind))
            vals.append(None if not math.isfinite(v) else bool(v < 1.0))
        out[ind] = vals
    return out


def _stable_ranges_text(report, map_name) -> str:
    """Plain words: where the map is unstable for synchronous undamped iteration but stable under small steps."""
    st = stability_rows(report, map_name)
    betas = sorted(report.betas)
    both = [b for b, s, o in zip(betas, st["rho"], st["max_re"]) if s is False and o is True]
    ode_bad = [b for b, o in zip(betas, st["max_re"]) if o is False]
    parts = []
    if both:
        parts.append(f"at β_r = {', '.join(f'{b:.4g}' for b in both)} unstable for synchronous undamped iteration "
                     f"(ρ(J) ≥ 1) but stable under small damped steps (max Re λ < 1)")
    if ode_bad:
        parts.append(f"unstable even under small damped steps (max Re λ ≥ 1) at β_r = "
                     f"{', '.join(f'{b:.4g}' for b in ode_bad)}")
    if not parts:
        parts.append("no β_r of the grid where synchronous undamped iteration is unstable and small steps are "
                     "stable")
    return f"{map_name}: " + "; ".join(parts)


def plot_bifurcation(report, *, figsize=None):
    """V_r(s0) of the continued fixed point (and of fixed points found) against beta_r, with its stability.

    Top: the branch continued from beta_r = 0; filled markers where rho(J_R) < 1 (reduced map, synchronous
    undamped iteration), open where not; other fixed points from the multistart search as squares (or a
    title saying the search did not run).  Bottom: for each analysed map and each iteration (synchronous
    undamped rho(J), small damped steps max Re λ, asynchronous rho(|J|)) whether the fixed point is stable
    (indicator < 1) at each beta_r of the grid.
    """
    maps = list(report.maps)
    n_strip = 3 * len(maps)
    fig, (ax, axs) = plt.subplots(2, 1, figsize=figsize or (9.6, 4.2 + 0.24 * n_strip), sharex=True,
                                  height_ratios=[3.0, 0.32 * n_strip + 0.3], layout="constrained")
    br = sorted(report.branch, key=lambda b: b["beta_r"])
    betas = [b["beta_r"] for b in br]
    x, zero_at = _xpos(betas)
    v = np.array([_num(b.get("V_r_s0")) for b in br])
    st = np.array([b.get("stable") is True for b in br])
    ax.plot(x, v, "-", color="#4e79a7", lw=1.8, zorder=1)
    ax.plot(x[st], v[st], "o", color="#4e79a7", ms=5, ls="none",
            label="branch from β_r = 0, ρ(J_R) < 1\n(stable: synchronous undamped iteration of R)")
    if (~st).any():
        ode = stability_rows(report, "reduced")["max_re"] if "reduced" in report.maps else None
        bl = sorted(report.betas)
        flags = [ode[bl.index(b)] if (ode is not None and b in bl) else None for b, s_ in zip(betas, st) if not s_]
        if flags and all(f is True for f in flags):
            small = "; max Re λ(J_R) < 1 at each:\nSTABLE under small damped steps"
        elif flags and all(f is False for f in flags):
            small = "; max Re λ(J_R) ≥ 1 at each:\nunstable under small damped steps too"
        else:
            small = "; small damped steps: see the strip"
        ax.plot(x[~st], v[~st], "o", mfc="white", color="#4e79a7", ms=6, ls="none",
                label="branch, ρ(J_R) ≥ 1: unstable for synchronous\nundamped iteration of R" + small)
    fx_s, fy_s, fx_u, fy_u = [], [], [], []
    for xi, b in zip(x, br):
        for p in b.get("fixed_points") or []:
            (fx_s if p.get("stable") else fx_u).append(xi)
            (fy_s if p.get("stable") else fy_u).append(_num(p.get("V_r_s0")))
    if fx_s:
        ax.plot(fx_s, fy_s, "s", color="#e15759", ms=5, alpha=0.8, ls="none", label="fixed point found, ρ(J_R) < 1")
    if fx_u:
        ax.plot(fx_u, fy_u, "s", mfc="none", color="#e15759", ms=6, ls="none", label="fixed point found, ρ(J_R) ≥ 1")
    ax.set_ylabel("V_r(s₀)")
    multi = report.beta_star.get("multi") or {}
    searched = bool(multi.get("searched", False))
    ax.set_title("Fixed points vs β_r" + ("" if searched else
                                         " (multistart search for other fixed points: not searched)"), fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    # stability strip
    green, red, grey = "#59a14f", "#e15759", "#d8dbe0"
    edges = np.concatenate([[x[0] / 1.6], np.sqrt(x[:-1] * x[1:]), [x[-1] * 1.6]]) if len(x) > 1 else \
        np.array([x[0] / 1.6, x[0] * 1.6])
    labels = []
    row = 0
    for m in maps:
        sr = stability_rows(report, m)
        bl = sorted(report.betas)
        for ind, words, crit in ITERATIONS:
            y0 = n_strip - 1 - row
            for k, b in enumerate(betas):
                s = sr[ind][bl.index(b)] if b in bl else None
                axs.add_patch(Rectangle((edges[k], y0 + 0.1), edges[k + 1] - edges[k], 0.8, lw=0,
                                        color=grey if s is None else (green if s else red)))
            labels.append((y0 + 0.5, f"{m}: {words} ({crit})"))
            row += 1
    axs.set_ylim(0, n_strip)
    axs.set_yticks([p for p, _ in labels])
    axs.set_yticklabels([t for _, t in labels], fontsize=6.5)
    axs.set_xlabel("β_r")
    _log_axis(axs, betas, zero_at)
    axs.set_xlim(edges[0], edges[-1])
    axs.legend(handles=[Patch(color=green, label="stable (< 1)"), Patch(color=red, label="unstable (≥ 1)"),
                        Patch(color=grey, label="not measured")], fontsize=7, loc="upper left",
               bbox_to_anchor=(1.0, 1.0), frameon=False)
    draw_caption(fig, caption("bifurcation", report))
    return fig


# ------------------------------------------------------------------------------------------ region

#: blue below 1, red from 1 on, with no white in between: every cell shows which side of 1 it is on
REGION_CMAP = mcolors.ListedColormap(np.vstack([plt.get_cmap("Blues_r")(np.linspace(0.05, 0.72, 128)),
                                                plt.get_cmap("Reds")(np.linspace(0.35, 0.95, 128))]), name="empo_region")


def _log_edges(v):
    """Cell edges for log-spaced centres ``v`` (geometric midpoints, ends mirrored)."""
    v = np.asarray(v, dtype=float)
    if v.size == 1:
        return np.array([v[0] / 1.5, v[0] * 1.5])
    mid = np.sqrt(v[:-1] * v[1:])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])


def _agreement(runs):
    ran = [r for r in runs if r.get("ran", True)]
    counted = [r for r in ran if r.get("agrees") is not None]
    return sum(bool(r["agrees"]) for r in counted), len(counted), len(ran)


def plot_convergence_region(report, *, figsize=(7.4, 5.6)):
    """Predicted linear rate rho(I + D(a, kappa)(J - I)) of per-block damped Jacobi, cell by cell.

    Each cell of the (kappa, a) grid is coloured by its own prediction (blue: rho_pred < 1, predicted to
    converge; red: >= 1; nothing is interpolated between cells) and shows its value; the marker in the cell
    is the measured label of the SA run on that cell (``report.sa_runs``).  Thick magenta frame: prediction
    and SA disagree; dotted frame: rate too close to 1 to be measured in the run (not counted); hatched: no
    run possible (kappa a > 1).  The title carries the agreement count.
    """
    reg = report.region
    if reg is None:
        raise ValueError("the report has no predicted region (analyse the 'jacobi' map)")
    a = np.asarray(reg["a_values"], dtype=float)
    k = np.asarray(reg["kappa_values"], dtype=float)
    rho = np.asarray(reg["rho_pred"], dtype=float)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    lo, hi = float(np.nanmin(rho)), float(np.nanmax(rho))
    vmin, vmax = min(lo, 0.999), max(hi, 1.001)
    norm = mcolors.TwoSlopeNorm(vmin=vmin, vcenter=1.0, vmax=vmax)
    ke, ae = _log_edges(k), _log_edges(a)
    cmap = REGION_CMAP
    mesh = ax.pcolormesh(ke, ae, rho, cmap=cmap, norm=norm, shading="flat", edgecolors="white", lw=0.5)
    cb = fig.colorbar(mesh, ax=ax, extend="neither")
    cb.set_label("predicted rate ρ_pred = ρ(I + D(a,κ)(J − I))   (blue < 1: predicted to converge)", fontsize=8)
    for i in range(a.size):
        for j in range(k.size):
            dark = abs(float(norm(rho[i, j])) - 0.5) > 0.3 if np.isfinite(rho[i, j]) else False
            ax.text(math.sqrt(ke[j] * ke[j + 1]), ae[i] * (ae[i + 1] / ae[i]) ** 0.06, f"{rho[i, j]:.4g}",
                    ha="center", va="bottom", fontsize=5.5, color="white" if dark else "#222222")
    runs = list(report.sa_runs or [])
    seen, frames = set(), set()
    for r in runs:
        i = r.get("i")
        j = r.get("j")
        if i is None or j is None:
            i = int(np.argmin(np.abs(np.log(a) - math.log(r["a"]))))
            j = int(np.argmin(np.abs(np.log(k) - math.log(r["kappa"]))))
        xc, yc = math.sqrt(ke[j] * ke[j + 1]), ae[i] * (ae[i + 1] / ae[i]) ** 0.62
        if not r.get("ran", True):
            ax.add_patch(Rectangle((ke[j], ae[i]), ke[j + 1] - ke[j], ae[i + 1] - ae[i], fill=False, hatch="///",
                                   ec="#555555", lw=0))
            frames.add("not_run")
            continue
        lab = r.get("label")
        if lab in LABEL_MARKERS:
            marker, filled = LABEL_MARKERS[lab]
            ax.plot([xc], [yc], marker=marker, ms=7.5, color="black", mfc="black" if filled else "white", mew=1.3,
                    ls="none", zorder=5)
            seen.add(lab)
        if r.get("agrees") is False:
            ax.add_patch(Rectangle((ke[j], ae[i]), ke[j + 1] - ke[j], ae[i + 1] - ae[i], fill=False,
                                   ec="#d000d0", lw=2.4, zorder=6))
            frames.add("disagree")
        elif r.get("agrees") is None:
            ax.add_patch(Rectangle((ke[j], ae[i]), ke[j + 1] - ke[j], ae[i + 1] - ae[i], fill=False,
                                   ec="#333333", lw=1.2, ls=":", zorder=6))
            frames.add("unmeasurable")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(ke[0], ke[-1])
    ax.set_ylim(ae[0], ae[-1])
    ax.set_xlabel("κ = lr_q_r / lr_evaluator  (Q_r, V_r step = κ·a)")
    ax.set_ylabel("a = evaluator step (V_h^e, X_h, U_r)")
    agree, counted, ran = _agreement(runs)
    head = (f"prediction agrees with SA on {agree} of {counted} cells" if runs else "no SA runs on the cells")
    ax.set_title(f"Convergence region, synchronous Jacobi SA at β_r = {_num(reg['beta']):g}: {head}", fontsize=9.5)
    handles = [Patch(color=cmap(0.3), label="ρ_pred < 1: predicted to converge (darker: faster)"),
               Patch(color=cmap(0.7), label="ρ_pred ≥ 1: predicted not to converge (darker: faster growth)")]
    for lab in LABELS:
        if lab in seen:
            marker, filled = LABEL_MARKERS[lab]
            handles.append(Line2D([], [], ls="none", marker=marker, ms=7, color="black",
                                  mfc="black" if filled else "white", mew=1.3, label="SA " + LABEL_TEXT[lab]))
    if "disagree" in frames:
        handles.append(Patch(fill=False, ec="#d000d0", lw=2.4, label="prediction and SA disagree"))
    if "unmeasurable" in frames:
        handles.append(Patch(fill=False, ec="#333333", lw=1.2, ls=":",
                             label="ρ_pred too close to 1 to measure in the run (not counted)"))
    if "not_run" in frames:
        handles.append(Patch(fill=False, hatch="///", ec="#555555", label="no SA run: Q_r rate κ·a > 1"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=7.5, frameon=False)
    draw_caption(fig, caption("region", report))
    return fig


# ------------------------------------------------------------------------------------------ captions

def caption(kind: str, report, **info) -> str:
    """The caption of a figure of this module (``kind``: indicators, spectra, bifurcation, region)."""
    if kind == "indicators":
        nonpos = info.get("nonpositive") or {}
        extra = ""
        if nonpos:
            extra = (" Not drawn (≤ 0, outside a log axis): "
                     + ", ".join(f"{ind} of {m} at {n} β_r" for (m, ind), n in nonpos.items()) + ".")
        return ("Each line is one field of the analyzer's table, evaluated at the fixed point continued from "
                "β_r = 0; log-log axes; β_r = 0 is drawn one decade left of the smallest positive β_r (left of "
                "the dotted line). Thick line: 1, the contraction threshold; dashed: γ_r. ▼ on the line at 1: the "
                "first β_r* at which the indicator of that colour reaches 1 (at the β_r = 0 position: already ≥ 1 at the "
                "smallest β_r; no ▼: not crossed on the grid). " + INDICATOR_DEFINITIONS
                + " At every β_r sup_norm ≥ rho_abs ≥ rho ≥ max_re." + extra)
    if kind == "spectra":
        m = info.get("map_name", "")
        return (f"Eigenvalues of the Jacobian of the {MAP_TITLES.get(m, m)} at the fixed point, at the β_r of "
                "the panel titles; the panels include the grid points on both sides of the critical β_r "
                "(the first crossing of 1 by ρ(J) and by max Re λ). An eigenvalue leaving the unit circle "
                "through −1 is a flip (period doubling), as a complex pair a Neimark-Sacker crossing, through "
                "+1 a fold; only a crossing of Re λ = 1 defeats small damped steps.")
    if kind == "bifurcation":
        lines = "; ".join(_stable_ranges_text(report, m) for m in report.maps)
        return ("Top: V_r(s₀) of the fixed point continued from β_r = 0 (filled: ρ(J_R) < 1, open: ρ(J_R) ≥ 1, "
                "for synchronous undamped iteration of the reduced map R). Bottom: for each map and each "
                "iteration, whether the fixed point is stable (green, indicator < 1) or unstable (red, ≥ 1) at "
                "each β_r of the grid: synchronous undamped iteration ρ(J), small damped steps / the ODE limit "
                f"max Re λ, asynchronous updates ρ(|J|). Measured: {lines}.")
    if kind == "region":
        reg = report.region or {}
        runs = list(report.sa_runs or [])
        agree, counted, ran = _agreement(runs)
        unmeas = sum(1 for r in runs if r.get("ran", True) and r.get("agrees") is None)
        not_run = sum(1 for r in runs if not r.get("ran", True))
        steps = sorted({int(r["n_steps"]) for r in runs if r.get("ran", True) and r.get("n_steps")})
        tol = next((r.get("tol") for r in runs if r.get("tol")), None)
        srange = (f"{steps[0]}" if len(steps) == 1 else f"{steps[0]}-{steps[-1]}") if steps else "no"
        return (f"Cells: the (κ, a) grid at β_r = {_num(reg.get('beta')):g}; colour and number: the linearised "
                "prediction ρ_pred = ρ(I + D(a,κ)(J − I)) of the per-block damped Jacobi update with steps a "
                "(V_h^e, X_h, U_r) and κ·a (Q_r, V_r), each cell on its own (no contour is interpolated). "
                f"Marker: the measured label of one synchronous expected-mode SA run on that cell ({srange} "
                "sweeps, started 1e-3 from the exact solution; label of the Q_r sup-norm error"
                + (f", converged below {tol:g}" if tol else "") + "). Agreement: ρ_pred < 1 and the run is "
                f"converged or converging, or ρ_pred ≥ 1 and it is not: {agree} of {counted} counted cells; "
                f"{len(runs)} cells, {ran} run, {unmeas} with a rate too close to 1 to measure (not counted), "
                f"{not_run} not runnable (κ·a > 1).")
    raise ValueError(f"unknown caption kind {kind!r}; known: indicators, spectra, bifurcation, region")
