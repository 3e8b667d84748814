"""Ship a project's endpoint elsewhere: a Docker build context, Kubernetes manifests.

`export_docker` writes a self-contained build context (champion, the project's settings and,
with the embedded SQLite registry, a snapshot of it); `export_k8s` writes a Deployment and a
Service that run such an image, and a KServe InferenceService; `export_compose` writes a
team's whole stack (PostgreSQL, an MLflow server, the endpoints, the agent) for Docker
Compose. Each returns an `ExportResult` listing what was written.
"""

from __future__ import annotations

from champion.packaging.common import ExportResult
from champion.packaging.compose import export_compose
from champion.packaging.docker import export_docker
from champion.packaging.k8s import export_k8s

__all__ = ["ExportResult", "export_compose", "export_docker", "export_k8s"]
