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
analyze_contraction, ContractionReport   contraction of the Phase 2 maps versus beta_r
SAConfig, run_sa, SAResult, diagnose     two-timescale SA on exact tables
save_result, load_result                 results that last (.npz + .json)
score, ScoreResult                       learned tables against the exact solution (errors, worst states)
"""
from ._version import __version__

from .exact.continuation import ConvergenceError
from .contraction import (
    ContractionReport,
    analyze_contraction,
    analyze_map,
    find_fixed_points,
    load_contraction_report,
)
from .core.params import EmpoParams
from .exact.phase1 import HumanPrior, solve_phase1
from .exact.system import Phase2Solution, XhZeroError, phase2_residuals
from .exact.phase2 import solve_phase2
from .exact.score import ScoreResult, score
from .core.policy import power_law_policy
from .io.results import load_result, save_result
from .worlds.random_worlds import random_world
from .sa.engine import SAResult, run_sa
from .sa.config import SAConfig
from .sa.diagnose import diagnose
from .core.world import TabularWorld, load_world

__all__ = [
    "ContractionReport",
    "ConvergenceError",
    "EmpoParams",
    "HumanPrior",
    "Phase2Solution",
    "SAConfig",
    "SAResult",
    "ScoreResult",
    "TabularWorld",
    "XhZeroError",
    "analyze_contraction",
    "analyze_map",
    "diagnose",
    "find_fixed_points",
    "load_contraction_report",
    "load_result",
    "load_world",
    "phase2_residuals",
    "power_law_policy",
    "random_world",
    "run_sa",
    "save_result",
    "score",
    "solve_phase1",
    "solve_phase2",
]
