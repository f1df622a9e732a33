"""Save and load result objects: :func:`save_result`, :func:`load_result`.

A :class:`~empo_tabular.HumanPrior`, :class:`~empo_tabular.Phase2Solution`
or :class:`~empo_tabular.sa.SAResult` is written as

* ``<name>.npz``: every array of the object (plain numeric arrays, no
  pickle) plus ``meta_json``, the metadata as a JSON string, and
* ``<name>.json``: the same metadata, readable by people and other tools:
  the kind of result, its scalar fields, the parameters (and SA
  configuration and seed), the world checksum, the package and dependency
  versions, and the time of writing.

Both writes are atomic (temporary file, then rename).  ``load_result``
reads the ``.npz`` alone and rebuilds an object equal to the saved one
(arrays bit for bit).  Worlds have their own ``world.save`` /
:func:`~empo_tabular.load_world`; contraction reports their own
``save`` / ``load_contraction_report``.
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from ..core.params import EmpoParams
from ..exact.phase1 import HumanPrior
from ..exact.system import Phase2Solution
from ..core.storage import atomic_savez, atomic_write_text, meta_array, read_meta, versions
from ..sa.engine import SAResult
from ..sa.config import SAConfig

_KINDS = {"human_prior": HumanPrior, "phase2_solution": Phase2Solution, "sa_result": SAResult}
_NESTED = {"params": EmpoParams, "config": SAConfig}


def _kind_of(obj) -> str:
    for kind, cls in _KINDS.items():
        if isinstance(obj, cls):
            return kind
    raise TypeError(f"save_result saves a HumanPrior, Phase2Solution or SAResult, got {type(obj).__name__}")


def _npz_path(path) -> Path:
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


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
        elif f.name in _NESTED:
            fields[f.name] = None if value is None else value.to_dict()
        elif isinstance(value, dict) and value and all(isinstance(v, (np.ndarray, list)) for v in value.values()):
            dicts[f.name] = sorted(value)
            for key, arr in value.items():
                arrays[f"d__{f.name}__{key}"] = np.asarray(arr)
        else:
            fields[f.name] = value
    meta = {"kind": kind, "fields": fields, "dict_fields": dicts, "versions": versions(),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for key in ("params", "config", "seed", "world_checksum"):
        if key in fields:
            meta[key] = fields[key]
    arrays["meta_json"] = meta_array(meta)
    out = atomic_savez(_npz_path(path), arrays)
    atomic_write_text(out.with_suffix(".json"), json.dumps(json.loads(str(arrays["meta_json"])), indent=2,
                                                           sort_keys=True) + "\n")
    return out


def load_result(path):
    """Load a result written by :func:`save_result` (the kind is read from the file).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file was not written by :func:`save_result` or is of an unknown kind.
    """
    path = _npz_path(path)
    if not path.exists():
        raise FileNotFoundError(f"result file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable .npz file: {exc}") from None
    with data:
        meta = read_meta(data)
        kind = meta.get("kind")
        if kind not in _KINDS:
            raise ValueError(f"{path} holds a {kind!r}, not one of {sorted(_KINDS)}")
        kwargs = dict(meta["fields"])
        for name, cls in _NESTED.items():
            if kwargs.get(name) is not None:
                kwargs[name] = cls.from_dict(kwargs[name])
        for name in data.files:
            if name.startswith("a__"):
                kwargs[name[3:]] = np.array(data[name])
        for name, keys in meta["dict_fields"].items():
            kwargs[name] = {k: np.array(data[f"d__{name}__{k}"]) for k in keys}
    return _KINDS[kind](**kwargs)
