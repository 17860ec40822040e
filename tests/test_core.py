"""The foundation: network derivatives against finite differences, the structured Gram
matrix against J Jᵀ, losses, backend parity and input validation.

Every test taking the ``backend`` fixture runs on NumPy, on array_api_strict (which
rejects anything outside the array-API standard) and on CuPy where a GPU is present.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gfref
from gfref.backend import BackendError, get_backend, spd_solve, to_numpy
from gfref.losses import CrossEntropy, MSE
from gfref.mlp import MLP
from gfref.problem import Batch, NonFiniteError, Problem

from conftest import make_backend

# (d, m, k, B): one output and ten, one sample and several
SHAPES = [(3, 5, 1, 1), (3, 5, 1, 7), (4, 6, 10, 1), (4, 6, 10, 5)]


def make_problem(backend, d, m, k, B, seed=0):
    """A small random network and batch on ``backend``: MSE for k = 1, cross-entropy otherwise."""
    rng = np.random.default_rng(seed)
    model = MLP(d, m, k)
    w = model.init(seed=seed, backend=backend)
    X = backend.asarray(rng.normal(size=(B, d)))
    if k == 1:
        y = backend.asarray(rng.normal(size=(B, 1)))
        loss = MSE()
    else:
        y = backend.asarray(rng.integers(0, k, size=B), dtype="int64")
        loss = CrossEntropy()
    return Problem(model, loss), w, Batch(X, y)


def unit(backend, n, j, h):
    e = np.zeros(n)
    e[j] = h
    return backend.asarray(e)


def rel_err(a, b):
    a, b = to_numpy(a), to_numpy(b)
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


# ------------------------------------------------------------------ derivatives
@pytest.mark.parametrize("d,m,k,B", SHAPES)
def test_gradient_matches_central_differences(backend, d, m, k, B):
    problem, w, batch = make_problem(backend, d, m, k, B)
    grad = problem.at(w, batch).grad
    h = 1e-6
    fd = np.array(
        [
            (float(problem.loss_at(w + unit(backend, w.shape[0], j, h), batch))
             - float(problem.loss_at(w - unit(backend, w.shape[0], j, h), batch))) / (2 * h)
            for j in range(w.shape[0])
        ]
    )
    assert rel_err(grad, fd) < 1e-6


@pytest.mark.parametrize("d,m,k,B", SHAPES)
def test_jacobian_matches_central_differences(backend, d, m, k, B):
    problem, w, batch = make_problem(backend, d, m, k, B)
    model = problem.model
    J = to_numpy(problem.at(w, batch).jacobian())
    assert J.shape == (B * k, model.n)
    h = 1e-6
    fd = np.stack(
        [
            (to_numpy(model(w + unit(backend, model.n, j, h), batch.X))
             - to_numpy(model(w - unit(backend, model.n, j, h), batch.X))).reshape(-1) / (2 * h)
            for j in range(model.n)
        ],
        axis=1,
    )
    assert rel_err(J, fd) < 1e-6


@pytest.mark.parametrize("d,m,k,B", SHAPES)
def test_backward_pass_is_explicit_transpose_product(backend, d, m, k, B):
    problem, w, batch = make_problem(backend, d, m, k, B)
    point = problem.at(w, batch)
    J = point.jacobian()
    v = backend.asarray(np.random.default_rng(1).normal(size=B * k))
    assert rel_err(point.vjp(v), J.T @ v) < 1e-12
    # the gradient is the vjp of ∂ℓ/∂f
    xp = backend.xp
    assert rel_err(point.grad, J.T @ xp.reshape(point.output_grad, (-1,))) < 1e-12


@pytest.mark.parametrize("d,m,k,B", SHAPES)
def test_jvp_is_explicit_product(backend, d, m, k, B):
    problem, w, batch = make_problem(backend, d, m, k, B)
    point = problem.at(w, batch)
    u = backend.asarray(np.random.default_rng(2).normal(size=problem.model.n))
    assert rel_err(point.jvp(u), point.jacobian() @ u) < 1e-12


@pytest.mark.parametrize("d,m,k,B", SHAPES)
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-5)])
def test_structured_gram_equals_explicit(backend_name, d, m, k, B, dtype, tol):
    backend = make_backend(backend_name, dtype)
    problem, w, batch = make_problem(backend, d, m, k, B)
    point = problem.at(w, batch)
    G = point.gram()
    J = point.jacobian()
    assert G.dtype == backend.dtype
    assert tuple(G.shape) == (B * k, B * k)
    assert rel_err(G, J @ J.T) < tol


def test_gram_on_a_wide_batch_uses_every_block():
    # Off-diagonal output blocks (c ≠ c') of JJᵀ are K ∘ VVᵀ only: a wrong δ_cc' shows here.
    backend = get_backend("numpy")
    problem, w, batch = make_problem(backend, 6, 9, 3, 4, seed=5)
    point = problem.at(w, batch)
    J = point.jacobian()
    G = point.gram()
    off = [(i * 3, i2 * 3 + 1) for i in range(4) for i2 in range(4)]
    for r, c in off:
        assert G[r, c] == pytest.approx((J @ J.T)[r, c], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("d,m,k,B", SHAPES)
def test_float32_agrees_with_float64(backend_name, d, m, k, B):
    b64, b32 = make_backend(backend_name, "float64"), make_backend(backend_name, "float32")
    p64, w64, batch64 = make_problem(b64, d, m, k, B)
    p32, w32, batch32 = make_problem(b32, d, m, k, B)
    point32 = p32.at(w32, batch32)
    assert point32.grad.dtype == b32.dtype and point32.loss.dtype == b32.dtype
    assert rel_err(point32.grad, p64.at(w64, batch64).grad) < 1e-4


@pytest.mark.parametrize("d,m,k,B", SHAPES)
def test_numpy_and_array_api_strict_agree(d, m, k, B):
    results = []
    for name in ("numpy", "array_api_strict"):
        backend = make_backend(name)
        problem, w, batch = make_problem(backend, d, m, k, B)
        point = problem.at(w, batch)
        results.append([to_numpy(x) for x in (point.loss, point.grad, point.residual, point.gram())])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------ parameters
def test_parameter_count_and_views():
    model = MLP(d=40, m=1000, k=1)
    assert model.n == 42_000  # §3.2.1
    assert MLP(d=784, m=100, k=10).n == 79_500  # §3.5.1
    w = model.init(seed=0)
    W, a = model.unpack(w)
    assert W.shape == (41, 1000) and a.shape == (1000, 1)
    W[0, 0] = 123.0
    a[-1, 0] = -7.0
    assert w[0] == 123.0 and w[-1] == -7.0  # unpack returns views, not copies
    np.testing.assert_array_equal(model.pack(W, a), w)


def test_init_is_seeded_kaiming_normal():
    model = MLP(d=40, m=1000, k=1)
    w0, w1 = model.init(seed=0), model.init(seed=0)
    np.testing.assert_array_equal(w0, w1)
    assert not np.array_equal(w0, model.init(seed=1))
    W, a = model.unpack(w0)
    # He: std √(2/fan_in); 41 000 draws give the std to within a few per cent
    assert np.std(W) == pytest.approx(np.sqrt(2 / 41), rel=0.03)
    assert np.std(a) == pytest.approx(np.sqrt(2 / 1000), rel=0.15)


def test_init_is_the_same_on_every_backend(backend):
    model = MLP(3, 4, 2)
    np.testing.assert_array_equal(to_numpy(model.init(seed=3, backend=backend)), model.init(seed=3))


# ------------------------------------------------------------------ losses
def test_mse_value_gradient_and_scaled_residual(backend):
    rng = np.random.default_rng(0)
    f_h, y_h = rng.normal(size=(6, 1)), rng.normal(size=(6, 1))
    f, y = backend.asarray(f_h), backend.asarray(y_h)
    loss = MSE()
    assert float(loss.value(f, y)) == pytest.approx(np.mean((f_h - y_h) ** 2), rel=1e-14)
    np.testing.assert_allclose(to_numpy(loss.grad(f, y)), 2 * (f_h - y_h) / 6, rtol=1e-14)
    q = to_numpy(loss.residual(f, y))
    np.testing.assert_allclose(q, (f_h - y_h).ravel(), rtol=1e-14)
    s = loss.residual_scale(6, 1)
    assert 0.5 * np.sum((s * q) ** 2) == pytest.approx(np.mean((f_h - y_h) ** 2), rel=1e-13)


def test_cross_entropy_is_stable_and_correct(backend):
    logits = np.array([[1000.0, 0.0, -1000.0], [0.5, 0.2, 0.1]])
    labels = np.array([0, 2])
    f, y = backend.asarray(logits), backend.asarray(labels, dtype="int64")
    loss = CrossEntropy()
    value = float(loss.value(f, y))
    z = logits[1] - logits[1].max()
    expected = (0.0 + (np.log(np.exp(z).sum()) - z[2])) / 2
    assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-14)
    g = to_numpy(loss.grad(f, y))
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)  # softmax − one-hot sums to 0
    np.testing.assert_allclose(to_numpy(loss.residual(f, y)), (logits - np.eye(3)[labels]).ravel())
    assert float(loss.accuracy(f, y)) == 0.5


# ------------------------------------------------------------------ bad input
def test_bad_shapes_and_values_name_what_was_expected():
    model = MLP(3, 4, 1)
    w = model.init(0)
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"X must have shape \(B, d=3\)"):
        model.forward(w, np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"X must have shape"):
        model.forward(w, np.zeros(3))
    with pytest.raises(ValueError, match=r"w must have length n=\(d\+1\)·m\+m·k=20"):
        model.forward(w[:-1], X)
    with pytest.raises(ValueError, match="w must be a flat vector"):
        model.unpack(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="share a dtype"):
        model.forward(w, np.zeros((5, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        MLP(3, 4, 0)
    with pytest.raises(ValueError, match="m must be an integer >= 1"):
        MLP(3, 2.5, 1)
    problem = Problem(model, MSE())
    with pytest.raises(ValueError, match=r"y must have shape \(B, k\)=\(5, 1\)"):
        problem.at(w, Batch(X, np.zeros((4, 1))))
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="X holds non-finite"):
        problem.at(w, Batch(bad, np.zeros((5, 1))))
    with pytest.raises(NonFiniteError, match="y holds non-finite"):
        problem.at(w, Batch(X, np.full((5, 1), np.inf)))
    ce = Problem(MLP(3, 4, 3), CrossEntropy())
    with pytest.raises(ValueError, match="integer labels"):
        ce.at(MLP(3, 4, 3).init(0), Batch(X, np.zeros(5)))
    with pytest.raises(ValueError, match="cross-entropy needs k >= 2"):
        Problem(model, CrossEntropy())


def test_unknown_backend_or_dtype_is_a_clear_error():
    with pytest.raises(BackendError, match="backend must be one of numpy, cupy, array_api_strict; got 'jax'"):
        get_backend("jax")
    with pytest.raises(BackendError, match="dtype must be one of float64, float32; got 'float16'"):
        get_backend("numpy", "float16")
    with pytest.raises(ValueError, match="loss must be one of"):
        gfref.get_loss("hinge")


def test_cupy_backend_is_a_clear_error_or_works():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(BackendError, match="needs CuPy"):
            get_backend("cupy")
        return
    try:
        backend = get_backend("cupy")
    except BackendError as exc:
        assert "GPU" in str(exc)
        return
    assert to_numpy(backend.asarray([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_spd_solve_matches_a_general_solve(backend):
    rng = np.random.default_rng(0)
    A_h = rng.normal(size=(6, 6))
    A_h = A_h @ A_h.T + 6 * np.eye(6)
    b_h = rng.normal(size=6)
    x = spd_solve(backend.asarray(A_h), backend.asarray(b_h))
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(A_h, b_h), rtol=1e-12)
    # overwrite=True may factorise in A's memory (full-Jacobian IEQ's fresh Gram): same answer
    x = spd_solve(backend.asarray(A_h.copy()), backend.asarray(b_h), overwrite=True)
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(A_h, b_h), rtol=1e-12)
    B_h = rng.normal(size=(6, 3))  # several right-hand sides
    np.testing.assert_allclose(to_numpy(spd_solve(backend.asarray(A_h), backend.asarray(B_h))), np.linalg.solve(A_h, B_h), rtol=1e-12)


def test_spd_solve_overwrites_only_when_allowed():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5, 5))
    A = A @ A.T + 5 * np.eye(5)
    b = rng.normal(size=5)
    kept = A.copy()
    spd_solve(A, b)
    np.testing.assert_array_equal(A, kept)
    spd_solve(A, b, overwrite=True)  # row-major A: factorised in place, through its transpose view
    assert not np.array_equal(A, kept)


def test_spd_solve_rejects_a_matrix_that_is_not_positive_definite():
    with pytest.raises(np.linalg.LinAlgError, match="not symmetric positive definite"):
        spd_solve(np.diag([1.0, -1.0, 2.0]), np.ones(3))


def test_import_pulls_in_neither_matplotlib_nor_cupy():
    code = "import sys, gfref; bad = [m for m in ('matplotlib', 'cupy', 'scipy') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("d,m,k,B", SHAPES)
def test_outputs_alone_equal_the_forward_pass(backend, d, m, k, B):
    # model(w, X) skips the cache (relaxation's extra loss evaluation); it must be the same f
    problem, w, batch = make_problem(backend, d, m, k, B)
    f_forward = problem.at(w, batch).f
    assert rel_err(problem.model(w, batch.X), f_forward) < 1e-15
    assert float(problem.loss_at(w, batch)) == pytest.approx(float(problem.at(w, batch).loss), rel=1e-14)
