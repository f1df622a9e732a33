"""Seed bands of the sampled regime: median line, min-max band, seed counts and every glyph in the legend."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from empo_tabular.plotting.sa import plot_seed_bands


def agg(variant, beta, n_conv, n=5):
    step = np.arange(0.0, 50.0, 10.0)
    return {"variant": variant, "beta_r": beta, "step": step, "median": 1.0 / (1 + step), "low": 0.5 / (1 + step),
            "high": 2.0 / (1 + step), "labels": ["converging"] * n_conv + ["plateau"] * (n - n_conv),
            "n_converging": n_conv}


def test_bands_counts_and_legend():
    fig = plot_seed_bands([agg("equal 0.1", 1.0, 5), agg("equal 1", 1.0, 2), agg("equal 1", 100.0, 0)], tol=1e-2,
                          caption="a caption")
    axes = fig.axes
    assert len(axes) == 2 and all(ax.get_yscale() == "log" for ax in axes)
    assert [ax.get_title() for ax in axes] == [r"$\beta_r = 1$", r"$\beta_r = 100$"]
    notes = sorted(t.get_text() for t in axes[0].texts)
    assert notes == ["2/5", "5/5"]  # seeds labelled converged or converging, at the line ends
    lo, hi = axes[0].collections[0].get_paths()[0].get_extents().y0, axes[0].collections[0].get_paths()[0].get_extents().y1
    assert lo == pytest.approx(0.5 / 41) and hi == pytest.approx(2.0)  # the band spans min..max of the seeds
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:2] == ["equal 0.1", "equal 1"]
    assert "shaded: min-max over 5 seeds; line: median" in labels
    assert any(lab.startswith("k/n at the line end") for lab in labels)
    assert "tol = 0.01 (converged below)" in labels
    assert any(t.get_text() == "a caption" for t in fig.texts)
    plt.close(fig)
    with pytest.raises(ValueError, match="no aggregates"):
        plot_seed_bands([])
