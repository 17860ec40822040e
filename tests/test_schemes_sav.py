r"""SGD, Adam, SAV and ExpSAV: hand computations, the energy laws of §2.5 and their limits.

What is proved here, and what is refuted (DESIGN §4–§5):

* SAV, Thm 2.1 form: the identity (rⁿ⁺¹)² − (rⁿ)² + (rⁿ⁺¹ − rⁿ)² = −‖Δw‖²/Δt − λ‖Δw‖² holds to
  rounding for every Δt, λ, C and every rⁿ — the paper's r recurrence is exactly the
  Shen–Xu–Yang r update. In the box form it holds only while rⁿ = √(L(wⁿ)+C); its defect is
  (rⁿ⁺¹)²ΔtSⁿ(1/(rⁿ)² − 1/(ρⁿ)²), nonzero from the second step on.
* rⁿ⁺¹ ≤ rⁿ: every unrelaxed form, every form relaxed in the paper's convention, SAV thm2.1
  relaxed in the JZZ convention. Refuted (seeded counterexamples): SAV box + JZZ, ExpSAV + JZZ.
* step ∈ (0, Δt]: SAV box, ExpSAV box and thm2.3. Refuted: SAV thm2.1 (r lags a falling loss)
  and ExpSAV thm2.2 (Δt/(r + ΔtS) > Δt for r < 1).
* Δt → 0: SAV ((rⁿ⁺¹)² − (rⁿ)²)/Δt → −‖g‖²(rⁿ/ρⁿ)² (= −S at rⁿ = ρⁿ); ExpSAV box/thm2.2
  (log rⁿ⁺¹ − log rⁿ)/Δt → −‖g‖²/rⁿ, thm2.3 → −‖g‖².
* E12: L can rise while r falls.
* Relaxed SAV's ξ₀ near a double root (r̃ ≪ r̂, β ≈ 0): the paper's root formula
  (−b − √(b² − 4ac))/(2a) loses half the digits there (a seeded case raised r by 40%);
  relax.xi_quadratic uses the equivalent ξ₀ = (B − √(A² + β))/(B − A), and the seeded case
  keeps r to rounding.
"""

from __future__ import annotations

import math
import warnings
import decimal
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import gfref
from gfref import MLP, MSE, Batch, Problem
from gfref.backend import to_float, to_numpy
from gfref.schemes import NonFiniteStepError, SchemeError, get_scheme

# factories from their modules: ``gfref.schemes.sav`` is the submodule once it has been imported
from gfref.schemes.adam import adam
from gfref.schemes.expsav import expsav
from gfref.schemes.sav import sav
from gfref.schemes.sgd import sgd

from conftest import make_backend
from strategies import build_problem, etas, lams, problems, shifts, small_step_sizes, step_sizes

F = to_float
EPS = float(np.finfo(np.float64).eps)


def as_np(x):
    return np.asarray(to_numpy(x), dtype=np.float64)


def run(scheme, problem, w, batch, steps):
    """[(state before, w before, w after, state after, info)] for ``steps`` steps on one batch."""
    state = scheme.init(problem, w, batch)
    out = []
    for _ in range(steps):
        w_new, state_new, info = scheme.step(problem, w, state, batch)
        out.append((state, w, w_new, state_new, info))
        w, state = w_new, state_new
    return out


def sq_dist(a, b):
    d = as_np(a) - as_np(b)
    return float(d @ d)


def energy_scale(r, dw2, dt, lam, w, w_new):
    """What rounding of the identity's terms is measured against.

    r² and ‖Δw‖²(1/Δt + λ) are the terms; ‖w‖·‖Δw‖/Δt is the size of the rounding of
    ‖Δw‖²/Δt when Δw is formed as wⁿ⁺¹ − wⁿ (a tiny step on a large w).
    """
    wn = math.sqrt(float(as_np(w) @ as_np(w))) + math.sqrt(float(as_np(w_new) @ as_np(w_new)))
    return max(r * r, dw2 * (1.0 / dt + lam), wn * math.sqrt(dw2) / dt)


# ===================================================================== hand computations
# f(x) = a·relu(W_x·x + b): L and ∇L by hand, in NumPy, independent of gfref. Two cases:
# two samples (the relaxation is active in the JZZ convention), and one sample with a far
# target, where the bilinear a·relu(·) makes L fall faster than r (active in the paper's).
HAND_CASES = {
    "two_samples": dict(
        X=np.array([[1.0], [-0.5]]), Y=np.array([[3.0], [-0.5]]), w=np.array([0.7, 0.6, 1.5]),
        sav=dict(dt=0.4, C=0.3, lam=2.5, eta=0.7), expsav=dict(dt=0.4, C=2.0, lam=0.5, eta=0.7),
    ),
    "bilinear": dict(
        X=np.array([[1.0]]), Y=np.array([[10.0]]), w=np.array([0.5, 0.5, 1.0]),
        sav=dict(dt=0.03, C=0.3, lam=0.5, eta=0.3), expsav=dict(dt=0.03, C=0.3, lam=0.5, eta=0.3),
    ),
}


def hand_loss_grad(w, case="two_samples"):
    X, Y = HAND_CASES[case]["X"], HAND_CASES[case]["Y"]
    Wx, b, a = w  # the layout of MLP(1, 1, 1): [W.ravel(), a.ravel()], W = [[W_x], [b]]
    z = Wx * X[:, 0] + b
    active = (z > 0).astype(float)
    h = z * active
    res = a * h - Y[:, 0]
    L = np.mean(res**2)
    dL_df = 2 * res / len(res)
    g = np.array([np.sum(dL_df * a * active * X[:, 0]), np.sum(dL_df * a * active), np.sum(dL_df * h)])
    return L, g


def hand_problem(backend, case="two_samples"):
    c = HAND_CASES[case]
    problem = Problem(MLP(1, 1, 1), MSE())
    return problem, backend.asarray(c["w"]), Batch(backend.asarray(c["X"]), backend.asarray(c["Y"]))


@pytest.mark.parametrize("case", HAND_CASES)
def test_hand_gradient_agrees_with_the_network(case):
    # the hand formulas above are the reference of every test below: check them once
    problem, w, batch = hand_problem(gfref.get_backend("numpy"), case)
    L, g = hand_loss_grad(HAND_CASES[case]["w"], case)
    point = problem.at(w, batch)
    assert F(point.loss) == pytest.approx(L, rel=1e-15)
    np.testing.assert_allclose(as_np(point.grad), g, rtol=1e-15)


def test_sgd_step_matches_hand_computation(backend):
    problem, w, batch = hand_problem(backend)
    scheme = sgd(lr=0.3)
    w1, _, info = scheme.step(problem, w, scheme.init(problem, w, batch), batch)
    w0 = HAND_CASES["two_samples"]["w"]
    L, g = hand_loss_grad(w0)
    np.testing.assert_allclose(as_np(w1), w0 - 0.3 * g, rtol=1e-15)
    assert F(info.loss) == pytest.approx(L, rel=1e-15) and F(info.step_size) == 0.3


def test_adam_two_steps_match_hand_computation(backend):
    problem, w, batch = hand_problem(backend)
    lr, b1, b2, eps = 0.05, 0.8, 0.95, 1e-3  # unusual values: a wrong power or default shows
    scheme = adam(lr=lr, b1=b1, b2=b2, eps=eps)
    state = scheme.init(problem, w, batch)
    wh, m, v = HAND_CASES["two_samples"]["w"].copy(), np.zeros(3), np.zeros(3)
    for n in range(2):  # steps 1 and 2: bias corrections 1 − β¹ and 1 − β²
        w, state, _ = scheme.step(problem, w, state, batch)
        _, g = hand_loss_grad(wh)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1 ** (n + 1)), v / (1 - b2 ** (n + 1))
        wh = wh - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(as_np(w), wh, rtol=1e-14)
        np.testing.assert_allclose(as_np(state.m), m, rtol=1e-14)
        np.testing.assert_allclose(as_np(state.v), v, rtol=1e-14)
        assert state.count == n + 1


def hand_xi_quadratic(A, B, budget):
    """The paper's closed form ξ₀ = max{0, (−b − √(b² − 4ac))/(2a)} (Thm 2.5); a = 0 or c ≤ 0 → 0."""
    a, b, c = (A - B) ** 2, 2 * B * (A - B), B * B - A * A - budget
    if a == 0 or c <= 0:
        return 0.0
    return min(1.0, max(0.0, (-b - math.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)))


def hand_sav(case, form, relax, steps=3):
    """[(w, r, S, step_size, ξ₀)] after each step, by hand."""
    hp = HAND_CASES[case]["sav"]
    dt, C, lam, eta = hp["dt"], hp["C"], hp["lam"], hp["eta"]
    wh = HAND_CASES[case]["w"].copy()
    r = math.sqrt(hand_loss_grad(wh, case)[0] + C)
    out = []
    for _ in range(steps):
        L, g = hand_loss_grad(wh, case)
        g_tilde = g / (1 + dt * lam)
        S = g @ g_tilde
        r_tilde = r / (1 + dt * S / (2 * (L + C)))
        coef = r_tilde / r if form == "box" else r_tilde / math.sqrt(L + C)
        w_next = wh - dt * coef * g_tilde
        xi = None
        if relax is not None:
            r_hat = math.sqrt(hand_loss_grad(w_next, case)[0] + C)
            budget = eta * float((w_next - wh) @ (w_next - wh)) / dt
            if relax == "paper":
                xi = hand_xi_quadratic(r_hat, r_tilde, budget)
                r_tilde = xi * r_hat + (1 - xi) * r_tilde
            else:
                xi = hand_xi_quadratic(r_tilde, r_hat, budget)
                r_tilde = xi * r_tilde + (1 - xi) * r_hat
        wh, r = w_next, r_tilde
        out.append((wh, r, S, dt * coef / (1 + dt * lam), xi))
    return out


def hand_expsav(case, form, relax, steps=3):
    hp = HAND_CASES[case]["expsav"]
    dt, C, lam, eta = hp["dt"], hp["C"], hp["lam"], hp["eta"]
    wh = HAND_CASES[case]["w"].copy()
    r = C * math.exp(hand_loss_grad(wh, case)[0])  # moderate losses: r itself is representable here
    out = []
    for _ in range(steps):
        L, g = hand_loss_grad(wh, case)
        g_tilde = g / (1 + dt * lam)
        S = g @ g_tilde
        r_new = r / (1 + dt * S) if form == "thm2.3" else r / (1 + dt * S / r)
        coef = dt * r_new / r**2 if form == "thm2.2" else dt * r_new / r
        w_next = wh - coef * g_tilde
        xi = None
        if relax is not None:
            r_hat = C * math.exp(hand_loss_grad(w_next, case)[0])
            budget = eta * math.sqrt(float((w_next - wh) @ (w_next - wh))) / dt  # ‖Δw‖, not squared
            A, B = (r_hat, r_new) if relax == "paper" else (r_new, r_hat)
            xi = max(0.0, 1 - budget / (B - A)) if B - A > budget else 0.0  # Thm 2.6
            r_new = xi * A + (1 - xi) * B
        wh, r = w_next, r_new
        out.append((wh, r, S, coef / (1 + dt * lam), xi))
    return out


@pytest.mark.parametrize("case", HAND_CASES)
@pytest.mark.parametrize("form", ["box", "thm2.1"])
@pytest.mark.parametrize("relax", [None, "paper", "jzz"])
def test_sav_steps_match_hand_computation(backend, case, form, relax):
    problem, w, batch = hand_problem(backend, case)
    scheme = sav(form=form, relax=relax, **HAND_CASES[case]["sav"])
    state = scheme.init(problem, w, batch)
    C = HAND_CASES[case]["sav"]["C"]
    assert F(state.r) == pytest.approx(math.sqrt(hand_loss_grad(HAND_CASES[case]["w"], case)[0] + C), rel=1e-15)
    # three steps: from the second on r ≠ √(L + C) and box and thm2.1 part ways
    for wh, r, S, step_size, xi in hand_sav(case, form, relax):
        w, state, info = scheme.step(problem, w, state, batch)
        np.testing.assert_allclose(as_np(w), wh, rtol=1e-13)
        assert F(state.r) == pytest.approx(r, rel=1e-12)
        assert F(info.energy) == pytest.approx(r * r, rel=1e-12)
        assert F(info.S) == pytest.approx(S, rel=1e-13)
        assert F(info.step_size) == pytest.approx(step_size, rel=1e-13)
        if xi is not None:
            assert F(info.xi0) == pytest.approx(xi, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("case", HAND_CASES)
@pytest.mark.parametrize("form", ["box", "thm2.2", "thm2.3"])
@pytest.mark.parametrize("relax", [None, "paper", "jzz"])
def test_expsav_steps_match_hand_computation(backend, case, form, relax):
    problem, w, batch = hand_problem(backend, case)
    scheme = expsav(form=form, relax=relax, **HAND_CASES[case]["expsav"])
    state = scheme.init(problem, w, batch)
    C = HAND_CASES[case]["expsav"]["C"]
    assert F(state.log_r) == pytest.approx(math.log(C) + hand_loss_grad(HAND_CASES[case]["w"], case)[0], rel=1e-15)
    for wh, r, S, step_size, xi in hand_expsav(case, form, relax):
        w, state, info = scheme.step(problem, w, state, batch)
        np.testing.assert_allclose(as_np(w), wh, rtol=1e-13)
        assert F(state.log_r) == pytest.approx(math.log(r), rel=1e-12, abs=1e-14)
        assert F(info.S) == pytest.approx(S, rel=1e-13)
        assert F(info.step_size) == pytest.approx(step_size, rel=1e-12)
        if xi is not None:
            assert F(info.xi0) == pytest.approx(xi, rel=1e-9, abs=1e-12)


def test_the_hand_tests_exercise_every_relaxation():
    """Guard against hand tests that pass because ξ₀ = 0 throughout: each relaxed variant has a
    step with 0 < ξ₀ < 1 in some hand case — except ExpSAV thm2.2/thm2.3 in the paper's
    convention, where ξ₀ > 0 needs L to fall by more than log(1 + ΔtS)-like amounts in one
    step (thm2.3: y/(1+y) ≤ log(1+y), so never at first order)."""
    active = set()
    for case in HAND_CASES:
        for form in ("box", "thm2.1"):
            for relax in ("paper", "jzz"):
                if any(0 < xi < 1 for *_, xi in hand_sav(case, form, relax)):
                    active.add(("sav", form, relax))
        for form in ("box", "thm2.2", "thm2.3"):
            for relax in ("paper", "jzz"):
                if any(0 < xi < 1 for *_, xi in hand_expsav(case, form, relax)):
                    active.add(("expsav", form, relax))
    expected = {("sav", f, r) for f in ("box", "thm2.1") for r in ("paper", "jzz")}
    expected |= {("expsav", f, "jzz") for f in ("box", "thm2.2", "thm2.3")} | {("expsav", "box", "paper")}
    assert expected <= active


# ===================================================================== protocol
ALL_SCHEMES = (
    [("sgd", {"lr": 0.1}), ("adam", {"lr": 0.01})]
    + [("sav", {"dt": 0.5, "C": 1.0, "lam": 1.0, "form": f, "relax": r}) for f in ("box", "thm2.1") for r in (None, "paper", "jzz")]
    + [("expsav", {"dt": 0.5, "C": 2.0, "lam": 1.0, "form": f, "relax": r}) for f in ("box", "thm2.2", "thm2.3") for r in (None, "paper", "jzz")]
)


@pytest.mark.parametrize("name,hp", ALL_SCHEMES, ids=lambda x: str(x))
def test_steps_are_pure_and_step_size_is_the_increment(name, hp):
    backend = gfref.get_backend("numpy")
    problem, w, batch, _ = build_problem(backend, 3, 4, 3, 5, seed=2)
    scheme = get_scheme(name, **hp)
    state = scheme.init(problem, w, batch)
    for _ in range(2):
        w_copy = np.array(w, copy=True)
        state_copy = [np.array(x, copy=True) if hasattr(x, "shape") else x for x in state]
        w_new, state_new, info = scheme.step(problem, w, state, batch)
        np.testing.assert_array_equal(w, w_copy)
        for a, b in zip(state, state_copy):
            np.testing.assert_array_equal(a, b)
        if name != "adam":  # Adam's direction is m̂/(√v̂ + ε), not ∇L
            g = as_np(problem.at(w, batch).grad)
            np.testing.assert_allclose(as_np(w_new) - w, -F(info.step_size) * g, rtol=1e-12, atol=1e-15)
        assert F(info.loss) == pytest.approx(F(problem.loss_at(w, batch)), rel=1e-15)
        if name == "sav":  # energy (rⁿ⁺¹)², aux rⁿ⁺¹, the state carries rⁿ⁺¹
            assert F(info.aux) == F(state_new.r) and F(info.energy) == pytest.approx(F(state_new.r) ** 2, rel=1e-15)
        elif name == "expsav":  # energy = aux = log rⁿ⁺¹
            assert F(info.aux) == F(info.energy) == F(state_new.log_r)
        else:  # SGD, Adam: energy = loss
            assert F(info.energy) == F(info.loss)
        w, state = w_new, state_new
    assert scheme.name == name and scheme.hyperparams["lr" if name in ("sgd", "adam") else "dt"] > 0


@pytest.mark.parametrize("name,hp", ALL_SCHEMES, ids=lambda x: str(x))
def test_numpy_and_array_api_strict_agree(name, hp):
    results = []
    for bname in ("numpy", "array_api_strict"):
        problem, w, batch, _ = build_problem(make_backend(bname), 3, 4, 1, 5, seed=4)
        results.append([(as_np(wn), F(i.loss)) for _, _, wn, _, i in run(get_scheme(name, **hp), problem, w, batch, 3)])
    for (wa, la), (wb, lb) in zip(*results):
        np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-15)
        assert la == pytest.approx(lb, rel=1e-12)


# ===================================================================== SAV energy laws
@given(problems(), step_sizes(), lams(), shifts())
def test_sav_thm21_energy_identity(p, dt, lam, C):
    """(rⁿ⁺¹)² − (rⁿ)² + (rⁿ⁺¹ − rⁿ)² = −‖Δw‖²/Δt − λ‖Δw‖², every step (rⁿ ≠ ρⁿ after the first)."""
    problem, w, batch, _ = p
    for state, w0, w1, state1, info in run(sav(dt, C, lam=lam, form="thm2.1"), problem, w, batch, 4):
        r0, r1 = F(state.r), F(state1.r)
        dw2 = sq_dist(w1, w0)
        lhs = r1 * r1 - r0 * r0 + (r1 - r0) ** 2
        rhs = -dw2 / dt - lam * dw2
        assert abs(lhs - rhs) <= 1e-12 * energy_scale(r0, dw2, dt, lam, w0, w1)
        assert r1 <= r0


@given(problems(), step_sizes(), lams(), shifts())
def test_sav_box_identity_defect(p, dt, lam, C):
    """Box form: the identity's defect is exactly (rⁿ⁺¹)²ΔtSⁿ(1/(rⁿ)² − 1/(ρⁿ)²), zero at n = 0."""
    problem, w, batch, _ = p
    for n, (state, w0, w1, state1, info) in enumerate(run(sav(dt, C, lam=lam), problem, w, batch, 4)):
        r0, r1, S = F(state.r), F(state1.r), F(info.S)
        rho2 = F(info.loss) + C
        dw2 = sq_dist(w1, w0)
        defect = (r1 * r1 - r0 * r0 + (r1 - r0) ** 2) + dw2 / dt + lam * dw2
        predicted = r1 * r1 * dt * S * (1 / (r0 * r0) - 1 / rho2)
        scale = energy_scale(r0, dw2, dt, lam, w0, w1)
        assert abs(defect - predicted) <= 1e-12 * scale
        if n == 0:
            assert abs(defect) <= 1e-12 * scale


def test_sav_box_identity_fails_after_the_first_step():
    # E1, a concrete case: from step 2 on the box's r is not √(L + C) and the identity is off
    problem, w, batch, _ = build_problem("numpy", 3, 5, 1, 4, seed=0)
    (s0, w0, w1, s1, _), (_, _, w2, s2, _) = run(sav(dt=1.0, C=1.0), problem, w, batch, 2)
    for (ra, rb, wa, wb), holds in [((s0.r, s1.r, w0, w1), True), ((s1.r, s2.r, w1, w2), False)]:
        ra, rb = F(ra), F(rb)
        dw2 = sq_dist(wb, wa)
        defect = abs(rb * rb - ra * ra + (rb - ra) ** 2 + dw2)
        scale = energy_scale(ra, dw2, 1.0, 0.0, wa, wb)
        assert (defect <= 1e-12 * scale) == holds
        if not holds:
            assert defect > 1e-3 * scale  # not rounding: a first-order discrepancy


def relaxation_scale(r_hat, r_tilde, budget):
    """The rounding scale of the relaxed r: relax.xi_quadratic gives v(ξ₀) = √(A² + β) to a
    few ε·max(A, B) (A, B = r̂, r̃ in either order), so r carries ε·max(r̂, r̃, √β)."""
    return max(r_hat, r_tilde, math.sqrt(budget))


@given(problems(), step_sizes(), lams(), shifts(), etas())
def test_sav_jzz_energy_inequality(p, dt, lam, C, eta):
    """Relaxed SAV, JZZ convention on the Thm 2.1 form: (rⁿ⁺¹)² − (rⁿ)² ≤ −(1−η)‖Δw‖²/Δt − λ‖Δw‖²."""
    problem, w, batch, _ = p
    for state, w0, w1, state1, info in run(sav(dt, C, lam=lam, form="thm2.1", relax="jzz", eta=eta), problem, w, batch, 4):
        r0, r1 = F(state.r), F(state1.r)
        dw2 = sq_dist(w1, w0)
        slack = -(1 - eta) * dw2 / dt - lam * dw2 - (r1 * r1 - r0 * r0)
        r_hat = math.sqrt(F(problem.loss_at(w1, batch)) + C)
        # r² carries 2r·(the rounding of r): ε·r·max(r̂, r̃, √β)
        scale = max(energy_scale(r0, dw2, dt, lam, w0, w1), r1 * relaxation_scale(r_hat, r0, eta * dw2 / dt))
        assert slack >= -1e-12 * scale


def test_relaxed_sav_near_a_double_root_keeps_r_to_rounding():
    """Thm 2.1 form, Δt = 100, η = 0: r collapses to ~1e-13 while r̂ = √(L + C) ≈ 4.5. JZZ's
    exact r is min(r̂, √(r̃² + β)). The paper's root (−b − √(b² − 4ac))/(2a) loses half the
    digits here (b² − 4ac cancels to ~ε·r̂⁴): its r is off by millions of ε·r̂ (and raised r by
    40% on an earlier version of this trajectory); relax.xi_quadratic's
    ξ₀ = (B − √(A² + β))/(B − A) keeps r to a few ε·r̂."""
    problem, w, batch, _ = build_problem("numpy", 3, 1, 1, 1, seed=18)
    paper_errors = []
    for s, w0, w1, s1, info in run(sav(100.0, 1.0, form="thm2.1", relax="jzz", eta=0.0), problem, w, batch, 4):
        r0, r1 = F(s.r), F(s1.r)
        r_tilde = F(sav(100.0, 1.0, form="thm2.1").step(problem, w0, s, batch)[1].r)
        r_hat = math.sqrt(F(problem.loss_at(w1, batch)) + 1.0)
        exact = min(r_hat, r_tilde)  # β = 0
        assert abs(r1 - exact) <= 8 * EPS * r_hat
        assert r1 <= r0
        xi_paper = hand_xi_quadratic(r_tilde, r_hat, 0.0)
        paper_errors.append(abs(xi_paper * r_tilde + (1 - xi_paper) * r_hat - exact) / (EPS * r_hat))
    assert max(paper_errors) > 1e4


def test_jzz_on_the_box_can_raise_r():
    # Counterexample: box + JZZ. The box's r drifts below ρ; then r̂ = ρⁿ⁺¹ ≫ r̃ and the mix
    # is allowed up to √(r̃² + η‖Δw‖²/Δt), above rⁿ. The JZZ inequality fails with it.
    problem, w, batch, _ = build_problem("numpy", 3, 5, 1, 4, seed=0)
    dt, C = 10.0, 0.01
    steps = run(sav(dt, C, form="box", relax="jzz"), problem, w, batch, 4)
    rises = [(F(s.r), F(s1.r), sq_dist(w1, w0)) for s, w0, w1, s1, _ in steps if F(s1.r) > F(s.r)]
    assert rises, "expected a step with rⁿ⁺¹ > rⁿ"
    r0, r1, dw2 = rises[0]
    assert r1 > r0 * (1 + 1e-3)
    assert r1 * r1 - r0 * r0 > -(1 - 0.99) * dw2 / dt  # the JZZ energy inequality is violated
    # the same data on the Thm 2.1 form keeps r decreasing
    for s, *_, s1, _ in run(sav(dt, C, form="thm2.1", relax="jzz"), problem, w, batch, 4):
        assert F(s1.r) <= F(s.r)


R_MONOTONE = (
    [("sav", f, r) for f in ("box", "thm2.1") for r in (None, "paper")]
    + [("sav", "thm2.1", "jzz")]
    + [("expsav", f, r) for f in ("box", "thm2.2", "thm2.3") for r in (None, "paper")]
)


@given(problems(), st.sampled_from(R_MONOTONE), step_sizes(), lams(), shifts(), etas())
def test_r_never_increases(p, variant, dt, lam, C, eta):
    """rⁿ⁺¹ ≤ rⁿ for every form, unrelaxed or relaxed in the paper's convention (and thm2.1 + JZZ).

    Unrelaxed: r/(1 + x) with x ≥ 0 is exact in floating point. Relaxed: r = ξ₀A + (1 − ξ₀)B
    with ξ₀ rounded carries a few ε·max(A, B) (:func:`relaxation_scale`; with r̂ ≫ r̃ and
    ξ₀ ≈ 1 that is many ulps of r).
    """
    problem, w, batch, _ = p
    name, form, relax = variant
    scheme = get_scheme(name, dt=dt, C=C, lam=lam, form=form, relax=relax, eta=eta)
    for state, w0, w1, state1, info in run(scheme, problem, w, batch, 4):
        if name == "sav":
            before, after = F(state.r), F(state1.r)
            if relax is None:
                assert after <= before
            else:
                r_hat = math.sqrt(F(problem.loss_at(w1, batch)) + C)
                budget = eta * sq_dist(w1, w0) / dt
                assert after <= before + 8 * EPS * relaxation_scale(r_hat, before, budget)
        else:
            before, after = F(state.log_r), F(state1.log_r)
            if relax is None:
                assert after <= before
            else:  # in logs: δ log r = δξ·|A − B|/r, with |A − B|/r ≤ r̂/r + r̃/r
                log_hat = F(problem.loss_at(w1, batch)) + math.log(C)
                spread = math.exp(min(log_hat - after, 700.0)) + math.exp(min(before - after, 700.0))
                assert after <= before + 8 * EPS * (abs(before) + spread)


@pytest.mark.parametrize("form", ["box", "thm2.2", "thm2.3"])
def test_expsav_jzz_can_raise_r(form):
    # Counterexample: ExpSAV + JZZ allows rⁿ⁺¹ up to r̃ + η‖Δw‖/Δt; with a small gradient
    # rⁿ − r̃ < η‖Δw‖/Δt, and r̂ = C·exp(L(wⁿ⁺¹)) above that pulls r up past rⁿ.
    dt, C = {"box": (1.0, 1.0), "thm2.2": (0.01, 0.01), "thm2.3": (1.0, 0.01)}[form]
    problem, w, batch, _ = build_problem("numpy", 3, 5, 1, 4, seed=0)
    steps = run(expsav(dt, C, form=form, relax="jzz"), problem, w, batch, 6)
    assert any(F(s1.log_r) > F(s.log_r) + 1e-6 for s, *_, s1, _ in steps)
    # the paper's convention on the same run does not
    for s, *_, s1, _ in run(expsav(dt, C, form=form, relax="paper"), problem, w, batch, 6):
        assert F(s1.log_r) <= F(s.log_r) + 8 * EPS * abs(F(s.log_r))


# ===================================================================== relaxation parameter ξ₀
def exact_quadratic_excess(xi, A, B, budget):
    """(ξA + (1 − ξ)B)² − A² − budget in exact rational arithmetic."""
    xi, A, B, budget = Fraction(xi), Fraction(A), Fraction(B), Fraction(budget)
    v = xi * A + (1 - xi) * B
    return v * v - A * A - budget


def smaller_xis(xi0):
    return [0.0, xi0 / 4, xi0 / 2, 0.9 * xi0, xi0 * (1 - 1e-6)]


@given(problems(), st.sampled_from(["box", "thm2.1"]), st.sampled_from(["paper", "jzz"]), step_sizes(), lams(), shifts(), etas())
def test_sav_xi0_is_the_smallest_feasible(p, form, relax, dt, lam, C, eta):
    problem, w, batch, _ = p
    plain = run(sav(dt, C, lam=lam, form=form), problem, w, batch, 3)
    for state, w0, w1, _, _ in plain:
        relaxed = sav(dt, C, lam=lam, form=form, relax=relax, eta=eta)
        w1_relaxed, s1, info = relaxed.step(problem, w0, state, batch)
        np.testing.assert_array_equal(as_np(w1_relaxed), as_np(w1))  # relaxation moves r only
        r_tilde = F(sav(dt, C, lam=lam, form=form).step(problem, w0, state, batch)[1].r)
        r_hat = math.sqrt(F(problem.loss_at(w1, batch)) + C)
        budget = eta * sq_dist(w1, w0) / dt
        A, B = (r_hat, r_tilde) if relax == "paper" else (r_tilde, r_hat)
        xi0 = F(info.xi0)
        assert 0.0 <= xi0 <= 1.0
        assert F(s1.r) == pytest.approx(xi0 * A + (1 - xi0) * B, rel=1e-14)
        scale = max(A * A, B * B, budget)
        assert exact_quadratic_excess(xi0, A, B, budget) <= Fraction(1e-12 * scale)
        if xi0 > 0:
            for xi in smaller_xis(xi0):
                assert exact_quadratic_excess(xi, A, B, budget) > 0, (xi, xi0)


def decimal_linear_excess(xi, log_A, log_B, budget):
    """((ξA + (1 − ξ)B) − A − budget)/max(A, B, budget) with A = e^log_A, B = e^log_B, to 50
    digits, as a float (its sign is exact: a nonzero Decimal never rounds to −0.0 or 0.0 here)."""
    with localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = 50, decimal.MAX_EMAX, decimal.MIN_EMIN  # log r̂ can run into the millions
        A, B = Decimal(log_A).exp(), Decimal(log_B).exp()
        excess = (Decimal(xi) * A + (1 - Decimal(xi)) * B) - A - Decimal(budget)
        relative = excess / max(A, B, Decimal(budget))
        return math.copysign(max(abs(float(relative)), 5e-324), relative) if relative != 0 else 0.0


@given(problems(), st.sampled_from(["box", "thm2.2", "thm2.3"]), st.sampled_from(["paper", "jzz"]), step_sizes(), lams(), shifts(), etas())
def test_expsav_xi0_is_the_smallest_feasible(p, form, relax, dt, lam, C, eta):
    problem, w, batch, _ = p
    for state, w0, w1, s_plain, _ in run(expsav(dt, C, lam=lam, form=form), problem, w, batch, 3):
        w1_relaxed, s1, info = expsav(dt, C, lam=lam, form=form, relax=relax, eta=eta).step(problem, w0, state, batch)
        np.testing.assert_array_equal(as_np(w1_relaxed), as_np(w1))
        log_tilde = F(s_plain.log_r)
        log_hat = F(problem.loss_at(w1, batch)) + math.log(C)
        budget = eta * math.sqrt(sq_dist(w1, w0)) / dt
        log_A, log_B = (log_hat, log_tilde) if relax == "paper" else (log_tilde, log_hat)
        xi0 = F(info.xi0)
        assert 0.0 <= xi0 <= 1.0
        assert decimal_linear_excess(xi0, log_A, log_B, budget) <= 1e-12
        if xi0 > 0:
            for xi in smaller_xis(xi0):
                assert decimal_linear_excess(xi, log_A, log_B, budget) > 0, (xi, xi0)
        # the stored log r is log(ξ₀A + (1 − ξ₀)B)
        with localcontext() as ctx:
            ctx.prec, ctx.Emax, ctx.Emin = 50, decimal.MAX_EMAX, decimal.MIN_EMIN
            mixed = (Decimal(xi0) * Decimal(log_A).exp() + (1 - Decimal(xi0)) * Decimal(log_B).exp()).ln()
        assert F(s1.log_r) == pytest.approx(float(mixed), rel=1e-13, abs=1e-13)


# ===================================================================== effective step
@given(problems(), step_sizes(), lams(), shifts())
def test_sav_box_step_in_0_dt(p, dt, lam, C):
    problem, w, batch, _ = p
    for *_, info in run(sav(dt, C, lam=lam), problem, w, batch, 3):
        assert 0 < F(info.step_size) <= dt


@given(problems(), st.sampled_from(["box", "thm2.3"]), step_sizes(), lams(), shifts())
def test_expsav_box_and_thm23_step_in_0_dt(p, form, dt, lam, C):
    problem, w, batch, _ = p
    for *_, info in run(expsav(dt, C, lam=lam, form=form), problem, w, batch, 3):
        assert 0 < F(info.step_size) <= dt


def bilinear_problem():
    """One sample, f = a·relu(W_x + b): along −∇L the product a·h grows quadratically, so L
    falls faster than its linear model and r of the Thm 2.1 form lags above √(L + C)."""
    problem = Problem(MLP(1, 1, 1), MSE())
    return problem, np.array([0.5, 0.5, 1.0]), Batch(np.array([[1.0]]), np.array([[10.0]]))


def test_sav_thm21_step_can_exceed_dt():
    # Counterexample to "step in (0, Δt]" for the Thm 2.1 form: Δt·rⁿ⁺¹/ρⁿ > Δt once rⁿ⁺¹ > ρⁿ.
    problem, w, batch = bilinear_problem()
    dt, C = 0.01, 1.0
    steps = run(sav(dt, C, form="thm2.1"), problem, w, batch, 30)
    ratios = [F(i.step_size) / dt for *_, i in steps]
    assert max(ratios) > 1.2
    s, w0, w1, s1, info = steps[int(np.argmax(ratios))]
    assert F(s1.r) > math.sqrt(F(info.loss) + C)  # rⁿ⁺¹ > ρⁿ is the cause
    # the identity still holds on that step, and r still decreases
    r0, r1, dw2 = F(s.r), F(s1.r), sq_dist(w1, w0)
    assert abs(r1 * r1 - r0 * r0 + (r1 - r0) ** 2 + dw2 / dt) <= 1e-12 * energy_scale(r0, dw2, dt, 0.0, w0, w1)
    assert r1 <= r0
    # the box form on the same problem stays within (0, Δt]
    assert all(0 < F(i.step_size) <= dt for *_, i in run(sav(dt, C), problem, w, batch, 30))


@given(problems(), step_sizes(), lams(), st.sampled_from([1e-3, 0.1, 1.0, 10.0]))
def test_expsav_thm22_step_is_dt_over_r_plus_dtS(p, dt, lam, C):
    """Thm 2.2's step Δt·rⁿ⁺¹/(rⁿ)²/(1 + Δtλ) = Δt/((rⁿ + ΔtSⁿ)(1 + Δtλ)): above Δt iff (rⁿ + ΔtSⁿ)(1 + Δtλ) < 1."""
    problem, w, batch, _ = p
    for state, *_, info in run(expsav(dt, C, lam=lam, form="thm2.2"), problem, w, batch, 3):
        r, S = math.exp(F(state.log_r)), F(info.S)
        expected = dt / (r + dt * S) / (1 + dt * lam)
        assert F(info.step_size) == pytest.approx(expected, rel=1e-12)


def test_expsav_thm22_step_can_exceed_dt():
    problem, w, batch, _ = build_problem("numpy", 3, 5, 1, 4, seed=0)
    dt, C = 0.01, 0.01  # r⁰ = 0.01·e^L < 1
    (state, *_, info), = run(expsav(dt, C, form="thm2.2"), problem, w, batch, 1)
    assert math.exp(F(state.log_r)) < 1
    assert F(info.step_size) > 10 * dt


# ===================================================================== Δt → 0
def decades_below(x_target, S, scale):
    """Δt values making x = Δt·S/scale equal to x_target·(1, 1e-1, 1e-2)."""
    return [x_target * 10.0 ** (-k) * scale / S for k in range(3)]


@given(problems(), lams(), shifts(), st.sampled_from(["box", "thm2.1"]), st.integers(0, 3), small_step_sizes())
def test_sav_small_dt_limit(p, lam, C, form, n_before, dt_before):
    """((rⁿ⁺¹)² − (rⁿ)²)/Δt → −‖gⁿ‖²(rⁿ/ρⁿ)²; at rⁿ = ρⁿ (n = 0) that is −‖gⁿ‖² = lim −Sⁿ.

    Exact algebra: slope = −Sⁿ(rⁿ/ρⁿ)²·(1 + x/2)/(1 + x)², x = ΔtSⁿ/(2(ρⁿ)²), and
    Sⁿ = ‖gⁿ‖²/(1 + Δtλ): the relative error is ≤ 1.5x + Δtλ, plus rounding ε/x.
    """
    problem, w, batch, _ = p
    # reach a state with rⁿ ≠ ρⁿ (box) by n_before steps, then shrink Δt from there
    steps = run(sav(dt_before, C, lam=lam, form=form), problem, w, batch, n_before) if n_before else []
    state = steps[-1][3] if steps else sav(1.0, C).init(problem, w, batch)
    w = steps[-1][2] if steps else w
    point = problem.at(w, batch)
    gg, rho2, r = F(gfref.namespace(point.grad).vecdot(point.grad, point.grad)), F(point.loss) + C, F(state.r)
    assume(gg > 1e-200)
    limit = -gg * r * r / rho2
    for dt in decades_below(1e-4, gg, 2 * rho2):
        _, s1, info = sav(dt, C, lam=lam, form=form).step(problem, w, state, batch)
        slope = (F(s1.r) ** 2 - r * r) / dt
        x = dt * gg / (2 * rho2)
        assert abs(slope / limit - 1) <= 1.5 * x + dt * lam + 50 * EPS / x
    if not steps:
        assert abs(r * r / rho2 - 1) <= 4 * EPS  # the first step's limit is −S itself


@given(problems(), lams(), shifts(), st.sampled_from(["box", "thm2.2", "thm2.3"]), st.integers(0, 2))
def test_expsav_small_dt_limit(p, lam, C, form, n_before):
    """box, thm2.2: (log rⁿ⁺¹ − log rⁿ)/Δt → −‖g‖²/rⁿ; thm2.3: → −‖g‖².

    log1p(x)/x ∈ [1 − x/2, 1] with x = ΔtSⁿ/rⁿ (box, thm2.2) or ΔtSⁿ (thm2.3); rounding of
    the difference of two logs is ε·|log r|/(x), measured against the slope.
    """
    problem, w, batch, _ = p
    steps = run(expsav(0.1, C, lam=lam, form=form), problem, w, batch, n_before) if n_before else []
    state = steps[-1][3] if steps else expsav(1.0, C).init(problem, w, batch)
    w = steps[-1][2] if steps else w
    point = problem.at(w, batch)
    gg, log_r = F(gfref.namespace(point.grad).vecdot(point.grad, point.grad)), F(state.log_r)
    assume(gg > 1e-200)
    divisor = 1.0 if form == "thm2.3" else math.exp(log_r)
    limit = -gg / divisor
    for dt in decades_below(1e-4, gg, divisor):
        _, s1, _ = expsav(dt, C, lam=lam, form=form).step(problem, w, state, batch)
        slope = (F(s1.log_r) - log_r) / dt
        x = dt * gg / divisor
        assert abs(slope / limit - 1) <= x / 2 + dt * lam + 50 * EPS * (1 + abs(log_r)) / x


def test_expsav_r_tracks_the_loss_only_in_consistent_forms():
    """Against the actual loss: d log(C·e^L)/dt = ΔL/Δt. thm2.2 (at r⁰ = C·e^L⁰) and thm2.3
    match it as Δt → 0; the box's r law −S/r does not unless r = 1 (here r⁰ ≈ 8)."""
    problem, w, batch, _ = build_problem("numpy", 3, 5, 1, 4, seed=3)
    C, dt = 5.0, 1e-7
    for form, consistent in [("thm2.2", True), ("thm2.3", True), ("box", False)]:
        (state, w0, w1, s1, _), = run(expsav(dt, C, form=form), problem, w, batch, 1)
        r_slope = (F(s1.log_r) - F(state.log_r)) / dt
        loss_slope = (F(problem.loss_at(w1, batch)) - F(problem.loss_at(w0, batch))) / dt
        agree = abs(r_slope / loss_slope - 1) < 1e-4
        assert agree == consistent, (form, r_slope, loss_slope)
        if not consistent:
            assert r_slope / loss_slope == pytest.approx(math.exp(-F(state.log_r)), rel=1e-4)


def test_sav_energy_slope_matches_the_loss_slope_at_r_equal_rho():
    # d(r²)/dt = ⟨∇L, dw/dt⟩ = dL/dt: the first step's r law and the loss agree as Δt → 0
    problem, w, batch, _ = build_problem("numpy", 3, 5, 1, 4, seed=3)
    for form in ("box", "thm2.1"):
        (state, w0, w1, s1, _), = run(sav(1e-7, 2.0, lam=3.0, form=form), problem, w, batch, 1)
        r_slope = (F(s1.r) ** 2 - F(state.r) ** 2) / 1e-7
        loss_slope = (F(problem.loss_at(w1, batch)) - F(problem.loss_at(w0, batch))) / 1e-7
        assert r_slope == pytest.approx(loss_slope, rel=1e-4)


# ===================================================================== E12, E4
def test_sav_loss_can_rise_while_r_falls():
    # E12: the theorem is about r. A large Δt overshoots: L(w¹) ≈ 3.8·L(w⁰) while r¹ < r⁰/4.
    problem, w, batch, _ = build_problem("numpy", 3, 5, 1, 4, seed=0)
    (s0, w0, w1, s1, info), = run(sav(dt=10.0, C=1.0), problem, w, batch, 1)
    L0, L1 = F(info.loss), F(problem.loss_at(w1, batch))
    assert L1 > 3 * L0
    assert F(s1.r) < F(s0.r) / 4


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_expsav_large_loss_no_overflow(backend_name, dtype):
    """E4: an initial MSE in the thousands (e^L overflows float64 past ~709, float32 past ~88)."""
    backend = make_backend(backend_name, dtype)
    problem, w, batch, _ = build_problem(backend, 3, 6, 1, 8, seed=1, target_scale=100.0)
    L0 = F(problem.loss_at(w, batch))
    assert L0 > 1000
    for form in ("box", "thm2.2", "thm2.3"):
        for relax in (None, "paper", "jzz"):
            scheme = expsav(dt=1e-3, C=1.0, form=form, relax=relax)
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                steps = run(scheme, problem, w, batch, 5)
            state0 = steps[0][0]
            assert F(state0.log_r) == pytest.approx(L0, rel=1e-6)  # log r⁰ = L⁰ + log 1
            for *_, w1, s1, info in steps:
                assert np.isfinite(F(s1.log_r)) and np.all(np.isfinite(as_np(w1)))
                assert s1.log_r.dtype == backend.dtype
            if form != "thm2.2":  # thm2.2's step Δt/(r + ΔtS) underflows to 0 here (the r⁻ⁿ problem)
                assert F(steps[-1][4].loss) < L0


def test_expsav_thm22_freezes_at_large_loss():
    problem, w, batch, _ = build_problem("numpy", 3, 6, 1, 8, seed=1, target_scale=100.0)
    (*_, w1, _, info), = run(expsav(dt=1e-3, C=1.0, form="thm2.2"), problem, w, batch, 1)
    assert F(info.step_size) == 0.0 and np.array_equal(w1, w)


# ===================================================================== validation
BAD_HYPERPARAMETERS = [
    (sgd, {"lr": 0.0}, "lr"),
    (sgd, {"lr": -1.0}, "lr"),
    (sgd, {"lr": float("nan")}, "lr"),
    (adam, {"lr": 0.0}, "lr"),
    (adam, {"b1": 1.0}, "b1"),
    (adam, {"b2": -0.1}, "b2"),
    (adam, {"eps": 0.0}, "eps"),
    (sav, {"dt": 0.0, "C": 1.0}, "dt"),
    (sav, {"dt": -0.5, "C": 1.0}, "dt"),
    (sav, {"dt": 0.5, "C": float("inf")}, "C"),
    (sav, {"dt": 0.5, "C": 1.0, "lam": -1.0}, "lam"),
    (sav, {"dt": 0.5, "C": 1.0, "eta": 1.5}, "eta"),
    (sav, {"dt": 0.5, "C": 1.0, "eta": -0.1}, "eta"),
    (sav, {"dt": 0.5, "C": 1.0, "form": "thm2.2"}, "form"),
    (sav, {"dt": 0.5, "C": 1.0, "relax": "Paper"}, "relax"),
    (expsav, {"dt": 0.0}, "dt"),
    (expsav, {"dt": 0.5, "C": 0.0}, "C"),
    (expsav, {"dt": 0.5, "C": -1.0}, "C"),
    (expsav, {"dt": 0.5, "lam": -0.1}, "lam"),
    (expsav, {"dt": 0.5, "eta": 2.0}, "eta"),
    (expsav, {"dt": 0.5, "form": "thm2.1"}, "form"),
    (expsav, {"dt": 0.5, "relax": "shen"}, "relax"),
]


@pytest.mark.parametrize("factory,kwargs,argument", BAD_HYPERPARAMETERS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_bad_hyperparameters_name_the_argument(factory, kwargs, argument):
    with pytest.raises(SchemeError, match=rf"{factory.__name__}: {argument} must"):
        factory(**kwargs)


def test_sav_shift_must_keep_L_plus_C_positive(backend):
    problem, w, batch = hand_problem(backend)
    L0 = hand_loss_grad(HAND_CASES["two_samples"]["w"])[0]
    with pytest.raises(SchemeError, match=r"sav: C must make L\(w\) \+ C > 0.*C = -5\.0.*L\(w⁰\) = 0\.93"):
        sav(dt=0.1, C=-5.0).init(problem, w, batch)
    # a negative C is fine while L + C > 0 ...
    scheme = sav(dt=0.5, C=-0.5 * L0)
    state = scheme.init(problem, w, batch)
    # ... and checked again at every step, against L(wⁿ): here the loss falls below −C
    with pytest.raises(SchemeError, match=r"C must make L\(w\) \+ C > 0.*L\(wⁿ\)"):
        for _ in range(50):
            w, state, _ = scheme.step(problem, w, state, batch)


def test_non_finite_steps_name_the_quantity():
    backend = gfref.get_backend("numpy")
    problem, w, batch = hand_problem(backend)
    with np.errstate(all="ignore"), pytest.raises(NonFiniteStepError, match=r"sgd: (L\(wⁿ\)|‖∇L\(wⁿ\)‖²) is not finite"):
        scheme, state = sgd(lr=1e200), None
        for _ in range(10):
            w, state, _ = scheme.step(problem, w, state, batch)
    # inf in the data with the per-batch check off: the loss is the first non-finite quantity
    unchecked = Problem(problem.model, MSE(), check_finite=False)
    _, w, batch = hand_problem(backend)
    bad = Batch(batch.X, np.array([[np.inf], [0.0]]))
    with np.errstate(all="ignore"):
        for scheme in (sav(0.1, 1.0), expsav(0.1), sav(0.1, 1.0, relax="jzz"), adam()):
            state = scheme.init(unchecked, w, batch)
            with pytest.raises(NonFiniteStepError, match=r"L\(wⁿ\) is not finite"):
                scheme.step(unchecked, w, state, bad)
        with pytest.raises(NonFiniteStepError, match=r"sav: L\(w⁰\) is not finite"):
            sav(0.1, 1.0).init(unchecked, w, bad)
        with pytest.raises(NonFiniteStepError, match=r"expsav: L\(w⁰\) is not finite"):
            expsav(0.1).init(unchecked, w, bad)


def test_registry_builds_each_scheme():
    assert get_scheme("sav", dt=0.1, C=1.0).hyperparams == {"dt": 0.1, "C": 1.0, "lam": 0.0, "form": "box", "relax": None, "eta": 0.99}
    assert get_scheme("expsav", dt=0.1).hyperparams["C"] == 1.0
    assert get_scheme("adam").hyperparams == {"lr": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8}


def test_xi_linear_log_matches_the_linear_form_without_overflow():
    # ExpSAV's ξ₀ in log space: equal to the plain closed form where that is representable,
    # and free of overflow where r̂/r̃ exceeds e^709 (E4).
    import array_api_compat.numpy as xp

    from gfref.schemes.relax import xi_linear, xi_linear_log

    for log_a, log_b, budget in [(0.0, 1e-12, 1e-20), (1.0, 2.0, 0.5), (5.0, 5.3, 1e-3), (0.0, 3.0, 2.0)]:
        exact = float(xi_linear(xp.asarray(math.exp(log_a)), xp.asarray(math.exp(log_b)), xp.asarray(budget)))
        assert float(xi_linear_log(xp.asarray(log_a), xp.asarray(log_b), xp.asarray(budget))) == pytest.approx(exact, rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(xi_linear_log(xp.asarray(0.0), xp.asarray(800.0), xp.asarray(1.0))) == 1.0
