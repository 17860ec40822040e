r"""The problem a scheme sees: a model and a loss on one mini-batch.

Schemes call nothing else. ``problem.at(w, batch)`` runs the forward pass once and returns
a :class:`Point` from which every quantity of §2.2 is read, each computed on first use:

=====================  ================================  ==================================
attribute / method     paper                             shape
=====================  ================================  ==================================
``loss``               L(wⁿ; 𝓑ₙ)                         0-d
``grad``               ∇_w L(wⁿ; 𝓑ₙ)                     (n,)
``residual``           q = f(wⁿ) − y (§2.2.5)            (B·k,)
``jvp(u)``             J u,    J = ∇_w f(wⁿ)             (B·k,)
``vjp(v)``             Jᵀ v                              (n,)
``jacobian()``         J                                 (B·k, n)
``gram()``             J Jᵀ (structured, no J)           (B·k, B·k)
=====================  ================================  ==================================

``problem.loss_at(w, batch)`` is the loss at another w on the same batch (the relaxation of
§2.4 needs L(wⁿ⁺¹)).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

from .backend import namespace
from .losses import CrossEntropy, MSE


_MODEL_INTERFACE = ("n", "k", "forward", "__call__", "vjp", "jvp", "jacobian", "gram")


class Batch(NamedTuple):
    """Inputs X (B, d) and targets y: (B, k) floats for regression, (B,) integer labels for classification."""

    X: Any
    y: Any


class NonFiniteError(FloatingPointError):
    """A quantity that must be finite is not (bad data, or a run that diverged)."""


@dataclasses.dataclass(frozen=True)
class Problem:
    """A model and a loss: the objective L(w; 𝓑) = ℓ(f(X; w), y) on a batch 𝓑 = (X, y).

    Parameters
    ----------
    model : MLP
        Or any object with the MLP's interface (``n``, ``k``, ``forward``, ``__call__``,
        ``vjp``, ``jvp``, ``jacobian``, ``gram``); the tests use a linear model to get a convex problem.
    loss : MSE or CrossEntropy
    check_finite : bool
        Check every batch for NaN/inf (one reduction per batch). The training loop checks
        the whole data set once and turns this off.
    """

    model: Any  # an MLP, or an object with its interface
    loss: Any
    check_finite: bool = True

    def __post_init__(self):
        missing = [name for name in _MODEL_INTERFACE if not hasattr(self.model, name)]
        if missing:
            raise TypeError(f"Problem: model must be a gfref.MLP or have its methods; {type(self.model).__name__} lacks {', '.join(missing)}")
        if not isinstance(self.loss, (MSE, CrossEntropy)):
            raise TypeError(f"Problem: loss must be gfref.losses.MSE or CrossEntropy; got {type(self.loss).__name__}")
        if isinstance(self.loss, CrossEntropy) and self.model.k < 2:
            raise ValueError(f"Problem: cross-entropy needs k >= 2 outputs; the model has k={self.model.k}")

    def at(self, w, batch) -> "Point":
        """Forward pass at ``w`` on ``batch``; derivatives follow lazily from the returned Point."""
        X, y = batch
        if self.check_finite:
            check_finite(X, "X")
            if not isinstance(self.loss, CrossEntropy):
                check_finite(y, "y")
        f, cache = self.model.forward(w, X)
        y = self.loss.check_targets(f, y)
        return Point(self, w, Batch(X, y), f, cache)

    def loss_at(self, w, batch):
        """L(w; batch) from the outputs alone (no cache for derivatives)."""
        X, y = batch
        if self.check_finite:
            check_finite(X, "X")
        f = self.model(w, X)
        return self.loss.value(f, self.loss.check_targets(f, y))

    def residual_scale(self, batch) -> float:
        """The constant s with ½‖s·q‖² = L for MSE (see :mod:`gfref.losses`)."""
        return self.loss.residual_scale(batch[0].shape[0], self.model.k)


class Point:
    """The problem linearised at (w, batch): everything a scheme step reads."""

    def __init__(self, problem: Problem, w, batch: Batch, f, cache):
        self.problem, self.w, self.batch, self.f, self.cache = problem, w, batch, f, cache
        self._model = problem.model

    @functools.cached_property
    def loss(self):
        return self.problem.loss.value(self.f, self.batch.y)

    @functools.cached_property
    def output_grad(self):
        """∂ℓ/∂f, shape (B, k)."""
        return self.problem.loss.grad(self.f, self.batch.y)

    @functools.cached_property
    def grad(self):
        """∇_w L = Jᵀ (∂ℓ/∂f), by the backward pass."""
        return self._model.vjp(self.cache, self.output_grad)

    @functools.cached_property
    def residual(self):
        """q = f − y (one-hot y for classification), flattened to (B·k,)."""
        return self.problem.loss.residual(self.f, self.batch.y)

    def jvp(self, u):
        return self._model.jvp(self.cache, u)

    def vjp(self, v):
        return self._model.vjp(self.cache, v)

    def jacobian(self):
        return self._model.jacobian(self.cache)

    def gram(self):
        return self._model.gram(self.cache)

    def accuracy(self):
        return self.problem.loss.accuracy(self.f, self.batch.y)


def check_finite(x, name: str) -> None:
    """Raise :class:`NonFiniteError` naming ``name`` when ``x`` holds a NaN or an infinity."""
    xp = namespace(x)
    if not bool(xp.all(xp.isfinite(x))):
        raise NonFiniteError(f"{name} holds non-finite values (NaN or inf); expected finite numbers")
