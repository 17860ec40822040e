r"""Invariant Energy Quadratization (§2.2.5, Theorem 2.4, Lemma 2.1) and its relaxation (§2.4).

IEQ writes the loss as a quadratic in the auxiliary variable q = f(w) − y (B·k entries:
sample i outer, output c inner, the row order of J), L = ½‖q‖², and integrates the gradient
flow dw/dt = −Jᵀq, dq/dt = J dw/dt = −JJᵀq (J = ∇_w f, shape (B·k, n)) with q implicit:

* :func:`ieq` — Method A, the full Jacobian::

      qⁿ⁺¹ = (I + Δt·JJᵀ)⁻¹ qⁿ,        wⁿ⁺¹ = wⁿ − Δt·Jᵀqⁿ⁺¹.

* :func:`ieq_adaptive` — Method B, JJᵀ replaced by the scalar ‖g‖² of Lemma 2.1::

      αⁿ = 1/(1 + Δt·‖∇L‖²/(‖qⁿ‖² + ε)),   qⁿ⁺¹ = αⁿqⁿ,   wⁿ⁺¹ = wⁿ − Δt·αⁿ·∇L.

Symbols → arguments: Δt → ``dt``, ε → ``eps``, η (the relaxation parameter of §2.4, not a
learning rate: DESIGN E11) → ``eta``.

Choices the paper leaves open (DESIGN §3–§4), each a named option:

``q`` (E6) — which qⁿ a step starts from.
    ``"batch"`` (default): qⁿ = f(wⁿ) − y recomputed on every mini-batch. A q carried over from
    another batch belongs to other samples, so this is the only meaningful choice with
    mini-batches; Method A then *is* a Levenberg–Marquardt step with damping 1/Δt (see
    :func:`ieq`). ``"carried"``: qⁿ is the previous step's qⁿ⁺¹ (held in the state), the
    scheme as Theorem 2.4 analyses it; valid for a fixed (e.g. full) batch only. A change of
    batch size is an error; a different batch of the same size cannot be detected and is
    the caller's responsibility.

``q_scale`` (DESIGN §3) — the units of q.
    ``"paper"`` (default): q = f − y, so ½‖q‖² is a *sum* over the batch (for MSE it is
    (B·k/2)·L, not the mean L the other schemes minimise). ``"loss"``: q and J are multiplied by
    s = ``problem.residual_scale(batch)`` (s = √(2/(B·k)) for MSE, so ½‖q‖² = L exactly; 1/√B
    for cross-entropy, where ½‖q‖² is a batch-averaged quadratic surrogate, not the loss).
    Since (sJ)(sJ)ᵀ = s²JJᵀ and (sJ)ᵀ(sq) = s²Jᵀq, the scaled scheme takes *exactly* the step
    of the unscaled one with Δt replaced by Δt·s²: ``dt`` on the scaled residual means
    ``dt·s²`` in the paper's units (and ε is measured in the scaled units too).

What is guaranteed and where it is tested (``tests/test_schemes_ieq.py``):

* Method A, any ``q``: ½‖qⁿ⁺¹‖² − ½‖qⁿ‖² + ½‖qⁿ⁺¹ − qⁿ‖² = −‖Δw‖²/Δt exactly (qⁿ the step's
  input), hence ‖qⁿ⁺¹‖ ≤ ‖qⁿ‖ for every Δt > 0 (``test_full_jacobian_energy_identity``).
  Proof: qⁿ⁺¹ − qⁿ = −ΔtJJᵀqⁿ⁺¹ = JΔw, so ⟨qⁿ⁺¹, qⁿ⁺¹ − qⁿ⟩ = ⟨Jᵀqⁿ⁺¹, Δw⟩ = −‖Δw‖²/Δt, and
  ⟨a, a − b⟩ = ½‖a‖² − ½‖b‖² + ½‖a − b‖².
  With ``q="carried"`` the energies form a non-increasing sequence; with ``q="batch"`` the
  inequality holds within each step only (the next step starts from a new residual).
  Neither mode promises that the loss L(w) itself decreases (DESIGN E12).
* Method B: 0 < αⁿ ≤ 1, effective step Δt·αⁿ ∈ (0, Δt], ‖qⁿ⁺¹‖ ≤ ‖qⁿ‖
  (``test_adaptive_bounds``). For one sample with one output it coincides with Method A
  (``test_adaptive_equals_full_jacobian_for_one_output``).
* Relaxation: see :func:`ieq`.

Every step returns a :class:`~gfref.schemes.base.StepInfo` of 0-d arrays and performs a single
host–device sync (the finiteness check of a stack of scalars).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..backend import namespace, spd_solve
from .base import (
    Scheme,
    SchemeError,
    StepInfo,
    check_finite_scalars,
    require_choice,
    require_in_unit_interval,
    require_nonnegative,
    require_positive,
)
from .relax import xi_quadratic_vector

JACOBIAN_PATHS = ("gram", "explicit")
Q_MODES = ("batch", "carried")
Q_SCALES = ("paper", "loss")
RELAX_CONVENTIONS = (None, "paper", "jzz")


class IEQState(NamedTuple):
    """The auxiliary variable after the last step (after :meth:`init`: q⁰ of the init batch).

    q : (B·k,) array in the scheme's units (multiplied by s when ``q_scale="loss"``). With
        ``q="carried"`` the next step starts from it; with ``q="batch"`` it is kept for
        inspection only and the next step recomputes q on its own batch.
    """

    q: Any


# --------------------------------------------------------------------- shared pieces
def _scale(problem, batch, q_scale: str) -> float:
    """s of ``q_scale``: 1 for the paper's q = f − y, ``residual_scale`` for ½‖q‖² = L."""
    return 1.0 if q_scale == "paper" else float(problem.residual_scale(batch))


def _scaled(x, s: float):
    # s = 1 leaves the array as it is (no copy): nothing downstream writes into it.
    return x if s == 1.0 else s * x


def _init(q_scale: str):
    def init(problem, w, batch) -> IEQState:
        """q⁰ = s·(f(w⁰) − y) on ``batch`` (one forward pass)."""
        return IEQState(q=_scaled(problem.at(w, batch).residual, _scale(problem, batch, q_scale)))

    return init


def _start_q(point, state, s: float, q_mode: str, scheme: str):
    """qⁿ of this step: the batch's residual, or the carried one (checked against the batch)."""
    if q_mode == "batch":
        return _scaled(point.residual, s)
    q = state.q
    rows = point.batch.X.shape[0] * point.problem.model.k
    if q is None or q.ndim != 1 or q.shape[0] != rows:
        got = None if q is None else tuple(q.shape)
        raise SchemeError(
            f"{scheme}: q='carried' needs the same batch on every step (q has shape {got}, this batch "
            f"needs B·k={rows} rows); use q='batch' for mini-batches, or re-run init when the batch changes"
        )
    return q




def _add_to_diagonal(G, value: float):
    """G + value·I, written into G (an (N, N) matrix nobody else holds).

    For MNIST at B = 256, G is 2560 × 2560 (52 MB): a fresh identity and a fresh sum would
    be two more arrays of that size on every step.
    """
    xp = namespace(G)
    N = G.shape[0]
    flat = xp.reshape(G, (N * N,))
    flat[:: N + 1] += value  # the diagonal of a C-ordered (N, N) matrix
    return xp.reshape(flat, (N, N))


def _step_size(dt: float, like):
    xp = namespace(like)
    return xp.asarray(dt, dtype=like.dtype)


# --------------------------------------------------------------------- Method A
def ieq(dt: float, jacobian: str = "gram", q: str = "batch", q_scale: str = "paper", relax=None, eta: float = 0.99) -> Scheme:
    r"""Full-Jacobian IEQ (§2.2.5 Method A, Theorem 2.4), optionally relaxed (§2.4, Theorem 2.5).

    With J = ∇_w f(wⁿ) (B·k × n) on the batch::

        qⁿ⁺¹ = (I + Δt·JJᵀ)⁻¹ qⁿ                     (B·k × B·k SPD system, not n × n: E7)
        wⁿ⁺¹ = wⁿ − Δt·Jᵀqⁿ⁺¹

    computed as u = (JJᵀ + I/Δt)⁻¹ qⁿ by a Cholesky solve (dividing through by Δt keeps the
    matrix O(‖JJᵀ‖ + 1/Δt) for every Δt), qⁿ⁺¹ = u/Δt, Δw = −Jᵀu.

    **Levenberg–Marquardt (E6).** By the push-through identity Jᵀ(I + ΔtJJᵀ)⁻¹ =
    (I + ΔtJᵀJ)⁻¹Jᵀ, the step is::

        wⁿ⁺¹ = wⁿ − (JᵀJ + I/Δt)⁻¹ Jᵀqⁿ,

    a Levenberg–Marquardt (damped Gauss–Newton) step on ½‖f(w) − y‖² with damping 1/Δt. With
    ``q="batch"`` qⁿ = f(wⁿ) − y, so this is *exactly* LM on each mini-batch
    (``test_step_is_levenberg_marquardt``): Δt → 0 is gradient descent on ½‖q‖² with rate Δt,
    Δt → ∞ is Gauss–Newton.

    Parameters
    ----------
    dt : float > 0
        Δt.
    jacobian : {"gram", "explicit"}
        ``"gram"`` (default): JJᵀ from the layer structure (:meth:`gfref.mlp.MLP.gram`) and Jᵀu
        by one backward pass; J is never formed. ``"explicit"``: forms J (B·k × n), the
        reference path. The two agree to rounding (E7; ``test_gram_and_explicit_paths_agree``).
    q : {"batch", "carried"}
        Where qⁿ comes from (module docstring, E6).
    q_scale : {"paper", "loss"}
        Units of q (module docstring): ``"loss"`` equals ``"paper"`` with Δt·s².
    relax : {None, "paper", "jzz"}
        The relaxation of §2.4 with v = q (DESIGN E9). Let q̃ = the qⁿ⁺¹ above (the recurrence),
        q̂ = s·(f(wⁿ⁺¹) − y) (one more forward pass, same batch) and budget = η‖Δw‖²/Δt.

        * ``"paper"``: qⁿ⁺¹ = ξ₀q̂ + (1 − ξ₀)q̃, ξ₀ the smallest ξ ∈ [0, 1] with
          ‖qⁿ⁺¹‖² − ‖q̂‖² ≤ budget (Theorem 2.5 with v = q).
        * ``"jzz"`` (Jiang–Zhang–Zhao): qⁿ⁺¹ = ξ₀q̃ + (1 − ξ₀)q̂, smallest ξ with
          ‖qⁿ⁺¹‖² − ‖q̃‖² ≤ budget.

        In both, ξ = 1 is feasible and the constraint is active whenever ξ₀ > 0, so
        ‖qⁿ⁺¹‖² = min(‖B‖², ‖A‖² + budget) (A the value ξ multiplies, B the other):

        * paper: ‖qⁿ⁺¹‖² = min(‖q̃‖², ‖q̂‖² + budget) ≤ ‖q̃‖². The relaxed energy is never above
          the unrelaxed one, but ξ₀ = 0 (qⁿ⁺¹ = q̃, the unrelaxed scheme) whenever
          ‖q̃‖² ≤ ‖q̂‖² + budget, which is the typical case: q̂ − q̃ is second order in Δw while
          the budget is η‖Δw‖²/Δt (E9; ``test_paper_relaxation_usually_collapses``).
        * jzz: ‖qⁿ⁺¹‖² = min(‖q̂‖², ‖q̃‖² + budget): the true residual q̂ is taken (ξ₀ = 0)
          unless its energy exceeds the recurrence's by more than the budget.

        The constraint is written on ‖q‖² while the energy is ½‖q‖², so the budget costs
        only η/2 of the dissipation. With ``q="carried"`` and jzz, from the identity of the
        unrelaxed step::

            ½‖qⁿ⁺¹‖² − ½‖qⁿ‖² ≤ −(1 − η/2)‖Δw‖²/Δt − ½‖q̃ − qⁿ‖²

        (the constraint gives ½‖qⁿ⁺¹‖² ≤ ½‖q̃‖² + (η/2)‖Δw‖²/Δt, and the unrelaxed identity
        ½‖q̃‖² = ½‖qⁿ‖² − ‖Δw‖²/Δt − ½‖q̃ − qⁿ‖²; ``test_jzz_energy_bound_carried``): a
        stronger bound than relaxed SAV's −(1 − η) (DESIGN §5), for that reason. With paper
        the same holds with η = 0, since ‖qⁿ⁺¹‖ ≤ ‖q̃‖. With ``q="batch"`` the next step
        recomputes q from its own batch, so the relaxation changes only the reported energy
        and the state, never w: relaxed IEQ is meaningful with ``q="carried"``.
    eta : float in [0, 1]
        η, used only when ``relax`` is set.

    Returns
    -------
    Scheme
        ``init(problem, w, batch) -> IEQState``; ``step(problem, w, state, batch) ->
        (w_new, state_new, StepInfo)`` with loss = L(wⁿ) (the problem's loss, not ½‖q‖²),
        energy = ½‖qⁿ⁺¹‖², aux = ‖qⁿ⁺¹‖ (both after relaxation), S = ‖Jᵀq̃‖² = ‖Δw‖²/Δt²
        (so the identity reads ΔE + ½‖Δq‖² = −Δt·S, and S → ‖Jᵀqⁿ‖², the continuous
        dissipation rate, as Δt → 0), step_size = Δt, xi0 = ξ₀ (None unrelaxed).

    Raises
    ------
    SchemeError
        A hyperparameter out of range or an unknown option (the message names it and lists
        the allowed values); with ``q="carried"``, a batch whose size differs from the state's.
    NonFiniteStepError
        A non-finite ‖qⁿ‖², trace JJᵀ, ‖qⁿ⁺¹‖² or ‖Δw‖² (named in the message).
    """
    name = "ieq"
    dt = require_positive("dt", dt, name)
    jacobian = require_choice("jacobian", jacobian, JACOBIAN_PATHS, name)
    q_mode = require_choice("q", q, Q_MODES, name)
    q_scale = require_choice("q_scale", q_scale, Q_SCALES, name)
    relax = require_choice("relax", relax, RELAX_CONVENTIONS, name)
    eta = require_in_unit_interval("eta", eta, name)

    def step(problem, w, state, batch):
        xp = namespace(w)
        point = problem.at(w, batch)
        s = _scale(problem, batch, q_scale)
        q_n = _start_q(point, state, s, q_mode, name)

        # The scheme's J is s·∇_w f: G = s²JJᵀ and Jᵀv = s·(backward pass of v).
        if jacobian == "explicit":
            J = _scaled(point.jacobian(), s)
            G = J @ J.T

            def jac_t(v):
                return J.T @ v
        else:
            G = _scaled(point.gram(), s * s)

            def jac_t(v):
                return _scaled(point.vjp(v), s)

        qq = xp.vecdot(q_n, q_n)
        trace_G = xp.linalg.trace(G)  # PSD: entries are finite iff the diagonal is
        A = _add_to_diagonal(G, 1.0 / dt)  # JJᵀ + I/Δt, in G's memory (G is a fresh array)
        try:
            u = spd_solve(A, q_n, overwrite=True)  # u = (JJᵀ + I/Δt)⁻¹qⁿ = Δt·qⁿ⁺¹
        except ValueError:  # LinAlgError (a ValueError) from a Cholesky of non-finite input
            check_finite_scalars(name, [("‖qⁿ‖²", qq), ("trace JJᵀ", trace_G)])
            raise
        q_tilde = u / dt  # qⁿ⁺¹ = (I + ΔtJJᵀ)⁻¹qⁿ
        descent = jac_t(u)  # Δt·Jᵀqⁿ⁺¹
        w_new = w - descent  # Δw = −Δt·Jᵀqⁿ⁺¹
        dw2 = xp.vecdot(descent, descent)  # ‖Δw‖²

        xi0 = None
        q_new = q_tilde
        if relax is not None:
            q_hat = _scaled(problem.at(w_new, batch).residual, s)  # s·(f(wⁿ⁺¹) − y)
            budget = eta * dw2 / dt
            if relax == "paper":  # qⁿ⁺¹ = ξq̂ + (1 − ξ)q̃,  ‖qⁿ⁺¹‖² − ‖q̂‖² ≤ budget
                xi0 = xi_quadratic_vector(q_hat, q_tilde, budget)
                q_new = xi0 * q_hat + (1.0 - xi0) * q_tilde
            else:  # jzz: qⁿ⁺¹ = ξq̃ + (1 − ξ)q̂,  ‖qⁿ⁺¹‖² − ‖q̃‖² ≤ budget
                xi0 = xi_quadratic_vector(q_tilde, q_hat, budget)
                q_new = xi0 * q_tilde + (1.0 - xi0) * q_hat

        qq_new = xp.vecdot(q_new, q_new)
        check_finite_scalars(
            name,
            [("‖qⁿ‖²", qq), ("trace JJᵀ", trace_G), ("‖qⁿ⁺¹‖²", qq_new), ("‖Δw‖²", dw2)],
        )
        info = StepInfo(
            loss=point.loss,
            energy=0.5 * qq_new,
            aux=xp.sqrt(qq_new),
            S=dw2 / (dt * dt),  # ‖Jᵀq̃‖²
            step_size=_step_size(dt, dw2),
            xi0=xi0,
        )
        return w_new, IEQState(q=q_new), info

    return Scheme(
        name=name,
        init=_init(q_scale),
        step=step,
        hyperparams=dict(dt=dt, jacobian=jacobian, q=q_mode, q_scale=q_scale, relax=relax, eta=eta),
    )


# --------------------------------------------------------------------- Method B
def ieq_adaptive(dt: float, eps: float = 1e-8, q: str = "batch", q_scale: str = "paper") -> Scheme:
    r"""Adaptive IEQ (§2.2.5 Method B, with Lemma 2.1's meaning): O(n) per step, no J, no JJᵀ.

    Update, in the paper's notation::

        αⁿ   = 1 / (1 + Δt·‖∇L‖²/(‖qⁿ‖² + ε))
        qⁿ⁺¹ = αⁿ·qⁿ
        wⁿ⁺¹ = wⁿ − Δt·αⁿ·∇L

    **Which ∇L.** Here L is the IEQ energy ½‖q(w)‖² of Theorem 2.4, so
    ∇L = Jᵀq(wⁿ) = s²·Jᵀ(f(wⁿ) − y), computed by one backward pass of the batch's residual
    (``point.vjp``). That is *not* ``point.grad`` in general: for MSE with
    ``q_scale="loss"`` the two are equal (½‖sq‖² is the MSE), with ``q_scale="paper"``
    ∇L = (B·k/2)·``point.grad``; for cross-entropy ∇L is the gradient of the quadratic
    surrogate, not of the cross-entropy (``test_adaptive_gradient_is_the_ieq_gradient``).
    Only then does Theorem 2.4's scheme wⁿ⁺¹ = wⁿ − Δt·qⁿ⁺¹·gⁿ take this form
    (Δt·αⁿ·∇L = Δt·(αⁿqⁿ)·g = Δt·qⁿ⁺¹·g).

    **The ratio (E5).** §2.2.5 writes "‖∇_wL‖² ≈ ‖∇_wL‖²/‖q‖²", whose left side is a typo:
    Lemma 2.1 says ‖g‖² ≈ ‖∇_wL‖²/‖q‖², g = ∇_w f. So ‖∇L‖²/‖qⁿ‖² stands for ‖g‖² and αⁿ is
    Method A's factor 1/(1 + Δt‖g‖²) with JJᵀ replaced by that scalar. The estimate is
    exact for one sample with one output (then this scheme *is* Method A, for ε = 0:
    ``test_adaptive_equals_full_jacobian_for_one_output``). For B·k > 1 it is the Rayleigh
    quotient qᵀ(JJᵀ)q/qᵀq, which lies in [λ_min, λ_max] of JJᵀ and is in general neither
    ‖J‖_F² = Σᵢ‖gᵢ‖² nor the mean per-row ‖gᵢ‖² (``test_lemma_2_1_batch_is_approximate``).

    **Carried q.** With ``q="carried"`` qⁿ (in α and the recurrence) is the previous qⁿ⁺¹
    while ∇L is still the gradient at wⁿ on the batch, as the paper writes ∇_wL(wⁿ): q then
    acts as a scalar energy like SAV's r (qⁿ⁺¹ = αⁿqⁿ only rescales q, so q keeps the
    direction of q⁰ forever; using Jᵀqⁿ for ∇L would descend ⟨q⁰, f(w)⟩ instead of the loss).
    The two modes agree on the first step.

    Parameters
    ----------
    dt : float > 0
        Δt.
    eps : float >= 0
        ε, in the units of ‖q‖² (scaled by s² with ``q_scale="loss"``). ε = 0 is allowed (the
        exact Lemma 2.1 ratio); then 0/0 (q = 0 and ∇L = 0, a perfect fit) is read as
        ratio 0 (α = 1, a zero step), and ∇L ≠ 0 with q = 0 (carried mode only) as ratio ∞
        (α = 0, a zero step): no NaN either way (``test_adaptive_zero_residual``).
    q : {"batch", "carried"}
        Where qⁿ comes from (module docstring, E6).
    q_scale : {"paper", "loss"}
        Units of q; ``"loss"`` equals ``"paper"`` with Δt·s² and ε/s².

    Returns
    -------
    Scheme
        StepInfo: loss = L(wⁿ), energy = ½‖qⁿ⁺¹‖², aux = ‖qⁿ⁺¹‖, S = ‖∇L‖²/(‖qⁿ‖² + ε) (the
        estimate of ‖g‖²), step_size = Δt·αⁿ ∈ (0, Δt], xi0 = None.

    Guarantees: 0 < αⁿ ≤ 1 (αⁿ = 0 only for the degenerate ε = 0, q = 0 case above), so
    ‖qⁿ⁺¹‖ ≤ ‖qⁿ‖ for every Δt > 0 (``test_adaptive_bounds``). There is no exact energy
    identity: ‖qⁿ⁺¹‖ is not ‖f(wⁿ⁺¹) − y‖, and L(w) may rise (E12).
    """
    name = "ieq_adaptive"
    dt = require_positive("dt", dt, name)
    eps = require_nonnegative("eps", eps, name)
    q_mode = require_choice("q", q, Q_MODES, name)
    q_scale = require_choice("q_scale", q_scale, Q_SCALES, name)

    def step(problem, w, state, batch):
        xp = namespace(w)
        point = problem.at(w, batch)
        s = _scale(problem, batch, q_scale)
        residual = _scaled(point.residual, s)  # q(wⁿ) on this batch
        q_n = _start_q(point, state, s, q_mode, name)

        grad = _scaled(point.vjp(residual), s)  # ∇L = (sJ)ᵀ(s(f − y)): one backward pass
        gg = xp.vecdot(grad, grad)
        qq = xp.vecdot(q_n, q_n)
        den = qq + eps
        positive = den > 0
        # ‖g‖² ≈ ‖∇L‖²/(‖q‖² + ε) (Lemma 2.1); with ε = 0 and q = 0: 0/0 → 0, x/0 → ∞.
        ratio = xp.where(
            positive,
            gg / xp.where(positive, den, xp.ones_like(den)),
            xp.where(gg > 0, xp.full_like(gg, math.inf), xp.zeros_like(gg)),
        )
        alpha = 1.0 / (1.0 + dt * ratio)
        q_new = alpha * q_n  # qⁿ⁺¹ = αⁿqⁿ
        step_size = dt * alpha
        dw = -step_size * grad  # wⁿ⁺¹ − wⁿ = −Δt·αⁿ·∇L
        w_new = w + dw

        qq_new = xp.vecdot(q_new, q_new)
        check_finite_scalars(
            name,
            [("‖∇L‖²", gg), ("‖qⁿ‖²", qq), ("‖qⁿ⁺¹‖²", qq_new), ("‖Δw‖²", xp.vecdot(dw, dw))],
        )
        info = StepInfo(loss=point.loss, energy=0.5 * qq_new, aux=xp.sqrt(qq_new), S=ratio, step_size=step_size)
        return w_new, IEQState(q=q_new), info

    return Scheme(
        name=name,
        init=_init(q_scale),
        step=step,
        hyperparams=dict(dt=dt, eps=eps, q=q_mode, q_scale=q_scale),
    )
