r"""Closed-form relaxation parameters ξ₀ of §2.4 (Theorems 2.5 and 2.6), for any convention.

Both conventions of DESIGN E9 mix two values of the auxiliary variable,

    v(ξ) = ξ·A + (1 − ξ)·B,      ξ ∈ [0, 1],

and ask for the smallest ξ meeting a constraint measured from A (so ξ = 1 is always
feasible):

* quadratic (SAV, IEQ; Thm 2.5):   v(ξ)² − A² ≤ budget,     budget = η‖Δw‖²/Δt
* linear    (ExpSAV; Thm 2.6):     v(ξ) − A ≤ budget,       budget = η‖Δw‖/Δt  (E10: ‖Δw‖, not ‖Δw‖²)

The paper's convention takes A = v̂ⁿ⁺¹ (recomputed from wⁿ⁺¹) and B = ṽⁿ⁺¹ (the scheme's
recurrence); the Jiang–Zhang–Zhao / Ma–Mao–Shen convention takes A = r̃ⁿ⁺¹ and B = r̂ⁿ⁺¹.

Quadratic case: v(ξ)² − A² − budget = aξ² + bξ + c with a = (A − B)², b = 2B(A − B),
c = B² − A² − budget (the paper's coefficients), and a + b + c = −budget ≤ 0. The feasible
set is [ξ₋, ξ₊] ∋ 1, so ξ₀ = max(0, ξ₋), ξ₋ = (−b − √(b² − 4ac))/(2a).

* Scalars A, B ≥ 0 (SAV's r): v(ξ) ≥ 0, so the constraint is v(ξ) ≤ √(A² + budget) and
  ξ₀ = (B − √(A² + budget))/(B − A) when B exceeds that ceiling, else 0
  (:func:`xi_quadratic`). This is ξ₋ without the b² − 4ac cancellation, which near a
  double root (B ≫ A, small budget) loses half the digits of the paper's formula.
* Vectors (IEQ's q; :func:`xi_quadratic_vector`): the general root, in the form
  2c/(−b + √(b² − 4ac)) when b < 0; it keeps the cancellation near a double root (no test
  yet exercises relaxed IEQ there). a = 0 (A = B) gives ξ₀ = 0 (then v = A whatever ξ);
  a discriminant rounded below zero is taken as 0.

Every result is clipped to [0, 1].

Linear case: (1 − ξ)(B − A) ≤ budget; ξ₀ = 0 when B ≤ A + budget, else 1 − budget/(B − A).

All functions take and return 0-d arrays of one namespace, with no host sync.
"""

from __future__ import annotations

from ..backend import namespace


def xi_from_coefficients(a, b, c):
    """Smallest ξ ∈ [0, 1] with aξ² + bξ + c ≤ 0, given a ≥ 0 and a + b + c ≤ 0 (ξ = 1 feasible)."""
    xp = namespace(a, b, c)
    disc = xp.sqrt(xp.maximum(b * b - 4.0 * a * c, 0.0))
    # ξ₋ = (−b − √disc)/(2a) = 2c/(−b + √disc); pick the form without cancellation.
    safe_a = xp.where(a > 0, a, xp.ones_like(a))
    root_plain = (-b - disc) / (2.0 * safe_a)
    denom = -b + disc
    root_stable = 2.0 * c / xp.where(denom != 0, denom, xp.ones_like(denom))
    root = xp.where(b >= 0, root_plain, root_stable)
    xi = xp.where((a > 0) & (c > 0), root, xp.zeros_like(a))
    return _unit_interval(xi)


def xi_quadratic(A, B, budget):
    """Smallest ξ ∈ [0, 1] with (ξA + (1 − ξ)B)² − A² ≤ budget (Theorem 2.5), for A, B ≥ 0.

    For non-negative A and B (SAV's r is a square root) the mix v(ξ) stays ≥ 0, so the
    constraint is v(ξ) ≤ √(A² + budget), linear in ξ: ξ₀ = 0 when B ≤ √(A² + budget), else
    ξ₀ = (B − √(A² + budget))/(B − A). This is the smaller root of the paper's quadratic
    aξ² + bξ + c, evaluated without the b² − 4ac cancellation that costs half the digits
    near a double root (r̃ ≪ r̂ with a small budget).
    """
    xp = namespace(A, B, budget)
    ceiling = xp.sqrt(A * A + budget)
    needs = B > ceiling  # then B > ceiling ≥ A, so B − A > 0
    gap = xp.where(needs, B - A, xp.ones_like(B))
    xi = xp.where(needs, (B - ceiling) / gap, xp.zeros_like(B))
    return _unit_interval(xi)


def xi_quadratic_vector(A, B, budget):
    """:func:`xi_quadratic` for vectors (relaxed IEQ, v = q): ‖ξA + (1 − ξ)B‖² − ‖A‖² ≤ budget.

    a = ‖A − B‖², b = 2⟨B, A − B⟩, c = ‖B‖² − ‖A‖² − budget.
    """
    xp = namespace(A, B, budget)
    diff = A - B
    return xi_from_coefficients(xp.vecdot(diff, diff), 2.0 * xp.vecdot(B, diff), xp.vecdot(B, B) - xp.vecdot(A, A) - budget)


def xi_linear(A, B, budget):
    """Smallest ξ ∈ [0, 1] with (ξA + (1 − ξ)B) − A ≤ budget (Theorem 2.6's closed form)."""
    xp = namespace(A, B, budget)
    gap = B - A
    needs = gap > budget
    safe_gap = xp.where(needs, gap, xp.ones_like(gap))
    xi = xp.where(needs, 1.0 - budget / safe_gap, xp.zeros_like(gap))
    return _unit_interval(xi)


def xi_linear_log(log_A, log_B, budget):
    """:func:`xi_linear` for A = exp(log_A), B = exp(log_B) without forming either (ExpSAV, E4).

    B − A = A·expm1(log_B − log_A), so budget/(B − A) = exp(log budget − log_A − log expm1(·)).
    """
    xp = namespace(log_A, log_B, budget)
    delta = log_B - log_A
    positive = delta > 0
    safe_delta = xp.where(positive, delta, xp.ones_like(delta))
    safe_budget = xp.where(budget > 0, budget, xp.ones_like(budget))
    # log expm1(δ): directly for small δ (accurate there), as δ + log1p(−e^(−δ)) for large δ
    # (expm1 overflows past δ ≈ 709 in float64)
    large = safe_delta > 1.0
    log_expm1 = xp.where(
        large,
        safe_delta + xp.log1p(-xp.exp(-xp.where(large, safe_delta, xp.ones_like(safe_delta)))),
        xp.log(xp.expm1(xp.where(large, xp.ones_like(safe_delta), safe_delta))),
    )
    log_ratio = xp.log(safe_budget) - log_A - log_expm1
    ratio = xp.where(budget > 0, xp.exp(xp.minimum(log_ratio, 1.0)), xp.zeros_like(budget))
    xi = xp.where(positive, 1.0 - ratio, xp.zeros_like(delta))
    return _unit_interval(xi)


def _unit_interval(xi):
    """ξ clipped to [0, 1] (``xp.clip`` is a slow masked copy in array-api-compat)."""
    xp = namespace(xi)
    return xp.minimum(xp.maximum(xi, 0.0), 1.0)
