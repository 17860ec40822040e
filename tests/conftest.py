"""Shared fixtures: every core test runs on each array backend that is present.

``backend`` is parametrised over NumPy, array_api_strict and CuPy; CuPy is skipped with
its reason when it is not installed or finds no GPU. Hypothesis profiles: ``ci``
(derandomized, few examples; chosen when CI is set), ``dev`` (the default) and
``thorough`` (many examples): ``HYPOTHESIS_PROFILE=thorough pytest``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from gfref.backend import BackendError, get_backend

settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

BACKEND_NAMES = ["numpy", "array_api_strict", "cupy"]


def make_backend(name: str, dtype: str = "float64"):
    try:
        return get_backend(name, dtype)
    except BackendError as exc:
        pytest.skip(str(exc))


@pytest.fixture(params=BACKEND_NAMES)
def backend_name(request):
    return request.param


@pytest.fixture
def backend(backend_name):
    """A float64 Backend for each available array library."""
    return make_backend(backend_name, "float64")
