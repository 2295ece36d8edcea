"""Supervised data-set problems: inputs, targets, a validation split and a held-out test set.

A :class:`DataProblem` is what data-set kinds (``teacher_student``, ``mnist``,
``dataset_file``) build and what models of data (``takes_inputs``, e.g. ``relu_network``)
train on. It is a pytree of arrays, so runs on problems of one shape stack and train under
``vmap`` as the matrix problems do, and :meth:`DataProblem.minibatch` hands the trainer the
per-step minibatches of ``train.batch_size``.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from overparam.errors import ConfigError
from overparam.types import Array


class DataProblem(NamedTuple):
    """Training ``inputs`` (m, d) and ``targets`` ((m,) floats for regression, or (m,) int32
    class labels), a validation split carved from the training data (possibly empty), a test
    set, and the ``teacher`` parameters where the targets come from a known network (else
    None)."""

    inputs: Array
    targets: Array
    valid_inputs: Array
    valid_targets: Array
    test_inputs: Array
    test_targets: Array
    teacher: dict | None = None

    @property
    def classification(self) -> bool:
        return jnp.issubdtype(self.targets.dtype, jnp.integer)

    @property
    def num_examples(self) -> int:
        return self.targets.shape[-1]

    def split(self, name: str) -> "DataProblem":
        """This problem with the ``valid`` or ``test`` split as its training data (so an
        objective's data fit on it is the fit on that split)."""
        x, y = {"train": (self.inputs, self.targets),
                "valid": (self.valid_inputs, self.valid_targets),
                "test": (self.test_inputs, self.test_targets)}[name]
        return self._replace(inputs=x, targets=y)

    def minibatch(self, key: Array, size: int) -> "DataProblem":
        """``size`` training examples drawn uniformly without replacement from ``key`` (the
        whole set, in order, when ``size`` is at least its size). Draws at different steps
        are independent: a step does not continue an epoch's permutation, so "epochs" are
        ``steps * size / m`` in expectation.

        The draw keeps the ``size`` largest of m uniform scores (``lax.top_k``): a uniform
        ``size``-subset, at ``O(m)`` per step, 30x faster than ``jax.random.choice`` without
        replacement (a full permutation) for m = 10,000 on a CPU."""
        m = self.targets.shape[0]
        if size >= m:
            return self
        idx = draw_indices(key, m, size)
        return self._replace(inputs=self.inputs[idx], targets=self.targets[idx])


def draw_indices(key: Array, m: int, size: int) -> Array:
    """``size`` distinct indices of ``range(m)``, a uniform subset, from ``key``."""
    return jax.lax.top_k(jax.random.uniform(key, (m,)), size)[1]


def data_problem(x_train, y_train, x_test, y_test, *, validation: int = 0, dtype=jnp.float32,
                 teacher: dict | None = None) -> DataProblem:
    """A :class:`DataProblem` from numpy arrays; the last ``validation`` training examples
    become the validation split. Integer targets stay int32 labels; the rest take ``dtype``."""
    x_train, y_train = np.asarray(x_train), np.asarray(y_train)
    if not 0 <= validation < len(y_train):
        raise ConfigError(f"problem.validation: must be between 0 and the training size - 1 = "
                         f"{len(y_train) - 1}, got {validation}")
    cut = len(y_train) - validation

    def targets(y):
        y = np.asarray(y)
        return jnp.asarray(y, jnp.int32 if np.issubdtype(y.dtype, np.integer) else dtype)

    return DataProblem(
        inputs=jnp.asarray(x_train[:cut], dtype), targets=targets(y_train[:cut]),
        valid_inputs=jnp.asarray(x_train[cut:], dtype), valid_targets=targets(y_train[cut:]),
        test_inputs=jnp.asarray(x_test, dtype), test_targets=targets(y_test),
        teacher=None if teacher is None else {k: jnp.asarray(v, dtype)
                                              for k, v in teacher.items()})
