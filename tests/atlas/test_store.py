"""Parquet parts: atomic writes, one row per cell on load, stable keys and seeds."""
import hashlib

import pytest

from empo_tabular.atlas import cell_key, cell_seed, load_atlas
from empo_tabular.atlas.store import cells_dir, done_keys, part_files, write_part


def _row(key, v):
    return {"cell_key": key, "world": "w", "beta_r": 1.0, "scheme": "s", "mode": "expected", "seed": 0,
            "value": v, "n_fixed_points": None, "steps_to_1e-3": 5}


def test_parts_are_written_whole_and_duplicates_dropped(tmp_path):
    write_part(tmp_path, "g1", [_row("a", 1.0), _row("b", 2.0)])
    write_part(tmp_path, "g1", [_row("a", 1.0)])  # a retried task wrote the same cell again
    assert len(part_files(tmp_path)) == 2
    assert not [p for p in cells_dir(tmp_path).iterdir() if p.suffix == ".tmp"]
    df = load_atlas(tmp_path)
    assert sorted(df["cell_key"]) == ["a", "b"]
    assert done_keys(tmp_path) == frozenset({"a", "b"})
    assert df["n_fixed_points"].isna().all()  # "not searched" stays missing, never a number


def test_a_leftover_temp_file_is_ignored(tmp_path):
    write_part(tmp_path, "g", [_row("a", 1.0)])
    (cells_dir(tmp_path) / ".part-x.parquet.1.tmp").write_bytes(b"half a file")
    assert len(load_atlas(tmp_path)) == 1


def test_load_atlas_without_parts(tmp_path):
    with pytest.raises(FileNotFoundError, match="no atlas parts"):
        load_atlas(tmp_path)


def test_cell_key_and_seed_are_stable():
    key = cell_key("door", 5, "u_r_fast", "sampled", 3)
    assert key == "door|5.0|u_r_fast|sampled|3"
    # BLAKE2b-64 of the key, top bit cleared (written out by hand, not through cell_seed)
    assert cell_seed(key) == int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") // 2
    assert 0 <= cell_seed(key) < 2**63
    assert cell_seed(key) != cell_seed(cell_key("door", 5, "u_r_fast", "sampled", 4))
