"""Tests of the report side of the analyzer: strict JSON, beta* flags, "not searched", stability per iteration,
and the indicator registry (one definition, derived from MapReport).

Expected words and values are written by hand from the issue's wording and CONTRACTION_THEORY §0 item 3.
"""
import csv
import io
import json
import math
import re
from dataclasses import fields

import numpy as np
import pytest

from empo_tabular import EmpoParams, random_world, solve_phase1
from empo_tabular.contraction import (
    BETA_STAR_INDICATORS,
    CHAIN,
    INDICATORS,
    EmpoMaps,
    MapReport,
    analyze_contraction,
    beta_crossings,
    load_contraction_report,
)
from empo_tabular.contraction.contraction_report import crossing_text
from empo_tabular.contraction.multiplicity import stability

FAST = dict(picard_steps=10, n_samples=3, adversarial=False)
PARAMS = EmpoParams(beta_h=5.0, gamma_h=0.9, gamma_r=0.9, zeta=2.0, xi=1.0, eta=1.1, beta_r=3.0)


@pytest.fixture(scope="module")
def cyclic():
    w = random_world(7, n_goals=2, n_actions=2, seed=11)
    return w, solve_phase1(w, PARAMS)


@pytest.fixture(scope="module")
def searched(cyclic):
    w, prior = cyclic
    return analyze_contraction(w, prior, PARAMS, [0.0, 3.0, 30.0], n_fixed_point_starts=3, options=FAST)


@pytest.fixture(scope="module")
def skipped(cyclic):
    w, prior = cyclic
    return analyze_contraction(w, prior, PARAMS, [0.0, 3.0, 30.0], maps=("reduced",), n_fixed_point_starts=3,
                               fixed_point_budget=0.0, options=FAST)


def _reject(token):
    raise ValueError(f"non-strict JSON token {token}")


def test_json_is_strict_and_round_trips(searched, tmp_path):
    text = searched.to_json()
    data = json.loads(text, parse_constant=_reject)  # raises on NaN / Infinity / -Infinity
    assert "null" in data["json_nulls"]
    assert any(r["lower_bound_adversarial"] is None for r in data["table"])  # NaN (not computed) -> null
    searched.save(tmp_path / "rep")
    json.loads((tmp_path / "rep.json").read_text(), parse_constant=_reject)
    back = load_contraction_report(tmp_path / "rep.json")
    assert back == searched
    assert math.isnan(back.table[0]["lower_bound_adversarial"])


def test_beta_star_records_null_plus_flag(searched):
    data = json.loads(searched.to_json(), parse_constant=_reject)
    seen = set()
    for by in data["beta_star_by_map"].values():
        for rec in by.values():
            seen.add(rec["status"])
            assert rec["status"] in ("crossed", "already_above_at_min_beta", "not_crossed_up_to", "no_data")
            if rec["status"] == "crossed":
                assert 0.0 < rec["first"] <= 30.0
            else:
                assert rec["first"] is None
            if rec["status"] != "no_data":
                assert rec["min_beta"] == 0.0 and rec["max_beta"] == 30.0
    assert "not_crossed_up_to" in seen or "already_above_at_min_beta" in seen


def test_crossings_in_words():
    above = beta_crossings([0.0, 1.0, 10.0], [1.2, 1.3, 1.5])
    below = beta_crossings([0.0, 1.0, 10.0], [0.5, 0.6, 0.7])
    up = beta_crossings([1.0, 10.0], [0.5, 1.5])
    assert above["status"] == "already_above_at_min_beta" and below["status"] == "not_crossed_up_to"
    assert crossing_text(above) == "≥ 1 already at the smallest beta_r (0)"
    assert crossing_text(below) == "not crossed up to beta_r = 10"
    assert up["status"] == "crossed" and crossing_text(up) == f"{10 ** 0.5:.4g}"


def test_not_searched_is_null_with_flag_everywhere(skipped):
    data = json.loads(skipped.to_json(), parse_constant=_reject)
    multi = data["beta_star"]["multi"]
    assert multi["searched"] is False and multi["status"] == "not_searched" and multi["first"] is None
    assert "fixed_point_budget" in multi["reason"]
    for r in data["table"]:
        assert r["n_fixed_points"] is None and r["fixed_points_searched"] is False
    for b in data["branch"]:
        assert b["n_fixed_points"] is None and b["fixed_points_searched"] is False
    rows = list(csv.DictReader(io.StringIO(skipped.table_csv())))
    assert all(r["n_fixed_points"] == "" and r["fixed_points_searched"] == "False" for r in rows)
    text = skipped.summary()
    assert "not searched" in text and "inf" not in text and "-1" not in text


def test_searched_reports_effort_and_points(searched, cyclic, tmp_path):
    w, prior = cyclic
    multi = searched.beta_star["multi"]
    assert multi["searched"] and multi["n_starts"] == 3 and multi["n_searched_betas"] == 3
    text = searched.summary()
    assert "3 starts" in text and not re.search(r"\bunique\b", text)
    em = EmpoMaps(w, prior, PARAMS)
    searched.save(tmp_path / "rep")
    arrays = load_contraction_report(tmp_path / "rep").fixed_point_arrays  # stored in the rep.npz bundle
    for i, (beta, br) in enumerate(zip(searched.betas, searched.branch)):
        assert br["fixed_points_searched"] and br["n_fixed_points"] == len(br["fixed_points"]) >= 1
        assert any(p["on_branch"] for p in br["fixed_points"])  # the branch point is always a start
        for k, p in enumerate(br["fixed_points"]):
            q = em.pack_q(arrays[f"Q_r__beta_{i}__point_{k}"])
            np.testing.assert_allclose(em.reduced(q, beta), q, rtol=1e-9)  # a fixed point of R_beta
            assert p["stable_sync"] == (p["rho"] < 1) and p["stable_ode"] == (p["max_re"] < 1)


def test_stability_names_the_iteration():
    assert stability(0.9, 0.5, 1.2) == {"stable_sync": True, "stable_ode": True, "stable_async": False}
    assert stability(1.1, 0.95, 1.3) == {"stable_sync": False, "stable_ode": True, "stable_async": False}
    assert stability(1.2, 1.05, 1.3)["stable_ode"] is False
    assert stability(0.9, 0.5, 1.2, "upper_bound")["stable_async"] is None  # a bound >= 1 decides nothing
    assert stability(0.9, 0.5, 0.95, "upper_bound")["stable_async"] is True
    assert stability(1.1, 0.5, 1.3, "upper_bound")["stable_async"] is False  # rho(|J|) >= rho(J) >= 1


def test_branch_entries_carry_stability_per_iteration(searched):
    rows = {r["beta_r"]: r for r in searched.rows("reduced")}
    for b in searched.branch:
        r = rows[b["beta_r"]]
        assert b["stable"] == b["stable_sync"] == (r["rho"] < 1)
        assert b["stable_ode"] == (r["max_re"] < 1) and b["stable_async"] == (r["rho_abs"] < 1)


def test_indicator_registry_is_derived_from_the_report():
    names = [i.name for i in INDICATORS]
    field_names = {f.name for f in fields(MapReport)}
    assert set(names) <= field_names
    assert BETA_STAR_INDICATORS == tuple(i.name for i in INDICATORS if i.beta_star)
    assert CHAIN == ("sup_norm", "rho_abs", "rho", "max_re")  # ||J|| >= rho(|J|) >= rho(J) >= max Re
    by = {i.name: i for i in INDICATORS}
    assert by["rho"].iteration == "synchronous undamped"
    assert by["max_re"].iteration.startswith("small damped steps")
    assert by["rho_abs"].iteration == "asynchronous"
    assert "D = diag(|x*|)" in by["log_norm"].description
    assert "step ratio" in by["picard_ratio"].description
    assert all(i.label and i.description.startswith(i.name) for i in INDICATORS)


def test_table_columns_are_the_report_scalars(searched):
    row = searched.table[0]
    for k in MapReport.SCALARS:
        assert k in row
    for k in ("stable_sync", "stable_ode", "stable_async", "rho_abs_kind", "fixed_points_searched"):
        assert k in row


def test_search_argument_errors(cyclic):
    w, prior = cyclic
    with pytest.raises(ValueError, match="fixed_point_budget"):
        analyze_contraction(w, prior, PARAMS, [0.0, 1.0], fixed_point_budget=-1.0, options=FAST)
    with pytest.raises(ValueError, match="fixed_point_jobs"):
        analyze_contraction(w, prior, PARAMS, [0.0, 1.0], fixed_point_jobs=0, options=FAST)
    with pytest.raises(ValueError, match="fixed_point_box"):
        analyze_contraction(w, prior, PARAMS, [0.0, 1.0], maps=("reduced",), fixed_point_box=0.5, options=FAST)
    with pytest.raises(ValueError, match="reduced_route"):
        analyze_contraction(w, prior, PARAMS, [0.0, 1.0], options={**FAST, "reduced_route": "sparse"})


def test_user_starts_and_parallel_starts_in_the_sweep(cyclic):
    w, prior = cyclic
    em = EmpoMaps(w, prior, PARAMS)
    rep = analyze_contraction(w, prior, PARAMS, [2.0], maps=("reduced",), n_fixed_point_starts=2,
                              fixed_point_jobs=2, fixed_point_starts=np.full((1, em.n_q), -3.0), options=FAST)
    br = rep.branch[0]
    assert br["fixed_points_searched"] and br["n_fixed_points"] >= 1
    assert rep.beta_star["multi"]["n_starts"] == 2


def test_report_is_one_bundle_with_a_strict_sidecar(searched, tmp_path):
    """Saved like every other result: <prefix>.npz (arrays + meta_json) and a strict <prefix>.json sidecar."""
    from empo_tabular.core.storage import load_bundle

    searched.save(tmp_path / "rep")
    arrays, meta = load_bundle(tmp_path / "rep.npz", "contraction_report")
    assert meta["kind"] == "contraction_report"
    assert sorted(arrays) == sorted(f"fp__{k}" for k in searched.fixed_point_arrays)
    json.loads((tmp_path / "rep.json").read_text(), parse_constant=_reject)
    assert load_contraction_report(tmp_path / "rep.npz") == searched


def test_report_folder_instead_of_file_is_one_line(tmp_path):
    (tmp_path / "rep.npz").mkdir()
    with pytest.raises(ValueError, match=r"rep\.npz: is a folder"):
        load_contraction_report(tmp_path / "rep")
