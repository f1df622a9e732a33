"""Saving results that last: atomic ``.npz`` writes with JSON metadata.

Every result object of the package (world, human prior, Phase 2 solution,
SA run, contraction report) is written as one ``.npz`` file holding plain
numeric arrays plus a JSON string ``meta_json`` with the parameters, the
seed, the package and dependency versions and the world checksum.  Writes go
to a temporary file in the target folder which is then renamed, so a
killed process never leaves a half-written result behind.
"""
from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path

import numpy as np


def versions() -> dict:
    """Versions of Python, this package and its numerical dependencies."""
    import numba
    import scipy

    from .._version import __version__

    return {
        "empo_tabular": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "scipy": scipy.__version__,
    }


def atomic_savez(path, arrays: dict, *, compress: bool = True) -> Path:
    """Write ``arrays`` to ``path`` (``.npz``) atomically; returns the final path."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            (np.savez_compressed if compress else np.savez)(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write a text file atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def meta_array(meta: dict) -> np.ndarray:
    """Encode metadata as a 0-d unicode array (loadable without pickle)."""
    return np.array(json.dumps(meta, sort_keys=True, default=_json_default))


def read_meta(data) -> dict:
    """Decode the ``meta_json`` entry of an opened ``.npz``."""
    if "meta_json" not in data.files:
        raise ValueError("file has no 'meta_json' entry; it was not written by empo_tabular")
    return json.loads(str(data["meta_json"]))


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
