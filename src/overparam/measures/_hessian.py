r"""Hessian diagnostics of the training loss: exact trace, scaled trace, Hutchinson estimate,
largest eigenvalue (Ding, Drusvyatskiy, Fazel, Harchaoui 2022: flat minima).

All are functions of a :class:`~overparam.measures.MeasureContext` (registered by name in
:mod:`overparam.registry`), pure and jit/vmap-safe: every choice below is made in Python on
static facts (the model's ``predict`` and ``info``, the operator's ``entry_mask()``, shapes),
never on traced values. The Hessian is in all trainable parameters, of the objective's
``total`` on the full problem.

**Exact trace.** When the objective declares a local least-squares model
:math:`\tilde\ell(\theta) = \sum_i c_i r_i^2`, :math:`r = \mathcal{A}(X(\theta)) - b` (see
:mod:`overparam.objectives._local`; the ``squared`` kind does, with :math:`c = w/\sum w`) and
the model has an :attr:`~overparam.models.Model.output_laplacian` :math:`\Delta_\theta X`,

.. math:: \operatorname{tr}\nabla^2\tilde\ell = 2\sum_i c_i\|\nabla_\theta r_i\|^2
   + 2\,\langle \mathcal{A}^*(c\odot r),\ \Delta_\theta X\rangle

at any point, minimizer or not. The first (Gauss-Newton) term is computed

* for deep factorizations :math:`X = W_N\cdots W_1` in closed form,
  :math:`\sum_l\sum_i c_i\|W_{>l}^\top A_i W_{<l}^\top\|_F^2`: with entry sampling
  (``entry_mask()`` not None, :math:`A_{jk} = e_je_k^\top`) the layer-:math:`l` term is
  :math:`a_l^\top C\, b_l` with :math:`a_l` the squared row norms of :math:`W_{>l}` and
  :math:`b_l` the squared column norms of :math:`W_{<l}` (:math:`O(Nd^3)`); for rank-one
  sensing (:math:`A_i = a_ib_i^\top`) it is :math:`\sum_i c_i\|W_{>l}^\top a_i\|^2
  \|W_{<l}b_i\|^2` (:math:`O(NMd^2)`); otherwise it is :math:`M` sandwich products
  :math:`W_{>l}^\top A_i W_{<l}^\top` from ``as_matrix()``;
* for any other model by chunked VJPs over the :math:`M` measurements or chunked JVPs over
  the :math:`P` parameters, whichever count is smaller (``lax.map``/``lax.scan`` over chunks
  of about :data:`CHUNK_ELEMENTS` numbers): never a full Jacobian beyond that.

Otherwise (no declared local model, a model without ``output_laplacian``, or a model of
inputs) ``hessian_trace`` and ``scaled_hessian_trace`` are Hutchinson estimates and
``hessian_trace_exact`` is 0.

**Scaled trace** (the paper's str): :math:`\sum_j \operatorname{tr}(H_{jj})/n_j` over the
parameter arrays :math:`j` with :math:`n_j` = ``model.info["factor_rows"][j]`` (NaN for models
without it). Per-array traces need the residual term per array: zero for models whose
``output_laplacian`` is a :func:`~overparam.models.zero_laplacian` (linear in each single
scalar: deep factorizations, :math:`LR^\top`, Hadamard products), the whole term for
one-array models, and otherwise the exact diagonal
of :math:`\nabla^2_\theta\langle 2\mathcal{A}^*(c\odot r), X(\theta)\rangle` by
forward-over-forward derivatives, one per parameter (costly; only multi-array models with
``factor_rows`` and a nonzero Laplacian use it).

**Hutchinson**: :math:`\frac1S\sum_s v_s^\top H v_s` with :data:`HUTCHINSON_PROBES`
Rademacher probes, Hessian-vector products forward-over-reverse (``jax.linearize`` of
``jax.grad``, i.e. ``jax.jvp`` of ``jax.grad`` with the primal pass shared), in batches of
:data:`HVP_BATCH`; any differentiable objective. The standard error is the probes' sample
standard deviation over :math:`\sqrt S`.

**Largest eigenvalue**: :data:`LANCZOS_STEPS` steps of Lanczos with full
reorthogonalization (restarted on an orthogonal random vector at breakdown), from a random
start; the largest Ritz value, a lower bound on :math:`\lambda_{\max}` that is exact once the
Krylov space holds the top eigenvector (always when :math:`P` <= the step count).
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

from overparam._linalg import eigvalsh
from overparam.models._base import zero_laplacian
from overparam.models._deep_factorization import end_to_end
from overparam.objectives._local import LocalLeastSquares, bind_objective, local_least_squares
from overparam.objectives._squared import squared_objective
from overparam.problems._operators import RankOneSensing
from overparam.types import Array, Params

HUTCHINSON_PROBES = 64  # Rademacher probes per Hutchinson estimate (SE ~ sd(v^T H v) / 8)
HVP_BATCH = 16  # Hessian-vector products vmapped together (lax.map batch size)
LANCZOS_STEPS = 32  # Lanczos iterations (Hessian-vector products) for the top eigenvalue
CHUNK_ELEMENTS = 2**22  # about this many numbers per chunk of VJPs/JVPs in the exact trace

# every output_laplacian made by zero_laplacian shares this code object
_ZERO_LAPLACIAN_CODE = zero_laplacian(lambda params: params).__code__


# ----- helpers --------------------------------------------------------------------------------


def _leaf_sizes(params: Params) -> list[int]:
    return [int(jnp.size(leaf)) for leaf in jax.tree.leaves(params)]


def _segment_sums(vec: Array, sizes: list[int]) -> Array:
    """Sums of ``vec`` over consecutive static segments of the given sizes: (n_segments,)."""
    starts = [sum(sizes[:j]) for j in range(len(sizes))]
    return jnp.stack([jnp.sum(vec[s:s + n]) for s, n in zip(starts, sizes)])


def _chunks(n: int, other: int) -> Array:
    """Indices 0 .. n-1 (padded with n, out of range) as (n_chunks, chunk), each chunk about
    :data:`CHUNK_ELEMENTS` numbers when one index costs ``other`` numbers."""
    chunk = max(1, min(n, CHUNK_ELEMENTS // max(other, 1)))
    count = -(-n // chunk)
    return jnp.arange(count * chunk).reshape(count, chunk)


def _is_deep_factorization(model, params) -> bool:
    return (model.predict is end_to_end and isinstance(params, (tuple, list))
            and all(jnp.ndim(w) == 2 for w in params))


def _linear_in_each_scalar(model) -> bool:
    """The model's ``output_laplacian`` comes from :func:`~overparam.models.zero_laplacian`:
    every single scalar's second derivative of the output vanishes, not only their sum."""
    return getattr(model.output_laplacian, "__code__", None) is _ZERO_LAPLACIAN_CODE


def _nan(params: Params) -> Array:
    flat, _ = ravel_pytree(params)
    return jnp.asarray(jnp.nan, flat.dtype)


# ----- exact trace of a local least-squares model ---------------------------------------------


def _deep_gauss_newton(params, local: LocalLeastSquares) -> Array | None:
    r""":math:`\sum_i c_i\|W_{>l}^\top A_i W_{<l}^\top\|_F^2` per layer, shape (N,); None when
    the operator's measurements have an unexpected shape (then the generic path runs)."""
    ws = list(params)
    n = len(ws)
    d1, d2 = ws[-1].shape[0], ws[0].shape[1]
    below, acc = [None], None  # below[l] = W_{l-1} ... W_0, (rows_in_l, d2); None: identity
    for w in ws[:-1]:
        acc = w if acc is None else w @ acc
        below.append(acc)
    above, acc = [None] * n, None  # above[l] = W_{N-1} ... W_{l+1}, (d1, rows_l); None: identity
    for layer in range(n - 1, 0, -1):
        acc = ws[layer] if acc is None else acc @ ws[layer]
        above[layer - 1] = acc
    c = local.weights
    if local.operator.entry_mask() is not None:
        if c.shape != (d1, d2):
            return None
        terms = []
        for a_mat, b_mat in zip(above, below):
            a = jnp.ones(d1, c.dtype) if a_mat is None else jnp.sum(a_mat * a_mat, axis=1)
            b = jnp.ones(d2, c.dtype) if b_mat is None else jnp.sum(b_mat * b_mat, axis=0)
            terms.append(a @ c @ b)
        return jnp.stack(terms)
    if isinstance(local.operator, RankOneSensing):  # A_i = a_i b_i^T, never materialized
        a_vec, b_vec = local.operator.left, local.operator.right
        if c.ndim != 1 or a_vec.shape != (c.shape[0], d1) or b_vec.shape != (c.shape[0], d2):
            return None
        terms = []
        for a_mat, b_mat in zip(above, below):
            pa = a_vec if a_mat is None else a_vec @ a_mat  # rows W_{>l}^T a_i
            qb = b_vec if b_mat is None else b_vec @ b_mat.T  # rows W_{<l} b_i
            terms.append(jnp.einsum("m,m,m->", c, jnp.sum(pa * pa, 1), jnp.sum(qb * qb, 1)))
        return jnp.stack(terms)
    rows = local.operator.as_matrix()
    if c.ndim != 1 or rows.shape != (c.shape[0], d1 * d2):
        return None
    a_i = rows.reshape(c.shape[0], d1, d2)
    terms = []
    for a_mat, b_mat in zip(above, below):
        t = a_i if b_mat is None else jnp.einsum("mab,hb->mah", a_i, b_mat)  # A_i W_{<l}^T
        u = t if a_mat is None else jnp.einsum("ak,mah->mkh", a_mat, t)  # W_{>l}^T A_i W_{<l}^T
        terms.append(jnp.einsum("m,mkh,mkh->", c, u, u))
    return jnp.stack(terms)


def gauss_newton_diagonal(model, params: Params, local: LocalLeastSquares) -> Array:
    r"""The diagonal :math:`\sum_i c_i (\partial r_i/\partial\theta_t)^2` over the flattened
    parameters (``ravel_pytree`` order), shape (P,), by chunked VJPs over the M measurements
    when M <= P and chunked JVPs over the parameters otherwise."""
    flat, unravel = ravel_pytree(params)

    def measure(x):
        return local.operator.apply(model.predict(unravel(x)))

    out = jax.eval_shape(measure, flat)
    c = local.weights.reshape(-1).astype(flat.dtype)
    m, p = c.shape[0], flat.shape[0]
    if m <= p:
        _, vjp = jax.vjp(measure, flat)

        def rows(acc, idx):  # gradients of measurements idx: (chunk, P)
            e = jax.nn.one_hot(idx, m, dtype=flat.dtype)  # zero rows for the padding index m
            g = jax.vmap(lambda ei: vjp(ei.reshape(out.shape))[0])(e)
            return acc + (e @ c) @ (g * g), None

        diag, _ = lax.scan(rows, jnp.zeros(p, flat.dtype), _chunks(m, p))
        return diag
    _, jvp = jax.linearize(measure, flat)

    def cols(idx):  # derivatives of all measurements along parameters idx: (chunk, M)
        e = jax.nn.one_hot(idx, p, dtype=flat.dtype)
        j = jax.vmap(jvp)(e).reshape(idx.shape[0], m)
        return (j * j) @ c

    return lax.map(cols, _chunks(p, m)).reshape(-1)[:p]


def _gauss_newton_blocks(model, params, local) -> Array:
    r""":math:`\sum_i c_i\|\nabla_{\theta_j} r_i\|^2` per parameter array j, shape (n_arrays,)."""
    if _is_deep_factorization(model, params):
        layers = _deep_gauss_newton(params, local)
        if layers is not None:
            return layers
    return _segment_sums(gauss_newton_diagonal(model, params, local), _leaf_sizes(params))


def _residual_dual(model, params, local) -> Array:
    r""":math:`2\mathcal{A}^*(c\odot r)`, shaped like the prediction."""
    r = local.operator.apply(model.predict(params)) - local.target
    return 2.0 * local.operator.adjoint(local.weights * r)


def _residual_total(model, params, local) -> Array:
    if _linear_in_each_scalar(model):
        return jnp.zeros((), ravel_pytree(params)[0].dtype)
    return jnp.vdot(_residual_dual(model, params, local), model.output_laplacian(params))


def _residual_blocks(model, params, local) -> Array:
    r"""The residual term per parameter array: :math:`\sum_{t\in j}\partial_t^2\langle G,
    X(\theta)\rangle` with :math:`G = 2\mathcal{A}^*(c\odot r)` held fixed."""
    sizes = _leaf_sizes(params)
    if _linear_in_each_scalar(model):
        return jnp.zeros(len(sizes), ravel_pytree(params)[0].dtype)
    if len(sizes) == 1:
        return _residual_total(model, params, local)[None]
    flat, unravel = ravel_pytree(params)
    dual = lax.stop_gradient(_residual_dual(model, params, local))

    def g(x):
        return jnp.vdot(dual, model.predict(unravel(x)))

    def second(e):  # e^T (Hessian of g) e, forward over forward
        return jax.jvp(lambda y: jax.jvp(g, (y,), (e,))[1], (flat,), (e,))[1]

    p = flat.shape[0]
    diag = lax.map(lambda idx: jax.vmap(second)(jax.nn.one_hot(idx, p, dtype=flat.dtype)),
                   _chunks(p, p + dual.size)).reshape(-1)[:p]
    return _segment_sums(diag, sizes)


def exact_hessian_trace(model, params: Params, local: LocalLeastSquares) -> Array:
    """The exact trace of the Hessian of ``local``'s model (see the module docstring); the
    model needs an ``output_laplacian``."""
    gn = jnp.sum(_gauss_newton_blocks(model, params, local))
    return 2.0 * gn + _residual_total(model, params, local)


def exact_hessian_blocks(model, params: Params, local: LocalLeastSquares) -> Array:
    """The exact trace of each parameter array's diagonal block of the Hessian of ``local``'s
    model, shape (n_arrays,)."""
    return 2.0 * _gauss_newton_blocks(model, params, local) + _residual_blocks(model, params,
                                                                              local)


def exact_scaled_hessian_trace(model, params: Params, local: LocalLeastSquares) -> Array:
    """The paper's scaled trace of the Hessian of ``local``'s model, exactly: the blocks of
    :func:`exact_hessian_blocks` over ``model.info["factor_rows"]``, summed (NaN when the
    model has no ``factor_rows`` matching its parameter arrays)."""
    rows = model.info.get("factor_rows")
    if rows is None or len(rows) != len(jax.tree.leaves(params)):
        return _nan(params)
    blocks = exact_hessian_blocks(model, params, local)
    return jnp.sum(blocks / jnp.asarray(rows, blocks.dtype))


# ----- Hutchinson and Lanczos on Hessian-vector products --------------------------------------


def _hvp(f: Callable, params: Params):
    """``(flat, unravel, hvp)``: flat parameters and ``hvp(v)`` of ``f`` at them."""
    flat, unravel = ravel_pytree(params)
    _, hvp = jax.linearize(jax.grad(lambda x: f(unravel(x))), flat)
    return flat, unravel, hvp


def hutchinson_samples(f: Callable, params: Params, key: Array,
                       probes: int = HUTCHINSON_PROBES) -> Array:
    r""":math:`v_{s,j}^\top (H v_s)_j` per Rademacher probe :math:`s` and parameter array
    :math:`j`, shape (probes, n_arrays), for the Hessian :math:`H` of scalar ``f(params)``."""
    flat, _, hvp = _hvp(f, params)
    sizes = _leaf_sizes(params)
    v = jax.random.rademacher(key, (probes, flat.shape[0]), flat.dtype)
    return lax.map(lambda vi: _segment_sums(vi * hvp(vi), sizes), v,
                   batch_size=min(HVP_BATCH, probes))


def _mean_se(samples: Array) -> tuple[Array, Array]:
    n = samples.shape[0]
    return jnp.mean(samples), jnp.std(samples, ddof=1) / jnp.sqrt(jnp.asarray(n, samples.dtype))


def lanczos_max_eigenvalue(f: Callable, params: Params, key: Array,
                           steps: int = LANCZOS_STEPS) -> Array:
    """Largest Ritz value of ``min(steps, P)`` Lanczos steps on the Hessian of ``f(params)``."""
    flat, _, hvp = _hvp(f, params)
    p, dtype = flat.shape[0], flat.dtype
    k = min(steps, p)
    tiny = jnp.sqrt(jnp.finfo(dtype).eps)
    # one draw (random draws are slow to compile): row 0 starts, row j + 1 restarts step j
    draws = jax.random.normal(key, (k + 1, p), dtype)

    def orthogonalize(w, basis):  # twice is enough (Kahan, Parlett)
        w = w - basis.T @ (basis @ w)
        return w - basis.T @ (basis @ w)

    def unit(x):
        return x / jnp.linalg.norm(x)

    def body(j, carry):
        basis, alphas, betas, v, v_prev, beta_prev = carry
        basis = basis.at[j].set(v)
        hv = hvp(v)
        alpha = jnp.vdot(v, hv)
        w = orthogonalize(hv - alpha * v - beta_prev * v_prev, basis)
        beta = jnp.linalg.norm(w)
        fresh = unit(orthogonalize(draws[j + 1], basis))
        ok = beta > tiny * jnp.maximum(jnp.linalg.norm(hv), jnp.finfo(dtype).tiny)
        v_next = jnp.where(ok, w / jnp.where(ok, beta, 1.0), fresh)
        beta = jnp.where(ok, beta, 0.0)  # a restart: the new vector is uncoupled
        return basis, alphas.at[j].set(alpha), betas.at[j].set(beta), v_next, v, beta

    v0 = unit(draws[0])
    init = (jnp.zeros((k, p), dtype), jnp.zeros(k, dtype), jnp.zeros(k, dtype), v0,
            jnp.zeros(p, dtype), jnp.zeros((), dtype))
    _, alphas, betas, *_ = lax.fori_loop(0, k, body, init)
    off = betas[:-1]
    t = jnp.diag(alphas) + jnp.diag(off, 1) + jnp.diag(off, -1)
    return eigvalsh(t)[-1]


# ----- the measures ---------------------------------------------------------------------------


def _objective(ctx) -> Callable:
    """The run's bound objective; the squared loss for a context built without one
    (:func:`~overparam.measures.compute_measures` gives NaN there instead)."""
    if ctx.objective is None:
        return bind_objective(squared_objective, ctx.model, {})
    return ctx.objective


def _key(ctx) -> Array:
    """The context's key; a fixed one for a context built without (compute_measures gives
    NaN there instead)."""
    return jax.random.PRNGKey(0) if ctx.key is None else ctx.key


def _total(ctx) -> Callable:
    objective = _objective(ctx)
    return lambda params: objective(params, ctx.problem)[0]


def _exact_local(ctx) -> LocalLeastSquares | None:
    """The declared local model when the exact trace applies, else None."""
    if ctx.model.output_laplacian is None:
        return None
    return local_least_squares(_objective(ctx), ctx.model, ctx.params, ctx.problem)


# The estimate and its standard error are two measures; compute_measures gives each its own
# key (fold_in of its position). To keep them one computation on the same probes,
# hessian_trace_hutchinson leaves its standard error here, and hessian_trace_hutchinson_se
# takes it (once) when called next on the same params, problem and objective objects (in one
# compute_measures call, i.e. one trace). A single slot, holding strong references so that the
# identity test is sound; the SE measure computes on its own probes when nothing matches.
_SE_SLOT: list = []


def hessian_trace_hutchinson(ctx) -> Array:
    """Hutchinson estimate of the Hessian trace (any differentiable objective)."""
    samples = hutchinson_samples(_total(ctx), ctx.params, _key(ctx)).sum(axis=1)
    estimate, se = _mean_se(samples)
    _SE_SLOT[:] = [(ctx.params, ctx.problem, ctx.objective, se)]
    return estimate


def hessian_trace_hutchinson_se(ctx) -> Array:
    """Standard error of :func:`hessian_trace_hutchinson` (the same probes when it ran just
    before in the same measure list)."""
    if _SE_SLOT:
        params, problem, objective, se = _SE_SLOT.pop()
        if params is ctx.params and problem is ctx.problem and objective is ctx.objective:
            return se
    return _mean_se(hutchinson_samples(_total(ctx), ctx.params, _key(ctx)).sum(axis=1))[1]


def hessian_trace(ctx) -> Array:
    """Exact Hessian trace where the objective declares a local least-squares model and the
    model has an output Laplacian; a Hutchinson estimate otherwise."""
    local = _exact_local(ctx)
    if local is None:
        return _mean_se(hutchinson_samples(_total(ctx), ctx.params, _key(ctx)).sum(axis=1))[0]
    return exact_hessian_trace(ctx.model, ctx.params, local)


def hessian_trace_exact(ctx) -> Array:
    """1.0 where ``hessian_trace`` and ``scaled_hessian_trace`` are exact, 0.0 where they are
    Hutchinson estimates."""
    return jnp.asarray(float(_exact_local(ctx) is not None), _nan(ctx.params).dtype)


def scaled_hessian_trace(ctx) -> Array:
    """The paper's scaled trace: each parameter array's block trace over its
    ``info["factor_rows"]`` entry, summed (NaN without ``factor_rows``)."""
    rows = ctx.model.info.get("factor_rows")
    if rows is None or len(rows) != len(jax.tree.leaves(ctx.params)):
        return _nan(ctx.params)
    local = _exact_local(ctx)
    if local is not None:
        return exact_scaled_hessian_trace(ctx.model, ctx.params, local)
    blocks = jnp.mean(hutchinson_samples(_total(ctx), ctx.params, _key(ctx)), axis=0)
    return jnp.sum(blocks / jnp.asarray(rows, blocks.dtype))


def hessian_max_eigenvalue(ctx) -> Array:
    """Largest Hessian eigenvalue by Lanczos (any differentiable objective)."""
    return lanczos_max_eigenvalue(_total(ctx), ctx.params, _key(ctx))
