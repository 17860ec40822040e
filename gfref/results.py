"""Results on disk, written atomically so an interrupted reproduction loses nothing it finished.

One folder per run, ``OUT/<experiment>/<run>/``:

* ``config.json``  — the resolved configuration (scheme, hyperparameters, batch size, epochs,
  data set, model, backend, dtype, seed) and the package versions;
* ``history.csv``  — one row per epoch (columns :data:`gfref.train.HISTORY_COLUMNS`),
  rewritten after every epoch;
* ``summary.json`` — written last, when the run has ended (finished or diverged): its
  presence marks the run as done.

Every file is written to a temporary file in the same folder and moved into place with
``os.replace``, which is atomic on POSIX and Windows: a reader sees the old file or the new
one, never half of one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import tempfile
from pathlib import Path

from .train import HISTORY_COLUMNS

# Keys of config.json that describe the environment, not the computation: a run done with
# another NumPy version is still the same run for resuming.
_ENVIRONMENT_KEYS = ("versions",)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, flushed to
    disk, then ``os.replace`` — a reader sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(x):
    if hasattr(x, "item"):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _clean(x):
    """NaN and infinities as null: JSON has no such numbers."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(_clean(obj), indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: Path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def history_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_cell(row.get(key)) for key in HISTORY_COLUMNS})
    return buffer.getvalue()


def _csv_cell(x):
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x)  # round-trips exactly; 'nan' and 'inf' stay readable
    return x


def read_history(path: Path) -> list[dict]:
    """Rows of a history.csv with numbers as floats (epoch as int) and empty cells as None."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = []
        for raw in csv.DictReader(handle):
            row = {}
            for key, value in raw.items():
                if value in ("", None):
                    row[key] = None
                elif key == "epoch":
                    row[key] = int(value)
                else:
                    row[key] = float(value)
            rows.append(row)
    return rows


def versions() -> dict:
    """Versions of Python and the numerical packages, for config.json."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in ("gfref", "numpy", "scipy", "array-api-compat", "array-api-strict", "cupy-cuda12x"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out


def same_computation(a: dict, b: dict) -> bool:
    """Whether two config.json contents describe the same run (environment keys aside)."""
    strip = lambda c: {k: v for k, v in c.items() if k not in _ENVIRONMENT_KEYS}  # noqa: E731
    return json.loads(json.dumps(_clean(strip(a)), sort_keys=True, default=_json_default)) == json.loads(
        json.dumps(_clean(strip(b)), sort_keys=True, default=_json_default)
    )


class RunDir:
    """The folder of one run: config, history (rewritten each epoch), summary (written last)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def history_path(self) -> Path:
        return self.path / "history.csv"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    def is_done_with(self, config: dict) -> bool:
        """True when this folder holds a finished run of exactly ``config`` (resume skips it)."""
        if not (self.summary_path.exists() and self.config_path.exists() and self.history_path.exists()):
            return False
        try:
            return same_computation(read_json(self.config_path), config)
        except (OSError, ValueError):
            return False

    def start(self, config: dict) -> None:
        """Begin (or restart) the run: the old summary goes first, so a crash leaves it unfinished."""
        self.path.mkdir(parents=True, exist_ok=True)
        if self.summary_path.exists():
            self.summary_path.unlink()
        write_json(self.config_path, config)
        self.rows: list[dict] = []

    def add_epoch(self, row: dict) -> None:
        self.rows.append(row)
        atomic_write_text(self.history_path, history_csv(self.rows))

    def finish(self, summary: dict) -> None:
        write_json(self.summary_path, summary)
