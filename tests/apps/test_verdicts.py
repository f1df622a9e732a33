"""The verdict rules on constructed run records: each rule's holds / fails / holds-only-when branch.

Expected verdicts are written by hand from the rules in the module docstring of
``empo_tabular.apps.verdicts``; no expected value is computed by the code under test.
"""
from empo_tabular.apps.verdicts import (
    beta_table_verdicts,
    better,
    evaluate_claims,
    format_table,
    monitoring_verdicts,
    run_record,
    same_effect,
    verdict_from_cases,
)
from empo_tabular.sa.config import SAConfig


def cfg(ev, q, **kw):
    return SAConfig(lr_v_h_e=ev, lr_x_h=ev, lr_u_r=ev, lr_q_r=q, lr_v_r=q, **kw)


def rec(ev, q, beta, label, final, regime="expected", family="experiment", symptoms=(), steps_to=None, **kw):
    return run_record(cfg(ev, q, **kw), beta, label=label, final=final, regime=regime, family=family,
                      symptoms=symptoms, steps_to=steps_to, variant=f"{ev}/{q}")


def test_verdict_from_cases_branches():
    assert verdict_from_cases([("a", True), ("b", True)]) == "holds"
    assert verdict_from_cases([("a", False), ("b", False)]) == "fails"
    assert verdict_from_cases([("a", True), ("b", False), ("c", True)]) == "holds only when a; c"
    assert verdict_from_cases([("a", None)], "nothing") == "not tested (nothing)"
    assert verdict_from_cases([("a", None), ("b", True)]) == "holds"  # unmeasurable cases do not count
    assert verdict_from_cases([("β_r = 1", True), ("β_r = 10", True), ("β_r = 100", False)]) == \
        "holds only when β_r = 1, 10"


def test_better_and_same_effect():
    conv = {"label": "converging", "final": 1e-3}
    osc = {"label": "oscillating", "final": 1e-5}
    assert better(conv, osc) and not better(osc, conv)  # converging beats a lower error that does not converge
    assert better({"label": "converging", "final": 1e-4}, conv)
    assert not better({"label": "converging", "final": 0.6e-3}, conv)  # less than a factor 2: not better
    a = {"label": "converged", "final": 1e-15, "steps_to_1e-3": 50}
    b = {"label": "converged", "final": 1e-13, "steps_to_1e-3": 100}
    assert better(a, b) and not better(b, a)
    assert same_effect(a, b)
    assert same_effect({"label": "plateau", "final": 1e-2}, {"label": "oscillating", "final": 5e-2})
    assert not same_effect({"label": "plateau", "final": 1e-2}, {"label": "oscillating", "final": 5e-4})
    assert not same_effect(conv, osc)
    # seed aggregates: the median final error decides, whatever the labels
    low = {"n_seeds": 5, "n_converging": 2, "label": "plateau", "final": 0.08}
    high = {"n_seeds": 5, "n_converging": 5, "label": "converging", "final": 0.5}
    assert better(low, high) and not better(high, low)
    assert not better({"n_seeds": 5, "n_converging": 2, "final": 0.3}, high)  # less than a factor 2
    assert better(high, {"label": "plateau", "final": 1e-9})  # aggregate against a single run: labels first


def verdict(runs, key, regime="expected"):
    return evaluate_claims(runs, regime)[key]["verdict"]


def test_equal_rates_small_beta():
    runs = [rec(0.1, 0.1, 1.0, "converging", 1e-2), rec(1.0, 1.0, 1.0, "converged", 1e-15),
            rec(1.0, 1.0, 100.0, "oscillating", 1e-2)]  # beta 100 is not small: ignored
    assert verdict(runs, "equal_small") == "holds"
    runs[1] = rec(1.0, 1.0, 1.0, "diverging", 1e3)
    assert verdict(runs, "equal_small") == "holds only when rate 0.1 at β_r = 1"
    runs[0] = rec(0.1, 0.1, 1.0, "plateau", 1e-1)
    assert verdict(runs, "equal_small") == "fails"
    assert verdict([rec(1.0, 1.0, 10.0, "converged", 1e-15)], "equal_small").startswith("not tested")


def test_ur_fast_for_large_beta():
    runs = [rec(1.0, 0.1, 10.0, "converged", 1e-9), rec(0.1, 0.1, 10.0, "converging", 1e-2),
            rec(1.0, 0.1, 100.0, "oscillating", 1e-3), rec(0.1, 0.1, 100.0, "converging", 1e-2),
            rec(1.0, 0.1, 1.0, "plateau", 1.0), rec(0.1, 0.1, 1.0, "converging", 1e-2)]  # beta 1 < 5: ignored
    assert verdict(runs, "ur_fast_large") == "holds only when β_r = 10"
    runs[2] = rec(1.0, 0.1, 100.0, "converging", 1e-5)
    assert verdict(runs, "ur_fast_large") == "holds"
    runs[0] = rec(1.0, 0.1, 10.0, "converging", 0.9e-2)  # converges but not better than equal 0.1
    runs[2] = rec(1.0, 0.1, 100.0, "diverging", 1e3)
    assert verdict(runs, "ur_fast_large") == "fails"


def test_q_r_fast_not_recommended():
    runs = [rec(0.1, 1.0, 1.0, "diverging", 1e3), rec(1.0, 0.1, 1.0, "converging", 1e-2),
            rec(0.1, 1.0, 100.0, "converging", 1e-6), rec(1.0, 0.1, 100.0, "converging", 1e-2)]
    assert verdict(runs, "qr_fast") == "holds only when β_r = 1"
    runs[2] = rec(0.1, 1.0, 100.0, "converging", 1e-1)
    assert verdict(runs, "qr_fast") == "holds"
    runs[0] = rec(0.1, 1.0, 1.0, "converging", 1e-4)
    runs[2] = rec(0.1, 1.0, 100.0, "converging", 1e-3)
    assert verdict(runs, "qr_fast") == "fails"


def test_frequency_separation_equivalence():
    runs = [run_record(cfg(1.0, 1.0, evaluator_updates_per_q_update=5), 1.0, label="converged", final=1e-15),
            rec(1.0, 0.2, 1.0, "converged", 1e-14),
            run_record(cfg(1.0, 1.0, evaluator_updates_per_q_update=5), 100.0, label="oscillating", final=5e-3),
            rec(1.0, 0.2, 100.0, "converged", 1e-8)]
    assert verdict(runs, "frequency") == "holds only when β_r = 1"
    runs[3] = rec(1.0, 0.2, 100.0, "plateau", 2e-3)
    assert verdict(runs, "frequency") == "holds"
    runs[1] = rec(1.0, 0.2, 1.0, "diverging", 1e3)
    runs[3] = rec(1.0, 0.2, 100.0, "converging", 1e-4)
    assert verdict(runs, "frequency") == "fails"


def stages(**kw):
    return dict(warmup_v_h_e_steps=10, warmup_x_h_steps=10, warmup_u_r_steps=10, warmup_q_r_steps=10, **kw)


def test_warmup_ramp_and_targets():
    runs = [rec(1.0, 1.0, 100.0, "oscillating", 1e-2), rec(1.0, 1.0, 1.0, "converged", 1e-15),
            run_record(cfg(1.0, 1.0, **stages()), 100.0, label="converging", final=1e-4),
            run_record(cfg(1.0, 1.0, **stages()), 1.0, label="converged", final=1e-15),
            run_record(cfg(1.0, 1.0, beta_r_rampup_steps=50), 100.0, label="plateau", final=1e-2),
            run_record(cfg(1.0, 1.0, beta_r_rampup_steps=50), 1.0, label="diverging", final=1e3),  # beta 1 < 10
            run_record(cfg(1.0, 1.0, q_r_target_update_interval=10), 100.0, label="converging", final=1e-4),
            run_record(cfg(1.0, 1.0, q_r_target_update_interval=10), 1.0, label="converged", final=1e-15)]
    # stages: converge where none does not at beta 100; both converge at beta 1 (not essential there)
    assert verdict(runs, "warmup") == "holds only when β_r = 100, rate 1"
    # ramp: only beta 100 counts; there it does not converge
    assert verdict(runs, "ramp") == "fails"
    runs[4] = run_record(cfg(1.0, 1.0, beta_r_rampup_steps=50), 100.0, label="converged", final=1e-9)
    assert verdict(runs, "ramp") == "holds"
    # targets: better at beta 100, a tie at beta 1 (both converged, no steps): not better
    assert verdict(runs, "targets") == "holds only when β_r = 100, rate 1"
    assert verdict(runs[:2], "targets").startswith("not tested")


def test_claims_read_one_regime_only():
    runs = [rec(0.1, 0.1, 1.0, "converging", 1e-2, regime="sampled"), rec(0.1, 0.1, 1.0, "plateau", 1e-1)]
    assert verdict(runs, "equal_small", "sampled") == "holds"
    assert verdict(runs, "equal_small", "expected") == "fails"


def test_monitoring_rows():
    osc = rec(1.0, 1.0, 100.0, "oscillating", 1e-2, family="region", symptoms=["Q_r oscillating"])
    fix = rec(1.0, 0.5, 100.0, "converging", 1e-5, family="region")
    other_family = rec(1.0, 0.2, 100.0, "converging", 1e-6)  # an experiment run: not a partner of a region cell
    rows = {r["row"].split(" →")[0]: r for r in monitoring_verdicts([osc, fix, other_family], "expected")}
    assert rows["Q_r loss oscillates"]["verdict"] == "holds"
    assert rows["U_r lags behind Q_r"]["verdict"].startswith("not tested (symptom not seen")
    worse = rec(1.0, 0.5, 100.0, "diverging", 1e3, family="region")
    rows = {r["row"].split(" →")[0]: r for r in monitoring_verdicts([osc, worse], "expected")}
    assert rows["Q_r loss oscillates"]["verdict"] == "fails"
    alone = monitoring_verdicts([osc, other_family], "expected")
    assert alone[0]["verdict"] == "not tested (no run with the remedy applied)"
    # plateau: remedy is larger rates at the same ratio; lag: larger evaluator rates at the same lr_q_r
    plat = rec(0.1, 0.1, 1.0, "plateau", 1e-1, symptoms=["all plateau"])
    up = rec(1.0, 1.0, 1.0, "converged", 1e-15)
    lag = rec(0.1, 0.1, 10.0, "plateau", 1e-1, symptoms=["U_r lagging Q_r"])
    lag_fix = rec(1.0, 0.1, 10.0, "converging", 1e-4)
    lag2 = rec(0.1, 0.1, 100.0, "plateau", 1e-1, symptoms=["U_r lagging Q_r"])
    lag2_fix = rec(1.0, 0.1, 100.0, "diverging", 1e3)
    rows = {r["row"].split(" →")[0]: r for r in monitoring_verdicts([plat, up, lag, lag_fix, lag2, lag2_fix],
                                                                    "expected")}
    assert rows["all losses plateau early"]["verdict"] == "holds"
    assert rows["U_r lags behind Q_r"]["verdict"] == "holds only when experiment 0.1/0.1 β_r = 10"


def row(beta, sup, rho, rho_abs=None, max_re=None, m="reduced"):
    return {"map": m, "beta_r": beta, "sup_norm": sup, "rho": rho, "rho_abs": rho_abs if rho_abs else rho,
            "max_re": max_re if max_re else rho}


def test_beta_table_rows():
    table = [row(0.0, 0.5, 0.5), row(0.1, 1.2, 0.6), row(1.0, 1.5, 0.7), row(3.0, 0.9, 0.6), row(10.0, 3.0, 0.8),
             row(100.0, 4.0, 1.3), row(100.0, 0.1, 0.1, m="jacobi")]
    small, moderate, large = beta_table_verdicts(table, "reduced")
    assert small["verdict"] == "holds only when β_r = 0"
    assert moderate["verdict"] == "holds only when β_r = 1"
    assert large["verdict"] == "holds only when β_r = 100"
    table = [row(0.0, 0.5, 0.5), row(1.0, 1.5, 0.7), row(10.0, 3.0, 1.1), row(100.0, 4.0, 1.3)]
    assert [v["verdict"] for v in beta_table_verdicts(table)] == ["holds", "holds", "holds"]
    table = [row(0.0, 1.5, 0.5), row(1.0, 0.5, 0.4), row(10.0, 3.0, 0.9)]
    assert [v["verdict"] for v in beta_table_verdicts(table)] == ["fails", "fails", "fails"]
    table = [row(1.0, None, 0.4)]  # not measured: no case
    assert beta_table_verdicts(table)[1]["verdict"].startswith("not tested")


def test_table_has_one_row_per_claim_and_says_which_depend_on_the_regime():
    runs = [rec(0.1, 0.1, 1.0, "converging", 1e-2), rec(0.1, 0.1, 1.0, "plateau", 1e-1, regime="sampled")]
    ce, cs = evaluate_claims(runs, "expected"), evaluate_claims(runs, "sampled")
    me, ms = monitoring_verdicts(runs, "expected"), monitoring_verdicts(runs, "sampled")
    text = format_table(ce, cs, me, ms, beta_table_verdicts([row(0.0, 0.5, 0.5)]), {"equal_small": "fig.png"})
    lines = text.splitlines()
    assert len(lines) == 2 + 7 + 4 + 3
    equal = next(ln for ln in lines if ln.startswith("| Equal learning rates"))
    cells = [c.strip() for c in equal.strip("|").split(" | ")]
    assert cells[3] == "**holds**" and cells[5] == "**fails**" and cells[6] == "yes" and cells[7] == "fig.png"
    ur = next(ln for ln in lines if ln.startswith("| U_r pathway fast"))
    assert "not compared" in ur
