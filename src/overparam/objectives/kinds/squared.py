"""The squared data fit as an objective kind (no regularizer)."""

from typing import Literal

from overparam.configs import KindConfig


class SquaredConfig(KindConfig):
    """Mean squared error over the observations, without 1/2 (Arora et al.'s code)."""

    kind: Literal["squared"] = "squared"


def build(cfg: SquaredConfig):
    from overparam.objectives import squared_objective

    del cfg
    return squared_objective
