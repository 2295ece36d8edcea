"""A user's own matrix recovery problem from an ``.npz`` file."""

import zipfile
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from overparam.errors import DataError
from overparam.problems._matrix import MatrixProblem, completion_problem, sensing_problem

NPZ_FORMAT = """\
An overparam problem file (.npz) holds either
  completion: rows (m,) int, cols (m,) int, values (m,) float, shape (2,) int
  sensing:    A (m, d1, d2) or (m, d1*d2) float, y (m,) float, and shape (2,) int if A is 2-D
and optionally truth (d1, d2) float for error measures."""


def _fail(path: Path, reason: str) -> DataError:
    return DataError(f"{path}: {reason}")


def _shape(path: Path, data, key: str = "shape") -> tuple[int, int]:
    shape = np.asarray(data[key])
    if shape.shape != (2,) or not np.issubdtype(shape.dtype, np.integer) or (shape < 1).any():
        raise _fail(path, f"'{key}' must be two positive integers, got {shape.tolist()}")
    return int(shape[0]), int(shape[1])


def _real(path: Path, data, key: str, ndim: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(data[key])
    if not np.issubdtype(a.dtype, np.number) or a.ndim not in ndim:
        raise _fail(path, f"'{key}' must be a numeric array with {ndim} dimensions, "
                          f"got dtype {a.dtype} shape {a.shape}")
    if not np.isfinite(a).all():
        raise _fail(path, f"'{key}' has NaN or infinite entries")
    return a


def load_npz_problem(path: str | Path, dtype=jnp.float32) -> MatrixProblem:
    """Load a completion or sensing problem from ``path``; see :data:`NPZ_FORMAT`.

    Raises:
      DataError: naming the file and what is wrong with it.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise _fail(path, f"not a readable .npz file ({e})") from None
    keys = set(data)
    truth = _real(path, data, "truth", (2,)) if "truth" in keys else None
    if {"rows", "cols", "values"} <= keys:
        d1, d2 = _shape(path, data) if "shape" in keys else (truth.shape if truth is not None
                                                              else (None, None))
        if d1 is None:
            raise _fail(path, "needs 'shape' (or 'truth') to know the matrix size")
        rows, cols = np.asarray(data["rows"]), np.asarray(data["cols"])
        values = _real(path, data, "values", (1,))
        if not (np.issubdtype(rows.dtype, np.integer) and np.issubdtype(cols.dtype, np.integer)):
            raise _fail(path, "'rows' and 'cols' must be integer arrays")
        if not rows.shape == cols.shape == values.shape:
            raise _fail(path, f"'rows', 'cols', 'values' must have equal lengths, got "
                              f"{rows.shape}, {cols.shape}, {values.shape}")
        if len(rows) == 0:
            raise _fail(path, "has no observations")
        if rows.min() < 0 or rows.max() >= d1 or cols.min() < 0 or cols.max() >= d2:
            raise _fail(path, f"an index is outside the {d1}x{d2} matrix")
        if len(set(zip(rows.tolist(), cols.tolist()))) != len(rows):
            raise _fail(path, "an entry is observed twice")
        mask = np.zeros((d1, d2)); mask[rows, cols] = 1  # noqa: E702
        observed = np.zeros((d1, d2)); observed[rows, cols] = values  # noqa: E702
        if truth is not None and truth.shape != (d1, d2):
            raise _fail(path, f"'truth' has shape {truth.shape}, expected {(d1, d2)}")
        t = jnp.asarray(truth if truth is not None else observed, dtype)
        problem = completion_problem(t, jnp.asarray(mask, dtype))
        obs = jnp.asarray(observed, dtype)
        return MatrixProblem(problem.operator, obs, t if truth is not None else None)
    if {"A", "y"} <= keys:
        a = _real(path, data, "A", (2, 3))
        y = _real(path, data, "y", (1,))
        if a.ndim == 3:
            d1, d2 = a.shape[1:]
            a = a.reshape(a.shape[0], -1)
        else:
            d1, d2 = _shape(path, data) if "shape" in keys else (truth.shape if truth is not None
                                                                  else (0, 0))
            if d1 * d2 != a.shape[1]:
                raise _fail(path, f"'A' has {a.shape[1]} columns but shape is {(d1, d2)}")
        if y.shape != (a.shape[0],):
            raise _fail(path, f"'y' must have shape ({a.shape[0]},), got {y.shape}")
        if truth is not None and truth.shape != (d1, d2):
            raise _fail(path, f"'truth' has shape {truth.shape}, expected {(d1, d2)}")
        t = None if truth is None else jnp.asarray(truth, dtype)
        return sensing_problem(t, jnp.asarray(a, dtype), jnp.asarray(y, dtype), (d1, d2))
    raise _fail(path, f"has keys {sorted(keys)}; expected rows/cols/values or A/y. "
                      + " ".join(NPZ_FORMAT.split()))  # one line
