"""The :class:`Dataset` container and the regression data of Experiments 1–3 (paper §3.2–§3.4).

Each generator follows the paper's recipe and is deterministic for a seed. The random numbers are
drawn from ``numpy.random.default_rng(seed)`` in a fixed order, documented per function:

1. the target's parameters (``p`` and ``q``, or ``c``), if any;
2. the inputs ``X`` of all ``n_samples`` samples, row by row;

and the first ``n_train`` rows become the training set, the rest the test set. Because the
parameters are drawn first, a smaller quick-mode data set (``n_samples=1000``) with the same seed
and ``dim`` has the *same* target function as the paper-sized one, and, since NumPy's generators
fill arrays in order, its inputs are the first rows of the paper-sized inputs.

The paper (§3.1) does not give its seeds or its draw order, so these data sets are samples from the
same distributions, not the paper's own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .errors import check_int

__all__ = ["Dataset", "sine_cosine", "quadratic", "gaussian"]

TASKS = ("regression", "classification")


def _frozen(a: Any, dtype: type) -> np.ndarray:
    """``a`` as a read-only array of ``dtype``, without touching the caller's array flags."""
    out = np.asarray(a, dtype=dtype).view()  # a view, so that freezing it leaves ``a`` writable
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)  # eq=False: "==" on arrays is ambiguous, identity hashing is not
class Dataset:
    """A train/test split, immutable so that one data set can be shared by all six schemes.

    Parameters
    ----------
    X_train, X_test : ndarray of float64, shape (N, D)
        Inputs, one sample per row. Stored as read-only float64 arrays.
    y_train, y_test : ndarray
        Regression targets: float64, shape (N, 1) (one output, as the network's ``f`` has shape
        (N, k) with k = 1). Classification labels: int64, shape (N,), values ``0 .. n_classes-1``.
    name : str
        ``"sine_cosine"``, ``"quadratic"``, ``"gaussian"``, ``"mnist"`` or a name of your own.
    task : {"regression", "classification"}
        Selects the loss the experiments use: MSE or softmax cross-entropy (§2.1).
    info : dict
        Provenance: the seed, the drawn target parameters, the source, the paper section, ...

    Notes
    -----
    ``eq=False``: two data sets compare equal only if they are the same object; compare arrays
    with ``np.array_equal`` instead.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str
    task: str
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        classify = self.task == "classification"
        for split in ("train", "test"):
            X = _frozen(getattr(self, f"X_{split}"), np.float64)
            y = np.asarray(getattr(self, f"y_{split}"))
            if X.ndim != 2 or X.shape[0] == 0:
                raise ValueError(f"X_{split} must have shape (N, D) with N >= 1, got {X.shape}")
            if not np.all(np.isfinite(X)):  # a NaN here would surface far away as a NaN loss
                raise ValueError(f"X_{split} contains NaN or infinite values")
            if classify:
                if y.shape != (X.shape[0],) or y.dtype.kind not in "iu":
                    raise ValueError(
                        f"y_{split} of a classification set must be integer labels of shape "
                        f"({X.shape[0]},), got dtype {y.dtype} and shape {y.shape}"
                    )
                if y.min() < 0:
                    raise ValueError(f"y_{split} holds negative labels")
                y = _frozen(y, np.int64)
            else:
                if y.shape != (X.shape[0], 1):
                    raise ValueError(
                        f"y_{split} of a regression set must have shape ({X.shape[0]}, 1), "
                        f"got {y.shape}"
                    )
                y = _frozen(y, np.float64)
                if not np.all(np.isfinite(y)):
                    raise ValueError(f"y_{split} contains NaN or infinite values")
            object.__setattr__(self, f"X_{split}", X)  # frozen dataclass: bypass __setattr__
            object.__setattr__(self, f"y_{split}", y)
        if self.X_train.shape[1] != self.X_test.shape[1]:
            raise ValueError(
                f"X_train has {self.X_train.shape[1]} features but X_test has "
                f"{self.X_test.shape[1]}"
            )
        object.__setattr__(self, "info", dict(self.info))  # a private copy

    @property
    def dim(self) -> int:
        """Number of input features D (the network's ``d``)."""
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Number of network outputs k: 1 for regression, the number of classes otherwise."""
        if self.task == "regression":
            return 1
        return int(self.info.get("n_classes", max(self.y_train.max(), self.y_test.max()) + 1))

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first ``n_train`` training and ``n_test`` test samples (for quick modes).

        The samples of every data set here are in random order (i.i.d. draws, or a random
        permutation for MNIST), so the first ``n`` samples are themselves a random sample.
        ``None`` keeps a split whole. Index arrays in ``info`` (MNIST's ``train_indices`` and
        ``test_indices``) are cut the same way, so provenance stays correct.
        """
        n_tr = len(self.y_train) if n_train is None else check_int(
            "n_train", n_train, 1, len(self.y_train))
        n_te = len(self.y_test) if n_test is None else check_int(
            "n_test", n_test, 1, len(self.y_test))
        info = dict(self.info, subset={"n_train": n_tr, "n_test": n_te})
        for key, n in (("train_indices", n_tr), ("test_indices", n_te)):
            if key in info:
                info[key] = info[key][:n]
        return replace(
            self, X_train=self.X_train[:n_tr], y_train=self.y_train[:n_tr],
            X_test=self.X_test[:n_te], y_test=self.y_test[:n_te], info=info,
        )

    def summary(self) -> str:
        """A few lines describing sizes, value ranges and provenance, for logs and notebooks."""
        section = self.info.get("section", "")
        lines = [
            f"{self.name} ({self.task}{', ' + section if section else ''}): "
            f"{len(self.y_train)} train / {len(self.y_test)} test samples, D = {self.dim}",
            f"  x: min {self.X_train.min():.4g}, max {self.X_train.max():.4g}, "
            f"mean {self.X_train.mean():.4g}, std {self.X_train.std():.4g} (train)",
        ]
        if self.task == "regression":
            y = self.y_train
            lines.append(f"  y: min {y.min():.4g}, max {y.max():.4g}, "
                         f"mean {y.mean():.4g}, std {y.std():.4g} (train)")
        else:
            for split, y in (("train", self.y_train), ("test", self.y_test)):
                counts = np.bincount(y, minlength=self.n_outputs)
                lines.append(f"  {split} class counts: {' '.join(map(str, counts))}")
        if "seed" in self.info:
            lines.append(f"  seed {self.info['seed']}; source: {self.info.get('source', '?')}")
        return "\n".join(lines)


def _rng_and_sizes(seed, n_samples, n_train, dim):
    """Validate the common arguments; return the generator and the sizes as ints."""
    seed = check_int("seed", seed, 0)
    n_samples = check_int("n_samples", n_samples, 2)  # at least one train and one test sample
    n_train = check_int("n_train", n_train, 1, n_samples - 1)
    dim = check_int("dim", dim, 1)
    return np.random.default_rng(seed), n_samples, n_train, dim


def _regression(name, X, f, n_train, info) -> Dataset:
    """Split rows ``[:n_train]`` / ``[n_train:]`` and store ``f`` as an (N, 1) target."""
    y = f[:, None]
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:], name=name,
                   task="regression", info=info)


def sine_cosine(seed: int = 0, n_samples: int = 10_000, n_train: int = 8_000,
                dim: int = 40) -> Dataset:
    r"""Experiment 1 (§3.2.1): :math:`f^*(x) = \sin(p\cdot x) + \cos(q\cdot x)`.

    Parameters
    ----------
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; draws ``p``, then ``q``, then ``X``.
    n_samples, n_train : int, default 10,000 and 8,000
        Total samples and the size of the training split (the paper: 8,000 / 2,000).
    dim : int, default 40
        Input dimension D.

    Returns
    -------
    Dataset
        ``X ~ U(0, 1)^D``; ``y`` of shape (N, 1). ``info`` holds ``p``, ``q`` (shape (D,), drawn
        from N(0, I): the paper says only "randomly generated") and the seed.
    """
    rng, n_samples, n_train, dim = _rng_and_sizes(seed, n_samples, n_train, dim)
    p = rng.standard_normal(dim)
    q = rng.standard_normal(dim)
    X = rng.uniform(0.0, 1.0, size=(n_samples, dim))
    f = np.sin(X @ p) + np.cos(X @ q)
    info = {"seed": seed, "section": "§3.2.1", "source": "synthetic",
            "formula": "sin(p·x) + cos(q·x)", "x_distribution": "U(0, 1)^D",
            "p": _frozen(p, np.float64), "q": _frozen(q, np.float64)}
    return _regression("sine_cosine", X, f, n_train, info)


def quadratic(seed: int = 0, n_samples: int = 10_000, n_train: int = 8_000,
              dim: int = 40) -> Dataset:
    r"""Experiment 2 (§3.3.1): :math:`f^*(x) = \sum_i c_i x_i^2`.

    Parameters
    ----------
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; draws ``c``, then ``X``.
    n_samples, n_train : int, default 10,000 and 8,000
        Total samples and the size of the training split (the paper: 8,000 / 2,000).
    dim : int, default 40
        Input dimension D.

    Returns
    -------
    Dataset
        ``X ~ U(0, 5)^D``; ``y`` of shape (N, 1). ``info["c"]`` (shape (D,)) is drawn from
        N(0, I).

    Notes
    -----
    The targets are large: given ``c``, ``y`` has mean ``(25/3)·Σ c_i`` and standard deviation
    ``√(125 − 625/9)·‖c‖ ≈ 7.45·‖c‖`` (about 47 for D = 40), so the MSE of an untrained network
    is in the thousands (see DESIGN.md, E4, for what this does to ExpSAV's ``exp(L)``).
    """
    rng, n_samples, n_train, dim = _rng_and_sizes(seed, n_samples, n_train, dim)
    c = rng.standard_normal(dim)
    X = rng.uniform(0.0, 5.0, size=(n_samples, dim))
    f = (X * X) @ c
    info = {"seed": seed, "section": "§3.3.1", "source": "synthetic",
            "formula": "sum_i c_i x_i^2", "x_distribution": "U(0, 5)^D",
            "c": _frozen(c, np.float64)}
    return _regression("quadratic", X, f, n_train, info)


def gaussian(seed: int = 0, n_samples: int = 1_000, n_train: int = 800,
             dim: int = 40) -> Dataset:
    r"""Experiment 3 (§3.4.1): :math:`f^*(x) = \exp(-10\,\|x\|^2)`.

    Parameters
    ----------
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; draws ``X`` only (the target has no parameters).
    n_samples, n_train : int, default 1,000 and 800
        Total samples and the size of the training split (the paper: 800 / 200).
    dim : int, default 40
        Input dimension D.

    Returns
    -------
    Dataset
        ``X ~ N(0, 0.04 I)`` (standard deviation 0.2); ``y`` of shape (N, 1).

    Notes
    -----
    Taken literally, the recipe gives tiny targets: ``10‖x‖² = 0.4·χ²_D`` has mean ``0.4·D``
    (16 for D = 40) and standard deviation ``0.4·√(2D)`` (about 3.6), so the median ``y`` is
    about ``1.5e-7`` and only about 1.4 % of the samples have ``y > 1e-4`` (for D = 40). The data
    are generated as the paper states; keep this in mind when reading Experiment 3's loss values.
    """
    rng, n_samples, n_train, dim = _rng_and_sizes(seed, n_samples, n_train, dim)
    X = rng.normal(0.0, 0.2, size=(n_samples, dim))  # covariance 0.04 I  <=>  std 0.2
    f = np.exp(-10.0 * np.sum(X * X, axis=1))
    info = {"seed": seed, "section": "§3.4.1", "source": "synthetic",
            "formula": "exp(-10 ||x||^2)", "x_distribution": "N(0, 0.04 I)"}
    return _regression("gaussian", X, f, n_train, info)
