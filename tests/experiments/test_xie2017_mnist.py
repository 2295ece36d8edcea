"""xie2017-mnist: known-answer tables for its claims, lambda chosen on the validation error,
its sweeps, and a smoke-size run on real MNIST end to end."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import holds
from overparam.experiments import EXPERIMENTS, check_sweep
from overparam.experiments import xie2017_mnist as xm

LAMS = [0.0, 0.02, 0.2]


def _runs(gain=0.5, spread=0.05, best_valid=0.2, width_gain=2.0, per_seed=(1, 1, 1),
          n_train=6000):
    """Runs at widths 16 and 64 whose test error at lambda 0.2 is ``gain`` times
    ``per_seed[seed]`` points below lambda 0's, seed noise ``spread`` points, the validation
    error least at ``best_valid``; width 64 ``width_gain`` points better than 16."""
    rng = np.random.default_rng(1)
    rows = []
    for width in (16, 64):
        for lam in LAMS:
            for seed in range(3):
                err = 9.0 - (width_gain if width == 64 else 0.0) + spread * rng.normal()
                rows.append({"run_id": f"{width}-{lam}-{seed}", "method": "gd",
                             "problem.n_train": n_train,
                             "model.width": width, "objective.diversity": lam, "seed": seed,
                             "valid_error_rate": 8.0 - (1.0 if lam == best_valid else 0.0),
                             "test_error_rate": err - (gain * per_seed[seed] if lam == 0.2
                                                              else 0.0),
                             "train_error_rate": 2.0, "discrepancy": 0.1 - lam / 10})
    return pd.DataFrame(rows)


def _claims(**kw):
    return xm.claims(_runs(**kw), pd.DataFrame())


def test_claims_hold_on_the_expected_picture():
    out = _claims()
    assert holds(out) == {"regularizer-width-16": True, "regularizer-width-64": True,
                          "error-falls-with-width": True}
    assert {c["name"] for c in out if c.get("expected", True) is False} == set(
        xm.KNOWN_MISMATCHES)
    assert out[0]["measured"]["difference_points"] == pytest.approx(-0.5, abs=0.1)


def test_the_known_mismatches_are_the_quick_profiles_only():
    paper = xm.claims(_runs(gain=0.0, n_train=60000), pd.DataFrame())
    assert all(c.get("expected", True) for c in paper)
    assert not holds(paper)["regularizer-width-16"]


@pytest.mark.parametrize("changes, failing", [
    (dict(gain=0.0), {"regularizer-width-16", "regularizer-width-64"}),
    # lower on average, but not beyond the seeds' spread of the paired difference
    (dict(gain=0.5, per_seed=(3.0, -1.0, -1.0)), {"regularizer-width-16",
                                                  "regularizer-width-64"}),
    (dict(gain=-0.5), {"regularizer-width-16", "regularizer-width-64"}),
    # validation prefers lambda = 0: no regularizer, whatever the test set would say
    (dict(best_valid=0.0), {"regularizer-width-16", "regularizer-width-64"}),
    (dict(width_gain=0.0), {"error-falls-with-width"}),
])
def test_claims_fail_when_their_quantity_changes(changes, failing):
    got = holds(_claims(**changes))
    assert {k for k, v in got.items() if not v} == failing


def test_lambda_is_chosen_on_validation_error_never_on_test():
    c = xm.chosen(_runs(best_valid=0.02))  # the test error is lowest at 0.2
    assert set(c["lambda"]) == {0.02}
    c = xm.chosen(_runs(best_valid=None))  # a tie on validation goes to the smaller lambda
    assert set(c["lambda"]) == {0.0}


def test_sweeps_hold_out_validation_from_training_and_run_twenty_epochs():
    for profile in ("quick", "paper"):
        (sweep,) = xm.sweeps(profile)
        check_sweep(sweep)
        p = xm.PROFILES[profile]
        assert sweep.problem["validation"] == p["validation"] < p["n_train"]
        assert sweep.train["max_steps"] * xm.BATCH == xm.EPOCHS * (
            p["n_train"] - p["validation"])
        assert sweep.grid["objective.diversity"] == pytest.approx(
            [f * np.log(10) for f in xm.LAMBDA_FACTORS])
    assert xm.PROFILES["paper"]["n_train"] == 60000
    assert xm.sweeps("paper")[0].grid["model.width"] == [16, 32, 64, 128, 256, 512, 1024]
    assert EXPERIMENTS["xie2017-mnist"].converges is False


def test_smoke_run_on_real_mnist_end_to_end(tmp_path, monkeypatch):
    from overparam.experiments import reproduce

    monkeypatch.setitem(xm.PROFILES, "quick", {"n_train": 400, "validation": 200,
                                               "widths": [4, 8], "seeds": [0, 1]})
    monkeypatch.setattr(xm, "EPOCHS", 2)
    result = reproduce("xie2017-mnist", "quick", tmp_path, progress=False)
    d = tmp_path / "xie2017-mnist"
    runs = pd.read_parquet(d / "runs.parquet")
    assert len(runs) == 2 * 2 * len(xm.LAMBDA_FACTORS)
    assert runs["epochs"].tolist() == pytest.approx([2.0] * len(runs))
    assert (runs["steps"] == 4).all()
    assert runs["test_error_rate"].between(0, 100).all()
    assert [p.name for p in result.figures] == ["mnist.png"]
    claims = json.loads((d / "claims.json").read_text())["claims"]
    assert [c["name"] for c in claims] == ["regularizer-width-4", "regularizer-width-8",
                                           "error-falls-with-width"]
