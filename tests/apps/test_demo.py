"""The main job: `empo-tabular demo --quick` writes a self-contained report with its figures and data."""
import json
import re

from empo_tabular.cli import EXIT_OK, main


def test_demo_quick_writes_report_figures_and_data(tmp_path, capsys):
    out = tmp_path / "empo_out"
    assert main(["demo", "--quick", "--quiet", "--out", str(out)]) == EXIT_OK
    report = (out / "report.md").read_text()
    # every image the report shows exists
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(images) >= 5 + 1 + 4
    for rel in images:
        assert (out / rel).stat().st_size > 5000, rel
    # plain-words findings tie SA runs to the analyzer
    assert "## What was found" in report
    assert "SA with undamped equal rates" in report and "Jacobi map's spectral radius" in report
    assert "Self-check: ||J|| >= rho(|J|) >= rho(J) >= max Re holds in every row." in report
    # data next to the figures, loadable
    rows = json.loads((out / "lr_summary.json").read_text())
    assert {r["experiment"] for r in rows} == {"equal_rates", "u_r_fast", "q_r_fast", "frequency_separation_5to1",
                                              "staged_warmup_vs_none"}
    assert (out / "lr_summary.csv").read_text().count("\n") == len(rows) + 1
    import empo_tabular as et

    sol = et.load_result(out / "phase2_solution.npz")
    world = et.load_world(out / "world.npz")
    assert sol.world_checksum == world.checksum
    rep = et.load_contraction_report(out / "contraction" / "contraction.json")
    assert set(rep.maps) == {"reduced", "jacobi", "gauss_seidel"}
