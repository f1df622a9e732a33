"""When to run the level-parallel backward sweeps.

Backward induction on an acyclic world can process all states of one
height at once.  On small worlds the cost of starting threads outweighs the
gain (about 1.5 us per parallel region), so ``parallel="auto"`` uses threads
only from ``PARALLEL_MIN_STATES`` states on and only if Numba has more than
one thread.  The environment variable ``EMPO_TABULAR_PARALLEL=0`` turns it
off.  Results are bit-identical either way: no reduction crosses states.
"""
from __future__ import annotations

import os

import numba

PARALLEL_MIN_STATES = 1000


def use_parallel(n_states: int, parallel) -> bool:
    """Decide for ``parallel`` in {"auto", True, False}."""
    if parallel not in ("auto", True, False):
        raise ValueError(f"parallel must be 'auto', True or False, got {parallel!r}")
    if parallel is False or os.environ.get("EMPO_TABULAR_PARALLEL", "1").strip() in ("0", "false", "no"):
        return False
    if parallel is True:
        return True
    return n_states >= PARALLEL_MIN_STATES and numba.get_num_threads() > 1


def n_chunks() -> int:
    """Work chunks per level: one per Numba thread."""
    return max(1, numba.get_num_threads())


#: Stationary worlds from this many states on are swept in ``SWEEP_BLOCKS`` blocks that run in parallel
#: (Gauss-Seidel within a block, Jacobi between blocks;
#: ``_kernels.phase2_marginal.block_marginal_gauss_seidel_sweep``).  The
#: blocks depend on the size only, never on the threads, so the iterates -- and the bits of the answer -- are
#: the same on one thread or many.  Below it a sweep is too short for a parallel region to pay.
BLOCK_MIN_STATES = 50_000
SWEEP_BLOCKS = 2


def sweep_blocks(n_states: int):
    """Block boundaries into the sweep order (``int64``, ``SWEEP_BLOCKS + 1`` entries), or None below the size."""
    if n_states < BLOCK_MIN_STATES:
        return None
    import numpy as np

    return np.linspace(0, n_states, SWEEP_BLOCKS + 1).astype(np.int64)
