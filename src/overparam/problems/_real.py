"""Real data sets as matrix completion problems."""

import jax.numpy as jnp

from overparam.problems._matrix import MatrixProblem
from overparam.problems._operators import EntryMask


def _completion(ratings, dtype) -> MatrixProblem:
    from overparam.problems._movielens import ratings_to_dense

    values, mask = ratings_to_dense(ratings)
    return MatrixProblem(EntryMask(jnp.asarray(mask, dtype)), jnp.asarray(values, dtype), None)


def movielens_problem(path: str | None, n_train: int, seed: int, dtype=jnp.float32
                      ) -> MatrixProblem:
    """MovieLens-100K: ``n_train`` random ratings observed, the other ratings held out as
    ``test`` (raw 1-5 ratings, not centred, as in Arora et al. 2019, Fig. 3).

    Raises:
      DataError: the ratings file is missing or malformed (see :func:`load_movielens_100k`).
    """
    from overparam.problems._movielens import load_movielens_100k, split_ratings

    train, test = split_ratings(load_movielens_100k(path), n_train, seed)
    return _completion(train, dtype)._replace(test=_completion(test, dtype))
