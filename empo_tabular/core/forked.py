"""Independent jobs over forked worker processes: :func:`map_forked`; chains fed while produced: :class:`StreamedChains`.

The function and its items are inherited by the forked workers (nothing but the item index and the
results cross a pipe), so closures over worlds and exact solutions work.  Without ``fork`` (or inside a
daemonic process) the items run in this process, in order.  Results come back in item order whatever
the timing, so a job's output does not depend on ``n_jobs``.
"""
from __future__ import annotations

__all__ = ["StreamedChains", "map_forked"]

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


def _stream_worker(fn, inbox, outbox):
    """Body of a :class:`StreamedChains` worker: ``fn(k, item, state)`` for each ``(k, item)`` until ``None``."""
    state, out = {}, []
    try:
        while True:
            msg = inbox.get()
            if msg is None:
                break
            k, item = msg
            out.append((k, fn(k, item, state)))
        outbox.put(("ok", out))
    except BaseException as exc:  # sent back and re-raised by StreamedChains.results
        try:
            outbox.put(("error", exc))
        except Exception:  # an exception that does not pickle
            outbox.put(("error", RuntimeError(repr(exc))))


class StreamedChains:
    """Chains of dependent items in ``n_jobs`` forked workers, fed while the items are still being produced.

    Item ``k`` goes to worker ``k % n_jobs``, which runs ``fn(k, item, state)`` on its items in the order they
    are fed (``state``: a dict private to the worker, e.g. warm starts carried along its chain), so the results
    do not depend on timing.  :meth:`feed` does not wait for the worker (a queue's feeder thread sends the
    item).  The workers are forked when the object is made, so ``fn`` and what it closes over are inherited;
    ``ValueError``, ``AssertionError`` or ``OSError`` there means no ``fork`` (or a daemonic process): the
    caller then runs its items another way.
    """

    def __init__(self, fn, n_jobs: int):
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self.n_jobs = int(n_jobs)
        self._in = [ctx.Queue() for _ in range(self.n_jobs)]
        self._out = [ctx.Queue() for _ in range(self.n_jobs)]
        self._procs = []
        try:
            for j in range(self.n_jobs):
                p = ctx.Process(target=_stream_worker, args=(fn, self._in[j], self._out[j]), daemon=True)
                p.start()
                self._procs.append(p)
        except BaseException:
            self.close()
            raise

    def feed(self, k: int, item) -> None:
        self._in[k % self.n_jobs].put((k, item))

    def results(self) -> dict:
        """End the chains and return ``{k: fn's result}``; re-raises the first worker's exception."""
        for q in self._in:
            q.put(None)
        out, error = {}, None
        for j, q in enumerate(self._out):
            kind, payload = self._reply(j, q)
            if kind == "ok":
                out.update(payload)
            elif error is None:
                error = payload
        self.close()
        if error is not None:
            raise error
        return out

    def _reply(self, j, q):
        """Worker ``j``'s reply; an error reply if it died without one (killed, or ``os._exit``), where a plain
        ``get`` would wait for ever."""
        import queue

        while True:
            try:
                return q.get(timeout=1.0)
            except queue.Empty:
                if not self._procs[j].is_alive():
                    try:  # what it sent before exiting is flushed to the pipe by then
                        return q.get(timeout=1.0)
                    except queue.Empty:
                        return "error", RuntimeError(f"StreamedChains worker {j} exited with code "
                                                     f"{self._procs[j].exitcode} and sent no results")

    def close(self) -> None:
        """Stop the workers (at once, without results)."""
        for p in self._procs:
            if p.is_alive():
                p.terminate()
            p.join()
        self._procs = []
