"""A saved world reproduces its owner's numbers: `empo-tabular solve WORLD.npz` uses the saved parameters."""
import re

import empo_tabular as et
from empo_tabular.cli import main
from empo_tabular.worlds.scenarios import get_scenario


def test_solve_on_a_saved_world_uses_its_parameters(tmp_path, capsys):
    gw, params = get_scenario("shared_switch")
    params = params.replace(gamma_r=0.5, beta_r=10.0)  # not the package defaults
    path = gw.world.save(tmp_path / "world.npz", params=params)
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    printed = float(re.search(r"V_r\(s0\) = (\S+)", out).group(1))
    prior = et.solve_phase1(gw.world, params)
    expected = et.solve_phase2(gw.world, prior, params).V_r[gw.world.initial_state]
    default = et.solve_phase2(gw.world, et.solve_phase1(gw.world, et.EmpoParams()), et.EmpoParams())
    assert abs(printed - expected) <= 1e-9 * abs(expected)
    assert abs(printed - default.V_r[gw.world.initial_state]) > 1e-3  # the defaults would give another number
