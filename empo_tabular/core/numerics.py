"""Numerics modes: full float64, or the public reference's half-precision storage (EMPO_SEMANTICS §5); and the
thread pins of BLAS and Numba."""
from __future__ import annotations

from contextlib import contextmanager

NUMERICS = ("float64", "reference_fp16")


def check_numerics(numerics) -> bool:
    """Return True for the float16-emulation mode; raise for unknown names."""
    if numerics not in NUMERICS:
        raise ValueError(f"numerics must be one of {NUMERICS}, got {numerics!r}")
    return numerics == "reference_fp16"


_BLAS = None


def one_blas_thread():
    """Context manager pinning BLAS to one thread (threadpoolctl; the library scan is done once and reused).

    The solvers' dense work is small vector and matrix products (Anderson mixing, small eigendecompositions),
    too small to gain from threads, and on a 2-core machine OpenBLAS's spinning worker threads take the core
    the Numba kernels need: measured on a 10^5-state stationary world, P1 + P2 took 9.1 s wall (9.0 s CPU,
    4.8 s of it in the main thread) with BLAS on 2 threads and 3.4-3.7 s on one; a dense 600 x 600
    eigendecomposition took 0.97 s threaded against 0.18 s on one thread.
    """
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


@contextmanager
def one_numba_thread():
    """Context manager running Numba's parallel regions (the block sweeps of worlds from 50,000 states, the
    level-parallel backward sweeps) on one thread, for work that is already one task of many in parallel
    (the atlas's groups: one per core).  ``numba.set_num_threads`` is per calling thread; restored on exit.
    The answers do not depend on it: the blocks are fixed by the size, never by the threads."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)
