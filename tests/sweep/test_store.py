import json
import os
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from overparam.errors import StoreError
from overparam.sweep import Store


def _rows(ids):
    return [{"run_id": i, "value": float(n)} for n, i in enumerate(ids)]


def test_parts_consolidate_and_deduplicate(tmp_path):
    s = Store(tmp_path / "e", "e")
    s.open()
    s.write_part(_rows(["a", "b"]), [{"run_id": "a", "step": 0, "loss": 1.0}])
    s.write_part(_rows(["c"]), [])
    assert s.finished_ids() == {"a", "b", "c"}
    runs, traj = s.consolidate()
    assert sorted(runs["run_id"]) == ["a", "b", "c"]
    assert not list((tmp_path / "e" / "parts").glob("*.parquet"))
    assert Store(tmp_path / "e", "e").finished_ids() == {"a", "b", "c"}


def test_refuses_other_experiment_and_other_version(tmp_path):
    Store(tmp_path / "x", "one").open()
    with pytest.raises(StoreError, match="holds results of 'one'"):
        Store(tmp_path / "x", "two").check()
    (tmp_path / "x" / "manifest.json").write_text(json.dumps(
        {"format_version": 999, "experiment": "one"}))
    with pytest.raises(StoreError, match="format version 999"):
        Store(tmp_path / "x", "one").check()


def test_refuses_a_file_as_output(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        Store(tmp_path / "f" / "e", "e").check()


def test_corrupt_part_is_named(tmp_path):
    s = Store(tmp_path / "e", "e")
    s.open()
    (tmp_path / "e" / "parts" / "runs-bad.parquet").write_bytes(b"garbage")
    with pytest.raises(StoreError, match="runs-bad.parquet: corrupt Parquet"):
        s.finished_ids()


def test_killed_writer_leaves_previous_state_intact(tmp_path):
    """A writer killed mid-write leaves the old runs.parquet readable and unchanged."""
    s = Store(tmp_path / "e", "e")
    s.open()
    s.write_part(_rows(["a"]), [])
    s.consolidate()
    before = pd.read_parquet(tmp_path / "e" / "runs.parquet")
    script = textwrap.dedent(f"""
        import pandas as pd, pyarrow as pa, pyarrow.parquet as pq, time
        from overparam.sweep import _store
        big = pd.DataFrame({{"run_id": [str(i) for i in range(200000)], "value": 1.0}})
        original = pq.write_table
        def slow_write(table, where):
            original(table, where)
            print("written", flush=True)
            time.sleep(60)
        _store.pq.write_table = slow_write
        target = __import__("pathlib").Path({str(tmp_path / "e" / "runs.parquet")!r})
        _store.write_parquet(big, target)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          text=True) as p:
        assert p.stdout.readline().strip() == "written"
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    after = pd.read_parquet(tmp_path / "e" / "runs.parquet")
    pd.testing.assert_frame_equal(before, after)
    assert Store(tmp_path / "e", "e").finished_ids() == {"a"}
