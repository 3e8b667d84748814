"""The registry: champion's only door to MLflow (import `mlflow_registry` lazily: it is slow)."""

from champion.registry.records import RunRecord, VersionRecord

__all__ = ["RunRecord", "VersionRecord"]
