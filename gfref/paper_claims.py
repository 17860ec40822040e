"""The paper's quantitative claims, verbatim, as plain data with the section each comes from.

Every number the report checks lives here, in two forms:

* the **text** exactly as the paper prints it (``"~500"``, ``">1000"``, ``"Not converged"``,
  ``"92-94%"``, ``"1.5×"``, ``"$O(n^2)$"``), so that a reader can find it in the paper;
* a **parsed** form the report computes with (``EpochClaim(value=500, relation="~")``,
  ``(0.92, 0.94)``, ``1.5``, the scale ``"n^2"``).

The parsing is done here, once, by small functions that are unit-tested; nothing else in
gfref re-reads the paper's strings.

Algorithm names: the paper writes "SGD", "Adam", "SAV", "ExpSAV", "IEQ (Full Jacobian)" and
"IEQ (Adaptive)" (Table 3.8 drops the parentheses); gfref's results directories call the
same runs ``sgd``, ``adam``, ``sav``, ``expsav``, ``ieq``, ``ieq_adaptive``.
:func:`run_of` maps the first to the second. The relaxed variants of §2.4
(``sav_relaxed``, ``expsav_relaxed``, ``ieq_relaxed``) appear in no experiment of the paper.

Sources: §2.3 (complexity table), §3.2–§3.5 (experiment set-ups, the final test losses of
§3.2.2, the MNIST table of §3.5.2), §3.6.2 (Tables 3.6 and 3.7), §3.6.3 (Table 3.8),
§3.6.4 (memory table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------

#: The six algorithms of the paper, as gfref run names, in the order of the paper's tables.
PAPER_RUNS = ("sgd", "adam", "sav", "expsav", "ieq", "ieq_adaptive")

#: The relaxed variants of §2.4: defined in the paper, never run in its experiments.
RELAXED_RUNS = ("sav_relaxed", "expsav_relaxed", "ieq_relaxed")

#: Every run name gfref knows, in display order; unknown runs are shown after these.
KNOWN_RUNS = PAPER_RUNS + RELAXED_RUNS

#: The paper's name of each run (§2.2 headings and the tables of §3).
PAPER_NAMES = MappingProxyType(
    {
        "sgd": "SGD",
        "adam": "Adam",
        "sav": "SAV",
        "expsav": "ExpSAV",
        "ieq": "IEQ (Full Jacobian)",
        "ieq_adaptive": "IEQ (Adaptive)",
    }
)

#: Display labels, used when a run's config.json has no ``label``.
RUN_LABELS = MappingProxyType(
    {
        **PAPER_NAMES,
        "sav_relaxed": "SAV (relaxed)",
        "expsav_relaxed": "ExpSAV (relaxed)",
        "ieq_relaxed": "IEQ (Full Jacobian, relaxed)",
    }
)

# Spellings the paper uses for the same algorithm in different places (Table 3.8's header
# has no parentheses).
_ALIASES = {
    "IEQ Adaptive": "ieq_adaptive",
    "IEQ Full Jacobian": "ieq",
    "IEQ (Full Jacobian)": "ieq",
    "IEQ (Adaptive)": "ieq_adaptive",
}


def run_of(paper_name: str) -> str:
    """The gfref run name of an algorithm as the paper spells it.

    Parameters
    ----------
    paper_name : str
        e.g. ``"IEQ (Full Jacobian)"``, ``"IEQ Adaptive"``, ``"ExpSAV"``.

    Returns
    -------
    str
        e.g. ``"ieq"``, ``"ieq_adaptive"``, ``"expsav"``.

    Raises
    ------
    KeyError
        For a name the paper does not use.
    """
    if paper_name in _ALIASES:
        return _ALIASES[paper_name]
    for run, name in PAPER_NAMES.items():
        if name == paper_name:
            return run
    raise KeyError(f"not an algorithm name of the paper: {paper_name!r}")


def run_label(run: str) -> str:
    """A readable label for a run name (the run name itself for unknown runs)."""
    return RUN_LABELS.get(run, run)


def is_relaxed(run: str) -> bool:
    """Whether a run is a relaxed variant of §2.4 (drawn dashed in the figures)."""
    return run.endswith("_relaxed")


def base_run(run: str) -> str:
    """The unrelaxed scheme a run is built on: ``"sav_relaxed"`` → ``"sav"``."""
    return run[: -len("_relaxed")] if is_relaxed(run) else run


# --------------------------------------------------------------------------------------
# The experiments of §3 (only what the report needs: names, sections, training lengths)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperExperiment:
    """What §3 says about one experiment's set-up.

    Attributes
    ----------
    key : str
        The results-directory name: ``"exp1"`` … ``"exp4"``.
    number : int
        The experiment's number in the paper.
    title : str
        A short title.
    section : str
        Where the paper describes it.
    figure : str
        The paper's figure of its loss curves.
    task : str
        ``"regression"`` or ``"classification"``.
    k : int
        Network outputs (1 for regression, 10 classes for MNIST).
    epochs : int
        The paper's training length.
    runs : tuple of str
        The algorithms in the experiment's parameter table (gfref run names).
    epochs_by_run : mapping
        Runs the paper trained for a different number of epochs ("Other Parameters").
    """

    key: str
    number: int
    title: str
    section: str
    figure: str
    task: str
    k: int
    epochs: int
    runs: tuple
    epochs_by_run: Mapping = field(default_factory=lambda: MappingProxyType({}))

    def budget(self, run: str) -> int | None:
        """The paper's training length for ``run``; None when the paper did not run it."""
        if run not in self.runs:
            return None
        return self.epochs_by_run.get(run, self.epochs)


EXPERIMENTS = MappingProxyType(
    {
        "exp1": PaperExperiment(
            "exp1", 1, "Sine–cosine regression", "§3.2", "Figure 3.1", "regression", 1, 1000, PAPER_RUNS
        ),
        "exp2": PaperExperiment(
            "exp2",
            2,
            "Quadratic regression",
            "§3.3",
            "Figure 3.2",
            "regression",
            1,
            100,
            # §3.3.1's table has no ExpSAV row (DESIGN E13).
            ("sgd", "adam", "sav", "ieq", "ieq_adaptive"),
            MappingProxyType({"ieq": 50}),  # "IEQ (Full Jacobian) … 50 epochs"
        ),
        "exp3": PaperExperiment(
            "exp3", 3, "Gaussian regression", "§3.4", "Figure 3.3", "regression", 1, 100, PAPER_RUNS
        ),
        "exp4": PaperExperiment(
            "exp4",
            4,
            "MNIST classification",
            "§3.5",
            "Figure 3.4",
            "classification",
            10,
            50,
            # §3.5.1's table has no Adam row (DESIGN E13).
            ("sgd", "sav", "expsav", "ieq", "ieq_adaptive"),
            MappingProxyType({"ieq": 10}),  # "10 epochs (computational limit)"
        ),
    }
)


def in_paper(experiment: str, run: str) -> bool:
    """Whether the paper ran ``run`` in ``experiment`` (its parameter table has the row)."""
    exp = EXPERIMENTS.get(experiment)
    return exp is not None and run in exp.runs


# --------------------------------------------------------------------------------------
# Parsers: the paper's strings → numbers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpochClaim:
    """A cell of Table 3.6 or 3.7.

    Attributes
    ----------
    text : str
        Verbatim: ``"~500"``, ``">1000"``, ``"Not converged"``.
    value : int or None
        The number of epochs (None for "Not converged").
    relation : {'~', '>', None}
        ``'~'`` about ``value``; ``'>'`` more than ``value``; None: never reached.
    """

    text: str
    value: int | None
    relation: str | None


def parse_epoch_claim(text: str) -> EpochClaim:
    """Parse a cell of Table 3.6/3.7: ``"~500"``, ``">1000"`` or ``"Not converged"``.

    Examples
    --------
    >>> parse_epoch_claim("~500")
    EpochClaim(text='~500', value=500, relation='~')
    >>> parse_epoch_claim("Not converged").relation is None
    True
    """
    stripped = text.strip()
    if stripped.lower() == "not converged":
        return EpochClaim(text, None, None)
    match = re.fullmatch(r"([~>])\s*(\d+)", stripped)
    if match is None:
        raise ValueError(f"not an epoch claim: {text!r}")
    return EpochClaim(text, int(match.group(2)), match.group(1))


def parse_range(text: str) -> tuple[float, float]:
    """Parse ``"0.15-0.25"`` → (0.15, 0.25) and ``"92-94%"`` → (0.92, 0.94).

    Percentages become fractions because gfref stores accuracy as a fraction in [0, 1].
    """
    stripped = text.strip()
    percent = stripped.endswith("%")
    match = re.fullmatch(r"([0-9.]+)\s*-\s*([0-9.]+)\s*%?", stripped)
    if match is None:
        raise ValueError(f"not a range: {text!r}")
    lo, hi = float(match.group(1)), float(match.group(2))
    if percent:
        lo, hi = lo / 100.0, hi / 100.0
    if lo > hi:
        raise ValueError(f"empty range: {text!r}")
    return lo, hi


def parse_ratio(text: str) -> float:
    """Parse a cell of Table 3.8: ``"1.5×"`` → 1.5."""
    match = re.fullmatch(r"([0-9.]+)\s*[×x]", text.strip())
    if match is None:
        raise ValueError(f"not a ratio: {text!r}")
    return float(match.group(1))


# The scales a memory claim can name, from the smallest; "1" is a constant (nothing that
# grows with the problem: the paper's "-"). "batch" counts the rows of the IEQ residual q,
# B·k, since that is what a batch of k-output samples stores.
MEMORY_SCALES = ("1", "batch", "n", "batch^2", "batch·n", "n^2")


def parse_memory_scale(text: str) -> str:
    """The scale a memory cell names: ``"$O(n^2)$ Hessian approx."`` → ``"n^2"``, ``"-"`` → ``"1"``."""
    stripped = text.strip()
    if stripped in ("-", "—", ""):
        return "1"
    match = re.search(r"O\(\s*(\d*)\s*([a-z]+)(\^2)?\s*\)", stripped.replace("$", ""))
    if match is None:
        raise ValueError(f"not a memory claim: {text!r}")
    scale = match.group(2) + (match.group(3) or "")
    if scale not in MEMORY_SCALES:
        raise ValueError(f"unknown scale {scale!r} in {text!r}")
    return scale  # the constant in O(2n) does not change the scale


def plain(text: str) -> str:
    """The paper's LaTeX-in-Markdown made readable in plain text: ``"$O(n^2)$"`` → ``"O(n²)"``."""
    out = text.replace("$", "").replace("^2", "²").replace("^3", "³")
    out = re.sub(r"10\^\{(-?\d+)\}", r"1e\1", out)
    return out


# --------------------------------------------------------------------------------------
# Table 3.6 (§3.6.2): epochs to test loss < 1e-4 in the regression tasks
# --------------------------------------------------------------------------------------

TABLE_3_6_SOURCE = "§3.6.2, Table 3.6"
TABLE_3_6_THRESHOLD = 1e-4  # "test loss < 10^{-4}"
TABLE_3_6_COLUMNS = ("exp1", "exp2", "exp3")

#: Verbatim rows: paper name → (Experiment 1, Experiment 2, Experiment 3).
TABLE_3_6_TEXT = MappingProxyType(
    {
        "IEQ (Full Jacobian)": ("~500", "~30", "~40"),
        "ExpSAV": ("~800", "~50", "~30"),
        "IEQ (Adaptive)": ("~1000", "~40", "~50"),
        "SAV": (">1000", "~60", "~70"),
        "Adam": ("~1200", "~35", "~60"),
        "SGD": ("Not converged", "~80", "Not converged"),
    }
)

#: Parsed: run → experiment → EpochClaim.
TABLE_3_6 = MappingProxyType(
    {
        run_of(name): MappingProxyType(
            {exp: parse_epoch_claim(cell) for exp, cell in zip(TABLE_3_6_COLUMNS, cells)}
        )
        for name, cells in TABLE_3_6_TEXT.items()
    }
)

# --------------------------------------------------------------------------------------
# Table 3.7 (§3.6.2): epochs to 90 % test accuracy on MNIST (no Adam row: DESIGN E13)
# --------------------------------------------------------------------------------------

TABLE_3_7_SOURCE = "§3.6.2, Table 3.7"
TABLE_3_7_THRESHOLD = 0.90  # "90% accuracy"
TABLE_3_7_EXPERIMENT = "exp4"

TABLE_3_7_TEXT = MappingProxyType(
    {
        "IEQ (Adaptive)": "~20",
        "ExpSAV": "~25",
        "IEQ (Full Jacobian)": "~30",
        "SAV": "~30",
        "SGD": "~50",
    }
)

TABLE_3_7 = MappingProxyType({run_of(name): parse_epoch_claim(cell) for name, cell in TABLE_3_7_TEXT.items()})

# --------------------------------------------------------------------------------------
# Table 3.8 (§3.6.3): relative computational time, SGD = 1.0×
# --------------------------------------------------------------------------------------

TABLE_3_8_SOURCE = "§3.6.3, Table 3.8"
TABLE_3_8_HEADER = ("SGD", "Adam", "IEQ Adaptive", "ExpSAV", "SAV", "IEQ Full Jacobian")

#: Verbatim rows: the paper's row title → cells in the order of TABLE_3_8_HEADER.
TABLE_3_8_TEXT = MappingProxyType(
    {
        "Regression (1000 epochs)": ("1.0×", "1.1×", "1.2×", "1.5×", "1.5×", "3.5×"),
        "Classification (50 epochs)": ("1.0×", "1.1×", "1.2×", "1.8×", "1.8×", "5.2×"),
    }
)

#: Which experiment each row is measured on: only Experiment 1 ran 1000 epochs, and the only
#: classification task is Experiment 4.
TABLE_3_8_ROWS = MappingProxyType(
    {
        "regression": ("Regression (1000 epochs)", "exp1"),
        "classification": ("Classification (50 epochs)", "exp4"),
    }
)


@dataclass(frozen=True)
class RatioClaim:
    """A cell of Table 3.8: verbatim text and its value."""

    text: str
    value: float


#: Parsed: "regression"/"classification" → run → RatioClaim.
TABLE_3_8 = MappingProxyType(
    {
        task: MappingProxyType(
            {
                run_of(name): RatioClaim(cell, parse_ratio(cell))
                for name, cell in zip(TABLE_3_8_HEADER, TABLE_3_8_TEXT[title])
            }
        )
        for task, (title, _exp) in TABLE_3_8_ROWS.items()
    }
)

# --------------------------------------------------------------------------------------
# §2.3 complexity table and §3.6.4 memory table (strings; the scale parsed)
# --------------------------------------------------------------------------------------

COMPLEXITY_2_3_SOURCE = "§2.3, Algorithm Complexity Comparison"

#: Verbatim: run → (per-iteration complexity, memory requirement).
COMPLEXITY_2_3 = MappingProxyType(
    {
        "sgd": ("$O(n)$", "$O(n)$"),
        "adam": ("$O(n)$", "$O(2n)$"),
        "sav": ("$O(n^2)$", "$O(n^2)$"),
        "expsav": ("$O(n^2)$", "$O(n^2)$"),
        "ieq": ("$O(n^3)$", "$O(batch^2)$"),
        "ieq_adaptive": ("$O(n)$", "$O(n)$"),
    }
)

MEMORY_3_6_4_SOURCE = "§3.6.4, Memory Consumption Comparison"


@dataclass(frozen=True)
class MemoryClaim:
    """A row of the §3.6.4 memory table (verbatim) and the scale of its auxiliary memory."""

    parameter: str
    auxiliary: str
    total: str

    @property
    def auxiliary_scale(self) -> str:
        """``"1"``, ``"batch"``, ``"n"``, ``"batch^2"``, … (see :data:`MEMORY_SCALES`)."""
        return parse_memory_scale(self.auxiliary)


#: Verbatim rows; the paper's table has no SAV row (§2.3 gives SAV O(n²) memory).
MEMORY_3_6_4 = MappingProxyType(
    {
        "sgd": MemoryClaim("$O(n)$", "-", "$O(n)$"),
        "adam": MemoryClaim("$O(n)$", "$O(n)$ momentum", "$O(2n)$"),
        "expsav": MemoryClaim("$O(n)$", "$O(n^2)$ Hessian approx.", "$O(n^2)$"),
        "ieq_adaptive": MemoryClaim("$O(n)$", "$O(batch)$", "$O(n)$"),
        "ieq": MemoryClaim("$O(n)$", "$O(batch^2)$ Jacobian", "$O(batch^2)$"),
    }
)

# --------------------------------------------------------------------------------------
# §3.5.2: the MNIST performance summary
# --------------------------------------------------------------------------------------

MNIST_3_5_2_SOURCE = "§3.5.2, Performance summary"
MNIST_3_5_2_EXPERIMENT = "exp4"


@dataclass(frozen=True)
class MnistClaim:
    """A row of §3.5.2's table: verbatim cells and the parsed ranges (accuracy as a fraction)."""

    accuracy_text: str
    loss_text: str
    speed: str

    @property
    def accuracy_range(self) -> tuple[float, float]:
        return parse_range(self.accuracy_text)

    @property
    def loss_range(self) -> tuple[float, float]:
        return parse_range(self.loss_text)


MNIST_3_5_2 = MappingProxyType(
    {
        "expsav": MnistClaim("92-94%", "0.15-0.25", "Medium"),
        "sav": MnistClaim("90-93%", "0.20-0.30", "Medium"),
        "ieq": MnistClaim("92-95%", "0.15-0.25", "Slow"),
        "ieq_adaptive": MnistClaim("92-94%", "0.15-0.25", "Fast"),
        "sgd": MnistClaim("88-92%", "0.25-0.35", "Slow"),
    }
)

# --------------------------------------------------------------------------------------
# §3.2.2: final test losses of Experiment 1, as orders of magnitude
# --------------------------------------------------------------------------------------

FINAL_LOSS_3_2_2_SOURCE = "§3.2.2, Experimental Results"
FINAL_LOSS_3_2_2_EXPERIMENT = "exp1"


@dataclass(frozen=True)
class OrderClaim:
    """A final test loss stated as an order of magnitude: 10**exponent, with the paper's words."""

    exponent: int
    quote: str

    @property
    def text(self) -> str:
        return f"~1e{self.exponent}"


FINAL_LOSS_3_2_2 = MappingProxyType(
    {
        "ieq": OrderClaim(-6, "achieves test loss on the order of approximately $10^{-6}$"),
        "expsav": OrderClaim(-5, "converge to approximately $10^{-5}$ order of magnitude"),
        "ieq_adaptive": OrderClaim(-5, "converge to approximately $10^{-5}$ order of magnitude"),
        "sav": OrderClaim(-4, "final test loss … is approximately $10^{-4}$ order"),
        "adam": OrderClaim(-4, "final test loss … is approximately $10^{-4}$ order"),
        "sgd": OrderClaim(-3, "only reaches $10^{-3}$ order"),
    }
)

# --------------------------------------------------------------------------------------
# Where the paper's own tables disagree with its text (shown in the report)
# --------------------------------------------------------------------------------------

INCONSISTENCIES = (
    "Table 3.6 gives Adam ~1200 epochs on Experiment 1, but §3.2.1 trains every algorithm for "
    "1000 epochs.",
    "Table 3.6 gives ExpSAV ~50 epochs on Experiment 2, but §3.3.1's parameter table has no "
    "ExpSAV row (DESIGN E13).",
    "Table 3.7 gives full-Jacobian IEQ ~30 epochs to 90 % accuracy, but §3.5.1/§3.5.2 say it "
    "was trained for only 10 epochs.",
    "Table 3.7 gives SGD ~50 epochs, the whole 50-epoch budget of §3.5.1.",
    "Table 3.8's regression row is labelled \"1000 epochs\": only Experiment 1 ran 1000 epochs, "
    "and there Adam and full-Jacobian IEQ used batch 64 against SGD's 256, so they took four "
    "times as many steps.",
    "The §3.6.4 memory table has no SAV row; §2.3 gives SAV O(n²) memory, which only a stored "
    "Hessian approximation would need (with 𝓛 = λI the solve is a scalar: DESIGN E8).",
    "§2.3 says full-Jacobian IEQ costs O(n³); the solve is (B·k)×(B·k), not n×n (DESIGN E7).",
    "Adam has no row in Experiment 4, Table 3.7 or §3.5.2's table (DESIGN E13).",
)
