import jax.numpy as jnp
import numpy as np
import pytest

from overparam.errors import DataError
from overparam.problems import DenseSensing, EntryMask, load_npz_problem


def test_completion_file_round_trip(tmp_path):
    truth = np.arange(12.0).reshape(3, 4)
    rows, cols = np.array([0, 1, 2]), np.array([3, 0, 1])
    path = tmp_path / "c.npz"
    np.savez(path, rows=rows, cols=cols, values=truth[rows, cols], shape=np.array([3, 4]),
             truth=truth)
    p = load_npz_problem(path)
    assert isinstance(p.operator, EntryMask)
    assert float(p.operator.mask.sum()) == 3
    np.testing.assert_allclose(p.observations[rows, cols], truth[rows, cols])
    np.testing.assert_allclose(p.truth, truth)


def test_sensing_file_without_truth(tmp_path):
    a = np.random.default_rng(0).normal(size=(5, 2, 3))
    path = tmp_path / "s.npz"
    np.savez(path, A=a, y=np.ones(5))
    p = load_npz_problem(path, jnp.float32)
    assert isinstance(p.operator, DenseSensing)
    assert p.truth is None and p.shape == (2, 3)
    assert p.operator.matrix.shape == (5, 6)


@pytest.mark.parametrize("arrays, message", [
    (dict(rows=np.array([0]), cols=np.array([0]), values=np.array([1.0])), "needs 'shape'"),
    (dict(rows=np.array([0, 5]), cols=np.array([0, 0]), values=np.ones(2), shape=np.array([2, 2])),
     "outside"),
    (dict(rows=np.array([0, 0]), cols=np.array([1, 1]), values=np.ones(2), shape=np.array([2, 2])),
     "observed twice"),
    (dict(rows=np.array([0]), cols=np.array([0]), values=np.array([np.nan]),
          shape=np.array([2, 2])), "NaN"),
    (dict(A=np.ones((3, 4)), y=np.ones(3), shape=np.array([3, 3])), "columns"),
    (dict(A=np.ones((3, 2, 2)), y=np.ones(4)), "'y' must have shape"),
    (dict(foo=np.ones(3)), "expected rows/cols/values or A/y"),
])
def test_bad_files_name_the_file_and_reason(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message) as e:
        load_npz_problem(path)
    assert str(path) in str(e.value)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_npz_problem(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(DataError, match="not a readable"):
        load_npz_problem(tmp_path / "junk.npz")
