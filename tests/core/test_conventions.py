"""The Phase 2 array conventions (core/conventions.py), against values written out by hand."""
import math

import numpy as np

from empo_tabular.core.conventions import FIELDS, RELATIVE, apply_terminal_conventions, field_errors


def test_relative_for_values_absolute_for_probabilities():
    assert [k for k in FIELDS if RELATIVE[k]] == ["Q_r", "X_h", "U_r", "V_r"]
    np.testing.assert_allclose(field_errors("Q_r", [-1.1, -2.0], [-1.0, -4.0]), [0.1, 0.5], rtol=1e-12)
    np.testing.assert_allclose(field_errors("pi_r", [0.3, 0.5], [0.1, 0.5]), [0.2, 0.0])


def test_non_finite_errors_are_inf_not_nan():
    assert field_errors("Q_r", [math.nan], [-1.0])[0] == math.inf
    assert field_errors("V_r", [1.0], [0.0])[0] == math.inf
    assert field_errors("V_h_e", [math.nan], [0.5])[0] == math.inf


def test_terminal_conventions():
    term = np.array([False, True])
    out = apply_terminal_conventions(term, -7.0, {"Q_r": np.full((2, 2), -1.0), "pi_r": np.full((2, 2), 0.5),
                                                  "V_h_e": np.full((2, 1, 1), 0.4), "X_h": np.ones((2, 1)),
                                                  "U_r": np.full(2, -2.0), "V_r": np.full(2, -3.0)})
    assert np.isnan(out["Q_r"][1]).all() and np.isnan(out["X_h"][1]).all() and math.isnan(out["U_r"][1])
    assert (out["pi_r"][1] == 0).all() and (out["V_h_e"][1] == 0).all() and out["V_r"][1] == -7.0
    assert (out["Q_r"][0] == -1.0).all() and out["V_r"][0] == -3.0 and out["U_r"][0] == -2.0
