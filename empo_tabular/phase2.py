"""Phase 2: the robot policy and the power metric (equations (4)-(9), EMPO_SEMANTICS §3.2)."""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._continuation import ConvergenceError, InvalidIterate, LinearSolver, continuation, newton, solve_linear
from ._kernels import jacobian as _kj
from ._kernels import phase2 as _k2
from ._kernels import world as _kw
from ._parallel import n_chunks, use_parallel
from ._validation import check_scalar_range
from .params import EmpoParams
from .phase1 import HumanPrior, check_numerics
from .world import TabularWorld

METHODS = ("auto", "backward_sweep", "newton", "picard")
NEWTON_MAX_UNKNOWNS = 2_000_000


class XhZeroError(ValueError):
    """``X_h(s) = 0``: human ``h`` can reach none of its weighted goals from ``s``."""

    def __init__(self, state, human):
        super().__init__(
            f"X_h = 0 at state {state} for human {human}: no goal of this human with positive weight is "
            f"reachable from this state, so U_r = -inf (EMPO requires every human to keep some power)"
        )
        self.state = state
        self.human = human


@dataclass
class Phase2Solution:
    """Exact Phase 2 arrays and how they were obtained.

    Attributes
    ----------
    Q_r : (S, n_ar)   robot Q-values (< 0); NaN at terminal states.
    pi_r : (S, n_ar)  power-law robot policy; zero rows at terminal states.
    V_h_e : (S, H, G) goal-achievement ability; 0 at terminal states and for
        padding goals.  In ``reference_fp16`` numerics: the values as stored
        (rounded to half precision).
    X_h : (S, H)      aggregate power ``sum_g w V_h^e^zeta``; NaN at terminal states.
    U_r : (S,)        intrinsic reward; NaN at terminal states (never evaluated there).
    V_r : (S,)        robot value; ``terminal_v_r`` at terminal states.
    terminal : (S,)   the world's terminal mask.
    method : str      ``"backward_sweep"``, ``"newton_continuation"`` or ``"picard_continuation"``.
    iterations : int  sweeps (backward sweep / Picard) or Newton iterations in total.
    residual : float  sup-norm residual of all equations (see :func:`phase2_residuals`).
    residuals : dict  the residual per quantity.
    converged : bool
    betas : list      the beta_r values visited by continuation.
    """

    Q_r: np.ndarray
    pi_r: np.ndarray
    V_h_e: np.ndarray
    X_h: np.ndarray
    U_r: np.ndarray
    V_r: np.ndarray
    terminal: np.ndarray
    params: EmpoParams
    numerics: str = "float64"
    method: str = "backward_sweep"
    iterations: int = 1
    residual: float = 0.0
    residuals: dict = field(default_factory=dict)
    converged: bool = True
    betas: list = field(default_factory=list)
    seconds: float = 0.0
    world_checksum: str = ""

    FIELDS = ("Q_r", "pi_r", "V_h_e", "X_h", "U_r", "V_r")

    def arrays(self) -> dict:
        """The six solution arrays by name."""
        return {k: getattr(self, k) for k in self.FIELDS}


def _world_args(world: TabularWorld, prior: HumanPrior):
    return (world.terminal, world.trans_ptr, world.trans_succ, world.trans_prob, world.n_ar, world.n_ah,
            prior.profile, prior.profile_fixed_goal, world.achieved_by_state, world.goal_weight, world.goal_count)


def _param_args(p: EmpoParams, beta_r=None):
    return (p.beta_r if beta_r is None else beta_r, p.gamma_r, p.gamma_h, p.zeta, p.xi, p.eta, p.c_r)


def _raise_status(err, H):
    if err[0] == _k2.ST_X_ZERO:
        raise XhZeroError(int(err[1] // H), int(err[1] % H))


def phase2_residuals(world: TabularWorld, prior: HumanPrior, params: EmpoParams, Q_r, V_h_e, X_h, U_r, V_r,
                     pi_r=None) -> dict:
    """Sup-norm residual of every Phase 2 equation at the given arrays.

    Each equation is evaluated once at the given arrays (the Jacobi map) and
    compared with the arrays themselves, over non-terminal states:
    relative for ``Q_r``, ``X_h``, ``U_r``, ``V_r`` (``|new - old| / |old|``),
    absolute for ``V_h_e`` and ``pi_r`` (``pi_r`` only if given).
    Returns a dict with one entry per quantity and ``"max"``.
    """
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    Q2, PI2, VE2 = np.empty((S, n_ar)), np.empty((S, n_ar)), np.empty((S, H, G))
    X2, U2, V2 = np.empty((S, H)), np.empty(S), np.empty(S)
    err = np.zeros(2, dtype=np.int64)
    Q = np.where(world.terminal[:, None], -1.0, np.asarray(Q_r, dtype=np.float64))
    X = np.where(world.terminal[:, None], 1.0, np.asarray(X_h, dtype=np.float64))
    U = np.where(world.terminal, -1.0, np.asarray(U_r, dtype=np.float64))
    _k2.jacobi_map(*_world_args(world, prior), *_param_args(params), params.terminal_v_r,
                   np.ascontiguousarray(Q), np.ascontiguousarray(V_h_e, dtype=np.float64), np.ascontiguousarray(X),
                   np.ascontiguousarray(U), np.ascontiguousarray(V_r, dtype=np.float64),
                   Q2, PI2, VE2, X2, U2, V2, err)
    live = ~world.terminal
    if not live.any():
        return {k: 0.0 for k in ("Q_r", "pi_r", "V_h_e", "X_h", "U_r", "V_r", "max")}

    def rel(new, old):
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.abs(new - old) / np.abs(old)
        d = np.where(np.isfinite(d), d, np.inf)
        return float(d.max())

    out = {
        "Q_r": rel(Q2[live], Q[live]),
        "V_h_e": float(np.abs(VE2[live] - np.asarray(V_h_e)[live]).max()),
        "X_h": rel(X2[live], X[live]),
        "U_r": rel(U2[live], U[live]),
        "V_r": rel(V2[live], np.asarray(V_r)[live]),
    }
    if pi_r is not None:
        out["pi_r"] = float(np.abs(PI2[live] - np.asarray(pi_r)[live]).max())
    out["max"] = max(out.values())
    return out


def check_phase2_inputs(world, prior, params) -> None:
    """``TypeError`` unless the three are a TabularWorld, a HumanPrior and EmpoParams; the prior must fit the world."""
    for obj, cls, name in ((world, TabularWorld, "world"), (prior, HumanPrior, "prior"), (params, EmpoParams, "params")):
        if not isinstance(obj, cls):
            raise TypeError(f"{name} must be a{'n' if cls is EmpoParams else ''} {cls.__name__}, got {type(obj).__name__}")
    prior.check_world(world)


def solve_phase2(world: TabularWorld, prior: HumanPrior, params: EmpoParams, numerics: str = "float64", *,
                 method: str = "auto", tol: float = 1e-11, strict: bool = True, max_sweeps: int = 200_000,
                 progress: bool = False, parallel="auto") -> Phase2Solution:
    """Solve equations (4)-(9) exactly.

    For every non-terminal state ``s``::

        Q_r(s,a)    = gamma_r sum_k P(k|s) sum_s' T(s'|s,a,k) V_r(s')
        pi_r(a|s)   ∝ (-Q_r(s,a))^(-beta_r)                      (log space)
        V_h^e(s,h,g)= sum_a pi_r(a|s) sum_k P_hg(k|s) sum_s' T(s'|s,a,k)
                        [1_g(s') + (1 - 1_g(s')) gamma_h V_h^e(s',h,g)]
        X_h(s)      = sum_g w_hg V_h^e(s,h,g)^zeta
        U_r(s)      = -((1/H) sum_h X_h(s)^(-xi))^eta
        V_r(s)      = c_r U_r(s) + sum_a pi_r(a|s) Q_r(s,a)

    Terminal states: ``V_r = terminal_v_r``, ``V_h^e = 0``; ``Q_r``, ``X_h``,
    ``U_r`` are NaN and ``pi_r`` is a zero row there (undefined).

    Parameters
    ----------
    world, prior, params :
        The world, the human prior (:func:`solve_phase1` or
        :meth:`HumanPrior.from_profiles`) and the parameters.
    numerics : {"float64", "reference_fp16"}
        ``"reference_fp16"`` (acyclic worlds) stores V_h^e in half precision
        for successor look-ups, as the public reference does; X_h uses the
        unrounded current value.
    method : {"auto", "backward_sweep", "newton", "picard"}
        ``auto``: backward sweep on acyclic worlds, Newton continuation on
        cyclic worlds with at most 2e6 unknowns, Picard continuation above.
        Forcing ``newton`` or ``picard`` on an acyclic world solves it as a
        fixed point (useful for cross-checks).
    tol : float
        Fixed-point solvers stop when the sup-norm residual of all equations
        is ``<= tol``: relative for Q_r and V_r, absolute for V_h^e (X_h and
        U_r are functions of V_h^e and are then exact up to rounding).
    strict : bool
        On non-convergence raise :class:`ConvergenceError` (True) or return
        the last iterate with ``converged=False`` and a ``RuntimeWarning``.
    max_sweeps : int
        Picard only: sweep budget over the whole continuation.
    progress : bool
        Picard only: show a tqdm progress bar.
    parallel : {"auto", True, False}
        Backward sweep: process the states of one height on all Numba
        threads ("auto": from 1000 states on).  Bit-identical results.

    Returns
    -------
    Phase2Solution

    Notes
    -----
    Cyclic worlds: the branch of fixed points is followed from
    ``beta_r = 0``, where the coupled map is affine in (Q_r, V_r) and the
    fixed point is unique, to ``params.beta_r``.  Newton solves
    ``(I - J) d = G(z) - z`` on ``z = (Q_r, V_h^e, V_r)`` with the analytic
    sparse Jacobian (X_h and U_r eliminated) and an LU factorisation, i.e.
    exact policy-evaluation solves inside every step; Picard uses damped
    in-place sweeps.  ``beta_r = inf`` follows the branch to 1e3 and then
    runs Newton at ``beta_r = inf`` (policy iteration on the greedy map).
    """
    check_phase2_inputs(world, prior, params)
    fp16 = check_numerics(numerics)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    check_scalar_range(float(tol), "tol", low=0.0, low_open=True)
    n_unknowns = world.n_states * (world.n_ar + world.n_humans * world.n_goals + 1)
    if method == "auto":
        if world.is_acyclic:
            method = "backward_sweep"
        else:
            method = "newton" if n_unknowns <= NEWTON_MAX_UNKNOWNS else "picard"
    if method == "backward_sweep" and not world.is_acyclic:
        raise ValueError("method='backward_sweep' needs an acyclic world; this world has a cycle")
    if fp16 and method != "backward_sweep":
        raise ValueError("numerics='reference_fp16' emulates the reference's backward induction; "
                         "it needs an acyclic world and method='backward_sweep' (or 'auto')")
    t0 = time.perf_counter()
    if method == "backward_sweep":
        sol = _backward_sweep(world, prior, params, fp16, parallel)
    elif method == "newton":
        sol = _solve_newton(world, prior, params, tol)
    else:
        from ._picard import solve_picard

        sol = solve_picard(world, prior, params, tol, max_sweeps, progress)
    sol.numerics = numerics
    sol.seconds = time.perf_counter() - t0
    sol.world_checksum = world.checksum
    if sol.method != "backward_sweep":
        sol.residuals = phase2_residuals(world, prior, params, sol.Q_r, sol.V_h_e, sol.X_h, sol.U_r, sol.V_r,
                                         sol.pi_r)
        sol.residual = sol.residuals["max"]
        sol.converged = sol.converged and sol.residual <= tol * 10
        if not sol.converged:
            msg = (f"Phase 2 {sol.method} did not converge: residual {sol.residual:.3g} (tol {tol:g}) after "
                   f"{sol.iterations} iterations; beta_r reached {sol.betas[-1] if sol.betas else 0.0:g} of "
                   f"{params.beta_r:g}. {getattr(sol, '_message', '')}")
            if strict:
                raise ConvergenceError(msg, partial=sol)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return sol


def _empty_arrays(world):
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    return (np.zeros((S, n_ar)), np.zeros((S, n_ar)), np.zeros((S, H, G)), np.zeros((S, H)), np.zeros(S),
            np.zeros(S))


def _backward_sweep(world, prior, params, fp16, parallel):
    Q, PI, VE, X, U, V = _empty_arrays(world)
    err = np.zeros(2, dtype=np.int64)
    if use_parallel(world.n_states, parallel):
        level_ptr, level_states = world.levels
        _k2.backward_levels(level_ptr, level_states, n_chunks(), *_world_args(world, prior), *_param_args(params),
                            params.terminal_v_r, fp16, Q, PI, VE, X, U, V, err)
    else:
        order = world.topological_order[::-1].copy()
        _k2.gauss_seidel_sweep(order, *_world_args(world, prior), *_param_args(params), params.terminal_v_r, fp16,
                               1.0, Q, PI, VE, X, U, V, err)
    _raise_status(err, world.n_humans)
    return Phase2Solution(Q, PI, VE, X, U, V, world.terminal.copy(), params, betas=[params.beta_r])


class _NewtonSystem:
    """Residual and Newton matrix of the Phase 2 fixed point on ``z = (Q_r, V_h^e, V_r)``."""

    def __init__(self, world, prior, params):
        self.world, self.prior, self.params = world, prior, params
        S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
        self.S, self.n_ar, self.H, self.G = S, n_ar, H, G
        self.nQ, self.nE = S * n_ar, S * H * G
        self.n = self.nQ + self.nE + S
        self.live = ~world.terminal
        self.wargs = _world_args(world, prior)
        max_succ, total = _kw.distinct_successor_counts(world.trans_ptr, world.trans_succ, S, n_ar * world.n_ah)
        self.max_succ = max(1, int(max_succ))
        self.caps = (S * n_ar * self.max_succ, max(1, int(total)) * H * G, S * H * G * n_ar, S * H * G, S * H,
                     S * n_ar)
        self.eye = sp.identity(self.n, format="csr")

    def split(self, z):
        S, n_ar, H, G = self.S, self.n_ar, self.H, self.G
        return (z[:self.nQ].reshape(S, n_ar), z[self.nQ:self.nQ + self.nE].reshape(S, H, G),
                z[self.nQ + self.nE:])

    def start(self):
        Q = np.where(self.live[:, None], -1.0, -1.0) * np.ones((self.S, self.n_ar))
        VE = np.full((self.S, self.H, self.G), 0.5)
        VE[self.world.terminal] = 0.0
        V = np.where(self.live, -1.0, self.params.terminal_v_r)
        return np.concatenate([Q.ravel(), VE.ravel(), V])

    def beta0_start(self):
        """A start whose V_h^e is the exact beta = 0 value (one linear solve).

        At beta = 0 the robot policy is uniform, V_h^e solves the linear
        system ``(I - A_EE) VE = c_E`` and, given V_h^e, the rest is linear
        in (Q_r, V_r), so Newton then finishes in one step.
        """
        z = self.start()
        Q, VE, V = self.split(z)
        VE0 = np.zeros_like(VE)
        S, n_ar, H, G = self.S, self.n_ar, self.H, self.G
        Q2, PI2, c_E = np.empty((S, n_ar)), np.empty((S, n_ar)), np.empty((S, H, G))
        X2, U2, V2 = np.empty((S, H)), np.empty(S), np.empty(S)
        err = np.zeros(2, dtype=np.int64)
        p = self.params
        _k2.jacobi_map(*self.wargs, *_param_args(p, 0.0), p.terminal_v_r, Q.copy(), VE0, np.ones((S, H)),
                       np.full(S, -1.0), V.copy(), Q2, PI2, c_E, X2, U2, V2, err)
        EE = self.blocks(z, 0.0)["EE"]
        ve, _ = solve_linear(sp.identity(self.nE, format="csr") - EE, c_E.ravel())
        out = z.copy()
        out[self.nQ:self.nQ + self.nE] = np.clip(ve, 0.0, 1.0)
        return out

    def project(self, z):
        Q, VE, V = self.split(z)
        if np.any(Q[self.live] >= 0.0) or np.any(V >= 0.0):
            return None
        out = z.copy()
        np.clip(out[self.nQ:self.nQ + self.nE], 0.0, 1.0, out=out[self.nQ:self.nQ + self.nE])
        return out

    def evaluate(self, z, beta, raise_xzero=False):
        """Return ``(G(z) - z, scaled norm, (Q2, PI2, VE2, X, U, V2))``."""
        p = self.params
        Q, VE, V = self.split(z)
        if not np.all(np.isfinite(z)) or np.any(Q[self.live] >= 0.0) or np.any(V >= 0.0):
            raise InvalidIterate("Q_r or V_r not strictly negative")
        VE = np.clip(VE, 0.0, 1.0)
        S, n_ar, H, G = self.S, self.n_ar, self.H, self.G
        X, U = np.empty((S, H)), np.empty(S)
        err = np.zeros(2, dtype=np.int64)
        _k2.xu_from_ve(self.world.terminal, VE, self.world.goal_weight, self.world.goal_count, p.zeta, p.xi, p.eta,
                       X, U, err)
        if err[0]:
            if raise_xzero:
                _raise_status(err, H)
            raise InvalidIterate("X_h = 0")
        Q2, PI2, VE2 = np.empty((S, n_ar)), np.empty((S, n_ar)), np.empty((S, H, G))
        X2, U2, V2 = np.empty((S, H)), np.empty(S), np.empty(S)
        Qin = np.where(self.live[:, None], Q, -1.0)
        _k2.jacobi_map(*self.wargs, *_param_args(p, beta), p.terminal_v_r, Qin, VE, np.where(self.live[:, None], X, 1.0),
                       np.where(self.live, U, -1.0), np.ascontiguousarray(V), Q2, PI2, VE2, X2, U2, V2, err)
        Q2[~self.live] = Qin[~self.live]
        r = np.concatenate([(Q2 - Qin).ravel(), (VE2 - VE).ravel(), V2 - V])
        rq, re, rv = self.split(r)
        norm = max(float(np.max(np.abs(rq[self.live]) / np.abs(Qin[self.live]), initial=0.0)),
                   float(np.max(np.abs(re), initial=0.0)),
                   float(np.max(np.abs(rv) / np.abs(V), initial=0.0)))
        return r, norm, (Q2, PI2, VE2, X, U, V2)

    def blocks(self, z, beta):
        """Sparse COO blocks of the Jacobi-map Jacobian at ``z`` (X_h, U_r from V_h^e)."""
        p = self.params
        Q, VE, V = self.split(z)
        VE = np.clip(VE, 0.0, 1.0)
        S, H = self.S, self.H
        X, U = np.empty((S, H)), np.empty(S)
        err = np.zeros(2, dtype=np.int64)
        _k2.xu_from_ve(self.world.terminal, VE, self.world.goal_weight, self.world.goal_count, p.zeta, p.xi, p.eta,
                       X, U, err)
        return jacobian_blocks(self.world, self.prior, p, beta, np.where(self.live[:, None], Q, -1.0), VE,
                               np.where(self.live[:, None], X, 1.0), self.max_succ, self.caps)

    def newton_matrix(self, z, beta):
        b = self.blocks(z, beta)
        VE_from_X = b["VU"] @ b["UX"] @ b["XE"]
        A = sp.bmat([[None, None, b["QV"]], [b["EQ"], b["EE"], None], [b["VQ"], VE_from_X, None]], format="csr")
        return self.eye - A


def jacobian_blocks(world, prior, params, beta, Q, VE, X, max_succ, caps) -> dict:
    """The seven sparse blocks of the Jacobi-map Jacobian (see ``_kernels/jacobian.py``).

    Keys: ``QV`` (dQ'/dV), ``EE`` (dVE'/dVE), ``EQ`` (dVE'/dQ), ``XE`` (dX'/dVE),
    ``UX`` (dU'/dX), ``VQ`` (dV'/dQ), ``VU`` (dV'/dU, diagonal).
    """
    S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
    bufs = [(np.empty(c, dtype=np.int64), np.empty(c, dtype=np.int64), np.empty(c)) for c in caps]
    vu = np.empty(S)
    counts = np.zeros(6, dtype=np.int64)
    _kj.phase2_jacobian(*_world_args(world, prior), *_param_args(params, beta), Q, VE, X, max_succ,
                        *bufs[0], *bufs[1], *bufs[2], *bufs[3], *bufs[4], *bufs[5], vu, counts)
    nQ, nE, nX = S * n_ar, S * H * G, S * H
    shapes = {"QV": (nQ, S), "EE": (nE, nE), "EQ": (nE, nQ), "XE": (nX, nE), "UX": (S, nX), "VQ": (S, nQ)}
    out = {}
    for (name, shape), (r, c, v), m in zip(shapes.items(), bufs, counts):
        out[name] = sp.csr_matrix((v[:m], (r[:m], c[:m])), shape=shape)
    out["VU"] = sp.diags(vu, format="csr")
    return out


def newton_at_beta(system: "_NewtonSystem", tol: float, polish_at=None):
    """``solve_at(beta, z0)``: Newton on the Phase 2 equations at one beta_r (for :func:`continuation`).

    One :class:`LinearSolver` is shared by every call, so it remembers which
    linear method works for this world.  The final Newton polish step is
    taken at ``beta == polish_at`` (every beta when ``polish_at`` is None).
    """
    linear = LinearSolver()

    def solve_at(beta, z0):
        def residual(z):
            r, norm, _ = system.evaluate(z, beta, raise_xzero=(beta == 0.0))
            return r, norm

        return newton(residual, lambda z: system.newton_matrix(z, beta), z0, tol=tol,
                      polish=polish_at is None or beta == polish_at, monotone=math.isfinite(beta), linear=linear)

    return solve_at


def _solve_newton(world, prior, params, tol):
    system = _NewtonSystem(world, prior, params)
    solve_at = newton_at_beta(system, tol, polish_at=params.beta_r)
    out = continuation(solve_at, system.beta0_start(), params.beta_r, project=system.project)
    Q, VE, V = system.split(out.z)
    _, _, (Q2, PI2, VE2, X, U, V2) = system.evaluate(out.z, out.beta if out.converged else out.beta)
    Q = np.where(world.terminal[:, None], np.nan, Q)
    PI = np.zeros_like(Q)
    live = ~world.terminal
    from ._kernels.core import power_law_table

    power_law_table(np.where(live[:, None], Q, -1.0), out.beta, live, PI)
    VE = np.clip(VE, 0.0, 1.0).copy()
    VE[world.terminal] = 0.0
    V = V.copy()
    V[world.terminal] = params.terminal_v_r
    sol = Phase2Solution(Q, PI, VE, X, U, V, world.terminal.copy(), params, method="newton_continuation",
                         iterations=out.newton_iterations, residual=out.residual, converged=out.converged,
                         betas=out.betas)
    sol._message = out.message
    if not out.converged:
        sol.params = params
    return sol
