"""Every experiment, by name: the catalog's entries, each module imported on first use."""

from collections.abc import Iterator, Mapping

from overparam.experiments._base import Experiment
from overparam.experiments._catalog import CATALOG
from overparam.registry import resolve


class _Experiments(Mapping):
    """Read-only mapping name -> :class:`Experiment` over :data:`CATALOG`."""

    def __getitem__(self, name: str) -> Experiment:
        return resolve(CATALOG[name].target)

    def __iter__(self) -> Iterator[str]:
        return iter(CATALOG)

    def __len__(self) -> int:
        return len(CATALOG)


EXPERIMENTS = _Experiments()
