"""Error heat maps and error curves of a ScoreResult."""
import pytest

import empo_tabular as et
from empo_tabular.plotting.score import plot_error_curves, plot_score_maps
from empo_tabular.worlds.scenarios import get_scenario


@pytest.fixture(scope="module")
def scored():
    gw, p = get_scenario("door")
    prior = et.solve_phase1(gw.world, p)
    sol = et.solve_phase2(gw.world, prior, p)
    Q = sol.Q_r.copy()
    Q[17] *= 1.1
    return gw, et.score(sol, {"Q_r": Q, "V_r": sol.V_r}, world=gw, prior=prior)


def test_one_panel_per_quantity_with_legend(scored):
    gw, res = scored
    fig = plot_score_maps(gw, res)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 2 and "Q_r" in titles[0] and "state 17" in titles[0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "wall" in labels and "closed door" in labels and "H0 (held fixed)" in labels


def test_unknown_quantity_and_world_type(scored):
    gw, res = scored
    with pytest.raises(ValueError, match="quantity 'X_h' was not scored"):
        plot_score_maps(gw, res, ["X_h"])
    with pytest.raises(TypeError, match="gw must be a GridWorld"):
        plot_score_maps(gw.world, res)


def test_error_curves_shape_check():
    ax = plot_error_curves([1, 2, 3], {"Q_r sup": [1.0, 0.5, 0.25]})
    assert ax.get_yscale() == "log" and len(ax.lines) == 1
    with pytest.raises(ValueError, match="curve 'x' has shape"):
        plot_error_curves([1, 2, 3], {"x": [1.0]})


def test_empty_quantity_list_and_other_world(scored):
    gw, res = scored
    with pytest.raises(ValueError, match="no quantity to plot"):
        plot_score_maps(gw, res, [])
    other, _ = get_scenario("corridor")
    with pytest.raises(ValueError, match="result was scored on a different world"):
        plot_score_maps(other, res)
