"""The contract every scheme and variant keeps, checked over one table of all of them.

On a small *convex* least-squares problem (a linear model f = X̃w with the MSE, so every
descent direction with a small enough step lowers the loss) each scheme, with a small step:

* lowers the loss over a few steps;
* returns w of the same shape and dtype (float64 and float32);
* is deterministic: the same inputs give bit-identical outputs;
* leaves its inputs — w, the state, the batch — unmodified (pure functions).

The same table also runs one step on the paper's ReLU network and on array_api_strict.
"""

from __future__ import annotations

import numpy as np
import pytest

from gfref import schemes
from gfref.backend import namespace, to_numpy
from gfref.losses import MSE
from gfref.mlp import MLP
from gfref.problem import Batch, Problem

from conftest import make_backend

# name → (factory, hyperparameters): every scheme and every named variant.
SMALL = 0.02
TABLE = {
    "sgd": ("sgd", dict(lr=SMALL)),
    "adam": ("adam", dict(lr=SMALL)),
    "sav box": ("sav", dict(dt=SMALL, C=1.0)),
    "sav box λ": ("sav", dict(dt=SMALL, C=1.0, lam=2.0)),
    "sav thm2.1": ("sav", dict(dt=SMALL, C=1.0, form="thm2.1")),
    "sav relaxed paper": ("sav", dict(dt=SMALL, C=1.0, relax="paper")),
    "sav relaxed jzz": ("sav", dict(dt=SMALL, C=1.0, relax="jzz", eta=0.99)),
    "sav thm2.1 relaxed jzz": ("sav", dict(dt=SMALL, C=1.0, form="thm2.1", relax="jzz")),
    "expsav box": ("expsav", dict(dt=SMALL, C=1.0)),
    "expsav box λ": ("expsav", dict(dt=SMALL, C=1.0, lam=2.0)),
    "expsav thm2.2": ("expsav", dict(dt=SMALL, C=1.0, form="thm2.2")),
    "expsav thm2.3": ("expsav", dict(dt=SMALL, C=1.0, form="thm2.3")),
    "expsav relaxed paper": ("expsav", dict(dt=SMALL, C=1.0, relax="paper")),
    "expsav relaxed jzz": ("expsav", dict(dt=SMALL, C=1.0, relax="jzz")),
    "ieq gram": ("ieq", dict(dt=SMALL)),
    "ieq explicit": ("ieq", dict(dt=SMALL, jacobian="explicit")),
    "ieq carried": ("ieq", dict(dt=SMALL, q="carried")),
    "ieq scaled": ("ieq", dict(dt=SMALL, q_scale="loss")),
    "ieq relaxed paper": ("ieq", dict(dt=SMALL, relax="paper")),
    "ieq relaxed jzz carried": ("ieq", dict(dt=SMALL, q="carried", relax="jzz")),
    "ieq_adaptive": ("ieq_adaptive", dict(dt=SMALL)),
    "ieq_adaptive carried": ("ieq_adaptive", dict(dt=SMALL, q="carried")),
    "ieq_adaptive scaled": ("ieq_adaptive", dict(dt=SMALL, q_scale="loss")),
}


class LinearModel:
    """f = X̃w (k = 1): with the MSE a convex least-squares problem, with the MLP's interface."""

    k = 1

    def __init__(self, d: int):
        self.d, self.n = d, d + 1

    def forward(self, w, X):
        xp = namespace(w, X)
        Xt = xp.concat([X, xp.ones((X.shape[0], 1), dtype=X.dtype)], axis=1)
        return (Xt @ w)[:, None], Xt

    def __call__(self, w, X):
        return self.forward(w, X)[0]

    def vjp(self, Xt, v):
        xp = namespace(Xt, v)
        return Xt.T @ xp.reshape(v, (-1,))

    def jvp(self, Xt, u):
        return Xt @ u

    def jacobian(self, Xt):
        return Xt

    def gram(self, Xt):
        return Xt @ Xt.T


def convex_problem(backend, B=16, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(B, d))
    y = X @ rng.normal(size=d)[:, None] + 0.1 * rng.normal(size=(B, 1))
    w = backend.asarray(rng.normal(size=d + 1))
    return Problem(LinearModel(d), MSE()), w, Batch(backend.asarray(X), backend.asarray(y))


def relu_problem(backend, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP(3, 6, 1)
    X = backend.asarray(rng.normal(size=(8, 3)))
    y = backend.asarray(rng.normal(size=(8, 1)))
    return Problem(model, MSE()), model.init(seed=seed, backend=backend), Batch(X, y)


def build(name):
    factory, hp = TABLE[name]
    return schemes.get_scheme(factory, **hp)


def snapshot(tree):
    """Host copies of every array in a (nested) tuple, to detect in-place modification."""
    if isinstance(tree, tuple):
        return tuple(snapshot(x) for x in tree)
    if hasattr(tree, "shape"):
        return to_numpy(tree).copy()
    return tree


def same(a, b) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return a == b


@pytest.mark.parametrize("name", TABLE)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lowers_a_convex_loss_and_keeps_shape_and_dtype(name, dtype):
    backend = make_backend("numpy", dtype)
    problem, w, batch = convex_problem(backend)
    scheme = build(name)
    state = scheme.init(problem, w, batch)
    start = float(problem.loss_at(w, batch))
    for _ in range(5):
        w, state, info = scheme.step(problem, w, state, batch)
        assert w.shape == (problem.model.n,) and w.dtype == backend.dtype
    assert float(problem.loss_at(w, batch)) < start


@pytest.mark.parametrize("name", TABLE)
@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_pure_and_deterministic_on_the_relu_network(name, backend_name):
    backend = make_backend(backend_name)
    problem, w, batch = relu_problem(backend)
    scheme = build(name)
    state = scheme.init(problem, w, batch)
    before = snapshot((w, state, tuple(batch)))
    w1, state1, info1 = scheme.step(problem, w, state, batch)
    assert same(snapshot((w, state, tuple(batch))), before), "the step modified its inputs"
    w2, state2, info2 = scheme.step(problem, w, state, batch)
    assert same(snapshot((w1, state1)), snapshot((w2, state2))), "two identical steps differ"
    assert w1.shape == w.shape and w1.dtype == w.dtype
    assert not same(snapshot(w1), snapshot(w)), "the step did not move w"
    # a second step from the new state works and the diagnostics are scalars
    w3, _, info3 = scheme.step(problem, w1, state1, batch)
    for value in info3:
        assert value is None or getattr(value, "ndim", 0) == 0


def test_the_table_covers_every_factory():
    assert {factory for factory, _ in TABLE.values()} == {"sgd", "adam", "sav", "expsav", "ieq", "ieq_adaptive"}
