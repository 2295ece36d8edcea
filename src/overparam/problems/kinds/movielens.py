"""MovieLens-100K ratings as a completion problem with held-out test ratings."""

from typing import Annotated, Literal

from pydantic import Field

from overparam.configs import KindConfig, NonNegInt


class MovieLensConfig(KindConfig):
    """MovieLens-100K ratings (943 users x 1682 movies): ``n_train`` random ratings are observed,
    the rest are the test set (Arora et al. 2019, Fig. 3 uses 10,000). ``path`` is ``u.data``
    or its directory; empty means the environment variable ``OVERPARAM_ML100K``."""

    kind: Literal["movielens100k"] = "movielens100k"
    path: str = ""
    n_train: Annotated[int, Field(ge=1, le=99_999)] = 10_000
    seed: NonNegInt = 0

    def matrix_shape(self) -> tuple[int, int]:
        return 943, 1682

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return 6 * itemsize * 943 * 1682


def build(cfg: MovieLensConfig, dtype):
    from overparam.problems import movielens_problem

    return movielens_problem(cfg.path or None, cfg.n_train, cfg.seed, dtype)
