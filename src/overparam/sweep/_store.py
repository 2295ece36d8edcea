"""Results store: Parquet parts written atomically, consolidated into one file per table.

Layout of ``DIR/``::

    manifest.json          format version and experiment name (refuses mixing experiments)
    environment.json       one record per session that ran runs: packages, devices, precision,
                           git commit (see :mod:`overparam.sweep._environment`)
    parts/runs-*.parquet   one part per batch of finished runs (a run is done iff its row is here)
    parts/traj-*.parquet   their trajectories, written before the runs part
    runs.parquet           consolidated rows, one per run
    trajectories.parquet   consolidated trajectories

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so readers never see a partial file and a killed writer leaves the previous
state intact. Consolidation writes the merged tables before it removes the parts, so a reader
that finds a part gone reads its rows from the merged table. Resuming reads the finished run
ids and skips them.
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

FORMAT_VERSION = 2  # 2: run ids hash the objective section too


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
        if self.manifest.is_dir() or self.parts.exists() and not self.parts.is_dir():
            raise StoreError(f"{self.root}: not a results directory ({self.manifest.name} or "
                             f"{self.parts.name} has the wrong type)")
        if self.manifest.exists():
            try:
                meta = json.loads(self.manifest.read_text())
            except (OSError, ValueError) as e:
                raise StoreError(f"{self.manifest}: unreadable manifest ({e})") from None
            if not isinstance(meta, dict):
                raise StoreError(f"{self.manifest}: unreadable manifest (not a JSON object)")
            if meta.get("format_version") != FORMAT_VERSION:
                raise StoreError(f"{self.manifest}: store format version "
                                 f"{meta.get('format_version')!r}, this overparam reads "
                                 f"{FORMAT_VERSION}; use a new --out directory")
            if meta.get("experiment") != self.experiment:
                raise StoreError(f"{self.root} holds results of {meta.get('experiment')!r}, "
                                 f"not {self.experiment!r}; use another --out directory")
        elif self.root.is_dir() and (any(self.root.glob("*.parquet"))
                                     or any(self.parts.glob("*.parquet"))):
            raise StoreError(f"{self.root} holds Parquet files but no manifest.json; "
                             "refusing to mix results")

    def open(self) -> None:
        """Create the directory and manifest (idempotent)."""
        self.check()
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
            if not self.manifest.exists():
                write_json({"format_version": FORMAT_VERSION, "experiment": self.experiment},
                           self.manifest)
        except OSError as e:
            raise StoreError(f"output {self.root}: cannot write ({e.strerror or e})") from None

    @property
    def environment_file(self) -> Path:
        return self.root / "environment.json"

    def environments(self) -> list[dict]:
        """The sessions that ran this store's runs, oldest first (see
        :mod:`overparam.sweep._environment`); unreadable records are a StoreError."""
        try:
            data = json.loads(self.environment_file.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as e:
            raise StoreError(f"{self.environment_file}: unreadable ({e})") from None
        if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
            raise StoreError(f"{self.environment_file}: unreadable (no 'sessions' list)")
        return data["sessions"]

    def record_environment(self, record: dict) -> None:
        """Add a session's record, or replace the one with its ``session`` id (atomic)."""
        sessions = [s for s in self.environments() if s.get("session") != record["session"]]
        write_json({"sessions": [*sessions, record]}, self.environment_file)

    def _part_files(self, pattern: str) -> list[Path]:
        return sorted(self.parts.glob(pattern)) if self.parts.is_dir() else []

    def _frames(self, parts: list[Path], consolidated: str) -> list[tuple[Path, pd.DataFrame]]:
        """Each file's rows: the parts, then the consolidated table (read last: a part removed
        meanwhile by a consolidating writer is in the consolidated table by then)."""
        frames = []
        for f in [*parts, self.root / consolidated]:
            try:
                # one open: a table replaced meanwhile is read whole, old or new (opening the
                # path twice, as pyarrow may, can mix the footer of one with pages of the other)
                with open(f, "rb") as fh:
                    frame = pq.read_table(fh).to_pandas()
            except FileNotFoundError:  # consolidated away (a part) or not written yet
                continue
            except (OSError, pa.ArrowException) as e:
                raise StoreError(f"{f}: corrupt Parquet file ({e}); delete it to re-run "
                                 "its runs") from None
            if "run_id" not in frame.columns:
                raise StoreError(f"{f}: not an overparam results table (no run_id column)")
            frames.append((f, frame))
        return frames

    @staticmethod
    def _concat(frames: list[tuple[Path, pd.DataFrame]], key: list[str]) -> pd.DataFrame:
        frames = [f for _, f in frames if len(f)]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        return df.drop_duplicates(key, keep="last").reset_index(drop=True)

    def runs(self) -> pd.DataFrame:
        return self._concat(self._frames(self._part_files("runs-*.parquet"), "runs.parquet"),
                            ["run_id"])

    def trajectories(self) -> pd.DataFrame:
        return self._concat(self._frames(self._part_files("traj-*.parquet"),
                                         "trajectories.parquet"), ["run_id", "step"])

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
        """Merge parts into runs.parquet / trajectories.parquet, then remove the merged parts.

        The merged tables are written before any part is removed, and only parts that were
        read are removed: a part written meanwhile (its runs part is listed before the
        trajectory parts, since a writer writes a run's trajectory first) is never lost. A
        trajectory part whose runs are not all finished (its writer was killed between the
        two parts) stays until they are.
        """
        run_parts = self._part_files("runs-*.parquet")
        traj_parts = self._part_files("traj-*.parquet")
        run_frames = self._frames(run_parts, "runs.parquet")
        traj_frames = self._frames(traj_parts, "trajectories.parquet")
        runs = self._concat(run_frames, ["run_id"])
        traj = self._concat(traj_frames, ["run_id", "step"])
        ids = set(runs["run_id"]) if len(runs) else set()
        if len(traj):
            traj = traj[traj["run_id"].isin(ids)].reset_index(drop=True)
        if len(runs):
            write_parquet(runs, self.root / "runs.parquet")
        if len(traj):
            write_parquet(traj, self.root / "trajectories.parquet")
        merged = [f for f, _ in run_frames if f in run_parts]
        merged += [f for f, df in traj_frames if f in traj_parts and df["run_id"].isin(ids).all()]
        for f in merged:
            f.unlink(missing_ok=True)
        return runs, traj
