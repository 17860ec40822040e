"""IEQ (§2.2.5 Methods A and B, Theorem 2.4, Lemma 2.1) and relaxed IEQ (§2.4): what is proved
holds, what is only approximate is shown to be so, and every update is pinned to a computation
that does not share the scheme's code.

Independent references: the hand-worked one-neuron network below, and NumPy on the explicit
Jacobian J (``point.jacobian()``, itself checked against central differences in test_core).
Hypothesis draws small networks (k = 1 with MSE, k = 3 with cross-entropy residuals), batches
of 1..5 samples, Δt over 1e-4..1e2 and η over [0, 1], on NumPy and array_api_strict.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gfref.backend import get_backend, to_numpy
from gfref.losses import MSE
from gfref.mlp import MLP
from gfref.problem import Batch, Problem
from gfref.schemes import NonFiniteStepError, SchemeError, get_scheme
from gfref.schemes.ieq import IEQState, ieq, ieq_adaptive

from conftest import make_backend
from strategies import build_problem, etas, problems, step_sizes

JACOBIANS = st.sampled_from(["gram", "explicit"])
Q_SCALES = st.sampled_from(["paper", "loss"])


# ------------------------------------------------------------------ helpers
def np_(x):
    return np.asarray(to_numpy(x), dtype=float)


def scale_of(problem, batch, q_scale):
    return 1.0 if q_scale == "paper" else problem.residual_scale(batch)


def reference(problem, w, batch, q_scale="paper"):
    """(J, q) in NumPy, both multiplied by the scheme's s."""
    point = problem.at(w, batch)
    s = scale_of(problem, batch, q_scale)
    return s * np_(point.jacobian()), s * np_(point.residual)


def run(scheme, problem, w, batch, state=None):
    """One step from ``state`` (init if None); returns (w_new, state_new, info) with info as floats."""
    if state is None:
        state = scheme.init(problem, w, batch)
    w1, state1, info = scheme.step(problem, w, state, batch)
    floats = {k: (None if v is None else float(to_numpy(v))) for k, v in info._asdict().items()}
    return w1, state1, floats


def one_neuron(backend, y=0.0):
    """d = m = k = 1, w = [W₀, W₁, a] = [1, 0, 2], x = 1: z = 1, f = 2, q = 2 − y.

    J = ∂f/∂w = [a·x, a, σ(z)] = [2, 2, 1], ‖g‖² = 9.
    """
    problem = Problem(MLP(1, 1, 1), MSE())
    w = backend.asarray([1.0, 0.0, 2.0])
    return problem, w, Batch(backend.asarray([[1.0]]), backend.asarray([[y]]))


G_HAND = np.array([2.0, 2.0, 1.0])


# ------------------------------------------------------------------ Method A by hand
@pytest.mark.parametrize("jacobian", ["gram", "explicit"])
@pytest.mark.parametrize("dt", [1.0, 0.5, 3e-3])
def test_full_jacobian_step_by_hand(backend, jacobian, dt):
    problem, w, batch = one_neuron(backend)
    w1, state, info = run(ieq(dt, jacobian=jacobian), problem, w, batch)
    q1 = 2.0 / (1.0 + 9.0 * dt)  # (1 + Δt‖g‖²)⁻¹ q⁰, q⁰ = 2
    np.testing.assert_allclose(np_(state.q), [q1], rtol=1e-14)
    np.testing.assert_allclose(np_(w1), [1.0, 0.0, 2.0] - dt * q1 * G_HAND, rtol=1e-14)
    assert info["loss"] == pytest.approx(4.0, rel=1e-15)  # L(w⁰) = MSE = (2 − 0)²
    assert info["energy"] == pytest.approx(0.5 * q1**2, rel=1e-14)
    assert info["aux"] == pytest.approx(q1, rel=1e-14)
    assert info["S"] == pytest.approx(9.0 * q1**2, rel=1e-13)  # ‖Jᵀqⁿ⁺¹‖²
    assert info["step_size"] == dt and info["xi0"] is None
    if dt == 1.0:  # the numbers worked on paper
        np.testing.assert_allclose(np_(w1), [0.6, -0.4, 1.8], rtol=1e-14)


def test_loss_scaled_step_by_hand(backend):
    # MSE, B = k = 1: s = √2, so the scaled scheme is the paper's with Δt·s² = 2Δt.
    problem, w, batch = one_neuron(backend)
    dt = 0.25
    w1, state, info = run(ieq(dt, q_scale="loss"), problem, w, batch)
    q1 = 2.0 / (1.0 + 9.0 * 2 * dt)
    np.testing.assert_allclose(np_(state.q), [math.sqrt(2) * q1], rtol=1e-14)
    np.testing.assert_allclose(np_(w1), [1.0, 0.0, 2.0] - 2 * dt * q1 * G_HAND, rtol=1e-14)
    assert info["energy"] == pytest.approx(q1**2, rel=1e-14)  # ½‖√2·q‖²


def test_loss_scaled_energy_is_the_mse(backend):
    problem, w, batch, _ = build_problem(backend, 3, 4, 1, 5, seed=3)
    state = ieq(0.1, q_scale="loss").init(problem, w, batch)
    q = np_(state.q)
    assert 0.5 * q @ q == pytest.approx(float(problem.loss_at(w, batch)), rel=1e-13)


# ------------------------------------------------------------------ Method A: independent NumPy
@given(case=problems(), dt=step_sizes(), jacobian=JACOBIANS, q_scale=Q_SCALES)
def test_full_jacobian_step_matches_numpy(case, dt, jacobian, q_scale):
    problem, w, batch, _ = case
    J, q = reference(problem, w, batch, q_scale)
    q1 = np.linalg.solve(np.eye(len(q)) + dt * J @ J.T, q)  # the box of §2.2.5, literally
    w1, state, info = run(ieq(dt, jacobian=jacobian, q_scale=q_scale), problem, w, batch)
    scale = max(np.linalg.norm(q), 1e-300)
    np.testing.assert_allclose(np_(state.q), q1, rtol=0, atol=1e-10 * scale)
    dw = -dt * J.T @ q1
    np.testing.assert_allclose(np_(w1) - np_(w), dw, rtol=0, atol=1e-10 * (np.linalg.norm(dw) + 1e-14 * np.linalg.norm(np_(w))))
    assert info["S"] == pytest.approx(np.sum((J.T @ q1) ** 2), rel=1e-8, abs=1e-300)


@given(case=problems(), dt=step_sizes(), q_scale=Q_SCALES)
def test_step_is_levenberg_marquardt(case, dt, q_scale):
    # E6: with q recomputed on the batch, wⁿ⁺¹ = wⁿ − (JᵀJ + I/Δt)⁻¹Jᵀq, an n × n solve.
    problem, w, batch, _ = case
    J, q = reference(problem, w, batch, q_scale)
    n = J.shape[1]
    lm = -np.linalg.solve(J.T @ J + np.eye(n) / dt, J.T @ q)
    w1, _, _ = run(ieq(dt, q_scale=q_scale), problem, w, batch)
    atol = 1e-9 * np.linalg.norm(lm) + 1e-14 * np.linalg.norm(np_(w))
    np.testing.assert_allclose(np_(w1) - np_(w), lm, rtol=0, atol=atol)


@given(case=problems(), dt=step_sizes(), q_mode=st.sampled_from(["batch", "carried"]), q_scale=Q_SCALES)
def test_full_jacobian_energy_identity(case, dt, q_mode, q_scale):
    # ½‖qⁿ⁺¹‖² − ½‖qⁿ‖² + ½‖qⁿ⁺¹ − qⁿ‖² = −‖Δw‖²/Δt, qⁿ the step's input, on three steps.
    problem, w, batch, _ = case
    scheme = ieq(dt, q=q_mode, q_scale=q_scale)
    state = scheme.init(problem, w, batch)
    s = scale_of(problem, batch, q_scale)
    for _ in range(3):
        q0 = np_(state.q) if q_mode == "carried" else s * np_(problem.at(w, batch).residual)
        w1, state, info = scheme.step(problem, w, state, batch)
        q1, dw = np_(state.q), np_(w1) - np_(w)
        lhs = 0.5 * q1 @ q1 - 0.5 * q0 @ q0 + 0.5 * (q1 - q0) @ (q1 - q0)
        rhs = -(dw @ dw) / dt
        size = max(q0 @ q0, (dw @ dw) / dt, 1e-300)
        # Δw = w1 − w loses the digits of w: allow for it in the ‖Δw‖² term.
        slack = 2 * np.linalg.norm(dw) * 1e-15 * np.linalg.norm(np_(w)) / dt
        assert abs(lhs - rhs) <= 1e-10 * size + slack
        assert np.linalg.norm(q1) <= np.linalg.norm(q0) * (1 + 1e-14)
        assert float(to_numpy(info.energy)) == pytest.approx(0.5 * q1 @ q1, rel=1e-14, abs=1e-300)
        w = w1


@given(case=problems(), dt=step_sizes(), q_scale=Q_SCALES)
def test_gram_and_explicit_paths_agree(case, dt, q_scale):
    problem, w, batch, _ = case
    a = run(ieq(dt, jacobian="gram", q_scale=q_scale), problem, w, batch)
    b = run(ieq(dt, jacobian="explicit", q_scale=q_scale), problem, w, batch)
    dw_a, dw_b = np_(a[0]) - np_(w), np_(b[0]) - np_(w)
    np.testing.assert_allclose(dw_a, dw_b, rtol=0, atol=1e-11 * np.linalg.norm(dw_b) + 1e-15 * np.linalg.norm(np_(w)))
    np.testing.assert_allclose(np_(a[1].q), np_(b[1].q), rtol=0, atol=1e-11 * np.linalg.norm(np_(b[1].q)) + 1e-300)


@given(case=problems(), dt=step_sizes(1e-3, 1e2))
def test_loss_scale_is_a_rescaled_step(case, dt):
    # q_scale="loss" with Δt is q_scale="paper" with Δt·s² (and q multiplied by s).
    problem, w, batch, _ = case
    s = problem.residual_scale(batch)
    a = run(ieq(dt, q_scale="loss"), problem, w, batch)
    b = run(ieq(dt * s * s, q_scale="paper"), problem, w, batch)
    dw_a, dw_b = np_(a[0]) - np_(w), np_(b[0]) - np_(w)
    np.testing.assert_allclose(dw_a, dw_b, rtol=0, atol=1e-10 * np.linalg.norm(dw_b) + 1e-15 * np.linalg.norm(np_(w)))
    np.testing.assert_allclose(np_(a[1].q), s * np_(b[1].q), rtol=0, atol=1e-10 * np.linalg.norm(np_(a[1].q)) + 1e-300)


def test_continuous_limit_of_the_energy_slope():
    # Δt → 0: (Eⁿ⁺¹ − Eⁿ)/Δt → −‖Jᵀqⁿ‖², the dissipation rate of Theorem 2.4's flow.
    problem, w, batch, _ = build_problem("numpy", 3, 6, 3, 4, seed=11)
    J, q = reference(problem, w, batch)
    rate = np.sum((J.T @ q) ** 2)
    for dt, tol in [(1e-4, 1e-2), (1e-6, 1e-4)]:
        _, _, info = run(ieq(dt), problem, w, batch)
        assert (info["energy"] - 0.5 * q @ q) / dt == pytest.approx(-rate, rel=tol)
        assert info["S"] == pytest.approx(rate, rel=tol)


# ------------------------------------------------------------------ q carried vs recomputed (E6)
def test_carried_equals_batch_first_then_differs(backend):
    problem, w, batch, _ = build_problem(backend, 3, 6, 1, 4, seed=7)
    dt = 1.0
    carried, fresh = ieq(dt, q="carried"), ieq(dt, q="batch")
    wc, sc, _ = run(carried, problem, w, batch)
    wb, sb, _ = run(fresh, problem, w, batch)
    np.testing.assert_array_equal(np_(wc), np_(wb))
    np.testing.assert_array_equal(np_(sc.q), np_(sb.q))
    # After a step the carried q is the linearised residual qⁿ + JΔw, not f(wⁿ⁺¹) − y:
    true_q = np_(problem.at(wc, batch).residual)
    gap = np.linalg.norm(np_(sc.q) - true_q)
    assert gap > 1e-3 * np.linalg.norm(true_q)
    J, q = reference(problem, w, batch)
    np.testing.assert_allclose(np_(sc.q), q + J @ (np_(wc) - np_(w)), rtol=1e-10)
    wc2, _, _ = run(carried, problem, wc, batch, sc)
    wb2, _, _ = run(fresh, problem, wb, batch, sb)
    assert np.linalg.norm(np_(wc2) - np_(wb2)) > 1e-6 * np.linalg.norm(np_(wb2) - np_(wb))


def test_batch_mode_ignores_the_stored_q(backend):
    problem, w, batch, _ = build_problem(backend, 3, 5, 3, 2, seed=1)
    scheme = ieq(0.3)
    a = run(scheme, problem, w, batch)
    b = run(scheme, problem, w, batch, IEQState(q=backend.asarray(np.full(6, 1e3))))
    np.testing.assert_array_equal(np_(a[0]), np_(b[0]))


@pytest.mark.parametrize("factory", [ieq, ieq_adaptive])
def test_carried_q_needs_the_same_batch_size(factory):
    problem, w, batch, _ = build_problem("numpy", 3, 5, 3, 4, seed=0)
    scheme = factory(0.1, q="carried")
    state = scheme.init(problem, w, batch)
    smaller = Batch(batch.X[:3], batch.y[:3])
    with pytest.raises(SchemeError, match=r"q='carried' needs the same batch.*B·k=9"):
        scheme.step(problem, w, state, smaller)
    # q="batch" takes any batch size
    factory(0.1).step(problem, w, state, smaller)


# ------------------------------------------------------------------ Method B (adaptive)
@pytest.mark.parametrize("dt", [1.0, 0.2])
def test_adaptive_step_by_hand(backend, dt):
    problem, w, batch = one_neuron(backend)
    # ∇L = Jᵀq = 2·[2, 2, 1], ‖∇L‖² = 36, ‖q‖² = 4: ratio 9 = ‖g‖², α = 1/(1 + 9Δt)
    eps = 0.5
    w1, state, info = run(ieq_adaptive(dt, eps=eps), problem, w, batch)
    ratio = 36.0 / (4.0 + eps)
    alpha = 1.0 / (1.0 + dt * ratio)
    np.testing.assert_allclose(np_(w1), [1.0, 0.0, 2.0] - dt * alpha * 2.0 * G_HAND, rtol=1e-14)
    np.testing.assert_allclose(np_(state.q), [2.0 * alpha], rtol=1e-14)
    assert info["S"] == pytest.approx(ratio, rel=1e-14)
    assert info["step_size"] == pytest.approx(dt * alpha, rel=1e-14)
    assert info["energy"] == pytest.approx(0.5 * (2.0 * alpha) ** 2, rel=1e-14)
    assert info["aux"] == pytest.approx(2.0 * alpha, rel=1e-14)
    assert info["loss"] == pytest.approx(4.0) and info["xi0"] is None


@given(case=problems(), dt=step_sizes(), eps=st.sampled_from([0.0, 1e-8, 1.0]), q_scale=Q_SCALES)
def test_adaptive_matches_numpy(case, dt, eps, q_scale):
    problem, w, batch, _ = case
    J, q = reference(problem, w, batch, q_scale)
    grad = J.T @ q
    assume(q @ q + eps > 0)
    alpha = 1.0 / (1.0 + dt * (grad @ grad) / (q @ q + eps))
    w1, state, info = run(ieq_adaptive(dt, eps=eps, q_scale=q_scale), problem, w, batch)
    np.testing.assert_allclose(np_(w1) - np_(w), -dt * alpha * grad, rtol=0,
                               atol=1e-10 * np.linalg.norm(dt * alpha * grad) + 1e-15 * np.linalg.norm(np_(w)))
    np.testing.assert_allclose(np_(state.q), alpha * q, rtol=1e-12, atol=1e-300)
    assert info["step_size"] == pytest.approx(dt * alpha, rel=1e-12)


@given(case=problems(), dt=step_sizes(), q_mode=st.sampled_from(["batch", "carried"]), q_scale=Q_SCALES)
def test_adaptive_bounds(case, dt, q_mode, q_scale):
    # 0 < α ≤ 1, step Δt·α ∈ (0, Δt], ‖qⁿ⁺¹‖ ≤ ‖qⁿ‖, on three steps.
    problem, w, batch, _ = case
    scheme = ieq_adaptive(dt, q=q_mode, q_scale=q_scale)
    state = scheme.init(problem, w, batch)
    s = scale_of(problem, batch, q_scale)
    for _ in range(3):
        q0 = np_(state.q) if q_mode == "carried" else s * np_(problem.at(w, batch).residual)
        w, state, info = run(scheme, problem, w, batch, state)
        assert 0 < info["step_size"] <= dt
        alpha = info["step_size"] / dt
        assert 0 < alpha <= 1
        q1 = np_(state.q)
        np.testing.assert_allclose(q1, alpha * q0, rtol=1e-13, atol=1e-300)
        assert np.linalg.norm(q1) <= np.linalg.norm(q0)
        assert info["S"] >= 0


@given(case=problems(ks=(1,)), dt=step_sizes(1e-3, 1e2))
def test_adaptive_gradient_is_the_ieq_gradient(case, dt):
    # ∇L = Jᵀq: for MSE, the loss gradient with q_scale="loss" and (B·k/2) times it with "paper".
    problem, w, batch, _ = case
    point = problem.at(w, batch)
    grad = np_(point.grad)
    assume(np.linalg.norm(grad) > 1e-8)
    rows = batch.X.shape[0]
    for q_scale, factor in [("loss", 1.0), ("paper", rows / 2)]:
        w1, _, info = run(ieq_adaptive(dt, q_scale=q_scale), problem, w, batch)
        direction = -(np_(w1) - np_(w)) / info["step_size"]
        np.testing.assert_allclose(direction, factor * grad, rtol=1e-8, atol=1e-12 * np.linalg.norm(np_(w)) / info["step_size"])


@given(case=problems(ks=(1,), max_B=1), dt=step_sizes())
def test_adaptive_equals_full_jacobian_for_one_output(case, dt):
    # B·k = 1: JJᵀ = ‖g‖² is a scalar and ‖Jᵀq‖²/‖q‖² = ‖g‖², so Method B (ε = 0) is Method A.
    problem, w, batch, _ = case
    a = run(ieq_adaptive(dt, eps=0.0), problem, w, batch)
    b = run(ieq(dt), problem, w, batch)
    np.testing.assert_allclose(np_(a[0]) - np_(w), np_(b[0]) - np_(w), rtol=1e-11, atol=1e-15 * np.linalg.norm(np_(w)))
    np.testing.assert_allclose(np_(a[1].q), np_(b[1].q), rtol=1e-12, atol=1e-300)


@given(case=problems(ks=(1,), max_B=1))
def test_lemma_2_1_is_exact_for_one_sample_one_output(case):
    problem, w, batch, _ = case
    J, q = reference(problem, w, batch)
    assume(abs(q[0]) > 1e-150)
    _, _, info = run(ieq_adaptive(1.0, eps=0.0), problem, w, batch)
    assert info["S"] == pytest.approx(J[0] @ J[0], rel=1e-13, abs=1e-300)  # ‖g‖², g = ∇_w f


def test_lemma_2_1_batch_is_approximate():
    # For B·k > 1 the ratio is the Rayleigh quotient qᵀ(JJᵀ)q/qᵀq: it lies in [λ_min, λ_max] of
    # JJᵀ but is neither ‖J‖_F² = Σᵢ‖gᵢ‖² nor the mean per-sample ‖gᵢ‖² (Lemma 2.1's ‖g‖²).
    for k, B in [(1, 4), (3, 1), (3, 3)]:
        problem, w, batch, _ = build_problem("numpy", 3, 6, k, B, seed=5)
        J, q = reference(problem, w, batch)
        _, _, info = run(ieq_adaptive(1.0, eps=0.0), problem, w, batch)
        ratio = info["S"]
        G = J @ J.T
        eig = np.linalg.eigvalsh(G)
        assert eig[0] * (1 - 1e-12) <= ratio <= eig[-1] * (1 + 1e-12)
        assert ratio == pytest.approx(q @ G @ q / (q @ q), rel=1e-12)
        frobenius = np.trace(G)
        per_row = frobenius / (B * k)
        assert abs(ratio - frobenius) > 0.1 * frobenius
        assert abs(ratio - per_row) > 0.1 * per_row


def test_adaptive_zero_residual(backend):
    # ε = 0 and q = 0 (a perfect fit): 0/0 is read as ratio 0, α = 1 and a zero step, no NaN.
    problem, w, batch, _ = build_problem(backend, 3, 5, 1, 4, seed=2)
    exact = Batch(batch.X, problem.model(w, batch.X))
    w1, state, info = run(ieq_adaptive(0.5, eps=0.0), problem, w, exact)
    np.testing.assert_array_equal(np_(w1), np_(w))
    assert info["step_size"] == 0.5 and info["S"] == 0.0 and info["energy"] == 0.0
    # carried q = 0 while ∇L ≠ 0: ratio ∞, α = 0, no step, q stays 0
    scheme = ieq_adaptive(0.5, eps=0.0, q="carried")
    w2, state2, info2 = run(scheme, problem, w, batch, IEQState(q=backend.xp.zeros(4, dtype=w.dtype)))
    np.testing.assert_array_equal(np_(w2), np_(w))
    assert info2["step_size"] == 0.0 and math.isinf(info2["S"]) and info2["energy"] == 0.0
    # Method A is fine with q = 0 as well
    w3, _, info3 = run(ieq(0.5), problem, w, exact)
    np.testing.assert_array_equal(np_(w3), np_(w))
    assert info3["energy"] == 0.0


def test_adaptive_carried_keeps_the_loss_gradient_direction():
    # With q="carried", q only rescales (qⁿ⁺¹ = αqⁿ) while the step follows ∇L at wⁿ.
    problem, w, batch, _ = build_problem("numpy", 3, 6, 1, 5, seed=4)
    scheme = ieq_adaptive(0.05, q="carried")
    state = scheme.init(problem, w, batch)
    q0 = np_(state.q)
    w1, state, _ = run(scheme, problem, w, batch, state)
    w2, state, info = run(scheme, problem, w1, batch, state)
    J, q = reference(problem, w1, batch)
    direction = -(np_(w2) - np_(w1)) / info["step_size"]
    np.testing.assert_allclose(direction, J.T @ q, rtol=1e-10)
    q2 = np_(state.q)
    np.testing.assert_allclose(q2 / np.linalg.norm(q2), q0 / np.linalg.norm(q0), rtol=1e-12)


def test_adaptive_never_forms_the_jacobian_or_the_gram(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("ieq_adaptive must stay O(n): no J, no JJᵀ")

    monkeypatch.setattr(MLP, "jacobian", forbidden)
    monkeypatch.setattr(MLP, "gram", forbidden)
    problem, w, batch, _ = build_problem("numpy", 3, 5, 3, 4, seed=0)
    for q_mode in ("batch", "carried"):
        run(ieq_adaptive(0.1, q=q_mode), problem, w, batch)
    with pytest.raises(AssertionError):  # the patch is live: Method A does use the Gram
        run(ieq(0.1), problem, w, batch)


# ------------------------------------------------------------------ relaxation (§2.4, E9)
def quad_constraint(xi, A, B, budget):
    """‖ξA + (1 − ξ)B‖² − ‖A‖² − budget (≤ 0 is feasible)."""
    v = xi * A + (1 - xi) * B
    return v @ v - A @ A - budget


@pytest.mark.parametrize(
    "y,eta,relax,xi0,q1",
    [
        # y = 0: q̃ = 0.2, q̂ = f(wⁿ⁺¹) = 1.8·0.2 = 0.36, ‖Δw‖² = 0.36 (Δt = 1), budget 0.036
        (0.0, 0.1, "jzz", (0.36 - math.sqrt(0.076)) / 0.16, math.sqrt(0.076)),  # q² = 0.04 + 0.036
        (0.0, 0.1, "paper", 0.0, 0.2),  # 0.2² ≤ 0.36² + 0.036: collapses to q̃
        # y = 3: q = −1, q̃ = −0.1, wⁿ⁺¹ = [1.2, 0.2, 2.1], q̂ = 2.1·1.4 − 3 = −0.06, ‖Δw‖² = 0.09
        (3.0, 0.05, "paper", 0.25, -0.09),  # q² = 0.06² + 0.0045 = 0.0081 → q = −0.1 + 0.04ξ
        (3.0, 0.05, "jzz", 0.0, -0.06),  # 0.06² ≤ 0.1² + 0.0045: takes q̂
    ],
)
def test_relaxed_step_by_hand(backend, y, eta, relax, xi0, q1):
    problem, w, batch = one_neuron(backend, y=y)
    unrelaxed = run(ieq(1.0, q="carried"), problem, w, batch)
    w1, state, info = run(ieq(1.0, q="carried", relax=relax, eta=eta), problem, w, batch)
    np.testing.assert_array_equal(np_(w1), np_(unrelaxed[0]))  # relaxation never moves w
    assert info["xi0"] == pytest.approx(xi0, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(np_(state.q), [q1], rtol=1e-12)
    assert info["energy"] == pytest.approx(0.5 * q1**2, rel=1e-12)


@given(case=problems(), dt=step_sizes(), eta=etas(), relax=st.sampled_from(["paper", "jzz"]), q_scale=Q_SCALES)
def test_relaxation_parameter_is_the_smallest_feasible(case, dt, eta, relax, q_scale):
    problem, w, batch, _ = case
    state = ieq(dt, q="carried", q_scale=q_scale).init(problem, w, batch)
    w1, tilde_state, _ = run(ieq(dt, q="carried", q_scale=q_scale), problem, w, batch, state)
    w1r, relaxed_state, info = run(ieq(dt, q="carried", q_scale=q_scale, relax=relax, eta=eta), problem, w, batch, state)
    np.testing.assert_array_equal(np_(w1r), np_(w1))
    q_tilde = np_(tilde_state.q)
    q_hat = scale_of(problem, batch, q_scale) * np_(problem.at(w1, batch).residual)
    dw = np_(w1) - np_(w)
    budget = eta * (dw @ dw) / dt
    A, B = (q_hat, q_tilde) if relax == "paper" else (q_tilde, q_hat)
    xi0 = info["xi0"]
    assert 0.0 <= xi0 <= 1.0
    np.testing.assert_allclose(np_(relaxed_state.q), xi0 * A + (1 - xi0) * B, rtol=1e-12, atol=1e-14 * np.linalg.norm(B))
    size = max(A @ A, B @ B, budget, 1e-300)
    assert quad_constraint(xi0, A, B, budget) <= 1e-10 * size  # feasible at ξ₀
    if xi0 > 0:  # the constraint is active at ξ₀ ...
        assert quad_constraint(xi0, A, B, budget) == pytest.approx(0.0, abs=1e-9 * size)
    # ... and no smaller ξ is feasible. When A and B agree to rounding (a dead network: J = 0,
    # q̂ = q̃ up to an ulp) ξ₀ is arbitrary and immaterial, so ask only where the values differ.
    if xi0 > 1e-3 and (A - B) @ (A - B) > 1e-8 * size:
        for xi in (0.0, 0.5 * xi0, 0.9 * xi0):
            assert quad_constraint(xi, A, B, budget) > 0
    # the resulting energy in closed form: ‖qⁿ⁺¹‖² = min(‖B‖², ‖A‖² + budget)
    q1 = np_(relaxed_state.q)
    assert q1 @ q1 == pytest.approx(min(B @ B, A @ A + budget), rel=1e-9, abs=1e-12 * size)


@given(case=problems(), dt=step_sizes(), eta=etas(), relax=st.sampled_from(["paper", "jzz"]))
def test_jzz_energy_bound_carried(case, dt, eta, relax):
    # Carried q, three steps: ½‖qⁿ⁺¹‖² − ½‖qⁿ‖² ≤ −(1 − η/2)‖Δw‖²/Δt − ½‖q̃ − qⁿ‖² for jzz;
    # the paper's convention never exceeds the unrelaxed energy, so the bound holds with η = 0.
    problem, w, batch, _ = case
    relaxed = ieq(dt, q="carried", relax=relax, eta=eta)
    plain = ieq(dt, q="carried")
    state = relaxed.init(problem, w, batch)
    effective_eta = eta if relax == "jzz" else 0.0
    for _ in range(3):
        q0 = np_(state.q)
        _, tilde_state, _ = run(plain, problem, w, batch, state)
        w1, state, info = run(relaxed, problem, w, batch, state)
        q1, q_tilde, dw = np_(state.q), np_(tilde_state.q), np_(w1) - np_(w)
        bound = -(1 - effective_eta / 2) * (dw @ dw) / dt - 0.5 * (q_tilde - q0) @ (q_tilde - q0)
        # ξ₀ and the mix are rounded relative to q̂ too, which can far exceed a carried q that
        # has drifted from the true residual.
        q_hat = np_(problem.at(w1, batch).residual)
        size = max(q0 @ q0, (dw @ dw) / dt, q_hat @ q_hat, 1e-300)
        slack = 2 * np.linalg.norm(dw) * 1e-15 * np.linalg.norm(np_(w)) / dt
        assert 0.5 * q1 @ q1 - 0.5 * q0 @ q0 <= bound + 1e-10 * size + slack
        w = w1


def test_paper_relaxation_usually_collapses():
    # E9: under the paper's convention ξ₀ = 0, i.e. qⁿ⁺¹ = q̃ (the unrelaxed scheme), in almost
    # every case; under JZZ qⁿ⁺¹ = q̂ or a mix, almost never q̃.
    counts = {"paper": 0, "jzz": 0}
    total = 0
    for seed in range(20):
        k, B = (1, 3) if seed % 2 else (3, 2)
        problem, w, batch, _ = build_problem("numpy", 3, 5, k, B, seed)
        for dt in (1e-3, 1e-1, 1e1):
            total += 1
            for relax in counts:
                _, _, info = run(ieq(dt, q="carried", relax=relax, eta=0.99), problem, w, batch)
                counts[relax] += info["xi0"] == 0.0 if relax == "paper" else info["xi0"] == 1.0
    assert counts["paper"] >= 0.9 * total
    assert counts["jzz"] <= 0.1 * total


@given(case=problems(), dt=step_sizes(), relax=st.sampled_from(["paper", "jzz"]))
def test_relaxation_with_batch_q_changes_only_the_reported_energy(case, dt, relax):
    problem, w, batch, _ = case
    wa, wb = w, w
    plain, relaxed = ieq(dt), ieq(dt, relax=relax, eta=0.5)
    sa, sb = plain.init(problem, w, batch), relaxed.init(problem, w, batch)
    for _ in range(3):
        wa, sa, _ = run(plain, problem, wa, batch, sa)
        wb, sb, _ = run(relaxed, problem, wb, batch, sb)
        np.testing.assert_array_equal(np_(wa), np_(wb))


# ------------------------------------------------------------------ protocol, backends, errors
@given(case=problems(), dt=step_sizes(), relax=st.sampled_from([None, "paper", "jzz"]))
def test_steps_do_not_modify_their_inputs(case, dt, relax):
    problem, w, batch, _ = case
    for scheme in (ieq(dt, q="carried", relax=relax), ieq_adaptive(dt, q="carried")):
        state = scheme.init(problem, w, batch)
        w_copy, q_copy = np_(w).copy(), np_(state.q).copy()
        scheme.step(problem, w, state, batch)
        np.testing.assert_array_equal(np_(w), w_copy)
        np.testing.assert_array_equal(np_(state.q), q_copy)


@pytest.mark.parametrize("k,B", [(1, 1), (1, 4), (3, 3)])
def test_numpy_and_array_api_strict_agree(k, B):
    schemes = [ieq(0.7), ieq(0.7, jacobian="explicit", q="carried", relax="jzz", eta=0.3),
               ieq(0.7, relax="paper", q_scale="loss"), ieq_adaptive(0.7), ieq_adaptive(0.7, q="carried", q_scale="loss")]
    for scheme in schemes:
        out = []
        for name in ("numpy", "array_api_strict"):
            problem, w, batch, backend = build_problem(make_backend(name), 3, 4, k, B, seed=9)
            w1, state, info = run(scheme, problem, w, batch)
            assert type(w1) is type(w) and type(state.q) is type(w)
            out.append((np_(w1), np_(state.q), info))
        np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-13, atol=1e-15)
        for key, value in out[0][2].items():
            assert value == pytest.approx(out[1][2][key], rel=1e-12, abs=1e-300) if value is not None else out[1][2][key] is None


def test_float32_step_keeps_the_dtype():
    backend = get_backend("numpy", "float32")
    problem, w, batch, _ = build_problem(backend, 3, 4, 3, 2, seed=1)
    for scheme in (ieq(0.1), ieq(0.1, relax="jzz"), ieq_adaptive(0.1)):
        w1, state, info = scheme.step(problem, w, scheme.init(problem, w, batch), batch)
        assert w1.dtype == w.dtype and state.q.dtype == w.dtype and info.energy.dtype == w.dtype


def test_registry_and_hyperparams():
    scheme = get_scheme("ieq", dt=0.5, jacobian="explicit", relax="jzz")
    assert scheme.name == "ieq"
    assert scheme.hyperparams == dict(dt=0.5, jacobian="explicit", q="batch", q_scale="paper", relax="jzz", eta=0.99)
    adaptive = get_scheme("ieq_adaptive", dt=2, eps=0)
    assert adaptive.name == "ieq_adaptive"
    assert adaptive.hyperparams == dict(dt=2.0, eps=0.0, q="batch", q_scale="paper")


@pytest.mark.parametrize(
    "factory,kwargs,message",
    [
        (ieq, dict(dt=0.0), r"ieq: dt must be a finite number > 0; got 0\.0"),
        (ieq, dict(dt=-1.0), r"dt must be a finite number > 0"),
        (ieq, dict(dt=math.nan), r"dt must be a finite number > 0"),
        (ieq, dict(dt=math.inf), r"dt must be a finite number > 0"),
        (ieq, dict(dt="1"), r"dt must be a finite number > 0"),
        (ieq, dict(dt=True), r"dt must be a finite number > 0"),
        (ieq, dict(dt=1.0, jacobian="full"), r"ieq: jacobian must be one of 'gram', 'explicit'; got 'full'"),
        (ieq, dict(dt=1.0, q="fixed"), r"q must be one of 'batch', 'carried'; got 'fixed'"),
        (ieq, dict(dt=1.0, q_scale="mean"), r"q_scale must be one of 'paper', 'loss'; got 'mean'"),
        (ieq, dict(dt=1.0, relax="jiang"), r"relax must be one of None, 'paper', 'jzz'; got 'jiang'"),
        (ieq, dict(dt=1.0, eta=1.5), r"eta must lie in \[0, 1\]; got 1\.5"),
        (ieq, dict(dt=1.0, eta=-0.1), r"eta must lie in \[0, 1\]"),
        (ieq, dict(dt=1.0, eta=math.nan), r"eta must lie in \[0, 1\]"),
        (ieq_adaptive, dict(dt=0.0), r"ieq_adaptive: dt must be a finite number > 0"),
        (ieq_adaptive, dict(dt=1.0, eps=-1e-8), r"ieq_adaptive: eps must be a finite number >= 0; got -1e-08"),
        (ieq_adaptive, dict(dt=1.0, eps=math.inf), r"eps must be a finite number >= 0"),
        (ieq_adaptive, dict(dt=1.0, q="both"), r"q must be one of 'batch', 'carried'"),
        (ieq_adaptive, dict(dt=1.0, q_scale=None), r"q_scale must be one of 'paper', 'loss'; got None"),
    ],
)
def test_bad_hyperparameters_are_named(factory, kwargs, message):
    with pytest.raises(SchemeError, match=message):
        factory(**kwargs)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflows below are the point
@pytest.mark.parametrize("factory", [ieq, ieq_adaptive])
@pytest.mark.parametrize("jacobian", ["gram", "explicit"])
def test_non_finite_steps_name_the_quantity(backend, factory, jacobian):
    problem, w, batch, _ = build_problem(backend, 3, 4, 1, 3, seed=0)
    make = (lambda q: ieq(0.1, jacobian=jacobian, q=q)) if factory is ieq else (lambda q: ieq_adaptive(0.1, q=q))
    bad = np_(w).copy()
    bad[0] = np.nan
    bad = backend.asarray(bad)
    # a NaN weight: q = f − y is NaN first in batch mode; with a (finite) carried q, the
    # Gram matrix (Method A) or the gradient (Method B) is the first casualty
    first = "‖qⁿ‖²" if factory is ieq else "‖∇L‖²"
    with pytest.raises(NonFiniteStepError, match=rf"{factory.__name__}: {first} is not finite"):
        make("batch").step(problem, bad, None, batch)
    scheme = make("carried")
    first = "trace JJᵀ" if factory is ieq else "‖∇L‖²"
    with pytest.raises(NonFiniteStepError, match=rf"{factory.__name__}: {first} is not finite"):
        scheme.step(problem, bad, scheme.init(problem, w, batch), batch)
    # a carried q that went bad
    nan_q = IEQState(q=backend.asarray(np.full(3, np.nan)))
    with pytest.raises(NonFiniteStepError, match="‖qⁿ‖² is not finite"):
        scheme.step(problem, w, nan_q, batch)
    # outputs finite but JJᵀ overflows: hidden units ~1e160 with a tiny second layer
    model = problem.model
    W, a = model.unpack(np_(w).copy())
    huge = model.pack(np.full_like(W, 1e160), np.full_like(a, 1e-170))
    X = backend.asarray(np.abs(np_(batch.X)) + 1.0)
    big_batch = Batch(X, batch.y)
    name = "trace JJᵀ" if factory is ieq else "‖∇L‖²"
    with pytest.raises(NonFiniteStepError, match=name):
        scheme.step(problem, backend.asarray(huge), scheme.init(problem, backend.asarray(huge), big_batch), big_batch)
