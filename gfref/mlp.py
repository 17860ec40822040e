r"""The paper's network (§2.1): f(x; w) = aᵀ σ(Wᵀ [x; 1]), written by hand.

Shapes, for a batch of B inputs of size d, width m and k outputs:

=========  ==============  ==================================================
symbol     shape           meaning
=========  ==============  ==================================================
X          (B, d)          inputs, one per row
X̃          (B, d+1)        inputs with a trailing 1 (the bias "feature")
W          (d+1, m)        first layer; its last row is the bias
Z = X̃W     (B, m)          pre-activations
S = σ(Z)   (B, m)          hidden activations (ReLU)
D = σ'(Z)  (B, m)          0/1 mask of the active units
a          (m, k)          second layer
f = S a    (B, k)          outputs
=========  ==============  ==================================================

The parameters live in one flat vector w = [W.ravel(), a.ravel()] (C order) of length
n = (d+1)·m + m·k, the layout of the paper's published code; :meth:`MLP.unpack` returns
views into it.

Derivatives, each beside the forward rule it differentiates (as in micrograd):

* forward      f = σ(X̃W) a
* vjp  (Jᵀv)   ∂a = Sᵀ V,           ∂W = X̃ᵀ ((V aᵀ) ∘ D)          for V = v reshaped (B, k)
* jvp  (J u)   J u = ((X̃ δW) ∘ D) a + S δa                        for u = [δW, δa]
* Jacobian     ∂f_ic/∂W_jh = x̃_ij D_ih a_hc,   ∂f_ic/∂a_hc' = δ_cc' S_ih
* Gram (JJᵀ)   JJᵀ[(i,c),(i',c')] = (X̃X̃ᵀ)_ii' (VVᵀ)[(i,c),(i',c')] + δ_cc' (SSᵀ)_ii'
               with V[(i,c), h] = D_ih a_hc   (k = 1: (X̃X̃ᵀ)∘(UUᵀ) + SSᵀ, U = D·diag(a))

Rows of J (and of JJᵀ) are ordered (sample i, output c) with the sample index outer, so
``f.reshape(-1)`` lines up with them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

from .backend import Backend, get_backend, namespace


class Cache(NamedTuple):
    """What the forward pass keeps for the backward pass."""

    Xt: Any  # (B, d+1) inputs with the bias column
    D: Any  # (B, m)   σ'(Z), 1 where a unit is active
    S: Any  # (B, m)   σ(Z)
    a: Any  # (m, k)   second layer (a view into w)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclasses.dataclass(frozen=True)
class MLP:
    """One hidden ReLU layer: f(x; w) = aᵀσ(Wᵀ[x; 1]) (§2.1).

    Parameters
    ----------
    d : int
        Input size (40 in Experiments 1–3, 784 for MNIST).
    m : int
        Hidden width (1000 in Experiments 1–3, 100 for MNIST).
    k : int
        Number of outputs (1 for regression, 10 for MNIST).
    """

    d: int
    m: int
    k: int = 1

    def __post_init__(self):
        for name in ("d", "m", "k"):
            value = getattr(self, name)
            _require(
                isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                f"MLP: {name} must be an integer >= 1; got {value!r}",
            )

    @property
    def n(self) -> int:
        """Parameter count n = (d+1)·m + m·k."""
        return (self.d + 1) * self.m + self.m * self.k

    # ---------------------------------------------------------------- parameters
    def unpack(self, w):
        """Views ``W`` (d+1, m) and ``a`` (m, k) into the flat parameter vector ``w``."""
        self._check_w(w)
        xp = namespace(w)
        split = (self.d + 1) * self.m
        W = xp.reshape(w[:split], (self.d + 1, self.m))
        a = xp.reshape(w[split:], (self.m, self.k))
        return W, a

    def pack(self, W, a):
        """The flat vector [W.ravel(), a.ravel()] (a copy)."""
        xp = namespace(W, a)
        _require(tuple(W.shape) == (self.d + 1, self.m), f"W must have shape {(self.d + 1, self.m)}; got {tuple(W.shape)}")
        _require(tuple(a.shape) == (self.m, self.k), f"a must have shape {(self.m, self.k)}; got {tuple(a.shape)}")
        return xp.concat([xp.reshape(W, (-1,)), xp.reshape(a, (-1,))])

    def init(self, seed: int = 0, backend: Backend | str = "numpy", dtype: str | None = None):
        """Kaiming/He-normal parameters, as PyTorch's ``kaiming_normal_`` with fan-in mode.

        W ~ N(0, 2/(d+1)) and a ~ N(0, 2/m), drawn on the host with ``default_rng(seed)`` so
        every backend starts from the same w.
        """
        if isinstance(backend, str):
            backend = get_backend(backend, dtype or "float64")
        elif dtype is not None:
            backend = get_backend(backend.name, dtype)
        import numpy as np

        rng = np.random.default_rng(seed)
        W = math.sqrt(2.0 / (self.d + 1)) * rng.standard_normal((self.d + 1, self.m))
        a = math.sqrt(2.0 / self.m) * rng.standard_normal((self.m, self.k))
        return backend.asarray(np.concatenate([W.ravel(), a.ravel()]))

    # ------------------------------------------------------------------ forward
    def forward(self, w, X):
        """Outputs f (B, k) and the :class:`Cache` the derivatives need."""
        W, a = self.unpack(w)
        self._check_X(X, w)
        xp = namespace(w, X)
        ones = xp.ones((X.shape[0], 1), dtype=X.dtype)
        Xt = xp.concat([X, ones], axis=1)
        S = Xt @ W  # Z, turned into σ(Z) in place below
        D = xp.astype(S > 0, S.dtype)
        # σ(Z) = Z·σ'(Z), in place: one fresh (B, m) array fewer, and Z itself is not needed again.
        S *= D
        return S @ a, Cache(Xt, D, S, a)

    def __call__(self, w, X):
        """f(X; w) alone, without what the derivatives need (cheaper than :meth:`forward`)."""
        W, a = self.unpack(w)
        self._check_X(X, w)
        xp = namespace(w, X)
        Xt = xp.concat([X, xp.ones((X.shape[0], 1), dtype=X.dtype)], axis=1)
        return xp.maximum(Xt @ W, 0.0) @ a  # σ = ReLU (xp.clip is a slow masked copy in array-api-compat)

    # ---------------------------------------------------------------- backward
    def vjp(self, cache: Cache, v):
        """Jᵀv for a cotangent ``v`` on the outputs, shape (B, k) or (B·k,).

        With v = ∂ℓ/∂f this is the gradient ∇_w ℓ (the backward pass).
        """
        xp = namespace(cache.S, v)
        V = self._as_outputs(v, cache)
        grad_a = cache.S.T @ V  # ∂f/∂a = S
        if self.k == 1:
            # ∂W_jh = Σ_i x̃_ij V_i a_h D_ih = a_h · ((X̃ ∘ V)ᵀ D)_jh: the same sum, grouped so
            # that no (B, m) array is formed (for k = 1, V aᵀ is an outer product, and forming
            # it and masking it by D cost about as much as the product with X̃ᵀ that follows).
            grad_W = ((cache.Xt * V).T @ cache.D) * cache.a.T
        else:
            grad_Z = V @ cache.a.T  # back through a ...
            grad_Z *= cache.D  # ... then through σ (in place, as in forward)
            grad_W = cache.Xt.T @ grad_Z
        return xp.concat([xp.reshape(grad_W, (-1,)), xp.reshape(grad_a, (-1,))])

    def jvp(self, cache: Cache, u):
        """J u (shape (B·k,)) for a parameter direction ``u`` of length n."""
        xp = namespace(cache.S, u)
        dW, da = self.unpack(u)
        dZ = cache.Xt @ dW
        out = (dZ * cache.D) @ cache.a + cache.S @ da
        return xp.reshape(out, (-1,))

    def jacobian(self, cache: Cache):
        """The explicit Jacobian J = ∂f/∂w, shape (B·k, n): the reference path.

        Memory is B·k·n numbers; prefer :meth:`gram`, :meth:`vjp` and :meth:`jvp`.
        """
        xp = namespace(cache.S)
        B, k, m, d1 = cache.S.shape[0], self.k, self.m, self.d + 1
        # ∂f_ic/∂W_jh = x̃_ij · D_ih · a_hc  →  (B, k, d+1, m)
        V = cache.D[:, None, :] * cache.a.T[None, :, :]  # (B, k, m): D_ih a_hc
        JW = cache.Xt[:, None, :, None] * V[:, :, None, :]
        # ∂f_ic/∂a_hc' = δ_cc' · S_ih  →  (B, k, m, k)
        eye = xp.eye(k, dtype=cache.S.dtype)
        Ja = cache.S[:, None, :, None] * eye[None, :, None, :]
        return xp.concat([xp.reshape(JW, (B * k, d1 * m)), xp.reshape(Ja, (B * k, m * k))], axis=1)

    def gram(self, cache: Cache):
        """J Jᵀ (B·k, B·k) from the layer structure, without forming J (DESIGN §6).

        JJᵀ[(i,c),(i',c')] = (X̃X̃ᵀ)_ii' · (VVᵀ)[(i,c),(i',c')] + δ_cc' · (SSᵀ)_ii',
        V[(i,c), h] = D_ih a_hc. Cost O((Bk)²m + B²d) instead of O((Bk)²n).
        """
        xp = namespace(cache.S)
        B, k = cache.S.shape[0], self.k
        K = cache.Xt @ cache.Xt.T  # (B, B)
        H = cache.S @ cache.S.T  # (B, B)
        if k == 1:
            U = cache.D * cache.a[:, 0][None, :]  # (B, m)
            G = U @ U.T
            G *= K  # in place, as for k > 1 below
            G += H
            return G
        V = xp.reshape(cache.D[:, None, :] * cache.a.T[None, :, :], (B * k, self.m))
        G = xp.reshape(V @ V.T, (B, k, B, k))
        G *= K[:, None, :, None]  # in place: (B·k)² entries, 52 MB for MNIST at B = 256
        for c in range(k):  # + δ_cc' H: H on the k diagonal blocks
            G[:, c, :, c] += H
        return xp.reshape(G, (B * k, B * k))

    # --------------------------------------------------------------- validation
    def _check_w(self, w) -> None:
        _require(getattr(w, "ndim", None) == 1, f"w must be a flat vector of length n={self.n}; got shape {getattr(w, 'shape', type(w))}")
        _require(w.shape[0] == self.n, f"w must have length n=(d+1)·m+m·k={self.n}; got {w.shape[0]}")

    def _check_X(self, X, w) -> None:
        _require(getattr(X, "ndim", None) == 2, f"X must have shape (B, d={self.d}); got shape {getattr(X, 'shape', type(X))}")
        _require(X.shape[1] == self.d, f"X must have shape (B, d={self.d}); got {tuple(X.shape)}")
        _require(X.shape[0] >= 1, "X must hold at least one sample (B >= 1)")
        _require(X.dtype == w.dtype, f"X and w must share a dtype; got X {X.dtype} and w {w.dtype}")

    def _as_outputs(self, v, cache: Cache):
        xp = namespace(v)
        B = cache.S.shape[0]
        if v.ndim == 1:
            _require(v.shape[0] == B * self.k, f"v must have length B·k={B * self.k}; got {v.shape[0]}")
            return xp.reshape(v, (B, self.k))
        _require(tuple(v.shape) == (B, self.k), f"v must have shape (B, k)={(B, self.k)}; got {tuple(v.shape)}")
        return v
