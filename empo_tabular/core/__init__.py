"""The bottom layer: parameters, the finite world, the power-law policy, numerics modes, storage and results.

params       EmpoParams, the theory parameters (frozen, validated)
world        TabularWorld (CSR transitions, goals, terminal mask), load_world
policy       power_law_policy, the robot's policy pi_r ∝ (-Q_r)^(-beta_r)
numerics     the numerics modes ("float64", "reference_fp16")
storage      atomic writes, the npz + strict-JSON sidecar format, versions
results      the status contract every solver's result shares

Everything above imports from here; nothing here imports from above.
"""
from .params import EmpoParams
from .policy import power_law_policy
from .world import TabularWorld, load_world

__all__ = ["EmpoParams", "TabularWorld", "load_world", "power_law_policy"]
