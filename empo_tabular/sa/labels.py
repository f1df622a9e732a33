"""Measured labels for an error trace: converged, converging, oscillating, diverging, plateau.

Every label is the outcome of a measurement on the recorded errors (sup-norm error of one quantity against
the exact solution, or any other positive error series) and carries the numbers it was decided on:

==============  ================================================================================
label           measured as
==============  ================================================================================
converged       the final error is at most ``tol``
diverging       an error became non-finite, or the fitted trend over the tail *grows* by more than
                :data:`GROWTH_DECADES` decades (and more than the scatter around it)
converging      the fitted geometric trend over the tail *falls* (rate per step < 1) by more than
                :data:`TREND_DECADES` decades and more than 3x the scatter around it; ``rate`` is the
                fitted factor per step and ``steps_to_tol`` the steps the trend needs to reach ``tol``
oscillating     no significant trend, and the detrended log error repeats with a period ``p``
                (records): its mean change over ``p`` records is at most :data:`PERIOD_MATCH` of its
                largest mean change over any lag, and its amplitude exceeds :data:`MIN_AMPLITUDE`
                decades; ``period`` is reported in steps (``p`` times the record interval). It is
                measured at the record resolution: a quasi-periodic cycle (Neimark-Sacker) shows an
                aliased period, and a cycle whose period divides the record interval is invisible
                and is labelled plateau
plateau         none of the above: the error stays above ``tol`` without a measurable trend or cycle
                (in sampled mode typically the noise floor of a constant rate)
==============  ================================================================================

The tail is the last ``window`` fraction of the records (at least :data:`MIN_TAIL` records); the trend is
a least-squares line through ``log10(error)`` against the step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LABELS = ("converged", "converging", "oscillating", "diverging", "plateau")
"""The measured labels, in the order reports list them."""

LABEL_TEXT = {
    "converged": "converged (final error <= tol)",
    "converging": "converging (error falls geometrically, tol not yet reached)",
    "oscillating": "oscillating (limit cycle: no net trend, periodic error)",
    "diverging": "diverging (error grows or becomes non-finite)",
    "plateau": "plateau above tol (no measurable trend or cycle)",
}
"""One line per label, for legends and reports."""

TREND_DECADES = 0.05
GROWTH_DECADES = 0.3
PERIOD_MATCH = 0.25
MIN_AMPLITUDE = 0.01
MIN_TAIL = 6


@dataclass(frozen=True)
class TraceLabel:
    """A measured label and the numbers behind it.

    Attributes
    ----------
    label : str
        One of :data:`LABELS`.
    final : float
        The last error.
    rate : float or None
        Fitted geometric factor per step of the tail trend (``< 1`` falls); None when too few records.
    steps_to_tol : float or None
        ``converging`` only: steps the fitted trend needs from the last record to reach ``tol``.
    period : int or None
        ``oscillating`` only: the period in steps (a multiple of the record interval).
    amplitude : float
        Standard deviation of the detrended tail, in decades.
    evidence : str
        One line saying what was measured.
    """

    label: str
    final: float
    rate: float | None = None
    steps_to_tol: float | None = None
    period: int | None = None
    amplitude: float = 0.0
    evidence: str = ""

    def __str__(self) -> str:
        return f"{self.label}: {self.evidence}"


def label_trace(errors, steps=None, tol: float = 1e-6, window: float = 0.5) -> TraceLabel:
    """Label an error trace by measurement (see the module docstring).

    Parameters
    ----------
    errors : 1-d array of float
        Recorded errors (positive; NaN or inf counts as divergence).
    steps : 1-d array of int, optional
        The step of each record (default ``0, 1, 2, ...``); used for rates, periods and step estimates.
    tol : float
        Error counted as converged.
    window : float in (0, 1]
        Fraction of the records forming the tail.
    """
    err = np.asarray(errors, dtype=np.float64).ravel()
    if err.size == 0:
        raise ValueError("errors is empty: a trace needs at least one record")
    if not (0.0 < window <= 1.0):
        raise ValueError(f"window must be in (0, 1], got {window!r}")
    if not (tol > 0.0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    st = np.arange(err.size, dtype=np.float64) if steps is None else np.asarray(steps, dtype=np.float64).ravel()
    if st.shape != err.shape:
        raise ValueError(f"steps has {st.size} entries, errors has {err.size}")
    final = float(err[-1])
    bad = np.flatnonzero(~np.isfinite(err))
    if bad.size:
        return TraceLabel("diverging", final, evidence=f"the error is non-finite from record {int(bad[0])} on")
    if final <= tol:
        return TraceLabel("converged", final, evidence=f"final error {final:.3g} <= tol {tol:g}")
    n_tail = max(MIN_TAIL, int(math.ceil(window * err.size)))
    if err.size < MIN_TAIL:
        return TraceLabel("plateau", final, evidence=f"only {err.size} records (< {MIN_TAIL}): no trend measured")
    y = np.log10(np.maximum(err[-n_tail:], 1e-300))
    x = st[-n_tail:]
    span = float(x[-1] - x[0])
    slope, icpt = np.polyfit(x - x[0], y, 1) if span > 0 else (0.0, float(y.mean()))
    resid = y - (icpt + slope * (x - x[0]))
    scatter = float(resid.std())
    change = float(slope * span)  # decades the trend moves over the tail
    rate = float(10.0 ** slope)
    if change > max(GROWTH_DECADES, 3.0 * scatter):
        return TraceLabel("diverging", final, rate=rate, amplitude=scatter,
                          evidence=f"the fitted trend grows by {change:.2f} decades over the last {n_tail} "
                                   f"records (factor {rate:.6g} per step)")
    if -change > max(TREND_DECADES, 3.0 * scatter):
        to_tol = (math.log10(tol) - math.log10(final)) / slope
        return TraceLabel("converging", final, rate=rate, steps_to_tol=float(to_tol), amplitude=scatter,
                          evidence=f"the fitted trend falls by {-change:.2f} decades over the last {n_tail} "
                                   f"records (factor {rate:.6g} per step; about {to_tol:.3g} more steps to "
                                   f"{tol:g})")
    period = _period(resid)
    if period is not None and scatter > MIN_AMPLITUDE:
        spacing = float(np.median(np.diff(x))) if x.size > 1 else 1.0
        p_steps = int(round(period * spacing))
        return TraceLabel("oscillating", final, rate=rate, period=p_steps, amplitude=scatter,
                          evidence=f"no net trend ({change:+.2f} decades over the last {n_tail} records) and the "
                                   f"error repeats every {period} records ({p_steps} steps), amplitude "
                                   f"{scatter:.2f} decades")
    return TraceLabel("plateau", final, rate=rate, amplitude=scatter,
                      evidence=f"final error {final:.3g} > tol {tol:g} with no measurable trend "
                               f"({change:+.2f} decades over the last {n_tail} records) or cycle")


def _period(y) -> int | None:
    """Smallest lag ``p >= 2`` at which ``y`` repeats (mean |y[i+p] - y[i]| small against the largest lag)."""
    n = y.size
    lags = range(1, n // 2 + 1)
    d = np.array([np.mean(np.abs(y[p:] - y[:-p])) for p in lags])
    if d.size < 2 or d.max() <= 0.0:
        return None
    for p in range(2, d.size + 1):
        if d[p - 1] <= PERIOD_MATCH * d.max():
            return p
    return None
