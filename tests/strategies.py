"""Shared Hypothesis strategies: random small networks, data and hyperparameters.

Used by the scheme tests (SAV/ExpSAV/SGD/Adam, IEQ). The API is stable:

* ``problems(...)``            → (problem, w, batch, backend): a random one-hidden-layer ReLU
  network with small d, m, k ∈ {1, 3} (MSE for k = 1, cross-entropy for k = 3), a random
  batch of B samples, on NumPy or array_api_strict (float64);
* ``regression_problems(...)`` → the same with k = 1 and MSE only (½‖s·q‖² = L exactly);
* ``step_sizes()``             → Δt / learning rates log-uniform over 1e-4 .. 1e2;
* ``small_step_sizes()``       → Δt log-uniform over 1e-4 .. 1e-1;
* ``lams()``                   → λ ≥ 0: 0 or log-uniform over 1e-3 .. 1e2;
* ``etas()``                   → η ∈ [0, 1], endpoints included;
* ``shifts()``                 → SAV's C > 0, log-uniform over 1e-3 .. 1e3;
* ``seeds()``                  → integer seeds for ``numpy.random.default_rng``.

Randomness is drawn by Hypothesis as an integer seed and turned into arrays with NumPy's
generator on the host, so a failing example shrinks to a seed and replays on every backend.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from gfref.backend import BackendError, get_backend
from gfref.losses import CrossEntropy, MSE
from gfref.mlp import MLP
from gfref.problem import Batch, Problem

#: the backends drawn by default; CuPy is left to the fixture-based tests
DEFAULT_BACKENDS = ("numpy", "array_api_strict")


def _available(names):
    out = []
    for name in names:
        try:
            get_backend(name)
        except BackendError:
            continue
        out.append(name)
    return tuple(out)


def seeds():
    return st.integers(min_value=0, max_value=2**32 - 1)


def log_uniform(lo: float, hi: float):
    """Floats log-uniform in [lo, hi] (both > 0), without NaN or inf."""
    return st.floats(min_value=math.log10(lo), max_value=math.log10(hi), allow_nan=False).map(lambda e: float(10.0**e))


def step_sizes(lo: float = 1e-4, hi: float = 1e2):
    """Δt (or lr) over several decades, 1e-4 .. 1e2 by default."""
    return log_uniform(lo, hi)


def small_step_sizes():
    return log_uniform(1e-4, 1e-1)


def lams(hi: float = 1e2):
    """λ ≥ 0 of 𝓛 = λI: exactly 0 or log-uniform over 1e-3 .. hi."""
    return st.one_of(st.just(0.0), log_uniform(1e-3, hi))


def etas():
    """η ∈ [0, 1], with the endpoints."""
    return st.one_of(st.sampled_from([0.0, 1.0, 0.99]), st.floats(min_value=0.0, max_value=1.0, allow_nan=False))


def shifts(lo: float = 1e-3, hi: float = 1e3):
    """SAV's shift C > 0 (L ≥ 0 for MSE and cross-entropy, so L + C > 0)."""
    return log_uniform(lo, hi)


def build_problem(backend, d, m, k, B, seed, target_scale=1.0, dtype="float64"):
    """A random problem on ``backend`` (a name or a Backend): MSE if k = 1, cross-entropy otherwise.

    ``target_scale`` multiplies the regression targets (large values give a large initial loss).
    Returns (problem, w, batch, backend).
    """
    if isinstance(backend, str):
        backend = get_backend(backend, dtype)
    rng = np.random.default_rng(seed)
    model = MLP(d, m, k)
    w = model.init(seed=int(rng.integers(2**31)), backend=backend)
    X = backend.asarray(rng.normal(size=(B, d)))
    if k == 1:
        y = backend.asarray(target_scale * rng.normal(size=(B, 1)))
        loss = MSE()
    else:
        y = backend.asarray(rng.integers(0, k, size=B), dtype="int64")
        loss = CrossEntropy()
    return Problem(model, loss), w, Batch(X, y), backend


@st.composite
def problems(draw, backends=DEFAULT_BACKENDS, ks=(1, 3), max_d=4, max_m=6, max_B=5, target_scale=1.0):
    """(problem, w, batch, backend) with d ∈ [1, max_d], m ∈ [1, max_m], k ∈ ks, B ∈ [1, max_B]."""
    names = _available(backends)
    name = draw(st.sampled_from(names))
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(1, max_m))
    k = draw(st.sampled_from(tuple(ks)))
    B = draw(st.integers(1, max_B))
    seed = draw(seeds())
    return build_problem(name, d, m, k, B, seed, target_scale=target_scale)


def regression_problems(**kwargs):
    """:func:`problems` restricted to k = 1 (MSE)."""
    kwargs["ks"] = (1,)
    return problems(**kwargs)
