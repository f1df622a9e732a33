"""Two-timescale stochastic approximation on exact tables (the learning-rate design note's schemes).

config       SAConfig: every knob, validated
schedules    learning-rate, beta_r-ramp, epsilon and warm-up-stage schedules
engine       run_sa, SAResult: one jitted update loop, errors against the exact solution
checkpoint   resumable runs
diagnose     the note's monitoring table applied to a trace
experiments  the note's five learning-rate experiments
"""
from .config import SAConfig
from .diagnose import diagnose
from .engine import SAResult, run_sa

__all__ = ["SAConfig", "SAResult", "diagnose", "run_sa"]
