r"""Adam (§2.2.2), with the bias correction exactly as the paper writes it.

    mⁿ⁺¹ = β₁ mⁿ + (1 − β₁) ∇L(wⁿ)
    vⁿ⁺¹ = β₂ vⁿ + (1 − β₂) (∇L(wⁿ))²
    m̂ = mⁿ⁺¹ / (1 − β₁ⁿ⁺¹),   v̂ = vⁿ⁺¹ / (1 − β₂ⁿ⁺¹)
    wⁿ⁺¹ = wⁿ − η m̂ / (√v̂ + ε)

with m⁰ = v⁰ = 0 and n = 0 at the first step (so the first step divides by 1 − β₁).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..backend import namespace
from .base import Scheme, SchemeError, StepInfo, check_finite_scalars, require_positive


class AdamState(NamedTuple):
    """First and second moment estimates and the number n of steps taken so far."""

    m: Any  # (n,) mⁿ
    v: Any  # (n,) vⁿ
    count: int  # n; the next step uses β^(n+1)


def adam(lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Scheme:
    r"""Adam, §2.2.2 (Kingma & Ba), bias-corrected as written in the paper.

    Update (η → ``lr``, β₁ → ``b1``, β₂ → ``b2``, ε → ``eps``; n counts the steps taken)::

        mⁿ⁺¹ = β₁ mⁿ + (1 − β₁) gⁿ,            gⁿ = ∇_w L(wⁿ; 𝓑ₙ)
        vⁿ⁺¹ = β₂ vⁿ + (1 − β₂) (gⁿ)²          (elementwise square)
        m̂ = mⁿ⁺¹/(1 − β₁ⁿ⁺¹),  v̂ = vⁿ⁺¹/(1 − β₂ⁿ⁺¹)
        wⁿ⁺¹ = wⁿ − η m̂/(√v̂ + ε)

    Parameters
    ----------
    lr : float > 0
    b1, b2 : float in [0, 1)
        At 1 the bias correction divides by zero.
    eps : float > 0
        Keeps the division finite for coordinates with zero gradient history (dead ReLU units).

    Guarantees
    ----------
    None (the paper notes Adam has no energy law). Steps 1 and 2, bias correction included,
    equal a hand computation (``test_adam_two_steps_match_hand_computation``).

    StepInfo
    --------
    loss = energy = L(wⁿ), S = ‖gⁿ‖², step_size = lr (Δw = −lr·m̂/(√v̂ + ε)).
    """
    lr = require_positive("lr", lr, "adam")
    eps = require_positive("eps", eps, "adam")
    b1 = _require_decay("b1", b1)
    b2 = _require_decay("b2", b2)

    def init(problem, w, batch):
        xp = namespace(w)
        return AdamState(m=xp.zeros_like(w), v=xp.zeros_like(w), count=0)

    def step(problem, w, state, batch):
        xp = namespace(w)
        point = problem.at(w, batch)
        g = point.grad
        gg = xp.vecdot(g, g)
        check_finite_scalars("adam", {"L(wⁿ)": point.loss, "‖∇L(wⁿ)‖²": gg})
        n1 = state.count + 1
        # The formulas above, with the scalars folded and the fresh vectors updated in place:
        # each (n,) temporary costs as much as the arithmetic done on it.
        m = b1 * state.m
        m += (1.0 - b1) * g  # mⁿ⁺¹
        v = g * g
        v *= 1.0 - b2
        v += b2 * state.v  # vⁿ⁺¹
        denominator = xp.sqrt(v / (1.0 - b2**n1))  # √v̂
        denominator += eps
        delta = (lr / (1.0 - b1**n1)) * m  # η m̂
        delta /= denominator
        w_new = w - delta
        info = StepInfo(loss=point.loss, energy=point.loss, S=gg, step_size=xp.asarray(lr, dtype=w.dtype))
        return w_new, AdamState(m=m, v=v, count=n1), info

    return Scheme("adam", init, step, {"lr": lr, "b1": b1, "b2": b2, "eps": eps})


def _require_decay(name: str, value) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value < 1
    if not ok:
        raise SchemeError(f"adam: {name} must lie in [0, 1); got {value!r}")
    return float(value)

