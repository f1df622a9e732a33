"""The one world representation: :class:`TabularWorld`.

A world is a finite multi-agent MDP seen from EMPO's two roles.  The robot
fleet chooses one of ``n_ar`` joint robot actions, the humans one of
``n_ah`` joint human action profiles, and the transition kernel is stored as
CSR rows indexed by ``(s, a_r, a_h)``::

    row = (s * n_ar + a_r) * n_ah + a_h
    successors    = trans_succ[trans_ptr[row]:trans_ptr[row + 1]]
    probabilities = trans_prob[trans_ptr[row]:trans_ptr[row + 1]]

Terminal states have empty rows; every row of a non-terminal state is a
probability distribution.  Human ``h`` has ``goal_count[h]`` goals with
weights ``goal_weight[h, :goal_count[h]]``; ``achieved[h, g, s]`` says
whether goal ``g`` of human ``h`` holds in state ``s``.  Goals beyond a
human's count are padding (weight 0, never achieved).

Worlds may be acyclic (finite horizon, e.g. a step counter in the state) or
cyclic (stationary).  The topological order is computed from the
transitions, never assumed from the state numbering.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .._kernels import world as _kw
from .._validation import scalar_repr, as_array, as_int, check_range, fmt_index

FORMAT_VERSION = 1
ROW_SUM_TOL = 1e-9


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


def _check_profiles(profiles: np.ndarray, name: str) -> np.ndarray:
    """Check that ``profiles`` enumerates a full Cartesian product exactly once.

    Returns the number of actions of each agent.
    """
    if profiles.shape[0] == 0:
        raise ValueError(f"{name} with shape {profiles.shape} must have at least one row")
    check_range(profiles, name, low=0)
    counts = profiles.max(axis=0) + 1
    total = int(np.prod(counts, dtype=np.int64))
    if total != profiles.shape[0]:
        raise ValueError(
            f"{name} with shape {profiles.shape} must list every combination of per-agent actions exactly once: "
            f"per-agent action counts {counts.tolist()} give {total} combinations, not {profiles.shape[0]}"
        )
    flat = np.ravel_multi_index(tuple(profiles.T), tuple(counts))
    seen = np.zeros(total, dtype=np.int64)
    np.add.at(seen, flat, 1)
    dup = np.flatnonzero(seen[flat] > 1)
    if dup.size:
        first = int(dup[0])
        other = int(np.flatnonzero(flat == flat[first])[0])
        if other == first:
            other = int(np.flatnonzero(flat == flat[first])[1])
        raise ValueError(
            f"{name} with shape {profiles.shape} lists the profile {profiles[first].tolist()} twice "
            f"(rows {min(first, other)} and {max(first, other)})"
        )
    return counts


class TabularWorld:
    """A validated finite world with CSR transitions over ``(s, a_r, a_h)`` rows.

    Parameters
    ----------
    n_states : int
        Number of states ``S`` (>= 1).
    initial_state : int
        Index of the start state.
    terminal : bool array, shape (S,)
        Terminal states (no transitions).
    n_ar : int
        Number of joint robot actions (>= 1).
    human_profiles : int array, shape (n_ah, H)
        Per-human decomposition of every joint human profile.  The rows must
        enumerate the Cartesian product of the humans' own action sets
        ``{0, ..., n_h - 1}`` exactly once (any order; row-major is usual).
        Action 0 of every human is "stay still", which Phase 1 uses at states
        where the human's goal already holds.
    trans_ptr, trans_succ, trans_prob : arrays
        CSR transitions: ``trans_ptr`` has ``S * n_ar * n_ah + 1`` entries.
        Duplicate successors within a row are summed; zero probabilities are
        dropped.
    achieved : bool array, shape (H, G, S)
        ``achieved[h, g, s]``: goal ``g`` of human ``h`` holds in ``s``.
    goal_weight : float array, shape (H, G)
        Non-negative weights ``w[h, g]``; every human needs a positive weight.
    goal_count : int array, shape (H,), optional
        Goals of each human; defaults to ``G`` for everybody.  Goals
        ``g >= goal_count[h]`` are padding: weight 0 and never achieved.
    robot_profiles : int array, shape (n_ar, R), optional
        Per-robot decomposition of the joint robot actions (for information
        and plotting); defaults to a single robot with ``n_ar`` actions.
    info : dict, optional
        JSON-serialisable description (name, map, ...), saved with the world.

    Raises
    ------
    ValueError, TypeError
        For every inconsistency, naming the array, its shape and the first
        offending index.  All checks are O(nnz + S * n_ar * n_ah).

    Notes
    -----
    Derived attributes: ``n_humans``, ``n_goals``, ``n_ah``,
    ``human_action_counts``, ``n_own_actions`` (the largest own-action count),
    ``is_acyclic`` and ``topological_order`` (``None`` for cyclic worlds).
    All arrays are stored read-only.
    """

    def __init__(self, n_states, initial_state, terminal, n_ar, human_profiles, trans_ptr, trans_succ,
                 trans_prob, achieved, goal_weight, goal_count=None, robot_profiles=None, info=None):
        S = as_int(n_states, "n_states")
        if S < 1:
            raise ValueError(f"n_states must be >= 1, got {S}")
        if S >= 2**31 - 1:
            raise ValueError(f"n_states must be < 2**31 - 1, got {S}")
        s0 = as_int(initial_state, "initial_state")
        if not 0 <= s0 < S:
            raise ValueError(f"initial_state must be in [0, {S}), got {s0}")
        n_ar = as_int(n_ar, "n_ar")
        if n_ar < 1:
            raise ValueError(f"n_ar must be >= 1, got {n_ar}")
        terminal = as_array(terminal, "terminal", kind="bool", shape=(S,))
        human_profiles = as_array(human_profiles, "human_profiles", kind="int", ndim=2)
        if human_profiles.shape[1] < 1:
            raise ValueError(f"human_profiles must have at least one column (human), got shape {human_profiles.shape}")
        counts = _check_profiles(human_profiles, "human_profiles")
        n_ah, H = human_profiles.shape
        if robot_profiles is None:
            robot_profiles = np.arange(n_ar, dtype=np.int64)[:, None]
        robot_profiles = as_array(robot_profiles, "robot_profiles", kind="int", ndim=2)
        if robot_profiles.shape[0] != n_ar:
            raise ValueError(f"robot_profiles must have n_ar = {n_ar} rows, got shape {robot_profiles.shape}")
        if robot_profiles.shape[1] >= 1:
            _check_profiles(robot_profiles, "robot_profiles")

        n_rows = S * n_ar * n_ah
        ptr = as_array(trans_ptr, "trans_ptr", kind="int", shape=(n_rows + 1,))
        succ = as_array(trans_succ, "trans_succ", kind="int", ndim=1)
        prob = as_array(trans_prob, "trans_prob", kind="float", shape=(succ.shape[0],))
        nnz = succ.shape[0]
        if ptr[0] != 0:
            raise ValueError(f"trans_ptr with shape {ptr.shape} must start at 0, got trans_ptr[0] = {ptr[0]}")
        steps = np.diff(ptr)
        bad = np.flatnonzero(steps < 0)
        if bad.size:
            raise ValueError(
                f"trans_ptr with shape {ptr.shape} must be non-decreasing; it drops at index {bad[0] + 1} "
                f"(row {bad[0]}: {ptr[bad[0]]} -> {ptr[bad[0] + 1]})"
            )
        if ptr[-1] != nnz:
            raise ValueError(
                f"trans_ptr[-1] = {ptr[-1]} must equal the number of entries of trans_succ (shape {succ.shape})"
            )
        code, i = _kw.first_bad_entry(succ, prob, S)
        if code:
            row = int(np.searchsorted(ptr, i, side="right") - 1)
            where = f"entry {fmt_index(i)} (row {row} = state {row // (n_ar * n_ah)}, a_r {(row // n_ah) % n_ar}, a_h {row % n_ah})"
            if code == 1:
                raise ValueError(f"trans_succ with shape {succ.shape} has successor {succ[i]} out of range [0, {S}) at {where}")
            if code == 2:
                raise ValueError(f"trans_prob with shape {prob.shape} has a non-finite probability {scalar_repr(prob[i])} at {where}")
            raise ValueError(f"trans_prob with shape {prob.shape} has a negative probability {scalar_repr(prob[i])} at {where}")

        m_ptr = np.empty(n_rows + 1, dtype=np.int64)
        m_succ = np.empty(nnz, dtype=np.int32)
        m_prob = np.empty(nnz, dtype=np.float64)
        n = _kw.merge_duplicates(ptr, succ.astype(np.int32), prob, S, m_ptr, m_succ, m_prob)
        m_succ = m_succ[:n].copy()
        m_prob = m_prob[:n].copy()
        code, r = _kw.first_bad_row(m_ptr, terminal, n_ar * n_ah, ROW_SUM_TOL)
        if code:
            s, a_r, a_h = r // (n_ar * n_ah), (r // n_ah) % n_ar, r % n_ah
            if code == 1:
                raise ValueError(
                    f"trans_ptr with shape {ptr.shape}: non-terminal state {s} has an empty (or all-zero) row {r} "
                    f"(a_r {a_r}, a_h {a_h}); every row of a non-terminal state needs a successor"
                )
            raise ValueError(
                f"trans_ptr with shape {ptr.shape}: terminal state {s} has a non-empty row {r} (a_r {a_r}, a_h {a_h}); "
                f"terminal states must have no transitions"
            )
        sums = np.empty(n_rows, dtype=np.float64)
        _kw.row_sums(m_ptr, m_prob, sums)
        live = np.repeat(~terminal, n_ar * n_ah)
        bad = np.flatnonzero(live & (np.abs(sums - 1.0) > ROW_SUM_TOL))
        if bad.size:
            r = int(bad[0])
            s, a_r, a_h = r // (n_ar * n_ah), (r // n_ah) % n_ar, r % n_ah
            raise ValueError(
                f"trans_prob with shape {prob.shape}: row {r} (state {s}, a_r {a_r}, a_h {a_h}) sums to "
                f"{scalar_repr(sums[r])}, not 1 within {ROW_SUM_TOL}"
            )

        achieved = as_array(achieved, "achieved", kind="bool", ndim=3)
        if achieved.shape[0] != H or achieved.shape[2] != S:
            raise ValueError(f"achieved must have shape ({H}, G, {S}) for H = {H} humans and S = {S} states, got {achieved.shape}")
        G = achieved.shape[1]
        if G < 1:
            raise ValueError(f"achieved must have at least one goal, got shape {achieved.shape}")
        goal_weight = as_array(goal_weight, "goal_weight", kind="float", shape=(H, G))
        if goal_count is None:
            goal_count = np.full(H, G, dtype=np.int64)
        goal_count = as_array(goal_count, "goal_count", kind="int", shape=(H,))
        check_range(goal_count, "goal_count", low=1, high=G)
        check_range(goal_weight, "goal_weight", low=0.0)
        bad = np.flatnonzero(~np.isfinite(goal_weight.ravel()))
        if bad.size:
            idx = np.unravel_index(bad[0], goal_weight.shape)
            raise ValueError(f"goal_weight with shape {goal_weight.shape} has a non-finite entry at {fmt_index(idx)}")
        padding = np.arange(G)[None, :] >= goal_count[:, None]
        bad = np.argwhere(padding & (goal_weight != 0.0))
        if bad.size:
            h, g = bad[0]
            raise ValueError(
                f"goal_weight with shape {goal_weight.shape} has weight {scalar_repr(goal_weight[h, g])} at [{h}, {g}], "
                f"beyond goal_count[{h}] = {goal_count[h]}; padding goals must have weight 0"
            )
        bad = np.argwhere(padding[:, :, None] & achieved)
        if bad.size:
            h, g, s = bad[0]
            raise ValueError(
                f"achieved with shape {achieved.shape} marks padding goal [{h}, {g}, {s}] (goal_count[{h}] = "
                f"{goal_count[h]}) as achieved; padding goals are never achieved"
            )
        total = goal_weight.sum(axis=1)
        bad = np.flatnonzero(total <= 0.0)
        if bad.size:
            raise ValueError(
                f"goal_weight with shape {goal_weight.shape} has no positive weight for human {bad[0]}; "
                f"every human needs at least one goal with weight > 0"
            )

        self.n_states = S
        self.initial_state = s0
        self.n_ar = n_ar
        self.n_ah = n_ah
        self.n_humans = H
        self.n_goals = G
        self.terminal = _readonly(terminal)
        self.human_profiles = _readonly(human_profiles)
        self.robot_profiles = _readonly(robot_profiles)
        self.human_action_counts = _readonly(counts.astype(np.int64))
        self.n_own_actions = int(counts.max())
        self.trans_ptr = _readonly(m_ptr)
        self.trans_succ = _readonly(m_succ)
        self.trans_prob = _readonly(m_prob)
        self.achieved = _readonly(achieved)
        self.goal_weight = _readonly(goal_weight)
        self.goal_count = _readonly(goal_count)
        self.info = json.loads(json.dumps(info if info is not None else {}))
        order = np.empty(S, dtype=np.int64)
        k = _kw.topological_order(m_ptr, m_succ, S, n_ar * n_ah, order)
        self.is_acyclic = bool(k == S)
        self.topological_order = _readonly(order) if self.is_acyclic else None
        self._achieved_sgh = None
        self._checksum = None
        self._levels = None
        self._robot_rows = None

    # ------------------------------------------------------------------ views
    @property
    def n_rows(self) -> int:
        """Number of CSR rows, ``S * n_ar * n_ah``."""
        return self.n_states * self.n_ar * self.n_ah

    @property
    def nnz(self) -> int:
        """Number of stored transitions (after merging duplicates)."""
        return int(self.trans_succ.shape[0])

    @property
    def achieved_by_state(self) -> np.ndarray:
        """``achieved`` transposed to ``(S, H, G)`` (contiguous, cached) for kernels."""
        if self._achieved_sgh is None:
            self._achieved_sgh = _readonly(np.transpose(self.achieved, (2, 0, 1)))
        return self._achieved_sgh

    def row(self, s: int, a_r: int, a_h: int):
        """Successors and probabilities of the row ``(s, a_r, a_h)``."""
        r = (s * self.n_ar + a_r) * self.n_ah + a_h
        lo, hi = self.trans_ptr[r], self.trans_ptr[r + 1]
        return self.trans_succ[lo:hi], self.trans_prob[lo:hi]

    def dense_transitions(self) -> np.ndarray:
        """The kernel as a dense ``(S, n_ar, n_ah, S)`` array (small worlds only)."""
        T = np.zeros((self.n_states * self.n_ar * self.n_ah, self.n_states))
        rows = np.repeat(np.arange(self.n_rows), np.diff(self.trans_ptr))
        np.add.at(T, (rows, self.trans_succ), self.trans_prob)
        return T.reshape(self.n_states, self.n_ar, self.n_ah, self.n_states)

    def reachable(self, start: int | None = None) -> np.ndarray:
        """Boolean mask of states reachable from ``start`` (default: the initial state)."""
        start = self.initial_state if start is None else as_int(start, "start")
        mask = np.zeros(self.n_states, dtype=np.bool_)
        _kw.reachable_from(self.trans_ptr, self.trans_succ, self.n_states, self.n_ar * self.n_ah, start, mask)
        return mask

    @property
    def levels(self):
        """``(level_ptr, level_states)``: states grouped by height (acyclic worlds only, cached).

        The height of a state is 0 without successors and ``1 + max`` over its
        successors otherwise; states of one height depend only on lower
        heights, so backward induction may process a level in parallel.
        """
        if self.topological_order is None:
            raise ValueError("levels are defined for acyclic worlds only; this world has a cycle")
        if self._levels is None:
            h = np.zeros(self.n_states, dtype=np.int64)
            _kw.heights(self.topological_order, self.trans_ptr, self.trans_succ, self.n_ar * self.n_ah, h)
            states = np.argsort(h, kind="stable").astype(np.int64)
            ptr = np.concatenate([[0], np.cumsum(np.bincount(h))]).astype(np.int64)
            self._levels = (_readonly(ptr), _readonly(states))
        return self._levels

    @property
    def robot_rows(self):
        """``(rows_ptr, rows)``: for state ``s`` and joint human action ``k``, the CSR rows ``(s, a, k)`` of the robot
        actions with repeated rows dropped, ``rows[rows_ptr[s * n_ah + k]:rows_ptr[s * n_ah + k + 1]]`` (cached).

        Phase 1 takes the worst (or best) case over the robot's actions, which is the same over these rows.  In
        gridworlds many robot actions lead to the same cell: the scenario ``shared_switch`` keeps 36% of its rows.
        """
        if self._robot_rows is None:
            ptr = np.empty(self.n_states * self.n_ah + 1, dtype=np.int64)
            rows = np.empty(self.n_rows, dtype=np.int64)
            n = _kw.distinct_robot_rows(self.n_states, self.trans_ptr, self.trans_succ, self.trans_prob, self.n_ar,
                                        self.n_ah, ptr, rows)
            self._robot_rows = (_readonly(ptr), _readonly(rows[:n].copy()))
        return self._robot_rows

    @property
    def checksum(self) -> str:
        """SHA-256 of the canonical arrays (identifies the world in saved results)."""
        if self._checksum is None:
            h = hashlib.sha256()
            for name, arr in self._arrays().items():
                h.update(name.encode())
                h.update(str(arr.dtype).encode())
                h.update(str(arr.shape).encode())
                h.update(np.ascontiguousarray(arr).tobytes())
            self._checksum = h.hexdigest()
        return self._checksum

    def __repr__(self) -> str:
        kind = "acyclic" if self.is_acyclic else "cyclic"
        name = self.info.get("name")
        label = f" {name!r}" if name else ""
        return (
            f"TabularWorld{label}({kind}, S={self.n_states}, terminal={int(self.terminal.sum())}, "
            f"humans={self.n_humans}, goals={self.n_goals}, n_ar={self.n_ar}, n_ah={self.n_ah}, nnz={self.nnz})"
        )

    # ------------------------------------------------------------- construct
    @classmethod
    def from_dense(cls, T, terminal, human_profiles, achieved, goal_weight, *, initial_state=0,
                   goal_count=None, robot_profiles=None, info=None) -> "TabularWorld":
        """Build a world from a dense kernel ``T[s, a_r, a_h, s']`` (small worlds).

        Rows of terminal states must be all zero.
        """
        T = as_array(T, "T", kind="float", ndim=4)
        S, n_ar, n_ah, S2 = T.shape
        if S2 != S:
            raise ValueError(f"T must have shape (S, n_ar, n_ah, S), got {T.shape}")
        flat = T.reshape(S * n_ar * n_ah, S)
        nz = flat != 0
        ptr = np.concatenate([[0], np.cumsum(nz.sum(axis=1))]).astype(np.int64)
        rows, cols = np.nonzero(nz)
        return cls(S, initial_state, terminal, n_ar, human_profiles, ptr, cols, flat[rows, cols], achieved,
                   goal_weight, goal_count=goal_count, robot_profiles=robot_profiles, info=info)

    # ------------------------------------------------------------------- IO
    def _arrays(self) -> dict:
        return {
            "n_states": np.int64(self.n_states),
            "initial_state": np.int64(self.initial_state),
            "n_ar": np.int64(self.n_ar),
            "terminal": self.terminal,
            "human_profiles": self.human_profiles,
            "robot_profiles": self.robot_profiles,
            "trans_ptr": self.trans_ptr,
            "trans_succ": self.trans_succ,
            "trans_prob": self.trans_prob,
            "achieved": self.achieved,
            "goal_weight": self.goal_weight,
            "goal_count": self.goal_count,
        }

    def save(self, path, params=None) -> Path:
        """Save as a bundle (``.npz`` + strict-JSON ``.json`` sidecar, no pickle, atomic); :func:`load_world`
        restores it exactly.

        ``params`` (an :class:`~empo_tabular.EmpoParams`), when given, is stored with the world, so that
        ``load_world(path, with_params=True)`` and ``empo-tabular solve WORLD.npz`` use the parameters the
        world was built or solved with instead of the package defaults.
        """
        from .storage import save_bundle

        meta = {"format_version": FORMAT_VERSION, "info": self.info, "checksum": self.checksum,
                "params": None if params is None else params.to_dict()}
        arrays = dict(self._arrays())
        arrays["world_format_version"] = np.int64(FORMAT_VERSION)
        return save_bundle(path, "world", arrays, meta)


WORLD_ARRAYS = ("n_states", "initial_state", "n_ar", "terminal", "human_profiles", "robot_profiles", "trans_ptr",
                "trans_succ", "trans_prob", "achieved", "goal_weight", "goal_count")


def load_world(path, *, with_params: bool = False):
    """Load a world written by :meth:`TabularWorld.save` (validated again).

    With ``with_params=True`` returns ``(world, params)``, where ``params`` is the
    :class:`~empo_tabular.EmpoParams` saved with the world (None when none was saved).
    Errors name the file and what is wrong with it in one line.
    """
    from .params import EmpoParams
    from .storage import StorageError, check_arrays, loads_strict, read_npz

    path = Path(path)
    arrays, meta_text = read_npz(path, what="world file")
    if meta_text is not None:
        meta = loads_strict(meta_text, source=f"{path}: meta_json")
        if meta.get("kind") != "world":
            raise StorageError(f"{path}: holds a {meta.get('kind')!r}, not a world file")
        version, info = meta.get("format_version"), meta.get("info", {})
    elif "world_format_version" in arrays and "info_json" in arrays:  # files of version 0.1.0
        version, info, meta = int(arrays["world_format_version"]), loads_strict(str(arrays["info_json"])), {}
    else:
        raise StorageError(f"{path}: not a world file (no 'meta_json'); for reference exports use "
                           f"empo_tabular.io.reference.load_reference_export")
    if version != FORMAT_VERSION:
        raise StorageError(f"{path}: world format version {version}; this version reads {FORMAT_VERSION}")
    check_arrays(path, arrays, WORLD_ARRAYS, "world file")
    world = TabularWorld(
        int(arrays["n_states"]), int(arrays["initial_state"]), arrays["terminal"], int(arrays["n_ar"]),
        arrays["human_profiles"], arrays["trans_ptr"], arrays["trans_succ"], arrays["trans_prob"],
        arrays["achieved"], arrays["goal_weight"], goal_count=arrays["goal_count"],
        robot_profiles=arrays["robot_profiles"], info=info,
    )
    if not with_params:
        return world
    saved = meta.get("params")
    return world, (None if saved is None else EmpoParams.from_dict(saved))
