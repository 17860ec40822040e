"""Runs experiments to disk: resolve a configuration, skip what is done, train, save.

``run_one`` trains one scheme on one experiment and writes its folder (see
:mod:`gfref.results`); ``reproduce`` does that for every selected experiment and scheme and
then builds the report. A run whose folder already holds a finished run of the same
configuration is skipped, so an interrupted reproduction resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import time
from pathlib import Path
from typing import Iterable, Mapping

from . import schemes
from .backend import get_backend
from .experiments import EXPERIMENTS, MODES, Experiment, Mode, RunSpec, scaled_epochs
from .losses import get_loss
from .mlp import MLP
from .problem import Problem
from .results import RunDir, versions
from .train import train


def load_dataset(experiment: Experiment, mode: Mode, seed: int, mnist_dir: str | None = None):
    """The experiment's data set at the mode's size (host NumPy arrays)."""
    from . import data

    kwargs = dict(experiment.dataset_kwargs)
    if experiment.dataset == "mnist":
        if mnist_dir is not None:
            kwargs["path"] = mnist_dir
        # The shipped subsample is the paper's 8000/2000 draw with seed 0; other seeds need
        # the full set, so the data seed stays 0 unless a directory is given.
        dataset = data.load("mnist", seed=seed if mnist_dir is not None else 0, **kwargs)
    else:
        dataset = data.load(experiment.dataset, seed=seed, **kwargs)
    n_train = mode.n_train.get(experiment.name)
    n_test = mode.n_test.get(experiment.name)
    if n_train is not None or n_test is not None:
        dataset = dataset.subset(n_train, n_test)
    return dataset


def resolve_config(
    experiment: Experiment,
    spec: RunSpec,
    mode: Mode,
    *,
    backend: str,
    dtype: str,
    seed: int,
    epochs: int | None = None,
    overrides: Mapping | None = None,
    dataset=None,
) -> dict:
    """Everything that determines a run, as it goes into config.json."""
    hyperparams = dict(spec.hyperparams)
    hyperparams.update(overrides or {})
    return {
        "experiment": experiment.name,
        "run": spec.run,
        "label": spec.label,
        "scheme": spec.scheme,
        "hyperparams": hyperparams,
        "batch_size": spec.batch_size,
        "epochs": epochs if epochs is not None else scaled_epochs(spec, experiment, mode),
        "paper_epochs": spec.epochs,
        "in_paper": spec.in_paper,
        "note": spec.note,
        "mode": mode.name,
        "task": "classification" if experiment.loss == "cross_entropy" else "regression",
        "loss": experiment.loss,
        "dataset": {
            "name": experiment.dataset,
            "n_train": None if dataset is None else int(dataset.X_train.shape[0]),
            "n_test": None if dataset is None else int(dataset.X_test.shape[0]),
        },
        "model": {"d": experiment.d, "m": experiment.m, "k": experiment.k},
        "backend": backend,
        "dtype": dtype,
        "seed": seed,
        "versions": versions(),
    }


def run_one(config: dict, dataset, out_dir: Path, *, progress: bool | None = None, force: bool = False) -> str:
    """Train the run ``config`` describes and save it under ``out_dir``; returns its status.

    Returns ``"skipped"`` when the folder already holds this finished run (unless ``force``).
    """
    run_dir = RunDir(Path(out_dir) / config["experiment"] / config["run"])
    if not force and run_dir.is_done_with(config):
        return "skipped"
    backend = get_backend(config["backend"], config["dtype"])
    model = MLP(**config["model"])
    problem = Problem(model, get_loss(config["loss"]))
    scheme = schemes.get_scheme(config["scheme"], **config["hyperparams"])
    run_dir.start(config)
    result = train(
        problem,
        scheme,
        dataset,
        backend=backend,
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        seed=config["seed"],
        on_epoch=run_dir.add_epoch,
        progress=progress,
        label=f"{config['experiment']}/{config['run']}",
    )
    run_dir.finish(result.summary())
    return result.status


def reproduce(
    out_dir: Path,
    *,
    mode: str = "quick",
    experiments: Iterable[str] | None = None,
    runs: Iterable[str] | None = None,
    backend: str = "numpy",
    dtype: str = "float64",
    seed: int = 0,
    mnist_dir: str | None = None,
    jobs: int = 1,
    progress: bool | None = None,
    log=print,
) -> Path:
    """Run the selected experiments and schemes, then write REPORT.md and the figures.

    ``jobs > 1`` runs that many runs at once in worker processes, each with one BLAS thread
    (this network's GEMMs are too small to gain from a second thread; a second process
    gains almost twice). Step times are then measured under the same shared load for every
    scheme.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1; got {jobs!r}")
    chosen_mode = MODES[mode]
    names = list(experiments) if experiments else list(EXPERIMENTS)
    get_backend(backend, dtype)  # fail before any work when the backend is unusable
    out_dir = Path(out_dir)
    tasks = []
    for name in names:
        experiment = EXPERIMENTS[name]
        dataset = load_dataset(experiment, chosen_mode, seed, mnist_dir)
        for spec in experiment.runs:
            if runs and spec.run not in runs:
                continue
            config = resolve_config(experiment, spec, chosen_mode, backend=backend, dtype=dtype, seed=seed, dataset=dataset)
            tasks.append((config, dataset))
    start = time.perf_counter()
    if jobs == 1:
        for config, dataset in tasks:
            t0 = time.perf_counter()
            status = run_one(config, dataset, out_dir, progress=progress)
            log(f"{config['experiment']:5s} {config['run']:15s} {status:9s} {time.perf_counter() - t0:7.1f} s")
    else:
        # Workers load their own copy of the data (cached per process) rather than unpickling it.
        _run_in_workers([(config, mnist_dir) for config, _ in tasks], out_dir, jobs, log)
    log(f"all runs: {time.perf_counter() - start:.1f} s")
    from .report import build_report

    report = build_report(out_dir)
    log(f"report: {report}")
    return report


@functools.lru_cache(maxsize=4)
def _dataset_cached(experiment: str, mode: str, seed: int, mnist_dir: str | None):
    return load_dataset(EXPERIMENTS[experiment], MODES[mode], seed, mnist_dir)


def _dataset_for(config: dict, mnist_dir: str | None):
    mode = config["mode"] if config["mode"] in MODES else "full"
    return _dataset_cached(config["experiment"], mode, config["seed"], mnist_dir)


def _worker(config: dict, mnist_dir: str | None, out_dir: str) -> tuple[str, float]:
    t0 = time.perf_counter()
    status = run_one(config, _dataset_for(config, mnist_dir), Path(out_dir), progress=False)
    return status, time.perf_counter() - t0


def _run_in_workers(tasks, out_dir: Path, jobs: int, log) -> None:
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Read by OpenBLAS/MKL/OpenMP when a worker imports NumPy: one thread per worker.
    saved = {k: os.environ.get(k) for k in _THREAD_VARIABLES}
    os.environ.update({k: "1" for k in _THREAD_VARIABLES})
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(_worker, config, mnist_dir, str(out_dir)): config for config, mnist_dir in tasks}
            for future in as_completed(futures):
                config = futures[future]
                status, seconds = future.result()
                log(f"{config['experiment']:5s} {config['run']:15s} {status:9s} {seconds:7.1f} s")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def override_spec(spec: RunSpec, **changes) -> RunSpec:
    """A copy of ``spec`` with batch size, epochs, etc. replaced (``gfref run``)."""
    return dataclasses.replace(spec, **{k: v for k, v in changes.items() if v is not None})


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr)
