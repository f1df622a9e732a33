"""Atlas figures draw from a hand-made table (no warnings; one file per figure plus captions)."""
import itertools

import pandas as pd

from empo_tabular.plotting.atlas import write_atlas_figures


def test_figures_and_captions(tmp_path):
    rows = []
    for b, k, mode, seed in itertools.product([0.1, 10.0], [0.3, 1.0], ["expected", "sampled"], [0, 1]):
        if mode == "expected" and seed:
            continue
        pred = not (b == 10.0 and k == 1.0)
        rows.append({"world": "w", "beta_r": b, "kappa": k, "a": 1.0, "scheme": f"grid_a1_k{k:g}", "mode": mode,
                     "seed": seed, "predicted_converges": pred, "predicted_rate": 0.9 if pred else 1.05,
                     "observed_converges": pred, "converged": pred, "label": "converged" if pred else "diverging",
                     "observed_rate": None if pred else 1.04})
    out = write_atlas_figures(pd.DataFrame(rows), tmp_path)
    names = [n for n, _ in out]
    assert names == ["figures/confusion.png", "figures/rates.png", "figures/phase_w.png"]
    assert all((tmp_path / n).stat().st_size > 1000 and cap for n, cap in out)
