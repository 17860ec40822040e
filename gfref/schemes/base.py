"""The scheme protocol (DESIGN §2), in the style of optax's ``init``/``update`` pairs.

A scheme is a factory taking the hyperparameters and returning a :class:`Scheme`: a pair of
pure functions over an immutable state (a NamedTuple per scheme)::

    scheme = gfref.schemes.sav(dt=0.5, C=100.0, lam=4.0)
    state = scheme.init(problem, w, batch)
    w, state, info = scheme.step(problem, w, state, batch)

``step`` never modifies ``w`` or ``state`` in place, and reads the network and the loss only
through ``problem`` (:class:`gfref.problem.Problem`). No scheme knows the array backend, the
data set or the disk. ``info`` is a :class:`StepInfo` of 0-d arrays on the device (no
host–device synchronisation in the step); fields that do not apply to a scheme are ``None``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

from ..backend import namespace


class Scheme(NamedTuple):
    """An optimiser as a pair of pure functions, with its name and hyperparameters."""

    name: str
    init: Callable[..., Any]
    step: Callable[..., tuple]
    hyperparams: dict


class StepInfo(NamedTuple):
    """Diagnostics of one step, all at the start of the step unless said otherwise.

    loss       L(wⁿ; 𝓑ₙ), the loss of the batch at the point the step starts from.
    energy     the modified energy after the step: (rⁿ⁺¹)² (SAV), log rⁿ⁺¹ (ExpSAV),
               ½‖qⁿ⁺¹‖² (IEQ); the loss for SGD and Adam.
    aux        the auxiliary variable after the step: rⁿ⁺¹, log rⁿ⁺¹ or ‖qⁿ⁺¹‖.
    S          Sⁿ = ⟨∇L, (I + Δt𝓛)⁻¹∇L⟩ (SAV/ExpSAV) or the IEQ analogue (‖Jᵀq‖², ‖g‖²).
    step_size  the effective step: wⁿ⁺¹ − wⁿ = −step_size · (search direction).
    xi0        the relaxation parameter ξ₀ of §2.4 (relaxed variants only).
    """

    loss: Any
    energy: Any = None
    aux: Any = None
    S: Any = None
    step_size: Any = None
    xi0: Any = None


class SchemeError(ValueError):
    """A hyperparameter or variant outside its allowed range."""


class NonFiniteStepError(FloatingPointError):
    """A step produced a NaN or an infinity; the message names the quantity."""


# ----------------------------------------------------------------- validation
def require_positive(name: str, value, scheme: str) -> float:
    """``value`` as a float > 0, else a :class:`SchemeError` naming ``name``."""
    if not _is_real(value) or not value > 0 or not math.isfinite(value):
        raise SchemeError(f"{scheme}: {name} must be a finite number > 0; got {value!r}")
    return float(value)


def require_nonnegative(name: str, value, scheme: str) -> float:
    if not _is_real(value) or not value >= 0 or not math.isfinite(value):
        raise SchemeError(f"{scheme}: {name} must be a finite number >= 0; got {value!r}")
    return float(value)


def require_in_unit_interval(name: str, value, scheme: str) -> float:
    if not _is_real(value) or not 0 <= value <= 1:
        raise SchemeError(f"{scheme}: {name} must lie in [0, 1]; got {value!r}")
    return float(value)


def require_choice(name: str, value, choices, scheme: str) -> str:
    if value not in choices:
        raise SchemeError(f"{scheme}: {name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_finite_scalar(x, name: str, scheme: str):
    """Raise :class:`NonFiniteStepError` when the 0-d array ``x`` is NaN or infinite.

    A host–device sync; schemes call it only on the scalars they already need on the host
    or once per step on a scalar summary, never on whole vectors.
    """
    xp = namespace(x)
    if not bool(xp.all(xp.isfinite(x))):
        raise NonFiniteStepError(f"{scheme}: {name} is not finite ({float(x)!r}); the step diverged")
    return x


def check_finite_scalars(scheme: str, named) -> None:
    """One host sync for all the 0-d arrays in ``named`` ({label: value} or [(label, value)]).

    A step checks scalars only (a NaN or inf anywhere in a vector shows in its squared norm),
    all at once; only when that fails are they examined one by one, so that the
    :class:`NonFiniteStepError` names the first non-finite quantity.
    """
    pairs = list(named.items()) if isinstance(named, dict) else list(named)
    # Σ v·0 is 0 when every v is finite and NaN otherwise (inf·0 = NaN), and cannot overflow:
    # a few scalar operations instead of stacking the scalars into an array.
    values = [value for _, value in pairs]
    probe = values[0] * 0.0
    for value in values[1:]:
        probe = probe + value * 0.0
    if bool(namespace(*values).isfinite(probe)):
        return
    for label, value in pairs:
        check_finite_scalar(value, label, scheme)
    raise NonFiniteStepError(f"{scheme}: a step quantity is not finite")  # pragma: no cover
