"""What every pipeline step needs: the project, its stores, recipes and data."""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import subprocess
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from champion.config import ModelSettings
from champion.credentials import redact
from champion.data.dataset import Dataset, load_dataset
from champion.errors import ConfigError, DataError
from champion.project import Project
from champion.recipes.base import Classifier, Recipe, Regressor
from champion.recipes.loader import recipe_class
from champion.state.store import StateStore

if TYPE_CHECKING:
    from champion.registry.mlflow_registry import ModelRegistry
    from champion.state.predictions import PredictionLog


class Workspace:
    """A project opened for work. Stores open on first use (MLflow is slow to import)."""

    def __init__(self, project: Project) -> None:
        self.project = project

    @cached_property
    def registry(self) -> ModelRegistry:
        from champion.registry.mlflow_registry import ModelRegistry

        self.project.state_dir.mkdir(parents=True, exist_ok=True)
        names = {model: self.project.registered_name(model) for model in self.project.config.models}
        return ModelRegistry(self.project.tracking_uri, self.project.artifact_dir, self.project.lock_dir,
                             self.project.root, names)

    @cached_property
    def state(self) -> StateStore:
        self.project.state_dir.mkdir(parents=True, exist_ok=True)
        return StateStore(self.project.state_uri, self.project.lock_dir, self.project.state_schema)

    @cached_property
    def predictions(self) -> PredictionLog:
        """The prediction log and its feedback (in the same database as `state`)."""
        from champion.state.predictions import PredictionLog

        self.project.state_dir.mkdir(parents=True, exist_ok=True)
        return PredictionLog(self.project.state_uri, self.project.state_schema)

    def settings(self, model: str) -> ModelSettings:
        return self.project.model(model)

    def recipe_class(self, model: str) -> type[Recipe]:
        """The model's recipe class, after checking the settings its task needs."""
        settings = self.settings(model)
        cls = recipe_class(settings.recipe, self.project.root)
        check_task_settings(model, settings, cls)
        return cls

    def dataset(self, model: str) -> Dataset:
        """Declared files plus ingested ones, validated and deduplicated."""
        return load_dataset(self.project.root, model, self.settings(model), self.ingested_files(model))

    def ingested_files(self, model: str) -> list[Path]:
        """The files ingested for `model`, in order, each present in this checkout: a file
        ingested on another machine of the team is fetched from the shared registry and
        checked against the hash recorded when it was ingested."""
        paths = []
        for record in self.state.ingested(model):
            path = self.project.root / record.path
            if not path.is_file():
                self._fetch_ingested(model, path, record.sha256)
            paths.append(path)
        return paths

    def _fetch_ingested(self, model: str, path: Path, sha256: str) -> None:
        if not self.project.shared_registry:
            raise DataError(f"{path}: this file was ingested for {model} but is gone from the project; "
                            "put it back (its sha256 is " + sha256 + ")")
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")  # processes may fetch it at once
        if not self.registry.fetch_data_file(model, path.name, partial):
            raise DataError(f"{path.name}: ingested for {model} on another machine, but the registry at "
                            f"{redact(self.project.tracking_uri)} has no copy of it (ingested before files "
                            "were shared?); ingest it again from where it is")
        if hashlib.sha256(partial.read_bytes()).hexdigest() != sha256:
            partial.unlink(missing_ok=True)
            raise DataError(f"{path.name}: the registry's copy does not match the sha256 recorded when it "
                            f"was ingested ({sha256}); refusing to train on it")
        partial.replace(path)

    def git_commit(self) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(self.project.root), "rev-parse", "HEAD"],
                                  capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0:
            return None
        return done.stdout.strip() or None


def actor() -> str:
    """Who is acting: `CHAMPION_ACTOR` (set it in CI), else user@host."""
    explicit = os.environ.get("CHAMPION_ACTOR")
    if explicit:
        return explicit
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _check_forecast_gate(where: str, settings: ModelSettings) -> None:
    """A forecast gate that cannot work on this golden window is a settings error, not a
    surprise at the end of the first retraining."""
    from champion.evaluation.paired_tests import min_periods_for_dm

    golden, test = settings.golden, settings.policy.test or "diebold-mariano"
    if test == "diebold-mariano" and golden.periods < min_periods_for_dm(golden.horizon):
        raise ConfigError(
            f"{where}.golden.periods: {golden.periods} periods leave too few forecast origins for the "
            f"Diebold-Mariano test at horizon {golden.horizon}: use at least "
            f"{min_periods_for_dm(golden.horizon)} (6 x horizon = {6 * golden.horizon} or more resolves "
            f"smaller gains; docs/benchmarks.md)")
    if test == "bootstrap" and golden.horizon > 1:
        raise ConfigError(
            f"{where}.policy.test: the paired bootstrap treats forecast origins as independent, but "
            f"forecasts of {golden.horizon} steps from neighbouring origins share errors (it passed ~30% "
            f"of equally good challengers at horizon 7; docs/benchmarks.md): use diebold-mariano")


def check_task_settings(model: str, settings: ModelSettings, cls: type[Recipe]) -> None:
    where = f"models.{model}"
    if issubclass(cls, Classifier):
        if not settings.features:
            raise ConfigError(f"{where}.features: a classifier needs at least one feature column")
        if not settings.labels:
            raise ConfigError(f"{where}.labels: list the allowed labels, e.g. labels = [0, 1]")
        if settings.columns[settings.target].type != "label":
            raise ConfigError(f"{where}.columns.{settings.target}: the target of a classifier has type 'label'")
        if not settings.split_columns:
            raise ConfigError(f"{where}.id: name the column(s) identifying a row (used for the golden split)")
    elif issubclass(cls, Regressor):
        if not settings.features:
            raise ConfigError(f"{where}.features: a regressor needs at least one feature column")
        if settings.columns[settings.target].type not in ("number", "integer"):
            raise ConfigError(f"{where}.columns.{settings.target}: a regression target has type 'number' or 'integer'")
        if settings.target in settings.features:
            raise ConfigError(f"{where}.features: the target {settings.target!r} cannot also be a feature")
        if not settings.split_columns:
            raise ConfigError(f"{where}.id: name the column(s) identifying a row (used for the golden split)")
    else:
        if not settings.time:
            raise ConfigError(f"{where}.time: a forecaster needs the date column")
        if settings.columns[settings.time].type not in ("date", "datetime"):
            raise ConfigError(f"{where}.columns.{settings.time}: the time column has type 'date' or 'datetime'")
        if settings.columns[settings.target].type not in ("number", "integer"):
            raise ConfigError(f"{where}.columns.{settings.target}: a forecast target has type 'number'")
        _check_forecast_gate(where, settings)


