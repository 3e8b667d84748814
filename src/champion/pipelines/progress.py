"""How pipeline steps report progress. The CLI shows it with Rich; tests stay silent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Progress(Protocol):
    def step(self, description: str) -> AbstractContextManager[None]:
        """Announce a step; the context lasts as long as the step."""
        ...

    def note(self, message: str) -> None:
        """What the running step is doing now (e.g. a recipe's `report`); one short line."""
        ...


class _Silent:
    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        yield

    def note(self, message: str) -> None:
        pass


silent: Progress = _Silent()
