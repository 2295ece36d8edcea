"""The built-in measures as functions of a :class:`MeasureContext` (registered by name in
:mod:`overparam.registry`)."""

import jax.numpy as jnp

import overparam.measures._dynamics as _dynamics
import overparam.measures._recovery as _recovery
import overparam.measures._spectral as _spectral
from overparam._linalg import svd
from overparam.objectives import squared_loss_gradient
from overparam.types import Array


def _on_prediction(f):
    return lambda ctx: f(ctx.problem, ctx.prediction())


def _on_matrix(f):
    return lambda ctx: f(ctx.prediction())


train_loss = _on_prediction(_recovery.train_loss)
recon_error = _on_prediction(_recovery.reconstruction_error)
unobserved_error = _on_prediction(_recovery.unobserved_error)
def _svdvals(ctx) -> Array:
    """The end-to-end matrix's singular values, once per evaluation (shared)."""
    return ctx.shared("svdvals", lambda: _spectral.singular_values(ctx.prediction()))


def _svd(ctx):
    """Its thin SVD ``(u, s, vt)``, once per evaluation (shared by the dynamics' measures)."""
    return ctx.shared("svd", lambda: svd(ctx.prediction()))


def _loss_gradient(ctx) -> Array:
    return ctx.shared("loss_gradient",
                      lambda: squared_loss_gradient(ctx.problem, ctx.prediction()))


def nuclear_norm(ctx) -> Array:
    return jnp.sum(_svdvals(ctx))


def effective_rank(ctx) -> Array:
    return _spectral.effective_rank_of(_svdvals(ctx))


singular_values = _svdvals


def schatten_quasi_norms(ctx) -> Array:
    return _spectral.schatten_quasi_norms_of(_svdvals(ctx))



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
    p = 2.0 / depth
    return jnp.sum(_svdvals(ctx) ** p) ** (1.0 / p)


def sv_rate_measured(ctx) -> Array:
    return _dynamics.sv_rate_measured(ctx.model, ctx.params, ctx.problem)


def sv_rate_predicted(ctx) -> Array:
    depth = _depth(ctx)
    x = ctx.prediction()
    if depth is None:
        return jnp.full((min(x.shape),), jnp.nan, x.dtype)
    return _dynamics.sv_rate_predicted_at(x, ctx.problem, depth, _svd(ctx), _loss_gradient(ctx))


def _alignment(ctx) -> tuple[Array, Array]:
    return ctx.shared("alignment", lambda: _dynamics.gradient_alignment(
        ctx.prediction(), _loss_gradient(ctx), _svd(ctx)))


def alignment_diag(ctx) -> Array:
    return _alignment(ctx)[0]


def alignment_offdiag(ctx) -> Array:
    return _alignment(ctx)[1]
