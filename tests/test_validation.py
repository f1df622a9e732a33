"""The shared argument checks of _validation.py: one test per error of the beta_r checks."""
import math

import pytest

from empo_tabular._validation import check_beta, check_betas


def test_check_betas_sorts_and_deduplicates():
    assert check_betas([3, 0, 1, 3]) == [0.0, 1.0, 3.0]
    assert check_betas([3, 0, 3], sort=False) == [3.0, 0.0, 3.0]
    assert check_betas([0, math.inf], allow_inf=True) == [0.0, math.inf]


@pytest.mark.parametrize("betas, error, match", [
    ([], ValueError, r"betas must not be empty"),
    ([1.0, -1.0], ValueError, r"betas must be finite and >= 0; betas\[1\] = -1\.0"),
    ([math.nan], ValueError, r"betas\[0\] = nan"),
    ([math.inf], ValueError, r"betas\[0\] = inf"),
    (["x"], TypeError, r"betas must be a sequence of real numbers"),
    ("0,1", TypeError, r"betas must be a sequence of real numbers, got str"),
])
def test_check_betas_errors(betas, error, match):
    with pytest.raises(error, match=match):
        check_betas(betas)


def test_check_beta_errors():
    assert check_beta(2) == 2.0
    with pytest.raises(TypeError, match="beta_r must be a real number, got bool"):
        check_beta(True, "beta_r")
    with pytest.raises(ValueError, match=r"beta_r must be >= 0, got -2\.0"):
        check_beta(-2.0, "beta_r", allow_inf=True)
    with pytest.raises(ValueError, match=r"beta must be finite and >= 0, got inf"):
        check_beta(math.inf)
