"""Data fits of models of data as objective kinds: ``data_squared`` and ``cross_entropy``,
each with an optional diversity regularizer (see :mod:`overparam.objectives._data`).

This module imports no JAX at import time (the registry imports it); the builders do."""

from typing import Literal

from overparam.configs import Batched, KindConfig, NonNegFloat

FORMS = ("lune", "wedge")


class _DataFit(KindConfig):
    diversity: Batched[NonNegFloat] = 0.0
    form: Literal[FORMS] = "lune"  # type: ignore[valid-type]

    def check_model(self, model) -> None:
        """Refuse a built-in matrix model: these fits need a model of data."""
        kind = getattr(model, "kind", None)
        if kind in ("deep_factorization", "two_factor", "symmetric", "hadamard"):
            raise ValueError(f"objective kind {self.kind!r} fits a model of data (such as "
                             f"relu_network), not {kind!r}")


class DataSquaredConfig(_DataFit):
    """(1/2m) sum_i ||f(x_i) - y_i||^2 (labels one-hot) + diversity * R(W).
    Static: ``form``; batched: ``diversity``."""

    kind: Literal["data_squared"] = "data_squared"


class CrossEntropyConfig(_DataFit):
    """Mean softmax cross-entropy (integer labels) + diversity * R(W).
    Static: ``form``; batched: ``diversity``."""

    kind: Literal["cross_entropy"] = "cross_entropy"


def build_squared(cfg: DataSquaredConfig):
    from overparam.objectives._data import make_objective, squared_fit

    return make_objective(squared_fit, cfg.form)


def build_cross_entropy(cfg: CrossEntropyConfig):
    from overparam.objectives._data import cross_entropy_fit, make_objective

    return make_objective(cross_entropy_fit, cfg.form)
