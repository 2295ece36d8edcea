"""The squared data fit as an objective kind (no regularizer)."""

from typing import Literal

from overparam.configs import KindConfig


class SquaredConfig(KindConfig):
    """Mean squared error over the observations, without 1/2 (Arora et al.'s code)."""

    kind: Literal["squared"] = "squared"

    def check_model(self, model) -> None:
        """Refuse a model of data: its fits are ``data_squared`` and ``cross_entropy``."""
        if getattr(model, "kind", None) == "relu_network":
            raise ValueError("objective kind 'squared' fits a matrix; for model kind "
                             "'relu_network' set objective.kind = 'data_squared' or "
                             "'cross_entropy'")


def build(cfg: SquaredConfig):
    from overparam.objectives import squared_objective

    del cfg
    return squared_objective
