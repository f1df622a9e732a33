"""One way to save and load: an ``.npz`` of plain arrays plus a strict-JSON sidecar, written atomically.

Every saved object of the package (world, human prior, Phase 2 solution, SA run, SA checkpoint,
contraction report) is a *bundle*:

* ``<name>.npz``: the object's numeric arrays (no pickle) plus ``meta_json``, its metadata as a JSON
  string (the kind of object, parameters, seed, world checksum, versions, scalar fields);
* ``<name>.json``: the same metadata for people and other tools.

JSON is strict (RFC 8259): no ``NaN`` or ``Infinity`` tokens. A non-finite float is written as ``null``
and its JSON pointer is listed under the top-level key ``"nonfinite"`` with what it was (``"nan"``,
``"inf"``, ``"-inf"``), so :func:`loads_strict` restores it exactly. Writes go to a temporary file in the
target folder which is then renamed, so a killed process never leaves a half-written file, and the file
gets the permissions of the process umask (as any file created with ``open``).

Loading checks everything a user can get wrong and says so in one line naming the file: a missing file,
a folder, an empty, truncated or non-npz file, a file written by something else, a missing array.
"""
from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np

NONFINITE_KEY = "nonfinite"
_UMASK_LOCK = threading.Lock()


class StorageError(ValueError):
    """A file that cannot be read as the expected bundle (the message names the file and the problem)."""


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


# ----------------------------------------------------------------------------------------------- JSON
def jsonable(obj, _path: str = "", _nonfinite: dict | None = None, *, keep_nonfinite: bool = False):
    """``obj`` as plain JSON values: the one JSON coercion of the package.

    Numpy scalars and arrays, paths, tuples and complex numbers (``[re, im]``) are converted; objects with
    ``to_dict`` are converted through it. Non-finite floats become ``None`` and are recorded in
    ``_nonfinite`` (JSON pointer -> ``"nan" | "inf" | "-inf"``) when a dict is passed; with
    ``keep_nonfinite=True`` they stay floats (for in-memory tables that are made strict later)."""
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isfinite(x) or keep_nonfinite:
            return x
        if _nonfinite is not None:
            _nonfinite[_path or "/"] = "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
        return None
    if isinstance(obj, (complex, np.complexfloating)):
        z = complex(obj)
        return [jsonable(z.real, _path + "/0", _nonfinite, keep_nonfinite=keep_nonfinite),
                jsonable(z.imag, _path + "/1", _nonfinite, keep_nonfinite=keep_nonfinite)]
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    kw = {"keep_nonfinite": keep_nonfinite}
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist(), _path, _nonfinite, **kw)
    if isinstance(obj, dict):
        return {str(k): jsonable(v, f"{_path}/{_escape(str(k))}", _nonfinite, **kw) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, f"{_path}/{i}", _nonfinite, **kw) for i, v in enumerate(obj)]
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict(), _path, _nonfinite, **kw)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__} at {_path or '/'}")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def dumps_strict(obj, *, indent: int | None = 1) -> str:
    """Strict JSON text of a dict: non-finite floats as ``null`` plus the top-level ``"nonfinite"`` map."""
    nonfinite: dict = {}
    data = jsonable(obj, "", nonfinite)
    if nonfinite:
        if not isinstance(data, dict):
            raise TypeError("non-finite values can only be recorded in a top-level dict")
        data[NONFINITE_KEY] = dict(sorted(nonfinite.items()))
    return json.dumps(data, indent=indent, sort_keys=True, allow_nan=False)


def loads_strict(text: str, *, source: str = "JSON") -> dict:
    """Read strict JSON (``NaN``/``Infinity`` tokens refused) and restore the recorded non-finite values."""
    def refuse(token):
        raise StorageError(f"{source}: non-standard JSON token {token!r}")

    try:
        data = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise StorageError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict):
        for pointer, what in data.pop(NONFINITE_KEY, {}).items():
            _set_pointer(data, pointer, {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[what])
    return data


def _set_pointer(data, pointer: str, value) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")] if pointer != "/" else []
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if parts:
        if isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value


# ----------------------------------------------------------------------------------------------- writes
def _umask() -> int:
    with _UMASK_LOCK:
        mask = os.umask(0)
        os.umask(mask)
    return mask


def _atomic_write(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the umask's permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def npz_path(path) -> Path:
    """``path`` with ``.npz`` appended when it has another (or no) suffix."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def atomic_savez(path, arrays: dict, *, compress: bool = True) -> Path:
    """Write ``arrays`` to ``path`` (``.npz`` appended if missing) atomically; returns the final path."""
    return _atomic_write(npz_path(path), lambda fh: (np.savez_compressed if compress else np.savez)(fh, **arrays))


def atomic_write_text(path, text: str) -> Path:
    """Write a text file atomically (UTF-8)."""
    return _atomic_write(Path(path), lambda fh: fh.write(text.encode("utf-8")))


def save_bundle(path, kind: str, arrays: dict, meta: dict, *, compress: bool = True, sidecar: bool = True) -> Path:
    """Write ``<path>.npz`` (arrays + ``meta_json``) and, with ``sidecar``, ``<path>.json``; returns the npz.

    ``meta`` gets ``kind``, ``versions`` and ``arrays`` (the array names, checked on loading) added; it
    must be JSON-able by :func:`jsonable`.
    """
    meta = {**meta, "kind": kind, "versions": meta.get("versions") or versions(), "arrays": sorted(arrays)}
    text = dumps_strict(meta)
    out = atomic_savez(path, {**arrays, "meta_json": np.array(text)}, compress=compress)
    if sidecar:
        atomic_write_text(out.with_suffix(".json"), text + "\n")
    return out


def meta_array(meta: dict) -> np.ndarray:
    """Metadata as the 0-d unicode array stored under ``meta_json`` (strict JSON, loadable without pickle)."""
    return np.array(dumps_strict(meta))


def read_meta(data, *, source: str = "npz") -> dict:
    """Decode the ``meta_json`` entry of an opened ``.npz`` (see :func:`loads_strict`)."""
    if "meta_json" not in data.files:
        raise StorageError(f"{source}: no 'meta_json' entry; it was not written by empo_tabular")
    return loads_strict(str(data["meta_json"]), source=f"{source}: meta_json")


# ----------------------------------------------------------------------------------------------- reads
def load_bundle(path, kinds=None, *, what: str = "empo_tabular file", required=()) -> tuple:
    """Read a bundle; returns ``(arrays, meta)`` with every array loaded into memory.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` (``.npz`` is appended when missing).
    kinds : str or tuple of str, optional
        Accepted ``meta["kind"]`` values (any when None).
    what : str
        What the file should be, for messages ("world file", "SA checkpoint", ...).
    required : sequence of str
        Arrays that must be present.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    StorageError
        A folder, an empty, truncated or non-npz file, no ``meta_json``, another kind, a missing array.
    """
    path = npz_path(path)
    arrays, meta_text = read_npz(path, what=what)
    if meta_text is None:
        raise StorageError(f"{path}: not written by empo_tabular (no 'meta_json' entry); expected a {what}")
    meta = loads_strict(meta_text, source=f"{path}: meta_json")
    if kinds is not None:
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        if meta.get("kind") not in kinds:
            raise StorageError(f"{path}: holds a {meta.get('kind')!r}, not a {what} ({', '.join(kinds)})")
    check_arrays(path, arrays, list(required) + [a for a in meta.get("arrays", ()) if a not in required], what)
    return arrays, meta


def read_npz(path, *, what: str = "empo_tabular file") -> tuple:
    """Every array of an ``.npz`` (no pickle) and its ``meta_json`` text (None if absent), with one-line
    errors for a missing file, a folder, an empty, truncated or corrupt file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if path.is_dir():
        raise StorageError(f"{path}: is a folder, not a {what} (.npz)")
    if path.stat().st_size == 0:
        raise StorageError(f"{path}: is empty (0 bytes), not a {what}")
    if not zipfile.is_zipfile(path):
        raise StorageError(f"{path}: is not an .npz archive (truncated or not written by numpy); expected a {what}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: np.array(data[name]) for name in data.files if name != "meta_json"}
            meta = str(data["meta_json"]) if "meta_json" in data.files else None
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise StorageError(f"{path}: holds Python objects, which empo_tabular never writes or loads; "
                               f"expected a {what} of plain arrays") from None
        raise StorageError(f"{path}: unreadable .npz ({exc}); expected a {what}") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise StorageError(f"{path}: corrupt or truncated .npz ({type(exc).__name__}: {exc}); "
                           f"expected a {what}") from None
    return arrays, meta


def check_arrays(path, arrays: dict, required, what: str) -> None:
    """One-line error naming the file and the first missing array."""
    missing = [k for k in required if k not in arrays]
    if missing:
        raise StorageError(f"{path}: {what} has no array {missing[0]!r}"
                           + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""))
