"""The command line: help, subcommands, one-line errors with exit codes, kill and --resume."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from empo_tabular.cli import EXIT_OK, EXIT_USAGE, main

SUBCOMMANDS = ("demo", "solve", "sa", "contraction", "verify-reference", "scenarios")


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert "usage: empo-tabular " + name in capsys.readouterr().out


def test_no_subcommand_prints_help_and_fails(capsys):
    assert main([]) == EXIT_USAGE
    assert "COMMAND" in capsys.readouterr().out


def test_solve_default_world_prints_value_policy_and_timings(capsys, tmp_path):
    assert main(["solve", "--save", str(tmp_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "V_r(s0) = -" in out and "pi_r(.|s0)" in out
    assert "Phase 1:" in out and "Phase 2:" in out and " ms" in out
    assert {"phase2_solution.npz", "phase1_prior.npz", "world.npz"} <= {p.name for p in tmp_path.iterdir()}
    # a saved world file is accepted as WORLD
    assert main(["solve", str(tmp_path / "world.npz"), "--gamma-r", "0.9", "--gamma-h", "0.9"]) == EXIT_OK


def test_scenarios_list_and_show(capsys, tmp_path):
    assert main(["scenarios"]) == EXIT_OK
    assert "door" in capsys.readouterr().out
    assert main(["scenarios", "corridor", "--plot", str(tmp_path / "c.png")]) == EXIT_OK
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_verify_reference_public_case(capsys, public_case):
    assert main(["verify-reference", public_case.path]) == EXIT_OK
    out = capsys.readouterr().out
    assert "OK" in out and "pi_r" in out


def _one_line_error(capsys, argv, needle):
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert needle in err


def test_missing_world_file_is_one_line(capsys, tmp_path):
    _one_line_error(capsys, ["solve", str(tmp_path / "missing.npz")], "world file not found")


def test_unknown_scenario_is_one_line(capsys):
    _one_line_error(capsys, ["solve", "kitchen"], "unknown scenario 'kitchen'")


def test_bad_parameter_is_one_line(capsys):
    _one_line_error(capsys, ["solve", "--gamma-r", "1.5"], "gamma_r")


def test_malformed_world_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, n_states=np.array(3))
    _one_line_error(capsys, ["solve", str(bad)], "bad.npz")


def test_missing_reference_case_is_one_line(capsys, tmp_path):
    _one_line_error(capsys, ["verify-reference", str(tmp_path / "x.npz")], "reference export not found")


def test_bad_sa_field_is_one_line(capsys, tmp_path):
    _one_line_error(capsys, ["sa", "--set", "lr_q_r=2", "--out", str(tmp_path)], "SAConfig.lr_q_r")


def test_non_numeric_flag_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve", "--beta-r", "ten"])
    assert exc.value.code == 2
    assert "not a number" in capsys.readouterr().err


def _load_tables(path):
    with np.load(path) as d:
        return {k: np.array(d[k]) for k in d.files if k.startswith("a__")}


def test_sa_kill_and_resume_is_bit_identical(tmp_path):
    """A real SIGKILL after the first checkpoint, then --resume: same bits as an uninterrupted run."""
    common = ["sa", "corridor", "--steps", "3000000", "--mode", "sampled", "--seed", "3", "--quiet"]
    killed = tmp_path / "killed"
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "empo_tabular.cli", *common, "--out", str(killed),
                                 "--checkpoint-every", "100000"], env=dict(os.environ), stdout=subprocess.DEVNULL,
                                stderr=err)
    ckpt = killed / "sa_checkpoint.npz"
    deadline = time.time() + 240
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert ckpt.exists(), log.read_text()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "sa_result.npz").exists()
    with np.load(ckpt) as d:
        assert 0 < int(d["state_ctr"][0]) < 3_000_000
    assert main([*common, "--out", str(killed), "--checkpoint-every", "100000", "--resume"]) == EXIT_OK
    assert main([*common, "--out", str(tmp_path / "full")]) == EXIT_OK
    a, b = _load_tables(killed / "sa_result.npz"), _load_tables(tmp_path / "full" / "sa_result.npz")
    assert set(a) == set(b) and "a__Q_r" in a
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
