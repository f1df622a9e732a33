"""Figures of the convergence atlas: phase diagrams, confusion matrices, predicted vs observed rates.

Each function takes the :func:`~empo_tabular.atlas.load_atlas` DataFrame and returns a Matplotlib
figure; :func:`write_atlas_figures` writes them all and returns ``(file name, caption)`` pairs for
the report.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atlas.analysis import confusion, phase_table


def _boundary_segments(pred):
    """Edges between grid cells whose predictions differ (cell (i, j) spans [j-.5, j+.5] x [i-.5, i+.5])."""
    segs = []
    n, m = pred.shape
    for i in range(n):
        for j in range(m):
            if j + 1 < m and np.isfinite(pred[i, j]) and np.isfinite(pred[i, j + 1]) and pred[i, j] != pred[i, j + 1]:
                segs.append(((j + 0.5, j + 0.5), (i - 0.5, i + 0.5)))
            if i + 1 < n and np.isfinite(pred[i, j]) and np.isfinite(pred[i + 1, j]) and pred[i, j] != pred[i + 1, j]:
                segs.append(((j - 0.5, j + 0.5), (i + 0.5, i + 0.5)))
    return segs


def plot_phase_diagram(df, world: str):
    """One panel per (mode, a): beta_r (rows) x kappa (columns), colour = fraction of seeds converged."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    grid = df[(df["world"] == world) & df["scheme"].str.startswith("grid_")]
    panels = [(m, a) for m in ("expected", "sampled") for a in sorted(grid[grid["mode"] == m]["a"].unique())]
    ncol = min(3, max(1, len(panels)))
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.8 * nrow), squeeze=False, constrained_layout=True)
    im = None
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax, (mode, a) in zip(axes.ravel(), panels):
        betas, kappas, frac, pred, rho = phase_table(df, world, mode, a)
        im = ax.imshow(np.ma.masked_invalid(frac), origin="lower", cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
        for (xs, ys) in _boundary_segments(pred):
            ax.plot(xs, ys, color="k", lw=3)
        ii, jj = np.nonzero(pred == 0.0)
        ax.plot(jj, ii + 0.2, "kx", ms=9, mew=2, ls="none")
        for i in range(betas.size):
            for j in range(kappas.size):
                if np.isfinite(rho[i, j]):
                    ax.text(j, i - 0.15, f"{rho[i, j]:.3f}", ha="center", va="center", fontsize=7, color="k")
        ax.set_xticks(range(kappas.size), [f"{k:g}" for k in kappas])
        ax.set_yticks(range(betas.size), [f"{b:g}" for b in betas])
        ax.set_xlabel("kappa = lr_q_r / lr_evaluator")
        ax.set_ylabel("beta_r")
        n_seeds = int(grid[grid["mode"] == mode]["seed"].nunique())
        ax.set_title(f"{mode}, a = {a:g} ({n_seeds} seed{'s' if n_seeds > 1 else ''})", fontsize=10)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8, label="fraction of seeds observed to converge")
    handles = [Line2D([], [], color="k", lw=3, label="predicted boundary (prediction changes across this edge)"),
               Line2D([], [], color="k", marker="x", ls="none", label="predicted NOT to converge"),
               Line2D([], [], color="none", marker="$0.97$", ms=14, ls="none", markerfacecolor="k",
                      markeredgecolor="k", label="predicted rate rho_pred")]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"{world}: phase diagram over beta_r x kappa")
    return fig


def plot_confusion(df):
    """Confusion matrices predicted vs observed convergence: overall and per mode."""
    import matplotlib.pyplot as plt

    parts = [("all cells", df)] + [(f"{m} mode", df[df["mode"] == m]) for m in ("expected", "sampled")
                                   if (df["mode"] == m).any()]
    fig, axes = plt.subplots(1, len(parts), figsize=(3.6 * len(parts), 3.4), squeeze=False, constrained_layout=True)
    for ax, (title, sub) in zip(axes[0], parts):
        c = confusion(sub)
        M = np.array([[c[(True, True)], c[(True, False)]], [c[(False, True)], c[(False, False)]]])
        ax.imshow(M, cmap="Blues")
        for i in range(2):
            for j in range(2):
                ax.text(j, i, str(M[i, j]), ha="center", va="center", fontsize=12,
                        color="white" if M[i, j] > M.max() / 2 else "black")
        ax.set_xticks([0, 1], ["observed\nconverges", "observed\ndoes not"])
        ax.set_yticks([0, 1], ["predicted\nconverges", "predicted\ndoes not"])
        n = M.sum()
        ax.set_title(f"{title}: {M[0, 0] + M[1, 1]}/{n} agree", fontsize=10)
    return fig


def plot_rates(df):
    """Expected mode: predicted linear rate vs the fitted observed rate per step, by label."""
    import matplotlib.pyplot as plt

    sub = df[(df["mode"] == "expected")]
    fig, ax = plt.subplots(figsize=(5.5, 4.6), constrained_layout=True)
    markers = {"converged": "o", "converging": "s", "oscillating": "^", "diverging": "v", "plateau": "D"}
    for lab, mk in markers.items():
        s = sub[(sub["label"] == lab) & sub["observed_rate"].notna()]
        if not s.empty:
            ax.scatter(s["predicted_rate"], s["observed_rate"], marker=mk, s=18, alpha=0.7, label=f"{lab} ({len(s)})")
    vals = np.concatenate([sub["predicted_rate"].to_numpy(float), sub["observed_rate"].dropna().to_numpy(float)])
    lo = float(np.nanmin(vals)) - 0.005 if vals.size else 0.5
    hi = max(float(np.nanmax(vals)) if vals.size else 1.0, 1.0) + 0.005
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="observed = predicted")
    ax.axvline(1.0, color="r", lw=2, label="rate 1 (stability boundary)")
    ax.axhline(1.0, color="r", lw=2)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("predicted rate rho(I + D(J - I)) per step")
    ax.set_ylabel("observed rate per step (fitted on the Q_r error tail)")
    ax.legend(fontsize=7, title="label (cells)", title_fontsize=7)
    ax.set_title("Expected mode: predicted vs observed rate", fontsize=10)
    return fig


def write_atlas_figures(df, out_dir) -> list:
    """Write every atlas figure into ``out_dir/figures``; returns ``[(relative path, caption), ...]``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    d = Path(out_dir) / "figures"
    d.mkdir(parents=True, exist_ok=True)
    out = []

    def save(fig, name, caption):
        fig.savefig(d / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        out.append((f"figures/{name}", caption))

    save(plot_confusion(df), "confusion.png",
         "Predicted (rows) vs observed (columns) convergence, all cells and per mode. Observed converges = "
         "label converged or converging (a measured falling trend of the Q_r error); predicted = "
         "rho(I + D(J - I)) < 1 (expected mode) or the ODE-limit criterion (sampled mode).")
    if (df["mode"] == "expected").any():
        save(plot_rates(df), "rates.png",
             "Expected mode: each marker is a cell; x = the analyzer's linear rate for the scheme's steps, "
             "y = the geometric rate fitted on the tail of the Q_r error (labels from sa.labels). Cells whose "
             "error reached round-off have no fitted rate and are not drawn.")
    for w in sorted(df["world"].unique()):
        if df[(df["world"] == w) & df["scheme"].str.startswith("grid_")].empty:
            continue
        save(plot_phase_diagram(df, w), f"phase_{w}.png",
             f"{w}: colour = fraction of seeds observed to converge (label converged or converging, measured on "
             f"the Q_r error; expected mode has one deterministic seed); number in a cell = predicted linear rate "
             f"rho(I + D(J - I)) of the scheme's steps; black edges = where the prediction changes; x = cells "
             f"predicted not to converge (expected: rho >= 1; sampled: the ODE-limit criterion). Rows beta_r, "
             f"columns kappa, one panel per (mode, evaluator step a).")
    return out
