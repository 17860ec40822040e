"""The ``gfref`` command: reproduce §3, run one experiment, rebuild a report, benchmark.

    gfref reproduce [--quick | --full] [--experiments exp1 exp4] [--schemes sgd sav] [--out DIR]
                    [--backend numpy|cupy|array_api_strict] [--dtype float64|float32] [--seed N]
    gfref run EXPERIMENT SCHEME [--set dt=0.1 --set C=10] [--epochs N] [--batch-size B] [--out DIR]
    gfref report DIR
    gfref bench [--out DIR] [--repeats N] [--threads N] [--quick]

Bad arguments give one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from .backend import BACKENDS, DTYPES, BackendError
from .experiments import EXPERIMENTS, MODES, RUN_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gfref",
        description="A reference implementation of the energy-stable gradient-flow optimizers "
        "(SAV, ExpSAV, IEQ) of 'Efficient and Stable Gradient Flow Methods for Deep Learning'.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add_common(p, out_default):
        p.add_argument("--out", type=Path, default=Path(out_default), help=f"output directory (default: {out_default})")
        p.add_argument("--backend", choices=BACKENDS, default="numpy", help="array library (default: numpy)")
        p.add_argument("--dtype", choices=DTYPES, default="float64", help="floating dtype (default: float64)")
        p.add_argument("--seed", type=int, default=0, help="seed of the data, the initial weights and the batch order (default: 0)")
        p.add_argument("--mnist-dir", default=None, help="directory with the four MNIST IDX files (default: the shipped 8000/2000 subsample)")
        p.add_argument("--quiet", action="store_true", help="no progress display")

    rep = sub.add_parser(
        "reproduce",
        help="run the four experiments of §3 and write REPORT.md with the figures",
        description="Run the experiments of §3 with every scheme, then write OUT/REPORT.md and the figures. "
        "Finished runs with the same configuration are skipped, so an interrupted reproduction resumes.",
    )
    size = rep.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="mode", action="store_const", const="quick", help="reduced epochs and samples (the default; a few minutes)")
    size.add_argument("--full", dest="mode", action="store_const", const="full", help="the paper's sizes and epochs")
    rep.set_defaults(mode="quick")
    rep.add_argument("--experiments", nargs="+", choices=list(EXPERIMENTS), metavar="EXP", help=f"experiments to run (default: all of {', '.join(EXPERIMENTS)})")
    rep.add_argument("--schemes", nargs="+", choices=RUN_NAMES, metavar="RUN", help=f"runs to include (default: all of {', '.join(RUN_NAMES)})")
    rep.add_argument("--jobs", type=int, default=1, help="runs at once, in worker processes with one BLAS thread each (default: 1)")
    add_common(rep, "gfref-results")

    run = sub.add_parser(
        "run",
        help="train one scheme on one experiment, with any hyperparameter overridden",
        description="Train one scheme on one experiment and save it under OUT/EXPERIMENT/RUN.",
    )
    run.add_argument("experiment", choices=list(EXPERIMENTS), help="experiment")
    run.add_argument("scheme", choices=RUN_NAMES, help="run name")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE", help="override a hyperparameter, e.g. --set dt=0.05 --set form=thm2.1 (repeatable)")
    run.add_argument("--epochs", type=int, default=None, help="epochs (default: the paper's)")
    run.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default: the paper's)")
    run.add_argument("--quick", action="store_true", help="use the quick mode's data size and epochs")
    add_common(run, "gfref-results")

    report = sub.add_parser("report", help="rebuild REPORT.md and the figures from saved results", description="Rebuild DIR/REPORT.md and the figures from the runs saved in DIR.")
    report.add_argument("directory", type=Path, help="a results directory written by 'gfref reproduce' or 'gfref run'")

    bench = sub.add_parser(
        "bench",
        help="time the schemes side by side and print ratios to SGD",
        description="Time one step of each scheme at the same batch size (Experiment 1), the structured-Gram against the "
        "explicit-Jacobian IEQ on MNIST, peak auxiliary memory, and (when PyTorch is installed) an SGD epoch against PyTorch.",
    )
    bench.add_argument("--out", type=Path, default=None, help="also write OUT/bench.json (the report's fair Table 3.8 and memory table)")
    bench.add_argument("--repeats", type=int, default=50, help="timed steps per scheme (default: 50)")
    bench.add_argument("--threads", type=int, default=1,
                       help="BLAS (and PyTorch) threads during the measurements (default: 1, as each worker of 'reproduce --jobs')")
    bench.add_argument("--quick", action="store_true", help="fewer repeats and a smaller explicit-Jacobian case")
    return parser


def _parse_override(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--set expects NAME=VALUE; got {text!r}")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value  # a bare word such as thm2.1 or jzz
    return name.strip(), parsed


def _cmd_reproduce(args) -> int:
    from .runner import reproduce

    reproduce(
        args.out,
        mode=args.mode,
        experiments=args.experiments,
        runs=args.schemes,
        backend=args.backend,
        dtype=args.dtype,
        seed=args.seed,
        mnist_dir=args.mnist_dir,
        jobs=args.jobs,
        progress=False if args.quiet else None,
    )
    return 0


def _cmd_run(args) -> int:
    from . import schemes
    from .runner import load_dataset, override_spec, resolve_config, run_one

    experiment = EXPERIMENTS[args.experiment]
    spec = override_spec(experiment.run_spec(args.scheme), batch_size=args.batch_size)
    if spec.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1; got {spec.batch_size}")
    if args.epochs is not None and args.epochs < 0:
        raise ValueError(f"--epochs must be >= 0; got {args.epochs}")
    overrides = dict(_parse_override(o) for o in args.overrides)
    mode = MODES["quick" if args.quick else "full"]
    dataset = load_dataset(experiment, mode, args.seed, args.mnist_dir)
    config = resolve_config(experiment, spec, mode, backend=args.backend, dtype=args.dtype, seed=args.seed,
                            epochs=args.epochs, overrides=overrides, dataset=dataset)
    if overrides or args.batch_size is not None or args.epochs is not None:
        config["mode"] = "custom"
    schemes.get_scheme(config["scheme"], **config["hyperparams"])  # validate before any work
    status = run_one(config, dataset, args.out, progress=False if args.quiet else None, force=True)
    print(f"{args.experiment}/{args.scheme}: {status}; results in {args.out / args.experiment / args.scheme}")
    return 0


def _cmd_report(args) -> int:
    if not args.directory.is_dir():
        raise ValueError(f"{args.directory} is not a directory of results")
    from .report import build_report

    print(build_report(args.directory))
    return 0


def _cmd_bench(args) -> int:
    from .bench import run_bench

    if args.repeats < 1:
        raise ValueError(f"--repeats must be >= 1; got {args.repeats}")
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1; got {args.threads}")
    run_bench(out_dir=args.out, repeats=args.repeats, quick=args.quick, threads=args.threads)
    return 0


COMMANDS = {"reproduce": _cmd_reproduce, "run": _cmd_run, "report": _cmd_report, "bench": _cmd_bench}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .data import DataError
    from .schemes import SchemeError

    try:
        return COMMANDS[args.command](args)
    except (ValueError, TypeError, KeyError, BackendError, SchemeError, DataError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"gfref {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gfref {args.command}: interrupted; finished runs are saved and will be skipped next time", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
