"""A run's result does not depend on its batch-mates: the same sweep with any --max-batch
(1 to all runs in one batch) gives bit-identical results on CPU, and so does running again."""

import numpy as np

from overparam.sweep import Store, SweepConfig, execute, expand
from overparam.sweep._batch import batch_slots, tail_size

SWEEP = SweepConfig(name="det", problem={"kind": "completion", "d1": 8, "d2": 8, "rank": 2,
                                         "m": 36},
                    model={"init_scale": 1e-2},
                    optimizer={"name": "group_rmsprop", "learning_rate": 1e-2},
                    train={"max_steps": 300, "log_every": 100, "stop_loss": 1e-4},
                    grid={"model.depth": [2, 3], "model.init_scale": [1e-2, 3e-2]},
                    seeds=[0, 1, 2])
COLUMNS = ("train_loss", "recon_error", "nuclear_norm", "effective_rank")


def _runs(tmp_path, max_batch):
    store = Store(tmp_path / f"b{max_batch}", "det")
    execute(expand(SWEEP), store, measures=SWEEP.measures, log_measures=SWEEP.log_measures,
            progress=False, max_batch=max_batch)
    return store.consolidate()[0].set_index("run_id").sort_index()


def test_batch_floor():
    assert batch_slots(1, 8, 1) == 2 and batch_slots(1, 1, 2) == 4  # padding, never one
    assert batch_slots(5, 8, 2) == 6 and batch_slots(20, 8, 1) == 8
    assert tail_size(8, 1) == 2 and tail_size(64, 2) == 16 and tail_size(2, 1) == 2


def test_results_do_not_depend_on_the_batch(tmp_path):
    ref = _runs(tmp_path, 1)
    for max_batch in (2, 5, 12):
        got = _runs(tmp_path, max_batch)
        assert list(got.index) == list(ref.index)
        assert got["steps"].equals(ref["steps"])
        for col in COLUMNS:
            assert np.array_equal(got[col].to_numpy(), ref[col].to_numpy()), (max_batch, col)
        for u, v in zip(got["singular_values"], ref["singular_values"]):
            assert np.array_equal(u, v)
