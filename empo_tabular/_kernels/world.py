"""Kernels behind :class:`empo_tabular.TabularWorld`: CSR checks, merging and ordering.

All kernels are O(nnz + S) and report the first offending index instead of
raising, so that the public layer can name the array, shape and index.
"""
import numpy as np

from . import kernel


@kernel
def first_bad_entry(succ, prob, n_states):
    """Return ``(code, index)`` of the first bad CSR entry, ``(0, -1)`` if none.

    Codes: 1 successor out of range, 2 probability NaN/inf, 3 probability < 0.
    """
    for i in range(succ.shape[0]):
        j = succ[i]
        if j < 0 or j >= n_states:
            return 1, i
        p = prob[i]
        if not np.isfinite(p):
            return 2, i
        if p < 0.0:
            return 3, i
    return 0, -1


@kernel
def first_bad_row(ptr, terminal, n_rows_per_state, tol):
    """Return ``(code, row, row_sum)`` for the first row violating the row rules.

    Codes: 1 non-terminal state with an empty row, 2 terminal state with a
    non-empty row, 3 row sum off by more than ``tol`` from 1.  ``ptr`` must
    be the pointer array after :func:`merge_duplicates` (so that ``prob`` is
    not needed here: sums are checked by :func:`row_sums`).
    """
    n_rows = ptr.shape[0] - 1
    for r in range(n_rows):
        s = r // n_rows_per_state
        length = ptr[r + 1] - ptr[r]
        if terminal[s]:
            if length != 0:
                return 2, r
        elif length == 0:
            return 1, r
    return 0, -1


@kernel
def row_sums(ptr, prob, out):
    """``out[r] = sum(prob[ptr[r]:ptr[r+1]])``."""
    for r in range(ptr.shape[0] - 1):
        acc = 0.0
        for i in range(ptr[r], ptr[r + 1]):
            acc += prob[i]
        out[r] = acc


@kernel
def merge_duplicates(ptr, succ, prob, n_states, out_ptr, out_succ, out_prob):
    """Merge duplicate successors within each row and drop zero probabilities.

    Successors keep the order of their first occurrence.  Returns the number
    of entries written.  ``out_succ``/``out_prob`` must have room for
    ``len(succ)`` entries.
    """
    slot = np.full(n_states, -1, dtype=np.int64)
    n = 0
    out_ptr[0] = 0
    for r in range(ptr.shape[0] - 1):
        start = n
        for i in range(ptr[r], ptr[r + 1]):
            p = prob[i]
            if p == 0.0:
                continue
            j = succ[i]
            k = slot[j]
            if k >= start:
                out_prob[k] += p
            else:
                slot[j] = n
                out_succ[n] = j
                out_prob[n] = p
                n += 1
        out_ptr[r + 1] = n
    return n


@kernel
def topological_order(ptr, succ, n_states, n_rows_per_state, out_order):
    """Kahn's algorithm on the state graph; returns the number of states ordered.

    ``out_order[:k]`` lists states so that every successor comes after its
    predecessor.  If the returned ``k`` is smaller than ``n_states`` the
    graph has a cycle (a self-loop counts as a cycle).
    """
    indeg = np.zeros(n_states, dtype=np.int64)
    for i in range(succ.shape[0]):
        indeg[succ[i]] += 1
    head = 0
    tail = 0
    for s in range(n_states):
        if indeg[s] == 0:
            out_order[tail] = s
            tail += 1
    while head < tail:
        s = out_order[head]
        head += 1
        for r in range(s * n_rows_per_state, (s + 1) * n_rows_per_state):
            for i in range(ptr[r], ptr[r + 1]):
                j = succ[i]
                indeg[j] -= 1
                if indeg[j] == 0:
                    out_order[tail] = j
                    tail += 1
    return tail


@kernel
def reachable_from(ptr, succ, n_states, n_rows_per_state, start, out_mask):
    """Mark every state reachable from ``start`` (breadth first)."""
    queue = np.empty(n_states, dtype=np.int64)
    out_mask[:] = False
    out_mask[start] = True
    queue[0] = start
    head = 0
    tail = 1
    while head < tail:
        s = queue[head]
        head += 1
        for r in range(s * n_rows_per_state, (s + 1) * n_rows_per_state):
            for i in range(ptr[r], ptr[r + 1]):
                j = succ[i]
                if not out_mask[j]:
                    out_mask[j] = True
                    queue[tail] = j
                    tail += 1
    return tail


@kernel
def distinct_successor_counts(ptr, succ, n_states, n_rows_per_state):
    """``(max, total)`` over states of the number of distinct successors of a state."""
    slot = np.full(n_states, -1, dtype=np.int64)
    best = 0
    total = 0
    for s in range(n_states):
        m = 0
        for r in range(s * n_rows_per_state, (s + 1) * n_rows_per_state):
            for i in range(ptr[r], ptr[r + 1]):
                j = succ[i]
                if slot[j] != s:
                    slot[j] = s
                    m += 1
        total += m
        if m > best:
            best = m
    return best, total


@kernel
def heights(order, ptr, succ, n_rows_per_state, out_height):
    """Height of every state of an acyclic world: 0 without successors, else 1 + max over successors.

    ``order`` is a topological order; states are processed in reverse.
    """
    for idx in range(order.shape[0] - 1, -1, -1):
        s = order[idx]
        h = -1
        for r in range(s * n_rows_per_state, (s + 1) * n_rows_per_state):
            for i in range(ptr[r], ptr[r + 1]):
                if out_height[succ[i]] > h:
                    h = out_height[succ[i]]
        out_height[s] = h + 1


@kernel
def distinct_robot_rows(n_states, ptr, succ, prob, n_ar, n_ah, out_ptr, out_rows):
    """For every state ``s`` and joint human action ``k``, the rows ``(s, a, k)`` of the robot actions ``a`` with
    repeats dropped: a row equal to an earlier one (same successors and probabilities, entry by entry) is not
    listed.  They are ``out_rows[out_ptr[s * n_ah + k]:out_ptr[s * n_ah + k + 1]]``, in robot-action order, so the
    first listed minimiser is the first minimiser over all robot actions.  ``out_ptr`` has ``S * n_ah + 1``
    entries, ``out_rows`` room for ``S * n_ar * n_ah``; returns the number of rows listed."""
    n = 0
    out_ptr[0] = 0
    for s in range(n_states):
        for k in range(n_ah):
            first = n
            for a in range(n_ar):
                r = (s * n_ar + a) * n_ah + k
                lo, hi = ptr[r], ptr[r + 1]
                repeat = False
                for t in range(first, n):
                    q = out_rows[t]
                    qlo = ptr[q]
                    if ptr[q + 1] - qlo != hi - lo:
                        continue
                    same = True
                    for i in range(hi - lo):
                        if succ[lo + i] != succ[qlo + i] or prob[lo + i] != prob[qlo + i]:
                            same = False
                            break
                    if same:
                        repeat = True
                        break
                if not repeat:
                    out_rows[n] = r
                    n += 1
            out_ptr[s * n_ah + k + 1] = n
    return n
