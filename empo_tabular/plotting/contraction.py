"""Plots of a :class:`~empo_tabular.contraction.ContractionReport` (CONTRACTION_THEORY §4.5).

plot_indicators          indicators vs beta_r, one panel per map (log x axis; beta_r = 0 drawn at the left)
plot_spectra             eigenvalues in the complex plane at selected beta_r, unit circle and Re = 1
plot_bifurcation         V_r(s0) of every fixed point vs beta_r (stable solid, unstable dashed)
plot_convergence_region  rho(I + D(a, kappa)(J - I)) heat map with empirical SA runs as markers

Every function returns the Figure; only the object-oriented matplotlib API is used.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors

__all__ = ["plot_bifurcation", "plot_convergence_region", "plot_indicators", "plot_spectra"]

MAP_TITLES = {"reduced": "reduced map R (exact V_h^e solve)", "jacobi": "Jacobi sweep (joint)",
              "gauss_seidel": "Gauss-Seidel sweep (joint)"}
INDICATOR_STYLE = {
    "sup_norm": ("‖J‖∞", "#4e79a7", "-"),
    "log_norm": ("‖D⁻¹JD‖∞ (relative)", "#76b7b2", "-"),
    "rho_abs": ("ρ(|J|)  (async)", "#f28e2b", "-"),
    "rho": ("ρ(J)  (sync)", "#e15759", "-"),
    "max_re": ("max Re λ  (ODE)", "#59a14f", "-"),
    "picard_ratio": ("observed Picard ratio", "#9c755f", ":"),
    "lower_bound_adversarial": ("L̂ adversarial (lower bd.)", "#bab0ac", "--"),
}


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
        ax.annotate("β=0", (zero_at, 0), xycoords=("data", "axes fraction"), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize=7, color="#555555")


def plot_indicators(report, maps=None, indicators=None, *, figsize=None):
    """Contraction indicators against beta_r, one panel per map.

    Horizontal line at 1 (contraction threshold), dashed line at gamma_r (the beta = 0 value of
    the reduced map), and a vertical tick mark at each first crossing beta* of the plotted
    indicators.  The y axis is logarithmic when the values span more than two decades.
    """
    maps = list(report.maps if maps is None else maps)
    indicators = list(INDICATOR_STYLE if indicators is None else indicators)
    gamma_r = report.params.get("gamma_r", math.nan)
    fig, axes = plt.subplots(1, len(maps), figsize=figsize or (5.0 * len(maps), 4.0), squeeze=False,
                             layout="constrained")
    for ax, m in zip(axes[0], maps):
        rows = report.rows(m)
        betas = [r["beta_r"] for r in rows]
        x, zero_at = _xpos(betas)
        vals_all = []
        for ind in indicators:
            if ind not in rows[0]:
                continue
            y = np.array([r[ind] for r in rows], dtype=float)
            if not np.any(np.isfinite(y)):
                continue
            label, color, ls = INDICATOR_STYLE.get(ind, (ind, None, "-"))
            ax.plot(x, y, ls=ls, color=color, marker="o", ms=3, lw=1.6 if ls == "-" else 1.2, label=label)
            vals_all.append(y[np.isfinite(y) & (y > 0)])
            bs = report.beta_star_by_map.get(m, {}).get(ind)
            if bs is not None and math.isfinite(bs["first"]):
                xb = bs["first"] if bs["first"] > 0 else zero_at
                ax.plot([xb], [1.0], marker="v", ms=8, color=color, mec="white", mew=0.8, zorder=5)
        ax.axhline(1.0, color="black", lw=1.0)
        ax.axhline(gamma_r, color="black", lw=0.8, ls="--", label=f"γ_r = {gamma_r:g}")
        _log_axis(ax, betas, zero_at)
        vals = np.concatenate(vals_all) if vals_all else np.array([1.0])
        if vals.size and vals.max() / max(vals.min(), 1e-300) > 100:
            ax.set_yscale("log")
        ax.set_xlabel("β_r")
        ax.set_ylabel("indicator at the fixed point")
        ax.set_title(MAP_TITLES.get(m, m), fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    name = report.world.get("name") or "world"
    fig.suptitle(f"Contraction indicators vs β_r — {name} ({report.world.get('n_states')} states); ▼ = first β*",
                 fontsize=11)
    return fig


def _snapshot_betas(report, n):
    b = np.asarray(report.betas, dtype=float)
    if b.size <= n:
        return list(b)
    idx = np.unique(np.round(np.linspace(0, b.size - 1, n)).astype(int))
    return list(b[idx])


def plot_spectra(report, map_name=None, betas=None, *, n_snapshots: int = 4, figsize=None):
    """Eigenvalues of the map's Jacobian in the complex plane at selected beta_r.

    Unit circle (plain iteration converges inside), the line Re λ = 1 (the ODE / damped iteration
    converges to its left); the dominant eigenvalue is ringed.  An eigenvalue leaving the circle
    through -1 is a flip, through a complex pair a Neimark-Sacker crossing, through +1 a fold.
    """
    map_name = map_name or ("reduced" if "reduced" in report.maps else report.maps[0])
    if map_name not in report.spectra:
        raise ValueError(f"no spectra for map {map_name!r}; maps: {list(report.spectra)}")
    betas = _snapshot_betas(report, n_snapshots) if betas is None else [float(b) for b in betas]
    fig, axes = plt.subplots(1, len(betas), figsize=figsize or (3.3 * len(betas), 3.6), squeeze=False,
                             layout="constrained")
    grid = list(report.betas)
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
        outside = np.abs(lam) > 1
        ax.scatter(lam.real[~outside], lam.imag[~outside], s=12, color="#4e79a7", alpha=0.8, lw=0)
        ax.scatter(lam.real[outside], lam.imag[outside], s=18, color="#e15759", lw=0)
        if lam.size:
            k = int(np.argmax(np.abs(lam)))
            ax.scatter([lam[k].real], [lam[k].imag], s=90, facecolors="none", edgecolors="black", lw=1.0)
        r = max(1.25, float(np.max(np.abs(lam))) * 1.1 if lam.size else 1.25)
        ax.set_xlim(-r, r)
        ax.set_ylim(-r, r)
        ax.set_aspect("equal")
        ax.set_title(f"β_r = {grid[i]:.3g}", fontsize=9)
        ax.set_xlabel("Re λ")
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("Im λ")
    complete = all(r.get("spectrum_complete", False) for r in report.rows(map_name))
    fig.suptitle(f"Spectrum of J — {MAP_TITLES.get(map_name, map_name)}"
                 f"{'' if complete else ' (ARPACK Ritz values only)'}; circle |λ| = 1, dashed Re λ = 1",
                 fontsize=10)
    return fig


def plot_bifurcation(report, *, figsize=(6.4, 4.2)):
    """V_r(s0) of the continued fixed point and of every fixed point found, against beta_r.

    The continued branch is drawn solid where it is stable (rho(J_R) < 1) and dashed where it is
    not; other fixed points found by the multistart search are markers (filled: stable, open:
    unstable).
    """
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    br = report.branch
    betas = [b["beta_r"] for b in br]
    x, zero_at = _xpos(betas)
    v = np.array([b["V_r_s0"] for b in br])
    st = np.array([bool(b["stable"]) for b in br])
    for i in range(len(br) - 1):
        ls = "-" if (st[i] and st[i + 1]) else "--"
        ax.plot(x[i:i + 2], v[i:i + 2], ls=ls, color="#4e79a7", lw=2.0)
    ax.plot(x[st], v[st], "o", color="#4e79a7", ms=4, label="branch from β_r = 0, stable (ρ(J_R) < 1)")
    if (~st).any():
        ax.plot(x[~st], v[~st], "o", mfc="white", color="#4e79a7", ms=5, label="branch, unstable (ρ(J_R) ≥ 1)")
    fx_s, fy_s, fx_u, fy_u = [], [], [], []
    for xi, b in zip(x, br):
        for p in b.get("fixed_points", []):
            (fx_s if p["stable"] else fx_u).append(xi)
            (fy_s if p["stable"] else fy_u).append(p["V_r_s0"])
    if fx_s:
        ax.plot(fx_s, fy_s, "s", color="#e15759", ms=5, alpha=0.8, label="fixed points found (stable)")
    if fx_u:
        ax.plot(fx_u, fy_u, "s", mfc="none", color="#e15759", ms=6, label="fixed points found (unstable)")
    _log_axis(ax, betas, zero_at)
    ax.set_xlabel("β_r")
    ax.set_ylabel("V_r(s₀)")
    searched = report.beta_star.get("multi", {}).get("searched", False)
    ax.set_title("Fixed points vs β_r" + ("" if searched else " (multistart search skipped: world too large)"),
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return fig


def _log_edges(v):
    """Cell edges for log-spaced centres ``v`` (geometric midpoints, ends mirrored)."""
    v = np.asarray(v, dtype=float)
    if v.size == 1:
        return np.array([v[0] / 1.5, v[0] * 1.5])
    mid = np.sqrt(v[:-1] * v[1:])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])


def plot_convergence_region(report, *, figsize=(6.4, 4.6)):
    """Heat map of the predicted linear rate rho(I + D(a, kappa)(J - I)) of per-block damped Jacobi.

    Contour at 1 separates converging (< 1) from diverging step-size/ratio pairs; empirical SA
    runs (``report.sa_runs``) are overlaid: circles converged, crosses did not.
    """
    reg = report.region
    if reg is None:
        raise ValueError("the report has no predicted region (analyse the 'jacobi' map)")
    a = np.asarray(reg["a_values"], dtype=float)
    k = np.asarray(reg["kappa_values"], dtype=float)
    rho = np.asarray(reg["rho_pred"], dtype=float)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    lo, hi = float(np.nanmin(rho)), float(np.nanmax(rho))
    vmin, vmax = min(max(lo, 0.9), 0.999), min(max(hi, 1.001), 1.1)  # the interesting range is near 1
    norm = mcolors.TwoSlopeNorm(vmin=vmin, vcenter=1.0, vmax=vmax)
    mesh = ax.pcolormesh(_log_edges(k), _log_edges(a), rho, cmap="RdYlBu_r", norm=norm, shading="flat")
    if lo < 1.0 < hi and min(a.size, k.size) > 1:
        ax.contour(k, a, rho, levels=[1.0], colors="black", linewidths=1.2)
    cb = fig.colorbar(mesh, ax=ax, extend="both")
    cb.set_label("predicted rate ρ_pred (< 1 converges)")
    runs = report.sa_runs or []
    conv = [r for r in runs if r.get("converged")]
    div = [r for r in runs if not r.get("converged")]
    if conv:
        ax.scatter([r["kappa"] for r in conv], [r["a"] for r in conv], marker="o", s=70, facecolors="white",
                   edgecolors="black", lw=1.5, label="SA converged", zorder=5)
    if div:
        ax.scatter([r["kappa"] for r in div], [r["a"] for r in div], marker="X", s=80, color="black",
                   label="SA did not converge", zorder=5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("κ = lr_q_r / lr_evaluator  (Q_r, V_r step = κ·a)")
    ax.set_ylabel("a = evaluator step (V_h^e, X_h, U_r)")
    ax.set_title(f"Predicted convergence region, Jacobi updates at β_r = {reg['beta']:g}", fontsize=10)
    if runs:
        ax.legend(fontsize=8, loc="lower left", framealpha=0.9)
    return fig
