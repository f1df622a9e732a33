"""Atlas results on disk: Parquet parts under ``DIR/cells/`` and :func:`load_atlas`.

Each finished group task writes one part ``DIR/cells/part-<group hash>-<uuid>.parquet``: first to a
temporary file in the same folder, then ``os.replace`` onto the final name, so a part is either
complete or absent (a worker killed mid-write leaves only a ``.tmp`` file, which is ignored).
A cell computed twice (a task retried after its part was written, two overlapping runs) appears in
two parts with the same ``cell_key``; :func:`load_atlas` keeps one row per key.
"""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

from ..core.storage import atomic_write_text

CELLS_DIR = "cells"


def cells_dir(out) -> Path:
    return Path(out) / CELLS_DIR


def write_part(out, group_key: str, rows: list) -> Path:
    """Write ``rows`` (list of dicts) as one Parquet part, atomically; returns its path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = cells_dir(out)
    d.mkdir(parents=True, exist_ok=True)
    tag = hashlib.blake2b(group_key.encode("utf-8"), digest_size=6).hexdigest()
    final = d / f"part-{tag}-{uuid.uuid4().hex[:12]}.parquet"
    tmp = d / f".{final.name}.{os.getpid()}.tmp"
    table = pa.Table.from_pylist(rows)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return final


def part_files(out) -> list:
    d = cells_dir(out)
    return sorted(d.glob("part-*.parquet")) if d.is_dir() else []


def done_keys(out) -> frozenset:
    """Cell keys present in the parts under ``out`` (reads only the key column)."""
    import pyarrow.parquet as pq

    keys = set()
    for f in part_files(out):
        keys.update(pq.read_table(f, columns=["cell_key"]).column("cell_key").to_pylist())
    return frozenset(keys)


def load_atlas(out):
    """The atlas under ``out`` as a pandas DataFrame, one row per cell (duplicates by ``cell_key`` dropped).

    Columns include ``world, beta_r, scheme, mode, seed, predicted_converges, predicted_rate, label,
    converged, err_<table>`` (Q_r, pi_r, V_h_e, X_h, U_r, V_r) and ``steps_to_1e-3`` (see
    :mod:`empo_tabular.atlas.group`).  Raises ``FileNotFoundError`` when ``out`` holds no part.
    """
    import pandas as pd
    import pyarrow.parquet as pq

    files = part_files(out)
    if not files:
        raise FileNotFoundError(f"no atlas parts under {cells_dir(out)} (run the atlas first)")
    frames = [pq.read_table(f).to_pandas() for f in files]
    df = pd.concat(frames, ignore_index=True)
    df = df.drop_duplicates(subset="cell_key", keep="first")
    for col in ("n_fixed_points", "steps_to_1e-3"):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df.sort_values(["world", "beta_r", "mode", "scheme", "seed"]).reset_index(drop=True)


RUNS_FILE = "runs.json"


def run_history(out) -> list:
    """Every :func:`run_atlas` call on ``out`` (dicts of :class:`AtlasRun` fields + ``cells_per_second``)."""
    import json

    path = os.path.join(out, RUNS_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def log_run(out, run) -> None:
    """Append one :class:`~empo_tabular.atlas.engine.AtlasRun` to ``out/runs.json`` (atomically)."""
    import json
    from dataclasses import asdict

    runs = run_history(out) + [{**asdict(run), "cells_per_second": run.cells_per_second,
                                "finished": time.strftime("%Y-%m-%d %H:%M:%S")}]
    atomic_write_text(os.path.join(out, RUNS_FILE), json.dumps(runs, indent=1, allow_nan=False))
