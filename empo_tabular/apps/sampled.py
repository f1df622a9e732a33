"""The stochastic regime of the design note: sampled, asynchronous SA with decaying rates, over seeds.

:func:`run_sampled_regime` runs each scheme of :func:`sampled_schemes` at each beta_r with several seeds
(``SAConfig(mode="sampled", visit="uniform")``: one uniformly drawn state per step, unbiased sampled
targets) and aggregates the seeds: the measured label of each seed (on the Q_r sup-norm error, tolerance
:data:`SAMPLED_TOL`), the median and the min-max band of the error trace, and the diagnosed symptoms.

Schedule.  Every rate follows the same per-state schedule here (the per-visit clock has no two-timescale
variant; the atlas's sampled mode runs the two-timescale pair ``lr_slow_decay_exponent``, ``b_n / a_n -> 0``,
on the global clock): a polynomial decay in the number of updates of the visited state, ``lr = base * min(1, (c / n_s)**omega)`` with ``omega`` = :data:`OMEGA` (Robbins-Monro:
``omega in (1/2, 1]``) and ``c`` = :data:`VISITS_CONSTANT`, so that all rates decay but their *ratio*
stays at the base ratio (10:1 for the U_r-fast scheme).  The robot's behaviour policy is uniform
(``epsilon_r = 1`` throughout) so that every Q_r entry keeps being updated.
"""
from __future__ import annotations

import math

import numpy as np

from ..sa.config import SAConfig
from ..sa.experiments import FAST, SLOW, rates

__all__ = ["SAMPLED_BASE", "SAMPLED_TOL", "OMEGA", "VISITS_CONSTANT", "sampled_schemes", "sampled_extra_schemes",
           "run_sampled_regime", "schedule_text", "label_counts"]

OMEGA = 0.7
VISITS_CONSTANT = 10
SAMPLED_TOL = 1e-2
SAMPLED_BASE = SAConfig(mode="sampled", visit="uniform", lr_schedule="polynomial", lr_decay_exponent=OMEGA,
                        lr_constant_fraction=0.0, lr_clock="visits", lr_visits_constant=VISITS_CONSTANT,
                        epsilon_r_start=1.0, epsilon_r_end=1.0, x_h_use_network=True, u_r_use_network=True,
                        v_r_use_network=False)


def schedule_text() -> str:
    return (f"every rate decays as base·min(1, ({VISITS_CONSTANT}/n_s)^{OMEGA}) in the number n_s of updates of "
            "the visited state (one schedule for all five quantities, so the ratio of the rates stays at the base "
            "ratio; this demo does not run the two-timescale pair with b_n/a_n → 0 — `empo-tabular atlas` does, "
            "in its sampled mode); uniform state visits, uniform robot behaviour policy")


def sampled_schemes(quick: bool = False) -> tuple:
    """(label, SAConfig) pairs: the note's schemes at the experiments' rate levels, on :data:`SAMPLED_BASE`."""
    s, f = SLOW, FAST
    out = [(f"equal {s:g}", rates(s, s, SAMPLED_BASE)), (f"equal {f:g}", rates(f, f, SAMPLED_BASE)),
           (f"U_r pathway x{f / s:g} ({f:g}/{s:g})", rates(f, s, SAMPLED_BASE)),
           (f"Q_r x{f / s:g} ({s:g}/{f:g})", rates(s, f, SAMPLED_BASE))]
    if not quick:
        out += [(f"equal {f:g}, k=5", rates(f, f, SAMPLED_BASE, evaluator_updates_per_q_update=5)),
                (f"rates 5:1 ({f:g}/{f / 5:g})", rates(f, f / 5, SAMPLED_BASE))]
    return tuple(out)


def sampled_extra_schemes(n_steps: int, world) -> tuple:
    """Equal fast rates with warm-up stages only, a beta_r ramp only, and Q_r/V_r target tables copied every
    10 sweeps' worth of steps (10 x the number of non-terminal states), on :data:`SAMPLED_BASE`."""
    from ..sa.experiments import staged_warmup

    f = FAST
    w = staged_warmup(n_steps)
    stages = {k: v for k, v in w.items() if k.startswith("warmup_")}
    every = 10 * int((~world.terminal).sum())
    return ((f"stages only, equal {f:g}", rates(f, f, SAMPLED_BASE, **stages, beta_r_rampup_steps=0)),
            (f"ramp only, equal {f:g}", rates(f, f, SAMPLED_BASE, beta_r_rampup_steps=w["beta_r_rampup_steps"])),
            (f"targets every {every}, equal {f:g}", rates(f, f, SAMPLED_BASE, q_r_target_update_interval=every,
                                                          v_r_target_update_interval=every)))


def _one(world, prior, params, exact, cfg, beta, n_steps, seed, record_every):
    from ..sa.diagnose import diagnose
    from ..sa.engine import run_sa
    from ..sa.experiments import first_step_below
    from ..sa.labels import label_trace

    res = run_sa(world, prior, params.replace(beta_r=beta), cfg, n_steps, exact=exact, seed=seed,
                 record_every=record_every)
    tr = res.trace
    lab = label_trace(tr["err_sup_Q_r"], tr["step"], SAMPLED_TOL)
    return {"step": np.asarray(tr["step"], dtype=float), "err": np.asarray(tr["err_sup_Q_r"], dtype=float),
            "label": lab.label, "final": float(tr["err_sup_Q_r"][-1]), "symptoms": diagnose(res, SAMPLED_TOL).symptoms,
            "steps_to": first_step_below(tr, 1e-3)}


def run_sampled_regime(world, prior, params, exact_by_beta: dict, betas, *, n_steps: int, seeds=range(5),
                       schemes=None, n_jobs: int = 1, record_every: int | None = None) -> list:
    """Run every scheme at every beta_r for every seed; one aggregate dict per (scheme, beta_r).

    Returns
    -------
    list of dict
        ``variant, beta_r, config, seeds, labels`` (one per seed), ``n_converging`` (seeds labelled converged
        or converging), ``final_median``, ``step``, ``median``, ``low``, ``high`` (error band over the seeds),
        ``symptoms`` (those seen in more than half of the seeds).
    """
    from ..core.forked import map_forked

    schemes = sampled_schemes() if schemes is None else tuple(schemes)
    seeds = [int(s) for s in seeds]
    record_every = record_every or max(1, n_steps // 60)
    jobs = [(lab, cfg, float(b), sd) for b in betas for lab, cfg in schemes for sd in seeds]

    def one(job):
        lab, cfg, b, sd = job
        return _one(world, prior, params, exact_by_beta[b], cfg, b, n_steps, sd, record_every)

    results = map_forked(one, jobs, n_jobs)
    groups: dict = {}
    for (lab, cfg, b, sd), r in zip(jobs, results):
        groups.setdefault((lab, b), (cfg, []))[1].append((sd, r))
    out = []
    for (lab, b), (cfg, runs) in groups.items():
        errs = np.vstack([r["err"] for _, r in runs])
        labels = [r["label"] for _, r in runs]
        symptoms = sorted({s for _, r in runs for s in r["symptoms"]})
        common = [s for s in symptoms if 2 * sum(s in r["symptoms"] for _, r in runs) > len(runs)]
        steps_to = [r["steps_to"] for _, r in runs]
        out.append({"variant": lab, "beta_r": b, "config": cfg, "seeds": [sd for sd, _ in runs], "labels": labels,
                    "n_converging": sum(lab_ in ("converged", "converging") for lab_ in labels),
                    "final_median": float(np.median([r["final"] for _, r in runs])),
                    "step": runs[0][1]["step"], "median": np.median(errs, axis=0), "low": errs.min(axis=0),
                    "high": errs.max(axis=0), "symptoms": common,
                    "steps_to_median": (float(np.median(steps_to)) if all(s is not None for s in steps_to)
                                        else None)})
    return out


def label_counts(labels) -> str:
    """'3 converging, 2 plateau' from a list of labels."""
    counts: dict = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    return ", ".join(f"{n} {lab}" for lab, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def finite(x) -> float:
    return float(x) if x is not None and math.isfinite(float(x)) else math.nan
