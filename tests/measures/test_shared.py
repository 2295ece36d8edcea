"""Measures of one log share their decompositions: the same numbers, fewer SVDs."""

import jax
import numpy as np

from overparam.measures import compute_measures
from overparam.models import deep_factorization
from overparam.problems import low_rank_truth, make_completion

NAMES = ["singular_values", "nuclear_norm", "effective_rank", "schatten_quasi_norm",
         "sv_rate_predicted", "alignment_diag", "alignment_offdiag", "train_loss"]


def _case():
    truth = low_rank_truth(jax.random.PRNGKey(0), 6, 5, rank=2)
    problem = make_completion(jax.random.PRNGKey(1), truth, m=18)
    model = deep_factorization(6, 5, depth=3)
    return model, model.init(jax.random.PRNGKey(2), init_scale=0.3), problem


def _svds(share: bool) -> int:
    model, params, problem = _case()
    text = str(jax.make_jaxpr(lambda p: compute_measures(NAMES, model, p, problem,
                                                         share=share))(params))
    return text.count("name=svd")


def test_sharing_changes_no_number():
    model, params, problem = _case()
    a = compute_measures(NAMES, model, params, problem, share=False)
    b = compute_measures(NAMES, model, params, problem, share=True)
    for name in NAMES:
        assert np.array_equal(np.asarray(a[name]), np.asarray(b[name])), name


def test_one_log_decomposes_the_matrix_twice_not_seven_times():
    # singular values once (4 measures) and the thin SVD once (3 measures)
    assert _svds(share=True) == 2
    assert _svds(share=False) == 7
