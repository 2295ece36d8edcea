"""A user's own data set from an ``.npz`` file (``x_train``, ``y_train``, ``x_test``,
``y_test``; integer labels mean classification); see
:func:`overparam.problems._datasets.load_npz_dataset`."""

from pathlib import Path
from typing import Literal

from pydantic import field_validator

from overparam.configs import KindConfig, NonNegInt


class DatasetFileConfig(KindConfig):
    """The data set in ``path``; the last ``validation`` training examples are held out."""

    kind: Literal["dataset_file"] = "dataset_file"
    path: str
    validation: NonNegInt = 0

    @field_validator("path")
    @classmethod
    def _exists(cls, path: str) -> str:
        if not Path(path).is_file():
            raise ValueError(f"file {path!r} does not exist or is not a file")
        return path


def build(cfg: DatasetFileConfig, dtype):
    from overparam.problems._data import data_problem
    from overparam.problems._datasets import load_npz_dataset

    data = load_npz_dataset(cfg.path)
    return data_problem(data.x_train, data.y_train, data.x_test, data.y_test,
                        validation=cfg.validation, dtype=dtype)
