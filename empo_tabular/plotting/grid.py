"""Matplotlib drawings of :class:`~empo_tabular.gridworld.GridWorld` states and solutions.

Every function takes an optional ``ax`` (a new figure is made otherwise)
and returns the Axes (or the Figure for :func:`plot_overview`).  Cells are
drawn at integer coordinates ``(x, y)`` with ``y`` growing downwards, as in
the ASCII map.  Only the object-oriented API is used, so the functions work
with any backend (``Agg`` included).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patches

from .._kernels.gridworld import DOOR, OUTSIDE, WALL
from ..worlds.gridworld import ACTION_NAMES, DIRECTIONS, GridWorld
from ..worlds.trajectories import rollout

WALL_COLOR = "#2e3440"
FLOOR_COLOR = "#f4f5f7"
GRID_COLOR = "#cfd4dc"
DOOR_COLOR = "#a0522d"
ROCK_COLOR = "#8a8d91"
UNREACHABLE_COLOR = "#e3e5e8"
HUMAN_COLORS = ("#f28e2b", "#b07aa1", "#59a14f", "#e15759", "#edc948", "#ff9da7")
ROBOT_COLORS = ("#4e79a7", "#76b7b2", "#9c755f", "#bab0ac")
GOAL_CMAP = "tab10"


def agent_color(gw: GridWorld, a: int) -> str:
    """Colour of agent ``a`` (humans warm, robots cool)."""
    if a < gw.n_humans:
        return HUMAN_COLORS[a % len(HUMAN_COLORS)]
    return ROBOT_COLORS[(a - gw.n_humans) % len(ROBOT_COLORS)]


def param_label(params) -> str:
    """Short parameter string for titles, e.g. ``β_h=10 γ_h=0.9 β_r=10 γ_r=0.9 ζ=2 ξ=1 η=1.1``."""
    if params is None:
        return ""

    def f(v):
        return "∞" if v == float("inf") else f"{v:g}"

    return (f"β_h={f(params.beta_h)} γ_h={f(params.gamma_h)} β_r={f(params.beta_r)} γ_r={f(params.gamma_r)} "
            f"ζ={f(params.zeta)} ξ={f(params.xi)} η={f(params.eta)}")


def _ax(ax, gw: GridWorld, scale=0.62, extra_w=0.0):
    if ax is not None:
        return ax
    w = max(3.0, gw.width * scale + extra_w)
    h = max(2.4, gw.height * scale + 0.8)
    _, ax = plt.subplots(figsize=(w, h), layout="constrained")
    return ax


def _frame(ax, gw: GridWorld):
    ax.set_xlim(-0.5, gw.width - 0.5)
    ax.set_ylim(gw.height - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(range(gw.width))
    ax.set_yticks(range(gw.height))
    ax.tick_params(length=0, labelsize=7, colors="#7a808a")
    for sp in ax.spines.values():
        sp.set_visible(False)


def _state(gw: GridWorld, state):
    return gw.world.initial_state if state is None else int(state)


def _draw_terrain(ax, gw: GridWorld, state, floor=True):
    t = gw.layout.terrain
    for y in range(gw.height):
        for x in range(gw.width):
            kind = t[y, x]
            if kind == OUTSIDE:
                continue
            if kind == WALL:
                ax.add_patch(patches.Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=WALL_COLOR, edgecolor=WALL_COLOR,
                                               lw=0.5, zorder=3))
            elif floor:
                ax.add_patch(patches.Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=FLOOR_COLOR, edgecolor=GRID_COLOR,
                                               lw=0.6, zorder=0))
    for j, (x, y) in enumerate(gw.layout.doors):
        is_open = bool(gw.door_open[state, j])
        if is_open:
            ax.add_patch(patches.Rectangle((x - 0.44, y - 0.44), 0.88, 0.88, facecolor="none", edgecolor=DOOR_COLOR,
                                           lw=1.6, ls=(0, (3, 2)), zorder=3))
        else:
            ax.add_patch(patches.Rectangle((x - 0.47, y - 0.47), 0.94, 0.94, facecolor=DOOR_COLOR,
                                           edgecolor="#5c2e12", lw=1.0, zorder=3))
            ax.add_patch(patches.Circle((x + 0.25, y), 0.06, facecolor="#f0d9a8", edgecolor="none", zorder=3.1))


def _draw_rocks(ax, gw: GridWorld, state, alpha=1.0):
    for c in gw.rock_cell[state]:
        x, y = gw.xy(c)
        ax.add_patch(patches.FancyBboxPatch((x - 0.32, y - 0.32), 0.64, 0.64, boxstyle="round,pad=0.04,rounding_size=0.12",
                                            facecolor=ROCK_COLOR, edgecolor="#55585c", lw=1.0, alpha=alpha, zorder=4))


def _draw_agent(ax, gw: GridWorld, a, x, y, alpha=1.0, size=0.36, label=True):
    color = agent_color(gw, a)
    if a < gw.n_humans:
        ax.add_patch(patches.Circle((x, y), size, facecolor=color, edgecolor="#3b2a1a", lw=1.1, alpha=alpha, zorder=5))
    else:
        ax.add_patch(patches.FancyBboxPatch((x - size * 0.86, y - size * 0.86), size * 1.72, size * 1.72,
                                            boxstyle="round,pad=0.02,rounding_size=0.1", facecolor=color,
                                            edgecolor="#1d2b3a", lw=1.1, alpha=alpha, zorder=5))
    if label:
        ax.text(x, y, gw.labels[a], ha="center", va="center", fontsize=7.5, fontweight="bold",
                color="white" if a >= gw.n_humans else "#2b1a0a", alpha=alpha, zorder=6)


def _draw_agents(ax, gw: GridWorld, state, skip=(), alpha=1.0):
    for a, c in enumerate(gw.agent_cell[state]):
        if a in skip:
            continue
        x, y = gw.xy(c)
        _draw_agent(ax, gw, a, x, y, alpha=alpha)


def _draw_goals(ax, gw: GridWorld, human):
    goals = gw.goals[human]
    if len(goals) > 10:
        color = agent_color(gw, human)
        for goal in goals:
            for x, y in goal.cells:
                ax.add_patch(patches.Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=color, alpha=0.10, lw=0, zorder=1))
        return []
    cmap = plt.get_cmap(GOAL_CMAP)
    handles = []
    for g, goal in enumerate(goals):
        color = cmap(g % 10)
        for x, y in goal.cells:
            ax.add_patch(patches.Rectangle((x - 0.46, y - 0.46), 0.92, 0.92, facecolor=mcolors.to_rgba(color, 0.18),
                                           edgecolor=mcolors.to_rgba(color, 0.9), lw=1.2, hatch="///", zorder=1))
        handles.append(patches.Patch(facecolor=mcolors.to_rgba(color, 0.25), edgecolor=color, hatch="///",
                                     label=f"{goal.name}  w={goal.weight:.3g}"))
    return handles


def draw_map(gw: GridWorld, state=None, ax=None, *, goals_of=0, legend=True, title=None):
    """Draw the map at ``state`` (default: the start) with agents, doors, rocks and goals.

    ``goals_of``: the human whose goals are shaded (``None`` for none).
    With at most 10 goals each is hatched in its own colour and listed in a
    legend with its weight; with more, the goal cells are tinted.
    """
    s = _state(gw, state)
    ax = _ax(ax, gw, extra_w=2.2 if (legend and goals_of is not None and len(gw.goals[goals_of]) <= 10) else 0.0)
    _frame(ax, gw)
    _draw_terrain(ax, gw, s)
    handles = _draw_goals(ax, gw, goals_of) if goals_of is not None else []
    _draw_rocks(ax, gw, s)
    _draw_agents(ax, gw, s)
    if legend and handles:
        ax.legend(handles=handles, title=f"goals of H{goals_of}", fontsize=7, title_fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), frameon=False)
    if title is None:
        name = gw.world.info.get("name", "gridworld")
        kind = "stationary" if gw.horizon is None else f"step {int(gw.step[s])} of {gw.horizon}"
        title = f"{name} — state {s} ({kind})"
    ax.set_title(title, fontsize=10)
    return ax


def _text_color(rgba):
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


def heatmap(gw: GridWorld, values, agent="H0", state=None, ax=None, *, cmap="viridis", vmin=None, vmax=None,
            title=None, label=None, annotate=None, fmt="{:.2f}", colorbar=True):
    """Colour every cell by ``values[s]``, where ``s`` is ``state`` with ``agent`` moved to that cell.

    Other agents, rocks, doors and the step are as in ``state`` (default:
    the start) and are drawn on top; cells where that state is unreachable
    (occupied, or never reached) are grey.  ``values`` has one entry per
    state.  ``annotate`` writes the numbers into the cells (default: when
    the map is at most 14 cells wide).  In a finite-horizon world only
    the states reachable at the step of ``state`` exist (at step 0 just
    the start), so pass a later state, e.g. ``gw.state_of(step=4)``, for a
    fuller map.
    """
    s = _state(gw, state)
    a = gw.agent_index(agent)
    grid = gw.on_cells(values, a, s)
    ax = _ax(ax, gw, extra_w=1.2)
    _frame(ax, gw)
    _draw_terrain(ax, gw, s)
    finite = grid[np.isfinite(grid)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if hi - lo <= 1e-9 * max(1.0, abs(lo), abs(hi)):
        pad = 0.05 * abs(lo) if lo != 0 else 0.05
        lo, hi = lo - pad, hi + pad
    cm = plt.get_cmap(cmap)
    norm = mcolors.Normalize(lo, hi)
    walk = gw.layout.walkable
    for y in range(gw.height):
        for x in range(gw.width):
            if not walk[y, x]:
                continue
            v = grid[y, x]
            if np.isfinite(v):
                rgba = cm(norm(v))
                ax.add_patch(patches.Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=rgba, edgecolor="white", lw=0.6,
                                               zorder=1))
                if annotate if annotate is not None else gw.width <= 14:
                    ax.text(x, y + 0.3, fmt.format(v), ha="center", va="center", fontsize=6.5, color=_text_color(rgba),
                            zorder=7)
            else:
                ax.add_patch(patches.Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=UNREACHABLE_COLOR,
                                               edgecolor="white", hatch="..", lw=0.6, zorder=1))
    # doors stay visible but translucent over the colours
    for j, (x, y) in enumerate(gw.layout.doors):
        open_ = bool(gw.door_open[s, j])
        ax.add_patch(patches.Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, facecolor="none", edgecolor=DOOR_COLOR, lw=2.0,
                                       ls=(0, (3, 2)) if open_ else "-", zorder=3))
    _draw_rocks(ax, gw, s)
    _draw_agents(ax, gw, s, skip=(a,))
    if colorbar:
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cm)
        cax = ax.inset_axes([1.03, 0.0, 0.035, 1.0])
        cb = ax.figure.colorbar(sm, cax=cax)
        cb.ax.tick_params(labelsize=7)
        cb.formatter.set_useOffset(False)
        cb.update_ticks()
        if label:
            cb.set_label(label, fontsize=8)
    ax.set_title(title if title is not None else f"values over the cell of {gw.labels[a]}", fontsize=9.5)
    return ax


def _titled(main, params, gw: GridWorld, state):
    s = _state(gw, state)
    extra = "" if gw.horizon is None else f", step {int(gw.step[s])}/{gw.horizon}"
    pl = param_label(params)
    return f"{main}{extra}\n{pl}" if pl else main + extra


def plot_goal_ability(gw: GridWorld, solution, human=0, goal=0, state=None, ax=None, *, agent=None, **kw):
    """Heat map of ``V_h^e(s, g)`` of ``human`` for goal ``goal`` over the cell of ``agent`` (default: the human).

    ``goal`` is an index or a goal name.  Colour scale 0..1.
    """
    h = int(human)
    g = _goal_index(gw, h, goal)
    agent = f"H{h}" if agent is None else agent
    name = gw.goals[h][g].name
    title = _titled(f"$V_h^e$(·, {name}) of H{h} over {gw.labels[gw.agent_index(agent)]}'s cell", solution.params,
                    gw, state)
    ax = heatmap(gw, solution.V_h_e[:, h, g], agent, state, ax, cmap=kw.pop("cmap", "viridis"), vmin=kw.pop("vmin", 0.0),
                 vmax=kw.pop("vmax", 1.0), title=title, label=f"$V_h^e$(s, {name})", **kw)
    for x, y in gw.goals[h][g].cells:
        ax.add_patch(patches.Rectangle((x - 0.47, y - 0.47), 0.94, 0.94, facecolor="none", edgecolor="#ff4d4d", lw=1.6,
                                       zorder=4))
    return ax


def _goal_index(gw, h, goal):
    if isinstance(goal, str):
        names = [g.name for g in gw.goals[h]]
        if goal not in names:
            raise ValueError(f"human {h} has no goal {goal!r}; its goals are {names}")
        return names.index(goal)
    g = int(goal)
    if not 0 <= g < len(gw.goals[h]):
        raise ValueError(f"goal index {g} out of range: human {h} has {len(gw.goals[h])} goals")
    return g


def plot_power(gw: GridWorld, solution, human=0, state=None, ax=None, *, agent=None, **kw):
    """Heat map of the aggregate power ``X_h`` of ``human`` over the cell of ``agent`` (default: the human)."""
    h = int(human)
    agent = f"H{h}" if agent is None else agent
    title = _titled(f"$X_h$ of H{h} over {gw.labels[gw.agent_index(agent)]}'s cell", solution.params, gw, state)
    return heatmap(gw, solution.X_h[:, h], agent, state, ax, cmap=kw.pop("cmap", "magma"), title=title,
                   label="$X_h$", **kw)


def plot_intrinsic_reward(gw: GridWorld, solution, state=None, ax=None, *, agent=None, **kw):
    """Heat map of ``U_r`` over the cell of ``agent`` (default: the first robot, else the first human)."""
    if agent is None:
        agent = "R0" if gw.n_robots else "H0"
    title = _titled(f"$U_r$ over {gw.labels[gw.agent_index(agent)]}'s cell", solution.params, gw, state)
    return heatmap(gw, solution.U_r, agent, state, ax, cmap=kw.pop("cmap", "cividis"), title=title, label="$U_r$",
                   fmt=kw.pop("fmt", "{:.2g}"), **kw)


def _door_adjacent(gw, x, y) -> bool:
    for dx, dy in DIRECTIONS:
        nx, ny = x + dx, y + dy
        if gw.layout.inside(nx, ny) and gw.layout.terrain[ny, nx] == DOOR:
            return True
    return False


def _policy_glyphs(ax, gw, x, y, probs, names, color, scale=0.42):
    """Arrows for moves (length ∝ probability), a disc for stay, a ring for toggle.

    Away from doors ``toggle`` has the effect of ``stay`` and is added to
    the disc.
    """
    probs = np.array(probs, dtype=float)
    if "toggle" in names and not _door_adjacent(gw, x, y):
        probs[names.index("stay")] += probs[names.index("toggle")]
        probs[names.index("toggle")] = 0.0
    for k, p in enumerate(probs):
        name = names[k]
        if p < 1e-3:
            continue
        if name in ("north", "east", "south", "west"):
            dx, dy = DIRECTIONS[ACTION_NAMES.index(name) - 1]
            ln = scale * min(1.0, 2.0 * p)  # full length at p >= 1/2
            ax.add_patch(patches.FancyArrow(x, y, dx * ln, dy * ln, width=0.03 + 0.09 * p, head_width=0.12 + 0.16 * p,
                                            head_length=min(0.14, ln * 0.6), length_includes_head=True,
                                            facecolor=color, edgecolor="white", lw=0.4, zorder=8))
        elif name == "stay":
            ax.add_patch(patches.Circle((x, y), 0.05 + 0.16 * np.sqrt(p), facecolor=color, edgecolor="white", lw=0.4,
                                        zorder=8.5))
        elif name == "toggle":
            ax.add_patch(patches.Circle((x, y), 0.1 + 0.25 * np.sqrt(p), facecolor="none", edgecolor=DOOR_COLOR,
                                        lw=1.0 + 3.0 * p, zorder=8.4))


def plot_robot_policy(gw: GridWorld, solution, state=None, ax=None, *, robot=0, field=True, title=None):
    """Draw ``pi_r`` as arrows: move probabilities as arrows, ``stay`` as a disc, ``toggle`` as a brown ring.

    Arrow length grows with the probability up to full length at 1/2, the
    disc's area with the probability of staying.

    ``field=True`` draws the robot's own-action distribution at every cell
    it could occupy with everything else as in ``state`` (the robot itself
    is drawn at its cell in ``state``); ``field=False`` only at ``state``,
    with the probabilities written next to the robot.
    """
    if gw.n_robots == 0:
        raise ValueError("this gridworld has no robot")
    s = _state(gw, state)
    r = int(robot)
    a = gw.n_humans + r
    names = gw.actions[a]
    marg = gw.robot_marginal(solution.pi_r, r)
    ax = draw_map(gw, s, ax, goals_of=None, legend=False, title="")
    color = "#1f3b73"
    if field:
        idx = gw.vary_agent(a, s)
        for y in range(gw.height):
            for x in range(gw.width):
                t = idx[y, x]
                if t < 0 or gw.world.terminal[t] or (x, y) == gw.xy(gw.agent_cell[s, a]):
                    continue
                _policy_glyphs(ax, gw, x, y, marg[t], names, "#5a6f94", scale=0.4)
    if not gw.world.terminal[s]:
        x, y = gw.xy(gw.agent_cell[s, a])
        _policy_glyphs(ax, gw, x, y, marg[s], names, color, scale=0.62)
        if not field:
            text = "\n".join(f"{n}: {p:.2f}" for n, p in zip(names, marg[s]) if p >= 0.005)
            ax.text(1.02, 0.5, text, transform=ax.transAxes, fontsize=7.5, va="center", family="monospace")
    ax.set_title(title if title is not None else _titled(f"$\\pi_r$ of R{r} (arrows ∝ probability)", solution.params,
                                                         gw, s), fontsize=9.5)
    return ax


def plot_policy_bars(gw: GridWorld, solution, state=None, ax=None, *, top=12):
    """Horizontal bars of ``pi_r(a | s)`` over the joint robot actions (the ``top`` most likely)."""
    s = _state(gw, state)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 0.3 * min(top, gw.world.n_ar) + 1.2), layout="constrained")
    p = solution.pi_r[s]
    order = np.argsort(-p, kind="stable")[:top]
    names = gw.robot_action_names()
    ys = np.arange(order.size)
    cm = plt.get_cmap("Blues")
    ax.barh(ys, p[order], color=[cm(0.35 + 0.6 * v / max(p.max(), 1e-12)) for v in p[order]], edgecolor="#1f3b73",
            lw=0.6)
    ax.set_yticks(ys, [names[i] for i in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(1e-9, float(p.max())) * 1.18)
    for yv, i in zip(ys, order):
        ax.text(p[i], yv, f" {p[i]:.3f}", va="center", fontsize=7.5)
    ax.set_xlabel("$\\pi_r(a\\,|\\,s)$", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(_titled(f"robot policy at state {s}", solution.params, gw, s), fontsize=9.5)
    return ax


def plot_trajectory(gw: GridWorld, solution, prior, start=None, steps=None, ax=None, *, mode="likely", seed=0,
                    human_goal=None, title=None):
    """Draw a rollout under the exact ``pi_r`` and the human prior.

    ``mode="likely"`` follows the most probable joint action and successor
    at each step, ``"sample"`` samples with ``seed`` (see
    :func:`empo_tabular.trajectories.rollout`).  ``human_goal=(h, g)`` lets
    human ``h`` pursue goal ``g`` (``prior.profile_fixed_goal``) instead of
    the goal marginal.  Paths start at the agents' start cells (faded) and
    end at the final state (solid); numbers mark the step at each visited
    cell.  Returns the Axes; the rollout is in ``ax.empo_rollout``.
    """
    s0 = _state(gw, start)
    if steps is None:
        steps = gw.horizon if gw.horizon is not None else 12
    prof = prior.profile
    if human_goal is not None:
        h, g = human_goal
        prof = prior.profile_fixed_goal[:, int(h), _goal_index(gw, int(h), g)]
    ro = rollout(gw.world, solution.pi_r, prof, start=s0, steps=steps, mode=mode, seed=seed)
    states = ro["states"]
    last = int(states[-1])
    ax = _ax(ax, gw)
    _frame(ax, gw)
    _draw_terrain(ax, gw, last)
    _draw_rocks(ax, gw, s0, alpha=0.3)
    _draw_rocks(ax, gw, last)
    n = gw.n_agents
    for a in range(n):
        color = agent_color(gw, a)
        off = (a - (n - 1) / 2) * 0.09
        pts = np.array([gw.xy(c) for c in gw.agent_cell[states, a]], dtype=float) + off
        ax.plot(pts[:, 0], pts[:, 1], color=color, lw=2.2, alpha=0.85, zorder=4.5, solid_capstyle="round")
        ax.scatter(pts[1:, 0], pts[1:, 1], s=10, color=color, zorder=4.6)
        seen = set()
        for t, (px, py) in enumerate(pts[1:], start=1):
            key = (round(px, 2), round(py, 2))
            if key in seen:
                continue
            seen.add(key)
            ax.text(px + 0.18, py - 0.22, str(t), fontsize=6, color=color, zorder=7, fontweight="bold")
        x0, y0 = gw.xy(gw.agent_cell[s0, a])
        _draw_agent(ax, gw, a, x0, y0, alpha=0.3, size=0.3, label=False)
    _draw_agents(ax, gw, last)
    events = []
    for t in range(1, states.size):
        d = gw.door_open[states[t]] != gw.door_open[states[t - 1]]
        for j in np.flatnonzero(d):
            events.append(f"t={t}: door {gw.layout.doors[j]} {'opened' if gw.door_open[states[t], j] else 'closed'}")
    how = "most likely" if mode == "likely" else f"sampled (seed {seed})"
    goal_txt = "" if human_goal is None else f", H{human_goal[0]} pursues {gw.goals[int(human_goal[0])][_goal_index(gw, int(human_goal[0]), human_goal[1])].name}"
    ev = ("\n" + "; ".join(events[:3]) + (" …" if len(events) > 3 else "")) if events else ""
    ax.set_title(title if title is not None else
                 f"{how} rollout, {states.size - 1} steps{goal_txt}{ev}\n{param_label(solution.params)}", fontsize=9.5)
    ax.empo_rollout = ro
    return ax


def plot_overview(gw: GridWorld, solution, prior, state=None, *, human=0, goal=None, steps=None, mode="sample",
                  seed=0):
    """Six panels: map, V_h^e(., g), X_h, U_r, pi_r field and the most likely rollout.

    ``goal`` (index or name) is used for the V_h^e panel and pursued by the
    human in the rollout; by default the human's hardest goal (lowest
    V_h^e at ``state``) among its not yet achieved goals of largest weight.
    The rollout is sampled (``mode``, ``seed``; see :func:`plot_trajectory`):
    a human whose Phase 1 value is 0 against a worst-case robot has a
    uniform prior, which a "most likely" rollout would show as standing
    still.
    """
    h = int(human)
    s = _state(gw, state)
    if goal is None:
        w = np.array([g.weight for g in gw.goals[h]])
        open_ = ~gw.world.achieved[h, :w.size, s]
        score = np.where(open_ & (w >= w.max() - 1e-12), 1.0 - solution.V_h_e[s, h, :w.size], -1.0)
        goal = int(np.argmax(score)) if score.max() >= 0 else int(np.argmax(w))
    goal = _goal_index(gw, h, goal)
    cw = gw.width * 0.62 + 1.6
    chh = gw.height * 0.62 + 1.2
    fig, axes = plt.subplots(2, 3, figsize=(3 * cw, 2 * chh), layout="constrained")
    draw_map(gw, state, axes[0, 0], goals_of=h, legend=len(gw.goals[h]) <= 6)
    plot_goal_ability(gw, solution, h, goal, state, axes[0, 1])
    plot_power(gw, solution, h, state, axes[0, 2])
    if gw.n_robots:
        plot_intrinsic_reward(gw, solution, state, axes[1, 0])
        plot_robot_policy(gw, solution, state, axes[1, 1])
    else:
        for ax in axes[1, :2]:
            ax.set_axis_off()
    plot_trajectory(gw, solution, prior, state, steps, axes[1, 2], human_goal=(h, goal), mode=mode, seed=seed)
    name = gw.world.info.get("name", "gridworld")
    kind = "stationary" if gw.horizon is None else f"horizon {gw.horizon}"
    fig.suptitle(f"{name} ({kind}, {gw.n_states} states, conflict rule '{gw.conflict}')", fontsize=11)
    return fig


def save_figure(fig_or_ax, path, dpi=150) -> Path:
    """Save a Figure (or the Figure of an Axes) to ``path``, creating parent folders."""
    fig = fig_or_ax.figure if hasattr(fig_or_ax, "figure") and not isinstance(fig_or_ax, plt.Figure) else fig_or_ax
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path
