"""Tests of :mod:`empo_tabular.contraction.batched`: lockstep tasks whose solves share multi-column solves.

Oracle: ``numpy.linalg.solve`` with the dense matrix, applied by each task serially (no batching).
"""
import threading

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from empo_tabular.contraction.batched import BatchedSolver, run_batched

N = 60


def _system():
    rng = np.random.default_rng(4)
    A = sp.random(N, N, density=0.1, random_state=5, format="csr") + 4.0 * sp.identity(N)
    return A.tocsc(), A.toarray(), rng


def _chain(solve, start, steps, trans="N", log=None):
    """``steps`` dependent solves: ``x <- solve(x) + 1`` (each right-hand side needs the previous solution)."""
    def run():
        x = start.copy()
        for _ in range(steps):
            if log is not None:
                log.append(threading.get_ident())
            x = solve(x, trans) + 1.0
        return x
    return run


def test_batched_chains_equal_serial_dense_solves():
    A, D, rng = _system()
    starts = [rng.standard_normal(N), rng.standard_normal((N, 2)), rng.standard_normal(N), rng.standard_normal(N)]
    steps = [5, 3, 0, 7]
    trans = ["N", "N", "N", "T"]
    bs = BatchedSolver(spla.splu(A))
    out = run_batched(bs, [_chain(bs.solve, s, k, t) for s, k, t in zip(starts, steps, trans)])
    for x, s, k, t in zip(out, starts, steps, trans):
        ref = s.copy()
        for _ in range(k):
            ref = np.linalg.solve(D.T if t == "T" else D, ref) + 1.0
        np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-12)
    # multi-column solves: the "N" group in rounds 1-5 (chains of 5 and 3 steps), the "T" chain's own in rounds 1-7
    assert bs.rounds == 5 + 7 and bs.columns == 5 + 3 * 2 + 7
    assert bs.solve(starts[0]).shape == (N,)  # outside run_batched: a direct solve


def test_one_task_runs_at_a_time_in_task_order():
    """Between rounds the tasks run one after the other, in task order (so shared state is deterministic)."""
    A, _, rng = _system()
    bs = BatchedSolver(spla.splu(A))
    order = []

    def task(name, steps):
        def run():
            x = np.ones(N)
            for _ in range(steps):
                order.append(name)
                x = bs.solve(x)
            order.append(name + "-end")
            return name
        return run

    assert run_batched(bs, [task("a", 2), task("b", 1), task("c", 3)]) == ["a", "b", "c"]
    assert order == ["a", "b", "c", "a", "b-end", "c", "a-end", "c", "c-end"]


def test_task_errors_propagate_after_all_tasks_end():
    A, _, _ = _system()
    bs = BatchedSolver(spla.splu(A))
    done = []

    def bad():
        bs.solve(np.ones(N))
        raise ValueError("task failed")

    def good():
        x = np.ones(N)
        for _ in range(3):
            x = bs.solve(x)
        done.append(True)
        return x

    with pytest.raises(ValueError, match="task failed"):
        run_batched(bs, [good, bad])
    assert done == [True]
