"""Compile (or load from the Numba cache) the exact solvers' kernels before anything is timed."""


def warm_up_exact_kernels() -> None:
    """Solve Phase 1 and Phase 2 on two 6-state random worlds, one acyclic and one cyclic.

    Every kernel the exact solvers use is compiled (or loaded from the cache)
    on these tiny worlds, so that timings of real worlds exclude the JIT.
    """
    from ..core.params import EmpoParams
    from ..exact.phase1 import solve_phase1
    from ..exact.phase2 import solve_phase2
    from ..worlds.random_worlds import random_world

    p = EmpoParams(gamma_r=0.9, gamma_h=0.9)
    for acyclic in (True, False):
        w = random_world(6, acyclic=acyclic, seed=0)
        solve_phase2(w, solve_phase1(w, p), p)
