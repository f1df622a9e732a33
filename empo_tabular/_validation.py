"""Small helpers that turn user input into checked arrays with clear errors.

Every error names the array, its shape and, where there is one, the first
offending index, so that a user can find the problem without a debugger.
"""
from __future__ import annotations

import dataclasses

import math
import numbers

import numpy as np


def scalar_repr(x):
    """A scalar as plain Python for messages (no ``np.float64(...)`` wrapper)."""
    try:
        return repr(x.item())
    except AttributeError:
        return repr(x)


def fmt_index(index) -> str:
    """Render a flat or tuple index as ``[i, j, k]``."""
    if isinstance(index, (tuple, list)):
        return "[" + ", ".join(str(int(i)) for i in index) + "]"
    return f"[{int(index)}]"


def as_array(value, name: str, *, kind: str, ndim: int | None = None, shape=None) -> np.ndarray:
    """Convert ``value`` to an array of the given kind and check its shape.

    ``kind`` is ``"float"``, ``"int"`` or ``"bool"``.  Integer arrays accept
    integer dtypes (and floats that are exactly integral); bool arrays accept
    bool or 0/1 integers; float arrays accept any real dtype.  ``shape`` may
    contain ``None`` for free dimensions.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many types
        raise TypeError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype == object or arr.dtype.kind in "USVMmO":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype} with shape {arr.shape}")
    if kind == "float":
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype} with shape {arr.shape}")
        arr = arr.astype(np.float64, copy=False)
    elif kind == "int":
        if arr.dtype.kind == "f":
            bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
            if bad.size:
                idx = np.unravel_index(bad[0], arr.shape)
                raise TypeError(
                    f"{name} must hold integers; entry {fmt_index(idx)} of shape {arr.shape} is {scalar_repr(arr.flat[bad[0]])}"
                )
        elif arr.dtype.kind not in "biu":
            raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype} with shape {arr.shape}")
        arr = arr.astype(np.int64, copy=False)
    elif kind == "bool":
        if arr.dtype.kind in "iuf":
            bad = np.flatnonzero((arr != 0) & (arr != 1))
            if bad.size:
                idx = np.unravel_index(bad[0], arr.shape)
                raise TypeError(
                    f"{name} must be boolean (0/1); entry {fmt_index(idx)} of shape {arr.shape} is {scalar_repr(arr.flat[bad[0]])}"
                )
        elif arr.dtype.kind != "b":
            raise TypeError(f"{name} must be a boolean array, got dtype {arr.dtype} with shape {arr.shape}")
        arr = arr.astype(np.bool_, copy=False)
    else:  # pragma: no cover - programming error
        raise AssertionError(kind)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(e is not None and e != a for e, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("*" if e is None else str(e) for e in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` at the first NaN or infinite entry."""
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        idx = np.unravel_index(bad[0], arr.shape)
        raise ValueError(f"{name} with shape {arr.shape} has a non-finite entry {scalar_repr(arr.flat[bad[0]])} at {fmt_index(idx)}")


def check_range(arr: np.ndarray, name: str, *, low=None, high=None, low_open=False, high_open=False) -> None:
    """Raise ``ValueError`` at the first entry outside ``[low, high]`` (or open ends)."""
    bad = np.zeros(arr.shape, dtype=bool)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    bad |= np.isnan(arr)
    flat = np.flatnonzero(bad)
    if flat.size:
        idx = np.unravel_index(flat[0], arr.shape)
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        rng = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ValueError(
            f"{name} with shape {arr.shape} must lie in {rng}; entry {fmt_index(idx)} is {scalar_repr(arr.flat[flat[0]])}"
        )


def as_real(value, name: str) -> float:
    """A real scalar (Python or NumPy), not bool, not complex."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        raise TypeError(f"{name} must be a real number, got a bool ({value!r})")
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf":
        return float(value)
    raise TypeError(f"{name} must be a real number, got {type(value).__name__} ({value!r})")


def as_int(value, name: str) -> int:
    """An integer scalar (Python or NumPy integer, or an integral float)."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        raise TypeError(f"{name} must be an integer, got a bool ({value!r})")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iu":
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")


def check_scalar_range(x: float, name: str, *, low=None, high=None, low_open=False, high_open=False,
                       allow_inf=False, meaning: str = "") -> float:
    """Check a scalar parameter's range; NaN is always rejected."""
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN{meaning}")
    if math.isinf(x) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {x}{meaning}")
    bad = False
    if low is not None:
        bad |= (x <= low) if low_open else (x < low)
    if high is not None:
        bad |= (x >= high) if high_open else (x > high)
    if bad:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(
            f"{name} must lie in {lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}, got {x}{meaning}"
        )
    return x


class DictRecord:
    """Mixin for frozen, validating dataclasses: ``replace``, ``to_dict``, ``from_dict``."""

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain dict of the fields (``inf`` stays ``inf``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        """Inverse of :meth:`to_dict`; unknown keys raise ``TypeError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise TypeError(f"unknown {cls.__name__} field(s): {unknown}; known: {sorted(names)}")
        return cls(**d)


def check_betas(betas, name: str = "betas", *, allow_inf: bool = False, sort: bool = True) -> list:
    """The one check of a beta_r grid: a non-empty sequence of real numbers >= 0 (finite unless
    ``allow_inf``); returns sorted, de-duplicated floats (``sort=False`` keeps order and repeats)."""
    if isinstance(betas, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of real numbers, got {type(betas).__name__}")
    try:
        arr = np.asarray(betas, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of real numbers, got {type(betas).__name__}") from None
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    bad = np.flatnonzero(np.isnan(arr) | (arr < 0) | (np.isinf(arr) if not allow_inf else False))
    if bad.size:
        need = ">= 0" if allow_inf else "finite and >= 0"
        raise ValueError(f"{name} must be {need}; {name}[{bad[0]}] = {float(arr[bad[0]])!r}")
    values = [float(b) for b in arr]
    return sorted(set(values)) if sort else values


def check_beta(beta, name: str = "beta", *, allow_inf: bool = False) -> float:
    """The one check of a single beta_r: a real number >= 0 (finite unless ``allow_inf``)."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(beta).__name__}")
    b = float(beta)
    if math.isnan(b) or b < 0 or (math.isinf(b) and not allow_inf):
        raise ValueError(f"{name} must be {'>= 0' if allow_inf else 'finite and >= 0'}, got {b!r}")
    return b
