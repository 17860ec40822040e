"""One array namespace for NumPy, CuPy and any array-API library.

Every numerical function in gfref takes arrays and asks them for their namespace
(``xp = namespace(x)``), so the same scheme code runs on NumPy on the CPU, on CuPy on a
GPU and on ``array_api_strict`` in the tests. This module is the only place that knows
which library is behind ``xp``:

* :func:`get_backend` turns a name (``"numpy"``, ``"cupy"``, ``"array_api_strict"``) and a
  dtype name (``"float64"`` default, ``"float32"``) into a :class:`Backend`;
* :meth:`Backend.asarray` and :meth:`Backend.normal` move host data and host-drawn
  randomness to the device (the array-API standard has no random module, so randomness is
  always drawn by ``numpy.random.default_rng`` on the host: the same seed gives the same
  numbers on every backend);
* :func:`to_numpy` brings any array back to the host;
* :func:`spd_solve` solves a symmetric positive definite system with a Cholesky
  factorisation where the library offers one.

Nothing here imports CuPy or array_api_strict until it is asked for, so ``import gfref``
stays light.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_cupy_array, is_numpy_array

BACKENDS = ("numpy", "cupy", "array_api_strict")
DTYPES = ("float64", "float32")


class BackendError(ValueError):
    """An array backend or dtype was asked for that is unknown or unavailable here."""


def namespace(*arrays: Any):
    """The array-API namespace of ``arrays`` (all must come from one library)."""
    return array_namespace(*arrays)


@dataclasses.dataclass(frozen=True)
class Backend:
    """An array library and a floating dtype, with host↔device moves.

    Parameters
    ----------
    name : str
        One of :data:`BACKENDS`.
    xp : module
        The array-API compatible namespace (``array_api_compat.numpy`` for NumPy).
    dtype_name : str
        ``"float64"`` or ``"float32"``.
    """

    name: str
    xp: Any
    dtype_name: str = "float64"

    @property
    def dtype(self):
        return getattr(self.xp, self.dtype_name)

    def asarray(self, x, dtype=None):
        """Move host data ``x`` to this backend, as floats of the backend's dtype by default.

        Integer data (labels, indices) keeps an integer dtype when ``dtype="int64"``.
        """
        if dtype is None:
            dtype = self.dtype
        elif isinstance(dtype, str):
            dtype = getattr(self.xp, dtype)
        host = np.asarray(x)
        return self.xp.asarray(host, dtype=dtype)

    def normal(self, seed_or_rng, shape, std=1.0):
        """Standard-normal draws scaled by ``std``, drawn on the host and moved here."""
        rng = seed_or_rng if isinstance(seed_or_rng, np.random.Generator) else np.random.default_rng(seed_or_rng)
        return self.asarray(std * rng.standard_normal(shape))

    def __str__(self) -> str:  # shows in results' config files
        return f"{self.name}/{self.dtype_name}"


def get_backend(name: str = "numpy", dtype: str = "float64") -> Backend:
    """The :class:`Backend` called ``name`` with floating dtype ``dtype``.

    Raises
    ------
    BackendError
        For an unknown name or dtype, when the library is not installed, or when CuPy finds
        no usable GPU.
    """
    if name not in BACKENDS:
        raise BackendError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}")
    if dtype not in DTYPES:
        raise BackendError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    if name == "numpy":
        import array_api_compat.numpy as xp
    elif name == "array_api_strict":
        try:
            xp = importlib.import_module("array_api_strict")
        except ImportError as exc:
            raise BackendError(
                "backend 'array_api_strict' needs the array-api-strict package "
                "(pip install array-api-strict, or the [test] extra)"
            ) from exc
    else:
        xp = _import_cupy()
    return Backend(name=name, xp=xp, dtype_name=dtype)


def _import_cupy():
    try:
        import cupy
    except ImportError as exc:
        raise BackendError(
            "backend 'cupy' needs CuPy and an NVIDIA GPU (pip install 'gfref[gpu]'); CuPy is not installed"
        ) from exc
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken: CuPy raises its own types
        raise BackendError(f"backend 'cupy': CuPy is installed but no GPU is usable ({exc})") from exc
    if n_devices < 1:
        raise BackendError("backend 'cupy': CuPy is installed but finds no GPU")
    import array_api_compat.cupy as xp

    return xp


def to_numpy(x) -> np.ndarray:
    """Copy (or view, for NumPy) any backend's array as a NumPy array on the host."""
    if is_numpy_array(x) or isinstance(x, (int, float, np.generic)):
        return np.asarray(x)
    if is_cupy_array(x):
        return x.get()
    return np.from_dlpack(x)


def to_float(x) -> float:
    """A 0-d array (or number) as a Python float; a host–device sync on a GPU."""
    return float(to_numpy(x))


def spd_solve(A, b, overwrite: bool = False):
    """Solve ``A x = b`` for symmetric positive definite ``A`` (a Cholesky solve).

    NumPy and CuPy factorise A = LLᵀ and solve two triangular systems (SciPy /
    cupyx.scipy); other array-API libraries fall back to their general ``linalg.solve``.
    ``b`` may be a vector or a matrix of right-hand sides. ``overwrite=True`` lets the
    factorisation reuse A's memory (NumPy; A then holds L): one (N, N) copy less.
    """
    if is_numpy_array(A):
        potrf, potrs = _lapack_cholesky(A.dtype.char)
        # LAPACK works on column-major storage, and the column-major view of a row-major A
        # is Aᵀ = A: factorising Aᵀ needs no copy. (SciPy's LAPACK, not NumPy's: NumPy's
        # Cholesky took twice as long for N = 2560 on the development machine; and the LAPACK
        # routines directly, since SciPy's wrappers cost as much as the solve for N = 64.)
        A_colmajor = A.T if A.flags.c_contiguous else A
        L, info = potrf(A_colmajor, lower=True, overwrite_a=overwrite, clean=False)
        if info == 0:
            x, info = potrs(L, b, lower=True)
        if info != 0:
            raise np.linalg.LinAlgError(f"spd_solve: A is not symmetric positive definite (LAPACK info {info})")
        return x
    if is_cupy_array(A):
        import cupy
        from cupyx.scipy.linalg import solve_triangular

        L = cupy.linalg.cholesky(A)
        return solve_triangular(L.T, solve_triangular(L, b, lower=True), lower=False)
    xp = namespace(A, b)
    if b.ndim == 1:
        return xp.linalg.solve(A, b[:, None])[:, 0]
    return xp.linalg.solve(A, b)


@functools.lru_cache(maxsize=None)
def _lapack_cholesky(dtype_char: str):
    from scipy.linalg.lapack import get_lapack_funcs

    return get_lapack_funcs(("potrf", "potrs"), dtype=np.dtype(dtype_char))


def backend_of(x) -> str:
    """The backend name of an array (for results' config files and error messages)."""
    if is_numpy_array(x):
        return "numpy"
    if is_cupy_array(x):
        return "cupy"
    return type(x).__module__.split(".")[0]
