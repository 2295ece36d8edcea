"""What sharing one SVD per log saves: the dynamics' log measures on 100 x 100 depth-3
factorizations, batched over runs, with and without sharing, side by side.

    python benchmarks/measures.py [--runs 8] [--repeat 20]
"""

import argparse
import time

import jax
import numpy as np

from overparam._runtime import full_precision
from overparam.measures import compute_measures
from overparam.models import deep_factorization
from overparam.problems import low_rank_truth, make_completion

NAMES = ["train_loss", "recon_error", "singular_values", "nuclear_norm", "effective_rank",
         "sv_rate_measured", "sv_rate_predicted", "alignment_diag", "alignment_offdiag"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    truth = low_rank_truth(jax.random.PRNGKey(0), 100, 100, rank=5)
    problem = make_completion(jax.random.PRNGKey(1), truth, m=2000)
    model = deep_factorization(100, 100, depth=3)
    keys = jax.random.split(jax.random.PRNGKey(2), args.runs)
    params = jax.vmap(lambda k: model.init(k, init_scale=0.1))(keys)
    times, outs = {}, {}
    with full_precision():
        for share in (False, True):
            f = jax.jit(jax.vmap(lambda p, share=share: compute_measures(
                NAMES, model, p, problem, share=share)))
            outs[share] = jax.block_until_ready(f(params))
            t = time.perf_counter()
            for _ in range(args.repeat):
                jax.block_until_ready(f(params))
            times[share] = (time.perf_counter() - t) / args.repeat
    same = all(np.array_equal(np.asarray(outs[False][n]), np.asarray(outs[True][n]))
               for n in NAMES)
    print(f"device: {jax.devices()[0].platform} x{len(jax.devices())}, jax {jax.__version__}; "
          f"{args.runs} runs of 100x100 depth 3, {len(NAMES)} measures")
    print(f"{'':>12} {'ms per log':>12} {'logs/s':>10}")
    for share, label in ((False, "unshared"), (True, "shared")):
        print(f"{label:>12} {times[share] * 1e3:12.1f} {1 / times[share]:10.1f}")
    print(f"{'ratio':>12} {times[False] / times[True]:12.2f}x   outputs bit-identical: {same}")


if __name__ == "__main__":
    main()
