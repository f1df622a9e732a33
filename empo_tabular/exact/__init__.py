"""Exact solutions: Phase 1 (the human prior) and Phase 2 (all six arrays) on finite worlds.

phase1        solve_phase1, HumanPrior                       equations (1)-(3)
system        Phase2Solution, phase2_residuals, NewtonSystem, jacobian_blocks
              (the Phase 2 equations as a system: what solvers and the analyzer share)
phase2        solve_phase2: backward sweep; on cyclic worlds Anderson sweeps (default), Newton, Picard
sweeps        Phase 2 by Anderson-accelerated Gauss-Seidel sweeps along the branch from beta_r = 0
anderson      Anderson acceleration of a fixed-point map (type II, restarts)
branch        which branch a fixed point is on: sign of det(I - J), rightmost eigenvalue by ARPACK
picard        damped Gauss-Seidel sweeps along a beta_r schedule
continuation  Newton's method, branch continuation in beta_r (never over a fold), linear solves,
              ConvergenceError
parallel      when the level-parallel sweeps use all threads
"""
from .continuation import ConvergenceError
from .phase1 import HumanPrior, solve_phase1
from .phase2 import solve_phase2
from .system import Phase2Solution, XhZeroError, phase2_residuals

__all__ = ["ConvergenceError", "HumanPrior", "Phase2Solution", "XhZeroError", "phase2_residuals", "solve_phase1",
           "solve_phase2"]
