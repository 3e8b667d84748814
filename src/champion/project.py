"""A project on disk: its folder, its settings and where its state lives."""

from __future__ import annotations

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
        return self.config.project.tracking_uri or f"sqlite:///{self.state_dir / 'mlflow.db'}"

    @property
    def state_uri(self) -> str:
        return self.config.project.state_uri or f"sqlite:///{self.state_dir / 'state.db'}"

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
