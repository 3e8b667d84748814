"""champion's own tables (history, datasets, ...) and locks: SQLite by default."""

from champion.state.store import AliasMove, IngestedFile, StateStore

__all__ = ["AliasMove", "IngestedFile", "StateStore"]
