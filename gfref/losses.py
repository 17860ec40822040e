r"""Losses on the network outputs f (B, k): value, ∂ℓ/∂f and the IEQ residual q (§2.1, §2.2.5, §3).

* :class:`MSE` — ℓ = mean over all B·k entries of (f − y)², the loss of Experiments 1–3
  (for k = 1, the mean over the batch of (f − y)², as PyTorch's ``MSELoss``).
* :class:`CrossEntropy` — ℓ = mean over the batch of −log softmax(f)_y, on the logits f
  (Experiment 4), through a stable log-sum-exp.

Each loss also gives the IEQ residual q of §2.2.5: q = f − y as the paper writes it (with
one-hot y for classification), flattened to length B·k so it lines up with the rows of the
Jacobian. Then ½‖q‖² is a *sum* over the batch, not the mean the other schemes minimise.
:meth:`residual_scale` is the constant s for which ½‖s·q‖² equals the MSE exactly
(s = √(2/(B·k))); IEQ run on s·q (and so on s·J) sees the same energy as SAV, which is
the same as running the unscaled IEQ with its Δt multiplied by s² — a step Δt on the
scaled residual is a step Δt·2/(B·k) in the paper's units. For cross-entropy no constant
makes ½‖s·q‖² equal the loss; s = 1/√B averages the quadratic surrogate over the batch.

Labels: regression targets y have shape (B, k) (or (B,) when k = 1); classification
labels are integers in [0, k) of shape (B,).
"""

from __future__ import annotations

import math

from .backend import namespace


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


class MSE:
    """Mean squared error ℓ(f, y) = (1/(B·k)) Σ (f − y)²."""

    name = "mse"
    task = "regression"

    def check_targets(self, f, y):
        """``y`` as (B, k) floats matching ``f``; raises for a shape or dtype mismatch."""
        xp = namespace(f, y)
        if y.ndim == 1 and f.shape[1] == 1:
            y = xp.reshape(y, (-1, 1))
        _require(tuple(y.shape) == tuple(f.shape), f"MSE: y must have shape (B, k)={tuple(f.shape)}; got {tuple(y.shape)}")
        _require(y.dtype == f.dtype, f"MSE: y must have the dtype of the model ({f.dtype}); got {y.dtype}")
        return y

    def value(self, f, y):
        """ℓ as a 0-d array."""
        diff = f - y
        xp = namespace(diff)
        return xp.mean(diff * diff)

    def grad(self, f, y):
        """∂ℓ/∂f = 2(f − y)/(B·k), shape (B, k)."""
        return (2.0 / (f.shape[0] * f.shape[1])) * (f - y)

    def residual(self, f, y):
        """The paper's IEQ residual q = f − y, flattened to (B·k,)."""
        xp = namespace(f, y)
        return xp.reshape(f - y, (-1,))

    def residual_scale(self, batch_size: int, k: int) -> float:
        """s with ½‖s·q‖² = ℓ exactly: √(2/(B·k))."""
        return math.sqrt(2.0 / (batch_size * k))


class CrossEntropy:
    """Softmax cross-entropy on logits, ℓ = (1/B) Σ_i [logsumexp(f_i) − f_{i, y_i}]."""

    name = "cross_entropy"
    task = "classification"

    def check_targets(self, f, y):
        """``y`` as integer labels (B,) in [0, k); raises otherwise."""
        xp = namespace(f, y)
        _require(y.ndim == 1 and y.shape[0] == f.shape[0], f"CrossEntropy: y must be integer labels of shape (B,)=({f.shape[0]},); got shape {tuple(y.shape)}")
        _require(xp.isdtype(y.dtype, "integral"), f"CrossEntropy: y must hold integer labels; got dtype {y.dtype}")
        return y

    def _log_softmax(self, f):
        xp = namespace(f)
        shifted = f - xp.max(f, axis=1, keepdims=True)  # exp never overflows
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))

    def one_hot(self, y, like):
        xp = namespace(like)
        classes = xp.arange(like.shape[1], dtype=y.dtype)
        return xp.astype(y[:, None] == classes[None, :], like.dtype)

    def value(self, f, y):
        xp = namespace(f)
        return -xp.mean(xp.sum(self._log_softmax(f) * self.one_hot(y, f), axis=1))

    def grad(self, f, y):
        """∂ℓ/∂f = (softmax(f) − onehot(y))/B."""
        xp = namespace(f)
        return (xp.exp(self._log_softmax(f)) - self.one_hot(y, f)) / f.shape[0]

    def residual(self, f, y):
        """The paper's IEQ residual q = f − onehot(y) on the logits, flattened to (B·k,)."""
        xp = namespace(f)
        return xp.reshape(f - self.one_hot(y, f), (-1,))

    def residual_scale(self, batch_size: int, k: int) -> float:
        """1/√B: the quadratic surrogate averaged over the batch (it is not the cross-entropy)."""
        return 1.0 / math.sqrt(batch_size)

    def accuracy(self, f, y):
        """Fraction of rows whose largest logit is the label, a 0-d array."""
        xp = namespace(f)
        return xp.mean(xp.astype(xp.argmax(f, axis=1) == y, f.dtype))


LOSSES = {"mse": MSE, "cross_entropy": CrossEntropy}


def get_loss(name: str):
    """A loss by name: ``"mse"`` or ``"cross_entropy"``."""
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {name!r}")
    return LOSSES[name]()
