"""Helpers of the hardening suite: TOML rendering, directory snapshots, calling the CLI."""

import json
import math
import os
from pathlib import Path

from overparam.cli import main


def toml_value(v) -> str:
    """``v`` as a TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = (f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def to_toml(data: dict) -> str:
    """A TOML document of ``data``: scalars and lists first, then one table per dict value,
    then ``[[claims]]``-style arrays of tables for lists of dicts."""
    head, tables, arrays = [], [], []
    for k, v in data.items():
        key = json.dumps(str(k))
        if isinstance(v, dict):
            tables.append(f"[{key}]\n" + "".join(f"{json.dumps(str(a))} = {toml_value(b)}\n"
                                                 for a, b in v.items()))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.extend(f"[[{key}]]\n" + "".join(f"{json.dumps(str(a))} = {toml_value(b)}\n"
                                                   for a, b in x.items()) for x in v)
        else:
            head.append(f"{key} = {toml_value(v)}\n")
    return "".join(head) + "\n".join([""] + tables + arrays)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its type, modification time and bytes."""
    out = {}
    if not os.path.lexists(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            data = path.read_bytes() if path.is_file() and st.st_mode & 0o444 else None
            out[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, data)
    return out


def call_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run ``overparam ARGS`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as e:  # argparse errors
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(text: str) -> bool:
    return text.count("\n") <= 1 and "Traceback" not in text and text.strip() != ""
