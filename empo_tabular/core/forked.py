"""Independent jobs over forked worker processes: :func:`map_forked`.

The function and its items are inherited by the forked workers (nothing but the item index and the
results cross a pipe), so closures over worlds and exact solutions work.  Without ``fork`` (or inside a
daemonic process) the items run in this process, in order.  Results come back in item order whatever
the timing, so a job's output does not depend on ``n_jobs``.
"""
from __future__ import annotations

__all__ = ["map_forked"]

_JOBS: dict = {}


def _run_slice(args):
    key, start, step = args
    fn, items = _JOBS[key]
    return [(k, fn(items[k])) for k in range(start, len(items), step)]


def map_forked(fn, items, n_jobs: int = 1) -> list:
    """``[fn(x) for x in items]``, spread over ``n_jobs`` forked processes (interleaved slices).

    Parameters
    ----------
    fn : callable
        Called once per item; its result must be picklable when ``n_jobs > 1``.
    items : sequence
    n_jobs : int >= 1

    Returns
    -------
    list
        The results in item order.
    """
    items = list(items)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an integer >= 1, got {n_jobs!r}")
    n_jobs = min(n_jobs, max(1, len(items)))
    if n_jobs == 1:
        return [fn(x) for x in items]
    import multiprocessing as mp

    key = id(fn)
    _JOBS[key] = (fn, items)
    try:
        try:
            ctx = mp.get_context("fork")
            with ctx.Pool(n_jobs) as pool:
                parts = pool.map(_run_slice, [(key, j, n_jobs) for j in range(n_jobs)])
        except (ValueError, AssertionError, OSError):  # no fork, or inside a daemonic process
            parts = [_run_slice((key, 0, 1))]
    finally:
        _JOBS.pop(key, None)
    out = [None] * len(items)
    for part in parts:
        for k, r in part:
            out[k] = r
    return out
