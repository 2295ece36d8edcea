"""Typed errors raised at the edge (configs, files, flags, stores).

Every error carries a one-line message that names the field or file and the reason; the CLI
prints it and exits with code 2.
"""

import difflib
from collections.abc import Iterable


class OverparamError(Exception):
    """Base class of the errors overparam raises for bad input."""


class ConfigError(OverparamError, ValueError):
    """A config value, key or flag is invalid."""


class DataError(OverparamError, ValueError):
    """A data file is missing, unreadable or malformed."""


class StoreError(OverparamError):
    """A results directory cannot be used (wrong experiment, incompatible version, corrupt)."""


def closest(name: str, valid: Iterable[str]) -> str:
    """A ``; did you mean 'x'?`` hint for a misspelled name, or an empty string."""
    match = difflib.get_close_matches(name, list(valid), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


_TAGS = {"completion", "sensing", "file", "nuclear_norm", "deep_factorization"}


def format_validation_error(error, prefix: str = "") -> str:
    """One line from a pydantic ``ValidationError``: ``field.path: reason; ...``."""
    parts = []
    for e in error.errors():
        loc = [str(x) for x in e["loc"]
               if str(x) not in _TAGS and not str(x).startswith("function-")]
        field = ".".join(([prefix] if prefix else []) + loc) or (prefix or "config")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] not in ("value_error", "assertion_error", "missing"):
            value = repr(e.get("input"))
            if len(value) <= 40:
                msg += f" (got {value})"
        parts.append(f"{field}: {msg}")
    return "; ".join(dict.fromkeys(parts))
