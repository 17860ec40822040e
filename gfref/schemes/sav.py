r"""The scalar auxiliary variable (SAV) scheme (§2.2.3, Theorem 2.1) and its relaxation (§2.4, Theorem 2.5).

Notation: gⁿ = ∇_w L(wⁿ; 𝓑ₙ), 𝓛 = λI so that (I + Δt𝓛)⁻¹ is the scalar 1/(1 + Δtλ) and
g̃ⁿ = gⁿ/(1 + Δtλ) (O(n) work, DESIGN E8), Sⁿ = ⟨gⁿ, g̃ⁿ⟩ = ‖gⁿ‖²/(1 + Δtλ), and
ρⁿ = √(L(wⁿ) + C) (the auxiliary variable's *definition*, evaluated at wⁿ). Both forms share
the r recurrence of §2.2.3:

    rⁿ⁺¹ = rⁿ / (1 + Δt·Sⁿ/(2(L(wⁿ) + C)))                                   (R)

and differ in how r reaches w (DESIGN E1):

``form="box"`` (the update box of §2.2.3, the default)
    wⁿ⁺¹ = wⁿ − (rⁿ⁺¹/rⁿ)·Δt·g̃ⁿ.
    The ratio rⁿ⁺¹/rⁿ = 1/(1 + ΔtSⁿ/(2(ρⁿ)²)) does not depend on r: the iterates w are those
    of a gradient method with the step Δt/(1 + ΔtSⁿ/(2(ρⁿ)²)), and r is a by-product that
    drifts away from ρⁿ after the first step. Guaranteed: rⁿ⁺¹ ≤ rⁿ (trivially) and the
    step lies in (0, Δt]. The energy identity below holds only while rⁿ = ρⁿ (at n = 0):
    its defect is exactly (rⁿ⁺¹)²·ΔtSⁿ·(1/(rⁿ)² − 1/(ρⁿ)²).

``form="thm2.1"`` (the proof of Theorem 2.1)
    wⁿ⁺¹ = wⁿ − Δt·(rⁿ⁺¹/ρⁿ)·g̃ⁿ.
    This is exactly the SAV scheme of Shen–Xu–Yang (2018) with the stabiliser 𝓛 = λI:

        (wⁿ⁺¹ − wⁿ)/Δt + λ(wⁿ⁺¹ − wⁿ) = −(rⁿ⁺¹/ρⁿ)·gⁿ,
        rⁿ⁺¹ − rⁿ = ⟨gⁿ, wⁿ⁺¹ − wⁿ⟩/(2ρⁿ).

    Substituting the first line into the second gives rⁿ⁺¹ − rⁿ = −ΔtSⁿ rⁿ⁺¹/(2(ρⁿ)²), whose
    solution is (R): the paper's recurrence *is* the consistent r-update (the intermediate
    line of the printed proof, with Δt² and 1/(2rⁿ), is not, but its final formula is).
    Taking the inner product of the first line with Δw = wⁿ⁺¹ − wⁿ and using the second,

        (rⁿ⁺¹)² − (rⁿ)² + (rⁿ⁺¹ − rⁿ)² = 2rⁿ⁺¹(rⁿ⁺¹ − rⁿ) = −‖Δw‖²/Δt − λ‖Δw‖²,   (I)

    for every Δt > 0, λ ≥ 0 and *every* rⁿ > 0 (rⁿ need not equal ρⁿ). Guaranteed: (I) to
    rounding, hence rⁿ⁺¹ ≤ rⁿ. Not guaranteed: a step ≤ Δt — the step Δt·rⁿ⁺¹/ρⁿ exceeds Δt
    whenever rⁿ⁺¹ > ρⁿ (r lags behind a falling loss).

Neither form makes L decrease (DESIGN E12): the theorem is about r. A large Δt can raise
L(wⁿ⁺¹) above L(wⁿ) while rⁿ⁺¹ < rⁿ.

Relaxation (§2.4, Theorem 2.5; DESIGN E9), after the step, with r̂ = √(L(wⁿ⁺¹) + C) (one more
forward pass), r̃ = (R)'s value and budget β = η‖Δw‖²/Δt:

``relax="paper"``  rⁿ⁺¹ = ξ₀r̂ + (1 − ξ₀)r̃, ξ₀ the smallest ξ ∈ [0, 1] with (rⁿ⁺¹)² − r̂² ≤ β.
    ξ₀ > 0 only when r̃² > r̂² + β, and then rⁿ⁺¹ = √(r̂² + β) ∈ [r̂, r̃]: rⁿ⁺¹ ≤ r̃ ≤ rⁿ always.
``relax="jzz"``    rⁿ⁺¹ = ξ₀r̃ + (1 − ξ₀)r̂, ξ₀ the smallest ξ with (rⁿ⁺¹)² − r̃² ≤ β
    (Jiang–Zhang–Zhao 2022, Ma–Mao–Shen 2024). On top of the Thm 2.1 form, (I) gives
    (rⁿ⁺¹)² − (rⁿ)² ≤ −(1 − η)‖Δw‖²/Δt − λ‖Δw‖² (and so rⁿ⁺¹ ≤ rⁿ). On top of the box form
    this fails: once r has drifted below ρ, the mix can pull rⁿ⁺¹ above rⁿ.

The relaxation changes only the r carried to the next step, never wⁿ⁺¹. ξ₀ comes from
:func:`~gfref.schemes.relax.xi_quadratic`: the smaller root of the paper's quadratic, written
for r ≥ 0 as ξ₀ = (B − √(A² + β))/(B − A). The paper's formula (−b − √(b² − 4ac))/(2a) gives
the same root but loses half the digits near a double root (r̃ ≪ r̂ with β ≈ 0, e.g. the
Thm 2.1 form at a huge Δt), enough to let r rise by 40% in a seeded case
(``test_relaxed_sav_near_a_double_root_keeps_r_to_rounding``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..backend import namespace
from .base import (
    NonFiniteStepError,
    Scheme,
    SchemeError,
    StepInfo,
    check_finite_scalar,
    require_choice,
    require_in_unit_interval,
    require_nonnegative,
    require_positive,
)
from .relax import xi_quadratic

FORMS = ("box", "thm2.1")
RELAXATIONS = (None, "paper", "jzz")


class SAVState(NamedTuple):
    """The auxiliary variable rⁿ (a 0-d array)."""

    r: Any


def sav(dt: float, C: float, lam: float = 0.0, form: str = "box", relax: str | None = None, eta: float = 0.99) -> Scheme:
    r"""SAV, §2.2.3 (Theorem 2.1), optionally relaxed as in §2.4 (Theorem 2.5).

    With gⁿ = ∇_w L(wⁿ; 𝓑ₙ), g̃ⁿ = (I + Δt𝓛)⁻¹gⁿ = gⁿ/(1 + Δtλ), Sⁿ = ⟨gⁿ, g̃ⁿ⟩ and
    r⁰ = √(L(w⁰) + C) on the batch given to ``init``::

        rⁿ⁺¹ = rⁿ / (1 + Δt·Sⁿ/(2(L(wⁿ) + C)))
        box:     wⁿ⁺¹ = wⁿ − (rⁿ⁺¹/rⁿ)·Δt·g̃ⁿ
        thm2.1:  wⁿ⁺¹ = wⁿ − Δt·(rⁿ⁺¹/√(L(wⁿ) + C))·g̃ⁿ

    Symbols → arguments: Δt → ``dt``, C → ``C``, 𝓛 = λI → ``lam``, η → ``eta``. The module
    docstring derives what each form guarantees.

    Parameters
    ----------
    dt : float > 0
        The time step Δt.
    C : float
        The shift in r = √(L + C). Any finite number with L(w) + C > 0 at every point the
        scheme visits (C > 0 suffices for MSE and cross-entropy, which are ≥ 0); checked at
        ``init`` and at every step, a :class:`SchemeError` otherwise.
    lam : float ≥ 0
        λ of 𝓛 = λI: preconditions the increment by 1/(1 + Δtλ) (it is not weight decay).
    form : ``"box"`` (default) or ``"thm2.1"``
        DESIGN E1; see the module docstring.
    relax : None (default), ``"paper"`` or ``"jzz"``
        The relaxation of §2.4 in the paper's or the Jiang–Zhang–Zhao convention (E9).
    eta : float in [0, 1]
        The relaxation's η (only used when ``relax`` is set).

    Guarantees, and the tests that check them (tests/test_schemes_sav.py)
    --------------------------------------------------------------------
    * every form and relaxation except box + jzz: rⁿ⁺¹ ≤ rⁿ
      (``test_r_never_increases``; box + jzz: ``test_jzz_on_the_box_can_raise_r``);
    * thm2.1: the identity (rⁿ⁺¹)² − (rⁿ)² + (rⁿ⁺¹ − rⁿ)² = −‖Δw‖²/Δt − λ‖Δw‖²
      (``test_sav_thm21_energy_identity``); box: it holds at n = 0 only, with the defect
      (rⁿ⁺¹)²ΔtSⁿ(1/(rⁿ)² − 1/(ρⁿ)²) (``test_sav_box_identity_defect``,
      ``test_sav_box_identity_fails_after_the_first_step``);
    * thm2.1 + jzz: (rⁿ⁺¹)² − (rⁿ)² ≤ −(1 − η)‖Δw‖²/Δt − λ‖Δw‖² (``test_sav_jzz_energy_inequality``);
    * ξ₀ ∈ [0, 1] is the smallest feasible ξ (``test_sav_xi0_is_the_smallest_feasible``);
    * box: step in (0, Δt] (``test_sav_box_step_in_0_dt``); thm2.1: the step can exceed Δt
      (``test_sav_thm21_step_can_exceed_dt``);
    * Δt → 0: ((rⁿ⁺¹)² − (rⁿ)²)/Δt → −‖gⁿ‖²·(rⁿ/ρⁿ)², = −S at rⁿ = ρⁿ (``test_sav_small_dt_limit``),
      the loss's slope at rⁿ = ρⁿ (``test_sav_energy_slope_matches_the_loss_slope_at_r_equal_rho``);
    * L can rise while r falls (``test_sav_loss_can_rise_while_r_falls``).

    StepInfo
    --------
    loss = L(wⁿ), energy = (rⁿ⁺¹)², aux = rⁿ⁺¹, S = Sⁿ, step_size with Δw = −step_size·gⁿ
    (box: Δt(rⁿ⁺¹/rⁿ)/(1 + Δtλ); thm2.1: Δt(rⁿ⁺¹/ρⁿ)/(1 + Δtλ)), xi0 = ξ₀ when relaxed.
    """
    name = "sav"
    dt = require_positive("dt", dt, name)
    C = require_finite("C", C, name)
    lam = require_nonnegative("lam", lam, name)
    form = require_choice("form", form, FORMS, name)
    relax = require_choice("relax", relax, RELAXATIONS, name)
    eta = require_in_unit_interval("eta", eta, name)
    precond = 1.0 + dt * lam  # (I + Δt𝓛) = (1 + Δtλ)I

    def init(problem, w, batch):
        L = problem.at(w, batch).loss
        check_shift(name, L, C, "L(w⁰)")
        xp = namespace(L)
        return SAVState(r=xp.sqrt(L + C))

    def step(problem, w, state, batch):
        xp = namespace(w)
        point = problem.at(w, batch)
        L, g = point.loss, point.grad
        gg = xp.vecdot(g, g)
        S = gg / precond  # ⟨g, g̃⟩ with g̃ = g/(1 + Δtλ); g̃ itself is never needed as a vector
        Lc = L + C
        # A bad L + C is reported by the check below; keep the arithmetic free of warnings meanwhile.
        Lc_safe = xp.where(Lc > 0, Lc, xp.ones_like(Lc))
        r = state.r
        factor = 1.0 / (1.0 + dt * S / (2.0 * Lc_safe))  # rⁿ⁺¹/rⁿ, independent of r
        r_tilde = r * factor
        if form == "box":
            coef = factor
        else:  # thm2.1: r reaches w through rⁿ⁺¹/ρⁿ
            coef = r_tilde / xp.sqrt(Lc_safe)
        step_size = dt * coef / precond
        w_new = w - step_size * g

        checks = {"L(wⁿ)": L, "Sⁿ": S, "rⁿ": r, "rⁿ⁺¹": r_tilde, "step size": step_size}
        xi0 = None
        r_new = r_tilde
        if relax is not None:
            L_new = problem.loss_at(w_new, batch)
            Lc_new = L_new + C
            r_hat = xp.sqrt(xp.where(Lc_new > 0, Lc_new, xp.ones_like(Lc_new)))
            # ‖Δw‖² = step_size²‖g‖² exactly (Δw = −step_size·g), without a pass over w
            budget = eta * (step_size * step_size * gg) / dt
            if relax == "paper":  # r = ξ r̂ + (1 − ξ) r̃, constraint r² − r̂² ≤ β
                xi0 = xi_quadratic(r_hat, r_tilde, budget)
                r_new = xi0 * r_hat + (1.0 - xi0) * r_tilde
            else:  # jzz: r = ξ r̃ + (1 − ξ) r̂, constraint r² − r̃² ≤ β
                xi0 = xi_quadratic(r_tilde, r_hat, budget)
                r_new = xi0 * r_tilde + (1.0 - xi0) * r_hat
            checks.update({"L(wⁿ⁺¹)": L_new, "η‖Δw‖²/Δt": budget, "relaxed rⁿ⁺¹": r_new})
            _guard(name, checks, [(L, "L(wⁿ)"), (L_new, "L(wⁿ⁺¹)")], C)
        else:
            _guard(name, checks, [(L, "L(wⁿ)")], C)

        info = StepInfo(loss=L, energy=r_new * r_new, aux=r_new, S=S, step_size=step_size, xi0=xi0)
        return w_new, SAVState(r=r_new), info

    hyperparams = {"dt": dt, "C": C, "lam": lam, "form": form, "relax": relax, "eta": eta}
    return Scheme(name, init, step, hyperparams)


# ----------------------------------------------------------------- checks
def require_finite(name: str, value, scheme: str) -> float:
    """``value`` as a finite float, else a :class:`SchemeError` naming ``name``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise SchemeError(f"{scheme}: {name} must be a finite number; got {value!r}")
    return float(value)


def check_shift(scheme: str, L, C: float, where: str) -> None:
    """L must be finite and L + C > 0 (r = √(L + C)); one host sync."""
    check_finite_scalar(L, where, scheme)
    if not bool(L + C > 0):
        value = float(L)
        raise SchemeError(
            f"{scheme}: C must make L(w) + C > 0 so that r = √(L(w) + C) exists; got C = {C!r} with "
            f"{where} = {value!r} (L + C = {value + C!r}). Choose C > {-value!r} (C > −min L; any C > 0 "
            "works for MSE and cross-entropy, which are ≥ 0)"
        )


def _guard(scheme: str, finite: dict, shifted: list, C: float) -> None:
    """One host sync per step: all of ``finite`` finite and L + C > 0 for each (L, name) of ``shifted``.

    Only when the combined test fails are the quantities examined one by one, to raise the
    error that names the culprit (a bad shift first, since it explains NaNs downstream).
    """
    xp = namespace(*finite.values())
    ok = None
    for value in finite.values():
        cond = xp.isfinite(value)
        ok = cond if ok is None else ok & cond
    for L, _ in shifted:
        ok = ok & (L + C > 0)
    if bool(ok):
        return
    for L, where in shifted:
        check_shift(scheme, L, C, where)
    for label, value in finite.items():
        check_finite_scalar(value, label, scheme)
    raise NonFiniteStepError(f"{scheme}: the step failed a finiteness check")  # pragma: no cover
