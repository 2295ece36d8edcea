"""Reading and validating a user's sweep (TOML file, mapping or SweepConfig) without JAX.

The command line validates a sweep here first, so a config error is reported in about a
second, before JAX, pandas or matplotlib are imported.
"""

import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from overparam._imports import import_kinds, is_path
from overparam.errors import ConfigError, format_validation_error
from overparam.experiments._claims import ClaimSpec
from overparam.sweep._config import RunConfig, SweepConfig
from overparam.sweep._grid import expand


def load_sweep_file(path: str | Path) -> tuple[SweepConfig, list[ClaimSpec]]:
    """Read and validate a user's sweep TOML (with optional ``[[claims]]``)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except PermissionError:
        raise ConfigError(f"{path}: not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: malformed TOML ({e})") from None
    raw_claims = data.pop("claims", [])
    imports = _import_first(data.get("imports"), path.parent)
    if imports:
        data["imports"] = imports
    try:
        sweep = SweepConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{path}: {format_validation_error(e)}") from None
    if not isinstance(raw_claims, list):
        raise ConfigError(f"{path}: claims: must be an array of tables ([[claims]])")
    claims = []
    for i, c in enumerate(raw_claims):
        try:
            claims.append(ClaimSpec.model_validate(c))
        except ValidationError as e:
            raise ConfigError(f"{path}: {format_validation_error(e, prefix=f'claims[{i}]')}") \
                from None
    return sweep, claims


def _claim_specs(claims) -> list[ClaimSpec]:
    if claims is None:
        return []
    if isinstance(claims, ClaimSpec | Mapping) or not isinstance(claims, list | tuple):
        raise ConfigError(f"claims: must be a list of ClaimSpec or tables, got {claims!r:.60}")
    specs = []
    for i, c in enumerate(claims):
        if isinstance(c, ClaimSpec):
            specs.append(c)
            continue
        try:
            specs.append(ClaimSpec.model_validate(c))
        except ValidationError as e:
            raise ConfigError(format_validation_error(e, prefix=f"claims[{i}]")) from None
    return specs


def load_sweep(sweep, claims=None) -> tuple[SweepConfig, list[ClaimSpec], list[RunConfig]]:
    """Validate a sweep given as a SweepConfig, a mapping or a TOML path, without JAX:
    ``(sweep, claims, runs)``. The sweep's ``imports`` (modules registering its own kinds) are
    imported first; ``.py`` paths in a TOML file are relative to the file."""
    claims = _claim_specs(claims)
    source = sweep if isinstance(sweep, str | Path) else None
    if isinstance(sweep, Mapping):
        data = dict(sweep)
        raw_claims = data.pop("claims", None)
        _import_first(data.get("imports"), None)
        try:
            sweep = SweepConfig.model_validate(data)
        except ValidationError as e:
            raise ConfigError(format_validation_error(e)) from None
        claims += _claim_specs(raw_claims)
    elif isinstance(sweep, str | Path):
        sweep, file_claims = load_sweep_file(sweep)
        claims += file_claims
    elif not isinstance(sweep, SweepConfig):
        raise ConfigError(f"sweep: must be a SweepConfig, a mapping or a TOML path, got "
                          f"{type(sweep).__name__}")
    else:
        _import_first(sweep.imports, None)
    try:
        runs = expand(sweep)
    except ConfigError as e:
        if source is None:
            raise
        raise ConfigError(f"{source}: {e}") from None
    return sweep, claims, runs


def _import_first(imports, base: Path | None) -> list[str]:
    """Import a sweep's kind modules (``.py`` paths resolved against ``base``); return them
    as imported (absolute paths), for the workers."""
    if imports is None:
        return []
    if not isinstance(imports, list) or not all(isinstance(m, str) for m in imports):
        raise ConfigError(f"imports: must be a list of module names or .py paths, got "
                          f"{imports!r:.60}")
    resolved = [str((base / m).resolve()) if base is not None and is_path(m)
                and not Path(m).is_absolute() else m for m in imports]
    import_kinds(resolved)
    return resolved
