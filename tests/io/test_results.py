"""Results that last: save_result / load_result round trips, atomic writes, errors."""
import dataclasses
import json
import math

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.core.storage import StorageError, loads_strict
from empo_tabular.io.results import load_result, save_result
from empo_tabular.sa.engine import run_sa
from empo_tabular.sa.config import SAConfig


def _refuse(token):
    raise AssertionError(f"non-standard JSON token {token}")


def _assert_same(a, b):
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        elif isinstance(x, dict) and x and isinstance(next(iter(x.values())), np.ndarray):
            assert set(x) == set(y), f.name
            for k in x:
                np.testing.assert_array_equal(np.asarray(x[k]), y[k], err_msg=f"{f.name}[{k}]")
        elif isinstance(x, float) and math.isnan(x):
            assert math.isnan(y)
        else:
            assert x == y or list(x) == list(y), f.name


@pytest.fixture(scope="module")
def solved():
    w = et.random_world(15, seed=1, n_humans=2, n_actions=2)
    p = et.EmpoParams(beta_r=3.0, beta_h=math.inf, gamma_r=0.9)
    prior = et.solve_phase1(w, p)
    return w, p, prior, et.solve_phase2(w, prior, p)


def test_prior_and_solution_round_trip(tmp_path, solved):
    w, p, prior, sol = solved
    for obj, name in ((prior, "prior"), (sol, "solution")):
        path = save_result(obj, tmp_path / name)
        assert path.suffix == ".npz" and path.with_suffix(".json").exists()
        _assert_same(obj, load_result(path))


def test_sa_result_round_trip_and_metadata(tmp_path, solved):
    w, p, prior, sol = solved
    res = run_sa(w, prior, p, SAConfig(mode="sampled"), 2000, exact=sol, seed=3, record_every=500)
    path = save_result(res, tmp_path / "run.npz")
    _assert_same(res, load_result(path))
    text = path.with_suffix(".json").read_text()
    meta = json.loads(text, parse_constant=_refuse)  # strict JSON: no NaN / Infinity tokens
    assert meta["params"]["beta_h"] is None and meta["nonfinite"]["/params/beta_h"] == "inf"
    meta = loads_strict(text)
    assert meta["kind"] == "sa_result" and meta["seed"] == 3
    assert meta["final_errors"] == res.final_errors() and meta["status"] == res.status
    assert meta["world_checksum"] == w.checksum
    assert meta["config"]["mode"] == "sampled"
    assert meta["params"]["beta_h"] == math.inf
    assert {"numpy", "numba", "scipy", "empo_tabular"} <= set(meta["versions"])


def test_save_leaves_no_temporary_files(tmp_path, solved):
    save_result(solved[3], tmp_path / "s")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.npz"]


def test_save_rejects_other_objects(tmp_path):
    with pytest.raises(TypeError, match="save_result saves a HumanPrior"):
        save_result({"Q_r": np.zeros(2)}, tmp_path / "x")


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="result file not found"):
        load_result(tmp_path / "nope.npz")


def test_load_foreign_npz(tmp_path):
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not written by empo_tabular"):
        load_result(tmp_path / "foreign.npz")


def test_load_garbage_file(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(StorageError, match=r"bad\.npz: is not an \.npz archive"):
        load_result(tmp_path / "bad.npz")


def test_load_empty_file(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(StorageError, match=r"empty\.npz: is empty \(0 bytes\)"):
        load_result(tmp_path / "empty.npz")


def test_load_random_bytes(tmp_path):
    (tmp_path / "noise.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(StorageError, match=r"noise\.npz: is not an \.npz archive"):
        load_result(tmp_path / "noise.npz")


def test_load_truncated_file(tmp_path, solved):
    path = save_result(solved[3], tmp_path / "s")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match=r"s\.npz: .*(truncated|corrupt)") as err:
        load_result(path)
    assert "\n" not in str(err.value) and "pickle" not in str(err.value)


def test_load_folder(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(StorageError, match=r"dir\.npz: is a folder"):
        load_result(tmp_path / "dir.npz")


def test_load_file_missing_an_array(tmp_path, solved):
    path = save_result(solved[3], tmp_path / "s")
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files if k != "a__Q_r"}
    np.savez(path, **arrays)
    with pytest.raises(StorageError, match=r"s\.npz: result file has no array 'a__Q_r'"):
        load_result(path)


def test_load_pickled_npz_never_suggests_pickle(tmp_path):
    np.savez(tmp_path / "obj.npz", meta_json=np.array("{}"), x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(StorageError, match="holds Python objects") as err:
        load_result(tmp_path / "obj.npz")
    assert "allow_pickle" not in str(err.value)


def test_saved_files_respect_the_umask(tmp_path, solved):
    import os

    old = os.umask(0o027)
    try:
        path = save_result(solved[3], tmp_path / "s")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.with_suffix(".json").stat().st_mode & 0o777 == 0o640
