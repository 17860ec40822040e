"""Data sets of the paper's four experiments (§3.2–§3.5), as NumPy arrays on the host.

>>> from gfref.data import load
>>> ds = load("sine_cosine", seed=0)             # Experiment 1, §3.2.1
>>> ds.X_train.shape, ds.y_train.shape
((8000, 40), (8000, 1))
>>> load("mnist").X_test.shape                    # Experiment 4, the shipped subsample
(2000, 784)

Modules: :mod:`~gfref.data.synthetic` (the :class:`Dataset` container and Experiments 1–3),
:mod:`~gfref.data.mnist` (the IDX reader and the shipped MNIST subsample),
:mod:`~gfref.data.errors` (:class:`DataError`).
"""

from __future__ import annotations

from . import mnist, synthetic
from .errors import DataError
from .mnist import load_mnist, load_mnist_dir, read_idx
from .synthetic import Dataset, gaussian, quadratic, sine_cosine

__all__ = [
    "DataError", "Dataset", "NAMES", "load", "sine_cosine", "quadratic", "gaussian",
    "load_mnist", "load_mnist_dir", "read_idx",
]

_LOADERS = {
    "sine_cosine": sine_cosine,  # Experiment 1, §3.2.1
    "quadratic": quadratic,      # Experiment 2, §3.3.1
    "gaussian": gaussian,        # Experiment 3, §3.4.1
    "mnist": load_mnist,         # Experiment 4, §3.5.1
}
NAMES = tuple(_LOADERS)


def load(name: str, seed: int = 0, **kw) -> Dataset:
    """Load a data set of the paper by name.

    Parameters
    ----------
    name : {"sine_cosine", "quadratic", "gaussian", "mnist"}
        Experiments 1–4 (§3.2.1, §3.3.1, §3.4.1, §3.5.1).
    seed : int, default 0
        Seed of the synthetic generators, or of MNIST's random subsample.
    **kw
        Passed on: ``n_samples``, ``n_train``, ``dim`` for the synthetic sets (see
        :func:`sine_cosine`); ``path`` and ``subsample`` for MNIST (see :func:`load_mnist`):
        ``load("mnist")`` is the shipped 8,000 / 2,000 subsample, ``load("mnist", path=DIR)``
        draws the same kind of subsample from the full MNIST in ``DIR``, and
        ``subsample=None`` keeps all images.

    Returns
    -------
    Dataset
    """
    try:
        loader = _LOADERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown data set {name!r}; expected one of {NAMES}") from None
    return loader(seed=seed, **kw)
