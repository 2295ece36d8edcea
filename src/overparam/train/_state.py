"""Training state and run status codes."""

from typing import NamedTuple

import jax

from overparam.types import Params

RUNNING = 0
CONVERGED = 1  # training loss reached stop_loss
MAX_STEPS = 2  # max_steps taken without converging
DIVERGED = 3  # loss became NaN/inf or grew past divergence_factor x its initial value
STATUS_NAMES = {RUNNING: "running", CONVERGED: "converged", MAX_STEPS: "max_steps",
                DIVERGED: "diverged"}


class TrainState(NamedTuple):
    """The state of one run; a finished run keeps its state frozen."""

    params: Params
    opt_state: object
    step: jax.Array  # shape=(), int32: optimizer steps taken
    status: jax.Array  # shape=(), int32: one of the status codes above
    loss: jax.Array  # shape=(): data-fit loss at ``params``
    initial_loss: jax.Array  # shape=(): data-fit loss at step 0 (divergence reference)
    key: jax.Array  # shape=(2,), uint32: the run's PRNG key, split at every minibatch step
