"""Typed errors raised at the edge (configs, files, flags, stores).

Every error carries a one-line message that names the field or file and the reason; the CLI
prints it and exits with code 2.
"""

import difflib
import re
import typing
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
    if not isinstance(name, str):
        return ""
    match = difflib.get_close_matches(name, list(valid), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def _models_in(annotation) -> list[type]:
    """The pydantic model classes inside a (possibly Annotated / Union / Optional) type."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _overparam_models() -> list[type]:
    """Every pydantic model class defined by overparam."""
    from pydantic import BaseModel

    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("overparam"):
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _model_named(title: str):
    """The overparam pydantic model whose validation raised an error titled ``title``."""
    return next((m for m in _overparam_models() if m.__name__ == title), None)


def _kind_tags() -> set[str]:
    """The ``kind`` values of every config model (they appear in union error locations)."""
    kinds = (m.model_fields["kind"].default for m in _overparam_models()
             if "kind" in m.model_fields)
    return {k for k in kinds if isinstance(k, str)}


def _models_at(model, path: tuple) -> list[type]:
    """The models that may sit at ``path`` inside ``model`` (empty when unknown).

    A path element is a field name or the ``kind`` tag of a union member."""
    annotation = model
    for part in path:
        step = None
        for m in _models_in(annotation):
            if part in m.model_fields:
                step = m.model_fields[part].annotation
                break
            kind = m.model_fields.get("kind")
            if kind is not None and kind.default == part:
                step = m
                break
        if step is None:
            return []
        annotation = step
    return _models_in(annotation)


def _quoted(text: str) -> list[str]:
    """The quoted names in pydantic's "'a', 'b' or 'c'" lists."""
    return re.findall(r"'([^']*)'", text or "")


def _is_tag(part, tags: set[str]) -> bool:
    """Location parts that name a union member rather than a field."""
    text = str(part)
    return text in tags or text.startswith("function-") or "[" in text


def _field(prefix: str, loc: list) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def format_validation_error(error, prefix: str = "") -> str:
    """One line from a pydantic ``ValidationError``: ``field.path: reason; ...``.

    Unknown keys and misspelled names get a ``did you mean`` hint; for a field with several
    errors (one per member of a union), the first is kept.
    """
    model = _model_named(error.title)
    tags = _kind_tags()
    parts: dict[str, str] = {}
    for e in error.errors():
        loc = [x for x in e["loc"] if not _is_tag(x, tags)]
        ctx = e.get("ctx") or {}
        msg = e["msg"].removeprefix("Value error, ")
        if not loc and isinstance(ctx.get("error"), ConfigError):
            # a model's own __init__ (SweepConfig) already made its one line
            parts.setdefault(msg, f"{prefix}.{msg}" if prefix else msg)
            continue
        if e["type"] == "union_tag_invalid":
            kind = ctx.get("discriminator", "'kind'").strip("'")
            loc = loc + [kind]
            valid = _quoted(ctx.get("expected_tags", ""))
            msg = (f"unknown {kind} {ctx.get('tag')!r}{closest(str(ctx.get('tag')), valid)} "
                   f"(one of {', '.join(map(repr, valid))})")
        elif e["type"] == "union_tag_not_found":
            kind = ctx.get("discriminator", "'kind'").strip("'")
            loc = loc + [kind]
            kinds = [m.model_fields[kind].default for m in _models_at(model, tuple(e["loc"]))
                     if kind in m.model_fields]
            msg = "missing" + (f" (one of {', '.join(map(repr, kinds))})" if kinds else "")
        elif e["type"] == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            valid = [k for m in _models_at(model, tuple(e["loc"][:-1])) for k in m.model_fields]
            msg = f"unknown key{closest(key, valid)}"
        elif e["type"] == "literal_error":
            got = e.get("input")
            msg += f" (got {got!r})"
            if isinstance(got, str):
                msg += closest(got, _quoted(ctx.get("expected", "")))
        elif e["type"] not in ("value_error", "assertion_error", "missing"):
            value = repr(e.get("input"))
            if len(value) <= 40:
                msg += f" (got {value})"
        field = _field(prefix, loc) or (prefix or "config")
        parts.setdefault(field, f"{field}: {msg}")
    return "; ".join(parts.values())
