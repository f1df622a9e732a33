"""Contraction analysis of fixed-point maps (CONTRACTION_THEORY.md).

Generic, EMPO-independent part:

analyze_map                  indicators of a map F at a point -> MapReport
find_fixed_points            multistart root finding -> FixedPointSet (rows + stability)
predict_convergence_region   rho(I + D(a, kappa)(J - I)) on a grid of steps and ratios
damped_rate                  rho((1 - alpha) I + alpha J)
iterate_damped               x <- (1 - alpha) x + alpha F(x), with the error history
fd_jacobian                  central-difference Jacobian (optionally in log(-x) coordinates)

EMPO part:

EmpoMaps                     the reduced, Jacobi and Gauss-Seidel Phase 2 maps on flat vectors + Jacobians
analyze_contraction          indicators of those maps along the branch Q*(beta_r) -> ContractionReport
ContractionReport            table, critical betas, ordering checks, spectra, region; save / load
load_contraction_report      read a saved report back
beta_crossings               level-1 crossings of an indicator, interpolated in log beta
INDICATORS                   the indicator registry (name, label, iteration, description), derived from MapReport

The job that adds SA runs and figures is :func:`empo_tabular.apps.contraction_job.run_contraction_job`.
"""
from ._report import INDICATORS, Indicator
from .contraction_report import (
    BETA_STAR_INDICATORS,
    CHAIN,
    ContractionReport,
    beta_crossings,
    classify_eigenvalue,
    load_contraction_report,
)
from .empo_analysis import ANALYZE_DEFAULTS, follow_branch
from .empo_maps import MAP_NAMES, EmpoMaps
from .empo_sweep import analyze_contraction
from .fixed_points import FixedPointSet, find_fixed_points
from .generic import MapReport, analyze_map, fd_jacobian, iterate_damped
from .spectral import alpha_best_from_eigenvalues, alpha_max_from_eigenvalues, damped_rate, predict_convergence_region

__all__ = [
    "ANALYZE_DEFAULTS",
    "BETA_STAR_INDICATORS",
    "CHAIN",
    "INDICATORS",
    "Indicator",
    "ContractionReport",
    "EmpoMaps",
    "FixedPointSet",
    "MAP_NAMES",
    "MapReport",
    "alpha_best_from_eigenvalues",
    "alpha_max_from_eigenvalues",
    "analyze_contraction",
    "analyze_map",
    "beta_crossings",
    "classify_eigenvalue",
    "damped_rate",
    "fd_jacobian",
    "find_fixed_points",
    "follow_branch",
    "iterate_damped",
    "load_contraction_report",
    "predict_convergence_region",
]
