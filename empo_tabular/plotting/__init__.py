"""Plots of gridworlds and their exact EMPO solutions (matplotlib; every function returns its Axes or Figure).

Main entry points (all in :mod:`empo_tabular.plotting.grid`):

draw_map               the map with walls, doors, rocks, agents and one human's goals
heatmap                any per-state array over the cells of one agent, the rest fixed
plot_goal_ability      V_h^e(., g) over the human's cell
plot_power             X_h over one agent's cell
plot_intrinsic_reward  U_r over one agent's cell (default: the robot)
plot_robot_policy      pi_r as arrows, at one state or over every cell of the robot
plot_policy_bars       pi_r(. | s) as bars over the joint robot actions
plot_trajectory        a rollout under the exact pi_r and the human prior
plot_overview          a six-panel summary figure
save_figure            save a figure, creating the folder

In :mod:`empo_tabular.plotting.sa`:

plot_sa_errors         error-vs-step curves of SA runs against the exact solution
plot_experiment        one figure per learning-rate experiment (rows beta_r, columns quantities)

In :mod:`empo_tabular.plotting.contraction`:

plot_indicators        contraction indicators versus beta_r with the critical values marked
plot_spectra           spectrum snapshots in the complex plane
plot_bifurcation       V_r(s0) of every fixed point versus beta_r
plot_convergence_region  predicted rho(I + D(a, kappa)(J - I)) with SA runs overlaid
"""
from .grid import (
    draw_map,
    heatmap,
    param_label,
    plot_goal_ability,
    plot_intrinsic_reward,
    plot_overview,
    plot_policy_bars,
    plot_power,
    plot_robot_policy,
    plot_trajectory,
    save_figure,
)
from .contraction import plot_bifurcation, plot_convergence_region, plot_indicators, plot_spectra
from .sa import plot_experiment, plot_sa_errors

__all__ = [
    "draw_map",
    "heatmap",
    "param_label",
    "plot_bifurcation",
    "plot_convergence_region",
    "plot_experiment",
    "plot_goal_ability",
    "plot_indicators",
    "plot_intrinsic_reward",
    "plot_overview",
    "plot_policy_bars",
    "plot_power",
    "plot_robot_policy",
    "plot_sa_errors",
    "plot_spectra",
    "plot_trajectory",
    "save_figure",
]
