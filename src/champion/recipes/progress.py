"""Progress notes from inside a recipe's long work, without changing its signature.

A recipe (built-in or your own) calls `report("tried 12 models, best AIC 803.1")` as it
goes; whoever runs it may listen (`champion build` shows the latest note next to the running
step). With no listener, `report` does nothing, so a recipe used on its own stays silent.

The listener lives in a context variable: it follows the code that installed it (threads
and asyncio tasks started elsewhere do not see it) and is removed when the block ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str], None]

_listener: ContextVar[Listener | None] = ContextVar("champion_recipe_progress", default=None)


def report(message: str) -> None:
    """Tell the listener (if any) what the recipe is doing now; one short line."""
    listener = _listener.get()
    if listener is not None:
        listener(message)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the `report`s made inside this block to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
