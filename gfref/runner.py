"""Runs experiments to disk: resolve a configuration, skip what is done, train, save.

``run_one`` trains one scheme on one experiment and writes its folder (see
:mod:`gfref.results`); ``reproduce`` does that for every selected experiment and scheme and
then builds the report. A run whose folder already holds a finished run of the same
configuration is skipped, so an interrupted reproduction resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
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
    progress: bool | None = None,
    log=print,
) -> Path:
    """Run the selected experiments and schemes, then write REPORT.md and the figures."""
    chosen_mode = MODES[mode]
    names = list(experiments) if experiments else list(EXPERIMENTS)
    get_backend(backend, dtype)  # fail before any work when the backend is unusable
    out_dir = Path(out_dir)
    start = time.perf_counter()
    for name in names:
        experiment = EXPERIMENTS[name]
        dataset = load_dataset(experiment, chosen_mode, seed, mnist_dir)
        for spec in experiment.runs:
            if runs and spec.run not in runs:
                continue
            config = resolve_config(experiment, spec, chosen_mode, backend=backend, dtype=dtype, seed=seed, dataset=dataset)
            t0 = time.perf_counter()
            status = run_one(config, dataset, out_dir, progress=progress)
            log(f"{name:5s} {spec.run:15s} {status:9s} {time.perf_counter() - t0:7.1f} s")
    log(f"all runs: {time.perf_counter() - start:.1f} s")
    from .report import build_report

    report = build_report(out_dir)
    log(f"report: {report}")
    return report


def override_spec(spec: RunSpec, **changes) -> RunSpec:
    """A copy of ``spec`` with batch size, epochs, etc. replaced (``gfref run``)."""
    return dataclasses.replace(spec, **{k: v for k, v in changes.items() if v is not None})


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr)
