"""Private Numba kernels: arrays in, preallocated arrays out, no validation.

Every kernel is decorated with :func:`kernel`, the one house decorator
(``njit`` with ``cache=True`` and ``error_model="numpy"``).  Set the
environment variable ``EMPO_TABULAR_NUMBA_CACHE=0`` to switch the on-disk
cache off (for example on a read-only installation without a writable
``NUMBA_CACHE_DIR``).

Kernels never validate their inputs and never raise with a formatted
message: where a numerical condition must be reported (for example
``X_h = 0``) they write a status code and the offending index into an
output array and the public layer raises the error.
"""
import os

from numba import njit

_CACHE = os.environ.get("EMPO_TABULAR_NUMBA_CACHE", "1").strip() not in ("0", "false", "no")


def kernel(fn=None, **options):
    """The house decorator: ``njit(cache=True, error_model="numpy")``."""
    opts = {"cache": _CACHE, "error_model": "numpy"}
    opts.update(options)
    if fn is None:
        return lambda f: njit(**opts)(f)
    return njit(**opts)(fn)
