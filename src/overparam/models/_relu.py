r"""One-hidden-layer ReLU networks (Xie, Liang, Song 2017, "Diverse neural network learns true
target functions"): :math:`f(x) = \sum_k v_k\,\mathrm{relu}(w_k^\top x)`.

With one output, the output weights are fixed signs :math:`v_k = \pm 1` (the first
:math:`\lceil n/2 \rceil` units +1, the rest -1), or trained. By positive homogeneity
:math:`|v_k|` can be absorbed into :math:`w_k`, so fixed signs lose no expressive power; the
notes recall the paper fixing them (``../shared/papers/xie2017.md``, section 2; a
reconstruction, so trained signs are an option). With ``outputs`` k > 1 (MNIST's 10 classes)
the output layer is a trained n x k matrix V and :math:`f(x) = V^\top \mathrm{relu}(W x)`.

Initialization (ours; the paper's is unknown): ``gaussian``, rows of W iid
:math:`N(0, c^2 I / d)` for ``init_scale`` c, so :math:`\|w_k\| \approx c`; or ``spread``,
units of controlled diversity (the notes' section 5 check): :math:`w_k = c\,
(\mu + s g_k)/\|\mu + s g_k\|` with one unit vector :math:`\mu` and :math:`g_k` iid
:math:`N(0, I)` drawn from the run's key, and ``spread`` s: all units near :math:`\mu` for
small s, nearly uniform directions for large s. Trained output weights start at the fixed
signs (one output) or iid :math:`N(0, 1/n)` (k outputs).
"""

from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np

from overparam.models._base import Model
from overparam.types import Array, Params

SIGNS = ("fixed", "trained")
INITS = ("gaussian", "spread")


def fixed_signs(width: int) -> np.ndarray:
    """The output signs of a width-n network: +1 for the first ceil(n/2) units, -1 after."""
    return np.where(np.arange(width) < (width + 1) // 2, 1.0, -1.0)


def hidden(params: Params, inputs: Array) -> Array:
    """relu(W x_i) for every input: (m, n)."""
    return jax.nn.relu(inputs @ params["w"].T)


def output_weights(model: Model, params: Params) -> Array:
    """The output weights: ``(n,)`` (fixed or trained signs) or ``(n, k)``."""
    if "v" in params:
        return params["v"]
    return jnp.asarray(model.info["signs"], params["w"].dtype)


def relu_network(input_dim: int, width: int, outputs: int = 1, signs: str = "fixed",
                 examples: int = 1, init: str = "gaussian") -> Model:
    """The network :math:`x \\mapsto \\sum_k v_k \\mathrm{relu}(w_k^\\top x)` on ``input_dim``
    inputs with ``width`` hidden units and ``outputs`` outputs (1: a scalar per input; k > 1:
    k logits per input, output layer trained whatever ``signs`` says).

    ``params`` is ``{"w": (n, d)}`` with fixed signs, plus ``"v"``: ``(n,)`` or ``(n, k)``
    when trained. ``predict(params, inputs)`` maps ``(m, d)`` inputs to ``(m,)`` or
    ``(m, k)``. ``examples`` (the training set's size) only sizes the memory estimate."""
    for name, value in (("input_dim", input_dim), ("width", width), ("outputs", outputs)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if signs not in SIGNS:
        raise ValueError(f"signs must be one of {SIGNS}, got {signs!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    sign = fixed_signs(width)
    trained = signs == "trained" or outputs > 1

    def init(key, init_scale, spread=1.0, dtype=jnp.float32):
        kw, kv, kmu = jax.random.split(key, 3)
        g = jax.random.normal(kw, (width, input_dim), dtype)
        if init == "gaussian":
            w = (init_scale / np.sqrt(input_dim)) * g
        else:
            mu = jax.random.normal(kmu, (input_dim,), dtype)
            u = (mu / jnp.linalg.norm(mu))[None, :] + spread * g
            w = init_scale * u / jnp.linalg.norm(u, axis=1, keepdims=True)
        if not trained:
            return {"w": w}
        if outputs == 1:
            v = jnp.asarray(sign, dtype)
        else:
            v = jax.random.normal(kv, (width, outputs), dtype) / np.sqrt(width)
        return {"w": w, "v": v}

    def predict(params, inputs):
        h = hidden(params, inputs)
        v = params["v"] if trained else jnp.asarray(sign, h.dtype)
        return h @ v

    count = width * input_dim + (width * outputs if trained else 0)
    return Model("relu_network", init, predict,
                 label=f"relu width {width}, {input_dim} -> {outputs}", param_count=count,
                 activation_size=examples * width + width * input_dim, takes_inputs=True,
                 info=MappingProxyType({"width": width, "outputs": outputs,
                                        "signs": tuple(sign) if not trained else None}))
