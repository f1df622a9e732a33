"""The command line: help, subcommands, one-line errors with exit codes, kill and --resume."""
import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from empo_tabular.apps.demo import DEMO_SCENARIO
from empo_tabular.cli import EXIT_OK, EXIT_USAGE, build_parser, main
from empo_tabular.sa.config import SAConfig

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


def test_verify_reference_defaults_to_the_shipped_case(capsys):
    assert main(["verify-reference"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("reference case trivial_br10.npz: 1115 states") and "-> OK" in out


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


def test_consistency_sa_kill_and_resume_is_bit_identical(tmp_path):
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


# ---------------------------------------------------------------- item 6: errors
def test_negative_betas_parse_and_are_refused_in_one_line(capsys, tmp_path):
    """argparse alone reads "-1,2" as an option; both spellings must reach the beta_r check."""
    for argv in (["--betas", "-1,2"], ["--betas=-1,2"]):
        _one_line_error(capsys, ["contraction", "corridor", *argv, "--out", str(tmp_path)],
                        "--betas must be finite and >= 0; --betas[0] = -1.0 (beta_r is the robot")


def test_negative_exponent_value_parses(capsys):
    """``--terminal-v-r -1e-3`` is a value, not an option (argparse alone rejects it)."""
    assert main(["solve", "corridor", "--terminal-v-r", "-1e-3", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["params"]["terminal_v_r"] == -1e-3


def test_gamma_r_one_on_cyclic_world_is_one_line(capsys):
    _one_line_error(capsys, ["solve", "corridor", "--gamma-r", "1"], "gamma_r = 1 on a cyclic world")


def test_gamma_h_one_on_cyclic_world_is_one_line(capsys):
    _one_line_error(capsys, ["solve", "corridor", "--gamma-h", "1"], "gamma_h = 1 on a cyclic world")


def test_gamma_one_with_finite_horizon_is_accepted(capsys):
    assert main(["solve", "corridor", "--horizon", "4", "--gamma-r", "1", "--gamma-h", "1"]) == EXIT_OK


# ---------------------------------------------------------------- item 7: help and console
def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action.choices


def test_demo_help_names_the_world_the_demo_runs(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert DEMO_SCENARIO in out and "door" not in out


def test_every_flag_states_meaning_and_default():
    parser, subs = _subparsers()
    for name, sub in subs.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction) or not action.option_strings:
                continue
            text = action.help or ""
            assert len(text) > 15, (name, action.option_strings)
            assert "default" in text.lower() or text.endswith("]"), (name, action.option_strings, text)


def test_parameter_flags_state_their_default():
    _, subs = _subparsers()
    helps = {a.dest: a.help for a in subs["solve"]._actions}
    assert "[0.99]" in helps["gamma_r"] and "[-1e-10]" in helps["terminal_v_r"]


def test_sa_help_lists_every_saconfig_field(capsys):
    with pytest.raises(SystemExit):
        main(["sa", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for f in dataclasses.fields(SAConfig):
        assert f"{f.name}=" in out, f.name


def test_solve_json_is_strict_and_complete(capsys):
    assert main(["solve", "corridor", "--beta-r", "inf", "--json"]) == EXIT_OK
    text = capsys.readouterr().out

    def refuse(token):
        raise AssertionError(f"non-strict JSON token {token}")

    doc = json.loads(text, parse_constant=refuse)
    assert doc["params"]["beta_r"] is None and doc["params_infinite"] == ["beta_r"]
    assert doc["V_r_s0"] < 0 and doc["V_r_s0_finite"] is True
    assert abs(sum(doc["pi_r_s0"].values()) - 1.0) < 1e-12 and "R0:stay" in doc["pi_r_s0"]
    for phase in ("phase1", "phase2"):
        assert doc[phase]["converged"] is True and doc[phase]["status"] == 0 and doc[phase]["seconds"] > 0


def test_sa_writes_trace_csv_and_prints_each_line_once(capsys, tmp_path):
    argv = ["sa", "corridor", "--steps", "2000", "--visit", "synchronous", "--out", str(tmp_path)]
    assert main(argv) == EXIT_OK
    cap = capsys.readouterr()
    lines = cap.out.splitlines()
    assert len(lines) == len(set(lines)), cap.out
    assert "SA:" not in cap.out  # the progress bar is on stderr
    rows = (tmp_path / "sa_trace.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[:3] == ["step", "updates", "beta_r"] and "err_sup_Q_r" in header
    assert [int(r.split(",")[0]) for r in rows[1:]][-1] == 2000


@pytest.mark.parametrize("argv", [["solve", "corridor"], ["scenarios"], ["scenarios", "corridor"],
                                  ["verify-reference"]])
def test_no_line_printed_twice(capsys, argv):
    assert main(argv) == EXIT_OK
    cap = capsys.readouterr()
    lines = [ln for ln in cap.out.splitlines() if ln.strip()]
    dup = {ln for ln in lines if lines.count(ln) > 1 and set(ln.strip()) - set("#|-+ ")}
    assert not dup, dup


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_contraction_prints_its_summary_once(capsys, tmp_path, quiet):
    argv = ["contraction", "corridor", "--betas", "0,1", "--no-sa", "--maps", "reduced", "--out", str(tmp_path),
            *quiet]
    assert main(argv) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("contraction report:") == 1, out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == len(set(lines)), out


def test_ctrl_c_says_interrupted_and_how_to_resume(tmp_path):
    """SIGINT after the first checkpoint: exit 130, 'interrupted' on its own stderr line, a --resume command."""
    out = tmp_path / "run"
    argv = ["sa", "corridor", "--steps", "50000000", "--mode", "sampled", "--out", str(out),
            "--checkpoint-every", "200000"]
    # a terminal's Ctrl-C: SIGINT at its default in the child, even when the suite itself runs as a background
    # job of a non-interactive shell (which starts its children with SIGINT ignored: the run then finished
    # with exit 0 despite the signal)
    proc = subprocess.Popen([sys.executable, "-m", "empo_tabular.cli", *argv], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    while not (out / "sa_checkpoint.npz").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    lines = stderr.replace("\r", "\n").splitlines()
    assert "empo-tabular sa: interrupted" in lines
    hint = lines[lines.index("empo-tabular sa: interrupted") + 1]
    assert hint.endswith(" --resume") and "empo-tabular sa corridor" in hint and "Traceback" not in stderr
    assert stdout == ""
