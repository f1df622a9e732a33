"""Reading the public reference's exports (``docs/REFERENCE_FORMAT.md``).

A reference export is an ``.npz`` with a finite world in CSR form, the human
prior as dense joint-profile arrays, the parameters and the reference's own
outputs (``ref_*``).  :func:`load_reference_export` turns it into a
:class:`TabularWorld`, a :class:`HumanPrior`, :class:`EmpoParams` and a dict
of the reference arrays; :func:`compare_with_reference` solves both phases
and reports the largest deviation per array.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.params import EmpoParams
from ..exact.phase1 import HumanPrior
from ..core.world import TabularWorld

PUBLIC_CASE = Path(__file__).resolve().parent / "data" / "trivial_br10.npz"
"""The public reference case (1115 states, 1 human, 1 robot, beta_r = 10), shipped with the package."""

REFERENCE_KEYS = ("ref_Vr", "ref_pi_r", "ref_Vhe", "ref_Qr", "ref_Xh", "ref_Ur", "ref_pi_h", "ref_Vhm")
REQUIRED = ("format_version", "n_states", "initial_state", "terminal", "human_profiles", "robot_profiles",
            "trans_ptr", "trans_succ", "trans_prob", "goal_count", "goal_weight", "achieved", "prior_profile",
            "prior_profile_fixed_goal", "beta_h", "beta_r", "zeta", "xi", "eta", "terminal_Vr")


@dataclass
class ReferenceCase:
    """A reference export: ``world``, ``prior``, ``params``, ``reference`` arrays and ``meta`` scalars."""

    world: TabularWorld
    prior: HumanPrior
    params: EmpoParams
    reference: dict
    meta: dict = field(default_factory=dict)
    path: str = ""


def _gamma(data, name):
    """Effective discount: ``gamma_*_eff`` if present (exp(-rho D)), else ``gamma_*``."""
    for key in (f"{name}_eff", name):
        if key in data.files:
            return float(data[key])
    return 1.0


def load_reference_export(path) -> ReferenceCase:
    """Load a reference export (any finite world, cyclic or not, any number of agents).

    ``params.c_r`` is taken from ``ur_duration_weight`` (1 if absent) and the
    discounts from ``gamma_h_eff`` / ``gamma_r_eff`` (the factors the
    reference actually applied).  The prior is built from
    ``prior_profile`` and ``prior_profile_fixed_goal`` and validated.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, missing arrays, unsupported ``format_version``, or an
        inconsistent world (with the usual array/shape/index message).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"reference export not found: {path}")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in REQUIRED if k not in data.files]
        if missing:
            raise ValueError(f"{path} is not a reference export: missing arrays {missing}")
        version = int(data["format_version"])
        if version != 1:
            raise ValueError(f"{path}: format_version {version} is not supported (this reader knows version 1)")
        robot_profiles = data["robot_profiles"]
        world = TabularWorld(
            int(data["n_states"]), int(data["initial_state"]), data["terminal"], robot_profiles.shape[0],
            data["human_profiles"], data["trans_ptr"], data["trans_succ"], data["trans_prob"], data["achieved"],
            data["goal_weight"], goal_count=data["goal_count"], robot_profiles=robot_profiles,
            info={"name": path.stem, "source": "reference export", "path": str(path)},
        )
        prior = HumanPrior.from_profiles(world, data["prior_profile"], data["prior_profile_fixed_goal"])
        c_r = float(data["ur_duration_weight"]) if "ur_duration_weight" in data.files else 1.0
        params = EmpoParams(
            beta_h=float(data["beta_h"]), gamma_h=_gamma(data, "gamma_h"), beta_r=float(data["beta_r"]),
            gamma_r=_gamma(data, "gamma_r"), zeta=float(data["zeta"]), xi=float(data["xi"]),
            eta=float(data["eta"]), terminal_v_r=float(data["terminal_Vr"]), c_r=c_r,
        )
        reference = {k: np.array(data[k]) for k in REFERENCE_KEYS if k in data.files}
        meta = {k: data[k].item() for k in data.files if data[k].shape == () and k not in REQUIRED}
    return ReferenceCase(world, prior, params, reference, meta, str(path))


# how each solution array maps onto the reference arrays, and how to compare it
COMPARISONS = (
    ("V_r", "ref_Vr", "relative"),
    ("Q_r", "ref_Qr", "relative"),
    ("X_h", "ref_Xh", "relative"),
    ("U_r", "ref_Ur", "relative"),
    ("pi_r", "ref_pi_r", "absolute"),
    ("V_h_e", "ref_Vhe", "absolute"),
)


def max_deviation(ours, ref, kind: str) -> float:
    """Largest deviation over entries where the reference is finite (NaN marks undefined)."""
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    mask = np.isfinite(ref)
    if not mask.any():
        return 0.0
    diff = np.abs(ours[mask] - ref[mask])
    if kind == "relative":
        diff = diff / np.maximum(np.abs(ref[mask]), 1e-300)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    return float(diff.max())


def compare_with_reference(case: ReferenceCase, numerics: str = "float64", *, phase1_from_world: bool = True) -> dict:
    """Solve the case and return the largest deviation from every reference array.

    Keys: the Phase 2 arrays (``V_r``, ``Q_r``, ``X_h``, ``U_r`` relative;
    ``pi_r``, ``V_h_e`` absolute) computed from the exported prior, and, when
    ``phase1_from_world``, ``pi_h``, ``V_h_m`` (absolute) and the two prior
    arrays (``profile``, ``profile_fixed_goal``, absolute) recomputed by
    Phase 1 from the world.
    """
    from ..exact.phase1 import solve_phase1
    from ..exact.phase2 import solve_phase2

    sol = solve_phase2(case.world, case.prior, case.params, numerics)
    out = {}
    for ours, ref, kind in COMPARISONS:
        if ref in case.reference:
            out[ours] = max_deviation(getattr(sol, ours), case.reference[ref], kind)
    if phase1_from_world:
        prior = solve_phase1(case.world, case.params, numerics)
        if "ref_pi_h" in case.reference:
            ref = case.reference["ref_pi_h"]
            out["pi_h"] = max_deviation(prior.pi_h[..., : ref.shape[-1]], ref, "absolute")
        if "ref_Vhm" in case.reference:
            out["V_h_m"] = max_deviation(prior.V_h_m, case.reference["ref_Vhm"], "absolute")
        out["profile"] = max_deviation(prior.profile, case.prior.profile, "absolute")
        out["profile_fixed_goal"] = max_deviation(prior.profile_fixed_goal, case.prior.profile_fixed_goal, "absolute")
    return out
