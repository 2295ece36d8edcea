"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package lists its public names and the private module each comes from; a name's module is
imported on first access. So ``import overparam.problems.kinds.completion`` (a config) does
not import JAX through ``overparam/problems/__init__.py``, while ``from overparam.problems
import make_completion`` works as before.
"""

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable, list]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` exporting ``name -> module``."""

    def __getattr__(name: str):
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        mod = importlib.import_module(module)
        value = mod if module == f"{package}.{name}" else getattr(mod, name)
        globals_of(package)[name] = value  # cache: later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals_of(package)) | set(exports))

    return __getattr__, __dir__, sorted(exports)


def globals_of(package: str) -> dict:
    return vars(sys.modules[package])
