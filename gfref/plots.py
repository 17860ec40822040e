"""Figures 3.1–3.4: the loss (and accuracy) curves of §3, one line per run.

Each function takes loaded results (:func:`gfref.report.load_results`) and returns a
:class:`matplotlib.figure.Figure`, so a notebook can show it and a script can save it::

    from gfref.report import load_results
    from gfref.plots import figure_regression, figure_mnist
    results = load_results("results")
    fig = figure_regression(results.experiment("exp1"), "Experiment 1")
    fig = figure_mnist(results.experiment("exp4"))

Conventions, the same in every figure so that curves can be compared across experiments:

* one colour per scheme; a relaxed variant (§2.4) has its base scheme's colour, dashed;
* loss axes are logarithmic, x is the epoch (0 = the initial point);
* a diverged run ends with an ✕ at its last finite point and says "(diverged @ e)" in the
  legend; runs the paper did not run say "(not in paper)"; unfinished runs "(incomplete)";
* a dotted line marks Table 3.6's threshold (test loss 1e-4) and Table 3.7's (90 %).

matplotlib is imported inside the functions: ``import gfref`` (and ``import gfref.plots``)
must stay light. Figures are built on the object-oriented API with an Agg canvas, never
through pyplot's global state, so saving works without a display.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import numpy as np

from . import paper_claims as pc

#: One colour per scheme (tab10 names); relaxed runs reuse their base scheme's colour.
SCHEME_COLORS = {
    "sgd": "tab:gray",
    "adam": "tab:purple",
    "sav": "tab:blue",
    "expsav": "tab:orange",
    "ieq": "tab:green",
    "ieq_adaptive": "tab:red",
}
_OTHER_COLORS = ("tab:brown", "tab:pink", "tab:olive", "tab:cyan", "black")

#: File names of the saved figures, by experiment.
FIGURE_FILES = {
    "exp1": "figure_3_1_exp1.png",
    "exp2": "figure_3_2_exp2.png",
    "exp3": "figure_3_3_exp3.png",
    "exp4": "figure_3_4_exp4.png",
}

DPI = 110


def _runs(exp_results) -> list:
    """The RunResults of a mapping (run → RunResult) or of any iterable of them."""
    if isinstance(exp_results, Mapping):
        return list(exp_results.values())
    return list(exp_results)


def run_style(run, others: dict | None = None) -> dict:
    """Line colour and style of a run: scheme colour, dashed when relaxed.

    Parameters
    ----------
    run : RunResult
    others : dict, optional
        Colours already handed to unknown runs in this figure (filled in here).
    """
    base = pc.base_run(run.run)
    color = SCHEME_COLORS.get(base)
    if color is None:
        others = {} if others is None else others
        color = others.setdefault(run.run, _OTHER_COLORS[len(others) % len(_OTHER_COLORS)])
    return {"color": color, "linestyle": "--" if run.relaxed else "-", "linewidth": 1.4}


def legend_label(run) -> str:
    """The run's label with what a reader must know: not in paper, diverged, incomplete."""
    from .report import run_tags

    return run.label + run_tags(run)


def _plot_column(ax, run, column: str, style: dict, log: bool, scale: float = 1.0,
                 top: float | None = None) -> bool:
    """Draw one history column of one run; mark the last finite point of a diverged run.

    Non-finite values (and, on a log axis, values ≤ 0) are left out: the line simply ends
    where a run diverged. ``top`` is the upper y-limit the panel will get: a ✕ above it is
    drawn on the top edge, so a blow-up before the NaN still shows where the run ended.
    Returns whether anything was drawn.
    """
    epochs = run.epochs
    values = run.column(column) * scale
    ok = np.isfinite(values) & (values > 0 if log else True)
    if not ok.any():
        return False
    ax.plot(epochs[ok], values[ok], **style)
    if run.diverged:
        last = np.flatnonzero(ok)[-1]
        y = values[last] if top is None else min(values[last], top)
        ax.plot([epochs[last]], [y], marker="x", markersize=10, markeredgewidth=2.2,
                color=style["color"], linestyle="none", clip_on=False)
    return True


def _log_limits(runs, column: str) -> tuple | None:
    """(bottom, top) y-limits for a log panel whose data blow up; None when no limit is needed.

    A run that blows up (1e30 just before its NaN) would otherwise squeeze every other curve
    into the bottom of the panel. The curves of interest all start at the initial loss, so
    the top is 10× the largest starting value; the bottom is half the smallest value (the
    log-scale margins of the huge range would otherwise add decades of empty space).
    """
    starts, peak, low = [], 0.0, math.inf
    for run in runs:
        values = run.column(column)
        finite = values[np.isfinite(values) & (values > 0)]
        if finite.size:
            starts.append(finite[0])
            peak, low = max(peak, float(finite.max())), min(low, float(finite.min()))
    if not starts or peak <= 10.0 * max(starts):
        return None
    return low / 2.0, 10.0 * max(starts)


_THRESHOLD_STYLE = {"color": "0.4", "linestyle": ":", "linewidth": 1.2, "zorder": 0}


def _threshold(ax, y: float, text: str, log: bool) -> None:
    """A dotted line at a table's threshold, kept inside the panel even when no curve gets there.

    Seeing how far a short (quick-mode) run still is from 1e-4 is part of the picture, so
    the y-range is widened to include the line rather than letting it fall off the panel.
    """
    lo, hi = ax.get_ylim()
    if log:
        lo, hi = min(lo, y / 3.0), max(hi, y * 3.0)
    else:
        pad = 0.05 * (hi - lo)
        lo, hi = min(lo, y - pad), max(hi, y + pad)
    ax.set_ylim(lo, hi)
    ax.axhline(y, label=text, **_THRESHOLD_STYLE)  # named in the legend, never over a curve


def _panel_figure(exp_results, panels: list, title: str):
    """A row of panels, one line per run, one shared legend under the panels.

    ``panels`` holds (column, y-label, log axis?, scale, threshold or None).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    runs = _runs(exp_results)
    fig = Figure(figsize=(5.0 * len(panels), 4.6), layout="constrained")
    FigureCanvasAgg(fig)  # an Agg canvas: savefig works headless, pyplot never involved
    axes = fig.subplots(1, len(panels))
    axes = np.atleast_1d(axes)
    others: dict = {}
    handles = []
    limits = [_log_limits(runs, col) if log else None for col, _, log, _, _ in panels]
    for run in runs:
        style = run_style(run, others)
        drawn = [_plot_column(ax, run, col, style, log, scale, lim[1] if lim else None)
                 for ax, lim, (col, _, log, scale, _) in zip(axes, limits, panels)]
        if any(drawn):
            marker = {"marker": "x", "markersize": 8, "markeredgewidth": 2} if run.diverged else {}
            handles.append(Line2D([], [], label=legend_label(run), **style, **marker))
    for ax, lim, (column, ylabel, log, _, threshold) in zip(axes, limits, panels):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # whole epochs
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        if lim is not None:
            ax.set_ylim(*lim)
        if threshold is not None:
            _threshold(ax, *threshold, log=log)
            if handles:
                handles.append(Line2D([], [], label=threshold[1], **_THRESHOLD_STYLE))
        ax.grid(True, which="major", alpha=0.3)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(3, len(handles)), fontsize=9, frameon=False)
    else:
        for ax in axes:
            ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center", va="center", color="0.5")
    fig.suptitle(title)
    return fig


def _default_title(experiment: str) -> str:
    info = pc.EXPERIMENTS.get(experiment)
    if info is None:
        return experiment
    return f"{info.figure} — Experiment {info.number}: {info.title} ({info.section})"


def _experiment_of(exp_results) -> str | None:
    runs = _runs(exp_results)
    return runs[0].experiment if runs else None


def figure_regression(exp_results, title: str | None = None):
    """Figures 3.1–3.3: training loss (left) and test loss (right), log y, against the epoch.

    Parameters
    ----------
    exp_results : mapping or iterable of RunResult
        The runs of one regression experiment (``results.experiment("exp1")``).
    title : str, optional
        The figure title (default: the paper's figure number and the experiment).

    Returns
    -------
    matplotlib.figure.Figure
    """
    title = title or _default_title(_experiment_of(exp_results) or "")
    panels = [
        ("train_loss", "training loss (MSE)", True, 1.0, None),
        ("test_loss", "test loss (MSE)", True, 1.0, (pc.TABLE_3_6_THRESHOLD, "Table 3.6 threshold: test loss 1e-4")),
    ]
    return _panel_figure(exp_results, panels, title)


def figure_mnist(exp_results, title: str | None = None):
    """Figure 3.4: training loss, test loss (log y) and test accuracy (%), against the epoch.

    Parameters
    ----------
    exp_results : mapping or iterable of RunResult
        The runs of Experiment 4 (``results.experiment("exp4")``).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    title = title or _default_title("exp4")
    panels = [
        ("train_loss", "training loss (cross-entropy)", True, 1.0, None),
        ("test_loss", "test loss (cross-entropy)", True, 1.0, None),
        ("test_accuracy", "test accuracy (%)", False, 100.0, (100.0 * pc.TABLE_3_7_THRESHOLD, "Table 3.7 threshold: 90 %")),
    ]
    return _panel_figure(exp_results, panels, title)


def _atomic_savefig(fig, path: Path) -> None:
    """Render the PNG in memory, then write it atomically (:func:`gfref.results.atomic_write_bytes`)."""
    import io

    from .results import atomic_write_bytes

    buffer = io.BytesIO()
    # The constrained layout already fits labels and the outside legend into the figure,
    # so bbox_inches="tight" (a second full draw) is not needed.
    fig.savefig(buffer, format="png", dpi=DPI)
    atomic_write_bytes(path, buffer.getvalue())


def save_figures(results, out_dir, errors: dict | None = None) -> dict:
    """Write ``figure_3_1_exp1.png`` … ``figure_3_4_exp4.png`` for the experiments present.

    Parameters
    ----------
    results : Results
        From :func:`gfref.report.load_results`.
    out_dir : str or Path
        Where the PNG files go.
    errors : dict, optional
        Filled with experiment → message for a figure that could not be drawn; without it,
        the error is raised. (The report passes it so that one bad figure cannot stop it.)

    Returns
    -------
    dict
        experiment → Path of the written figure.
    """
    out_dir = Path(out_dir)
    written = {}
    for exp, filename in FIGURE_FILES.items():
        runs = results.experiment(exp)
        if not runs:
            continue
        try:
            fig = figure_mnist(runs) if pc.EXPERIMENTS[exp].task == "classification" else figure_regression(runs)
            _atomic_savefig(fig, out_dir / filename)
        except Exception as exc:  # noqa: BLE001 — reported in REPORT.md when errors is given
            if errors is None:
                raise
            errors[exp] = f"{type(exc).__name__}: {exc}"
            continue
        written[exp] = out_dir / filename
    return written


__all__ = ["FIGURE_FILES", "SCHEME_COLORS", "figure_mnist", "figure_regression", "legend_label", "run_style",
           "save_figures"]
