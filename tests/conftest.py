"""Shared test configuration: hypothesis profiles, the public reference case, matplotlib."""
import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci", deadline=None, derandomize=True, max_examples=25, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", deadline=None, max_examples=10, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

VALIDATION_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "validation"
PUBLIC_CASE = VALIDATION_DIR / "trivial_br10.npz"


@pytest.fixture(scope="session")
def public_case():
    """The public reference export, or a skip with the reason when ../shared is absent."""
    if not PUBLIC_CASE.exists():
        pytest.skip(f"public reference case not available: {PUBLIC_CASE} does not exist (../shared/validation is absent)")
    from empo_tabular.interop import load_reference_export

    return load_reference_export(PUBLIC_CASE)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
