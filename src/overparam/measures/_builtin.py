"""The built-in measures as functions of a :class:`MeasureContext` (registered by name in
:mod:`overparam.registry`)."""

import jax.numpy as jnp

import overparam.measures._dynamics as _dynamics
import overparam.measures._recovery as _recovery
import overparam.measures._spectral as _spectral
from overparam.types import Array


def _on_prediction(f):
    return lambda ctx: f(ctx.problem, ctx.prediction())


def _on_matrix(f):
    return lambda ctx: f(ctx.prediction())


train_loss = _on_prediction(_recovery.train_loss)
recon_error = _on_prediction(_recovery.reconstruction_error)
unobserved_error = _on_prediction(_recovery.unobserved_error)
nuclear_norm = _on_matrix(_spectral.nuclear_norm)
effective_rank = _on_matrix(_spectral.effective_rank)
singular_values = _on_matrix(_spectral.singular_values)
schatten_quasi_norms = _on_matrix(_spectral.schatten_quasi_norms)
determinant = _on_matrix(_spectral.determinant)
unobserved_max_abs = _on_prediction(_recovery.unobserved_max_abs)
test_error = _on_prediction(_recovery.heldout_error)


def _depth(ctx):
    return ctx.model.info.get("depth")


def schatten_quasi_norm(ctx) -> Array:
    """Schatten-(2/N) quasi-norm of the end-to-end matrix, N the model's depth (NaN when the
    model has no depth)."""
    x = ctx.prediction()
    depth = _depth(ctx)
    if depth is None:
        return jnp.asarray(jnp.nan, x.dtype)
    return _spectral.schatten_quasi_norm(x, 2.0 / depth)


def sv_rate_measured(ctx) -> Array:
    return _dynamics.sv_rate_measured(ctx.model, ctx.params, ctx.problem)


def sv_rate_predicted(ctx) -> Array:
    depth = _depth(ctx)
    x = ctx.prediction()
    if depth is None:
        return jnp.full((min(x.shape),), jnp.nan, x.dtype)
    return _dynamics.sv_rate_predicted_at(x, ctx.problem, depth)


def alignment_diag(ctx) -> Array:
    return _dynamics.alignment_diag(ctx.model, ctx.params, ctx.problem)


def alignment_offdiag(ctx) -> Array:
    return _dynamics.alignment_offdiag(ctx.model, ctx.params, ctx.problem)
