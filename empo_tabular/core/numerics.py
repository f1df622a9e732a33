"""Numerics modes: full float64, or the public reference's half-precision storage (EMPO_SEMANTICS §5)."""
from __future__ import annotations

NUMERICS = ("float64", "reference_fp16")


def check_numerics(numerics) -> bool:
    """Return True for the float16-emulation mode; raise for unknown names."""
    if numerics not in NUMERICS:
        raise ValueError(f"numerics must be one of {NUMERICS}, got {numerics!r}")
    return numerics == "reference_fp16"
