"""Error heat maps of a :class:`~empo_tabular.ScoreResult` on a gridworld.

Public entry points: :func:`plot_score_maps` (one panel per scored quantity) and :func:`plot_error_curves`
(errors against training steps, for trainers that score themselves along the way).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patches
from matplotlib.lines import Line2D

from ..worlds.gridworld import GridWorld
from .grid import DOOR_COLOR, ROCK_COLOR, UNREACHABLE_COLOR, WALL_COLOR, agent_color, heatmap

_LABEL = {"Q_r": "$Q_r$", "pi_r": r"$\pi_r$", "V_h_e": "$V_h^e$", "X_h": "$X_h$", "U_r": "$U_r$", "V_r": "$V_r$"}


def plot_score_maps(gw: GridWorld, result, quantities=None, *, agent=None, state=None, ncols=3):
    """One heat map per scored quantity: the per-state error over the cells of ``agent``.

    Parameters
    ----------
    gw : GridWorld
        The world the result was scored on.
    result : ScoreResult
    quantities : list of str, optional
        Which quantities (default: every scored one, in ``result.table`` order).
    agent : str, optional
        Whose cell varies (default: the first robot, else the first human).
    state : int, optional
        The other agents, rocks, doors and step are as in this state; default: each quantity's worst state
        (so every panel shows the configuration where that error is largest).
    """
    if not isinstance(gw, GridWorld):
        raise TypeError(f"gw must be a GridWorld, got {type(gw).__name__}")
    if gw.world.checksum != result.world_checksum and result.world_checksum:
        raise ValueError("result was scored on a different world (checksum mismatch)")
    names = [r["quantity"] for r in result.table] if quantities is None else list(quantities)
    unknown = [q for q in names if q not in result.per_state]
    if unknown:
        raise ValueError(f"quantity {unknown[0]!r} was not scored; scored: {list(result.per_state)}")
    if not names:
        raise ValueError("no quantity to plot")
    if agent is None:
        agent = "R0" if gw.n_robots else "H0"
    a = gw.agent_index(agent)
    ncols = max(1, min(int(ncols), len(names)))
    nrows = -(-len(names) // ncols)
    cw, ch = gw.width * 0.62 + 1.9, gw.height * 0.62 + 1.3
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * cw, nrows * ch + 1.0), layout="constrained",
                             squeeze=False)
    for ax in axes.ravel()[len(names):]:
        ax.set_axis_off()
    for ax, q in zip(axes.ravel(), names):
        row = next(r for r in result.table if r["quantity"] == q)
        s = state
        if s is None:
            s = row["worst_state"] if row["worst_state"] is not None else gw.world.initial_state
        errs = result.per_state[q]
        kind = row["error"]
        step = "" if gw.horizon is None else f", step {int(gw.step[s])}"
        # 0 is white; errors below 2e-9 stay (nearly) white instead of triggering the heatmap's range padding
        heatmap(gw, errs, a, s, ax, cmap="Reds", vmin=0.0, vmax=max(float(row["sup"]), 2e-9), fmt="{:.1e}",
                title=f"{_LABEL.get(q, q)} {kind} error over {gw.labels[a]}'s cell\n"
                      f"(others as in state {s}{step}; sup {row['sup']:.2e})",
                label=f"{kind} error of {q} (largest entry)")
    handles = [patches.Patch(facecolor=UNREACHABLE_COLOR, edgecolor="white", hatch="..",
                             label="floor cell without a scored state (occupied, unreachable or terminal)"),
               patches.Patch(facecolor=WALL_COLOR, label="wall")]
    if gw.layout.doors:
        handles += [patches.Patch(facecolor=DOOR_COLOR, edgecolor="#5c2e12", label="closed door"),
                    patches.Patch(facecolor="none", edgecolor=DOOR_COLOR, ls="--", label="open door")]
    if gw.layout.rocks:
        handles.append(patches.Patch(facecolor=ROCK_COLOR, edgecolor="#55585c", label="rock"))
    for b in range(gw.n_agents):
        if b == a:
            continue
        marker = "o" if b < gw.n_humans else "s"
        handles.append(Line2D([], [], marker=marker, ls="none", markersize=9, markerfacecolor=agent_color(gw, b),
                              markeredgecolor="#333333", label=f"{gw.labels[b]} (held fixed)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(5, len(handles)), fontsize=7.5, frameon=False)
    name = gw.world.info.get("name", "gridworld")
    fig.suptitle(f"{name}: learned vs exact, per-state error (largest entry error of each state; "
                 f"relative for Q_r, X_h, U_r, V_r, absolute for pi_r, V_h^e)", fontsize=9.5)
    return fig


def plot_error_curves(steps, curves: dict, ax=None, *, title=None, ylabel="error"):
    """Errors against training steps on a log scale; ``curves`` maps a legend label to one value per step."""
    steps = np.asarray(steps)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    for label, values in curves.items():
        v = np.asarray(values, dtype=np.float64)
        if v.shape != steps.shape:
            raise ValueError(f"curve {label!r} has shape {v.shape}, steps have shape {steps.shape}")
        ax.plot(steps, v, marker="o", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9.5)
    return ax
