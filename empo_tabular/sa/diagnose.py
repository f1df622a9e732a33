"""Read an SA trace the way the learning-rate note's monitoring table does: :func:`diagnose`.

The note (``docs/DESIGN_NOTE_CLAIMS.md``, its monitoring table) lists
four symptoms with their causes and remedies:

=========================  ==========================  =============================
symptom                    possible cause              remedy
=========================  ==========================  =============================
Q_r oscillates             Q_r changing too fast       reduce lr_q_r
U_r lags behind Q_r        U_r pathway too slow        increase the U_r pathway rates
V_h^e unstable             pi_r changing rapidly       reduce lr_q_r
all plateau early          learning rates too small    increase all proportionally
=========================  ==========================  =============================

With exact arrays we can test those symptoms on errors instead of losses.
Every traced quantity also gets its measured label (:mod:`empo_tabular.sa.labels`: converged,
converging, oscillating, diverging, plateau), the same words the experiments' reports and figures use.
The tests are heuristics on the *tail* of the trace (records after Q_r
started learning, last half of them), on log10 errors:

* **diverging**: the last error is non-finite or more than 10x the smallest
  error seen in the tail;
* **oscillating** (per quantity): more than 40% of consecutive changes flip
  sign, the swings exceed 0.05 decades and the tail gains less than half a
  decade;
* **lagging**: the median ratio ``err(U_r) / err(Q_r)`` over the tail is above
  3 while U_r is not yet within tolerance;
* **V_h^e unstable**: V_h^e oscillates, or its error grows more than 3x above
  its minimum after Q_r started;
* **flat under constant expected steps**: every error above tolerance
  changed by less than 0.05 decades over the tail, and not by a steady
  decrease at >= 80% of the records (that is a plateau); the targets are exact,
  so this is either a limit cycle (reported as Q_r oscillating; a record
  interval that is a multiple of the period hides the flips) or, when the
  residual is at tolerance, a fixed point other than the exact one;
* **plateau**: every quantity above tolerance improved by less than 30%
  over the tail without oscillating (with a constant schedule in sampled
  mode this is the noise floor, and the remedy is a decaying schedule).

Without an exact solution only the equations' residual is available and
only divergence, oscillation and plateau of the residual are tested.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .labels import label_trace

PER_QUANTITY = ("Q_r", "V_h_e", "X_h", "U_r", "V_r")


@dataclass(frozen=True)
class Finding:
    """One diagnosed symptom: what was seen, the likely cause, the note's remedy."""

    symptom: str
    evidence: str
    cause: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.symptom}: {self.evidence}\n    cause: {self.cause}\n    remedy: {self.remedy}"


@dataclass
class Diagnosis:
    """Result of :func:`diagnose`: ``converged``, the measured label of every traced quantity
    (:func:`~empo_tabular.sa.labels.label_trace`: converged, converging, oscillating, diverging, plateau)
    and a list of :class:`Finding` (the monitoring table's symptoms)."""

    converged: bool
    final_errors: dict
    findings: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The label of Q_r (of the residual when the run had no exact solution)."""
        lab = self.labels.get("Q_r", self.labels.get("residual"))
        return lab.label if lab is not None else ("converged" if self.converged else "plateau")

    @property
    def symptoms(self) -> list:
        return [f.symptom for f in self.findings]

    def __str__(self) -> str:
        head = self.label
        errs = ", ".join(f"{k} {v:.2e}" for k, v in self.final_errors.items())
        lines = [f"SA run {head} ({errs})" if errs else f"SA run {head}"]
        lines += [f"  {k}: {lab}" for k, lab in self.labels.items() if lab.label != "converged"]
        lines += [str(f) for f in self.findings] or ["no symptom of the monitoring table"]
        return "\n".join(lines)


def _log(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(np.isfinite(x), np.maximum(x, 1e-300), np.inf))


def _oscillates(logs) -> bool:
    d = np.diff(logs)
    d = d[np.isfinite(d) & (d != 0.0)]
    if d.size < 6:
        return False
    flips = np.mean(np.sign(d[1:]) != np.sign(d[:-1]))
    swing = np.median(np.abs(d))
    gain = logs[0] - logs[-1]
    return bool(flips > 0.4 and swing > 0.05 and gain < 0.5)


def _tail(trace) -> np.ndarray:
    """Indices of the records after Q_r started learning (stage >= 3), last half of them."""
    stage = np.asarray(trace["stage"])
    idx = np.flatnonzero(stage >= 3)
    if idx.size == 0:
        return idx
    return idx[idx.size // 2:]


def _stalls(diag, logs, final, tol, cfg, trace, tail):
    """Flat or slowly falling errors: a cycle, another fixed point, noise, or rates too small."""
    above = [k for k in logs if final[k] > tol]
    gains = {k: logs[k][0] - logs[k][-1] for k in above}
    if not above or any(g >= np.log10(1.0 / 0.7) for g in gains.values()):
        return
    deterministic = cfg.mode == "expected" and cfg.lr_schedule == "constant"
    creeping = all(gains[k] > 0 and np.mean(np.diff(logs[k]) < 0.0) >= 0.8 for k in above)  # steady, slow
    if deterministic and not creeping and all(abs(g) < 0.05 for g in gains.values()):
        # constant steps on exact targets: a flat error is a limit cycle (seen at the record
        # interval, which can hide a period-2 flip) or a fixed point other than the exact one
        res = np.asarray(trace["residual"], dtype=np.float64)[tail]
        if np.isfinite(res[-1]) and res[-1] <= max(tol, 1e-9):
            diag.findings.append(Finding(
                "stuck at another fixed point", f"the equations hold (residual {res[-1]:.1e}) but the error "
                f"vs the exact solution stays at {max(final[k] for k in above):.1e}",
                "the coupled equations have several fixed points at this beta_r; SA found one off the branch "
                "that continuation from beta_r = 0 follows",
                "start from beta_r = 0 and ramp slowly (beta_r_rampup_steps), or start from a nearby exact "
                "solution; see analyze_contraction for the fixed points"))
        else:
            diag.findings.append(Finding(
                "Q_r oscillating", f"error and residual ({res[-1]:.1e}) stay flat under constant steps: "
                "a limit cycle (the record interval can hide a period-2 flip)",
                "Q_r changing too fast", f"reduce lr_q_r (now {cfg.lr_q_r:g}) or make the evaluators faster"))
        return
    if cfg.mode == "sampled" and cfg.lr_schedule == "constant":
        remedy = ("sampled targets with a constant rate stall at a noise floor: use a decaying schedule "
                  "(constant_then_1_over_t, or polynomial with exponent in (1/2, 1])")
    else:
        remedy = "increase all learning rates proportionally (or run longer)"
    diag.findings.append(Finding(
        "all plateau", f"{', '.join(above)} improved by less than 30% over the tail",
        "learning rates too small for the remaining distance", remedy))


def _noise_note(cfg) -> str:
    if cfg.mode == "sampled" and cfg.lr_schedule == "constant":
        return ("; with sampled targets and a constant rate the error also fluctuates at a noise floor: "
                "use a decaying schedule")
    return ""


def diagnose(result, tol: float = 1e-6) -> Diagnosis:
    """Diagnose an :class:`~empo_tabular.sa.SAResult` with the note's monitoring table.

    Parameters
    ----------
    result : SAResult
        A run; errors per quantity are read from its trace when it was run
        with ``exact=...``, otherwise only the residual is used.
    tol : float
        Sup-norm error (or residual) counted as converged.

    Returns
    -------
    Diagnosis
        ``converged`` (every final error, or the residual, at most ``tol``)
        and the findings, each with the evidence, cause and remedy.
    """
    trace = result.trace
    if "stage" not in trace or len(trace["stage"]) < 2:
        raise ValueError("the SA trace has fewer than 2 records; run with a smaller record_every")
    has_exact = "err_sup_Q_r" in trace
    keys = [k for k in PER_QUANTITY if f"err_sup_{k}" in trace] if has_exact else ["residual"]
    series = {k: np.asarray(trace[f"err_sup_{k}"] if has_exact else trace["residual"], dtype=np.float64)
              for k in keys}
    final = {k: float(v[-1]) for k, v in series.items()}
    converged = all(np.isfinite(v) and v <= tol for v in final.values())
    labels = {k: label_trace(v, trace.get("step"), tol) for k, v in series.items()}
    diag = Diagnosis(converged=converged, final_errors=final, labels=labels)
    tail = _tail(trace)
    if converged or tail.size < 4:
        return diag
    logs = {k: _log(v[tail]) for k, v in series.items()}
    cfg = result.config
    # divergence
    bad = [k for k, lg in logs.items() if not np.isfinite(lg[-1]) or lg[-1] - np.min(lg) > 1.0]
    if bad:
        diag.findings.append(Finding(
            "diverging", f"error of {', '.join(bad)} grew >10x above its tail minimum (or became non-finite)",
            "the coupled map does not contract at these step sizes (beta_r too large for equal rates)",
            "reduce lr_q_r, i.e. separate the time scales by rates (U_r pathway lr_v_h_e, lr_x_h, lr_u_r "
            "faster than lr_q_r); on exact tables k evaluator updates per Q_r update is not equivalent"))
    osc = [k for k, lg in logs.items() if _oscillates(lg)]
    q_key = "Q_r" if has_exact else "residual"
    if q_key in osc:
        diag.findings.append(Finding(
            "Q_r oscillating", "its tail error flips direction at most records without net progress",
            "Q_r changing too fast", f"reduce lr_q_r (now {cfg.lr_q_r:g})" + _noise_note(cfg)))
    if has_exact and "U_r" in logs and "Q_r" in logs:
        ratio = np.median(10.0 ** (logs["U_r"] - logs["Q_r"]))
        if ratio > 3.0 and final["U_r"] > tol:
            diag.findings.append(Finding(
                "U_r lagging Q_r", f"median err(U_r)/err(Q_r) over the tail is {ratio:.1f}",
                "U_r pathway too slow",
                f"increase lr_v_h_e, lr_x_h, lr_u_r (now {cfg.lr_v_h_e:g}, {cfg.lr_x_h:g}, {cfg.lr_u_r:g})"))
    if has_exact and "V_h_e" in logs:
        lg = logs["V_h_e"]
        after_q = _log(series["V_h_e"][np.asarray(trace["stage"]) >= 3])
        grew = np.isfinite(lg[-1]) and lg[-1] - np.min(after_q) > np.log10(3.0)
        if "V_h_e" in osc or grew:
            diag.findings.append(Finding(
                "V_h^e unstable", "its error oscillates or grew >3x after Q_r started learning",
                "pi_r changing rapidly", f"reduce lr_q_r (now {cfg.lr_q_r:g})"))
    if not diag.findings:
        _stalls(diag, logs, final, tol, cfg, trace, tail)
    return diag
