"""MNIST for Experiment 4 (paper §3.5.1): an IDX reader and the shipped 8,000 / 2,000 subsample.

The paper trains on a random subsample of MNIST, 8,000 of the 60,000 training images and 2,000 of
the 10,000 test images, each image flattened to 784 pixels and scaled by ``x / 255.0``::

    train_indices = torch.randperm(60000)[:8000]
    test_indices = torch.randperm(10000)[:2000]

:func:`subsample_indices` does the same with NumPy's seeded generator. The package ships the
subsample drawn with ``seed=0`` (``mnist_subsample.npz``, see ``MNIST_SUBSAMPLE.md``), so
``load_mnist()`` needs no download, and ``load_mnist(path=DIR)`` with the full MNIST in ``DIR``
draws the *same* subsample from it (and other ones with other seeds).

IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header, then the raw bytes::

    magic  = 0x00 0x00 <type code> <number of dimensions>   (type 0x08 = unsigned byte)
    sizes  = one big-endian uint32 per dimension
    data   = prod(sizes) bytes, C order

Images have magic 2051 (0x00000803: uint8, 3 dimensions N x 28 x 28), labels magic 2049
(0x00000801: uint8, 1 dimension N).
"""

from __future__ import annotations

import gzip
import struct
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import DataError, check_int
from .synthetic import Dataset, _frozen

__all__ = [
    "MnistArrays", "read_idx", "find_mnist_files", "load_mnist_dir", "subsample_indices",
    "read_shipped", "load_mnist", "IDX_FILES", "PAPER_SUBSAMPLE", "SHIPPED_FILE",
]

IMAGES_MAGIC = 0x00000803  # 2051
LABELS_MAGIC = 0x00000801  # 2049
N_CLASSES = 10
IDX_FILES = {  # key -> file name without the optional ".gz"
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
PAPER_SUBSAMPLE = (8_000, 2_000)  # §3.5.1: training and test images kept
SHIPPED_FILE = "mnist_subsample.npz"
_GZIP_MAGIC = b"\x1f\x8b"
_SHIPPED_WHERE = f"{__package__.replace('.', '/')}/{SHIPPED_FILE}"  # for messages


def read_idx(path) -> np.ndarray:
    """Read one MNIST IDX file, plain or gzip-compressed, and check it thoroughly.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Compression is detected from the gzip magic bytes ``1f 8b``, not from the name.

    Returns
    -------
    ndarray of uint8
        Images: shape (N, rows, cols) for magic 2051. Labels: shape (N,) for magic 2049.

    Raises
    ------
    DataError
        The file is missing or unreadable, the gzip stream is corrupt, the magic number is not
        2051 or 2049, the header or data are shorter (or longer) than the header declares, or a
        label lies outside 0–9. The message names the file.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read the file ({e.strerror or e})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
            raise DataError(f"{path}: corrupt gzip stream ({e})") from None
    if len(raw) < 4:
        raise DataError(f"{path}: truncated: {len(raw)} bytes, fewer than the 4-byte magic number")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        hint = ""
        if raw[:2] == b"\x00\x00" and raw[2] != 0x08:
            hint = f" (type code 0x{raw[2]:02x}; MNIST uses only 0x08 = unsigned byte)"
        raise DataError(
            f"{path}: wrong magic number {magic} (0x{magic:08x}){hint}; expected 2051 "
            f"(0x00000803, images) or 2049 (0x00000801, labels)"
        )
    what = "images" if magic == IMAGES_MAGIC else "labels"
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header: {len(raw)} bytes, the {what} header needs "
                        f"{header}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected, actual = int(np.prod(dims, dtype=np.int64)), len(raw) - header
    if actual != expected:
        shape = " x ".join(map(str, dims))
        problem = "truncated" if actual < expected else "too long"
        raise DataError(f"{path}: {problem}: the header declares {what} of shape {shape} = "
                        f"{expected} bytes of data, the file holds {actual}")
    array = np.frombuffer(raw, dtype=np.uint8, count=expected, offset=header).reshape(dims)
    if magic == LABELS_MAGIC:
        bad = np.flatnonzero(array >= N_CLASSES)
        if bad.size:
            raise DataError(f"{path}: {bad.size} labels outside 0–9 (the first at index "
                            f"{bad[0]}: {array[bad[0]]})")
    return array.copy()  # np.frombuffer on bytes is read-only; hand out an ordinary array


def find_mnist_files(directory) -> dict[str, Path]:
    """Paths of the four MNIST files in ``directory``, each plain or with a ``.gz`` suffix.

    Raises
    ------
    DataError
        If ``directory`` is not a directory or some of the four files are missing.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: not a directory (expected one holding the four MNIST "
                        f"IDX files {', '.join(IDX_FILES.values())}, optionally .gz)")
    found, missing = {}, []
    for key, stem in IDX_FILES.items():
        candidates = [directory / stem, directory / f"{stem}.gz"]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(f"{stem}[.gz]")
        else:
            found[key] = hit
    if missing:
        raise DataError(f"{directory}: missing MNIST file(s) {', '.join(missing)}")
    return found


class MnistArrays(NamedTuple):
    """The full MNIST as read from IDX files: uint8 images (N, 784), int64 labels (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_mnist_dir(directory) -> MnistArrays:
    """Read the four MNIST IDX files of ``directory`` and check that they fit together.

    Returns
    -------
    MnistArrays
        Images flattened to (N, rows*cols) uint8 (784 pixels for MNIST), labels int64 (N,).

    Raises
    ------
    DataError
        A file is missing or malformed (see :func:`read_idx`), an images file holds labels or vice
        versa, or a split has different numbers of images and labels.
    """
    files = find_mnist_files(directory)
    out = {}
    for split in ("train", "test"):
        images = read_idx(files[f"{split}_images"])
        labels = read_idx(files[f"{split}_labels"])
        if images.ndim != 3:
            raise DataError(f"{files[f'{split}_images']}: holds labels (magic 2049), "
                            f"expected images (magic 2051)")
        if labels.ndim != 1:
            raise DataError(f"{files[f'{split}_labels']}: holds images (magic 2051), "
                            f"expected labels (magic 2049)")
        if len(images) != len(labels):
            raise DataError(f"{directory}: the {split} split has {len(images)} images "
                            f"({files[f'{split}_images'].name}) but {len(labels)} labels "
                            f"({files[f'{split}_labels'].name})")
        out[f"{split}_images"] = images.reshape(len(images), -1)
        out[f"{split}_labels"] = labels.astype(np.int64)
    if out["train_images"].shape[1] != out["test_images"].shape[1]:
        raise DataError(f"{directory}: training images have {out['train_images'].shape[1]} "
                        f"pixels, test images {out['test_images'].shape[1]}")
    return MnistArrays(**out)


def subsample_indices(n_train_total: int, n_test_total: int, n_train: int, n_test: int,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The paper's random subsample (§3.5.1), with NumPy instead of ``torch.randperm``.

    Draws ``permutation(n_train_total)[:n_train]``, then ``permutation(n_test_total)[:n_test]``
    from ``numpy.random.default_rng(seed)``. The indices are in random order, not sorted, so the
    first ``k`` of them are again a random subsample (what :meth:`Dataset.subset` relies on), and
    they are the same for every ``n_train``/``n_test`` with the same seed and totals.
    """
    n_train_total = check_int("n_train_total", n_train_total, 1)
    n_test_total = check_int("n_test_total", n_test_total, 1)
    n_train = check_int("n_train", n_train, 1, n_train_total)
    n_test = check_int("n_test", n_test, 1, n_test_total)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    return rng.permutation(n_train_total)[:n_train], rng.permutation(n_test_total)[:n_test]


def read_shipped() -> dict[str, np.ndarray]:
    """The arrays of the shipped subsample ``mnist_subsample.npz``, checked.

    Read through ``importlib.resources``, so it works from an installed wheel. Keys: uint8
    ``train_images`` (8000, 784), ``train_labels``, ``test_images`` (2000, 784), ``test_labels``;
    ``train_indices``/``test_indices`` (uint16, positions in the full 60,000 / 10,000 sets);
    ``seed``; ``source_files``/``source_sha256`` (the IDX files it was drawn from).
    """
    ref = resources.files(__package__).joinpath(SHIPPED_FILE)
    try:
        with resources.as_file(ref) as p, np.load(p, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError:
        raise DataError(f"{_SHIPPED_WHERE}: the shipped MNIST subsample is missing; reinstall "
                        f"the package or rebuild it with tools/make_mnist_subsample.py") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{_SHIPPED_WHERE}: cannot read the shipped MNIST subsample "
                        f"({e})") from None
    required = ("train_images", "train_labels", "test_images", "test_labels",
                "train_indices", "test_indices", "seed")
    missing = [k for k in required if k not in arrays]
    if missing:
        raise DataError(f"{_SHIPPED_WHERE}: missing arrays {missing}")
    for split, total in (("train", 60_000), ("test", 10_000)):
        images, labels, idx = (arrays[f"{split}_{k}"] for k in ("images", "labels", "indices"))
        if not (images.dtype == labels.dtype == np.uint8 and images.ndim == 2
                and len(images) == len(labels) == len(idx)):
            raise DataError(f"{_SHIPPED_WHERE}: inconsistent {split} arrays")
        if labels.max() >= N_CLASSES or idx.max() >= total or len(np.unique(idx)) != len(idx):
            raise DataError(f"{_SHIPPED_WHERE}: {split} labels or indices out of range")
    return arrays


def load_mnist(path=None, *, seed: int = 0, subsample=PAPER_SUBSAMPLE) -> Dataset:
    """MNIST as a classification :class:`Dataset` (Experiment 4, §3.5.1).

    Parameters
    ----------
    path : str or os.PathLike, optional
        ``None`` (default): the subsample shipped with the package (drawn with seed 0).
        Otherwise a directory with the four MNIST IDX files (see :func:`load_mnist_dir`).
    seed : int, default 0
        Seed of :func:`subsample_indices`. The shipped subsample exists for seed 0 only; other
        seeds need ``path``.
    subsample : (int, int) or None, default (8000, 2000)
        Training and test images kept, as in the paper. ``None`` keeps everything: the whole
        shipped subsample, or the full 60,000 / 10,000 sets when ``path`` is given.

    Returns
    -------
    Dataset
        ``X`` float64 (N, 784) with pixels ``x / 255.0`` in [0, 1]; ``y`` int64 labels 0–9.
        ``info`` holds the seed, ``train_indices`` and ``test_indices`` (positions in the full
        sets) and the source.
    """
    seed = check_int("seed", seed, 0)
    if subsample is not None:
        if not isinstance(subsample, (tuple, list)) or len(subsample) != 2:
            raise TypeError(f"subsample must be a pair (n_train, n_test) or None, got "
                            f"{subsample!r}")
        subsample = (check_int("subsample[0] (n_train)", subsample[0], 1),
                     check_int("subsample[1] (n_test)", subsample[1], 1))
    info = {"seed": seed, "section": "§3.5.1", "n_classes": N_CLASSES,
            "pixel_scale": "x / 255.0"}
    if path is None:
        s = read_shipped()
        if seed != int(s["seed"]):
            raise ValueError(f"the shipped MNIST subsample was drawn with seed {int(s['seed'])}; "
                             f"seed={seed} needs the full MNIST: pass path=<directory with the "
                             f"four IDX files>")
        n_tr, n_te = len(s["train_labels"]), len(s["test_labels"])
        if subsample is not None:
            if subsample[0] > n_tr or subsample[1] > n_te:
                raise ValueError(f"subsample={subsample} exceeds the shipped subsample "
                                 f"({n_tr}, {n_te}); pass path=<full MNIST directory> for more")
            # the shipped indices are a random permutation's prefix, so a shorter prefix is
            # exactly what load_mnist(path=full MNIST, seed=0, subsample=...) would draw
            n_tr, n_te = subsample
        arrays = (s["train_images"][:n_tr], s["train_labels"][:n_tr],
                  s["test_images"][:n_te], s["test_labels"][:n_te])
        tr_idx, te_idx = s["train_indices"][:n_tr], s["test_indices"][:n_te]
        info["source"] = f"shipped subsample {_SHIPPED_WHERE}"
        if "source_files" in s:
            info["source_sha256"] = dict(zip(s["source_files"].tolist(),
                                             s["source_sha256"].tolist()))
    else:
        full = load_mnist_dir(path)
        n_tr_all, n_te_all = len(full.train_labels), len(full.test_labels)
        if subsample is None:
            tr_idx, te_idx = np.arange(n_tr_all), np.arange(n_te_all)
        else:
            tr_idx, te_idx = subsample_indices(n_tr_all, n_te_all, *subsample, seed=seed)
        arrays = (full.train_images[tr_idx], full.train_labels[tr_idx],
                  full.test_images[te_idx], full.test_labels[te_idx])
        info["source"] = f"IDX files in {Path(path)}"
    info["train_indices"] = _frozen(tr_idx, np.int64)
    info["test_indices"] = _frozen(te_idx, np.int64)
    Xtr, ytr, Xte, yte = arrays
    return Dataset(Xtr / 255.0, ytr.astype(np.int64), Xte / 255.0, yte.astype(np.int64),
                   name="mnist", task="classification", info=info)
