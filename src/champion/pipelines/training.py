"""`train`: fit the model's recipe on the training side of its data, as one MLflow run.

Writes the seeds' `metric.json`: the challenger's metrics on the current golden set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from champion.errors import UsageError
from champion.evaluation.metrics import ClassifierScores, RegressorScores
from champion.evaluation.policy import resolve_policy
from champion.monitoring import profile as profiles
from champion.pipelines import golden_set
from champion.pipelines.golden_set import (
    Answers,
    ClassificationSplit,
    ForecastSplit,
    RegressionSplit,
    Split,
)
from champion.pipelines.progress import Progress, silent
from champion.recipes.base import Forecaster, Recipe
from champion.recipes.loader import build_recipe
from champion.workspace import Workspace, actor
from champion.workspace.documents import write_json

METRIC_FILE = "metric.json"
SIZE_PREFIX = "golden_set."  # run metrics that count rows or periods, not model quality
_SIGNATURE_TYPES = {"string": "string", "text": "string", "integer": "long", "number": "double",
                    "date": "datetime", "datetime": "datetime"}


@dataclass
class TrainResult:
    """A trained challenger, kept in memory so `build` need not reload it."""

    model: str
    run_id: str
    metrics: dict[str, float]
    recipe: Recipe
    data: Split
    answers: Answers
    metric_document: dict[str, Any]
    metric_file: Path


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`["C=0.5", "class_weight=balanced"]` -> typed values (JSON where it parses)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {pair!r}: write KEY=VALUE")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def train(
    ws: Workspace,
    model: str,
    overrides: dict[str, Any] | None = None,
    progress: Progress = silent,
    out_dir: Path | None = None,
) -> TrainResult:
    """Fit a challenger and log it; its golden-set metrics go to `metric.json`."""
    settings = ws.settings(model)
    cls = ws.recipe_class(model)
    params = {**settings.params, **(overrides or {})}
    recipe = build_recipe(cls, params)
    policy = resolve_policy(settings.policy, cls.task, model)  # fail on a bad policy before fitting
    with progress.step("reading and validating data"):
        dataset = ws.dataset(model)
        data = golden_set.split(dataset, settings, cls)
    with progress.step(f"fitting {settings.recipe} on {_train_size(data)}"):
        golden_set.fit(recipe, data, progress)
    with progress.step("scoring the golden set"):
        answers = golden_set.answers(recipe, data)
        metrics = golden_set.compare(policy, data, answers, None).challenger
    if isinstance(recipe, Forecaster) and isinstance(data, ForecastSplit):
        recipe.extend_history(data.series)  # served forecasts start after the latest data
    data_hash = hashlib.sha256("".join(f.sha256 for f in dataset.files).encode()).hexdigest()
    data_doc = {"files": [f.as_dict() for f in dataset.files], "rows": dataset.rows,
                "duplicates_dropped": dataset.duplicates_dropped, **dataset.duplicates_document(), "sha256": data_hash,
                "split": data.describe()}
    commit = ws.git_commit()
    tags = {"champion.model": model, "champion.recipe": settings.recipe, "champion.actor": actor(),
            "champion.data_sha256": data_hash}
    if commit:
        tags["champion.git_commit"] = commit
        tags["mlflow.source.git.commit"] = commit
    document: dict[str, Any] = {"model": model, "recipe": settings.recipe, "params": recipe.get_params(),
                                "metrics": metrics, "data": data_doc}
    with progress.step("opening the MLflow registry"):
        ws.registry  # noqa: B018 - MLflow's import (and a new store's migrations) show as their own step
    with progress.step("logging the run to MLflow"):
        run = ws.registry.log_training(
            model=model,
            recipe=recipe,
            recipe_spec=settings.recipe,
            params={"recipe": settings.recipe, **recipe.get_params(), "data.rows": dataset.rows,
                    "data.files": len(dataset.files), "data.sha256": data_hash[:16]},
            metrics={**metrics, **_size_metrics(data)},
            tags=tags,
            input_columns=_input_columns(ws, model, data),
            input_example=_input_example(data),
            documents={"dataset.json": data_doc, profiles.PROFILE_FILE: reference_profile(ws, model, data, answers, metrics)},
        )
    document["run_id"] = run.run_id
    metric_file = write_json(ws.project.run_dir(run.run_id) / METRIC_FILE, document, out_dir)
    ws.registry.log_document(run.run_id, METRIC_FILE, document)
    return TrainResult(model, run.run_id, metrics, recipe, data, answers, document, metric_file)


def reference_profile(ws: Workspace, model: str, data: Split, answers: Answers,
                      metrics: dict[str, float]) -> dict[str, Any]:
    """What monitoring compares production with: the version's data and golden-set answers."""
    settings = ws.settings(model)
    size = settings.monitoring.profile_sample
    if isinstance(data, ClassificationSplit) and isinstance(answers, ClassifierScores):
        frame = pd.concat([data.train_X, data.golden_X])
        columns = {}
        for name in settings.features:
            kind = profiles.column_kind(settings.columns[name].type)
            if kind is not None:
                columns[name] = (kind, frame[name])
        predictions = profiles.classifier_predictions(
            [c.item() if hasattr(c, "item") else c for c in answers.classes], answers.positive,
            answers.proba, answers.y, size)
        return profiles.build_profile("classification", columns, predictions, metrics, size)
    if isinstance(data, RegressionSplit) and isinstance(answers, RegressorScores):
        frame = pd.concat([data.train_X, data.golden_X])
        columns = {name: (kind, frame[name]) for name in settings.features
                   if (kind := profiles.column_kind(settings.columns[name].type)) is not None}
        predictions = profiles.regression_predictions(answers.predicted, answers.y, size)
        return profiles.build_profile("regression", columns, predictions, metrics, size)
    assert isinstance(data, ForecastSplit)
    target = settings.target
    return profiles.build_profile("forecasting", {target: ("numeric", data.series.reset_index(drop=True))},
                                  profiles.forecast_predictions(np.asarray(answers), size), metrics, size)


def _train_size(data: Split) -> str:
    if isinstance(data, ClassificationSplit | RegressionSplit):
        return f"{len(data.train_y)} rows"
    filled = 0 if data.filled is None else int(data.filled[: len(data.history)].sum())
    interpolated = f" ({filled} missing values interpolated)" if filled else ""
    return f"{len(data.history)} periods{interpolated}"


def _size_metrics(data: Split) -> dict[str, float]:
    described = data.describe()
    return {SIZE_PREFIX + k: float(v) for k, v in described.items() if isinstance(v, int)}


def _input_columns(ws: Workspace, model: str, data: Split) -> list[tuple[str, str, bool]]:
    """(name, MLflow type, required) of each input."""
    settings = ws.settings(model)
    if isinstance(data, ClassificationSplit | RegressionSplit):
        return [(c, _SIGNATURE_TYPES.get(settings.columns[c].type, "string"), not settings.columns[c].nullable)
                for c in settings.features]
    return [("steps", "long", True)]


def _input_example(data: Split) -> pd.DataFrame:
    if isinstance(data, ClassificationSplit | RegressionSplit):
        return data.train_X.head(3).reset_index(drop=True)
    return pd.DataFrame({"steps": [data.horizon]})
