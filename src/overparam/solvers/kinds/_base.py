"""Fields every baseline solver config has."""

from typing import Literal

from overparam.configs import KindConfig


class SolverConfigBase(KindConfig):
    """A baseline solution of the problem, computed in ``dtype``."""

    dtype: Literal["float32", "float64"] = "float64"
