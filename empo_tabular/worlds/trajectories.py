"""Trajectories of any :class:`TabularWorld` under a robot policy and a human profile distribution."""
from __future__ import annotations

import numpy as np

from .._validation import as_int
from ..core.world import TabularWorld


def rollout(world: TabularWorld, pi_r, human_profile, *, start=None, steps=20, mode="likely", seed=0):
    """A trajectory of ``world`` under a robot policy and a human profile distribution.

    Parameters
    ----------
    pi_r : (S, n_ar)           robot policy (e.g. ``Phase2Solution.pi_r``).
    human_profile : (S, n_ah)  joint human action distribution (e.g.
        ``HumanPrior.profile``, or ``profile_fixed_goal[:, h, g]`` for human
        ``h`` pursuing goal ``g``).
    start : int, optional      start state (default ``world.initial_state``).
    steps : int                maximum number of steps (stops at terminal states).
    mode : {"likely", "sample"}
        ``"likely"``: at every step the most probable joint action pair and
        then its most probable successor (ties to the lowest index);
        ``"sample"``: sampled with ``numpy.random.default_rng(seed)``.

    Returns
    -------
    dict with ``states`` (steps+1,), ``robot_actions`` and ``human_actions``
    (steps,) and ``probs`` (steps,): the probability of each chosen
    ``(a_r, a_h, s')`` given ``s``.
    """
    if mode not in ("likely", "sample"):
        raise ValueError(f"mode must be 'likely' or 'sample', got {mode!r}")
    rng = np.random.default_rng(seed)
    s = world.initial_state if start is None else as_int(start, "start")
    pi_r = np.asarray(pi_r, dtype=np.float64)
    prof = np.asarray(human_profile, dtype=np.float64)
    states, ar_l, ah_l, p_l = [s], [], [], []
    for _ in range(as_int(steps, "steps")):
        if world.terminal[s]:
            break
        joint = np.outer(pi_r[s], prof[s])
        if mode == "likely":
            flat = int(np.argmax(joint))
        else:
            flat = int(rng.choice(joint.size, p=joint.ravel() / joint.sum()))
        a_r, a_h = divmod(flat, world.n_ah)
        succ, pr = world.row(s, a_r, a_h)
        k = int(np.argmax(pr)) if mode == "likely" else int(rng.choice(pr.size, p=pr / pr.sum()))
        p_l.append(float(joint[a_r, a_h] * pr[k]))
        s = int(succ[k])
        states.append(s)
        ar_l.append(a_r)
        ah_l.append(a_h)
    return {"states": np.array(states), "robot_actions": np.array(ar_l, dtype=np.int64),
            "human_actions": np.array(ah_l, dtype=np.int64), "probs": np.array(p_l)}
