"""Contraction figures read without the code: log axes, the line at 1, field-name legends, captions,
critical beta_r in the spectra, stability per iteration, one prediction and one SA label per region cell.

The report is constructed by hand (no analyzer run), so every expected value is written here.
"""
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet

from empo_tabular.contraction import ContractionReport
from empo_tabular.plotting.contraction import (
    caption,
    plot_bifurcation,
    plot_convergence_region,
    plot_indicators,
    plot_spectra,
    snapshot_betas,
    stability_rows,
)

BETAS = [0.0, 1.0, 10.0, 30.0, 100.0, 1000.0]
#             sup   rho_abs rho   max_re
VALUES = {0.0: (0.5, 0.5, 0.5, 0.5), 1.0: (0.8, 0.6, 0.5, 0.5), 10.0: (3.5, 1.1, 0.6, 0.6),
          30.0: (3.7, 1.5, 0.9, 0.6), 100.0: (4.0, 1.9, 1.3, 0.7), 1000.0: (20.0, 9.9, 9.5, -0.2)}


def crossing(first, between):
    if first is None:
        return {"first": math.inf, "all": []}
    return {"first": first, "all": [{"beta": first, "direction": "up", "between": between, "type": "flip"}]}


def make_report(sa_runs=None, region=True):
    table = []
    for b in BETAS:
        s, ra, r, mr = VALUES[b]
        table.append({"map": "reduced", "beta_r": b, "sup_norm": s, "log_norm": None, "rho_abs": ra, "rho": r,
                      "max_re": mr, "picard_ratio": r * 0.98, "lower_bound_adversarial": float("nan"),
                      "spectrum_complete": True})
    stars = {"reduced": {"rho": crossing(50.0, [30.0, 100.0]), "max_re": crossing(None, None),
                         "sup_norm": crossing(1.2, [1.0, 10.0]), "rho_abs": crossing(5.0, [1.0, 10.0])}}
    lam = {b: [complex(-VALUES[b][2], 0.0), complex(0.2, 0.1), complex(0.2, -0.1)] for b in BETAS}
    reg = None
    if region:
        reg = {"beta": 100.0, "a_values": [0.1, 1.0], "kappa_values": [0.1, 1.0, 3.0],
               "rho_pred": [[0.999, 0.99, 0.97], [0.95, 1.04, 2.0]]}
    return ContractionReport(
        maps=["reduced"], betas=BETAS, world={"name": "toy", "n_states": 3}, table=table, beta_star={},
        beta_star_by_map=stars, ordering={"rows_ok": True}, params={"gamma_r": 0.5},
        branch=[{"beta_r": b, "V_r_s0": -1.0 - 0.01 * i, "stable": VALUES[b][2] < 1, "fixed_points": []}
                for i, b in enumerate(BETAS)],
        spectra={"reduced": [[[z.real, z.imag] for z in lam[b]] for b in BETAS]}, region=reg,
        sa_runs=sa_runs or [])


def test_indicators_log_axis_line_at_one_field_names_and_caption():
    rep = make_report()
    fig = plot_indicators(rep)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    ones = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [1, 1]]
    assert ones and max(ln.get_linewidth() for ln in ones) >= 2.0  # emphasised
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for field in ("sup_norm", "rho_abs", "rho", "max_re", "picard_ratio"):
        assert any(lab.split()[0] == field for lab in labels), (field, labels)
    assert not any(lab.startswith("log_norm") for lab in labels)  # all None: not drawn, not invented
    assert any("▼" in lab for lab in labels)  # the crossing marker is explained
    text = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "log_norm = ‖D⁻¹JD‖∞" in text and "picard_ratio = observed" in text
    assert "max_re of reduced at 1 β_r" in text  # the negative value is said, not silently dropped
    plt.close(fig)


def test_spectra_panels_include_the_critical_beta():
    rep = make_report()
    assert snapshot_betas(rep, "reduced", 4)[:4] == [0.0, 30.0, 100.0, 1000.0]
    fig = plot_spectra(rep, "reduced", n_snapshots=4)
    titles = [ax.get_title() for ax in fig.axes]
    assert any("last before β*(ρ) ≈ 50" in t for t in titles) and any("first past β*(ρ) ≈ 50" in t for t in titles)
    sup = fig._suptitle.get_text()
    assert "ρ(J) crosses 1 at β_r ≈ 50" in sup and "max Re λ not crossed up to β_r = 1000" in sup
    plt.close(fig)


def test_bifurcation_says_which_iteration_is_unstable():
    rep = make_report()
    st = stability_rows(rep, "reduced")
    assert st["rho"] == [True, True, True, True, False, False]
    assert st["max_re"] == [True] * 6
    assert st["rho_abs"] == [True, True, False, False, False, False]
    fig = plot_bifurcation(rep)
    text = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert ("at β_r = 100, 1000 unstable for synchronous undamped iteration (ρ(J) ≥ 1) but stable under small "
            "damped steps (max Re λ < 1)") in text
    ticks = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert ticks == ["reduced: synchronous undamped (ρ(J) < 1)", "reduced: small damped steps (ODE limit) (max Re λ < 1)",
                     "reduced: asynchronous (ρ(|J|) < 1)"]
    plt.close(fig)


def cell(i, j, a, kappa, rho, label, agrees, ran=True):
    return {"i": i, "j": j, "a": a, "kappa": kappa, "ran": ran, "rho_pred": rho, "label": label, "agrees": agrees,
            "n_steps": 400, "tol": 1e-9}


def test_region_cells_labels_and_agreement_count():
    runs = [cell(0, 0, 0.1, 0.1, 0.999, "plateau", None), cell(0, 1, 0.1, 1.0, 0.99, "converging", True),
            cell(0, 2, 0.1, 3.0, 0.97, "oscillating", False), cell(1, 0, 1.0, 0.1, 0.95, "converged", True),
            cell(1, 1, 1.0, 1.0, 1.04, "diverging", True), cell(1, 2, 1.0, 3.0, 2.0, None, None, ran=False)]
    fig = plot_convergence_region(make_report(runs))
    ax = fig.axes[0]
    assert "prediction agrees with SA on 3 of 4 cells" in ax.get_title()
    assert not any(isinstance(c, ContourSet) for c in ax.collections)  # nothing interpolated between cells
    mesh = ax.collections[0]
    assert np.asarray(mesh.get_array()).size == 6  # one colour per cell
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for needed in ("SA plateau", "SA converging", "SA oscillating", "SA converged", "SA diverging",
                   "prediction and SA disagree", "no SA run: Q_r rate κ·a > 1"):
        assert any(lab.startswith(needed) for lab in labels), (needed, labels)
    text = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "3 of 4 counted cells; 6 cells, 5 run, 1 with a rate too close to 1" in text
    plt.close(fig)


def test_region_without_region_is_refused_and_unknown_caption():
    with pytest.raises(ValueError, match="no predicted region"):
        plot_convergence_region(make_report(region=False))
    with pytest.raises(ValueError, match="unknown caption kind"):
        caption("pie", make_report())


def test_plot_styles_follow_the_indicator_registry():
    """The indicators are defined once (contraction.INDICATORS); the figure styles every one of them and the
    stability strips use the registry's words for what each certifies."""
    from empo_tabular.contraction import INDICATORS
    from empo_tabular.plotting.contraction import INDICATOR_STYLE, ITERATIONS

    assert {i.name for i in INDICATORS} <= set(INDICATOR_STYLE)
    words = {i.name: i.iteration for i in INDICATORS}
    assert [(name, text) for name, text, _ in ITERATIONS] == [
        ("rho", "synchronous undamped"), ("max_re", "small damped steps (ODE limit)"), ("rho_abs", "asynchronous")]
    assert all(words[name] == text for name, text, _ in ITERATIONS)
