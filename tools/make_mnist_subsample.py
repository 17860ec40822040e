#!/usr/bin/env python
"""Rebuild ``gfref/data/mnist_subsample.npz``, the MNIST subsample shipped with gfref (§3.5.1).

Usage::

    python tools/make_mnist_subsample.py --source DIR [--seed 0] [--out FILE]

``DIR`` holds the four standard MNIST IDX files (plain or ``.gz``). The script reads and checks
them with :func:`gfref.data.mnist.load_mnist_dir`, verifies them against ``DIR/SHA256SUMS`` if that
file exists, draws the subsample with :func:`gfref.data.mnist.subsample_indices` (the function
``load_mnist(path=DIR)`` uses, so the two always agree) and writes, with ``np.savez_compressed``:

* ``train_images`` uint8 (8000, 784), ``train_labels`` uint8 (8000,)
* ``test_images`` uint8 (2000, 784), ``test_labels`` uint8 (2000,)
* ``train_indices``, ``test_indices`` uint16: positions in the full 60,000 / 10,000 sets, in the
  order drawn (a random permutation's prefix, not sorted)
* ``seed`` int64 scalar; ``source_files``, ``source_sha256`` (of the files as read) and
  ``source_content_sha256`` (of their uncompressed IDX bytes), str: what it was drawn from.

The arrays are reproducible for a seed; the zip container's bytes are not (it stores a timestamp).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout, without installing the package

from gfref.data import mnist  # noqa: E402


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content_sha256(path: Path) -> str:
    """SHA-256 of the uncompressed IDX bytes: unlike the .gz file's, it does not depend on the
    gzip settings, so copies of MNIST compressed differently can be compared."""
    raw = path.read_bytes()
    return hashlib.sha256(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).hexdigest()


def check_sums(directory: Path, files: dict[str, Path], digests: dict[str, str]) -> None:
    """Compare against ``SHA256SUMS`` (``sha256sum`` format) when the directory has one."""
    sums = directory / "SHA256SUMS"
    if not sums.is_file():
        print("note: no SHA256SUMS in the source directory, checksums not verified")
        return
    listed = dict(reversed(line.split(maxsplit=1)) for line in sums.read_text().splitlines()
                  if line.strip())
    for path in files.values():
        want = listed.get(path.name) or listed.get("*" + path.name)  # "*": binary mode
        if want is None:
            sys.exit(f"error: {path.name} is not listed in SHA256SUMS")
        if want != digests[path.name]:
            sys.exit(f"error: {path.name}: SHA-256 {digests[path.name]} != {want} in SHA256SUMS")
    print("SHA256SUMS: all four files OK")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True, type=Path,
                    help="directory with the four MNIST IDX files (plain or .gz)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the subsample (default 0)")
    ap.add_argument("--n-train", type=int, default=mnist.PAPER_SUBSAMPLE[0])
    ap.add_argument("--n-test", type=int, default=mnist.PAPER_SUBSAMPLE[1])
    ap.add_argument("--out", type=Path, default=REPO / "gfref" / "data" / mnist.SHIPPED_FILE)
    args = ap.parse_args(argv)

    files = mnist.find_mnist_files(args.source)
    digests = {p.name: sha256(p) for p in files.values()}
    check_sums(args.source, files, digests)
    content = {p.name: content_sha256(p) for p in files.values()}
    full = mnist.load_mnist_dir(args.source)
    tr, te = mnist.subsample_indices(len(full.train_labels), len(full.test_labels),
                                     args.n_train, args.n_test, seed=args.seed)
    assert max(len(full.train_labels), len(full.test_labels)) <= 2**16  # indices fit uint16
    names = sorted(digests)
    np.savez_compressed(
        args.out,
        train_images=full.train_images[tr], train_labels=full.train_labels[tr].astype(np.uint8),
        test_images=full.test_images[te], test_labels=full.test_labels[te].astype(np.uint8),
        train_indices=tr.astype(np.uint16), test_indices=te.astype(np.uint16),
        seed=np.int64(args.seed),
        source_files=np.array(names), source_sha256=np.array([digests[n] for n in names]),
        source_content_sha256=np.array([content[n] for n in names]),
    )
    with np.load(args.out, allow_pickle=False) as npz:  # read back: the file holds what we drew
        assert np.array_equal(npz["train_images"], full.train_images[tr])
        assert np.array_equal(npz["test_indices"], te)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    for name in names:
        print(f"  {digests[name]}  {name}\n    uncompressed: {content[name]}")
    for split, idx, labels in (("train", tr, full.train_labels), ("test", te, full.test_labels)):
        counts = np.bincount(labels[idx], minlength=10)
        print(f"  {split}: {len(idx)} images, class counts {' '.join(map(str, counts))}")


if __name__ == "__main__":
    main()
