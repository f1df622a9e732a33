"""Save and load result objects: :func:`save_result`, :func:`load_result`.

A :class:`~empo_tabular.HumanPrior`, :class:`~empo_tabular.Phase2Solution` or
:class:`~empo_tabular.sa.SAResult` is written as a bundle (:mod:`empo_tabular.core.storage`):

* ``<name>.npz``: every array of the object (plain numeric arrays, no pickle) plus ``meta_json``;
* ``<name>.json``: the same metadata in strict JSON, for people and other tools: the kind of result, its
  status fields (converged, status, message, iterations, residual, seconds), its other scalar fields,
  the parameters (and SA configuration and seed), the world checksum, the versions, the time of writing,
  and for an SA run its final errors against the exact solution.

Both writes are atomic. ``load_result`` reads the ``.npz`` alone and rebuilds an object equal to the
saved one (arrays bit for bit). Worlds are saved the same way by ``world.save`` /
:func:`~empo_tabular.load_world`.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from ..core.params import EmpoParams
from ..core.storage import load_bundle, save_bundle
from ..exact.phase1 import HumanPrior
from ..exact.system import Phase2Solution
from ..sa.config import SAConfig
from ..sa.engine import SAResult

KINDS = {"human_prior": HumanPrior, "phase2_solution": Phase2Solution, "sa_result": SAResult}
NESTED = {"params": EmpoParams, "config": SAConfig}


def _kind_of(obj) -> str:
    for kind, cls in KINDS.items():
        if isinstance(obj, cls):
            return kind
    raise TypeError(f"save_result saves a HumanPrior, Phase2Solution or SAResult, got {type(obj).__name__}")


def save_result(obj, path) -> Path:
    """Write a result object to ``path`` (``.npz``) and its metadata beside it (``.json``).

    Parameters
    ----------
    obj : HumanPrior, Phase2Solution or SAResult
    path : str or Path
        Target file; ``.npz`` is appended when missing.

    Returns
    -------
    Path
        The ``.npz`` written.
    """
    kind = _kind_of(obj)
    arrays, fields, dicts = {}, {}, {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            arrays[f"a__{f.name}"] = value
        elif f.name in NESTED:
            fields[f.name] = None if value is None else value.to_dict()
        elif isinstance(value, dict) and value and all(isinstance(v, (np.ndarray, list)) for v in value.values()):
            dicts[f.name] = sorted(value)
            for key, arr in value.items():
                arrays[f"d__{f.name}__{key}"] = np.asarray(arr)
        else:
            fields[f.name] = value
    meta = {"fields": fields, "dict_fields": dicts, "versions": getattr(obj, "versions", None),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for key in ("params", "config", "seed", "world_checksum", "converged", "status", "message"):
        if key in fields:
            meta[key] = fields[key]
    if isinstance(obj, SAResult):
        meta["final_errors"] = obj.final_errors()
    return save_bundle(path, kind, arrays, meta)


def load_result(path):
    """Load a result written by :func:`save_result` (the kind is read from the file).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        (:class:`~empo_tabular.core.storage.StorageError`) the file is a folder, empty, truncated, not an
        ``.npz``, not written by :func:`save_result`, or of an unknown kind; the message names the file.
    """
    arrays, meta = load_bundle(path, tuple(KINDS), what="result file")
    kwargs = dict(meta["fields"])
    for name, cls in NESTED.items():
        if kwargs.get(name) is not None:
            kwargs[name] = cls.from_dict(kwargs[name])
    for name, arr in arrays.items():
        if name.startswith("a__"):
            kwargs[name[3:]] = arr
    for name, keys in meta["dict_fields"].items():
        kwargs[name] = {k: arrays[f"d__{name}__{k}"] for k in keys}
    return KINDS[meta["kind"]](**kwargs)
