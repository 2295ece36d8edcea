"""The ``trace_penalty`` objective: fit + weight * exact Hessian trace, against ``jax.hessian``
and central finite differences in float64 on tiny two-factor and U U^T models; weight 0 is the
squared objective; a swept weight end to end; bad configs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import overparam as op
from overparam.errors import ConfigError
from overparam.models import symmetric, two_factor
from overparam.objectives import squared_objective
from overparam.objectives.kinds.trace_penalty import trace_penalty_objective
from overparam.problems import low_rank_truth, make_completion, make_sensing, pad_measurements

WEIGHT = 0.3


def _case(name: str):
    """(model, params, problem) in float64, off any minimizer (nonzero residuals)."""
    kt, ko, kp = jax.random.split(jax.random.PRNGKey(0), 3)
    if name == "two_factor_sensing":
        truth = low_rank_truth(kt, 3, 4, 1, jnp.float64)
        model, problem = two_factor(3, 4, 2), pad_measurements(make_sensing(ko, truth, 7), 9)
    elif name == "two_factor_completion":
        truth = low_rank_truth(kt, 3, 4, 1, jnp.float64)
        model, problem = two_factor(3, 4, 2), make_completion(ko, truth, 8)
    else:  # U U^T: a nonzero output Laplacian, so the residual term counts
        u = jax.random.normal(kt, (3, 1), jnp.float64)
        model, problem = symmetric(3, 2), make_sensing(ko, u @ u.T, 8)
    return model, model.init(kp, jnp.asarray(1.0, jnp.float64), dtype=jnp.float64), problem


CASES = ["two_factor_sensing", "two_factor_completion", "symmetric_sensing"]


def _hessian_trace(model, params, problem, scaled=False) -> float:
    """tr of the dense jax.hessian of the squared fit (scaled: each block over its rows)."""
    flat, unravel = ravel_pytree(params)
    h = np.asarray(jax.hessian(lambda x: squared_objective(model, unravel(x), problem, {})[0])(
        flat))
    if not scaled:
        return float(np.trace(h))
    sizes = [leaf.size for leaf in jax.tree.leaves(params)]
    edges = np.cumsum([0] + sizes)
    rows = model.info["factor_rows"]
    return float(sum(np.trace(h[a:b, a:b]) / n for a, b, n in zip(edges[:-1], edges[1:], rows)))


def _total(objective, model, problem, weight):
    hp = {"weight": jnp.asarray(weight, jnp.float64)}
    return jax.jit(lambda p: objective(model, p, problem, hp))


@pytest.mark.parametrize("case", CASES)
def test_value_is_fit_plus_weight_times_the_dense_hessian_trace(x64, case):
    model, params, problem = _case(case)
    total, fit = _total(trace_penalty_objective(), model, problem, WEIGHT)(params)
    expect_fit = float(squared_objective(model, params, problem, {})[0])
    assert float(fit) == pytest.approx(expect_fit, rel=1e-12)
    trace = _hessian_trace(model, params, problem)
    assert abs(trace) > 1e-3
    assert float(total) == pytest.approx(expect_fit + WEIGHT * trace, rel=1e-10)


@pytest.mark.parametrize("case", ["two_factor_sensing", "two_factor_completion"])
def test_scaled_value_uses_the_scaled_trace(x64, case):
    model, params, problem = _case(case)
    total, fit = _total(trace_penalty_objective(scaled=True), model, problem, WEIGHT)(params)
    scaled = _hessian_trace(model, params, problem, scaled=True)
    assert float(total) == pytest.approx(float(fit) + WEIGHT * scaled, rel=1e-10)


# the scaled trace is defined for two-factor models only
@pytest.mark.parametrize("case,scaled", [(c, False) for c in CASES]
                         + [(c, True) for c in CASES if not c.startswith("symmetric")])
def test_gradient_matches_central_finite_differences(x64, case, scaled):
    model, params, problem = _case(case)
    flat, unravel = ravel_pytree(params)
    objective = trace_penalty_objective(scaled)
    hp = {"weight": jnp.asarray(WEIGHT, jnp.float64)}
    f = jax.jit(lambda x: objective(model, unravel(x), problem, hp)[0])
    grad = np.asarray(jax.jit(jax.grad(f))(flat))
    eps = 1e-5
    eye = np.eye(flat.size)
    fd = np.array([(float(f(flat + eps * e)) - float(f(flat - eps * e))) / (2 * eps)
                   for e in eye])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    # and the trace term's gradient is really there: not the fit's alone
    fit_grad = np.asarray(jax.grad(lambda x: squared_objective(model, unravel(x), problem,
                                                                {})[0])(flat))
    assert np.abs(grad - fit_grad).max() > 1e-3


@pytest.mark.parametrize("case", CASES)
def test_weight_zero_is_the_squared_objective(x64, case):
    model, params, problem = _case(case)
    objective = trace_penalty_objective()
    hp = {"weight": jnp.asarray(0.0, jnp.float64)}
    total, fit = objective(model, params, problem, hp)
    plain, _ = squared_objective(model, params, problem, {})
    assert float(total) == float(plain) and float(fit) == float(plain)
    g = jax.grad(lambda p: objective(model, p, problem, hp)[0])(params)
    g0 = jax.grad(lambda p: squared_objective(model, p, problem, {})[0])(params)
    for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(g0)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_scaled_without_factor_rows_is_refused_at_trace_time(x64):
    model, params, problem = _case("symmetric_sensing")
    with pytest.raises(ValueError, match="objective.scaled"):
        trace_penalty_objective(scaled=True)(model, params, problem, {"weight": 1.0})


# ----- through overparam.run ------------------------------------------------------------------


def _sweep(name: str, objective: dict, model=None, grid=None) -> dict:
    return {"name": name,
            "problem": {"kind": "gaussian_sensing", "d1": 3, "d2": 3, "rank": 1, "m": 12},
            "model": model or {"kind": "two_factor", "init_scale": 0.5},
            "objective": objective, "optimizer": {"name": "gd", "learning_rate": 0.05},
            "train": {"max_steps": 300, "log_every": 100, "stop_loss": 0.0,
                      "dtype": "float64"},
            "grid": grid or {}, "seeds": [0], "baselines": [],
            "measures": ["train_loss", "hessian_trace", "scaled_hessian_trace"],
            "log_measures": ["train_loss"]}


def test_a_swept_weight_runs_in_one_compiled_group(tmp_path):
    result = op.run(_sweep("trace", {"kind": "trace_penalty"},
                           grid={"objective.weight": [0.0, 0.05]}), out=tmp_path,
                    progress=False)
    runs = result.runs.set_index("objective.weight")
    assert len(runs) == 2 and (runs["status"] == "max_steps").all()
    # the penalized run ends flatter (in the fit's own Hessian trace) and fits less well
    assert runs.loc[0.05, "hessian_trace"] < runs.loc[0.0, "hessian_trace"]
    assert runs.loc[0.05, "train_loss"] > runs.loc[0.0, "train_loss"]
    scaled = op.run(_sweep("scaled", {"kind": "trace_penalty", "scaled": True, "weight": 0.05}),
                    out=tmp_path, progress=False).runs
    assert np.isfinite(scaled["scaled_hessian_trace"]).all()


def test_a_negative_weight_is_a_config_error_naming_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"objective\.weight"):
        op.run(_sweep("neg", {"kind": "trace_penalty", "weight": -0.1}), out=tmp_path,
               progress=False)


def test_scaled_on_a_symmetric_model_is_a_config_error(tmp_path):
    sweep = _sweep("sym", {"kind": "trace_penalty", "scaled": True},
                   model={"kind": "symmetric", "width": 3})
    sweep["problem"]["symmetric"] = True
    with pytest.raises(ConfigError, match=r"objective\.scaled.*symmetric"):
        op.run(sweep, out=tmp_path, progress=False)
