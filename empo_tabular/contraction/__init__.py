"""Contraction analysis of fixed-point maps (CONTRACTION_THEORY.md).

Generic, EMPO-independent part:

analyze_map                  indicators of a map F at a point -> MapReport
find_fixed_points            multistart root finding -> FixedPointSet (rows + stability)
predict_convergence_region   rho(I + D(a, kappa)(J - I)) on a grid of steps and ratios
damped_rate                  rho((1 - alpha) I + alpha J)
iterate_damped               x <- (1 - alpha) x + alpha F(x), with the error history
fd_jacobian                  central-difference Jacobian (optionally in log(-x) coordinates)
"""
from .fixed_points import FixedPointSet, find_fixed_points
from .generic import MapReport, analyze_map, fd_jacobian, iterate_damped
from .spectral import (
    alpha_best_from_eigenvalues,
    alpha_max_from_eigenvalues,
    damped_rate,
    predict_convergence_region,
)

__all__ = [
    "FixedPointSet",
    "MapReport",
    "alpha_best_from_eigenvalues",
    "alpha_max_from_eigenvalues",
    "analyze_map",
    "damped_rate",
    "fd_jacobian",
    "find_fixed_points",
    "iterate_damped",
    "predict_convergence_region",
]
