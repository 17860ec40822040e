"""REPORT.md: the paper's tables beside the measured values, with a verdict for every cell.

Read a results directory (``OUT/<experiment>/<run>/{config.json, history.csv,
summary.json}`` and optionally ``OUT/bench.json``), compare each number the paper states
(:mod:`gfref.paper_claims`) with the value measured in the runs, and write ``OUT/REPORT.md``
and Figures 3.1–3.4 (:mod:`gfref.plots`)::

    from gfref.report import build_report, load_results
    path = build_report("results")          # results/REPORT.md and results/figure_3_*.png
    results = load_results("results")       # the same data, for a notebook

Every table cell reads ``paper | measured`` followed by a verdict mark:

* ✅ the measurement agrees with the paper under the rule stated for that table;
* ❌ it disagrees (each ❌ is listed again, one line each, under "Disagreements");
* ➖ no comparison is possible: the paper has no such cell, the run is missing or too short,
  or the quantity is qualitative.

The rules (:func:`judge_epochs`, :func:`judge_ratio`, :func:`judge_range`,
:func:`judge_order`, :func:`judge_memory`) are small pure functions, unit-tested on their
own, and stated in the report's "How to read this".

Loading never crashes on a damaged directory: a run without ``summary.json`` is
*incomplete* (still shown, from its history so far), and a file that cannot be parsed gives
one warning line naming it (a :class:`ResultsWarning`, repeated in the report).
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from . import paper_claims as pc
from .results import atomic_write_text

REPORT_NAME = "REPORT.md"

#: Columns of history.csv, as written by the training loop (extra columns are kept too).
HISTORY_COLUMNS = (
    "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "step_time_s",
    "batch_loss", "energy", "aux", "S", "step_size", "xi0",
)

AGREE, DISAGREE, NO_COMPARISON = "✅", "❌", "➖"

#: Table 3.6/3.7: a "~N" claim agrees with a measured epoch count e when N/2 ≤ e ≤ 2N.
EPOCH_FACTOR = 2.0
#: Table 3.8: a measured time ratio agrees when it is within ×/÷ 1.5 of the paper's.
RATIO_FACTOR = 1.5
#: §3.2.2: a final loss agrees with "order 10^p" when |log10(loss) − p| ≤ 0.5 (×/÷ 3.16).
ORDER_HALF_WIDTH = 0.5
#: §3.6.4: measured auxiliary memory agrees with O(s) when within ×/÷ 8 of the size s.
MEMORY_FACTOR = 8.0


class ResultsWarning(UserWarning):
    """A file of a results directory could not be read; the message names it."""


# ======================================================================================
# Formatting
# ======================================================================================


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def fmt_num(x) -> str:
    """A number for a table: ``3.2e-05`` when small or large, ``0.213`` in between.

    Examples
    --------
    >>> fmt_num(3.2e-5), fmt_num(0.2134), fmt_num(float("nan")), fmt_num(None)
    ('3.2e-05', '0.213', 'NaN', '—')
    """
    if x is None:
        return "—"
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if 0.01 <= abs(x) < 1000:
        return f"{x:.3g}"
    return f"{x:.1e}"


def fmt_sci(x) -> str:
    """Always scientific with two significant digits (losses compared by order): ``3.2e-05``."""
    if x is None or not math.isfinite(float(x)):
        return fmt_num(x)
    return f"{float(x):.1e}"


def fmt_seconds(x) -> str:
    """A time in seconds: ``0.0123 s``, ``12.3 s``, ``1234 s``."""
    if x is None or not math.isfinite(float(x)):
        return fmt_num(x)
    x = float(x)
    return f"{x:.0f} s" if x >= 100 else f"{x:.3g} s"


def fmt_percent(x) -> str:
    """A fraction as a percentage with one decimal: 0.9234 → ``92.3 %``."""
    if x is None or not math.isfinite(float(x)):
        return fmt_num(x)
    return f"{100.0 * float(x):.1f} %"


def fmt_ratio(x) -> str:
    """A time ratio: ``1.47×``."""
    if x is None or not math.isfinite(float(x)):
        return fmt_num(x)
    return f"{float(x):.2f}×"


def fmt_bytes(x) -> str:
    """A memory size with binary prefixes: ``336.0 KiB``."""
    if x is None or not math.isfinite(float(x)):
        return fmt_num(x)
    x = float(x)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(x) < 1024 or unit == "GiB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024.0
    raise AssertionError("unreachable")


def _md(text) -> str:
    """Text safe inside a Markdown table cell (a bare '|' would start a new column)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


# ======================================================================================
# Loading
# ======================================================================================


def _nan_array(n: int) -> np.ndarray:
    return np.full(n, np.nan)


@dataclass
class RunResult:
    """One run folder, read: its config, its per-epoch history and its summary (if it ended).

    Attributes
    ----------
    experiment, run : str
        The folder names ``OUT/<experiment>/<run>``.
    config : dict
        config.json ({} when missing or unreadable).
    history : dict of str to ndarray
        history.csv as float columns, sorted by epoch (empty cells are NaN).
    summary : dict or None
        summary.json; None while the run has not ended (or when the file is unreadable).
    problems : list of str
        One line per file that could not be read.
    """

    experiment: str
    run: str
    config: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    summary: dict | None = None
    problems: list = field(default_factory=list)

    # -- identity --------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"{self.experiment}/{self.run}"

    @property
    def label(self) -> str:
        label = self.config.get("label")
        return str(label) if label else pc.run_label(self.run)

    @property
    def in_paper(self) -> bool:
        """config.json's ``in_paper`` when present, otherwise whether §3's tables have the row."""
        flag = self.config.get("in_paper")
        return flag if isinstance(flag, bool) else pc.in_paper(self.experiment, self.run)

    @property
    def relaxed(self) -> bool:
        return pc.is_relaxed(self.run)

    @property
    def batch_size(self):
        return self.config.get("batch_size")

    # -- status ----------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``"finished"``, ``"diverged"`` or ``"incomplete"`` (no readable summary.json)."""
        if self.summary is None:
            return "incomplete"
        return str(self.summary.get("status") or "finished")

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def diverged_epoch(self) -> int | None:
        """The epoch the run diverged at (summary.json, else the first non-finite loss)."""
        if not self.diverged:
            return None
        epoch = self.summary.get("diverged_epoch")
        if _is_number(epoch):
            return int(epoch)
        bad = ~(np.isfinite(self.column("train_loss")) & np.isfinite(self.column("test_loss")))
        return int(self.epochs[bad][0]) if bad.any() else self.epochs_run

    @property
    def message(self) -> str:
        return str((self.summary or {}).get("message") or "")

    # -- history ---------------------------------------------------------------------

    @property
    def epochs(self) -> np.ndarray:
        return self.history.get("epoch", np.zeros(0))

    @property
    def epochs_run(self) -> int:
        """The last epoch in history.csv (0 when it has no rows)."""
        if self.epochs.size:
            return int(self.epochs[-1])
        value = (self.summary or {}).get("epochs_run")
        return int(value) if _is_number(value) else 0

    def column(self, name: str) -> np.ndarray:
        """A history column (NaN where the file has no value, or no such column)."""
        values = self.history.get(name)
        return values if values is not None else _nan_array(self.epochs.size)

    def value_at(self, name: str, epoch: int) -> float | None:
        """The value of a column at an epoch; None when history has no such row."""
        hit = np.flatnonzero(self.epochs == epoch)
        return float(self.column(name)[hit[-1]]) if hit.size else None

    def last_finite(self, name: str) -> tuple[int, float] | None:
        """(epoch, value) of the last finite entry of a column, or None."""
        values = self.column(name)
        ok = np.flatnonzero(np.isfinite(values))
        return (int(self.epochs[ok[-1]]), float(values[ok[-1]])) if ok.size else None

    def final(self, name: str) -> float | None:
        """The final value of a metric: summary.json's when numeric, else history's last finite."""
        value = ((self.summary or {}).get("final") or {}).get(name)
        if _is_number(value):
            return float(value)
        last = self.last_finite(name)
        return last[1] if last else None

    def total_step_time(self) -> float | None:
        """Seconds spent in steps over the whole run (summary.json, else history's last value)."""
        total = (self.summary or {}).get("step_time_s")
        if _is_number(total):
            return float(total)
        last = self.last_finite("step_time_s")
        return last[1] if last else None

    def time_per_epoch(self) -> float | None:
        """Seconds of steps per epoch: the last cumulative ``step_time_s`` over its epoch.

        Per epoch rather than total so that runs of different lengths (quick mode, a diverged
        run, full-Jacobian IEQ's shorter budget) can be compared; for equal epoch counts the
        ratio of two runs is the ratio of their total step times, the paper's measure.
        """
        times, epochs = self.column("step_time_s"), self.epochs
        ok = np.flatnonzero(np.isfinite(times) & (epochs > 0))
        if ok.size:
            return float(times[ok[-1]] / epochs[ok[-1]])
        total, run = (self.summary or {}).get("step_time_s"), (self.summary or {}).get("epochs_run")
        if _is_number(total) and _is_number(run) and run > 0:
            return float(total) / float(run)
        return None


@dataclass
class Results:
    """All runs of a results directory, plus bench.json and the problems met while reading.

    Attributes
    ----------
    out_dir : Path
    runs : dict
        experiment → run → :class:`RunResult`, both in display order.
    bench : dict or None
        bench.json, when present and readable.
    problems : list of str
        One line per unreadable file (the runs' problems included).
    """

    out_dir: Path
    runs: dict = field(default_factory=dict)
    bench: dict | None = None
    problems: list = field(default_factory=list)

    def experiment(self, experiment: str) -> dict:
        """The runs of one experiment (an empty dict when there are none)."""
        return self.runs.get(experiment, {})

    def get(self, experiment: str, run: str) -> RunResult | None:
        return self.runs.get(experiment, {}).get(run)

    def all_runs(self) -> list:
        return [r for runs in self.runs.values() for r in runs.values()]


def table_rows(paper_order: Iterable[str], present: Iterable[str]) -> list:
    """Rows of a paper table: the table's own row order first, then the other runs present.

    A student reading with the paper open finds the rows where the paper has them; runs the
    table lacks (Adam in Table 3.7, relaxed variants, unknown runs) follow in display order.
    """
    paper_order = list(paper_order)
    return paper_order + [r for r in ordered_runs(present) if r not in paper_order]


def ordered_runs(names: Iterable[str]) -> list:
    """Run names in the paper's order, relaxed variants next, unknown runs last (sorted)."""
    names = list(dict.fromkeys(names))
    known = [r for r in pc.KNOWN_RUNS if r in names]
    return known + sorted(r for r in names if r not in pc.KNOWN_RUNS)


def _ordered_experiments(names: Iterable[str]) -> list:
    names = list(names)
    return [e for e in pc.EXPERIMENTS if e in names] + sorted(e for e in names if e not in pc.EXPERIMENTS)


def _read_json(path: Path, rel: str, problems: list, consequence: str):
    """A JSON object from a file; None (and one problem line) when missing or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        # strerror, not str(exc): the latter holds the absolute path of this machine.
        problems.append(f"{rel}: cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__}); {consequence}")
        return None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        problems.append(f"{rel}: invalid JSON ({exc}); {consequence}")
        return None
    if not isinstance(obj, dict):
        problems.append(f"{rel}: expected a JSON object, found {type(obj).__name__}; {consequence}")
        return None
    return obj


def _parse_cell(text: str) -> float:
    """A CSV cell as a float: empty → NaN; 'nan' and 'inf' as Python spells them."""
    text = text.strip()
    return math.nan if text == "" else float(text)


def _read_history(path: Path, rel: str, problems: list, last_row_may_be_partial: bool) -> dict:
    """history.csv as float columns sorted by epoch ({} and a problem line when unusable).

    A malformed row is skipped and reported; the last row of a run still being written may
    be cut short, which is expected and not reported.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(f"{rel}: missing; the run has no curves and no measured values")
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{rel}: cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__}); "
                        "the run has no curves and no measured values")
        return {}
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        problems.append(f"{rel}: not a CSV file ({exc}); the run has no curves and no measured values")
        return {}
    if not lines or "epoch" not in [h.strip() for h in lines[0]]:
        problems.append(f"{rel}: no header with an 'epoch' column; the run has no curves and no measured values")
        return {}
    header = [h.strip() for h in lines[0]]
    rows, bad = [], []
    for number, row in enumerate(lines[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            if not (number == len(lines) and last_row_may_be_partial):
                bad.append(number)
            continue
        try:
            rows.append([_parse_cell(cell) for cell in row])
        except ValueError:
            bad.append(number)
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (", …" if len(bad) > 5 else "")
        problems.append(f"{rel}: skipped {len(bad)} malformed row(s) (line {shown})")
    table = np.array(rows, dtype=float).reshape(len(rows), len(header))
    table = table[np.isfinite(table[:, header.index("epoch")])]
    # Sort by epoch; if an epoch occurs twice (a resumed run), keep its last row.
    epochs = table[:, header.index("epoch")]
    _, last = np.unique(epochs[::-1], return_index=True)
    table = table[np.sort(len(epochs) - 1 - last)]
    table = table[np.argsort(table[:, header.index("epoch")], kind="stable")]
    return {name: table[:, i].copy() for i, name in enumerate(header)}


def load_run(run_dir: Path, out_dir: Path) -> RunResult:
    """Read one run folder ``OUT/<experiment>/<run>``; never raises on a damaged file.

    Parameters
    ----------
    run_dir : Path
        The run folder.
    out_dir : Path
        The results directory, to name files relative to it in problem lines.
    """
    run_dir = Path(run_dir)
    rel = lambda name: (run_dir / name).relative_to(out_dir).as_posix()  # noqa: E731
    result = RunResult(experiment=run_dir.parent.name, run=run_dir.name)
    problems = result.problems
    result.config = _read_json(run_dir / "config.json", rel("config.json"), problems,
                               "the folder names are used; label, hyperparameters and mode are unknown") or {}
    if not (run_dir / "config.json").exists():
        problems.append(f"{rel('config.json')}: missing; the folder names are used")
    result.summary = _read_json(run_dir / "summary.json", rel("summary.json"), problems,
                                "the run is treated as incomplete")
    result.history = _read_history(run_dir / "history.csv", rel("history.csv"), problems,
                                   last_row_may_be_partial=result.summary is None)
    return result


def load_results(out_dir) -> Results:
    """Read every run folder of a results directory, and bench.json when present.

    Parameters
    ----------
    out_dir : str or Path
        A directory holding ``<experiment>/<run>/`` folders.

    Returns
    -------
    Results
        The problems met (unreadable files) are in ``results.problems`` and are also issued
        as :class:`ResultsWarning`, one per file.
    """
    out_dir = Path(out_dir)
    results = Results(out_dir=out_dir)
    found: dict = {}
    for exp_dir in sorted(p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for run_dir in sorted(p for p in exp_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not any((run_dir / f).exists() for f in ("config.json", "history.csv", "summary.json")):
                continue  # not a run folder (figures, notebooks' scratch, …)
            run = load_run(run_dir, out_dir)
            found.setdefault(exp_dir.name, {})[run_dir.name] = run
            results.problems.extend(run.problems)
    for exp in _ordered_experiments(found):
        results.runs[exp] = {name: found[exp][name] for name in ordered_runs(found[exp])}
    if (out_dir / "bench.json").exists():
        results.bench = _read_json(out_dir / "bench.json", "bench.json", results.problems,
                                   "the fair Table 3.8 and the memory table are left empty")
    for line in results.problems:
        warnings.warn(line, ResultsWarning, stacklevel=2)
    return results


# ======================================================================================
# Measurements
# ======================================================================================


def epochs_to_threshold(history: Mapping, threshold: float, column: str = "test_loss",
                        below: bool = True) -> int | None:
    """The first epoch at which a metric crosses a threshold (Tables 3.6 and 3.7).

    Parameters
    ----------
    history : mapping
        Columns as arrays; needs ``"epoch"`` and ``column``.
    threshold : float
    column : str
        ``"test_loss"`` (Table 3.6) or ``"test_accuracy"`` (Table 3.7).
    below : bool
        True: first epoch with value < threshold (a loss); False: value ≥ threshold (an
        accuracy: "converge to 90% accuracy").

    Returns
    -------
    int or None
        The epoch (0 is the initial point), or None if never reached. NaN never counts.
    """
    epochs = np.asarray(history.get("epoch", []), dtype=float)
    values = np.asarray(history.get(column, np.full(epochs.shape, np.nan)), dtype=float)
    with np.errstate(invalid="ignore"):
        hit = values < threshold if below else values >= threshold
    hit &= np.isfinite(values)
    return int(epochs[np.argmax(hit)]) if hit.any() else None


# ======================================================================================
# Verdicts
# ======================================================================================


@dataclass(frozen=True)
class Verdict:
    """A mark (✅, ❌ or ➖) and the reason, in words."""

    mark: str
    reason: str = ""


@dataclass(frozen=True)
class Cell:
    """One ``paper | measured`` table cell with its verdict."""

    paper: str
    measured: str
    verdict: Verdict

    def render(self) -> str:
        text = f"{_md(self.paper)} \\| {_md(self.measured)} {self.verdict.mark}"
        if self.verdict.mark == NO_COMPARISON and self.verdict.reason:
            text += f" ({_md(self.verdict.reason)})"
        return text


def judge_epochs(claim: pc.EpochClaim, reached: int | None, epochs_run: int, *, budget: int | None = None,
                 diverged_epoch: int | None = None, factor: float = EPOCH_FACTOR) -> Verdict:
    """Compare an epochs-to-threshold claim ("~N", ">N", "Not converged") with a run.

    Parameters
    ----------
    claim : EpochClaim
    reached : int or None
        The first epoch the run crossed the threshold (None: never, within its history).
    epochs_run : int
        The last epoch of the run's history.
    budget : int, optional
        The paper's training length for this run; needed for "Not converged".
    diverged_epoch : int, optional
        Set when the run diverged (it will never reach the threshold afterwards).
    factor : float
        The tolerance of "~N".

    Returns
    -------
    Verdict
        "~N": ✅ if N/factor ≤ reached ≤ factor·N; ❌ if reached outside, if the run
        diverged first, or if it ran ≥ factor·N epochs without reaching; otherwise ➖ (the
        run is too short to tell).
        ">N": ✅ if reached > N, or never reached by a run of ≥ N epochs or that diverged;
        ❌ if reached ≤ N; otherwise ➖.
        "Not converged": the same as ">budget".
    """
    if claim.relation is None:
        if budget is None:
            return Verdict(NO_COMPARISON, "the paper's training length is unknown")
        claim = pc.EpochClaim(claim.text, budget, ">")
        bound_words = f"the paper's {budget}-epoch training"
    else:
        bound_words = str(claim.value)
    n = claim.value
    if claim.relation == "~":
        lo, hi = n / factor, n * factor
        if reached is not None:
            if lo <= reached <= hi:
                return Verdict(AGREE, f"{reached} is within ×/÷{factor:g} of {n}")
            return Verdict(DISAGREE, f"reached at epoch {reached}, outside [{lo:g}, {hi:g}]")
        if diverged_epoch is not None:
            return Verdict(DISAGREE, f"diverged at epoch {diverged_epoch} before reaching the threshold")
        if epochs_run >= hi:
            return Verdict(DISAGREE, f"not reached in {epochs_run} epochs ≥ {hi:g}")
        return Verdict(NO_COMPARISON, f"not comparable: run had {epochs_run} epochs")
    if claim.relation == ">":
        if reached is not None:
            if reached > n:
                return Verdict(AGREE, f"reached at epoch {reached} > {bound_words}")
            return Verdict(DISAGREE, f"reached at epoch {reached}, within {bound_words}")
        if diverged_epoch is not None:
            return Verdict(AGREE, f"never reached: diverged at epoch {diverged_epoch}")
        if epochs_run >= n:
            return Verdict(AGREE, f"not reached in {epochs_run} epochs")
        return Verdict(NO_COMPARISON, f"not comparable: run had {epochs_run} epochs")
    raise ValueError(f"unknown relation {claim.relation!r}")


def judge_ratio(paper: float, measured: float | None, factor: float = RATIO_FACTOR) -> Verdict:
    """Table 3.8: ✅ when paper/factor ≤ measured ≤ paper·factor, ❌ otherwise, ➖ if unmeasured."""
    if measured is None or not math.isfinite(measured):
        return Verdict(NO_COMPARISON, "not measured")
    if paper / factor <= measured <= paper * factor:
        return Verdict(AGREE, f"{measured:.2f} within ×/÷{factor:g} of {paper:g}")
    return Verdict(DISAGREE, f"{measured:.2f}× is outside [{paper / factor:.2f}, {paper * factor:.2f}]")


def judge_range(lo: float, hi: float, measured: float | None) -> Verdict:
    """§3.5.2: ✅ when lo ≤ measured ≤ hi (inclusive), ❌ otherwise, ➖ if unmeasured."""
    if measured is None or not math.isfinite(measured):
        return Verdict(NO_COMPARISON, "not measured")
    if lo <= measured <= hi:
        return Verdict(AGREE, "inside the range")
    side = "below" if measured < lo else "above"
    return Verdict(DISAGREE, f"{side} the range [{lo:g}, {hi:g}]")


def judge_order(exponent: int, measured: float | None, half_width: float = ORDER_HALF_WIDTH) -> Verdict:
    """§3.2.2: ✅ when |log10(measured) − exponent| ≤ half_width, ❌ otherwise (NaN, 0 included)."""
    if measured is None:
        return Verdict(NO_COMPARISON, "not measured")
    if not math.isfinite(measured) or measured <= 0:
        return Verdict(DISAGREE, f"final loss is {fmt_num(measured)}")
    distance = math.log10(measured) - exponent
    if abs(distance) <= half_width:
        return Verdict(AGREE, f"{distance:+.2f} decades from 1e{exponent}")
    return Verdict(DISAGREE, f"{distance:+.2f} decades from 1e{exponent} (tolerance ±{half_width:g})")


def scale_size(scale: str, n: int, batch_rows: int) -> float:
    """The number of elements a memory scale stands for: ``"n^2"`` → n², ``"batch"`` → B·k, ``"1"`` → 1.

    ``batch_rows`` is B·k, the rows of the IEQ residual q for B samples with k outputs.
    """
    sizes = {"1": 1.0, "batch": float(batch_rows), "n": float(n), "batch^2": float(batch_rows) ** 2,
             "batch·n": float(batch_rows) * n, "n^2": float(n) ** 2}
    return sizes[scale]


def judge_memory(paper_scale: str, elements: float, n: int, batch_rows: int,
                 factor: float = MEMORY_FACTOR) -> Verdict:
    """§3.6.4: ✅ when the measured element count is within ×/÷ ``factor`` of the paper's scale.

    Parameters
    ----------
    paper_scale : str
        One of :data:`gfref.paper_claims.MEMORY_SCALES` (``"1"`` for the paper's "-").
    elements : float
        Measured auxiliary memory in array elements (bytes / itemsize); 0 counts as 1.
    n, batch_rows : int
        Parameters, and rows B·k of a batch's residual.
    factor : float

    Notes
    -----
    One measurement at one size cannot identify an O(·) class; what it can show is whether
    the memory is the size the paper's class predicts, up to a constant. Where two scales are
    within the factor of each other (n = 42 000 and 256² = 65 536 for Experiment 1 at batch
    256) a ✅ is consistent with either.
    """
    expected = scale_size(paper_scale, n, batch_rows)
    x = max(float(elements), 1.0)
    ratio = x / expected
    scale = pc.plain(paper_scale)
    if 1.0 / factor <= ratio <= factor:
        return Verdict(AGREE, f"{ratio:.2g}× the paper's O({scale})")
    words = f"{ratio:.2g}× larger" if ratio > 1 else f"{1 / ratio:.2g}× smaller"
    return Verdict(DISAGREE, f"measured {x:.0f} elements, {words} than O({scale}) = {expected:.3g} elements")


# ======================================================================================
# Report sections
# ======================================================================================


class _Ledger:
    """Collects every ❌ with where it is, for the Disagreements section."""

    def __init__(self):
        self.lines: list[str] = []

    def cell(self, where: str, cell: Cell) -> str:
        if cell.verdict.mark == DISAGREE:
            self.lines.append(f"- **{where}**: paper {cell.paper} | measured {cell.measured} — {cell.verdict.reason}")
        return cell.render()


def _table(header: list, rows: list) -> list:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out + [""]


def run_tags(run: RunResult) -> str:
    """The tags a reader must know beside a run's label: " (not in paper, diverged @ e, incomplete)"."""
    tags = []
    if not run.in_paper:
        tags.append("not in paper")
    if run.diverged:
        tags.append(f"diverged @ {run.diverged_epoch}")
    if run.status == "incomplete":
        tags.append("incomplete")
    return f" ({', '.join(tags)})" if tags else ""


def _exp_name(exp: str) -> str:
    info = pc.EXPERIMENTS.get(exp)
    return f"Experiment {info.number}" if info else exp


def _distinct(results: Results, get) -> str:
    """One value when every run agrees, else 'value (experiments), …'."""
    groups: dict = {}
    for run in results.all_runs():
        value = get(run)
        if value in (None, "", {}):
            continue
        groups.setdefault(str(value), []).append(run.experiment)
    if not groups:
        return "unknown"
    if len(groups) == 1:
        return _md(next(iter(groups)))
    return "; ".join(f"{_md(v)} ({', '.join(dict.fromkeys(exps))})" for v, exps in groups.items())


def _versions(config: dict) -> str:
    versions = config.get("versions") or {}
    if not isinstance(versions, dict):
        return str(versions)
    return ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))


def _section_header(results: Results) -> list:
    from . import __version__

    runs = results.all_runs()
    statuses = [r.status for r in runs]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses)) or "none"
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# gfref reproduction report",
        "",
        f"Generated {now} by gfref {__version__} from the runs in this directory (called OUT below). "
        "Paper: *Efficient and Stable Gradient Flow Methods for Deep Learning*, §3.",
        "",
    ]
    lines += _table(
        ["", ""],
        [
            ["Mode", _distinct(results, lambda r: r.config.get("mode"))],
            ["Backend", _distinct(results, lambda r: r.config.get("backend"))],
            ["dtype", _distinct(results, lambda r: r.config.get("dtype"))],
            ["Seed", _distinct(results, lambda r: r.config.get("seed"))],
            ["Versions", _distinct(results, lambda r: _versions(r.config))],
            ["Runs", f"{len(runs)} ({counts})"],
        ],
    )
    return lines


def _section_how_to_read() -> list:
    f, r, h = EPOCH_FACTOR, RATIO_FACTOR, ORDER_HALF_WIDTH
    return [
        "## How to read this",
        "",
        "Each cell reads **paper | measured** and ends with a verdict: "
        f"{AGREE} agrees, {DISAGREE} disagrees, {NO_COMPARISON} cannot compare (not in the paper, "
        "no run, run too short, or a qualitative claim; the reason follows in brackets). "
        "Every " + DISAGREE + " is listed again under *Disagreements*. The rules:",
        "",
        f"* **Tables 3.6 and 3.7** (epochs to test loss < 1e-4; to test accuracy ≥ 90 %): the measured "
        "epoch is the first epoch whose evaluation crosses the threshold (epoch 0 is the initial point). "
        f"A claim *~N* agrees when N/{f:g} ≤ measured ≤ {f:g}·N; a run that diverged first, or ran "
        f"{f:g}·N epochs without reaching it, disagrees; a shorter run is *not comparable*. "
        "*>N* agrees when the threshold is first crossed after epoch N, or not at all in a run of at least "
        "N epochs (or a diverged run), and disagrees when crossed by epoch N. *Not converged* is read as "
        "*>* the paper's training length for that experiment.",
        f"* **Table 3.8** (time relative to SGD): agrees when the measured ratio is within ×/÷{r:g} of "
        "the paper's. SGD itself is the baseline (" + NO_COMPARISON + ").",
        "* **§3.6.4 memory**: the measured auxiliary memory, in array elements, is the state a scheme "
        "keeps between steps plus its step's peak allocation above SGD's (both from bench.json). It "
        f"agrees with the paper's O(s) when it is within ×/÷{MEMORY_FACTOR:g} of s, with n parameters, "
        "batch = B·k rows of the residual, and \"-\" read as O(1). One size cannot identify an O(·) "
        "class: a ✅ says the memory is as large as the paper's class predicts, not that it grows so.",
        "* **§3.5.2 MNIST table**: agrees when the measured final test accuracy (or loss), rounded as "
        "shown, lies inside the paper's range, bounds included. Measured at the paper's last epoch "
        "(50; 10 for full-Jacobian IEQ); a shorter run is *not comparable*.",
        f"* **§3.2.2 final test losses**: agrees when |log10(loss) − p| ≤ {h:g} for the paper's "
        f"order 10^p (within ×/÷ {10 ** h:.2f}), measured at epoch 1000; a shorter run is *not comparable*.",
        "",
    ]


def _section_runs(results: Results) -> list:
    lines = ["## Runs", ""]
    if not results.runs:
        return lines + ["No run folders found.", ""]
    rows = []
    for run in results.all_runs():
        hp = run.config.get("hyperparams") or {}
        hp_text = ", ".join(f"{k}={v}" for k, v in hp.items()) if isinstance(hp, dict) else str(hp)
        planned = run.config.get("epochs", "?")
        if run.diverged:
            final_test = f"diverged @ {run.diverged_epoch}"
        else:
            final_test = fmt_num(run.final("test_loss"))
        rows.append([
            _exp_name(run.experiment), f"`{_md(run.run)}`", _md(run.label) + ("" if run.in_paper else " (not in paper)"),
            _md(hp_text) or "—", _md(run.batch_size or "—"), f"{run.epochs_run} / {planned}", run.status,
            fmt_num(run.final("train_loss")), final_test, fmt_percent(run.final("test_accuracy")),
            fmt_seconds(run.total_step_time()),
        ])
    return lines + _table(
        ["Experiment", "Run", "Label", "Hyperparameters", "Batch", "Epochs run / planned", "Status",
         "Final train loss", "Final test loss", "Final test accuracy", "Step time"],
        rows,
    )


def _section_figures(figures: dict, figure_errors: dict) -> list:
    lines = ["## Figures 3.1–3.4", "",
             "One line per run; relaxed variants dashed; ✕ marks the last finite point of a diverged run. "
             "The dotted lines are Table 3.6's threshold (1e-4) and Table 3.7's (90 %).", ""]
    for exp, info in pc.EXPERIMENTS.items():
        if exp in figures:
            lines += [f"**{info.figure}** — {_exp_name(exp)}: {info.title} ({info.section})", "",
                      f"![{info.figure}]({figures[exp].name})", ""]
        elif exp in figure_errors:
            lines += [f"**{info.figure}** could not be drawn: {_md(figure_errors[exp])}", ""]
    return lines


def _epochs_cell(claim, run: RunResult | None, column: str, threshold: float, below: bool,
                 budget: int | None) -> Cell:
    paper = claim.text if claim else "—"
    if run is None:
        return Cell(paper, "no run", Verdict(NO_COMPARISON, ""))
    reached = epochs_to_threshold(run.history, threshold, column, below)
    diverged = run.diverged_epoch
    if reached is not None:
        measured = str(reached)
    elif diverged is not None:
        measured = f"diverged @ {diverged}"
    else:
        measured = f"not reached in {run.epochs_run}"
    if claim is None:
        return Cell(paper, measured, Verdict(NO_COMPARISON, ""))
    return Cell(paper, measured, judge_epochs(claim, reached, run.epochs_run, budget=budget, diverged_epoch=diverged))


def _section_table_3_6(results: Results, ledger: _Ledger) -> list:
    exps = pc.TABLE_3_6_COLUMNS
    names = table_rows(pc.TABLE_3_6, [r for e in exps for r in results.experiment(e)])
    rows = []
    for run_name in names:
        label = pc.PAPER_NAMES.get(run_name) or _label_of(results, run_name, exps)
        row = [_md(label)]
        for exp in exps:
            claim = pc.TABLE_3_6.get(run_name, {}).get(exp)
            budget = pc.EXPERIMENTS[exp].budget(run_name)
            cell = _epochs_cell(claim, results.get(exp, run_name), "test_loss", pc.TABLE_3_6_THRESHOLD, True, budget)
            row.append(ledger.cell(f"Table 3.6, {_exp_name(exp)}, {label}", cell))
        rows.append(row)
    return [
        "## Table 3.6 — epochs to test loss < 1e-4 (regression)", "",
        f"Source: {pc.TABLE_3_6_SOURCE}. Measured: the first epoch with test loss < 1e-4.", "",
    ] + _table(["Algorithm"] + [_exp_name(e) for e in exps], rows)


def _section_table_3_7(results: Results, ledger: _Ledger) -> list:
    exp = pc.TABLE_3_7_EXPERIMENT
    names = table_rows(list(pc.TABLE_3_7) + ["adam"], results.experiment(exp))
    rows = []
    for run_name in names:
        label = pc.PAPER_NAMES.get(run_name) or _label_of(results, run_name, [exp])
        claim = pc.TABLE_3_7.get(run_name)
        cell = _epochs_cell(claim, results.get(exp, run_name), "test_accuracy", pc.TABLE_3_7_THRESHOLD, False,
                            pc.EXPERIMENTS[exp].budget(run_name))
        if run_name == "adam" and claim is None:
            cell = Cell("— (absent, E13)", cell.measured, cell.verdict)
        rows.append([_md(label), ledger.cell(f"Table 3.7, {label}", cell)])
    return [
        "## Table 3.7 — epochs to 90 % test accuracy (MNIST)", "",
        f"Source: {pc.TABLE_3_7_SOURCE}. Measured: the first epoch with test accuracy ≥ 90 %. "
        "The paper has no Adam row (DESIGN E13).", "",
    ] + _table(["Algorithm", "Epochs"], rows)


def _label_of(results: Results, run_name: str, exps) -> str:
    for exp in exps:
        run = results.get(exp, run_name)
        if run is not None:
            return run.label
    return pc.run_label(run_name)


def _ratio_cell(claim, measured: float | None, is_baseline: bool) -> Cell:
    paper = claim.text if claim else "—"
    shown = fmt_ratio(measured) if measured is not None else "not measured"
    if is_baseline:
        return Cell(paper, shown, Verdict(NO_COMPARISON, "baseline"))
    if claim is None:
        return Cell(paper, shown, Verdict(NO_COMPARISON, ""))
    return Cell(paper, shown, judge_ratio(claim.value, measured))


def _section_table_3_8(results: Results, ledger: _Ledger) -> list:
    lines = [
        "## Table 3.8 — relative computational time (SGD = 1.0×)", "",
        f"Source: {pc.TABLE_3_8_SOURCE}.", "",
        "### (a) The paper's measure: whole runs", "",
        "Each run's wall time of the steps alone, per epoch, at its own batch size, relative to SGD's in the same "
        "experiment (for runs of equal length this is the ratio of total step times, the paper's measure). "
        "Regression is Experiment 1 (the only 1000-epoch experiment), classification Experiment 4; "
        "Experiments 2 and 3 are shown measured only. Batch sizes differ between runs, so this mixes the cost "
        "of a step with the number of steps.", "",
    ]
    measured_rows = [("regression", "exp1"), ("exp2", "exp2"), ("exp3", "exp3"), ("classification", "exp4")]
    names = table_rows(pc.TABLE_3_8["regression"], [r for _, e in measured_rows for r in results.experiment(e)])
    rows = []
    for task, exp in measured_rows:
        if not results.experiment(exp) and task not in pc.TABLE_3_8:
            continue
        claims = pc.TABLE_3_8.get(task, {})
        title = pc.TABLE_3_8_ROWS[task][0] if task in pc.TABLE_3_8_ROWS else "Regression (not in Table 3.8)"
        sgd = results.get(exp, "sgd")
        base = sgd.time_per_epoch() if sgd else None
        row = [f"{_md(title)}: {_exp_name(exp)}"]
        for run_name in names:
            run = results.get(exp, run_name)
            t = run.time_per_epoch() if run else None
            ratio = t / base if (t is not None and base) else None
            cell = _ratio_cell(claims.get(run_name), ratio, run_name == "sgd")
            if run is None:
                cell = Cell(cell.paper, "no run", Verdict(NO_COMPARISON, ""))
            elif base is None:
                cell = Cell(cell.paper, "no SGD time", Verdict(NO_COMPARISON, ""))
            row.append(ledger.cell(f"Table 3.8 (a), {_exp_name(exp)}, {pc.run_label(run_name)}", cell))
        rows.append(row)
    lines += _table(["Task"] + [_md(_label_of(results, r, ["exp1", "exp4"])) for r in names], rows)
    lines += _batch_note(results, ["exp1", "exp4"])
    return lines + _section_table_3_8_fair(results, ledger)


def _batch_note(results: Results, exps) -> list:
    parts = []
    for exp in exps:
        runs = results.experiment(exp)
        if runs:
            each = ", ".join(f"{_md(r.label)} {r.batch_size or '?'}×{r.epochs_run}" for r in runs.values())
            parts.append(f"{_exp_name(exp)}: {each}")
    return [f"Batch size × epochs run — {'; '.join(parts)}.", ""] if parts else []


def _bench_task(bench: dict) -> str:
    info = pc.EXPERIMENTS.get(str(bench.get("experiment", "exp1")))
    return info.task if info else "regression"


def _section_table_3_8_fair(results: Results, ledger: _Ledger) -> list:
    lines = ["### (b) The fair measure: one step at the same batch size", ""]
    bench = results.bench
    per_step = (bench or {}).get("per_step_s")
    if not isinstance(per_step, dict) or not per_step:
        return lines + ["No per-step timings (bench.json is missing or has no `per_step_s`): "
                        "run `gfref bench --out OUT` to fill this.", ""]
    task = _bench_task(bench)
    ratios = bench.get("ratio_to_sgd") if isinstance(bench.get("ratio_to_sgd"), dict) else {}
    sgd_time = per_step.get("sgd")
    threads = bench.get("blas_threads")
    threads_text = f", {threads} BLAS thread{'s' if threads != 1 else ''}" if _is_number(threads) else ""
    lines += [f"From bench.json: {_exp_name(str(bench.get('experiment', 'exp1')))}, batch "
              f"{bench.get('batch_size', '?')} for every scheme, {bench.get('dtype', 'float64')}{threads_text}; compared with "
              f"Table 3.8's {task} row. §2.3's per-iteration complexity is shown beside it.", ""]
    rows = []
    for run_name in table_rows([r for r in pc.TABLE_3_8[task] if r in per_step], per_step):
        t = per_step.get(run_name)
        ratio = ratios.get(run_name)
        if not _is_number(ratio) and _is_number(t) and _is_number(sgd_time) and sgd_time > 0:
            ratio = t / sgd_time
        ratio = float(ratio) if _is_number(ratio) else None
        cell = _ratio_cell(pc.TABLE_3_8[task].get(run_name), ratio, run_name == "sgd")
        complexity = pc.plain(pc.COMPLEXITY_2_3[run_name][0]) if run_name in pc.COMPLEXITY_2_3 else "—"
        rows.append([_md(pc.run_label(run_name)), complexity, fmt_seconds(t) if _is_number(t) else "—",
                     ledger.cell(f"Table 3.8 (b), {pc.run_label(run_name)}", cell)])
    at64 = bench.get("ieq_batch64")
    if isinstance(at64, dict) and _is_number(at64.get("ratio_to_sgd")):
        cell = _ratio_cell(pc.TABLE_3_8[task].get("ieq"), float(at64["ratio_to_sgd"]), False)
        rows.append(["IEQ (Full Jacobian) at batch 64, against SGD at 64", pc.plain(pc.COMPLEXITY_2_3["ieq"][0]),
                     fmt_seconds((at64.get("per_step_s") or {}).get("ieq")),
                     ledger.cell("Table 3.8 (b), IEQ (Full Jacobian) at batch 64", cell)])
    return lines + _table(["Algorithm", "§2.3 per-iteration (paper)", "Per step (measured)",
                           "Relative to SGD: paper \\| measured"], rows)


def _itemsize(dtype) -> int:
    return 4 if str(dtype) == "float32" else 8


def _section_memory(results: Results, ledger: _Ledger) -> list:
    lines = [
        "## §3.6.4 — memory", "",
        f"Source: {pc.MEMORY_3_6_4_SOURCE} (SAV has no row there; its claim is taken from "
        f"{pc.COMPLEXITY_2_3_SOURCE}). Note (DESIGN E8): with 𝓛 = λI the SAV/ExpSAV solve "
        "(I + Δt𝓛)⁻¹ is the scalar 1/(1 + Δtλ), so SAV and ExpSAV need O(n) time and memory; "
        "no Hessian approximation is ever stored. Likewise (E7) full-Jacobian IEQ solves a (B·k)×(B·k) "
        "system, which the structured Gram matrix forms without J.", "",
    ]
    bench = results.bench or {}
    aux = bench.get("aux_memory_bytes")
    if not isinstance(aux, dict) or not aux:
        lines += ["No memory measurements (bench.json is missing or has no `aux_memory_bytes`): "
                  "run `gfref bench --out OUT` to fill this.", ""]
        aux = {}
    peaks = bench.get("step_peak_bytes") if isinstance(bench.get("step_peak_bytes"), dict) else {}
    n = bench.get("n_params")
    exp = str(bench.get("experiment", "exp1"))
    k = pc.EXPERIMENTS[exp].k if exp in pc.EXPERIMENTS else 1
    size = _itemsize(bench.get("dtype", "float64"))
    by_run = bench.get("batch_size_by_run") if isinstance(bench.get("batch_size_by_run"), dict) else {}
    rows = []
    for run_name in table_rows(list(pc.MEMORY_3_6_4) + ["sav"], aux):
        claim = pc.MEMORY_3_6_4.get(run_name)
        if claim is not None:
            paper_text, paper_scale = pc.plain(claim.auxiliary), claim.auxiliary_scale
        elif run_name in pc.COMPLEXITY_2_3:
            paper_text = pc.plain(pc.COMPLEXITY_2_3[run_name][1]) + " (§2.3)"
            paper_scale = pc.parse_memory_scale(pc.COMPLEXITY_2_3[run_name][1])
        else:
            paper_text, paper_scale = "—", None
        state = aux.get(run_name)
        extra = None
        if _is_number(peaks.get(run_name)) and _is_number(peaks.get("sgd")):
            extra = max(0.0, float(peaks[run_name]) - float(peaks["sgd"]))
        complexity = pc.plain(pc.COMPLEXITY_2_3[run_name][1]) if run_name in pc.COMPLEXITY_2_3 else "—"
        if not _is_number(state) or not _is_number(n):
            cell = Cell(paper_text, "not measured", Verdict(NO_COMPARISON, ""))
        else:
            elements = (float(state) + (extra or 0.0)) / size
            batch = by_run.get(run_name, bench.get("batch_size"))
            batch = int(batch) if _is_number(batch) else 256  # bench's default batch
            measured = f"{elements:.0f} elements = {elements / float(n):.2g}·n"
            verdict = (judge_memory(paper_scale, elements, int(n), batch * k) if paper_scale
                       else Verdict(NO_COMPARISON, ""))
            cell = Cell(paper_text, measured, verdict)
        rows.append([
            _md(pc.run_label(run_name)), complexity,
            fmt_bytes(state) if _is_number(state) else "—", fmt_bytes(extra) if extra is not None else "—",
            ledger.cell(f"§3.6.4 memory, {pc.run_label(run_name)}", cell),
        ])
    if bench and _is_number(n):
        lines += [f"n = {n} parameters; {bench.get('dtype', 'float64')} ({size} bytes per element); "
                  f"batch = {bench.get('batch_size', '?')}·{k} rows.", ""]
    return lines + _table(["Algorithm", "§2.3 memory (paper)", "State between steps (measured)",
                           "Step peak above SGD (measured)", "Auxiliary memory: paper \\| measured"], rows)


def _at_paper_epoch(run: RunResult, column: str, budget: int | None):
    """(value, why-not) of a metric at the paper's last epoch for this run.

    Returns the value at epoch ``budget`` when the history has it; the run's final value
    and a reason when the comparison is impossible or fails (diverged, too short).
    """
    if budget is None:
        return run.final(column), None
    if run.diverged and run.diverged_epoch is not None and run.diverged_epoch <= budget:
        return None, Verdict(DISAGREE, f"diverged at epoch {run.diverged_epoch}")
    value = run.value_at(column, budget)
    if value is None or not math.isfinite(value):
        return run.final(column), Verdict(NO_COMPARISON, f"not comparable: run had {run.epochs_run} epochs")
    return value, None


def _at_epoch_note(run: RunResult, budget: int | None) -> str:
    """' at epoch E' when a longer run is read at the paper's last epoch, so the reader knows."""
    return f" at epoch {budget}" if budget is not None and run.epochs_run > budget else ""


def _range_cell(paper_text: str, rng, run: RunResult | None, column: str, budget, fmt, rounding) -> Cell:
    if run is None:
        return Cell(paper_text, "no run", Verdict(NO_COMPARISON, ""))
    value, stop = _at_paper_epoch(run, column, budget)
    shown = (f"diverged @ {run.diverged_epoch}" if (stop and stop.mark == DISAGREE)
             else fmt(value) + ("" if stop else _at_epoch_note(run, budget)))
    if stop is not None:
        return Cell(paper_text, shown, stop)
    if rng is None:
        return Cell(paper_text, shown, Verdict(NO_COMPARISON, ""))
    return Cell(paper_text, shown, judge_range(rng[0], rng[1], rounding(value) if value is not None else None))


def _section_mnist(results: Results, ledger: _Ledger) -> list:
    exp = pc.MNIST_3_5_2_EXPERIMENT
    info = pc.EXPERIMENTS[exp]
    rows = []
    for run_name in table_rows(list(pc.MNIST_3_5_2) + ["adam"], results.experiment(exp)):
        claim = pc.MNIST_3_5_2.get(run_name)
        run = results.get(exp, run_name)
        label = pc.PAPER_NAMES.get(run_name) or _label_of(results, run_name, [exp])
        budget = info.budget(run_name)
        absent = "— (absent, E13)" if run_name == "adam" else "—"
        acc = _range_cell(claim.accuracy_text if claim else absent, claim.accuracy_range if claim else None, run,
                          "test_accuracy", budget, fmt_percent, lambda x: round(x, 3))
        loss = _range_cell(claim.loss_text if claim else absent, claim.loss_range if claim else None, run,
                           "test_loss", budget, fmt_num, lambda x: float(f"{x:.3g}"))
        reached = epochs_to_threshold(run.history, pc.TABLE_3_7_THRESHOLD, "test_accuracy", below=False) if run else None
        speed_measured = "no run" if run is None else (
            f"90 % at epoch {reached}" if reached is not None else f"90 % not reached in {run.epochs_run}")
        speed = Cell(claim.speed if claim else absent, speed_measured, Verdict(NO_COMPARISON, "qualitative" if claim else ""))
        rows.append([_md(label),
                     ledger.cell(f"§3.5.2, {label}, final test accuracy", acc),
                     ledger.cell(f"§3.5.2, {label}, final test loss", loss),
                     speed.render()])
    return [
        "## §3.5.2 — MNIST performance summary", "",
        f"Source: {pc.MNIST_3_5_2_SOURCE}. Measured at the paper's last epoch ({info.epochs}; "
        f"{info.budget('ieq')} for full-Jacobian IEQ).", "",
    ] + _table(["Algorithm", "Final test accuracy", "Final test loss", "Convergence speed"], rows)


def _section_final_losses(results: Results, ledger: _Ledger) -> list:
    exp = pc.FINAL_LOSS_3_2_2_EXPERIMENT
    info = pc.EXPERIMENTS[exp]
    rows = []
    for run_name in table_rows(pc.FINAL_LOSS_3_2_2, results.experiment(exp)):
        claim = pc.FINAL_LOSS_3_2_2.get(run_name)
        run = results.get(exp, run_name)
        label = pc.PAPER_NAMES.get(run_name) or _label_of(results, run_name, [exp])
        paper = claim.text if claim else "—"
        if run is None:
            cell = Cell(paper, "no run", Verdict(NO_COMPARISON, ""))
        else:
            value, stop = _at_paper_epoch(run, "test_loss", info.budget(run_name))
            shown = (f"diverged @ {run.diverged_epoch}" if (stop and stop.mark == DISAGREE)
                     else fmt_sci(value) + ("" if stop else _at_epoch_note(run, info.budget(run_name))))
            if stop is not None:
                cell = Cell(paper, shown, stop)
            elif claim is None:
                cell = Cell(paper, shown, Verdict(NO_COMPARISON, ""))
            else:
                cell = Cell(paper, shown, judge_order(claim.exponent, value))
        rows.append([_md(label), ledger.cell(f"§3.2.2, {label}, final test loss", cell),
                     _md(pc.plain(claim.quote)) if claim else ""])
    return [
        "## §3.2.2 — final test losses of Experiment 1", "",
        f"Source: {pc.FINAL_LOSS_3_2_2_SOURCE}. Measured: test loss at epoch {info.epochs}.", "",
    ] + _table(["Algorithm", "Final test loss", "The paper's words"], rows)


def _section_disagreements(ledger: _Ledger) -> list:
    lines = ["## Disagreements", ""]
    return lines + (ledger.lines or ["None."]) + [""]


def _section_runs_that_stopped(results: Results) -> list:
    lines = ["## Diverged runs", ""]
    diverged = [r for r in results.all_runs() if r.diverged]
    lines += [f"- `{r.name}` ({_md(r.label)}): diverged @ epoch {r.diverged_epoch}"
              + (f" — {r.message}" if r.message else "") for r in diverged] or ["None."]
    lines += ["", "## Incomplete runs", ""]
    incomplete = [r for r in results.all_runs() if r.status == "incomplete"]
    lines += [f"- `{r.name}` ({_md(r.label)}): no summary.json; history up to epoch {r.epochs_run} "
              f"of {r.config.get('epochs', '?')}" for r in incomplete] or ["None."]
    return lines + [""]


def _section_paper_notes() -> list:
    return ["## Where the paper disagrees with itself", ""] + [f"- {note}" for note in pc.INCONSISTENCIES] + [""]


def _section_problems(results: Results) -> list:
    lines = ["## Files that could not be read", ""]
    return lines + ([f"- {p}" for p in results.problems] or ["None."]) + [""]


def render_report(results: Results, figures: Mapping | None = None, figure_errors: Mapping | None = None) -> str:
    """The text of REPORT.md for loaded results.

    Parameters
    ----------
    results : Results
        From :func:`load_results`.
    figures : mapping, optional
        experiment → path of its figure (linked by file name, relative to the report).
    figure_errors : mapping, optional
        experiment → why its figure could not be drawn.
    """
    ledger = _Ledger()
    body = (
        _section_how_to_read()
        + _section_runs(results)
        + _section_figures(dict(figures or {}), dict(figure_errors or {}))
        + _section_table_3_6(results, ledger)
        + _section_table_3_7(results, ledger)
        + _section_table_3_8(results, ledger)
        + _section_memory(results, ledger)
        + _section_mnist(results, ledger)
        + _section_final_losses(results, ledger)
    )
    tail = (_section_disagreements(ledger) + _section_runs_that_stopped(results) + _section_paper_notes()
            + _section_problems(results))
    return "\n".join(_section_header(results) + body + tail)


def build_report(out_dir) -> Path:
    """Write ``OUT/REPORT.md`` and Figures 3.1–3.4 (PNG) from the results in ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        A results directory (``<experiment>/<run>/`` folders, optionally bench.json).

    Returns
    -------
    Path
        The path of REPORT.md. Both the report and each figure are written atomically.
    """
    from .plots import save_figures

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise NotADirectoryError(f"not a results directory: {out_dir}")
    results = load_results(out_dir)
    errors: dict = {}
    figures = save_figures(results, out_dir, errors=errors)
    path = out_dir / REPORT_NAME
    atomic_write_text(path, render_report(results, figures, errors))
    return path


__all__ = [
    "AGREE", "Cell", "DISAGREE", "NO_COMPARISON", "REPORT_NAME", "Results", "ResultsWarning", "RunResult",
    "Verdict", "build_report", "epochs_to_threshold", "fmt_bytes", "fmt_num", "fmt_percent", "fmt_ratio",
    "fmt_sci", "fmt_seconds", "judge_epochs", "judge_memory", "judge_order", "judge_range", "judge_ratio",
    "load_results", "load_run", "ordered_runs", "render_report", "scale_size", "table_rows",
]
