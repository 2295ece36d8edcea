"""Teacher-student regression on the sphere (Xie, Liang, Song 2017): x uniform on S^(d-1),
y = f*(x) + noise, f* a one-hidden-layer ReLU network of ``n_teacher`` units.

The paper's teacher is unknown (``../shared/papers/xie2017.md``, section 7); ours, following
the notes' suggested protocol: teacher rows uniform on the sphere, output signs +1 / -1 half
each, Gaussian label noise of standard deviation ``noise`` on the training and validation
targets (the test targets are noiseless f*, so test error measures the distance to the true
function). See :func:`overparam.problems._datasets.teacher_student`."""

from typing import Literal

from pydantic import Field, model_validator

from overparam.configs import KindConfig, NonNegFloat, NonNegInt, PosInt


class TeacherStudentConfig(KindConfig):
    """``m`` training examples (the last ``validation`` of them held out for choosing
    hyperparameters), ``m_test`` test examples, inputs in R^d."""

    kind: Literal["teacher_student"] = "teacher_student"
    d: PosInt = 10
    n_teacher: PosInt = 5
    m: int = Field(200, ge=2)
    m_test: PosInt = 1000
    validation: NonNegInt = 0
    noise: NonNegFloat = 0.0
    seed: NonNegInt = Field(0, description="seeds the teacher and the data")

    @model_validator(mode="after")
    def _check_split(self):
        if self.validation >= self.m:
            raise ValueError(f"validation ({self.validation}) must be below m ({self.m})")
        return self

    @property
    def input_dim(self) -> int:
        return self.d

    @property
    def train_size(self) -> int:
        return self.m - self.validation


def build(cfg: TeacherStudentConfig, dtype):
    from overparam.problems._data import data_problem
    from overparam.problems._datasets import teacher_student

    data, (w, v) = teacher_student(cfg.d, cfg.n_teacher, cfg.m, cfg.m_test, noise=cfg.noise,
                                   seed=cfg.seed)
    return data_problem(data.x_train, data.y_train, data.x_test, data.y_test,
                        validation=cfg.validation, dtype=dtype, teacher={"w": w, "v": v})
