"""Shared test configuration: hypothesis profiles, the public reference case, matplotlib."""
import os
import sys
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# Test helpers (the NumPy oracle in tests/oracle/) are imported as top-level modules: `from oracle.naive import ...`.
sys.path.insert(0, str(Path(__file__).resolve().parent))

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

@pytest.fixture(scope="session")
def public_case():
    """The public reference export shipped in the package."""
    from empo_tabular.io.reference import PUBLIC_CASE, load_reference_export

    return load_reference_export(PUBLIC_CASE)

@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
