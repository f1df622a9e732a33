"""Score what a trainer learned against the exact Phase 2 solution: :func:`score` and :class:`ScoreResult`.

Per quantity (``Q_r``, ``pi_r``, ``V_h_e``, ``X_h``, ``U_r``, ``V_r``) the entry-wise error is relative
(``|learned - exact| / |exact|``) for ``Q_r``, ``X_h``, ``U_r``, ``V_r`` and absolute for ``pi_r`` and
``V_h_e``, over non-terminal states only (``Q_r``, ``X_h``, ``U_r`` are NaN at terminal states and nothing is
learned there).  The error of a state is the largest error of its entries; ``sup``, ``mean`` and ``weighted``
are the maximum, the plain mean and the mean under the discounted state-visitation distribution of the
per-state errors.  For ``pi_r`` also the total variation and ``KL(exact || learned)`` per state.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._validation import as_array
from ..core.conventions import FIELDS, RELATIVE, field_errors
from ..core.results import SolverResult
from ..core.world import TabularWorld
from .linear import solve_linear
from .phase1 import HumanPrior, solve_phase1
from .system import Phase2Solution

METRICS = ("sup", "mean", "weighted")
PI_METRICS = ("tv", "tv_weighted", "kl", "kl_weighted")


@dataclass
class ScoreResult(SolverResult):
    """Errors of learned tables against the exact solution (status fields: :class:`~empo_tabular.core.results.SolverResult`).

    Attributes
    ----------
    errors : dict
        ``errors[quantity][metric]``: metrics ``sup``, ``mean``, ``weighted`` (None when no visitation
        weights were available); for ``pi_r`` also ``tv``, ``tv_weighted``, ``kl``, ``kl_weighted``
        (``tv``/``kl``: the largest per-state value).
    table : list of dict
        One row per scored quantity: ``quantity``, ``error`` ("relative"/"absolute"), the metrics, and the
        worst state with its error and (gridworlds) where the agents are.
    per_state : dict
        ``per_state[quantity]``: (S,) error of every state (NaN at terminal states).
    worst : dict
        ``worst[quantity]``: up to ``n_worst`` dicts ``{"state", "error", "where"}``, worst first.
    v_r_gap : float or None
        ``learned V_r(s0) - exact V_r(s0)`` (None unless ``V_r`` and ``world`` were given).
    weights : (S,) array or None
        The visitation weights used for ``weighted`` (sum 1 over non-terminal states).
    weights_source : str
        ``"given"``, ``"discounted visitation from s0 (gamma=...)"`` or ``"none"``.
    report : str
        A short text report (the table, the V_r(s0) gap and the worst states).
    """

    errors: dict = field(default_factory=dict)
    table: list = field(default_factory=list)
    per_state: dict = field(default_factory=dict)
    worst: dict = field(default_factory=dict)
    v_r_gap: float | None = None
    weights: np.ndarray | None = None
    weights_source: str = "none"
    report: str = ""

    def to_dict(self) -> dict:
        """Errors, table, gap and worst states as plain Python; write it with
        :func:`empo_tabular.core.storage.dumps_strict` (non-finite values become ``null`` plus a note)."""
        return {"errors": self.errors, "table": self.table, "v_r_gap": self.v_r_gap, "worst": self.worst,
                "weights_source": self.weights_source, "message": self.message, "status": self.status,
                "world_checksum": self.world_checksum}


def _shape_of(name, S, n_ar, H, G):
    return {"Q_r": (S, n_ar), "pi_r": (S, n_ar), "V_h_e": (S, H, G), "X_h": (S, H), "U_r": (S,), "V_r": (S,)}[name]


def _learned_array(name, value, shape, live):
    """The learned table of ``name`` as a float array of ``shape`` (callables get all state indices)."""
    if callable(value):
        try:
            value = value(np.arange(shape[0], dtype=np.int64))
        except Exception as exc:  # noqa: BLE001 - the user's callable failed; say which
            raise ValueError(f"learned[{name!r}] (a callable) failed on the state indices: {exc}") from None
    arr = as_array(value, f"learned[{name!r}]", kind="float")
    if arr.shape != shape:
        raise ValueError(f"learned[{name!r}] has shape {arr.shape}, expected {shape}")
    sub = arr[live]
    bad = np.argwhere(~np.isfinite(sub))
    if bad.size:
        idx = (int(np.flatnonzero(live)[bad[0][0]]),) + tuple(int(i) for i in bad[0][1:])
        raise ValueError(f"learned[{name!r}] is not finite at non-terminal index {list(idx)}: {arr[idx]!r}")
    return arr


def visitation_weights(world: TabularWorld, pi_r, profile, discount: float) -> np.ndarray:
    """Discounted state-visitation distribution from ``world.initial_state``.

    ``d = (1 - discount) * e_{s0}^T (I - discount * P)^{-1}`` with
    ``P[s, s'] = sum_{a_r, a_h} pi_r(a_r|s) profile(a_h|s) T(s'|s, a_r, a_h)`` (zero rows at terminal states),
    solved as one sparse linear system with :func:`~empo_tabular.exact.linear.solve_linear`
    (nothing dense in S^2).  ``discount = 1`` gives the expected visit
    counts (acyclic worlds only).  Returns ``d`` renormalised over non-terminal states.
    """
    S, n_ar, n_ah = world.n_states, world.n_ar, world.n_ah
    if discount >= 1.0 and not world.is_acyclic:
        raise ValueError(f"visitation weights with discount {discount:g} need an acyclic world; this world is "
                         f"cyclic (pass discount < 1)")
    rows = np.repeat(np.arange(world.n_rows, dtype=np.int64), np.diff(world.trans_ptr))
    s = rows // (n_ar * n_ah)
    a_r = (rows // n_ah) % n_ar
    a_h = rows % n_ah
    vals = np.asarray(pi_r)[s, a_r] * np.asarray(profile)[s, a_h] * world.trans_prob
    P = sp.csr_matrix((vals, (s, world.trans_succ.astype(np.int64))), shape=(S, S))
    A = (sp.identity(S, format="csr") - discount * P.T).tocsr()
    b = np.zeros(S)
    b[world.initial_state] = 1.0 - discount if discount < 1.0 else 1.0
    d, _ = solve_linear(A, b)  # the package's sparse solve: LU when cheap, Krylov when LU fill-in explodes
    d = np.where(world.terminal, 0.0, np.maximum(d, 0.0))
    total = d.sum()
    if not total > 0.0:
        raise ValueError("the visitation weights vanish on every non-terminal state")
    return d / total


def _where(gw, s):
    if gw is None:
        return None
    pos = gw.positions(int(s))
    parts = [f"{lab} {xy}" for lab, xy in zip(gw.labels, pos["humans"] + pos["robots"])]
    if gw.horizon is not None:
        parts.append(f"step {pos['step']}")
    return ", ".join(parts)


def score(exact: Phase2Solution, learned: dict, *, world=None, prior: HumanPrior | None = None, weights=None,
          discount: float | None = None, n_worst: int = 5, tol: float | None = None) -> ScoreResult:
    """Compare learned Phase 2 tables with the exact solution.

    Parameters
    ----------
    exact : Phase2Solution
    learned : dict
        Maps any of ``FIELDS`` (``Q_r``, ``pi_r``, ``V_h_e``, ``X_h``, ``U_r``, ``V_r``) to an
        array shaped like the exact one, or to a callable that takes the int array of all state indices
        ``0..S-1`` and returns that array (values at terminal states are ignored).
    world : TabularWorld or GridWorld, optional
        Needed for visitation weights (unless ``weights`` is given); a GridWorld adds agent coordinates to
        the worst states.
    prior : HumanPrior, optional
        The human prior of the visitation weights (default: ``solve_phase1(world, exact.params)``).
    weights : (S,) array, optional
        Use these state weights for ``weighted`` instead of the visitation distribution.
    discount : float, optional
        Discount of the visitation distribution (default ``exact.params.gamma_r``).
    n_worst : int
        How many worst states to list per quantity.
    tol : float, optional
        If given, ``converged`` says whether every ``sup`` error is ``<= tol``; otherwise the status is
        "not measured".

    Returns
    -------
    ScoreResult
    """
    t0 = time.perf_counter()
    if not isinstance(exact, Phase2Solution):
        raise TypeError(f"exact must be a Phase2Solution, got {type(exact).__name__}")
    if not isinstance(learned, dict) or not learned:
        raise ValueError(f"learned must be a non-empty dict mapping some of {list(FIELDS)} to arrays")
    unknown = [k for k in learned if k not in FIELDS]
    if unknown:
        raise ValueError(f"learned has unknown quantity {unknown[0]!r}; known: {list(FIELDS)}")
    gw = None
    if world is not None:
        tw = getattr(world, "world", world)
        if not isinstance(tw, TabularWorld):
            raise TypeError(f"world must be a TabularWorld or a GridWorld, got {type(world).__name__}")
        gw = world if tw is not world else None
        world = tw
        if exact.world_checksum and exact.world_checksum != world.checksum:
            raise ValueError("exact was computed for a different world (checksum mismatch)")
    S, n_ar = exact.Q_r.shape
    _, H, G = exact.V_h_e.shape
    live = ~np.asarray(exact.terminal, dtype=bool)
    if not live.any():
        raise ValueError("every state is terminal; there is nothing to score")
    real_goal = None
    if world is not None:
        real_goal = np.arange(G)[None, :] < world.goal_count[:, None]

    # ------------------------------------------------------------ weights
    source = "none"
    if weights is not None:
        w = as_array(weights, "weights", kind="float", shape=(S,))
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and >= 0")
        w = np.where(live, w, 0.0)
        if not w.sum() > 0:
            raise ValueError("weights must put positive mass on some non-terminal state")
        w, source = w / w.sum(), "given"
    elif world is not None:
        if prior is None:
            if exact.params is None:
                raise ValueError("exact.params is None; pass prior= to compute visitation weights")
            prior = solve_phase1(world, exact.params)
        prior.check_world(world)
        disc = float(exact.params.gamma_r if discount is None else discount)
        w = visitation_weights(world, exact.pi_r, prior.profile, disc)
        source = f"discounted visitation from s0 under exact pi_r and the prior (discount {disc:g})"
    else:
        w = None

    # ------------------------------------------------------------ errors
    errors, per_state, worst, table = {}, {}, {}, []
    for name in FIELDS:
        if name not in learned:
            continue
        ex = np.asarray(getattr(exact, name), dtype=np.float64)
        lr = _learned_array(name, learned[name], ex.shape, live)
        e = field_errors(name, lr, ex)  # relative or absolute by core.conventions.RELATIVE; non-finite -> inf
        if name == "V_h_e" and real_goal is not None:
            e = np.where(real_goal[None], e, 0.0)
        e_state = e.reshape(S, -1).max(axis=1) if e.ndim > 1 else e
        e_state = np.where(live, e_state, np.nan)
        vals = e_state[live]
        row = {"sup": float(vals.max()), "mean": float(vals.mean()),
               "weighted": float(np.sum(w[live] * vals)) if w is not None else None}
        if name == "pi_r":
            tv = 0.5 * np.abs(lr - ex).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(ex > 0, ex * (np.log(ex) - np.log(np.where(lr > 0, lr, 0.0))), 0.0)
            kl = terms.sum(axis=1)
            row["tv"] = float(tv[live].max())
            row["tv_weighted"] = float(np.sum(w[live] * tv[live])) if w is not None else None
            row["kl"] = float(kl[live].max())
            row["kl_weighted"] = float(np.sum(w[live] * kl[live])) if w is not None else None
        errors[name] = row
        per_state[name] = e_state
        order = np.flatnonzero(live)[np.argsort(-vals, kind="stable")][:max(0, int(n_worst))]
        worst[name] = [{"state": int(s), "error": float(e_state[s]), "where": _where(gw, s)} for s in order]
        top = worst[name][0] if worst[name] and worst[name][0]["error"] > 0 else \
            {"state": None, "error": None, "where": None}  # no worst state when every error is 0
        table.append({"quantity": name, "error": "relative" if RELATIVE[name] else "absolute", **row,
                      "worst_state": top["state"], "worst_error": top["error"], "worst_where": top["where"]})

    s0 = world.initial_state if world is not None else None
    gap = None
    if "V_r" in learned and s0 is not None:
        v = _learned_array("V_r", learned["V_r"], (S,), live)
        gap = float(v[s0] - exact.V_r[s0])

    res = ScoreResult(errors=errors, table=table, per_state=per_state, worst=worst, v_r_gap=gap, weights=w,
                      weights_source=source, params=exact.params, world_checksum=exact.world_checksum,
                      iterations=len(errors), residual=max(r["sup"] for r in errors.values()))
    if tol is None:
        res.set_outcome(False, f"scored {', '.join(errors)} on {int(live.sum())} non-terminal states "
                               f"(no tolerance given)", measured=False)
    else:
        ok = all(r["sup"] <= tol for r in errors.values())
        res.set_outcome(ok, f"every sup error {'<=' if ok else 'not <='} {tol:g}")
    res.seconds = time.perf_counter() - t0
    res.report = format_report(res, s0=s0)
    return res


def _fmt(x):
    return "    n/a   " if x is None else f"{x:10.3e}"


def format_report(res: ScoreResult, s0=None) -> str:
    """The score table, the V_r(s0) gap and the worst states as text."""
    lines = [f"{'quantity':>8s}  {'error':>8s}  {'sup':>10s}  {'mean':>10s}  {'weighted':>10s}  worst state"]
    for r in res.table:
        where = f" ({r['worst_where']})" if r["worst_where"] else ""
        lines.append(f"{r['quantity']:>8s}  {r['error']:>8s}  {_fmt(r['sup'])}  {_fmt(r['mean'])}  "
                     f"{_fmt(r['weighted'])}  {'-' if r['worst_state'] is None else r['worst_state']}{where}")
    if "pi_r" in res.errors:
        e = res.errors["pi_r"]
        lines.append(f"pi_r: total variation sup {e['tv']:.3e}, weighted {_fmt(e['tv_weighted']).strip()}; "
                     f"KL(exact||learned) sup {e['kl']:.3e}, weighted {_fmt(e['kl_weighted']).strip()}")
    if res.v_r_gap is not None:
        lines.append(f"V_r(s0) gap (learned - exact) at s0 = {s0}: {res.v_r_gap:+.3e}")
    else:
        lines.append("V_r(s0) gap: not computed (needs V_r in learned and world=)")
    lines.append(f"weighted = mean under {res.weights_source}" if res.weights is not None
                 else "weighted: not computed (give world= or weights=)")
    lines.append("per-state error = largest entry error of the state; relative |l-x|/|x| for Q_r, X_h, U_r, V_r; "
                 "absolute for pi_r, V_h_e; non-terminal states only")
    return "\n".join(lines)
