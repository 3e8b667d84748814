"""What the Docker and Kubernetes exports share: the result, names, and how to serve."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from champion.credentials import redact
from champion.project import Project

SERVE_ROOT = "/srv/project"
"""Where the project sits inside the image."""
READY_PATH = "/v2/health/ready"
LIVE_PATH = "/v2/health/live"
USER_ID = 10001
"""Non-root user (and group) the endpoint runs as, in the image and in the pod."""


@dataclass
class ExportResult:
    """What an export wrote: `files` are relative to `out`, in sorted order."""

    kind: str
    out: str
    environment: str
    files: list[str]
    image: str | None = None
    notes: list[str] = field(default_factory=list)
    """Things the user should know (e.g. no version carries the environment's alias yet)."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def slug(text: str) -> str:
    """`text` as a DNS-1123 label part: lowercase letters, digits and '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "project"


def app_name(project: Project, environment: str) -> str:
    """`champion-<project>-<env>`: the app label and the name of the Kubernetes objects."""
    return f"champion-{slug(project.config.project.name)}-{slug(environment)}"[:63].rstrip("-")


def default_image(project: Project) -> str:
    """The tag the Docker export's README builds, and the Kubernetes export's default."""
    return f"champion-{slug(project.config.project.name)}:latest"


def serve_args(environment: str, workers: int | None = None) -> list[str]:
    """Arguments of `champion` that serve `environment` from the project in the image."""
    args = ["serve", environment, "--project", SERVE_ROOT, "--host", "0.0.0.0"]
    if workers is not None:
        args += ["--workers", str(workers)]
    return args



@dataclass(frozen=True)
class TeamBackend:
    """A team's servers, as an exported endpoint reaches them: the addresses (never a
    password: those come from the environment, in Kubernetes from a Secret)."""

    tracking_uri: str | None
    """An MLflow server (None: the embedded registry, snapshotted into the image)."""
    state_uri: str | None
    """PostgreSQL for the state and the prediction log (None: inside the container)."""

    @property
    def active(self) -> bool:
        return self.tracking_uri is not None or self.state_uri is not None


CREDENTIAL_VARIABLES = ("PGPASSWORD", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
"""What an exported endpoint may need to reach a team's servers; Kubernetes reads them from
the Secret `<app>-credentials` (every key optional)."""


def team_backend(project: Project) -> TeamBackend:
    """The team servers of `project` (environment variables included), passwords redacted."""
    tracking = redact(project.tracking_uri) if project.shared_registry else None
    state = redact(project.state_uri) if project.state_schema is not None else None
    return TeamBackend(tracking, state)


def files_under(folder: Path) -> list[str]:
    """Every file below `folder`, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
