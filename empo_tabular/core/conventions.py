"""Conventions of the six Phase 2 arrays, each defined once: names, error rule, terminal values.

FIELDS
    ``Q_r, pi_r, V_h_e, X_h, U_r, V_r``: the order every result, trace and table uses.
RELATIVE
    Which errors are relative (``|a - b| / |b|``: Q_r, X_h, U_r, V_r, whose scale depends on the
    parameters) and which absolute (pi_r and V_h_e, probabilities in [0, 1]).
Terminal states (EMPO_SEMANTICS, boundary semantics)
    Q_r, X_h and U_r are undefined (NaN); pi_r is a zero row; V_h^e is 0; V_r is ``terminal_v_r``.
"""
from __future__ import annotations

import numpy as np

FIELDS = ("Q_r", "pi_r", "V_h_e", "X_h", "U_r", "V_r")
RELATIVE = {"Q_r": True, "pi_r": False, "V_h_e": False, "X_h": True, "U_r": True, "V_r": True}


def field_errors(name: str, approx, reference) -> np.ndarray:
    """Elementwise error of ``approx`` against ``reference`` by the rule of ``RELATIVE[name]``;
    entries that are not finite (NaN, division by 0) count as ``inf``, never as NaN."""
    a = np.asarray(approx, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    with np.errstate(all="ignore"):
        d = np.abs(a - b)
        if RELATIVE[name]:
            d = d / np.abs(b)
    return np.where(np.isfinite(d), d, np.inf)


def apply_terminal_conventions(terminal, terminal_v_r: float, arrays: dict) -> dict:
    """A copy of ``arrays`` (any of the six fields) with the terminal-state values set by convention."""
    term = np.asarray(terminal, dtype=bool)
    fill = {"Q_r": np.nan, "pi_r": 0.0, "V_h_e": 0.0, "X_h": np.nan, "U_r": np.nan, "V_r": float(terminal_v_r)}
    out = {}
    for name, arr in arrays.items():
        a = np.array(arr, dtype=np.float64, copy=True)
        a[term] = fill[name]
        out[name] = a
    return out
