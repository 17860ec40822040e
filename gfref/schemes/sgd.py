r"""Stochastic gradient descent (§2.2.1).

    wⁿ⁺¹ = wⁿ − η ∇_w L(wⁿ; 𝓑ₙ)

The paper's η is the argument ``lr`` here: ``eta`` is reserved for the relaxation parameter
of §2.4 (DESIGN E11).
"""

from __future__ import annotations

from typing import NamedTuple

from ..backend import namespace
from .base import Scheme, StepInfo, check_finite_scalars, require_positive


class SGDState(NamedTuple):
    """SGD keeps no state."""


def sgd(lr: float) -> Scheme:
    r"""Plain (stochastic) gradient descent, §2.2.1.

    Update (the paper's notation; η → ``lr``)::

        wⁿ⁺¹ = wⁿ − η ∇_w L(wⁿ; 𝓑ₙ)

    Parameters
    ----------
    lr : float > 0
        The learning rate η of §2.2.1.

    Guarantees
    ----------
    None beyond the formula: SGD has no energy law (L may rise for a large ``lr``). The step
    equals a hand computation (``test_sgd_step_matches_hand_computation``); a step whose loss
    or gradient is not finite raises :class:`NonFiniteStepError`
    (``test_non_finite_steps_name_the_quantity``).

    StepInfo
    --------
    loss = energy = L(wⁿ), S = ‖∇L(wⁿ)‖², step_size = lr (Δw = −lr·∇L).
    """
    lr = require_positive("lr", lr, "sgd")

    def init(problem, w, batch):
        return SGDState()

    def step(problem, w, state, batch):
        xp = namespace(w)
        point = problem.at(w, batch)
        g = point.grad
        gg = xp.vecdot(g, g)
        # one host sync per step: a diverged run shows as a non-finite loss or gradient
        check_finite_scalars("sgd", {"L(wⁿ)": point.loss, "‖∇L(wⁿ)‖²": gg})
        w_new = w - lr * g
        info = StepInfo(loss=point.loss, energy=point.loss, S=gg, step_size=xp.asarray(lr, dtype=w.dtype))
        return w_new, state, info

    return Scheme("sgd", init, step, {"lr": lr})

