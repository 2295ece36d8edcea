"""Importing the modules that register a sweep's own kinds (names or ``.py`` paths)."""

import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from overparam.errors import ConfigError

_LOCK = threading.Lock()


def is_path(name: str) -> bool:
    return name.endswith(".py") or os.sep in name


def import_kinds(modules: Sequence[str]) -> None:
    """Import each module: a module name, or the path of a ``.py`` file (imported once, under
    a name derived from its absolute path). A module that is missing or fails to import is a
    :class:`~overparam.errors.ConfigError` naming it."""
    with _LOCK:
        for i, name in enumerate(modules):
            try:
                _import(name)
            except ConfigError:
                raise
            except Exception as e:  # noqa: BLE001 - reported as a config error, one line
                raise ConfigError(f"imports[{i}]: cannot import {name!r} "
                                  f"({type(e).__name__}: {e})") from None


def _import(name: str) -> None:
    if not is_path(name):
        importlib.import_module(name)
        return
    path = Path(name).resolve()
    if not path.is_file():
        raise ConfigError(f"imports: file {name!r} does not exist")
    module = "overparam_user_" + "".join(c if c.isalnum() else "_" for c in str(path))
    if module in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(module, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[module]
        raise
