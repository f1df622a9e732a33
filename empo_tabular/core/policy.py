"""The robot's power-law policy as a public, validated function."""
from __future__ import annotations

import numpy as np

from .._kernels.core import power_law_table
from .._validation import scalar_repr, as_array, as_real, check_scalar_range, fmt_index


def power_law_policy(Q, beta: float) -> np.ndarray:
    """``pi(a|s) = (-Q[s, a])**(-beta) / sum_b (-Q[s, b])**(-beta)``, row by row.

    Computed in log space (``softmax(-beta * log(-Q))``), so it neither
    overflows nor underflows for ``beta`` in ``[0, inf]`` and ``|Q|`` between
    1e-300 and 1e300.  ``beta = 0`` gives the uniform policy; ``beta = inf``
    the uniform policy over the actions with the largest ``Q`` (ties within
    1e-12 relative).

    Parameters
    ----------
    Q : array (n_actions,) or (n_states, n_actions)
        Strictly negative, finite values.
    beta : float
        Exponent in ``[0, inf]``.

    Returns
    -------
    ndarray of the shape of ``Q``.
    """
    beta = check_scalar_range(as_real(beta, "beta"), "beta", low=0.0, allow_inf=True)
    q = as_array(Q, "Q", kind="float")
    if q.ndim not in (1, 2) or q.shape[-1] < 1:
        raise ValueError(f"Q must have shape (n_actions,) or (n_states, n_actions) with n_actions >= 1, got {q.shape}")
    bad = np.flatnonzero(~(np.isfinite(q) & (q < 0)).ravel())
    if bad.size:
        idx = np.unravel_index(bad[0], q.shape)
        raise ValueError(f"Q with shape {q.shape} must be finite and strictly negative; entry {fmt_index(idx)} is {scalar_repr(q.flat[bad[0]])}")
    q2 = np.ascontiguousarray(q.reshape(-1, q.shape[-1]))
    out = np.empty_like(q2)
    power_law_table(q2, beta, np.ones(q2.shape[0], dtype=np.bool_), out)
    return out.reshape(q.shape)
