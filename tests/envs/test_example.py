"""examples/train_tabular_q_on_env.py runs with small settings, learns (errors fall) and writes its figures."""
import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_tabular_q_on_env.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_tabular_q_on_env", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_learns_and_scores(tmp_path):
    ex = load_example()
    res, hist = ex.train("corridor", steps=24_000, eval_every=6_000, seed=0, out=tmp_path, verbose=False)
    q_sup, q_w = np.array(hist["Q_r sup"]), np.array(hist["Q_r weighted"])
    assert hist["steps"] == [6_000, 12_000, 18_000, 24_000]
    # learning happened: the Q_r error against the exact solution falls along training
    assert q_sup[-1] < 0.75 * q_sup[0] and q_w[-1] < 0.6 * q_w[0]
    assert q_w[-1] < 0.06  # and lands near the exact Q_r (the start table Q = -1 is off by more than 90%)
    assert set(res.errors) == {"Q_r", "pi_r", "V_r"} and "Q_r" in res.report
    assert (tmp_path / "error_vs_steps.png").stat().st_size > 0 and (tmp_path / "score_maps.png").stat().st_size > 0
