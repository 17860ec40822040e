"""gfref — a reference implementation of energy-stable gradient-flow optimizers.

The paper: "Efficient and Stable Gradient Flow Methods for Deep Learning" (SGD, Adam, SAV,
ExpSAV, IEQ and their relaxed variants on a one-hidden-layer ReLU network).

Quick start::

    import gfref
    model = gfref.MLP(d=40, m=1000, k=1)
    problem = gfref.Problem(model, gfref.MSE())
    point = problem.at(model.init(seed=0), gfref.Batch(X, y))   # X: (B, 40), y: (B, 1)
    point.loss, point.grad

Importing gfref loads NumPy and array-api-compat only; plotting, data and CuPy load on use.
"""

from .backend import Backend, BackendError, get_backend, namespace, to_numpy
from .losses import CrossEntropy, MSE, get_loss
from .mlp import MLP
from .problem import Batch, NonFiniteError, Point, Problem
from . import schemes

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendError",
    "Batch",
    "CrossEntropy",
    "MLP",
    "MSE",
    "NonFiniteError",
    "Point",
    "Problem",
    "get_backend",
    "get_loss",
    "namespace",
    "schemes",
    "to_numpy",
]
