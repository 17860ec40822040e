"""The training loop, the results on disk (atomic, resumable) and the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gfref import data, schemes
from gfref.backend import get_backend
from gfref.cli import main
from gfref.experiments import EXPERIMENTS, QUICK, RUN_NAMES, scaled_epochs
from gfref.losses import MSE, CrossEntropy
from gfref.mlp import MLP
from gfref.problem import Problem
from gfref.results import RunDir, read_history, read_json
from gfref.runner import resolve_config, run_one
from gfref.schemes.base import NonFiniteStepError, Scheme, StepInfo
from gfref.train import HISTORY_COLUMNS, batches, train

from conftest import make_backend


@pytest.fixture(scope="module")
def small_data():
    return data.sine_cosine(seed=0, n_samples=120, n_train=100, dim=5)


def small_problem():
    return Problem(MLP(5, 8, 1), MSE())


def test_batches_cover_every_sample_once():
    parts = batches(10, 4, np.random.default_rng(0))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_training_lowers_the_loss_and_records_every_epoch(small_data, backend_name):
    backend = make_backend(backend_name)
    result = train(small_problem(), schemes.sgd(lr=0.05), small_data, backend=backend, epochs=5, batch_size=32, seed=1)
    assert result.status == "finished"
    assert [row["epoch"] for row in result.history] == list(range(6))
    assert result.n_steps == 5 * math.ceil(100 / 32)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert set(result.history[-1]) >= set(HISTORY_COLUMNS) - {"epoch"}
    assert result.history[0]["step_time_s"] == 0.0 and result.history[-1]["step_time_s"] > 0


def test_training_is_deterministic_for_a_seed(small_data):
    backend = get_backend("numpy")
    runs = [train(small_problem(), schemes.sgd(lr=0.05), small_data, backend=backend, epochs=3, batch_size=16, seed=s)
            for s in (4, 4, 5)]
    losses = [[row["test_loss"] for row in r.history] for r in runs]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


def test_classification_records_accuracy():
    rng = np.random.default_rng(0)
    X = rng.random((60, 4))
    y = (X[:, 0] > 0.5).astype(np.int64)
    ds = data.Dataset(X[:40], y[:40], X[40:], y[40:], name="toy", task="classification")
    result = train(Problem(MLP(4, 6, 2), CrossEntropy()), schemes.sgd(lr=0.5), ds,
                   backend=get_backend("numpy"), epochs=3, batch_size=10)
    assert all(0.0 <= row["test_accuracy"] <= 1.0 for row in result.history)


def _exploding_scheme(factor: float) -> Scheme:
    """Multiplies w by ``factor`` each step: the loss overflows to inf after a few steps.

    (Plain SGD with a huge learning rate kills every ReLU unit instead, and stays finite.)
    """

    def step(problem, w, state, batch):
        return w * factor, state, StepInfo(loss=problem.at(w, batch).loss)

    return Scheme("exploding", lambda problem, w, batch: (), step, {})


def test_a_diverging_run_stops_and_keeps_its_history(small_data):
    # 4 steps per epoch, w grows by 1e10 per step: the loss (~‖w‖⁴ ~ 1e320) overflows in epoch 2
    result = train(small_problem(), _exploding_scheme(1e10), small_data, backend=get_backend("numpy"), epochs=50, batch_size=25)
    assert result.status == "diverged"
    assert result.diverged_epoch == 2
    assert len(result.history) == 3 and not math.isfinite(result.history[-1]["test_loss"])
    assert all(math.isfinite(row["test_loss"]) for row in result.history[:-1])
    assert "non-finite" in result.message
    summary = result.summary()
    assert summary["status"] == "diverged" and summary["final"]["test_loss"] == result.history[1]["test_loss"]


def _failing_scheme(fail_at: int) -> Scheme:
    """SGD that raises NonFiniteStepError at step ``fail_at``, as a scheme does when r turns NaN."""
    sgd = schemes.sgd(lr=0.01)

    def init(problem, w, batch):
        return (sgd.init(problem, w, batch), 0)

    def step(problem, w, state, batch):
        inner, count = state
        if count == fail_at:
            raise NonFiniteStepError("toy: r is not finite (nan); the step diverged")
        w, inner, info = sgd.step(problem, w, inner, batch)
        return w, (inner, count + 1), info

    return Scheme("failing", init, step, {})


def test_a_non_finite_step_is_a_result_not_a_crash(small_data):
    result = train(small_problem(), _failing_scheme(fail_at=7), small_data, backend=get_backend("numpy"), epochs=5, batch_size=25)
    # 4 steps per epoch: step 7 is in epoch 2, so epochs 0 and 1 are kept
    assert result.status == "diverged" and result.diverged_epoch == 2
    assert len(result.history) == 2
    assert "r is not finite" in result.message


def test_bad_loop_arguments(small_data):
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        train(small_problem(), schemes.sgd(lr=0.1), small_data, backend=get_backend("numpy"), epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="epochs must be an integer >= 0"):
        train(small_problem(), schemes.sgd(lr=0.1), small_data, backend=get_backend("numpy"), epochs=-1, batch_size=4)


# ------------------------------------------------------------------ results on disk
def _tiny_config(**changes):
    experiment = EXPERIMENTS["exp3"]
    config = resolve_config(experiment, experiment.run_spec("sgd"), QUICK, backend="numpy", dtype="float64", seed=0, epochs=2)
    config["model"] = {"d": 5, "m": 8, "k": 1}
    config.update(changes)
    return config


def test_run_one_writes_and_resume_skips(tmp_path, small_data):
    config = _tiny_config()
    assert run_one(config, small_data, tmp_path, progress=False) == "finished"
    folder = tmp_path / "exp3" / "sgd"
    assert read_json(folder / "config.json")["hyperparams"] == {"lr": 0.01}
    history = read_history(folder / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1, 2]
    summary = read_json(folder / "summary.json")
    assert summary["status"] == "finished" and summary["n_steps"] == 2 * math.ceil(100 / 256)
    assert run_one(config, small_data, tmp_path, progress=False) == "skipped"
    # another configuration is another computation: it runs again
    assert run_one(_tiny_config(epochs=3), small_data, tmp_path, progress=False) == "finished"
    assert len(read_history(folder / "history.csv")) == 4
    # no temporary files are left behind
    assert not list(folder.glob(".*tmp"))


def test_an_interrupted_run_keeps_finished_epochs_and_is_redone(tmp_path, small_data, monkeypatch):
    config = _tiny_config(epochs=4)
    calls = {"n": 0}
    original = RunDir.add_epoch

    def add_then_interrupt(self, row):
        original(self, row)
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunDir, "add_epoch", add_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_one(config, small_data, tmp_path, progress=False)
    folder = tmp_path / "exp3" / "sgd"
    assert len(read_history(folder / "history.csv")) == 3  # epochs 0, 1, 2 are on disk
    assert not (folder / "summary.json").exists()
    monkeypatch.setattr(RunDir, "add_epoch", original)
    assert run_one(config, small_data, tmp_path, progress=False) == "finished"


# ------------------------------------------------------------------ experiments
def test_every_experiment_runs_every_scheme_with_valid_hyperparameters():
    for experiment in EXPERIMENTS.values():
        assert tuple(spec.run for spec in experiment.runs) == RUN_NAMES
        for spec in experiment.runs:
            schemes.get_scheme(spec.scheme, **spec.hyperparams)  # raises on a bad table entry
            assert 1 <= scaled_epochs(spec, experiment, QUICK) <= spec.epochs


def test_the_paper_tables_are_verbatim():
    exp1, exp2, exp4 = EXPERIMENTS["exp1"], EXPERIMENTS["exp2"], EXPERIMENTS["exp4"]
    sav = exp1.run_spec("sav")
    assert (sav.batch_size, dict(sav.hyperparams), sav.epochs) == (256, {"dt": 0.5, "C": 100.0, "lam": 4.0}, 1000)
    assert exp2.run_spec("ieq").epochs == 50 and exp4.run_spec("ieq").epochs == 10
    assert not exp2.run_spec("expsav").in_paper and not exp4.run_spec("adam").in_paper
    assert dict(exp4.run_spec("expsav").hyperparams) == {"dt": 0.1, "C": 1.0, "lam": 1e-6}


# ------------------------------------------------------------------ command line
@pytest.mark.parametrize(
    "argv,expected",
    [
        (["run", "exp1", "sgd", "--set", "lr=-1", "--epochs", "1"], "lr must be"),
        (["run", "exp1", "sgd", "--set", "nonsense", "--epochs", "1"], "--set expects NAME=VALUE"),
        (["run", "exp1", "sav", "--set", "form=sideways", "--epochs", "1"], "form must be one of"),
        (["run", "exp1", "sgd", "--batch-size", "0"], "--batch-size must be >= 1"),
        (["bench", "--repeats", "0"], "--repeats must be >= 1"),
        (["bench", "--threads", "0"], "--threads must be >= 1"),
    ],
)
def test_cli_errors_are_one_clear_line(argv, expected, capsys, tmp_path):
    assert main(argv + (["--out", str(tmp_path)] if argv[0] == "run" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_report_of_a_missing_directory(capsys, tmp_path):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_cli_rejects_unknown_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--experiments", "exp9"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'exp9'" in capsys.readouterr().err


def test_cli_run_writes_a_run_folder(tmp_path, capsys):
    assert main(["run", "exp3", "ieq_adaptive", "--epochs", "1", "--quick", "--quiet", "--out", str(tmp_path), "--set", "dt=0.02"]) == 0
    folder = tmp_path / "exp3" / "ieq_adaptive"
    config = json.loads((folder / "config.json").read_text())
    assert config["hyperparams"]["dt"] == 0.02 and config["mode"] == "custom"
    assert json.loads((folder / "summary.json").read_text())["status"] == "finished"


def test_reproduce_writes_a_report_and_resumes(tmp_path):
    from gfref.runner import reproduce

    lines = []
    report = reproduce(tmp_path, mode="quick", experiments=["exp3"], runs=["sgd", "sav"], log=lines.append)
    assert report.name == "REPORT.md" and report.exists()
    assert (tmp_path / "figure_3_3_exp3.png").exists()
    assert any(line.startswith("exp3  sgd") and "finished" in line for line in lines)
    lines.clear()
    reproduce(tmp_path, mode="quick", experiments=["exp3"], runs=["sgd", "sav"], jobs=2, log=lines.append)
    assert sum("skipped" in line for line in lines) == 2  # nothing is redone
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        reproduce(tmp_path, jobs=0)
