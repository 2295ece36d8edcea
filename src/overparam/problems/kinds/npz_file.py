"""A user's own matrix recovery problem from an ``.npz`` file."""

from pathlib import Path
from typing import Literal

from pydantic import field_validator

from overparam.configs import KindConfig


class FileConfig(KindConfig):
    """A user's problem from an ``.npz`` file (see :func:`overparam.problems.load_npz_problem`)."""

    kind: Literal["file"] = "file"
    path: str

    @field_validator("path")
    @classmethod
    def _exists(cls, path: str) -> str:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"file {path!r} does not exist or is not a file")
        return path


def build(cfg: FileConfig, dtype):
    from overparam.problems import load_npz_problem

    return load_npz_problem(cfg.path, dtype)
