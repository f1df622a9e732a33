"""The Phase 2 system: the solution type, the residual of every equation, the Newton system and the
analytic Jacobian blocks (equations (4)-(9), EMPO_SEMANTICS §3.2).

Solvers (:mod:`empo_tabular.exact.phase2`, :mod:`~empo_tabular.exact.picard`) and the contraction analyzer
import these by their public names; the kernels they wrap live in ``_kernels/phase2.py`` and
``_kernels/jacobian.py``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .continuation import InvalidIterate, newton
from .linear import NEWTON_LU_FIRST_BELOW, LinearSolver, solve_linear
from .._kernels import jacobian as _kj
from .._kernels import phase2 as _k2
from .._kernels import world as _kw
from ..core.conventions import FIELDS as PHASE2_FIELDS, apply_terminal_conventions, field_errors
from ..core.params import EmpoParams
from ..core.results import SolverResult
from ..core.world import TabularWorld
from .phase1 import HumanPrior, check_gamma_one


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
class Phase2Solution(SolverResult):
    """Exact Phase 2 arrays and how they were obtained (status fields: :class:`~empo_tabular.core.results.SolverResult`).

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
    method : str      ``"backward_sweep"``, ``"anderson_continuation"``, ``"newton_continuation"`` or
        ``"picard_continuation"``.
    residuals : dict  the residual per quantity.
    betas : list      the beta_r values visited by continuation.
    iterations : int  sweeps (backward sweep / Picard) or Newton iterations in total.
    residual : float  sup-norm residual of all equations (see :func:`phase2_residuals`).
    fold_beta : float the beta_r at which continuation found the branch from beta_r = 0 to end (a fold);
        None when the continuation met no fold on its way (or none was run: acyclic worlds).
    branch_check : str what ties the returned point to the branch continued from beta_r = 0: the tests that
        were run and passed (or "" where none applies, e.g. a result that did not converge).
    """

    Q_r: np.ndarray
    pi_r: np.ndarray
    V_h_e: np.ndarray
    X_h: np.ndarray
    U_r: np.ndarray
    V_r: np.ndarray
    terminal: np.ndarray
    numerics: str = "float64"
    method: str = "backward_sweep"
    residuals: dict = field(default_factory=dict)
    betas: list = field(default_factory=list)
    fold_beta: float | None = None
    branch_check: str = ""

    FIELDS = PHASE2_FIELDS

    @classmethod
    def from_iterate(cls, world, params, Q_r, pi_r, V_h_e, X_h, U_r, V_r, **fields) -> "Phase2Solution":
        """A solution from a solver's arrays, with the terminal conventions of
        :mod:`empo_tabular.core.conventions` applied (copies; V_h^e clipped to [0, 1])."""
        arrays = apply_terminal_conventions(world.terminal, params.terminal_v_r, {
            "Q_r": Q_r, "pi_r": pi_r, "V_h_e": np.clip(V_h_e, 0.0, 1.0), "X_h": X_h, "U_r": U_r, "V_r": V_r})
        return cls(**arrays, terminal=world.terminal.copy(), params=params, **fields)

    def arrays(self) -> dict:
        """The six solution arrays by name."""
        return {k: getattr(self, k) for k in self.FIELDS}


def world_args(world: TabularWorld, prior: HumanPrior):
    return (world.terminal, world.trans_ptr, world.trans_succ, world.trans_prob, world.n_ar, world.n_ah,
            prior.profile, prior.profile_fixed_goal, world.achieved_by_state, world.goal_weight, world.goal_count)


def param_args(p: EmpoParams, beta_r=None):
    return (p.beta_r if beta_r is None else beta_r, p.gamma_r, p.gamma_h, p.zeta, p.xi, p.eta, p.c_r)


def raise_status(err, H):
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
    _k2.jacobi_map(*world_args(world, prior), *param_args(params), params.terminal_v_r,
                   np.ascontiguousarray(Q), np.ascontiguousarray(V_h_e, dtype=np.float64), np.ascontiguousarray(X),
                   np.ascontiguousarray(U), np.ascontiguousarray(V_r, dtype=np.float64),
                   Q2, PI2, VE2, X2, U2, V2, err)
    live = ~world.terminal
    if not live.any():
        return {k: 0.0 for k in ("Q_r", "pi_r", "V_h_e", "X_h", "U_r", "V_r", "max")}

    def err(name, new, old):
        return float(field_errors(name, new, old).max())

    out = {
        "Q_r": err("Q_r", Q2[live], Q[live]),
        "V_h_e": err("V_h_e", VE2[live], np.asarray(V_h_e)[live]),
        "X_h": err("X_h", X2[live], X[live]),
        "U_r": err("U_r", U2[live], U[live]),
        "V_r": err("V_r", V2[live], np.asarray(V_r)[live]),
    }
    if pi_r is not None:
        out["pi_r"] = err("pi_r", PI2[live], np.asarray(pi_r)[live])
    out["max"] = max(out.values())
    return out


def check_phase2_inputs(world, prior, params) -> None:
    """``TypeError`` unless the three are a TabularWorld, a HumanPrior and EmpoParams; the prior must fit the world.

    ``ValueError`` for ``gamma_r = 1`` or ``gamma_h = 1`` (used by V_h^e) on a cyclic world
    (see :func:`~empo_tabular.exact.phase1.check_gamma_one`).
    """
    for obj, cls, name in ((world, TabularWorld, "world"), (prior, HumanPrior, "prior"), (params, EmpoParams, "params")):
        if not isinstance(obj, cls):
            raise TypeError(f"{name} must be a{'n' if cls is EmpoParams else ''} {cls.__name__}, got {type(obj).__name__}")
    prior.check_world(world)
    check_gamma_one(world, params, ("gamma_r", "gamma_h"))



class NewtonSystem:
    """Residual and Newton matrix of the Phase 2 fixed point on ``z = (Q_r, V_h^e, V_r)``."""

    def __init__(self, world, prior, params):
        self.world, self.prior, self.params = world, prior, params
        S, n_ar, H, G = world.n_states, world.n_ar, world.n_humans, world.n_goals
        self.S, self.n_ar, self.H, self.G = S, n_ar, H, G
        self.nQ, self.nE = S * n_ar, S * H * G
        self.n = self.nQ + self.nE + S
        self.live = ~world.terminal
        self.wargs = world_args(world, prior)
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
        Q = np.full((self.S, self.n_ar), -1.0)
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
        _k2.jacobi_map(*self.wargs, *param_args(p, 0.0), p.terminal_v_r, Q.copy(), VE0, np.ones((S, H)),
                       np.full(S, -1.0), V.copy(), Q2, PI2, c_E, X2, U2, V2, err)
        EE = self.blocks(z, 0.0)["EE"]
        # a start, which Newton corrects: Krylov first above NEWTON_LU_FIRST_BELOW unknowns, as in Newton's steps
        ve, _ = solve_linear(sp.identity(self.nE, format="csr") - EE, c_E.ravel(),
                             lu_first_below=NEWTON_LU_FIRST_BELOW)
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
                raise_status(err, H)
            raise InvalidIterate("X_h = 0")
        Q2, PI2, VE2 = np.empty((S, n_ar)), np.empty((S, n_ar)), np.empty((S, H, G))
        X2, U2, V2 = np.empty((S, H)), np.empty(S), np.empty(S)
        Qin = np.where(self.live[:, None], Q, -1.0)
        _k2.jacobi_map(*self.wargs, *param_args(p, beta), p.terminal_v_r, Qin, VE, np.where(self.live[:, None], X, 1.0),
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
    _kj.phase2_jacobian(*world_args(world, prior), *param_args(params, beta), Q, VE, X, max_succ,
                        *bufs[0], *bufs[1], *bufs[2], *bufs[3], *bufs[4], *bufs[5], vu, counts)
    nQ, nE, nX = S * n_ar, S * H * G, S * H
    shapes = {"QV": (nQ, S), "EE": (nE, nE), "EQ": (nE, nQ), "XE": (nX, nE), "UX": (S, nX), "VQ": (S, nQ)}
    out = {}
    for (name, shape), (r, c, v), m in zip(shapes.items(), bufs, counts):
        out[name] = sp.csr_matrix((v[:m], (r[:m], c[:m])), shape=shape)
    out["VU"] = sp.diags(vu, format="csr")
    return out


def newton_at_beta(system: "NewtonSystem", tol: float, polish_at=None):
    """``solve_at(beta, z0)``: Newton on the Phase 2 equations at one beta_r (for :func:`continuation`).

    One :class:`LinearSolver` is shared by every call, so it remembers which
    linear method works for this world (LU first up to
    ``NEWTON_LU_FIRST_BELOW`` unknowns); it is ``solve_at.linear``.  The final
    Newton polish step is taken at ``beta == polish_at`` (every beta when
    ``polish_at`` is None).
    """
    linear = LinearSolver(lu_first_below=NEWTON_LU_FIRST_BELOW)

    def solve_at(beta, z0):
        def residual(z):
            r, norm, _ = system.evaluate(z, beta, raise_xzero=(beta == 0.0))
            return r, norm

        return newton(residual, lambda z: system.newton_matrix(z, beta), z0, tol=tol,
                      polish=polish_at is None or beta == polish_at, monotone=math.isfinite(beta), linear=linear)

    solve_at.linear = linear
    return solve_at
