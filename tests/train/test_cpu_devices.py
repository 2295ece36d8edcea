"""Batches sharded over several CPU devices must not deadlock in batched LAPACK calls.

jaxlib's batched SVD/QR wait on the shared CPU thread pool; two devices running them at once
used to hang forever with 0% CPU. The check runs in a subprocess with a timeout so a
regression fails instead of hanging the suite.
"""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import jax
    jax.config.update("jax_num_cpu_devices", 2)
    from overparam.models import deep_factorization
    from overparam.problems import low_rank_truth, make_completion
    from overparam.sweep._batch import run_group
    from overparam.objectives import squared_objective
    from overparam.train import hparams, make_trainer
    n = 100
    truth = low_rank_truth(jax.random.PRNGKey(0), n, n, 2)
    problems = [make_completion(jax.random.PRNGKey(i), truth, 400) for i in range(6)]
    for init in ("orthogonal", "balanced"):
        trainer = make_trainer(deep_factorization(n, n, 3, init=init), squared_objective,
                               optimizer="gd", log_every=2, logs_per_segment=2,
                               log_measures=("train_loss", "singular_values", "effective_rank"),
                               final_measures=("singular_values", "nuclear_norm"), top_k=3)
        hp = hparams(init_scale=1e-2, learning_rate=1e-2, stop_loss=0.0, max_steps=6)
        done = []
        run_group(trainer, problems, [hp] * 6, list(range(6)), dtype="float32", max_batch=8,
                  report=done.extend)
        assert len(done) == 6, done
    print("ok")
""")


def test_sharded_batch_with_svds_finishes():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
