"""The convergence atlas: the design note's advice tested across worlds, beta_r, schemes, modes and seeds.

spec      SPEC parsing and validation (TOML), the named schemes, the bundled default
cells     cells, stable keys and seeds, (world, beta_r) groups
predict   the analyzer's prediction per group (linearised rates, ODE limit, multiplicity)
group     the per-group task: exact solution + prediction once, every SA cell
engine    run_atlas on Dask distributed (embedded LocalCluster, a scheduler address, or serial)
store     Parquet parts (atomic) and load_atlas
analysis  confusion matrices, disagreements, phase-diagram data, verdicts on the design note
report    atlas.md

Figures are drawn by :mod:`empo_tabular.plotting.atlas` (passed in by :mod:`empo_tabular.apps.atlas_job`).
"""
from .cells import cell_key, cell_seed, enumerate_groups
from .engine import AtlasRun, run_atlas
from .spec import DEFAULT_SPEC, NAMED_SCHEMES, AtlasSpec, SpecError, parse_spec
from .store import load_atlas

__all__ = ["AtlasRun", "AtlasSpec", "DEFAULT_SPEC", "NAMED_SCHEMES", "SpecError", "cell_key", "cell_seed",
           "enumerate_groups", "load_atlas", "parse_spec", "run_atlas"]
