r"""The exponential SAV scheme (§2.2.4, Theorems 2.2–2.3) and its relaxation (§2.4, Theorem 2.6).

The auxiliary variable is r = C·exp(L(w)) (§1.3/§2.2.4), which Theorem 2.2 writes
r = exp(L(w) + ε): the same thing with C = e^ε, so there is one parameter C > 0 (DESIGN E2).
Experiment 2 starts from an MSE in the thousands, where exp(L) overflows float64 (L > ~709)
and float32 (L > ~88), so the state holds log r and exp(L) is never formed (E4): every
update below is evaluated in logs, e.g. log r⁰ = log C + L(w⁰).

Notation as in :mod:`gfref.schemes.sav`: gⁿ = ∇_w L(wⁿ; 𝓑ₙ), g̃ⁿ = gⁿ/(1 + Δtλ) (𝓛 = λI),
Sⁿ = ⟨gⁿ, g̃ⁿ⟩ ≥ 0. The paper prints three different updates (E3):

* ``box`` (§2.2.4, the default):  rⁿ⁺¹ = rⁿ/(1 + ΔtSⁿ/rⁿ),  wⁿ⁺¹ = wⁿ − Δt(rⁿ⁺¹/rⁿ)·g̃ⁿ.
  In logs: log rⁿ⁺¹ = log rⁿ − softplus(log(ΔtSⁿ) − log rⁿ), with softplus(z) = log(1 + eᶻ)
  computed as logaddexp(0, z), so a tiny r cannot overflow exp(−log r).
* ``thm2.2`` (Theorem 2.2):  the same r,  wⁿ⁺¹ = wⁿ − Δt(rⁿ⁺¹/(rⁿ)²)·g̃ⁿ = wⁿ − Δt/(rⁿ + ΔtSⁿ)·g̃ⁿ.
  In logs: coefficient exp(log Δt + log rⁿ⁺¹ − 2 log rⁿ).
* ``thm2.3`` (Theorem 2.3):  rⁿ⁺¹ = rⁿ/(1 + ΔtSⁿ),  wⁿ⁺¹ = wⁿ − Δt(rⁿ⁺¹/rⁿ)·g̃ⁿ = wⁿ − Δt/(1 + ΔtSⁿ)·g̃ⁿ.
  In logs: log rⁿ⁺¹ = log rⁿ − log1p(ΔtSⁿ); the step does not depend on r at all.

What each guarantees (tests in tests/test_schemes_sav.py), with step_size the factor in
Δw = −step_size·gⁿ (so it carries the 1/(1 + Δtλ)):

* all three: rⁿ⁺¹ ≤ rⁿ for every Δt > 0 (the denominators are ≥ 1) — exactly, also in logs.
* box and thm2.3: step_size ∈ (0, Δt]. thm2.2: step_size = Δt/((rⁿ + ΔtSⁿ)(1 + Δtλ)), which
  exceeds Δt whenever (rⁿ + ΔtSⁿ)(1 + Δtλ) < 1 (C < 1 and a small loss), and is ~e^(−L):
  negligible once L is in the tens and exactly 0 past L ≈ 745 in float64 — the "r⁻ⁿ"
  problem that Theorem 2.3 removes.
* Δt → 0 (the discrete laws): box and thm2.2 give (log rⁿ⁺¹ − log rⁿ)/Δt → −‖gⁿ‖²/rⁿ, i.e.
  dr/dt = −‖g‖²; thm2.3 gives → −‖gⁿ‖², i.e. d(log r)/dt = −‖g‖². Along the weights, the
  continuous law of Theorem 2.2 reads d log(C·e^L)/dt = ⟨g, dw/dt⟩, which is −‖g‖²/r for
  thm2.2 (step → Δt/r) and −‖g‖² for box and thm2.3 (step → Δt). Hence thm2.2 and thm2.3
  keep r consistent with C·exp(L) to first order, while the box's r drifts from C·exp(L)
  unless r = 1: its r recurrence belongs to Theorem 2.2's step, not to its own.
* none makes L decrease (E12).

Relaxation (§2.4, Theorem 2.6; linear constraint with ‖Δw‖, not ‖Δw‖², as written: E10),
after the step, with r̂ = C·exp(L(wⁿ⁺¹)) (one more forward pass), r̃ = the recurrence value and
budget β = η‖Δw‖/Δt, all in logs (:func:`~gfref.schemes.relax.xi_linear_log`, and a log-space mix):

``relax="paper"``  rⁿ⁺¹ = ξ₀r̂ + (1 − ξ₀)r̃, ξ₀ the smallest ξ ∈ [0, 1] with rⁿ⁺¹ − r̂ ≤ β.
    ξ₀ > 0 only when r̃ > r̂ + β, and then rⁿ⁺¹ = r̂ + β ∈ [r̂, r̃]: rⁿ⁺¹ ≤ rⁿ always.
``relax="jzz"``    rⁿ⁺¹ = ξ₀r̃ + (1 − ξ₀)r̂, ξ₀ the smallest ξ with rⁿ⁺¹ − r̃ ≤ β. This allows
    rⁿ⁺¹ up to r̃ + β, which exceeds rⁿ when rⁿ − r̃ < β and r̂ > r̃ + β — r can rise (a test
    exhibits it).

The relaxation changes only the r carried to the next step, never wⁿ⁺¹.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..backend import namespace
from .base import (
    Scheme,
    StepInfo,
    check_finite_scalar,
    check_finite_scalars,
    require_choice,
    require_in_unit_interval,
    require_nonnegative,
    require_positive,
)
from .relax import xi_linear_log
FORMS = ("box", "thm2.2", "thm2.3")
RELAXATIONS = (None, "paper", "jzz")


class ExpSAVState(NamedTuple):
    """log rⁿ (a 0-d array); r itself may not be representable (E4)."""

    log_r: Any


def expsav(dt: float, C: float = 1.0, lam: float = 0.0, form: str = "box", relax: str | None = None, eta: float = 0.99) -> Scheme:
    r"""ExpSAV, §2.2.4 (Theorems 2.2 and 2.3), optionally relaxed as in §2.4 (Theorem 2.6).

    With gⁿ = ∇_w L(wⁿ; 𝓑ₙ), g̃ⁿ = (I + Δt𝓛)⁻¹gⁿ = gⁿ/(1 + Δtλ), Sⁿ = ⟨gⁿ, g̃ⁿ⟩ and
    r⁰ = C·exp(L(w⁰)) (kept as log r⁰ = log C + L(w⁰)) on the batch given to ``init``::

        box:     rⁿ⁺¹ = rⁿ/(1 + ΔtSⁿ/rⁿ),   wⁿ⁺¹ = wⁿ − Δt(rⁿ⁺¹/rⁿ)·g̃ⁿ
        thm2.2:  rⁿ⁺¹ = rⁿ/(1 + ΔtSⁿ/rⁿ),   wⁿ⁺¹ = wⁿ − Δt(rⁿ⁺¹/(rⁿ)²)·g̃ⁿ
        thm2.3:  rⁿ⁺¹ = rⁿ/(1 + ΔtSⁿ),      wⁿ⁺¹ = wⁿ − Δt(rⁿ⁺¹/rⁿ)·g̃ⁿ

    Symbols → arguments: Δt → ``dt``, C = e^ε → ``C``, 𝓛 = λI → ``lam``, η → ``eta``. The
    module docstring says what each form guarantees and what its Δt → 0 law is.

    Parameters
    ----------
    dt : float > 0
    C : float > 0
        r = C·exp(L) = exp(L + ε) with ε = log C (DESIGN E2).
    lam : float ≥ 0
    form : ``"box"`` (default), ``"thm2.2"`` or ``"thm2.3"`` (DESIGN E3)
    relax : None (default), ``"paper"`` or ``"jzz"`` (Theorem 2.6 in either convention, E9)
    eta : float in [0, 1]

    Guarantees, and the tests that check them (tests/test_schemes_sav.py)
    --------------------------------------------------------------------
    * rⁿ⁺¹ ≤ rⁿ for every form, unrelaxed or relax="paper" (``test_r_never_increases``);
      relax="jzz" can raise r (``test_expsav_jzz_can_raise_r``);
    * ξ₀ ∈ [0, 1] is the smallest feasible ξ (``test_expsav_xi0_is_the_smallest_feasible``);
    * box and thm2.3: step in (0, Δt] (``test_expsav_box_and_thm23_step_in_0_dt``); thm2.2:
      step Δt/((rⁿ + ΔtSⁿ)(1 + Δtλ)) (``test_expsav_thm22_step_is_dt_over_r_plus_dtS``), above Δt
      when (rⁿ + ΔtSⁿ)(1 + Δtλ) < 1, so only for r < 1 (``test_expsav_thm22_step_can_exceed_dt``), 0 at a large loss
      (``test_expsav_thm22_freezes_at_large_loss``);
    * the Δt → 0 laws of the module docstring (``test_expsav_small_dt_limit``,
      ``test_expsav_r_tracks_the_loss_only_in_consistent_forms``);
    * no overflow at an initial loss > 1000 in float64 and float32 (``test_expsav_large_loss_no_overflow``).

    StepInfo
    --------
    loss = L(wⁿ), energy = aux = log rⁿ⁺¹, S = Sⁿ, step_size with Δw = −step_size·gⁿ
    (box, thm2.3: Δt(rⁿ⁺¹/rⁿ)/(1 + Δtλ); thm2.2: Δt(rⁿ⁺¹/(rⁿ)²)/(1 + Δtλ)), xi0 when relaxed.
    """
    name = "expsav"
    dt = require_positive("dt", dt, name)
    C = require_positive("C", C, name)
    lam = require_nonnegative("lam", lam, name)
    form = require_choice("form", form, FORMS, name)
    relax = require_choice("relax", relax, RELAXATIONS, name)
    eta = require_in_unit_interval("eta", eta, name)
    precond = 1.0 + dt * lam
    log_C = math.log(C)
    log_dt = math.log(dt)

    def init(problem, w, batch):
        L = problem.at(w, batch).loss
        check_finite_scalar(L, "L(w⁰)", name)
        return ExpSAVState(log_r=L + log_C)  # log(C·e^L), never e^L itself

    def step(problem, w, state, batch):
        xp = namespace(w)
        point = problem.at(w, batch)
        L, g = point.loss, point.grad
        gg = xp.vecdot(g, g)
        S = gg / precond  # ⟨g, g̃⟩ with g̃ = g/(1 + Δtλ); g̃ itself is never needed as a vector
        log_r = state.log_r
        zero = xp.zeros_like(S)
        if form == "thm2.3":
            term = xp.log1p(dt * S)  # log(rⁿ/rⁿ⁺¹) = log(1 + ΔtS)
        else:
            # log(1 + ΔtS/r) = softplus(log(ΔtS) − log r): no exp(−log r) to overflow for tiny r
            positive = S > 0
            dtS = xp.where(positive, dt * S, xp.ones_like(S))
            term = xp.where(positive, xp.logaddexp(zero, xp.log(dtS) - log_r), zero)
        log_r_tilde = log_r - term
        if form == "thm2.2":
            coef = xp.exp(log_dt + log_r_tilde - 2.0 * log_r)  # Δt·rⁿ⁺¹/(rⁿ)²
        else:
            coef = dt * xp.exp(-term)  # Δt·rⁿ⁺¹/rⁿ, the ratio without the cancellation of log rⁿ⁺¹ − log rⁿ
        step_size = coef / precond
        w_new = w - step_size * g

        checks = {"L(wⁿ)": L, "Sⁿ": S, "log rⁿ": log_r, "log rⁿ⁺¹": log_r_tilde, "step size": step_size}
        xi0 = None
        log_r_new = log_r_tilde
        if relax is not None:
            L_new = problem.loss_at(w_new, batch)
            log_r_hat = L_new + log_C
            # ‖Δw‖ = step_size·‖g‖ exactly (Δw = −step_size·g); not squared (E10)
            budget = eta * step_size * xp.sqrt(gg) / dt
            if relax == "paper":  # r = ξ r̂ + (1 − ξ) r̃, constraint r − r̂ ≤ β
                xi0 = xi_linear_log(log_r_hat, log_r_tilde, budget)
                log_r_new = _mix(xp, xi0, log_r_hat, log_r_tilde)
            else:  # jzz: r = ξ r̃ + (1 − ξ) r̂, constraint r − r̃ ≤ β
                xi0 = xi_linear_log(log_r_tilde, log_r_hat, budget)
                log_r_new = _mix(xp, xi0, log_r_tilde, log_r_hat)
            checks.update({"L(wⁿ⁺¹)": L_new, "η‖Δw‖/Δt": budget, "relaxed log rⁿ⁺¹": log_r_new})
        check_finite_scalars(name, checks)

        info = StepInfo(loss=L, energy=log_r_new, aux=log_r_new, S=S, step_size=step_size, xi0=xi0)
        return w_new, ExpSAVState(log_r=log_r_new), info

    hyperparams = {"dt": dt, "C": C, "lam": lam, "form": form, "relax": relax, "eta": eta}
    return Scheme(name, init, step, hyperparams)




def _mix(xp, xi, log_A, log_B):
    """log(ξA + (1 − ξ)B) in log space, exact at ξ = 0 and ξ = 1.

    ξ at the ends is handled apart rather than clipped to a tiny positive number: clipping
    would give log(tiny·A + B) at ξ = 0, not log B, once A/B > 1/tiny (e^87 in float32).
    """
    inside = (xi > 0) & (xi < 1)
    xi_in = xp.where(inside, xi, xp.full_like(xi, 0.5))  # keeps log(ξ), log1p(−ξ) finite
    mixed = xp.logaddexp(xp.log(xi_in) + log_A, xp.log1p(-xi_in) + log_B)
    return xp.where(xi <= 0, log_B, xp.where(xi >= 1, log_A, mixed))
