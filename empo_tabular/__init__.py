"""empo_tabular: exact, fast tabular reference solver for EMPO Phase 1 and Phase 2.

The flow runs one way: world -> Phase 1 prior -> exact Phase 2 ->
(two-timescale SA | contraction analyzer) -> results -> plots and reports.

Main entry points
-----------------
TabularWorld, load_world, random_world   worlds
EmpoParams                               theory parameters
solve_phase1, HumanPrior                 Phase 1 (human policy prior)
solve_phase2, Phase2Solution             Phase 2 (exact arrays)
phase2_residuals                         residual of every equation
power_law_policy                         the robot's power-law policy
analyze_map, find_fixed_points           generic contraction analysis of any map
"""
__version__ = "0.1.0"

from ._continuation import ConvergenceError
from .contraction import analyze_map, find_fixed_points
from .params import EmpoParams
from .phase1 import HumanPrior, solve_phase1
from .phase2 import Phase2Solution, XhZeroError, phase2_residuals, solve_phase2
from .policy import power_law_policy
from .random_worlds import random_world
from .world import TabularWorld, load_world

__all__ = [
    "ConvergenceError",
    "EmpoParams",
    "HumanPrior",
    "Phase2Solution",
    "TabularWorld",
    "XhZeroError",
    "analyze_map",
    "find_fixed_points",
    "load_world",
    "phase2_residuals",
    "power_law_policy",
    "random_world",
    "solve_phase1",
    "solve_phase2",
]
