"""Independent computations that share one factorisation, run in lockstep so their solves go in one batch.

A solve with a sparse LU of the 39,600-unknown evaluator system is memory-bound: one right-hand side reads the
whole factor (~27 M entries in SuperLU's MMD order) in ~23 ms.  SuperLU's ``solve`` with an ``(n, k)`` block
reads the factor once for the k columns; measured on that factor (one thread, minimum of 5):
k = 1: 23.6 ms, 2: 33.6 ms, 4: 46.9 ms, 8: 79.8 ms (per column 23.6, 16.8, 11.7, 10.0 ms).

The matrix-free estimators of one grid point (ARPACK, the Perron bound, the branch derivative's GMRES, the
Picard orbit's refinement solves) each need a sequence of solves with the same factorisation, each solve
depending on the previous one's result, but not on the other estimators'.  :func:`run_batched` runs them as
threads; their solves go to a :class:`BatchedSolver`, which waits until every unfinished task is waiting for a
solve and then does one multi-column solve for all of them (a *round*).  Everything else runs one thread at a
time between rounds.  The columns of a round are the tasks' requests in task order, and a round forms only when
every live task has posted its request, so the batches -- hence the results -- do not depend on thread timing.
A column solved in a batch equals the single-column solve up to rounding (the BLAS kernels of a multi-column
triangular solve may round differently); ``tests/contraction/test_batched.py`` checks batched chains against
dense solves to 1e-12.
"""
from __future__ import annotations

import threading

import numpy as np

__all__ = ["BatchedSolver", "run_batched"]


class BatchedSolver:
    """``solve(b, trans)`` with the interface of ``splu``: from a task thread of :func:`run_batched` the request
    joins the current round; from any other thread (or when no round is running) it is solved directly.

    ``rounds`` and ``columns`` count the batched solves and the columns they carried.
    """

    def __init__(self, solver):
        self.solver = solver
        self.shape = getattr(solver, "shape", None)
        self._cv = threading.Condition()
        self._index = {}  # thread ident -> task index
        self._pending = {}  # task index -> (b, trans)
        self._results = {}  # task index -> solution or exception
        self._turn = None  # the one task allowed to run
        self.rounds = 0
        self.columns = 0

    def solve(self, b, trans: str = "N"):
        i = self._index.get(threading.get_ident())
        if i is None:
            return self.solver.solve(b, trans=trans)
        with self._cv:
            self._pending[i] = (np.asarray(b, dtype=float), trans)
            self._turn = None
            self._cv.notify_all()
            self._cv.wait_for(lambda: self._turn == i and i in self._results)
            out = self._results.pop(i)
        if isinstance(out, BaseException):
            raise out
        return out

    def _round(self):
        """Solve every pending request (caller holds the lock); group by ``trans``, columns in task order."""
        for trans in ("N", "T"):
            idx = sorted(i for i, (_, t) in self._pending.items() if t == trans)
            if not idx:
                continue
            blocks = [self._pending[i][0] for i in idx]
            cols = [1 if b.ndim == 1 else b.shape[1] for b in blocks]
            B = np.empty((blocks[0].shape[0], sum(cols)), order="F")
            at = 0
            for b, c in zip(blocks, cols):
                B[:, at:at + c] = b.reshape(b.shape[0], c)
                at += c
            try:
                X = np.asarray(self.solver.solve(B if B.shape[1] > 1 else B[:, 0], trans=trans)).reshape(B.shape)
            except Exception as exc:  # every task of the group sees the failure
                self._results.update({i: exc for i in idx})
                continue
            self.rounds += 1
            self.columns += B.shape[1]
            at = 0
            for i, b, c in zip(idx, blocks, cols):
                self._results[i] = X[:, at].copy() if b.ndim == 1 else np.array(X[:, at:at + c])
                at += c
        self._pending.clear()

    def _let_run(self, i):
        """Let task ``i`` run until it asks for a solve or ends (caller holds the lock)."""
        self._turn = i
        self._cv.notify_all()
        self._cv.wait_for(lambda: self._turn is None)


def run_batched(solver: BatchedSolver, tasks):
    """Run the zero-argument callables ``tasks`` in lockstep threads whose solves with ``solver`` are batched.

    One task runs at a time, in task order, each until it asks for a solve or ends; when every unfinished task
    waits for a solve, one multi-column solve answers them all and the tasks run again in order.  So the
    execution (and any shared state, e.g. a random generator) does not depend on thread timing.  Returns the
    results in task order; the first exception (in task order) is re-raised after every task has ended.
    """
    tasks = list(tasks)
    results = [None] * len(tasks)
    errors = [None] * len(tasks)
    cv = solver._cv
    alive = set(range(len(tasks)))

    def body(i, fn):
        with cv:
            solver._index[threading.get_ident()] = i
            cv.wait_for(lambda: solver._turn == i)
        try:
            results[i] = fn()
        except BaseException as exc:  # re-raised in the caller
            errors[i] = exc
        finally:
            with cv:
                solver._index.pop(threading.get_ident(), None)
                alive.discard(i)
                solver._turn = None
                cv.notify_all()

    threads = [threading.Thread(target=body, args=(i, fn), daemon=True) for i, fn in enumerate(tasks)]
    with cv:
        for i, th in enumerate(threads):
            th.start()
            solver._let_run(i)
        while alive:
            solver._round()
            for i in sorted(solver._results):
                solver._let_run(i)
    for th in threads:
        th.join()
    for e in errors:
        if e is not None:
            raise e
    return results
