"""`empo-tabular score WORLD LEARNED.npz`: report, files, exit codes, one-line errors."""
import json

import numpy as np
import pytest

import empo_tabular as et
from empo_tabular.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from empo_tabular.worlds.scenarios import get_scenario


@pytest.fixture(scope="module")
def exact():
    gw, p = get_scenario("corridor")
    prior = et.solve_phase1(gw.world, p)
    return et.solve_phase2(gw.world, prior, p)


def test_score_command_prints_table_and_writes_files(exact, tmp_path, capsys):
    learned = tmp_path / "learned.npz"
    np.savez(learned, Q_r=exact.Q_r * (1 + 1e-3), pi_r=exact.pi_r, V_r=exact.V_r)
    out = tmp_path / "out"
    assert main(["score", "corridor", str(learned), "--out", str(out)]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Q_r  relative   1.000e-03" in text and "V_r(s0) gap" in text
    data = json.loads((out / "score.json").read_text())
    assert data["errors"]["Q_r"]["sup"] == pytest.approx(1e-3, rel=1e-9)
    assert (out / "score_report.txt").exists() and (out / "score_maps.png").stat().st_size > 0
    assert main(["score", "corridor", str(learned), "--out", str(out), "--tol", "1e-4"]) == EXIT_FAILED
    assert main(["score", "corridor", str(learned), "--out", str(out), "--tol", "1e-2"]) == EXIT_OK


def test_score_subcommand_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["score", "--help"])
    assert exc.value.code == 0
    assert "usage: empo-tabular score" in capsys.readouterr().out


def test_missing_learned_file_is_one_line(tmp_path, capsys):
    assert main(["score", "corridor", str(tmp_path / "none.npz")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "learned file not found" in err


def test_unknown_array_name_is_one_line(tmp_path, capsys):
    learned = tmp_path / "learned.npz"
    np.savez(learned, Q=np.zeros(3))
    assert main(["score", "corridor", str(learned)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds 'Q', which is not a Phase 2 quantity" in err


def test_wrong_shape_is_one_line(tmp_path, capsys):
    learned = tmp_path / "learned.npz"
    np.savez(learned, U_r=np.zeros(3))
    assert main(["score", "corridor", str(learned), "--out", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "learned['U_r'] has shape (3,), expected (20,)" in err
