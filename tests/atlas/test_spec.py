"""SPEC validation: every bad SPEC gives one line naming the key and exit code 2 before anything runs."""
import math

import pytest

from empo_tabular.atlas import NAMED_SCHEMES, SpecError, enumerate_groups, parse_spec
from empo_tabular.cli import main
from empo_tabular.worlds.scenarios import list_scenarios

GOOD = """
betas = [1.0]
schemes = ["equal_fast"]
[[worlds]]
random = "tiny"
n_states = 5
"""


def _run_cli(tmp_path, text, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    out = tmp_path / "out"
    code = main(["atlas", str(spec), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    return code, err, out


@pytest.mark.parametrize("text, key", [
    (GOOD.replace('random = "tiny"\nn_states = 5', 'scenario = "atlantis"'), "worlds[0].scenario"),
    (GOOD.replace('["equal_fast"]', '["equal_fast", "adam"]'), "schemes"),
    (GOOD.replace("[1.0]", "[1.0, -0.5]"), "betas[1]"),
    (GOOD.replace("[1.0]", "[]"), "betas"),
], ids=["unknown world", "unknown scheme", "negative beta_r", "empty grid"])
def test_bad_spec_one_line_exit_2_nothing_runs(tmp_path, capsys, text, key):
    code, err, out = _run_cli(tmp_path, text, capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert key in err
    assert not out.exists()  # rejected before anything ran


def test_empty_kappa_grid_names_the_key():
    with pytest.raises(SpecError, match=r"grid\.kappa is empty"):
        parse_spec({"worlds": [{"random": "t"}], "grid": {"a": [0.5], "kappa": []}})


def test_grid_with_every_rate_above_one_is_empty():
    with pytest.raises(SpecError, match="grid: every"):
        parse_spec({"worlds": [{"random": "t"}], "grid": {"a": [0.5], "kappa": [3.0]}})


def test_unknown_top_level_key():
    with pytest.raises(SpecError, match="^sedes: unknown key"):
        parse_spec({"worlds": [{"random": "t"}], "schemes": ["equal_fast"], "sedes": 3})


def test_default_spec_covers_the_issue():
    """Every scenario and two random families, >= 6 beta_r from 0.1 to 300, the note's schemes, a grid, both
    modes, 5 seeds for sampled."""
    s = parse_spec(None)
    kinds = [w.kind for w in s.worlds]
    assert sorted(w.key for w in s.worlds if w.kind == "scenario") == sorted(list_scenarios())
    assert kinds.count("random") == 2
    assert len(s.betas) >= 6 and min(s.betas) == 0.1 and max(s.betas) == 300
    assert set(NAMED_SCHEMES) <= {x.name for x in s.schemes}
    assert any(x.name.startswith("grid_") for x in s.schemes) and any(x.name.startswith("grid_") for x in s.schemes_sampled)
    assert s.modes == ("expected", "sampled") and s.seeds == 5
    groups = enumerate_groups(s)
    assert len(groups) == len(s.worlds) * len(s.betas)
    per_group = len(s.schemes) + 5 * len(s.schemes_sampled)
    assert all(len(g.cells) == per_group for g in groups)
    assert all(math.isfinite(b) and b >= 0 for b in s.betas)
