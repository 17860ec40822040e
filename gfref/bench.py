"""``gfref bench``: the schemes timed side by side in one run, reported as ratios.

Three measurements, all printed as ratios measured in the same process (absolute times
depend on the machine; ratios much less):

1. **Per-step cost at the same batch size** on Experiment 1 (d = 40, m = 1000, k = 1):
   each scheme's step against an SGD step at batch 256 (and full-Jacobian IEQ also at 64).
   The schemes are timed round-robin and the median per-step time is kept, so a slow
   moment of the machine hits every scheme alike. This is the "fair" Table 3.8.
2. **Structured Gram against the explicit Jacobian** for full-Jacobian IEQ on MNIST at
   batch 256 (k = 10: a 2560 × 2560 system; the explicit J has 2560 × 79 500 entries).
3. **Plain SGD epoch against PyTorch's CPU eager mode** (float64 and float32), when PyTorch
   is installed; PyTorch is never a dependency of gfref.

Memory: the persistent auxiliary memory of each scheme is the size of its state (what it
keeps between steps besides w); the transient peak is what ``tracemalloc`` sees allocated
during one step (NumPy reports its buffers to tracemalloc).

Threads: every part runs with the same number of BLAS threads (``threads``, default 1, as in
each worker of ``gfref reproduce --jobs``; PyTorch gets the same number), printed with the
results and saved in bench.json. One thread is the default because NumPy and SciPy each bring
their own OpenBLAS: with two threads each on a 2-core machine, SciPy's threads (the Cholesky
factorisation of full-Jacobian IEQ) and NumPy's (every other product) spin while the other
library works, and the steps timed after them took 2–5× longer, differently from run to run.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np

from . import schemes
from .backend import get_backend
from .experiments import EXP1, EXP4
from .losses import get_loss
from .mlp import MLP
from .problem import Batch, Problem

BENCH_RUNS = ("sgd", "adam", "sav", "expsav", "ieq_adaptive", "ieq", "sav_relaxed", "expsav_relaxed")


def _state_bytes(state) -> int:
    total = 0
    for value in (state if isinstance(state, tuple) else (state,)):
        if hasattr(value, "nbytes"):
            total += int(value.nbytes)
        elif isinstance(value, tuple):
            total += _state_bytes(value)
    return total


def _problem_and_batches(experiment, batch_size, n_batches, backend, seed=0):
    from . import data

    dataset = data.load(experiment.dataset, seed=seed)
    model = MLP(experiment.d, experiment.m, experiment.k)
    problem = Problem(model, get_loss(experiment.loss), check_finite=False)
    rng = np.random.default_rng(seed)
    label_dtype = "int64" if experiment.loss == "cross_entropy" else None
    X = backend.asarray(dataset.X_train)
    y = backend.asarray(dataset.y_train, dtype=label_dtype)
    batches = []
    for _ in range(n_batches):
        idx = backend.asarray(rng.choice(X.shape[0], size=batch_size, replace=False), dtype="int64")
        batches.append(Batch(backend.xp.take(X, idx, axis=0), backend.xp.take(y, idx, axis=0)))
    return problem, model.init(seed=seed, backend=backend), batches


def time_steps(entries, repeats: int, warm_up: bool = True) -> dict:
    """Median seconds per step for each (name → (scheme, problem, w, batches)), timed round-robin."""
    states = {}
    for name, (scheme, problem, w, batches) in entries.items():
        states[name] = [w, scheme.init(problem, w, batches[0])]
        if warm_up:  # caches, first-call costs
            scheme.step(problem, w, states[name][1], batches[0])
    times = {name: [] for name in entries}
    for r in range(repeats):
        for name, (scheme, problem, _, batches) in entries.items():
            w, state = states[name]
            batch = batches[r % len(batches)]
            start = time.perf_counter()
            w, state, info = scheme.step(problem, w, state, batch)
            float(info.loss)  # a GPU would sync here; on the CPU this is free
            times[name].append(time.perf_counter() - start)
            states[name] = [w, state]
    return {name: statistics.median(t) for name, t in times.items()}


def memory_of(scheme, problem, w, batch) -> tuple[int, int]:
    """(persistent state bytes, transient peak bytes during one step)."""
    state = scheme.init(problem, w, batch)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        scheme.step(problem, w, state, batch)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return _state_bytes(state), peak


def bench_steps(repeats: int = 50, batch_size: int = 256, dtype: str = "float64") -> dict:
    """Part 1: per-step time of every scheme at the same batch size on Experiment 1."""
    backend = get_backend("numpy", dtype)
    problem, w, batches = _problem_and_batches(EXP1, batch_size, 4, backend)
    entries = {}
    for run in BENCH_RUNS:
        spec = EXP1.run_spec(run)
        entries[run] = (schemes.get_scheme(spec.scheme, **spec.hyperparams), problem, w, batches)
    per_step = time_steps(entries, repeats)
    memory = {run: memory_of(entries[run][0], problem, w, batches[0]) for run in BENCH_RUNS}
    # Full-Jacobian IEQ at its own batch size (64) against SGD at 64.
    problem64, w64, batches64 = _problem_and_batches(EXP1, 64, 4, backend)
    spec = EXP1.run_spec("ieq")
    at64 = time_steps(
        {
            "sgd": (schemes.get_scheme("sgd", **EXP1.run_spec("sgd").hyperparams), problem64, w64, batches64),
            "ieq": (schemes.get_scheme("ieq", **spec.hyperparams), problem64, w64, batches64),
        },
        4 * repeats,  # steps at batch 64 are short: more of them for a stable median
    )
    return {
        "experiment": "exp1",
        "batch_size": batch_size,
        "dtype": dtype,
        "n_params": problem.model.n,
        "per_step_s": per_step,
        "ratio_to_sgd": {run: per_step[run] / per_step["sgd"] for run in per_step},
        "ieq_batch64": {"per_step_s": at64, "ratio_to_sgd": at64["ieq"] / at64["sgd"]},
        "aux_memory_bytes": {run: memory[run][0] for run in memory},
        "step_peak_bytes": {run: memory[run][1] for run in memory},
        "param_bytes": int(w.nbytes),
    }


def bench_gram_vs_explicit(batch_size: int = 256, repeats: int = 3) -> dict:
    """Part 2: full-Jacobian IEQ on MNIST, structured Gram against the explicit Jacobian."""
    backend = get_backend("numpy", "float64")
    problem, w, batches = _problem_and_batches(EXP4, batch_size, 1, backend)
    hp = dict(EXP4.run_spec("ieq").hyperparams)
    gram = time_steps({"gram": (schemes.get_scheme("ieq", **hp, jacobian="gram"), problem, w, batches)}, repeats)["gram"]
    # One explicit step, not warmed up: it forms a 2560 × 79 500 J and J Jᵀ (~1 TFLOP), which
    # first-call costs cannot affect, and it takes long enough as it is.
    explicit = time_steps({"explicit": (schemes.get_scheme("ieq", **hp, jacobian="explicit"), problem, w, batches)}, 1,
                          warm_up=False)["explicit"]
    return {"experiment": "exp4", "batch_size": batch_size, "system_size": batch_size * EXP4.k,
            "gram_s": gram, "explicit_s": explicit, "speedup": explicit / gram}


def bench_torch(dtype: str = "float64", epochs: int = 5, threads: int | None = None) -> dict | None:
    """Part 3: one plain SGD epoch of Experiment 1, gfref against PyTorch eager (None without PyTorch).

    ``threads`` sets PyTorch's intra-op threads for the measurement (None: PyTorch's default).
    """
    try:
        import torch
    except ImportError:
        return None
    saved_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _bench_torch(torch, dtype, epochs)
    finally:
        torch.set_num_threads(saved_threads)


def _bench_torch(torch, dtype: str, epochs: int) -> dict:
    from . import data
    from .train import batches as epoch_batches

    dataset = data.load("sine_cosine", seed=0)
    backend = get_backend("numpy", dtype)
    spec = EXP1.run_spec("sgd")
    model = MLP(EXP1.d, EXP1.m, EXP1.k)
    problem = Problem(model, get_loss("mse"), check_finite=False)
    X, y = backend.asarray(dataset.X_train), backend.asarray(dataset.y_train)
    sgd = schemes.get_scheme("sgd", **spec.hyperparams)

    def gfref_epoch(seed):
        w = model.init(seed=0, backend=backend)
        state = sgd.init(problem, w, Batch(X[:2], y[:2]))
        start = time.perf_counter()
        for idx in epoch_batches(X.shape[0], spec.batch_size, np.random.default_rng(seed)):
            w, state, _ = sgd.step(problem, w, state, Batch(np.take(X, idx, axis=0), np.take(y, idx, axis=0)))
        return time.perf_counter() - start

    torch_dtype = getattr(torch, dtype)
    Xt = torch.tensor(dataset.X_train, dtype=torch_dtype)  # a copy: the data set is read-only
    yt = torch.tensor(dataset.y_train, dtype=torch_dtype)

    def torch_epoch(seed):
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(EXP1.d, EXP1.m), torch.nn.ReLU(), torch.nn.Linear(EXP1.m, 1, bias=False)
        ).to(torch_dtype)
        opt = torch.optim.SGD(net.parameters(), lr=spec.hyperparams["lr"])
        loss_fn = torch.nn.MSELoss()
        start = time.perf_counter()
        for idx in epoch_batches(Xt.shape[0], spec.batch_size, np.random.default_rng(seed)):
            index = torch.as_tensor(idx)
            opt.zero_grad()
            loss = loss_fn(net(Xt[index]), yt[index])
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    ours, theirs = [], []
    for seed in range(epochs + 1):  # the first of each is a warm-up
        ours.append(gfref_epoch(seed))
        theirs.append(torch_epoch(seed))
    ours_s, theirs_s = statistics.median(ours[1:]), statistics.median(theirs[1:])
    return {"dtype": dtype, "gfref_epoch_s": ours_s, "torch_epoch_s": theirs_s, "ratio": ours_s / theirs_s,
            "torch_version": torch.__version__, "torch_threads": torch.get_num_threads()}


def run_bench(out_dir=None, repeats: int = 50, quick: bool = False, threads: int = 1, log=print) -> dict:
    """Run all parts with ``threads`` BLAS threads, print the ratios, write OUT/bench.json when ``out_dir`` is given."""
    from threadpoolctl import threadpool_limits

    if quick:
        repeats = min(repeats, 5)
    log(f"{threads} BLAS thread{'s' if threads != 1 else ''} for NumPy and SciPy, and as many for PyTorch")
    with threadpool_limits(limits=threads, user_api="blas"):
        result = _run_parts(repeats, quick, threads, log)
    result["steps"]["blas_threads"] = threads
    if out_dir is not None:
        from pathlib import Path

        from .results import write_json

        flat = dict(result["steps"])
        flat["gram"] = result["gram"]
        flat["torch"] = result["torch"]
        write_json(Path(out_dir) / "bench.json", flat)
        log(f"wrote {Path(out_dir) / 'bench.json'}")
    return result


def _run_parts(repeats: int, quick: bool, threads: int, log) -> dict:
    result = {"steps": bench_steps(repeats=repeats)}
    steps = result["steps"]
    log(f"Per-step time on Experiment 1 at batch {steps['batch_size']} ({steps['dtype']}, n = {steps['n_params']}), median of {repeats}:")
    log(f"  {'scheme':16s} {'ms/step':>9s} {'× SGD':>7s} {'state bytes':>12s} {'step peak bytes':>16s}")
    for run, t in steps["per_step_s"].items():
        log(f"  {run:16s} {1e3 * t:9.3f} {steps['ratio_to_sgd'][run]:7.2f} {steps['aux_memory_bytes'][run]:12d} {steps['step_peak_bytes'][run]:16d}")
    log(f"  full-Jacobian IEQ at batch 64 (its batch in the paper): {steps['ieq_batch64']['ratio_to_sgd']:.2f} × SGD at batch 64")
    gram_batch = 64 if quick else 256
    result["gram"] = bench_gram_vs_explicit(batch_size=gram_batch, repeats=min(repeats, 3))
    g = result["gram"]
    log(f"Full-Jacobian IEQ on MNIST at batch {g['batch_size']} ({g['system_size']}×{g['system_size']} system): "
        f"structured Gram {g['gram_s']:.3f} s/step, explicit J {g['explicit_s']:.3f} s/step: {g['speedup']:.0f}× faster")
    result["torch"] = {}
    for dtype in ("float64", "float32"):
        t = bench_torch(dtype, threads=threads)
        if t is None:
            log("PyTorch is not installed: the comparison with PyTorch's eager mode is skipped")
            break
        result["torch"][dtype] = t
        log(f"SGD epoch of Experiment 1 in {dtype}: gfref {t['gfref_epoch_s']:.3f} s, PyTorch {t['torch_version']} eager "
            f"{t['torch_epoch_s']:.3f} s: ratio {t['ratio']:.2f}")
    return result
