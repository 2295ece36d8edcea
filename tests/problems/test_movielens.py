import numpy as np
import pytest

from overparam.errors import DataError
from overparam.problems import (
    Ratings,
    _movielens,
    load_movielens_100k,
    ratings_to_dense,
    split_ratings,
)

# user, item, rating, timestamp; ids 1-based, 3 users x 4 items
SMALL = [(1, 1, 5, 881250949), (1, 3, 3, 891717742), (2, 4, 1, 878887116),
         (3, 2, 4, 880606923), (3, 4, 2, 886397596), (2, 1, 3, 884182806)]


def write(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def udata(tmp_path, rows=SMALL, name="u.data"):
    return write(tmp_path / name, ["\t".join(str(x) for x in r) for r in rows])


@pytest.fixture(autouse=True)
def no_fallbacks(monkeypatch):
    """No environment variable, no installed copy, unless a test sets one."""
    monkeypatch.delenv(_movielens.ENV_VAR, raising=False)
    monkeypatch.setattr(_movielens, "_packaged_copy", lambda: None)


def test_parses_ids_to_zero_based_indices(tmp_path):
    r = load_movielens_100k(udata(tmp_path))
    assert isinstance(r, Ratings)
    assert r.shape == (3, 4)
    np.testing.assert_array_equal(r.rows, [0, 0, 1, 2, 2, 1])
    np.testing.assert_array_equal(r.cols, [0, 2, 3, 1, 3, 0])
    np.testing.assert_array_equal(r.values, [5, 3, 1, 4, 2, 3])
    assert r.rows.dtype == r.cols.dtype == np.int64 and r.values.dtype == np.float64


def test_explicit_shape_and_fractional_ratings(tmp_path):
    rows = [(1, 1, 4.5, 0), (2, 2, 1.0, 0)]
    r = load_movielens_100k(str(udata(tmp_path, rows)), shape=(943, 1682))
    assert r.shape == (943, 1682)
    np.testing.assert_array_equal(r.values, [4.5, 1.0])


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path):
    path = write(tmp_path / "u.data", ["1\t1\t5\t0", "", "2\t2\t4\t0", "   ", "2\t2\t3\t0"])
    with pytest.raises(DataError, match=r"line 5: user 2 rated item 2 again \(first on line 3\)"):
        load_movielens_100k(path)


def test_directory_and_env_var(tmp_path, monkeypatch):
    ml = tmp_path / "ml-100k"
    ml.mkdir()
    udata(ml)
    expected = load_movielens_100k(ml / "u.data")
    for found in (load_movielens_100k(ml), load_movielens_100k(tmp_path)):
        np.testing.assert_array_equal(found.values, expected.values)
    monkeypatch.setenv(_movielens.ENV_VAR, str(ml))
    assert load_movielens_100k().shape == expected.shape
    monkeypatch.setenv(_movielens.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=rf"^{_movielens.ENV_VAR}: .*nowhere: file not found"):
        load_movielens_100k()


def test_nothing_found_says_how_to_get_the_file():
    with pytest.raises(DataError) as e:
        load_movielens_100k()
    message = str(e.value)
    assert "OVERPARAM_ML100K" in message and "grouplens.org/datasets/movielens/100k" in message
    assert "u.data" in message and "\n" not in message


def test_missing_file_and_directory_without_udata(tmp_path):
    with pytest.raises(DataError, match=r"absent\.data: file not found") as e:
        load_movielens_100k(tmp_path / "absent.data")
    message = str(e.value)
    assert "OVERPARAM_ML100K" in message and "grouplens.org/datasets/movielens/100k" in message
    with pytest.raises(DataError, match="directory has no u.data"):
        load_movielens_100k(tmp_path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "u.data"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(DataError, match=r"u\.data: not a text file"):
        load_movielens_100k(path)


@pytest.mark.parametrize("lines, message", [
    (["1\t1\t5\t0", "1\t2\t5"], r"line 2: expected 4 fields .* got 3"),
    (["1\t1\t5\t0", "1\t2\t5\t0\t7"], r"line 2: expected 4 fields .* got 5"),
    (["1\t1\t5\t0", "1\tx\t5\t0"], r"line 2: item id 'x' is not an integer"),
    (["1.0\t1\t5\t0"], r"line 1: user id '1.0' is not an integer"),
    (["1\t1\t5\t0", "2\t1\tfive\t0"], r"line 2: rating 'five' is not a number"),
    (["1\t" + "9" * 30 + "\t5\t0"], r"line 1: item id 9+ does not fit in 64 bits"),
    (["1\t1\t5\t0", "1\t2\t6\t0"], r"line 2: rating 6 is outside \[1, 5\]"),
    (["1\t1\t0.5\t0"], r"line 1: rating 0.5 is outside \[1, 5\]"),
    (["1\t1\tnan\t0"], r"line 1: rating nan is outside \[1, 5\]"),
    (["1\t1\t5\t0", "0\t2\t5\t0"], r"line 2: user id 0 is below 1"),
    (["1\t-3\t5\t0"], r"line 1: item id -3 is below 1"),
    (["1\t1\t5\t0", "2\t2\t5\t0", "1\t1\t4\t0"],
     r"line 3: user 1 rated item 1 again \(first on line 1\)"),
    ([], r"has no ratings \(empty file\)"),
    (["", "  "], r"has no ratings \(empty file\)"),
])
def test_malformed_files_name_file_and_line(tmp_path, lines, message):
    path = write(tmp_path / "bad.data", lines)
    with pytest.raises(DataError, match=rf"^{tmp_path / 'bad.data'}: {message}"):
        load_movielens_100k(path)


def test_ids_beyond_given_shape(tmp_path):
    with pytest.raises(DataError, match=r"line 3: item id 4 exceeds the given shape \(3, 3\)"):
        load_movielens_100k(udata(tmp_path), shape=(3, 3))
    with pytest.raises(ValueError, match="shape must be two positive integers"):
        load_movielens_100k(udata(tmp_path), shape=(0, 3))


def test_packaged_copy_is_a_fallback(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = np.array(SMALL).T
    table = pa.table({"user_id": cols[0], "movie_id": cols[1], "rating": cols[2],
                      "timestamp": cols[3]})
    parquet = tmp_path / "MovieLens100k_data.parquet"
    pq.write_table(table, parquet)
    monkeypatch.setattr(_movielens, "_packaged_copy", lambda: parquet)
    from_parquet, from_text = load_movielens_100k(), load_movielens_100k(udata(tmp_path))
    for a, b in zip(from_parquet, from_text, strict=True):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setenv(_movielens.ENV_VAR, str(tmp_path / "u.data"))  # the variable comes first
    write(tmp_path / "u.data", ["1\t1\t5\t0"])
    assert load_movielens_100k().shape == (1, 1)


def test_packaged_copy_is_validated(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = tmp_path / "ml.parquet"
    pq.write_table(pa.table({"user_id": [1, 1], "movie_id": [2, 2], "rating": [3, 4]}), parquet)
    monkeypatch.setattr(_movielens, "_packaged_copy", lambda: parquet)
    with pytest.raises(DataError, match=r"ml\.parquet: row 2: user 1 rated item 2 again"):
        load_movielens_100k()


def random_ratings(m=60, shape=(9, 11), seed=0):
    rng = np.random.default_rng(seed)
    flat = rng.choice(shape[0] * shape[1], size=m, replace=False)
    rows, cols = np.divmod(flat, shape[1])
    return Ratings(rows, cols, rng.integers(1, 6, size=m).astype(np.float64), shape)


def pairs(r):
    return set(zip(r.rows.tolist(), r.cols.tolist(), r.values.tolist(), strict=True))


def test_split_sizes_disjoint_and_reproducible():
    ratings = random_ratings()
    train, test = split_ratings(ratings, 10, seed=3)
    assert len(train.values) == 10 and len(test.values) == 50
    assert train.shape == test.shape == ratings.shape
    assert not pairs(train) & pairs(test) and pairs(train) | pairs(test) == pairs(ratings)
    again, _ = split_ratings(ratings, 10, seed=3)
    other, _ = split_ratings(ratings, 10, seed=4)
    np.testing.assert_array_equal(again.rows, train.rows)
    np.testing.assert_array_equal(again.cols, train.cols)
    assert pairs(other) != pairs(train)


@pytest.mark.parametrize("n_train", [0, 60, -1, 100])
def test_split_rejects_empty_sides(n_train):
    with pytest.raises(ValueError, match=rf"n_train must be in \[1, 59\].*got {n_train}"):
        split_ratings(random_ratings(), n_train, 0)


def test_dense_round_trip():
    ratings = random_ratings()
    values, mask = ratings_to_dense(ratings)
    assert values.shape == mask.shape == ratings.shape
    assert values.dtype == mask.dtype == np.float64
    assert set(np.unique(mask)) == {0.0, 1.0} and mask.sum() == len(ratings.values)
    np.testing.assert_array_equal(values[mask == 0], 0.0)
    rows, cols = np.nonzero(mask)
    assert pairs(Ratings(rows, cols, values[rows, cols], ratings.shape)) == pairs(ratings)
