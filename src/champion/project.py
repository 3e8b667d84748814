"""A project on disk: its folder, its settings and where its state lives."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from champion.config import (
    CONFIG_FILE,
    ChampionConfig,
    EnvironmentSettings,
    ModelSettings,
    load_config,
)
from champion.errors import ConfigError, NotFoundError

STATE_DIR = ".champion"
TRACKING_VARIABLE = "CHAMPION_TRACKING_URI"
STATE_VARIABLE = "CHAMPION_STATE_URI"


@dataclass(frozen=True)
class Project:
    """A folder with a `champion.toml`; everything champion stores goes under `.champion/`."""

    root: Path
    config: ChampionConfig

    @classmethod
    def open(cls, folder: Path | str = ".") -> Project:
        root = Path(folder).expanduser().resolve()
        if not root.is_dir():
            raise ConfigError(f"{root}: no such project folder")
        if not (root / CONFIG_FILE).is_file():
            raise ConfigError(
                f"{root}: no {CONFIG_FILE} here; pass --project DIR or create one with "
                f"`champion init DIR --template youtube-spam`"
            )
        return cls(root, load_config(root / CONFIG_FILE))

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def lock_dir(self) -> Path:
        return self.state_dir / "locks"

    @property
    def artifact_dir(self) -> Path:
        return self.state_dir / "artifacts"

    @property
    def tracking_uri(self) -> str:
        """`CHAMPION_TRACKING_URI`, else `MLFLOW_TRACKING_URI`, else `tracking_uri` of the
        settings, else the embedded SQLite registry under `.champion/`."""
        return (os.environ.get(TRACKING_VARIABLE) or os.environ.get("MLFLOW_TRACKING_URI")
                or self.config.project.tracking_uri or self.embedded_tracking_uri)

    @property
    def embedded_tracking_uri(self) -> str:
        return f"sqlite:///{self.state_dir / 'mlflow.db'}"

    @property
    def shared_registry(self) -> bool:
        """Whether the registry is not this folder's own (a server, or a database elsewhere)."""
        return self.tracking_uri != self.embedded_tracking_uri

    @property
    def state_uri(self) -> str:
        """`CHAMPION_STATE_URI`, else `state_uri` of the settings, else SQLite under `.champion/`."""
        return (os.environ.get(STATE_VARIABLE) or self.config.project.state_uri
                or f"sqlite:///{self.state_dir / 'state.db'}")

    @property
    def state_schema(self) -> str | None:
        """On PostgreSQL, the schema of this project's tables (`champion_<project name>`), so
        that projects can share a database; None on SQLite (a file per project)."""
        if not self.state_uri.startswith("postgresql"):
            return None
        return "champion_" + re.sub(r"[^a-z0-9_]+", "_", self.config.project.name.lower()).strip("_")[:50]

    def registered_name(self, model: str) -> str:
        """`model`'s name in MLflow (registered model and experiment): see `registry_name`."""
        declared = self.config.models[model].registry_name if model in self.config.models else None
        if declared:
            return declared
        return f"{self.config.project.name}.{model}" if self.shared_registry else model

    def data_dir(self, model: str) -> Path:
        """Where ingested files of `model` are kept (content-addressed copies)."""
        return self.state_dir / "data" / model

    def run_dir(self, run_id: str) -> Path:
        """Where a run's metric.json and evaluation.json are written."""
        return self.state_dir / "runs" / run_id

    def default_model(self) -> str | None:
        """`default_model` from the settings, else the only model, else None."""
        models = self.config.models
        if self.config.project.default_model:
            return self.config.project.default_model
        return next(iter(models)) if len(models) == 1 else None

    def model_name(self, name: str | None) -> str:
        """`name`, or the project's default model when omitted."""
        models = self.config.models
        if name is None:
            default = self.default_model()
            if default is None:
                raise ConfigError(f"this project has several models ({', '.join(models)}): name one")
            return default
        if name not in models:
            raise NotFoundError(f"no model {name!r} in {self.root / CONFIG_FILE} (models: {', '.join(models)})")
        return name

    def model(self, name: str) -> ModelSettings:
        return self.config.models[self.model_name(name)]

    def environment(self, name: str) -> EnvironmentSettings:
        """The settings of environment `name`; `NotFoundError` naming the known ones otherwise."""
        environments = self.config.environments
        if name not in environments:
            known = ", ".join(environments) or "none declared ([environments.NAME] in champion.toml)"
            raise NotFoundError(f"no environment {name!r} in {self.root / CONFIG_FILE} (environments: {known})")
        return environments[name]
