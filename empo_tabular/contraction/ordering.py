"""A fill-reducing ordering for the sparse LU of the evaluator system: nested dissection by BFS level sets.

SuperLU's built-in orderings are minimum-degree or COLAMD.  On the V_h^e system of a gridworld (the state graph
is the product of the agents' grid moves, a 4-D grid for one human and one robot) nested dissection leaves
less fill.  Measured on the 39,600-unknown system of the 10x10 room (``benchmarks/bench_contraction.py``), one
thread, CPU seconds, same run: ``MMD_AT_PLUS_A`` fill 44.4, factorisation 1.96 s, solve 23.7 ms; this ordering
(leaves of 32, as :class:`~.evaluator.EvaluatorSystem` uses it) fill 36.7, factorisation 1.17 s, solve 19.8 ms,
computed once in ~0.9 s (it depends only on the sparsity pattern, which the evaluator system caches).  On the
5,040-unknown system of the 6x6 room MMD was better (solve 0.41 vs 0.54 ms).

The dissection (George's level-structure separators): in each connected part, a breadth-first search from a
pseudo-peripheral vertex assigns levels; the separator is the smallest level that leaves at least a quarter of
the part on each side (every edge joins equal or adjacent levels, so removing one level disconnects the levels
below it from those above); both sides are ordered recursively, then the separator.  Parts of at most ``leaf``
vertices keep their order.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse import csgraph

__all__ = ["PermutedLU", "nested_dissection"]


def _levels(G, source: int) -> np.ndarray:
    """Breadth-first levels from ``source`` (``inf`` where unreachable)."""
    return csgraph.shortest_path(G, indices=source, unweighted=True, directed=False)


def _split(G):
    """``(below, separator, above)`` boolean masks of a connected graph, or None when no level separates it."""
    v = 0
    lev = _levels(G, v)
    for _ in range(4):  # pseudo-peripheral vertex: restart from a farthest vertex while the depth grows
        w = int(np.argmax(lev))
        lw = _levels(G, w)
        if lw.max() <= lev.max():
            break
        v, lev = w, lw
    depth = int(lev.max())
    if depth < 2:
        return None
    lev = lev.astype(np.int64)
    cnt = np.bincount(lev, minlength=depth + 1)
    below = np.cumsum(cnt) - cnt  # vertices at levels < l
    above = lev.size - below - cnt  # vertices at levels > l
    ok = (np.minimum(below, above) >= lev.size / 4) & (below > 0) & (above > 0)
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        cand = np.flatnonzero((below > 0) & (above > 0))
        if cand.size == 0:
            return None
        cand = cand[[np.argmin(np.abs(below[cand] - above[cand]))]]
    best = int(cand[np.argmin(cnt[cand])])
    return lev < best, lev == best, lev > best


def nested_dissection(pattern, leaf: int = 64) -> np.ndarray:
    """A fill-reducing symmetric ordering of the square sparse ``pattern`` (its values are ignored).

    Returns ``perm`` (int64, a permutation of ``range(n)``): row/column ``perm[k]`` of the matrix becomes the
    ``k``-th one.  The graph is that of ``pattern + pattern.T`` without the diagonal.
    """
    A = sp.csr_matrix(pattern)
    n = A.shape[0]
    if A.shape != (n, n):
        raise ValueError(f"pattern must be square, got shape {A.shape}")
    G = (abs(A) + abs(A).T).tocsr()
    G.setdiag(0)
    G.eliminate_zeros()
    G.data[:] = 1.0
    out = []
    # explicit stack of (graph, vertex ids, emitted?) so deep dissections cannot hit the recursion limit;
    # a separator is emitted after both of its sides, so it is pushed first
    stack = [("part", G, np.arange(n, dtype=np.int64))]
    while stack:
        kind, H, ids = stack.pop()
        if kind == "emit":
            out.append(ids)
            continue
        if ids.size <= leaf:
            out.append(ids)
            continue
        ncomp, lab = csgraph.connected_components(H, directed=False)
        if ncomp > 1:
            order = np.argsort(lab, kind="stable")
            bounds = np.searchsorted(lab[order], np.arange(ncomp + 1))
            for k in range(ncomp - 1, -1, -1):  # reversed: component 0 pops (is ordered) first
                m = order[bounds[k]:bounds[k + 1]]
                stack.append(("part", H[m][:, m], ids[m]))
            continue
        parts = _split(H)
        if parts is None:
            out.append(ids)
            continue
        lo, sep, hi = parts
        stack.append(("emit", None, ids[sep]))
        stack.append(("part", H[hi][:, hi], ids[hi]))
        stack.append(("part", H[lo][:, lo], ids[lo]))
    perm = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    return perm.astype(np.int64)


class PermutedLU:
    """Sparse LU of ``M`` in a given symmetric order: ``splu(M[perm][:, perm])`` with the natural column order,
    diagonal pivots and SuperLU's symmetric mode (``M`` strictly diagonally dominant); ``solve(b, trans)`` as
    ``splu``'s, for 1-D or 2-D ``b``."""

    def __init__(self, M, perm):
        self.perm = np.asarray(perm, dtype=np.int64)
        self.inv = np.empty_like(self.perm)
        self.inv[self.perm] = np.arange(self.perm.size)
        M = sp.csc_matrix(M)
        self.shape = M.shape
        self.lu = spla.splu(M[self.perm][:, self.perm].tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0,
                            options={"SymmetricMode": True})

    def solve(self, b, trans: str = "N"):
        b = np.asarray(b, dtype=float)
        x = self.lu.solve(np.asfortranarray(b[self.perm]), trans=trans)
        return x[self.inv]
