"""A seedable random number generator inside Numba: xoshiro256** with splitmix64 seeding.

The state is a ``uint64[4]`` array owned by the caller, so a run can be
checkpointed and resumed bit for bit, and chunks of one run continue the same
stream.  (Numba's own ``np.random`` state cannot be saved from Python.)
"""
import numpy as np

from . import kernel

_U64 = np.uint64


@kernel(inline="always")
def _rotl(x, k):
    return (x << _U64(k)) | (x >> _U64(64 - k))


@kernel
def rng_seed(seed, state):
    """Fill ``state`` from an integer seed with splitmix64."""
    z = _U64(seed)
    for i in range(4):
        z = z + _U64(0x9E3779B97F4A7C15)
        x = z
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
        state[i] = x ^ (x >> _U64(31))


@kernel(inline="always")
def rng_next(state):
    """Next 64-bit output of xoshiro256**."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = _rotl(s1 * _U64(5), 7) * _U64(9)
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@kernel(inline="always")
def rng_uniform(state):
    """Uniform float64 in [0, 1) with 53 random bits."""
    return float(rng_next(state) >> _U64(11)) * (1.0 / 9007199254740992.0)


@kernel(inline="always")
def rng_index(n, state):
    """Uniform integer in [0, n)."""
    i = int(rng_uniform(state) * n)
    return i if i < n else n - 1


@kernel(inline="always")
def rng_categorical(p, state):
    """Index drawn with probabilities ``p`` (non-negative, summing to ~1)."""
    u = rng_uniform(state)
    acc = 0.0
    last = -1
    for i in range(p.shape[0]):
        if p[i] > 0.0:
            acc += p[i]
            last = i
            if u < acc:
                return i
    return last


@kernel(inline="always")
def rng_categorical_row(P, row, state):
    """Index drawn with probabilities ``P[row, :]`` (no array view)."""
    u = rng_uniform(state)
    acc = 0.0
    last = -1
    for i in range(P.shape[1]):
        if P[row, i] > 0.0:
            acc += P[row, i]
            last = i
            if u < acc:
                return i
    return last


@kernel(inline="always")
def rng_successor(ptr, succ, prob, row, state):
    """Successor of CSR row ``row`` drawn with its probabilities."""
    u = rng_uniform(state)
    acc = 0.0
    lo = ptr[row]
    hi = ptr[row + 1]
    for i in range(lo, hi):
        acc += prob[i]
        if u < acc:
            return succ[i]
    return succ[hi - 1]
