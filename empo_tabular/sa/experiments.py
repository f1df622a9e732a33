"""The learning-rate note's experiments on exact tables: definitions, runner and summaries.

The user's design note (``docs/DESIGN_NOTE_CLAIMS.md``) proposes five comparisons for
Phase 2 training; each is defined here as a named :class:`Experiment` (a
list of labelled :class:`~empo_tabular.sa_config.SAConfig` variants) and run
by :func:`run_lr_experiment` at several beta_r against the exact solution:

=============================  =======================================================================
name                           variants
=============================  =======================================================================
``equal_rates``                all five rates equal, at the slow and at the fast rate (Experiment 1)
``u_r_fast``                   baseline vs U_r pathway (V_h^e, X_h, U_r) 10x faster (Experiment 2)
``q_r_fast``                   baseline vs Q_r (and V_r) 10x faster (Experiment 3)
``frequency_separation_5to1``  fast equal rates with k = 1 and k = 5 evaluator updates per Q_r update,
                               and the 5:1 learning-rate ratio the note says k = 5 is equivalent to
``staged_warmup_vs_none``      staged warm-up + sigmoid beta_r ramp vs none, at the slow and fast rate
=============================  =======================================================================

Choices (and why)
-----------------
* **Update mode and visits.**  ``mode="expected"`` with ``visit="synchronous"``
  (every non-terminal state updated from the same targets at each step, a
  damped Jacobi iteration).  Expected mode removes sampling noise, so the
  only thing that can stop convergence is the dynamics the note is about
  (time-scale coupling, non-contraction at large beta_r); synchronous visits
  make one step one sweep, seed-independent, and match the linear stability
  theory (``rho(I + D (J - I)) < 1``, CONTRACTION_THEORY §4.3).  Pass
  ``base=SAConfig(visit="uniform", ...)`` for asynchronous visits.
* **Rates.**  Plain SGD steps on tables (not Adam on networks), so the
  note's ``1e-4 / 1e-3`` become :data:`SLOW` = 0.1 and :data:`FAST` = 1.0
  (the same 10:1 ratio).  ``FAST = 1`` on every quantity is undamped Picard
  iteration of equations (4)-(9) - the most aggressive scheme, and the one
  that first loses stability when beta_r grows.
* **Learned quantities.**  V_h^e, X_h, U_r and Q_r are tables
  (``u_r_use_network=True`` so that the whole "U_r pathway" of the note lags);
  V_r is computed from them (reference default).  ``lr_v_r`` follows
  ``lr_q_r`` (optimizer side, as in the note's example).
* **Warm-up** (staged variants): ``n_steps / 20`` steps for each of the four
  learned stages (V_h^e, +X_h, +U_r, +Q_r; beta_r = 0), then a sigmoid
  ramp of ``n_steps / 5`` steps - the reference's proportions
  (10k/10k/10k + 20k ramp of 100k) scaled to the run.
* **Convergence threshold** (``tol``): the final sup-norm relative error of
  Q_r must be below 1e-6 in expected mode.  With constant rates the
  expected-mode update is a deterministic map whose only fixed point is the
  exact solution, so a convergent scheme goes on to round-off (~1e-14) and
  every limit cycle we observed stays above 1e-4; 1e-6 separates the two
  with room on both sides while leaving slow-but-convergent runs
  (~1e-6..1e-8 after 2000 sweeps at rate 0.1) honestly labelled.  Sampled
  mode defaults to 1e-2 (the noise floor of the issue's sampled-mode test).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_betas
from ..core.params import EmpoParams
from ..exact.phase1 import HumanPrior
from ..exact.system import Phase2Solution
from ..exact.phase2 import solve_phase2
from ..core.conventions import FIELDS
from .engine import SAResult, run_sa
from .config import SAConfig
from .labels import label_trace
from ..core.world import TabularWorld

SLOW = 0.1
FAST = 1.0
DEFAULT_N_STEPS = 2000
DEFAULT_BETAS = (1.0, 10.0, 100.0)
EVALUATOR = ("v_h_e", "x_h", "u_r")
OPTIMIZER = ("q_r", "v_r")

BASE_CONFIG = SAConfig(mode="expected", visit="synchronous", lr_schedule="constant", x_h_use_network=True,
                       u_r_use_network=True, v_r_use_network=False)
"""Common settings of every variant (see the module docstring)."""


@dataclass(frozen=True)
class Experiment:
    """A named comparison of SA schemes.

    Attributes
    ----------
    name : str
        Key in :data:`EXPERIMENTS`.
    title : str
        Short title for figures.
    description : str
        What the note claims and what the variants test.
    variants : tuple of (str, SAConfig)
        Labelled configurations, compared at every beta_r.
    """

    name: str
    title: str
    description: str
    variants: tuple

    @property
    def labels(self) -> tuple:
        return tuple(label for label, _ in self.variants)

    def config(self, label: str) -> SAConfig:
        """The configuration of one variant."""
        for lab, cfg in self.variants:
            if lab == label:
                return cfg
        raise KeyError(f"experiment {self.name!r} has no variant {label!r}; variants: {self.labels}")


def rates(evaluator: float, optimizer: float, base: SAConfig | None = None, **changes) -> SAConfig:
    """A configuration with ``lr_v_h_e = lr_x_h = lr_u_r = evaluator`` and ``lr_q_r = lr_v_r = optimizer``.

    Parameters
    ----------
    evaluator, optimizer : float in (0, 1]
        Rates of the U_r pathway (the note's "evaluator") and of Q_r / V_r.
    base : SAConfig, optional
        Other settings (default :data:`BASE_CONFIG`).
    **changes
        Further fields to set (validated by :class:`SAConfig`).
    """
    base = BASE_CONFIG if base is None else base
    lr = {f"lr_{q}": float(evaluator) for q in EVALUATOR}
    lr.update({f"lr_{q}": float(optimizer) for q in OPTIMIZER})
    return base.replace(**lr, **changes)


def staged_warmup(n_steps: int, stage_fraction: float = 0.05, ramp_fraction: float = 0.2) -> dict:
    """Warm-up fields: ``stage_fraction * n_steps`` per stage, a ``ramp_fraction * n_steps`` sigmoid ramp."""
    stage = max(1, int(round(stage_fraction * n_steps)))
    ramp = max(1, int(round(ramp_fraction * n_steps)))
    return dict(warmup_v_h_e_steps=stage, warmup_x_h_steps=stage, warmup_u_r_steps=stage, warmup_q_r_steps=stage,
                warmup_v_r_steps=stage, beta_r_rampup_steps=ramp, beta_r_continuation_mode="sigmoid")


def _fmt(x: float) -> str:
    return f"{x:g}"


def get_experiment(name: str, n_steps: int = DEFAULT_N_STEPS, *, base: SAConfig | None = None,
                   slow: float = SLOW, fast: float = FAST) -> Experiment:
    """Build one of the note's experiments for a run of ``n_steps`` steps.

    Parameters
    ----------
    name : str
        One of :data:`EXPERIMENT_NAMES`.
    n_steps : int
        Run length (sets the warm-up durations of ``staged_warmup_vs_none``).
    base : SAConfig, optional
        Settings shared by every variant (default :data:`BASE_CONFIG`).
    slow, fast : float in (0, 1]
        The two rate levels (default 0.1 and 1.0, the note's 10:1 ratio).

    Returns
    -------
    Experiment
    """
    base = BASE_CONFIG if base is None else base
    s, f = _fmt(slow), _fmt(fast)
    if name == "equal_rates":
        return Experiment(name, "Experiment 1: equal learning rates",
                          "All five rates equal (the note's baseline), at the slow and at the fast level. The note "
                          "expects equal rates to work at small beta_r and to need separation at large beta_r.",
                          ((f"equal {s}", rates(slow, slow, base)), (f"equal {f}", rates(fast, fast, base))))
    if name == "u_r_fast":
        ratio = _fmt(fast / slow)
        return Experiment(name, "Experiment 2: U_r pathway faster",
                          "The evaluator (V_h^e, X_h, U_r) 10x faster than the optimizer (Q_r, V_r): the note's "
                          "recommended two-timescale ordering ('evaluator fast, optimizer slow').",
                          ((f"equal {s}", rates(slow, slow, base)),
                           (f"U_r pathway x{ratio} ({f}/{s})", rates(fast, slow, base))))
    if name == "q_r_fast":
        ratio = _fmt(fast / slow)
        return Experiment(name, "Experiment 3: Q_r faster",
                          "Q_r (and V_r) 10x faster than the evaluator: the ordering the note does not recommend "
                          "('everyone chasing moving targets').",
                          ((f"equal {s}", rates(slow, slow, base)),
                           (f"Q_r x{ratio} ({s}/{f})", rates(slow, fast, base))))
    if name == "frequency_separation_5to1":
        return Experiment(name, "Update-frequency separation 5:1",
                          "Five evaluator updates per Q_r update at equal (fast) rates, against no separation and "
                          "against the 5:1 learning-rate ratio the note says it is equivalent to.",
                          ((f"equal {f}, k=1", rates(fast, fast, base)),
                           (f"equal {f}, k=5", rates(fast, fast, base, evaluator_updates_per_q_update=5)),
                           (f"rates 5:1 ({f}/{_fmt(fast / 5)})", rates(fast, fast / 5, base))))
    if name == "staged_warmup_vs_none":
        w = staged_warmup(n_steps)
        return Experiment(name, "Staged warm-up vs none",
                          "The reference's staged warm-up (V_h^e, +X_h, +U_r, +Q_r at beta_r = 0, then a sigmoid "
                          "beta_r ramp) against starting at the nominal beta_r, at equal slow and fast rates.",
                          ((f"no warm-up, equal {s}", rates(slow, slow, base)),
                           (f"staged, equal {s}", rates(slow, slow, base, **w)),
                           (f"no warm-up, equal {f}", rates(fast, fast, base)),
                           (f"staged, equal {f}", rates(fast, fast, base, **w))))
    raise KeyError(f"unknown experiment {name!r}; known: {EXPERIMENT_NAMES}")


EXPERIMENT_NAMES = ("equal_rates", "u_r_fast", "q_r_fast", "frequency_separation_5to1", "staged_warmup_vs_none")
EXPERIMENTS = {name: get_experiment(name) for name in EXPERIMENT_NAMES}
"""The five experiments at :data:`DEFAULT_N_STEPS` (name -> :class:`Experiment`)."""


@dataclass
class ExperimentResult:
    """Runs of one experiment at several beta_r, with their summary.

    Attributes
    ----------
    experiment : Experiment
    betas : tuple of float
    results : dict
        ``(label, beta_r) -> SAResult``.
    exact : dict
        ``beta_r -> Phase2Solution`` the errors were measured against.
    summary : list of dict
        One row per (variant, beta_r), see :func:`summarise`.
    params : EmpoParams
        Parameters (``beta_r`` replaced per run).
    n_steps, seed, tol :
        Run length, seed and the convergence threshold on Q_r.
    world_name : str
    seconds : float
        Wall time of the whole experiment (exact solves included).
    """

    experiment: Experiment
    betas: tuple
    results: dict
    exact: dict
    summary: list
    params: EmpoParams
    n_steps: int
    seed: int
    tol: float
    world_name: str = ""
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.experiment.name

    def result(self, label: str, beta_r: float) -> SAResult:
        return self.results[(label, float(beta_r))]


def first_step_below(trace: dict, threshold: float, quantity: str = "Q_r", key: str = "step"):
    """First recorded ``trace[key]`` from which ``err_sup_<quantity>`` stays ``<= threshold`` (None if never)."""
    err = np.asarray(trace[f"err_sup_{quantity}"], dtype=float)
    ok = np.isfinite(err) & (err <= threshold)
    if not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    i = 0 if bad.size == 0 else int(bad[-1]) + 1
    return int(trace[key][i])


def summarise(results, tol: float | None = None, thresholds=(1e-3,)) -> list:
    """Report rows, one per run.

    Parameters
    ----------
    results : ExperimentResult, list of ExperimentResult, or dict ``(label, beta_r) -> SAResult``
    tol : float, optional
        Convergence threshold (default: the experiment's, or 1e-6 / 1e-2 by mode).
    thresholds : tuple of float
        Error levels for ``steps_to_<thr>`` / ``updates_to_<thr>`` (Q_r sup error
        stays below from then on; None if never).

    Returns
    -------
    list of dict
        Keys: ``experiment, variant, beta_r``, ``label`` (measured on the Q_r sup error by
        :func:`~empo_tabular.sa.labels.label_trace`: converged, converging, oscillating, diverging,
        plateau), ``label_evidence``, ``rate`` (fitted factor per step), ``est_steps_to_tol``
        (converging only), ``period`` (oscillating only, in steps), ``converged``, ``final_<field>``
        (sup error of every field), ``min_Q_r``, ``steps_to_<thr>``, ``updates_to_<thr>``, ``n_steps``,
        ``updates_per_second``.
    """
    if isinstance(results, ExperimentResult):
        return _rows(results.name, results.results, results.tol if tol is None else tol, thresholds)
    if isinstance(results, (list, tuple)):
        return [row for r in results for row in summarise(r, tol, thresholds)]
    return _rows("", dict(results), tol, thresholds)


def _rows(name: str, runs: dict, tol, thresholds) -> list:
    rows = []
    for (label, beta), res in runs.items():
        tr = res.trace
        if "err_sup_Q_r" not in tr:
            raise ValueError("summaries need runs traced against an exact solution (run_sa(..., exact=...))")
        t = default_tol(res.config) if tol is None else tol
        lab = label_trace(tr["err_sup_Q_r"], tr["step"], t)
        row = {"experiment": name, "variant": label, "beta_r": float(beta), "label": lab.label,
               "label_evidence": lab.evidence, "rate": lab.rate, "est_steps_to_tol": lab.steps_to_tol,
               "period": lab.period, "converged": lab.label == "converged"}
        row.update({f"final_{k}": float(tr[f"err_sup_{k}"][-1]) for k in FIELDS})
        row["min_Q_r"] = float(np.nanmin(tr["err_sup_Q_r"]))
        for thr in thresholds:
            row[f"steps_to_{thr:g}"] = first_step_below(tr, thr)
            row[f"updates_to_{thr:g}"] = first_step_below(tr, thr, key="updates")
        row["n_steps"] = res.n_steps
        row["updates_per_second"] = float(res.updates_per_second)
        rows.append(row)
    return rows


def default_tol(config: SAConfig) -> float:
    """Convergence threshold on the Q_r sup error: 1e-6 in expected mode, 1e-2 in sampled mode."""
    return 1e-6 if config.mode == "expected" else 1e-2


def format_summary(rows: list, thresholds=(1e-3,)) -> str:
    """A plain-text (Markdown) table of :func:`summarise` rows."""
    head = ["experiment", "variant", "beta_r", "label", "final err Q_r", "final err pi_r", "final err U_r"]
    head += [f"steps to {thr:g}" for thr in thresholds]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        cells = [r["experiment"], r["variant"], f"{r['beta_r']:g}", _label_cell(r), f"{r['final_Q_r']:.1e}",
                 f"{r['final_pi_r']:.1e}", f"{r['final_U_r']:.1e}"]
        for thr in thresholds:
            v = r.get(f"steps_to_{thr:g}")
            cells.append("never" if v is None else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _label_cell(row: dict) -> str:
    if row["label"] == "converging" and row.get("est_steps_to_tol") is not None:
        return f"converging (~{row['est_steps_to_tol']:.2g} more steps)"
    if row["label"] == "oscillating" and row.get("period"):
        return f"oscillating (period {row['period']} steps)"
    return row["label"]


def _exact_for(world, prior, params, betas, exact) -> dict:
    if exact is None:
        exact = {}
    elif isinstance(exact, Phase2Solution):
        if len(betas) != 1:
            raise ValueError("a single exact Phase2Solution fits only one beta_r; pass a dict beta_r -> solution")
        exact = {float(betas[0]): exact}
    elif not isinstance(exact, dict):
        raise TypeError(f"exact must be None, a Phase2Solution or a dict beta_r -> Phase2Solution, "
                        f"got {type(exact).__name__}")
    out = {}
    for b in betas:
        sol = exact.get(float(b), exact.get(b))
        out[float(b)] = solve_phase2(world, prior, params.replace(beta_r=float(b))) if sol is None else sol
    return out


def run_lr_experiment(name, world: TabularWorld, prior: HumanPrior, params: EmpoParams, exact=None,
                      betas=DEFAULT_BETAS, n_steps: int = DEFAULT_N_STEPS, seed: int = 0, progress: bool = False, *,
                      base: SAConfig | None = None, tol: float | None = None, record_every: int | None = None,
                      cache: dict | None = None, world_name: str = "") -> ExperimentResult:
    """Run one of the note's experiments at every beta_r and summarise it.

    Parameters
    ----------
    name : str or Experiment
        An :data:`EXPERIMENT_NAMES` entry (built by :func:`get_experiment` for
        ``n_steps`` and ``base``) or a ready :class:`Experiment`.
    world, prior, params :
        As for :func:`~empo_tabular.solve_phase2`; ``params.beta_r`` is
        replaced by each of ``betas``.
    exact : None, Phase2Solution or dict beta_r -> Phase2Solution
        Exact solutions to trace against; missing ones are solved.
    betas : tuple of float
    n_steps : int
        SA steps per run (sweeps with the default synchronous visits).
    seed : int
    progress : bool
        Print one line per run.
    base : SAConfig, optional
        Settings shared by the variants (default :data:`BASE_CONFIG`).
    tol : float, optional
        Convergence threshold on the final Q_r sup error (default
        :func:`default_tol`).
    record_every : int, optional
        Trace resolution (default ``n_steps // 200``).
    cache : dict, optional
        Reuse runs across experiments: keyed by ``(config, beta_r, n_steps,
        seed, world checksum)``; variants shared by several experiments run once.
    world_name : str
        For titles.

    Returns
    -------
    ExperimentResult
    """
    import time

    exp = name if isinstance(name, Experiment) else get_experiment(name, n_steps, base=base)
    betas = tuple(check_betas(betas, sort=False))
    t0 = time.perf_counter()
    exacts = _exact_for(world, prior, params, betas, exact)
    runs = {}
    for b in betas:
        pb = params.replace(beta_r=b)
        for label, cfg in exp.variants:
            key = (cfg, b, int(n_steps), int(seed), world.checksum, record_every)
            res = None if cache is None else cache.get(key)
            if res is None:
                res = run_sa(world, prior, pb, cfg, n_steps, exact=exacts[b], seed=seed, record_every=record_every)
                if cache is not None:
                    cache[key] = res
            runs[(label, b)] = res
            if progress:
                e = res.trace["err_sup_Q_r"][-1]
                print(f"  {exp.name:<27} beta_r={b:<5g} {label:<30} err Q_r {e:.1e}  ({res.seconds:.2f} s)",
                      flush=True)
    if tol is None:
        tol = default_tol(exp.variants[0][1])
    out = ExperimentResult(exp, betas, runs, exacts, [], params, int(n_steps), int(seed), float(tol),
                           world_name=world_name or str(world.info.get("name", "")))
    out.summary = summarise(out)
    out.seconds = time.perf_counter() - t0
    return out


def run_all(world, prior, params, betas=DEFAULT_BETAS, n_steps: int = DEFAULT_N_STEPS, seed: int = 0,
            progress: bool = False, *, base: SAConfig | None = None, names=EXPERIMENT_NAMES,
            world_name: str = "") -> dict:
    """Run several experiments sharing exact solutions and repeated variants (name -> ExperimentResult)."""
    cache: dict = {}
    exact = _exact_for(world, prior, params, tuple(float(b) for b in betas), None)
    return {n: run_lr_experiment(n, world, prior, params, exact, betas, n_steps, seed, progress, base=base,
                                 cache=cache, world_name=world_name) for n in names}
