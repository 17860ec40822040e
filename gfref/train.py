"""The training loop: seeded mini-batches, any scheme, any backend, one history per run.

Data flows one way: a host data set (:class:`gfref.data.Dataset`) is moved to the backend
once; each epoch draws a seeded permutation on the host, takes the mini-batches with
``xp.take`` and hands them to the scheme; after every epoch the train and test loss (and
accuracy) are evaluated on the full sets, the same way for every scheme. The loop never
knows a scheme's formulas: it only calls ``scheme.init`` and ``scheme.step``.

Divergence is a result, not a crash: when a step raises :class:`NonFiniteStepError` or an
evaluated loss is not finite, the run stops, keeps its history up to that point and is
recorded as diverged at that epoch.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from typing import Any, Callable

import numpy as np

from .backend import Backend, to_numpy
from .problem import Batch, NonFiniteError, Problem, check_finite
from .schemes.base import NonFiniteStepError, Scheme

HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "test_loss",
    "train_accuracy",
    "test_accuracy",
    "step_time_s",
    "batch_loss",
    "energy",
    "aux",
    "S",
    "step_size",
    "xi0",
)
# Per-epoch summaries of the scheme's StepInfo: the batch loss and step size averaged over
# the epoch's steps, the energy and auxiliary variable as they stand at the epoch's end.
_MEAN_FIELDS = ("batch_loss", "S", "step_size", "xi0")
_LAST_FIELDS = ("energy", "aux")


@dataclasses.dataclass
class RunResult:
    """A finished (or diverged) run: per-epoch rows, a status, the time of the steps alone."""

    history: list[dict]
    status: str = "finished"  # or "diverged"
    diverged_epoch: int | None = None
    message: str = ""
    step_time_s: float = 0.0
    n_steps: int = 0
    w: Any = None

    def summary(self) -> dict:
        last = self.history[-1] if self.history else {}
        finite_rows = [r for r in self.history if _finite(r.get("test_loss"))]
        final = finite_rows[-1] if finite_rows else {}
        return {
            "status": self.status,
            "diverged_epoch": self.diverged_epoch,
            "message": self.message,
            "epochs_run": int(last.get("epoch", 0)),
            "final": {key: final.get(key) for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")},
            "step_time_s": self.step_time_s,
            "n_steps": self.n_steps,
            "time_per_step_s": self.step_time_s / self.n_steps if self.n_steps else None,
        }


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def evaluate(problem: Problem, w, X, y, chunk: int = 8192) -> tuple[float, float | None]:
    """Loss (and accuracy for classification) of ``w`` on the whole set (X, y), in chunks."""
    n = X.shape[0]
    total_loss, total_acc = 0.0, 0.0
    classify = problem.loss.task == "classification"
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        f = problem.model(w, X[start:stop, ...])  # outputs only: no derivative cache
        y_chunk = problem.loss.check_targets(f, y[start:stop, ...])
        total_loss += float(to_numpy(problem.loss.value(f, y_chunk))) * (stop - start)
        if classify:
            total_acc += float(to_numpy(problem.loss.accuracy(f, y_chunk))) * (stop - start)
    return total_loss / n, (total_acc / n if classify else None)


def batches(n: int, batch_size: int, rng: np.random.Generator):
    """Index arrays of one shuffled epoch; the last batch holds the remainder."""
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def train(
    problem: Problem,
    scheme: Scheme,
    data,
    *,
    backend: Backend,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    w0=None,
    on_epoch: Callable[[dict], None] | None = None,
    progress: bool | None = None,
    label: str = "",
) -> RunResult:
    """Train ``problem`` with ``scheme`` on ``data`` (a :class:`gfref.data.Dataset`).

    Parameters
    ----------
    epochs, batch_size : int
        Passes over the training set and the mini-batch size (the last batch is smaller when
        the set does not divide evenly).
    seed : int
        Seeds the initial weights (when ``w0`` is None) and the mini-batch order.
    on_epoch : callable, optional
        Called with each history row as soon as it is complete (the results writer saves it).
    progress : bool, optional
        A one-line progress display on stderr; by default only when stderr is a terminal.

    Returns
    -------
    RunResult
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0; got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    xp = backend.xp
    label_dtype = "int64" if problem.loss.task == "classification" else None
    X_train, X_test = backend.asarray(data.X_train), backend.asarray(data.X_test)
    y_train = backend.asarray(data.y_train, dtype=label_dtype)
    y_test = backend.asarray(data.y_test, dtype=label_dtype)
    for name, arr in (("X_train", X_train), ("X_test", X_test), ("y_train", y_train), ("y_test", y_test)):
        if label_dtype is None or name.startswith("X"):
            check_finite(arr, f"data.{name}")
    # The data were checked once above; the per-batch check would cost a sync per step.
    problem = dataclasses.replace(problem, check_finite=False)
    w = problem.model.init(seed=seed, backend=backend) if w0 is None else w0
    rng = np.random.default_rng(seed)
    n_train = X_train.shape[0]
    show = sys.stderr.isatty() if progress is None else progress

    result = RunResult(history=[])

    def record(epoch: int, infos: dict) -> bool:
        """Evaluate, append the epoch's row; False when the run has diverged."""
        train_loss, train_acc = evaluate(problem, w, X_train, y_train)
        test_loss, test_acc = evaluate(problem, w, X_test, y_test)
        row = {"epoch": epoch, "train_loss": train_loss, "test_loss": test_loss,
               "train_accuracy": train_acc, "test_accuracy": test_acc, "step_time_s": result.step_time_s}
        row.update(_summarise(infos))
        result.history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if show:
            print(f"\r{label} epoch {epoch}/{epochs}  train {train_loss:.3e}  test {test_loss:.3e}", end="", file=sys.stderr)
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
            result.status, result.diverged_epoch = "diverged", epoch
            result.message = f"the loss turned non-finite at epoch {epoch} (train {train_loss}, test {test_loss})"
            return False
        return True

    # A diverging run overflows on purpose; its NaNs are caught below, not warned about.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            first = min(batch_size, n_train)
            state = scheme.init(problem, w, Batch(X_train[:first, ...], y_train[:first, ...]))
            alive = record(0, {})
            for epoch in range(1, epochs + 1):
                if not alive:
                    break
                infos = []
                start = time.perf_counter()
                try:
                    for idx in batches(n_train, batch_size, rng):
                        idx_dev = backend.asarray(idx, dtype="int64")
                        batch = Batch(xp.take(X_train, idx_dev, axis=0), xp.take(y_train, idx_dev, axis=0))
                        w, state, info = scheme.step(problem, w, state, batch)
                        infos.append(info)
                        result.n_steps += 1
                    stacked = _stack(infos, xp)  # one device→host copy per epoch, inside the timer (GPU sync)
                finally:
                    result.step_time_s += time.perf_counter() - start
                alive = record(epoch, stacked)
        except (NonFiniteStepError, NonFiniteError, FloatingPointError) as exc:
            result.status = "diverged"
            result.diverged_epoch = len(result.history)
            result.message = str(exc)
    if show:
        print(file=sys.stderr)
    result.w = w
    return result


def _stack(infos: list, xp) -> dict:
    """StepInfo fields of an epoch as host arrays (one transfer per field)."""
    if not infos:
        return {}
    out = {}
    for field in infos[0]._fields:
        values = [getattr(info, field) for info in infos]
        if any(v is None for v in values):
            continue
        out[field] = to_numpy(xp.stack([xp.asarray(v) for v in values]))
    return out


def _summarise(stacked: dict) -> dict:
    row = {}
    sources = {"batch_loss": "loss", "S": "S", "step_size": "step_size", "xi0": "xi0", "energy": "energy", "aux": "aux"}
    for column, field in sources.items():
        values = stacked.get(field)
        if values is None or len(values) == 0:
            row[column] = None
        elif column in _MEAN_FIELDS:
            row[column] = float(np.mean(values))
        else:
            row[column] = float(values[-1])
    return row
