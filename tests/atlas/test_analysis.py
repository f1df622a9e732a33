"""Agreement and verdicts on hand-made atlas tables."""
import pandas as pd

from empo_tabular.atlas.analysis import confusion, disagreements, verdicts


def _df(rows):
    base = {"mode": "expected", "seed": 0, "predicted_rate": 0.9, "predicted_converges": True, "tol": 1e-6,
            "steps_to_1e-3": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_confusion_counts_by_hand():
    df = _df([{"observed_converges": True}, {"observed_converges": False},
              {"predicted_converges": False, "observed_converges": False, "predicted_rate": 1.1}])
    c = confusion(df)
    assert c == {(True, True): 1, (True, False): 1, (False, True): 0, (False, False): 1}
    assert len(disagreements(df)) == 1


def test_u_r_fast_verdict_counts_worlds():
    rows = []
    for world, fast_err in (("w1", 1e-8), ("w2", 1e-1)):
        for b in (1.0, 10.0):
            rows.append({"world": world, "beta_r": b, "scheme": "equal_slow", "err_Q_r": 1e-3,
                         "observed_converges": True})
            rows.append({"world": world, "beta_r": b, "scheme": "u_r_fast", "err_Q_r": fast_err,
                         "observed_converges": True})
    v = {x["claim"]: x["modes"]["expected"] for x in verdicts(_df(rows))}
    assert v["u_r_fast"]["summary"].startswith("holds in 1 of 2 worlds")
    assert v["u_r_fast"]["per_world"]["w2"][0] == "fails"
    assert v["targets"]["summary"] == "not tested"


def test_errors_below_tol_are_a_tie():
    rows = [{"world": "w", "beta_r": 10.0, "scheme": "equal_slow", "err_Q_r": 1e-14, "observed_converges": True},
            {"world": "w", "beta_r": 10.0, "scheme": "u_r_fast", "err_Q_r": 1e-9, "observed_converges": True}]
    v = {x["claim"]: x["modes"]["expected"] for x in verdicts(_df(rows))}
    assert v["u_r_fast"]["per_world"]["w"][0] == "fails"  # not better: both below tol 1e-6
    assert "better in 0/1, worse in 0/1" in v["u_r_fast"]["per_world"]["w"][1]


def test_a_rescue_at_an_unstable_fixed_point_is_not_a_holds():
    rows = [{"world": "w", "beta_r": 300.0, "scheme": "equal_fast", "err_Q_r": 1e-4, "observed_converges": False,
             "predicted_converges": False, "predicted_rate": 1.02},
            {"world": "w", "beta_r": 300.0, "scheme": "staged_warmup", "err_Q_r": 1e-11, "observed_converges": True,
             "predicted_converges": False, "predicted_rate": 1.02}]
    v = {x["claim"]: x["modes"]["expected"] for x in verdicts(_df(rows))}
    verdict, evidence = v["warmup"]["per_world"]["w"]
    assert verdict.startswith("fails (rescue only within the budget")
    assert "linearly unstable" in evidence
