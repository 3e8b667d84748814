"""One error hierarchy for the whole package.

Errors carry what went wrong and where (file, row, column), never transport codes: the CLI
and HTTP edges map them to exit codes and status codes.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_REJECTED, EXIT_CHECK_FAILED = 0, 1, 2, 3, 4
"""The exit codes of every champion command (the CLI sets them, the agent reads them)."""


class ChampionError(Exception):
    """Root of every error champion raises on purpose."""


class ConfigError(ChampionError):
    """The project or its `champion.toml` is missing or invalid."""


class UsageError(ChampionError):
    """A command was asked for something that cannot be done as asked."""


class NotFoundError(ChampionError):
    """A model, run, version or alias that was named does not exist."""


class DataError(ChampionError):
    """A data file failed validation. Names the file, and the row and column when known."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        row: int | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where: list[str] = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        elif self.line:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column!r}")
        return (", ".join(where) + ": " if where else "") + self.reason

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "line": self.line,
            "column": self.column,
            "message": self.reason,
        }


class RecipeError(ChampionError):
    """A recipe could not be found, built, fitted or loaded."""


class RegistryError(ChampionError):
    """The model registry (MLflow) failed or holds something unexpected."""


class RegistryUnreachableError(RegistryError):
    """The tracking server did not answer (refused, timed out, or failed with a 5xx after
    retries): a passing fault of the server, not of what it holds."""


class UnloadableModelError(RegistryError):
    """A model just trained cannot be loaded back from the registry: it is not registered."""


class BrokenChampionError(ChampionError):
    """The registered champion cannot be loaded, so a challenger cannot be compared with it."""


class ConflictError(ChampionError):
    """A compare-and-set lost: the state changed since it was read."""


class InputError(ChampionError):
    """A scoring request that does not fit the model's signature or the endpoint's limits."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class UnavailableError(ChampionError):
    """Nothing (or nothing healthy) is served for the requested model yet."""


class EndpointError(ChampionError):
    """An endpoint process could not be started, reached or stopped, or failed a check."""
