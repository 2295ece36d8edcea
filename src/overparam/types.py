"""Domain aliases shared by the numerical core."""

from typing import Any

import jax

Array = jax.Array
Params = Any  # a pytree of arrays: the trainable state of one model
Problem = Any  # a pytree of arrays: ground truth, operator and observations of one problem
HParams = dict[str, jax.Array]  # per-run scalars that vary across a sweep (batched data)
