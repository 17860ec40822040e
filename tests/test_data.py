"""Tests of gfref.data: the synthetic sets of §3.2.1–§3.4.1, the IDX reader, MNIST (§3.5.1)."""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gfref.data import DataError, Dataset, load, mnist, synthetic

# ----------------------------------------------------------------------------------------------
# synthetic data (Experiments 1-3)

GENERATORS = {  # name -> (function, default n_train, default n_test)
    "sine_cosine": (synthetic.sine_cosine, 8_000, 2_000),
    "quadratic": (synthetic.quadratic, 8_000, 2_000),
    "gaussian": (synthetic.gaussian, 800, 200),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_paper_sizes_shapes_and_dtypes(name):
    fn, n_train, n_test = GENERATORS[name]
    ds = fn()
    assert isinstance(ds, Dataset) and ds.name == name and ds.task == "regression"
    assert ds.X_train.shape == (n_train, 40) and ds.X_test.shape == (n_test, 40)
    assert ds.y_train.shape == (n_train, 1) and ds.y_test.shape == (n_test, 1)
    for a in (ds.X_train, ds.y_train, ds.X_test, ds.y_test):
        assert a.dtype == np.float64
    assert ds.dim == 40 and ds.n_outputs == 1 and ds.info["seed"] == 0


@pytest.mark.parametrize("name", GENERATORS)
def test_deterministic_for_a_seed_and_different_across_seeds(name):
    a, b, c = load(name, seed=3), load(name, seed=3), load(name, seed=4)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
        assert not np.array_equal(getattr(a, field), getattr(c, field))


def test_smaller_sets_keep_the_target_and_the_first_inputs():
    # quick modes use small sets; they should sample the same function as the paper-sized set
    big = synthetic.sine_cosine(seed=1)
    small = synthetic.sine_cosine(seed=1, n_samples=100, n_train=70, dim=40)
    assert np.array_equal(small.info["p"], big.info["p"])
    assert np.array_equal(small.info["q"], big.info["q"])
    assert np.array_equal(small.X_train, big.X_train[:70])
    assert small.X_test.shape == (30, 40)


def _sample_moment_ok(x, mean, std, n_sigma=5.0):
    """Sample mean and std of ``x`` within n_sigma standard errors of the true values."""
    n = x.size
    assert abs(x.mean() - mean) < n_sigma * std / math.sqrt(n)
    # the sample variance has standard error ~ sqrt((mu4 - sigma^4) / n); for the uniform and
    # normal laws here mu4 <= 3 sigma^4, so sqrt(2/n) * sigma^2 is a safe bound
    assert abs(x.var() - std**2) < n_sigma * math.sqrt(2.0 / n) * std**2


@pytest.mark.parametrize("name, high", [("sine_cosine", 1.0), ("quadratic", 5.0)])
def test_uniform_inputs(name, high):
    ds = load(name)
    X = np.concatenate([ds.X_train, ds.X_test]).ravel()  # 400,000 values
    assert X.min() >= 0.0 and X.max() < high
    assert X.min() < 1e-3 * high and X.max() > (1 - 1e-3) * high  # the whole interval is used
    _sample_moment_ok(X, high / 2, high / math.sqrt(12))
    # no gap in the histogram: each of 10 bins holds 10 % +- 5 sigma of the binomial
    counts = np.histogram(X, bins=10, range=(0, high))[0]
    assert np.all(np.abs(counts - X.size / 10) < 5 * math.sqrt(X.size * 0.1 * 0.9))


def test_gaussian_inputs_have_mean_0_std_0_2_and_independent_features():
    ds = synthetic.gaussian()
    X = np.concatenate([ds.X_train, ds.X_test])  # 1,000 x 40
    _sample_moment_ok(X.ravel(), 0.0, 0.2)
    cov = np.cov(X, rowvar=False)
    off = cov[~np.eye(40, dtype=bool)]
    # each off-diagonal entry has standard error 0.04 / sqrt(1000) ~ 0.0013; 780 of them
    assert np.max(np.abs(off)) < 6 * 0.04 / math.sqrt(1000)


def test_target_parameters_are_standard_normal():
    # p, q and c are drawn from N(0, I): pool them over 50 seeds (4,000 values each)
    p = np.concatenate([synthetic.sine_cosine(seed=s, n_samples=2, n_train=1).info["p"]
                        for s in range(50)])
    c = np.concatenate([synthetic.quadratic(seed=s, n_samples=2, n_train=1).info["c"]
                        for s in range(50)])
    for v in (p, c):
        _sample_moment_ok(v, 0.0, 1.0)


def test_targets_equal_the_formulas():
    # recomputed row by row in plain Python from the parameters stored in info
    ds = synthetic.sine_cosine(seed=2)
    p, q = ds.info["p"], ds.info["q"]
    for x, y in zip(ds.X_test[:50], ds.y_test[:50, 0]):
        px = sum(pi * xi for pi, xi in zip(p, x))
        qx = sum(qi * xi for qi, xi in zip(q, x))
        assert y == pytest.approx(math.sin(px) + math.cos(qx), rel=1e-12, abs=1e-12)

    ds = synthetic.quadratic(seed=2)
    c = ds.info["c"]
    for x, y in zip(ds.X_train[:50], ds.y_train[:50, 0]):
        assert y == pytest.approx(sum(ci * xi**2 for ci, xi in zip(c, x)), rel=1e-12, abs=1e-10)

    ds = synthetic.gaussian(seed=2)
    for x, y in zip(ds.X_train[:50], ds.y_train[:50, 0]):
        assert y == pytest.approx(math.exp(-10 * sum(xi * xi for xi in x)), rel=1e-12)


@pytest.mark.parametrize("kw, exc, pattern", [
    ({"n_samples": 0}, ValueError, "n_samples must satisfy 2 <= n_samples"),
    ({"n_samples": 100, "n_train": 100}, ValueError, "1 <= n_train <= 99"),
    ({"n_samples": 100, "n_train": 0}, ValueError, "n_train"),
    ({"dim": 0}, ValueError, "1 <= dim"),
    ({"seed": -1}, ValueError, "0 <= seed"),
    ({"n_train": 10.5}, TypeError, "n_train must be an integer"),
    ({"dim": True}, TypeError, "dim must be an integer"),
    ({"n_samples": "10"}, TypeError, "n_samples must be an integer"),
])
def test_arguments_are_validated(kw, exc, pattern):
    with pytest.raises(exc, match=pattern):
        synthetic.sine_cosine(**kw)


def test_numpy_integers_and_small_sizes_are_accepted():
    ds = synthetic.gaussian(seed=np.int64(1), n_samples=np.int32(2), n_train=1, dim=1)
    assert ds.X_train.shape == (1, 1) and ds.X_test.shape == (1, 1)


def test_load_by_name():
    ds = load("quadratic", seed=5, n_samples=20, n_train=15, dim=3)
    assert ds.X_train.shape == (15, 3) and ds.info["seed"] == 5
    with pytest.raises(ValueError, match="unknown data set 'mnist2'.*sine_cosine"):
        load("mnist2")


# ----------------------------------------------------------------------------------------------
# the Dataset container


def test_dataset_is_immutable():
    ds = synthetic.gaussian(n_samples=10, n_train=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.X_train = ds.X_test
    with pytest.raises(ValueError, match="read-only"):
        ds.X_train[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        ds.y_test[0] = 1.0


def test_dataset_does_not_freeze_the_callers_arrays():
    X, y = np.zeros((3, 2)), np.zeros((3, 1))
    Dataset(X, y, X, y, name="t", task="regression")
    X[0, 0] = 1.0  # still writable


@pytest.mark.parametrize("kw, pattern", [
    ({"y_train": np.zeros(4)}, r"y_train of a regression set must have shape \(4, 1\)"),
    ({"X_test": np.zeros((2, 3))}, "X_train has 2 features but X_test has 3"),
    ({"X_train": np.zeros(4)}, r"X_train must have shape \(N, D\)"),
    ({"X_train": np.full((4, 2), np.nan)}, "NaN"),
    ({"task": "ranking"}, "task must be one of"),
])
def test_dataset_validates_its_arrays(kw, pattern):
    args = dict(X_train=np.zeros((4, 2)), y_train=np.zeros((4, 1)), X_test=np.zeros((2, 2)),
                y_test=np.zeros((2, 1)), name="t", task="regression")
    with pytest.raises(ValueError, match=pattern):
        Dataset(**{**args, **kw})


def test_classification_labels_must_be_integers():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="integer labels of shape"):
        Dataset(X, np.zeros(3), X, np.zeros(3, int), name="t", task="classification")
    ds = Dataset(X, np.array([0, 2, 1], np.uint8), X, np.zeros(3, int), name="t",
                 task="classification")
    assert ds.y_train.dtype == np.int64 and ds.n_outputs == 3


def test_subset_and_summary():
    ds = synthetic.sine_cosine(n_samples=50, n_train=40)
    sub = ds.subset(10, 5)
    assert np.array_equal(sub.X_train, ds.X_train[:10]) and np.array_equal(sub.y_test,
                                                                           ds.y_test[:5])
    assert sub.info["subset"] == {"n_train": 10, "n_test": 5}
    assert np.array_equal(sub.info["p"], ds.info["p"]) and "subset" not in ds.info
    assert ds.subset(n_test=3).X_train.shape == (40, 40)
    with pytest.raises(ValueError, match="1 <= n_train <= 40"):
        ds.subset(41, 5)
    text = ds.summary()
    assert "sine_cosine (regression, §3.2.1): 40 train / 10 test samples, D = 40" in text


# ----------------------------------------------------------------------------------------------
# the IDX reader on files written here


def idx_bytes(array, magic=None):
    """Serialise ``array`` (uint8) in the IDX format: big-endian magic, sizes, C-order data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = 0x0800 | array.ndim if magic is None else magic
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()


def write(path, raw, gz=False):
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
LABELS = RNG.integers(0, 10, size=6, dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_images_and_labels(tmp_path, gz):
    images = mnist.read_idx(write(tmp_path / "images", idx_bytes(IMAGES), gz))
    labels = mnist.read_idx(write(tmp_path / "labels", idx_bytes(LABELS), gz))
    assert images.dtype == labels.dtype == np.uint8
    assert np.array_equal(images, IMAGES) and np.array_equal(labels, LABELS)
    images[0, 0, 0] = 1  # an ordinary, writable array


def test_compression_is_detected_from_the_bytes_not_the_name(tmp_path):
    assert np.array_equal(mnist.read_idx(write(tmp_path / "a.idx", idx_bytes(LABELS), True)),
                          LABELS)
    assert np.array_equal(mnist.read_idx(write(tmp_path / "b.gz", idx_bytes(LABELS))), LABELS)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 5), rows=st.integers(1, 6), cols=st.integers(1, 6), gz=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_read_idx_round_trip(tmp_path_factory, n, rows, cols, gz, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    d = tmp_path_factory.mktemp("idx")
    assert np.array_equal(mnist.read_idx(write(d / "i", idx_bytes(images), gz)), images)
    assert np.array_equal(mnist.read_idx(write(d / "l", idx_bytes(labels), gz)), labels)


def _corrupt_gzip(raw):
    data = bytearray(gzip.compress(raw))
    data[len(data) // 2] ^= 0xFF  # damage the deflate stream (or its CRC check fails)
    return bytes(data)


@pytest.mark.parametrize("case, content, pattern", [
    ("truncated data", idx_bytes(IMAGES)[:-100],
     "truncated: the header declares images of shape 6 x 28 x 28 = 4704 bytes of data, "
     "the file holds 4604"),
    ("truncated header", idx_bytes(IMAGES)[:10], "truncated header: 10 bytes"),
    ("shorter than the magic", b"\x00\x00", "truncated: 2 bytes"),
    ("too long", idx_bytes(LABELS) + b"\x00", "too long: .* 6 bytes of data, the file holds 7"),
    ("wrong magic", idx_bytes(LABELS, magic=0x0802), "wrong magic number 2050 \\(0x00000802\\)"),
    ("byte-swapped magic", idx_bytes(LABELS, magic=0x01080000), "wrong magic number"),
    ("wrong type code", idx_bytes(LABELS, magic=0x0D01), "type code 0x0d"),
    ("labels out of range", idx_bytes(np.array([1, 2, 10, 3, 255])),
     "2 labels outside 0–9 \\(the first at index 2: 10\\)"),
    ("corrupt gzip", _corrupt_gzip(idx_bytes(IMAGES)), "corrupt gzip stream"),
    ("truncated gzip", gzip.compress(idx_bytes(IMAGES))[:-20], "corrupt gzip stream"),
])
def test_read_idx_errors(tmp_path, case, content, pattern):
    path = write(tmp_path / "bad-file", content)
    with pytest.raises(DataError, match=pattern) as err:
        mnist.read_idx(path)
    assert str(path) in str(err.value) and isinstance(err.value, ValueError)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'nope'}: file not found")):
        mnist.read_idx(tmp_path / "nope")


def make_mnist_dir(directory, n_train=60, n_test=20, gz=True):
    """Small MNIST-shaped IDX files: images hold their own index, so rows can be traced."""
    rng = np.random.default_rng(1)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = (np.arange(n)[:, None, None] + np.zeros((1, 28, 28), int)) % 256
        labels = rng.integers(0, 10, size=n)
        write(directory / f"{prefix}-images-idx3-ubyte{'.gz' if gz else ''}", idx_bytes(images),
              gz)
        write(directory / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels))  # mixed: plain
    return directory


def test_load_mnist_dir(tmp_path):
    full = mnist.load_mnist_dir(make_mnist_dir(tmp_path))
    assert full.train_images.shape == (60, 784) and full.test_images.shape == (20, 784)
    assert full.train_images.dtype == np.uint8 and full.train_labels.dtype == np.int64
    assert np.array_equal(full.train_images[:, 0], np.arange(60))


def test_load_mnist_dir_errors(tmp_path):
    with pytest.raises(DataError, match="not a directory"):
        mnist.load_mnist_dir(tmp_path / "absent")
    make_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"missing MNIST file\(s\) t10k-labels-idx1-ubyte\[.gz\]"):
        mnist.load_mnist_dir(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(19)))
    with pytest.raises(DataError, match="the test split has 20 images .* but 19 labels"):
        mnist.load_mnist_dir(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros((20, 28, 28))))
    with pytest.raises(DataError, match="holds images \\(magic 2051\\), expected labels"):
        mnist.load_mnist_dir(tmp_path)


def test_load_mnist_from_a_directory(tmp_path):
    make_mnist_dir(tmp_path, gz=False)
    ds = load("mnist", path=tmp_path, seed=7, subsample=(8, 4))
    assert ds.task == "classification" and ds.n_outputs == 10
    assert ds.X_train.shape == (8, 784) and ds.y_test.shape == (4,)
    tr, te = mnist.subsample_indices(60, 20, 8, 4, seed=7)
    assert np.array_equal(ds.info["train_indices"], tr)
    # image i of the files holds the value i: x / 255.0 (§3.5.1) of the drawn index
    assert np.array_equal(ds.X_train[:, 100], tr / 255.0)
    assert np.array_equal(ds.X_test[:, 0], te / 255.0)
    everything = load("mnist", path=tmp_path, subsample=None)
    assert everything.X_train.shape == (60, 784)
    assert np.array_equal(everything.info["train_indices"], np.arange(60))
    with pytest.raises(ValueError, match="1 <= n_train <= 60"):
        load("mnist", path=tmp_path, subsample=(61, 4))


def test_subsample_indices_are_prefixes_and_without_replacement():
    tr, te = mnist.subsample_indices(60_000, 10_000, 8_000, 2_000, seed=0)
    tr2, te2 = mnist.subsample_indices(60_000, 10_000, 100, 50, seed=0)
    assert len(np.unique(tr)) == 8_000 and len(np.unique(te)) == 2_000
    assert np.array_equal(tr2, tr[:100]) and np.array_equal(te2, te[:50])


# ----------------------------------------------------------------------------------------------
# the shipped subsample


def test_shipped_subsample():
    ds = load("mnist")
    assert ds.name == "mnist" and ds.task == "classification"
    assert ds.X_train.shape == (8_000, 784) and ds.X_test.shape == (2_000, 784)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    for X, y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        assert X.min() == 0.0 and X.max() == 1.0
        assert set(np.unique(y)) == set(range(10))
        assert np.bincount(y).min() > len(y) / 20  # no class is nearly missing
    assert np.array_equal(np.unique(ds.X_train * 255.0), np.arange(256))  # exactly k / 255
    tr, te = ds.info["train_indices"], ds.info["test_indices"]
    assert len(np.unique(tr)) == 8_000 and tr.max() < 60_000
    assert len(np.unique(te)) == 2_000 and te.max() < 10_000


def test_shipped_file_format():
    raw = mnist.read_shipped()
    assert raw["train_images"].dtype == raw["train_labels"].dtype == np.uint8
    assert raw["train_indices"].dtype == np.uint16 and int(raw["seed"]) == 0
    tr, te = mnist.subsample_indices(60_000, 10_000, 8_000, 2_000, seed=0)
    assert np.array_equal(raw["train_indices"], tr) and np.array_equal(raw["test_indices"], te)
    path = Path(mnist.__file__).with_name(mnist.SHIPPED_FILE)
    assert path.stat().st_size < 4_000_000


def test_shipped_subsample_options():
    small = load("mnist", subsample=(100, 30))
    ds = load("mnist")
    assert np.array_equal(small.X_train, ds.X_train[:100])
    assert np.array_equal(small.info["test_indices"], ds.info["test_indices"][:30])
    sub = ds.subset(100, 30)
    assert np.array_equal(sub.info["train_indices"], small.info["train_indices"])
    with pytest.raises(ValueError, match="seed 0; seed=1 needs the full MNIST"):
        load("mnist", seed=1)
    with pytest.raises(ValueError, match="exceeds the shipped subsample"):
        load("mnist", subsample=(8_001, 10))
    with pytest.raises(TypeError, match="subsample must be a pair"):
        load("mnist", subsample=8_000)


# ----------------------------------------------------------------------------------------------
# the full MNIST, when a copy is available


def _mnist_dir() -> Path:
    env = os.environ.get("GFREF_MNIST_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def full_mnist():
    directory = _mnist_dir()
    try:
        mnist.find_mnist_files(directory)
    except DataError as e:
        pytest.skip(f"full MNIST not available (set GFREF_MNIST_DIR to a directory with the "
                    f"four IDX files): {e}")
    return directory, mnist.load_mnist_dir(directory)


TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.slow
def test_full_mnist_sizes_and_class_counts(full_mnist):
    _, full = full_mnist
    assert full.train_images.shape == (60_000, 784) and full.test_images.shape == (10_000, 784)
    assert np.bincount(full.train_labels).tolist() == TRAIN_COUNTS
    assert np.bincount(full.test_labels).tolist() == TEST_COUNTS


@pytest.mark.slow
def test_shipped_indices_point_to_the_same_images(full_mnist):
    directory, full = full_mnist
    raw = mnist.read_shipped()
    tr, te = raw["train_indices"].astype(np.int64), raw["test_indices"].astype(np.int64)
    assert np.array_equal(full.train_images[tr], raw["train_images"])
    assert np.array_equal(full.train_labels[tr], raw["train_labels"])
    assert np.array_equal(full.test_images[te], raw["test_images"])
    assert np.array_equal(full.test_labels[te], raw["test_labels"])
    # and drawing the subsample from the full set gives the shipped one
    drawn, shipped = load("mnist", path=directory), load("mnist")
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert np.array_equal(getattr(drawn, field), getattr(shipped, field))
