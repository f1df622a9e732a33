"""Two-timescale stochastic approximation on exact tables: :func:`run_sa`.

The update loop lives in one jitted kernel (``_kernels/sa.py``) called in
chunks of ``record_every`` steps; between chunks Python records the trace
(errors against the exact solution, residuals, beta_r, learning rates,
stage), drives the progress bar and writes checkpoints.  Every random draw
comes from a xoshiro256** generator seeded from ``seed`` inside Numba, so the
same arguments give bit-identical results, in one call or resumed from a
checkpoint.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._kernels import sa as _ks
from .._kernels.core import power_law_table
from .._kernels.rng import rng_seed
from .._validation import as_int
from ..core.conventions import FIELDS, apply_terminal_conventions, field_errors
from ..core.params import EmpoParams
from ..core.progress import progress_bar
from ..core.results import SolverResult
from ..exact.phase1 import HumanPrior
from ..exact.system import Phase2Solution, check_phase2_inputs, phase2_residuals
from .config import LR_CLOCKS, MODES, QUANTITIES, VISITS, X_TARGETS, SAConfig
from .schedules import beta_at, epsilon_at, lr_at, lr_decay_start, stage_at
from ..core.world import TabularWorld

TABLES = ("Q", "VE", "X", "Y", "V")
TARGET_OF = {"v_h_e": "VE", "x_h": "X", "u_r": "Y", "q_r": "Q", "v_r": "V"}


SA_TOL = 1e-6
"""An SA run ``converged`` when every final sup-norm error against the exact solution is <= SA_TOL."""


@dataclass
class SAResult(SolverResult):
    """Final tables, throughput and trace of an SA run (status fields: :class:`~empo_tabular.core.results.SolverResult`).

    ``converged`` is measured only when the run was traced against an exact solution: every final
    sup-norm error <= :data:`SA_TOL` (``status`` 0 or 1); without one ``status`` is 2, "not measured".
    ``iterations`` is the number of steps, ``residual`` the last recorded Phase 2 residual.

    Attributes
    ----------
    Q_r, pi_r, V_h_e, X_h, U_r, V_r :
        The online tables at the end (same names, shapes and terminal
        conventions as :class:`Phase2Solution`); directly computed
        quantities are derived from the learned ones.
    trace : dict of arrays
        One entry per record point: ``step``, ``updates``, ``beta_r``,
        ``stage``, ``lr_<quantity>``, ``residual``, and when ``exact`` was
        given ``err_sup_<field>`` and ``err_rms_<field>`` (relative for Q_r,
        X_h, U_r, V_r; absolute for pi_r and V_h^e; over non-terminal states).
    updates_per_second : float
        State-visit updates (all active quantities at one state) per second
        of kernel time.
    """

    Q_r: np.ndarray
    pi_r: np.ndarray
    V_h_e: np.ndarray
    X_h: np.ndarray
    U_r: np.ndarray
    V_r: np.ndarray
    trace: dict
    updates_per_second: float
    n_steps: int
    n_updates: int
    kernel_seconds: float
    seed: int
    config: SAConfig
    state: dict = field(default_factory=dict, repr=False)

    def arrays(self) -> dict:
        return {k: getattr(self, k) for k in FIELDS}

    def trace_csv(self) -> str:
        """The trace as CSV text: a header of the trace keys, then one row per record point.

        Floats are written with ``repr`` (round-trip exact); an infinite or NaN error is
        written as ``inf`` / ``nan``, which CSV readers (``float()``, pandas) parse.
        """
        keys = list(self.trace)
        cols = [np.asarray(self.trace[k]) for k in keys]
        n = len(cols[0]) if cols else 0
        lines = [",".join(keys)]
        for i in range(n):
            lines.append(",".join(repr(c[i].item()) for c in cols))
        return "\n".join(lines) + "\n"

    def final_errors(self) -> dict:
        """Last recorded sup-norm error per field (empty without ``exact``)."""
        return {k: float(self.trace[f"err_sup_{k}"][-1]) for k in FIELDS if f"err_sup_{k}" in self.trace}


def _profile_tools(world: TabularWorld, prior: HumanPrior):
    """Per-human marginals, row-major strides and the flat -> profile lookup."""
    counts = world.human_action_counts
    H, A = world.n_humans, world.n_own_actions
    strides = np.ones(H, dtype=np.int64)
    for h in range(H - 2, -1, -1):
        strides[h] = strides[h + 1] * counts[h + 1]
    flat = world.human_profiles @ strides
    lookup = np.empty(world.n_ah, dtype=np.int64)
    lookup[flat] = np.arange(world.n_ah)
    marg = np.zeros((world.n_states, H, A))
    for h in range(H):
        for a in range(counts[h]):
            marg[:, h, a] = prior.profile[:, world.human_profiles[:, h] == a].sum(axis=1)
    return marg, strides, lookup


def derived_arrays(world, params: EmpoParams, config: SAConfig, beta: float, tables: dict) -> dict:
    """The six Phase 2 arrays implied by the online tables (vectorised)."""
    term = world.terminal
    live = ~term
    Q = tables["Q"]
    PI = np.zeros_like(Q)
    power_law_table(np.where(live[:, None], Q, -1.0), beta, live, PI)
    VE = tables["VE"]
    if config.x_h_use_network:
        X = tables["X"].copy()
    else:
        X = np.einsum("hg,shg->sh", world.goal_weight, VE ** params.zeta)
    if config.u_r_use_network:
        U = -(tables["Y"] ** params.eta)
    else:
        U = -(np.mean(np.maximum(X, config.x_h_floor) ** (-params.xi), axis=1) ** params.eta)
    if config.v_r_use_network:
        V = tables["V"].copy()
    else:
        V = params.c_r * U + np.sum(PI * Q, axis=1)
    return apply_terminal_conventions(term, params.terminal_v_r,
                                      {"Q_r": Q, "pi_r": PI, "V_h_e": VE, "X_h": X, "U_r": U, "V_r": V})


def perturbed_exact_start(world, exact: Phase2Solution, perturbation: float, rng) -> dict:
    """An ``initial`` for :func:`run_sa` near the exact solution: Q_r multiplied by ``exp(p U(-1, 1))`` and V_h^e
    by ``1 + p U(-1, 1)`` (clipped to [0, 1]) at non-terminal states, ``p = perturbation``; X_h, U_r and V_r
    exact. Used to measure the local rate that the linearised prediction describes."""
    live = ~world.terminal
    Q = exact.Q_r.copy()
    Q[live] *= np.exp(perturbation * rng.uniform(-1, 1, Q[live].shape))
    VE = exact.V_h_e.copy()
    VE[live] = np.clip(VE[live] * (1 + perturbation * rng.uniform(-1, 1, VE[live].shape)), 0.0, 1.0)
    return {"Q_r": Q, "V_h_e": VE, "X_h": exact.X_h, "U_r": exact.U_r, "V_r": exact.V_r}


def initial_tables(world, params: EmpoParams, config: SAConfig, initial) -> dict:
    """Online tables at t = 0.

    ``initial=None``: Q_r = -1, V_h^e = 0.5, X_h and y consistent with V_h^e,
    V_r = -1.  A :class:`Phase2Solution` (or dict with its field names) starts
    from those arrays (e.g. the exact solution plus a perturbation).
    """
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    live = ~world.terminal
    if initial is None:
        VE = np.where(live[:, None, None], 0.5, 0.0) * np.ones((S, H, G))
        real = np.arange(G)[None, :] < world.goal_count[:, None]
        VE = np.where(real[None], VE, 0.0)
        Q = np.full((S, n_ar), -1.0)
        V = np.where(live, -1.0, params.terminal_v_r)
    else:
        src = initial.arrays() if isinstance(initial, Phase2Solution) else dict(initial)
        missing = [k for k in ("Q_r", "V_h_e") if k not in src]
        if missing:
            raise ValueError(f"initial must provide {missing}")
        Q = np.where(live[:, None], np.asarray(src["Q_r"], dtype=np.float64), -1.0)
        if Q.shape != (S, n_ar) or np.any(Q >= 0) or not np.all(np.isfinite(Q)):
            raise ValueError(f"initial Q_r must have shape ({S}, {n_ar}) and be finite and < 0 at non-terminal states")
        VE = np.asarray(src["V_h_e"], dtype=np.float64).copy()
        if VE.shape != (S, H, G):
            raise ValueError(f"initial V_h_e must have shape ({S}, {H}, {G}), got {VE.shape}")
        V = np.asarray(src.get("V_r", np.where(live, -1.0, params.terminal_v_r)), dtype=np.float64).copy()
        V[world.terminal] = params.terminal_v_r
    X = np.einsum("hg,shg->sh", world.goal_weight, VE ** params.zeta)
    X = np.where(live[:, None], np.maximum(X, config.x_h_floor), 1.0)
    if initial is not None and "X_h" in src:
        X = np.where(live[:, None], np.asarray(src["X_h"], dtype=np.float64), 1.0)
    Y = np.mean(X ** (-params.xi), axis=1)
    if initial is not None and "U_r" in src:
        Y = np.where(live, (-np.asarray(src["U_r"], dtype=np.float64)) ** (1.0 / params.eta), 1.0)
    return {"Q": np.ascontiguousarray(Q), "VE": np.ascontiguousarray(VE), "X": np.ascontiguousarray(X),
            "Y": np.ascontiguousarray(Y), "V": np.ascontiguousarray(V)}


class _Run:
    """Everything the kernel needs, built once per run (and restorable from a checkpoint)."""

    def __init__(self, world, prior, params, config, n_steps, seed, initial):
        self.world, self.prior, self.params, self.config = world, prior, params, config
        self.n_steps, self.seed = n_steps, seed
        live = np.flatnonzero(~world.terminal).astype(np.int64)
        if live.size == 0:
            raise ValueError("the world has no non-terminal state to update")
        self.live = live
        if world.is_acyclic:
            order = world.topological_order[::-1]
            self.sweep_order = order[~world.terminal[order]].astype(np.int64)
        else:
            self.sweep_order = live[::-1].copy()
        self.marg, self.strides, self.lookup = _profile_tools(world, prior)
        self.pi_h = prior.pi_h if prior.pi_h is not None else np.zeros((1, 1, 1, 1))
        self.Wh = world.goal_weight.sum(axis=1)
        self.boundaries = config.boundaries()
        self.e5 = self.boundaries[-1]
        self.ramp = config.beta_r_rampup_steps
        self.t0_decay = lr_decay_start(self.e5, self.ramp, n_steps, config.lr_constant_fraction)
        self.lr_base = np.array([getattr(config, f"lr_{q}") for q in QUANTITIES])
        self.ip = self._ints()
        self.fp = np.empty(_ks.FP_SIZE)  # the kernel's float parameters, placed by its FP_* indices
        for index, value in ((_ks.FP_GR, params.gamma_r), (_ks.FP_GH, params.gamma_h), (_ks.FP_ZETA, params.zeta),
                             (_ks.FP_XI, params.xi), (_ks.FP_ETA, params.eta), (_ks.FP_CR, params.c_r),
                             (_ks.FP_TV, params.terminal_v_r), (_ks.FP_XFLOOR, config.x_h_floor),
                             (_ks.FP_GRESAMPLE, config.goal_resample_prob), (_ks.FP_TAU, config.target_polyak_tau),
                             (_ks.FP_OMEGA, config.lr_decay_exponent)):
            self.fp[index] = value
        self.tables = initial_tables(world, params, config, initial)
        self.targets = {}
        for q in QUANTITIES:
            name = TARGET_OF[q]
            alias = self.ip[_ks.IP_ALIAS0 + QUANTITIES.index(q)]
            self.targets[name] = self.tables[name] if alias else self.tables[name].copy()
        S, n_ar = world.n_states, world.n_ar
        self.PIt = np.zeros((S, n_ar))
        self.Ut = np.zeros(S)
        self.Vdt = np.full(S, params.terminal_v_r)
        self.visits = np.zeros(S, dtype=np.int64)
        self.assigned = np.zeros(world.n_humans, dtype=np.int64)
        self.ctr = np.zeros(_ks.C_SIZE, dtype=np.int64)
        self.ctr[_ks.C_CUR] = world.initial_state
        self.scratch = _ks.scratch_arrays(S, n_ar, world.n_ah, world.n_humans, world.n_goals,
                                          config.visit == "synchronous")
        self.rng = np.zeros(4, dtype=np.uint64)
        rng_seed(seed, self.rng)
        if config.goal_assignment:
            _ks.resample_goals(world.goal_weight, world.goal_count, self.assigned, self.rng)
        self.refresh_all(float(self.schedule(np.array([0]))["beta"][0]))

    def _ints(self):
        c, w = self.config, self.world
        ip = np.zeros(_ks.IP_SIZE, dtype=np.int64)
        ip[_ks.IP_MODE] = MODES.index(c.mode)
        ip[_ks.IP_VISIT] = VISITS.index(c.visit)
        ip[_ks.IP_XL], ip[_ks.IP_UL], ip[_ks.IP_VL] = c.x_h_use_network, c.u_r_use_network, c.v_r_use_network
        ip[_ks.IP_KSEP] = c.evaluator_updates_per_q_update
        ip[_ks.IP_XTGT] = X_TARGETS.index(c.x_h_target)
        ip[_ks.IP_GASSIGN] = c.goal_assignment
        ip[_ks.IP_EPLEN] = c.steps_per_episode
        ip[_ks.IP_E1:_ks.IP_E5 + 1] = self.boundaries
        ip[_ks.IP_F] = self.e5 + self.ramp
        ip[_ks.IP_LRCLOCK] = LR_CLOCKS.index(c.lr_clock)
        ip[_ks.IP_N0] = c.lr_visits_constant
        ip[_ks.IP_S0] = w.initial_state
        ip[_ks.IP_RAMP_EVERY] = max(1, self.ramp // 256)
        for i, q in enumerate(QUANTITIES):
            interval = getattr(c, f"{q}_target_update_interval")
            ip[_ks.IP_INT0 + i] = interval
            ip[_ks.IP_ALIAS0 + i] = interval == 1 and c.target_polyak_tau == 1.0
        return ip

    def schedule(self, t):
        c, p = self.config, self.params
        lr = np.empty((5, t.size))
        for i, q in enumerate(QUANTITIES):
            omega = c.lr_decay_exponent
            if c.lr_slow_decay_exponent is not None and q in ("q_r", "v_r"):
                omega = c.lr_slow_decay_exponent  # two-timescale decay: the optimizer decays faster
            lr[i] = lr_at(t, getattr(c, f"lr_{q}"), c.lr_schedule, self.t0_decay, omega)
        return {
            "beta": np.ascontiguousarray(beta_at(t, p.beta_r, self.e5, self.ramp, c.beta_r_continuation_mode)),
            "lr": lr,
            "eps_r": epsilon_at(t, c.epsilon_r_start, c.epsilon_r_end, c.epsilon_r_decay_steps),
            "eps_h": epsilon_at(t, c.epsilon_h_start, c.epsilon_h_end, c.epsilon_h_decay_steps),
        }

    def refresh_all(self, beta):
        w = self.world
        xbuf = np.empty(w.n_humans)
        T = self.targets
        for s in self.live:
            _ks.refresh_state(s, beta, self.ip, self.fp, w.goal_weight, w.goal_count, T["Q"], T["VE"], T["X"],
                              T["Y"], T["V"], self.PIt, self.Ut, self.Vdt, xbuf)

    def run_chunk(self, n, block=1 << 15):
        """Advance ``n`` steps; returns ``(schedule of the last block, kernel seconds)``.

        Per-step schedule arrays are built for blocks of at most ``block``
        steps, so memory stays small whatever ``n`` is.
        """
        w, p = self.world, self.prior
        T, O = self.targets, self.tables
        seconds = 0.0
        sch = self.schedule(self.ctr[_ks.C_T] + np.arange(0))
        done = 0
        while True:
            m = min(block, n - done)
            t = self.ctr[_ks.C_T] + np.arange(m)
            sch = self.schedule(t)
            k0 = time.perf_counter()
            _ks.sa_chunk(m, self.ip, self.fp, self.ctr, self.rng, sch["beta"], sch["lr"], self.lr_base,
                         sch["eps_r"], sch["eps_h"], w.terminal, w.trans_ptr, w.trans_succ, w.trans_prob, w.n_ar,
                         w.n_ah, p.profile, p.profile_fixed_goal, w.achieved_by_state, w.goal_weight, w.goal_count,
                         self.Wh, self.marg, self.pi_h, self.strides, self.lookup, w.human_action_counts, self.live,
                         self.sweep_order, self.visits, self.assigned, O["Q"], O["VE"], O["X"], O["Y"], O["V"],
                         T["Q"], T["VE"], T["X"], T["Y"], T["V"], self.PIt, self.Ut, self.Vdt, *self.scratch)
            seconds += time.perf_counter() - k0
            done += m
            if done >= n:
                return sch, seconds

    # ------------------------------------------------------------ checkpoint
    def state_arrays(self) -> dict:
        out = {f"online_{k}": v for k, v in self.tables.items()}
        out.update({f"target_{k}": v for k, v in self.targets.items()})
        out.update(PIt=self.PIt, Ut=self.Ut, Vdt=self.Vdt, visits=self.visits, assigned=self.assigned,
                   ctr=self.ctr, rng=self.rng)
        return out

    def load_state(self, arrays: dict):
        for k in TABLES:
            self.tables[k][...] = arrays[f"online_{k}"]
        for k in TABLES:
            if self.targets[k] is not self.tables[k]:
                self.targets[k][...] = arrays[f"target_{k}"]
        for name in ("PIt", "Ut", "Vdt", "visits", "assigned", "ctr", "rng"):
            getattr(self, name)[...] = arrays[name]


def _record(run: _Run, trace: dict, exact, beta_now: float, sch_last: dict | None):
    w, p, c = run.world, run.params, run.config
    t = int(run.ctr[_ks.C_T])
    arrays = derived_arrays(w, p, c, beta_now, run.tables)
    live = ~w.terminal
    trace.setdefault("step", []).append(t)
    trace.setdefault("updates", []).append(int(run.ctr[_ks.C_UPDATES]))
    trace.setdefault("beta_r", []).append(beta_now)
    trace.setdefault("stage", []).append(int(stage_at(max(t - 1, 0), run.boundaries, run.ramp)))
    lr_now = run.schedule(np.array([max(t - 1, 0)]))["lr"][:, 0] if sch_last is None else sch_last["lr"][:, -1]
    for i, q in enumerate(QUANTITIES):
        trace.setdefault(f"lr_{q}", []).append(float(lr_now[i]))
    with np.errstate(all="ignore"):
        try:
            res = phase2_residuals(w, run.prior, p, arrays["Q_r"], arrays["V_h_e"], arrays["X_h"], arrays["U_r"],
                                   arrays["V_r"], arrays["pi_r"])["max"]
        except ValueError:
            res = math.inf
    trace.setdefault("residual", []).append(res)
    if exact is not None:
        for k in FIELDS:
            d = field_errors(k, arrays[k][live], getattr(exact, k)[live])
            trace.setdefault(f"err_sup_{k}", []).append(float(d.max()))
            trace.setdefault(f"err_rms_{k}", []).append(float(np.sqrt(np.mean(d ** 2))))
    return arrays


def run_sa(world: TabularWorld, prior: HumanPrior, params: EmpoParams, config: SAConfig, n_steps: int,
           exact: Phase2Solution | None = None, seed: int = 0, record_every: int | None = None, *,
           initial=None, progress: bool = False, checkpoint=None, checkpoint_every: int | None = None,
           resume: bool = False) -> SAResult:
    """Run two-timescale SA on exact tables and trace it against the exact solution.

    Each step updates the active quantities at the visited state(s)::

        x(s) <- x(s) + lr_x(t) * (target_x(s) - x(s))

    with the targets of equations (4)-(9) evaluated on the target tables
    (full expectations in ``mode="expected"``, unbiased samples in
    ``mode="sampled"``; see :class:`SAConfig`).  beta_r is 0 during the
    warm-up, then ramps to ``params.beta_r``.

    Parameters
    ----------
    world, prior, params :
        As for :func:`solve_phase2`.
    config : SAConfig
    n_steps : int
        Number of SA steps (the reference's ``num_training_steps``; one step
        updates one state, or all states with ``visit="synchronous"``).
    exact : Phase2Solution, optional
        Exact solution to measure errors against at every record point.
    seed : int
        Seed of the in-kernel generator; same seed, same bits.
    record_every : int, optional
        Steps between trace records (default ``n_steps // 200``, at least 1).
    initial : Phase2Solution or dict, optional
        Start tables (default: Q_r = -1, V_h^e = 0.5, consistent X_h, U_r).
    progress : bool
        Show a progress bar on stderr (:func:`empo_tabular.core.progress.progress_bar`).
    checkpoint : path, optional
        Write the run's full state there every ``checkpoint_every`` steps
        (atomically); with ``resume=True`` continue from it.  A resumed run
        ends bit-identical to an uninterrupted one.

    Returns
    -------
    SAResult
    """
    from .checkpoint import load_checkpoint, save_checkpoint

    check_phase2_inputs(world, prior, params)
    if not isinstance(config, SAConfig):
        raise TypeError(f"config must be a SAConfig, got {type(config).__name__}")
    n_steps = as_int(n_steps, "n_steps")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    seed = as_int(seed, "seed")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed}")
    record_every = max(1, n_steps // 200) if record_every is None else as_int(record_every, "record_every")
    if record_every < 1:
        raise ValueError(f"record_every must be >= 1, got {record_every}")
    if math.isinf(params.beta_r) and config.beta_r_rampup_steps > 0:
        raise ValueError("a beta_r ramp to beta_r = inf is not defined; use a finite beta_r or beta_r_rampup_steps=0")
    if config.goal_assignment and prior.pi_h is None:
        raise ValueError("goal_assignment needs a prior with goal-conditioned policies (pi_h); this prior has none")
    if exact is not None and not isinstance(exact, Phase2Solution):
        raise TypeError(f"exact must be a Phase2Solution, got {type(exact).__name__}")
    run = _Run(world, prior, params, config, n_steps, seed, initial)
    trace: dict = {}
    kernel_seconds = 0.0
    if resume:
        if checkpoint is None:
            raise ValueError("resume=True needs a checkpoint path")
        state, trace, kernel_seconds = load_checkpoint(checkpoint, run)
        run.load_state(state)
    t_start = time.perf_counter()
    if not trace:
        _record(run, trace, exact, float(run.schedule(np.array([0]))["beta"][0]), None)
    run.run_chunk(0)  # compile (or load from cache) outside the timed kernel calls
    last_ckpt = int(run.ctr[_ks.C_T])
    with progress_bar(n_steps, "SA", "step", initial=int(run.ctr[_ks.C_T]), enabled=progress) as bar:
        while run.ctr[_ks.C_T] < n_steps:
            n = int(min(record_every - run.ctr[_ks.C_T] % record_every, n_steps - run.ctr[_ks.C_T]))
            sch, secs = run.run_chunk(n)
            kernel_seconds += secs
            _record(run, trace, exact, float(sch["beta"][-1]), sch)
            if exact is not None:
                bar.set_postfix(err_Q=f"{trace['err_sup_Q_r'][-1]:.2e}", beta=f"{sch['beta'][-1]:.3g}")
            bar.update(n)
            if checkpoint is not None and checkpoint_every and run.ctr[_ks.C_T] - last_ckpt >= checkpoint_every:
                save_checkpoint(checkpoint, run, trace, kernel_seconds)
                last_ckpt = int(run.ctr[_ks.C_T])
    if checkpoint is not None and checkpoint_every:
        save_checkpoint(checkpoint, run, trace, kernel_seconds)
    beta_final = float(run.schedule(np.array([n_steps - 1]))["beta"][0])
    arrays = derived_arrays(world, params, config, beta_final, run.tables)
    n_updates = int(run.ctr[_ks.C_UPDATES])
    result = SAResult(**arrays, trace={k: np.asarray(v) for k, v in trace.items()},
                      updates_per_second=n_updates / kernel_seconds if kernel_seconds > 0 else math.inf,
                      n_steps=n_steps, n_updates=n_updates, seconds=time.perf_counter() - t_start,
                      kernel_seconds=kernel_seconds, seed=seed, config=config, params=params,
                      world_checksum=world.checksum, state=run.state_arrays(), iterations=n_steps,
                      residual=float(trace["residual"][-1]) if trace.get("residual") else math.nan)
    _set_sa_outcome(result)
    return result


def _set_sa_outcome(result: SAResult) -> None:
    errors = result.final_errors()
    if not errors:
        result.set_outcome(False, "no exact solution given: convergence not measured", measured=False)
        return
    worst = max(errors, key=errors.get)
    ok = errors[worst] <= SA_TOL
    result.set_outcome(ok, f"largest final sup-norm error {errors[worst]:.3g} ({worst}) "
                           f"{'<=' if ok else '>'} {SA_TOL:g} after {result.n_steps} steps")
