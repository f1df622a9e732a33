"""Checkpoints of SA runs: the whole run state in one atomically written ``.npz``.

A checkpoint holds the online and target tables, the caches, visit counts,
goal assignments, counters, the generator state and the trace so far, plus
metadata identifying the run (world checksum, parameters, configuration,
seed, number of steps).  Resuming checks that the metadata matches, so a
checkpoint is never continued under different settings.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.storage import dumps_strict, load_bundle, loads_strict, save_bundle


def _identity(run) -> dict:
    return {
        "world_checksum": run.world.checksum,
        "params": run.params.to_dict(),
        "config": run.config.to_dict(),
        "seed": int(run.seed),
        "n_steps": int(run.n_steps),
    }


def save_checkpoint(path, run, trace: dict, kernel_seconds: float) -> Path:
    """Write the run's state (atomic: temporary file, then rename)."""
    arrays = {f"state_{k}": np.asarray(v) for k, v in run.state_arrays().items()}
    arrays.update({f"trace_{k}": np.asarray(v) for k, v in trace.items()})
    meta = {**_identity(run), "kernel_seconds": float(kernel_seconds)}
    return save_bundle(path, "sa_checkpoint", arrays, meta, compress=False)


def load_checkpoint(path, run):
    """Read a checkpoint written for the same run; returns ``(state, trace, kernel_seconds)``."""
    arrays, meta = load_bundle(path, "sa_checkpoint", what="SA checkpoint")
    want = loads_strict(dumps_strict(_identity(run)))  # the same JSON round trip the file went through
    for key, value in want.items():
        if meta.get(key) != value:
            raise ValueError(f"checkpoint {path} was written for a different run: {key} differs")
    state = {k[len("state_"):]: v for k, v in arrays.items() if k.startswith("state_")}
    trace = {k[len("trace_"):]: list(v) for k, v in arrays.items() if k.startswith("trace_")}
    return state, trace, float(meta["kernel_seconds"])
