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

from ..core.storage import atomic_savez, meta_array, read_meta, versions


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
    meta = _identity(run)
    meta.update(kind="sa_checkpoint", kernel_seconds=float(kernel_seconds), versions=versions())
    arrays["meta_json"] = meta_array(meta)
    return atomic_savez(path, arrays, compress=False)


def load_checkpoint(path, run):
    """Read a checkpoint written for the same run; returns ``(state, trace, kernel_seconds)``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    with np.load(path, allow_pickle=False) as data:
        meta = read_meta(data)
        if meta.get("kind") != "sa_checkpoint":
            raise ValueError(f"{path} is not an SA checkpoint")
        want = _identity(run)
        for key, value in want.items():
            if meta.get(key) != value:
                raise ValueError(f"checkpoint {path} was written for a different run: {key} differs")
        state = {k[len("state_"):]: np.array(data[k]) for k in data.files if k.startswith("state_")}
        trace = {k[len("trace_"):]: list(np.array(data[k])) for k in data.files if k.startswith("trace_")}
    return state, trace, float(meta["kernel_seconds"])
