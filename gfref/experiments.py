"""The four experiments of §3 as frozen configurations holding the paper's tables verbatim.

Each :class:`Experiment` names its data set (§3.2.1, §3.3.1, §3.4.1, §3.5.1), its network,
its loss, and one :class:`RunSpec` per scheme with the paper's batch size, step size,
constants and epochs. Cells the paper leaves empty (E13: ExpSAV in Experiment 2, Adam in
Experiment 4) get the defaults below, marked ``in_paper=False`` with a note; the relaxed
variants of §2.4 (never run in the paper) are extra rows for SAV and ExpSAV with the base
scheme's hyperparameters, the Jiang–Zhang–Zhao convention and η = 0.99 (E9, E11). Relaxed
SAV runs in the Theorem 2.1 form, where r reaches w and the relaxed energy inequality holds;
in the box form the w-update does not depend on r, so relaxing r could not change a single
iterate. Relaxed ExpSAV runs in the box form (there r does reach w; note that JZZ can let r
rise there, see docs/schemes.md). Relaxed
full-Jacobian IEQ has no row: with q recomputed on every batch (the default, E6) relaxation
changes only the reported energy, never w, so its curves would be IEQ's; carrying q across
mini-batches instead would mix samples.

``--quick`` runs every experiment with every scheme at the reduced sizes of
:data:`QUICK` (fewer epochs and samples, the paper's hyperparameters unchanged) so that the
whole reproduction fits in a few minutes; ``--full`` runs the paper's sizes.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping

# Run names, in the order of the paper's tables; labels as the paper writes them.
LABELS = MappingProxyType(
    {
        "sgd": "SGD",
        "adam": "Adam",
        "sav": "SAV",
        "expsav": "ExpSAV",
        "ieq": "IEQ (Full Jacobian)",
        "ieq_adaptive": "IEQ (Adaptive)",
        "sav_relaxed": "SAV (Thm 2.1 form, relaxed)",
        "expsav_relaxed": "ExpSAV (relaxed)",
    }
)
RUN_NAMES = tuple(LABELS)
RELAXATION = MappingProxyType({"relax": "jzz", "eta": 0.99})


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One scheme on one experiment: the paper's row of the hyperparameter table."""

    run: str  # a key of LABELS
    scheme: str  # a factory of gfref.schemes
    hyperparams: Mapping
    batch_size: int
    epochs: int
    in_paper: bool = True
    note: str = ""

    @property
    def label(self) -> str:
        return LABELS.get(self.run, self.run)


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One experiment of §3: data, network, loss and the table of runs."""

    name: str
    title: str
    section: str
    dataset: str  # a name for gfref.data.load
    dataset_kwargs: Mapping
    d: int
    m: int
    k: int
    loss: str
    runs: tuple[RunSpec, ...]

    def run_spec(self, run: str) -> RunSpec:
        for spec in self.runs:
            if spec.run == run:
                return spec
        raise KeyError(f"{self.name} has no run {run!r}; runs: {', '.join(s.run for s in self.runs)}")


def _frozen(**kw) -> Mapping:
    return MappingProxyType(dict(kw))


def _with_relaxed(runs: list[RunSpec]) -> tuple[RunSpec, ...]:
    """The paper's rows plus a relaxed twin of SAV and ExpSAV (§2.4)."""
    extra = []
    for spec in runs:
        if spec.run in ("sav", "expsav"):
            form = {"form": "thm2.1"} if spec.run == "sav" else {}
            extra.append(
                dataclasses.replace(
                    spec,
                    run=f"{spec.run}_relaxed",
                    hyperparams=_frozen(**spec.hyperparams, **form, **RELAXATION),
                    in_paper=False,
                    note="relaxed variant (§2.4); the paper reports no run of it",
                )
            )
    return tuple(runs + extra)


# §3.2.1, Experiment 1: sin(p·x) + cos(q·x), 1000 epochs.
EXP1 = Experiment(
    name="exp1",
    title="Experiment 1: sine-cosine regression (§3.2)",
    section="§3.2",
    dataset="sine_cosine",
    dataset_kwargs=_frozen(),
    d=40,
    m=1000,
    k=1,
    loss="mse",
    runs=_with_relaxed(
        [
            RunSpec("sgd", "sgd", _frozen(lr=0.01), 256, 1000),
            RunSpec("adam", "adam", _frozen(lr=0.001, b1=0.9, b2=0.999), 64, 1000),
            RunSpec("sav", "sav", _frozen(dt=0.5, C=100.0, lam=4.0), 256, 1000),
            RunSpec("expsav", "expsav", _frozen(dt=0.1, C=1.0, lam=1.0), 256, 1000),
            RunSpec("ieq", "ieq", _frozen(dt=0.1), 64, 1000),
            RunSpec("ieq_adaptive", "ieq_adaptive", _frozen(dt=0.1, eps=1e-8), 256, 1000),
        ]
    ),
)

# §3.3.1, Experiment 2: Σ c_i x_i², batch 64 for every scheme, 100 epochs (IEQ full: 50).
EXP2 = Experiment(
    name="exp2",
    title="Experiment 2: quadratic regression (§3.3)",
    section="§3.3",
    dataset="quadratic",
    dataset_kwargs=_frozen(),
    d=40,
    m=1000,
    k=1,
    loss="mse",
    runs=_with_relaxed(
        [
            RunSpec("sgd", "sgd", _frozen(lr=0.01), 64, 100),
            RunSpec("adam", "adam", _frozen(lr=0.001), 64, 100),
            RunSpec("sav", "sav", _frozen(dt=0.01, C=1.0, lam=4.0), 64, 100),
            RunSpec(
                "expsav",
                "expsav",
                _frozen(dt=0.01, C=1.0, lam=1.0),
                64,
                100,
                in_paper=False,
                note="not in the paper's table (E13): Experiment 2's Δt with the C, λ the paper recommends (§4.1.3)",
            ),
            RunSpec("ieq", "ieq", _frozen(dt=0.01), 64, 50, note="50 epochs, as the paper's table says"),
            RunSpec("ieq_adaptive", "ieq_adaptive", _frozen(dt=0.01), 64, 100),
        ]
    ),
)

# §3.4.1, Experiment 3: exp(−10‖x‖²), batch 256, 100 epochs.
EXP3 = Experiment(
    name="exp3",
    title="Experiment 3: Gaussian regression (§3.4)",
    section="§3.4",
    dataset="gaussian",
    dataset_kwargs=_frozen(),
    d=40,
    m=1000,
    k=1,
    loss="mse",
    runs=_with_relaxed(
        [
            RunSpec("sgd", "sgd", _frozen(lr=0.01), 256, 100),
            RunSpec("adam", "adam", _frozen(lr=0.001), 256, 100),
            RunSpec("sav", "sav", _frozen(dt=0.01, C=100.0, lam=4.0), 256, 100),
            RunSpec("expsav", "expsav", _frozen(dt=0.01, C=1.0, lam=0.0), 256, 100),
            RunSpec("ieq", "ieq", _frozen(dt=0.01), 256, 100),
            RunSpec("ieq_adaptive", "ieq_adaptive", _frozen(dt=0.01), 256, 100),
        ]
    ),
)

# §3.5.1, Experiment 4: MNIST 8000/2000, 784-100-10, cross-entropy, batch 256, 50 epochs.
EXP4 = Experiment(
    name="exp4",
    title="Experiment 4: MNIST classification (§3.5)",
    section="§3.5",
    dataset="mnist",
    dataset_kwargs=_frozen(),
    d=784,
    m=100,
    k=10,
    loss="cross_entropy",
    runs=_with_relaxed(
        [
            RunSpec("sgd", "sgd", _frozen(lr=0.1), 256, 50),
            RunSpec(
                "adam",
                "adam",
                _frozen(lr=0.001),
                256,
                50,
                in_paper=False,
                note="not in the paper's table (E13): Adam's learning rate of Experiments 1–3",
            ),
            RunSpec("sav", "sav", _frozen(dt=0.1, C=100.0, lam=4.0), 256, 50),
            RunSpec("expsav", "expsav", _frozen(dt=0.1, C=1.0, lam=1e-6), 256, 50),
            RunSpec("ieq", "ieq", _frozen(dt=0.1), 256, 10, note="10 epochs (the paper's computational limit)"),
            RunSpec("ieq_adaptive", "ieq_adaptive", _frozen(dt=0.1), 256, 50),
        ]
    ),
)

EXPERIMENTS = MappingProxyType({e.name: e for e in (EXP1, EXP2, EXP3, EXP4)})


@dataclasses.dataclass(frozen=True)
class Mode:
    """How far a reproduction scales the paper down: epochs and sample counts per experiment."""

    name: str
    epoch_fraction: Mapping  # experiment → fraction of the paper's epochs (at least 1 epoch)
    n_train: Mapping  # experiment → training samples (None: the paper's)
    n_test: Mapping


FULL = Mode("full", _frozen(exp1=1.0, exp2=1.0, exp3=1.0, exp4=1.0), _frozen(), _frozen())
QUICK = Mode(
    "quick",
    epoch_fraction=_frozen(exp1=0.01, exp2=0.05, exp3=0.2, exp4=0.1),
    n_train=_frozen(exp1=2000, exp2=2000, exp4=2000),
    n_test=_frozen(exp1=500, exp2=500, exp4=500),
)
MODES = MappingProxyType({"quick": QUICK, "full": FULL})


def scaled_epochs(spec: RunSpec, experiment: Experiment, mode: Mode) -> int:
    """The run's epochs under ``mode``: the paper's, times the mode's fraction, at least 1."""
    return max(1, round(spec.epochs * mode.epoch_fraction.get(experiment.name, 1.0)))
