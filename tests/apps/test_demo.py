"""The main job: `empo-tabular demo --quick` writes a self-contained report with its figures, data and verdicts."""
import json
import re

import pytest

from empo_tabular.cli import EXIT_OK, main

#: The figures in the order of the argument: world, contraction, prediction vs SA, experiments, stochastic regime.
ORDER = ["world_overview.png", "contraction/indicators.png", "contraction/spectra_reduced.png",
         "contraction/spectra_jacobi.png", "contraction/spectra_gauss_seidel.png", "contraction/bifurcation.png",
         "contraction/region.png", "lr_equal_rates.png", "lr_u_r_fast.png", "lr_q_r_fast.png",
         "lr_frequency_separation_5to1.png", "lr_staged_warmup_vs_none.png", "lr_warmup_parts_and_targets.png",
         "sampled_regime.png"]


def _strict_json(path):
    """Load JSON refusing NaN/Infinity tokens (the demo writes strict JSON)."""
    def refuse(token):
        raise AssertionError(f"{path.name}: non-standard JSON token {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "empo_out"
    assert main(["demo", "--quick", "--quiet", "--out", str(out)]) == EXIT_OK
    return out, (out / "report.md").read_text()


def test_every_figure_exists_has_a_caption_and_comes_in_the_order_of_the_argument(demo):
    out, report = demo
    lines = report.splitlines()
    images = []
    for k, line in enumerate(lines):
        m = re.fullmatch(r"!\[[^\]]*\]\(([^)]+)\)", line.strip())
        if m:
            images.append(m.group(1))
            assert lines[k + 1] == "" and lines[k + 2].startswith("*Figure: ") and len(lines[k + 2]) > 80, line
    assert images == ORDER
    for rel in images:
        assert (out / rel).stat().st_size > 5000, rel


def test_verdict_table_has_one_row_per_claim_and_both_regimes(demo):
    out, report = demo
    assert "## Verdicts on the design note" in report
    table = [ln for ln in report.splitlines() if ln.startswith("| ") and "**" in ln]
    claims = ["Equal learning rates", "U_r pathway fast", "Q_r fast", "k evaluator updates", "Staged warm-up",
              "The β_r ramp", "Target networks", "monitoring table: Q_r loss oscillates",
              "monitoring table: U_r lags", "monitoring table: V_h^e unstable", "monitoring table: all losses plateau",
              "β_r behaviour table: β_r ≈ 0", "β_r behaviour table: β_r 1-5", "β_r behaviour table: β_r ≥ 10"]
    for claim in claims:
        row = next((ln for ln in table if ln.startswith(f"| {claim}")), None)
        assert row is not None, claim
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 8
        for verdict in (cells[3], cells[5]):
            assert re.fullmatch(r"\*\*(holds|fails|holds only when .+|not tested \(.+\))\*\*", verdict), verdict
    verdicts = _strict_json(out / "verdicts.json")
    assert set(verdicts) == {"claims_expected", "claims_sampled", "monitoring_expected", "monitoring_sampled",
                             "beta_table"}
    assert "stalled" not in report


def test_sampled_regime_has_at_least_five_seeds(demo):
    out, report = demo
    assert "## The stochastic regime (sampled, asynchronous, decaying rates)" in report
    rows = _strict_json(out / "sampled_summary.json")["rows"]
    assert rows and all(len(r["seeds"]) >= 5 and len(r["labels"]) == len(r["seeds"]) for r in rows)
    assert "this demo does not run the two-timescale pair with b_n/a_n → 0" in report


def test_findings_data_and_results_load(demo):
    out, report = demo
    assert "## What was found" in report
    assert "SA with undamped equal rates" in report and "Jacobi map's spectral radius" in report
    assert "Self-check: ||J|| >= rho(|J|) >= rho(J) >= max Re holds in every row." in report
    rows = _strict_json(out / "lr_summary.json")["rows"]
    assert {r["experiment"] for r in rows} == {"equal_rates", "u_r_fast", "q_r_fast", "frequency_separation_5to1",
                                              "staged_warmup_vs_none", "warmup_parts_and_targets"}
    assert (out / "lr_summary.csv").read_text().count("\n") == len(rows) + 1
    import empo_tabular as et

    sol = et.load_result(out / "phase2_solution.npz")
    world = et.load_world(out / "world.npz")
    assert sol.world_checksum == world.checksum
    rep = et.load_contraction_report(out / "contraction" / "contraction.json")
    assert set(rep.maps) == {"reduced", "jacobi", "gauss_seidel"}
    assert len(rep.sa_runs) == 3 * 3 and all(r["ran"] and r["label"] for r in rep.sa_runs)  # --quick: 3 a x 3 kappa
