"""Results store: Parquet parts written atomically, consolidated into one file per table.

Layout of ``DIR/``::

    manifest.json          format version and experiment name (refuses mixing experiments)
    parts/runs-*.parquet   one part per batch of finished runs (a run is done iff its row is here)
    parts/traj-*.parquet   their trajectories, written before the runs part
    runs.parquet           consolidated rows, one per run
    trajectories.parquet   consolidated trajectories

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so readers never see a partial file and a killed writer leaves the previous
state intact. Resuming reads the finished run ids and skips them.
"""

import json
import os
import tempfile
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from overparam.errors import StoreError

FORMAT_VERSION = 1


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_json(obj, path: Path) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=False, default=str)
            f.write("\n")

    _atomic_write(path, write)


def check_writable_dir(path: Path) -> None:
    """Raise StoreError unless ``path`` is (or can be created as) a writable directory."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise StoreError(f"output {path}: {probe} exists and is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise StoreError(f"output {path}: {probe} is not writable")


class Store:
    """The results of one experiment (or sweep) in directory ``root``."""

    def __init__(self, root: str | Path, experiment: str):
        self.root = Path(root)
        self.experiment = experiment
        self.parts = self.root / "parts"
        self.manifest = self.root / "manifest.json"

    def check(self) -> None:
        """Refuse a directory of another experiment or store version. Writes nothing."""
        check_writable_dir(self.root)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"output {self.root} exists and is not a directory")
        if self.manifest.exists():
            try:
                meta = json.loads(self.manifest.read_text())
            except (OSError, ValueError) as e:
                raise StoreError(f"{self.manifest}: unreadable manifest ({e})") from None
            if meta.get("format_version") != FORMAT_VERSION:
                raise StoreError(f"{self.manifest}: store format version "
                                 f"{meta.get('format_version')!r}, this overparam reads "
                                 f"{FORMAT_VERSION}; use a new --out directory")
            if meta.get("experiment") != self.experiment:
                raise StoreError(f"{self.root} holds results of {meta.get('experiment')!r}, "
                                 f"not {self.experiment!r}; use another --out directory")
        elif self.root.is_dir() and any(self.root.glob("*.parquet")):
            raise StoreError(f"{self.root} holds Parquet files but no manifest.json; "
                             "refusing to mix results")

    def open(self) -> None:
        """Create the directory and manifest (idempotent)."""
        self.check()
        self.parts.mkdir(parents=True, exist_ok=True)
        if not self.manifest.exists():
            write_json({"format_version": FORMAT_VERSION, "experiment": self.experiment},
                       self.manifest)

    def _read(self, pattern: str, consolidated: str) -> pd.DataFrame:
        frames = []
        files = sorted(self.parts.glob(pattern)) if self.parts.exists() else []
        if (self.root / consolidated).exists():
            files.append(self.root / consolidated)
        for f in files:
            try:
                frames.append(pq.read_table(f).to_pandas())
            except (OSError, pa.ArrowException) as e:
                raise StoreError(f"{f}: corrupt Parquet file ({e}); delete it to re-run "
                                 "its runs") from None
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def runs(self) -> pd.DataFrame:
        df = self._read("runs-*.parquet", "runs.parquet")
        return df.drop_duplicates("run_id", keep="last").reset_index(drop=True) if len(df) else df

    def trajectories(self) -> pd.DataFrame:
        df = self._read("traj-*.parquet", "trajectories.parquet")
        if not len(df):
            return df
        return df.drop_duplicates(["run_id", "step"], keep="last").reset_index(drop=True)

    def finished_ids(self) -> set[str]:
        df = self.runs()
        return set(df["run_id"]) if len(df) else set()

    def write_part(self, runs: list[dict], trajectories: list[dict]) -> None:
        """Store finished runs; trajectories first, so a run row implies its trajectory."""
        if not runs:
            return
        tag = uuid.uuid4().hex[:12]
        if trajectories:
            write_parquet(pd.DataFrame(trajectories), self.parts / f"traj-{tag}.parquet")
        write_parquet(pd.DataFrame(runs), self.parts / f"runs-{tag}.parquet")

    def consolidate(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Merge parts into runs.parquet / trajectories.parquet, then remove the parts."""
        runs, traj = self.runs(), self.trajectories()
        if len(traj) and len(runs):
            traj = traj[traj["run_id"].isin(set(runs["run_id"]))].reset_index(drop=True)
        if len(runs):
            write_parquet(runs, self.root / "runs.parquet")
        if len(traj):
            write_parquet(traj, self.root / "trajectories.parquet")
        for f in list(self.parts.glob("*.parquet")) if self.parts.exists() else []:
            f.unlink()
        return runs, traj
