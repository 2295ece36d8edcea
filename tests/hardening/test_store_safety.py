"""Nothing stored is ever lost: readers racing a writer see whole batches of runs or none,
killed writers (mid-sweep, mid-consolidation) leave a readable store that resumes, and a
consolidation never removes what it did not merge."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from hardening_support import to_toml

import overparam as op
from overparam.errors import StoreError
from overparam.sweep import Store

BATCH = 5


def _batch(i: int) -> tuple[list[dict], list[dict]]:
    runs = [{"run_id": f"b{i:03d}-{j}", "batch": i, "value": float(10 * i + j)}
            for j in range(BATCH)]
    traj = [{"run_id": r["run_id"], "step": s, "loss": r["value"] + s} for r in runs
            for s in (0, 10)]
    return runs, traj


WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_store_safety import _batch
    from overparam.sweep import Store
    store = Store({root!r}, "race")
    store.open()
    print("ready", flush=True)
    for i in range({n}):
        store.write_part(*_batch(i))
        if i % 3 == 2:
            store.consolidate()
    store.consolidate()
""")


def _check_consistent(runs: pd.DataFrame, traj: pd.DataFrame) -> set[str]:
    """Whole batches only, with the right values, and a trajectory for every run."""
    if not len(runs):
        return set()
    counts = runs.groupby("batch")["run_id"].nunique()
    assert (counts == BATCH).all(), counts[counts != BATCH]
    expected = runs["run_id"].map(lambda r: 10 * int(r[1:4]) + int(r[-1]))
    assert (runs["value"] == expected).all()
    assert runs["run_id"].is_unique
    have = traj.groupby("run_id")["step"].nunique() if len(traj) else pd.Series(dtype=int)
    assert all(have.get(r, 0) == 2 for r in runs["run_id"]), "a run without its trajectory"
    return set(runs["run_id"])


def test_readers_racing_a_writer_see_whole_batches_and_never_lose_one(tmp_path):
    root = tmp_path / "race"
    n = 60
    script = WRITER.format(tests=os.path.dirname(__file__), root=str(root), n=n)
    reads, seen = 0, set()
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          text=True) as writer:
        assert writer.stdout.readline().strip() == "ready"
        store = Store(root, "race")
        while writer.poll() is None:
            runs = store.runs()  # runs before trajectories: every run read has its trajectory
            now = _check_consistent(runs, store.trajectories())
            assert seen <= now, f"lost {sorted(seen - now)[:3]}"
            seen = now
            reads += 1
        assert writer.wait() == 0
    assert reads >= 10
    final = _check_consistent(store.runs(), store.trajectories())
    assert len(final) == n * BATCH
    assert not list((root / "parts").glob("*.parquet"))


SWEEP = {"name": "killed",
         "problem": {"kind": "completion", "d1": 4, "d2": 4, "rank": 1, "m": 10},
         "model": {"depth": 2, "init_scale": 0.1},
         "optimizer": {"name": "gd", "learning_rate": 0.05},
         "train": {"stop_loss": 0.0, "log_every": 1000},
         "grid": {"train.max_steps": [10, 20, 300_000]}}


def test_a_sweep_killed_mid_run_keeps_finished_runs_and_resumes(tmp_path):
    """SIGKILL while the slow run trains: the finished runs are in the store, readable, and
    a rerun trains only the rest."""
    (tmp_path / "sweep.toml").write_text(to_toml(SWEEP))
    out = tmp_path / "out"
    parts = out / "killed" / "parts"
    with subprocess.Popen([sys.executable, "-m", "overparam.cli", "run",
                           str(tmp_path / "sweep.toml"), "--out", str(out), "--no-progress",
                           "--max-batch", "4"], stderr=subprocess.PIPE) as p:
        deadline = time.monotonic() + 120
        while not list(parts.glob("runs-*.parquet")) and time.monotonic() < deadline:
            assert p.poll() is None, p.stderr.read()
            time.sleep(0.02)
        assert p.poll() is None, "the sweep finished before it could be killed"
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    store = Store(out / "killed", "killed")
    before = store.runs()
    assert 1 <= len(before) < 3 and set(before["status"]) == {"max_steps"}
    assert set(before["train.max_steps"]) <= {10, 20}
    traj = store.trajectories()
    assert set(traj["run_id"]) >= set(before["run_id"])

    result = op.run(tmp_path / "sweep.toml", out=out, progress=False)
    assert result.ran == 3 - len(before) and len(result.runs) == 3
    kept = result.runs.set_index("run_id").loc[before["run_id"]]
    pd.testing.assert_frame_equal(kept.reset_index()[before.columns], before)
    assert not list(parts.glob("*.parquet"))
    # and every run, resumed or not, is bit for bit the run of an uninterrupted sweep
    whole = op.run(tmp_path / "sweep.toml", out=tmp_path / "whole", progress=False).runs
    a, b = result.runs.set_index("run_id").sort_index(), whole.set_index("run_id").sort_index()
    assert list(a.index) == list(b.index) and a["steps"].equals(b["steps"])
    for col in ("train_loss", "recon_error", "nuclear_norm", "effective_rank"):
        assert np.array_equal(a[col].to_numpy(), b[col].to_numpy()), col


CONSOLIDATOR = textwrap.dedent("""
    import time
    from overparam.sweep import Store, _store
    store = Store({root!r}, "e")
    original = _store.write_parquet
    def write_then_hang(df, path):
        original(df, path)
        if path.name == {hang_after!r}:
            print("written", flush=True)
            time.sleep(60)
    _store.write_parquet = write_then_hang
    store.consolidate()
""")


@pytest.mark.parametrize("hang_after", ["runs.parquet", "trajectories.parquet"])
def test_a_consolidation_killed_midway_loses_nothing(tmp_path, hang_after):
    store = Store(tmp_path / "e", "e")
    store.open()
    for i in range(4):
        store.write_part(*_batch(i))
        if i == 1:
            store.consolidate()
    expected = _check_consistent(store.runs(), store.trajectories())
    script = CONSOLIDATOR.format(root=str(tmp_path / "e"), hang_after=hang_after)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          text=True) as p:
        assert p.stdout.readline().strip() == "written"
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    assert _check_consistent(store.runs(), store.trajectories()) == expected
    runs, traj = store.consolidate()
    assert _check_consistent(runs, traj) == expected
    assert not list((tmp_path / "e" / "parts").glob("*.parquet"))


def test_consolidation_removes_only_what_it_merged(tmp_path, monkeypatch):
    """A part written while a consolidation runs survives it; a trajectory part whose runs
    part never came (a killed writer) is kept out of the tables but not deleted."""
    from overparam.sweep import _store

    store = Store(tmp_path / "e", "e")
    store.open()
    store.write_part(*_batch(0))
    orphan_runs, orphan_traj = _batch(9)
    _store.write_parquet(pd.DataFrame(orphan_traj), store.parts / "traj-orphan.parquet")
    original = _store.write_parquet

    def write_and_race(df, path):
        original(df, path)
        if path.name == "runs.parquet":  # another writer adds a batch meanwhile
            monkeypatch.setattr(_store, "write_parquet", original)
            store.write_part(*_batch(1))

    monkeypatch.setattr(_store, "write_parquet", write_and_race)
    runs, traj = store.consolidate()
    assert set(runs["batch"]) == {0} and set(traj["run_id"]) == set(runs["run_id"])
    assert (store.parts / "traj-orphan.parquet").exists()
    assert _check_consistent(store.runs(), store.trajectories()) == {
        r["run_id"] for i in (0, 1) for r in _batch(i)[0]}


def test_a_corrupt_part_stops_consolidation_before_anything_is_removed(tmp_path):
    store = Store(tmp_path / "e", "e")
    store.open()
    store.write_part(*_batch(0))
    (store.parts / "runs-zzz.parquet").write_bytes(b"PAR1 truncated")
    files = sorted(store.parts.iterdir())
    with pytest.raises(StoreError, match="runs-zzz.parquet: corrupt Parquet"):
        store.consolidate()
    assert sorted(store.parts.iterdir()) == files
    assert not (tmp_path / "e" / "runs.parquet").exists()
