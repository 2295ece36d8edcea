"""A user's own kinds, defined outside the package: a regression problem that hands out
minibatches, a linear model of data, a ridge objective, three measures and a least-squares
baseline. Importing this module as a sweep's ``imports`` registers them; the tests import it
by name and register them only while they run (:func:`register`, :func:`unregister`)."""

import time
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from overparam.configs import Batched, KindConfig, NonNegFloat, NonNegInt, PosFloat, PosInt
from overparam.models import Model
from overparam.registry import (
    MEASURES,
    MeasureSpec,
    ModelKind,
    ObjectiveKind,
    ProblemKind,
    SolverKind,
    register_measure,
    register_model,
    register_objective,
    register_problem,
    register_solver,
)
from overparam.solvers import SolverOutcome


class Regression(NamedTuple):
    inputs: jax.Array  # (n, d)
    targets: jax.Array  # (n,)
    truth: jax.Array  # (d,)

    def minibatch(self, key, size: int) -> "Regression":
        idx = jax.random.randint(key, (size,), 0, self.targets.shape[0])
        return Regression(self.inputs[idx], self.targets[idx], self.truth)


class RegressionConfig(KindConfig):
    kind: Literal["toy_regression"] = "toy_regression"
    n: PosInt = 32
    d: PosInt = 4
    noise: NonNegFloat = 0.0
    seed: NonNegInt = 0


def build_regression(cfg: RegressionConfig, dtype) -> Regression:
    kx, kw, kn = jax.random.split(jax.random.PRNGKey(cfg.seed), 3)
    x = jax.random.normal(kx, (cfg.n, cfg.d), dtype)
    w = jax.random.normal(kw, (cfg.d,), dtype)
    y = x @ w + cfg.noise * jax.random.normal(kn, (cfg.n,), dtype)
    return Regression(x, y, w)


class LinearConfig(KindConfig):
    kind: Literal["toy_linear"] = "toy_linear"
    init_scale: Batched[PosFloat] = 0.1


def build_linear(cfg: LinearConfig, problem: Regression) -> Model:
    d = problem.inputs.shape[1]

    def init(key, init_scale, dtype=jnp.float32):
        return {"w": init_scale * jax.random.normal(key, (d,), dtype)}

    return Model("toy_linear", init, lambda params, inputs: inputs @ params["w"],
                 label=f"linear d={d}", param_count=d, activation_size=problem.targets.size,
                 takes_inputs=True)


class RidgeConfig(KindConfig):
    kind: Literal["toy_ridge"] = "toy_ridge"
    weight: Batched[NonNegFloat] = 0.0


def ridge(model, params, batch: Regression, hparams):
    fit = jnp.mean((model.predict(params, batch.inputs) - batch.targets) ** 2)
    return fit + hparams["weight"] * jnp.sum(params["w"] ** 2), fit


class LeastSquaresConfig(KindConfig):
    kind: Literal["toy_least_squares"] = "toy_least_squares"
    dtype: Literal["float32", "float64"] = "float64"


def least_squares(cfgs, problems, *, devices, max_batch):
    del devices, max_batch
    for i, (cfg, p) in enumerate(zip(cfgs, problems)):
        t0 = time.perf_counter()
        w, *_ = np.linalg.lstsq(np.asarray(p.inputs), np.asarray(p.targets), rcond=None)
        yield i, SolverOutcome(jnp.asarray(w, cfg.dtype), "converged", 0,
                               time.perf_counter() - t0, {"solver_converged": True})


def _weights(ctx):
    return ctx.params["w"] if ctx.factors else ctx.params[0]


def weight_error(ctx):
    """||w - w*|| (a baseline's solution is its bare weight vector)."""
    return jnp.linalg.norm(_weights(ctx) - ctx.problem.truth)


def full_objective(ctx):
    """The run's own objective (ridge included) on the whole data set."""
    return ctx.objective(ctx.params, ctx.problem)[0]


def random_projection(ctx):
    """<w, g> for a Gaussian g drawn from the measure's key: needs a key."""
    w = _weights(ctx)
    return jnp.dot(w, jax.random.normal(ctx.key, w.shape, w.dtype))


NAMES = {"PROBLEMS": ["toy_regression"], "MODELS": ["toy_linear"], "OBJECTIVES": ["toy_ridge"],
         "SOLVERS": ["toy_least_squares"],
         "MEASURES": ["toy_weight_error", "toy_full_objective", "toy_projection"]}


def register() -> None:
    if "toy_weight_error" in MEASURES:
        return
    register_problem(ProblemKind("toy_regression", RegressionConfig, build_regression))
    register_model(ModelKind("toy_linear", LinearConfig, build_linear))
    register_objective(ObjectiveKind("toy_ridge", RidgeConfig, lambda cfg: ridge))
    register_solver(SolverKind("toy_least_squares", LeastSquaresConfig, least_squares))
    register_measure(MeasureSpec("toy_weight_error", weight_error, "||w - w*||"))
    register_measure(MeasureSpec("toy_full_objective", full_objective, "objective on all data",
                                 needs=frozenset({"objective"})))
    register_measure(MeasureSpec("toy_projection", random_projection, "<w, g>, g ~ N(0, I)",
                                 needs=frozenset({"key"})))


def unregister() -> None:
    import overparam.registry as reg

    for registry_name, names in NAMES.items():
        for name in names:
            if name in getattr(reg, registry_name):
                getattr(reg, registry_name).unregister(name)


if __name__ != "toy_kinds":  # imported by a sweep's imports list (a path), not by the tests
    register()
