"""Load a model the way an endpoint serves it: hash check, input contract, self-test.

`load_version` serves registered versions; `load_run` is the same load of a run's model, which
registration calls before it registers anything, so no version that cannot be served is ever
registered.

A forecaster forecasts after the latest data of its model (its fitted parameters applied to
the whole current series, as evaluation scores a champion), not after the data it was trained
on: a version kept by the gate while new periods arrived still forecasts what comes next.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from champion.data.series import model_series
from champion.errors import ChampionError
from champion.recipes.base import Forecaster
from champion.registry.mlflow_registry import TAG
from champion.registry.records import RunRecord
from champion.serving.loaded import InputColumn, LoadedModel

if TYPE_CHECKING:
    from champion.workspace import Workspace

log = logging.getLogger("champion.serving")


def load_version(ws: Workspace, model: str, version: int) -> LoadedModel:
    """Version `version` of `model`, verified; `RegistryError`/`NotFoundError` otherwise."""
    record = ws.registry.version(model, version)
    return load_run(ws, model, ws.registry.run(record.run_id), version)


def load_run(ws: Workspace, model: str, run: RunRecord, version: int = 0, follow_data: bool = True) -> LoadedModel:
    """The model of `run`, downloaded from the registry, hash-checked, loaded and self-tested
    on the input example logged with it (`version` 0: not registered yet). A forecaster
    forecasts after the model's current series unless `follow_data` is false."""
    recipe, example = ws.registry.load_model(run)
    settings = ws.settings(model)
    if isinstance(recipe, Forecaster):
        columns = [InputColumn("steps", "integer")]
        if follow_data:
            _forecast_after(recipe, latest_series(ws, model))
    else:
        columns = [InputColumn(name, settings.columns[name].type, settings.columns[name].nullable)
                   for name in settings.features]
    loaded = LoadedModel(name=model, version=version, run_id=run.run_id, recipe=recipe, columns=columns,
                         sha256=run.tags.get(TAG + "artifact_sha256", ""), recipe_spec=run.tags.get(
                             TAG + "recipe", settings.recipe))
    loaded.self_test(example)
    return loaded


def refreshed(ws: Workspace, loaded: LoadedModel) -> LoadedModel:
    """A copy of a served forecaster that forecasts after the model's current series (the
    served one is never changed under requests that captured it)."""
    recipe = copy.copy(loaded.recipe)
    assert isinstance(recipe, Forecaster)
    _forecast_after(recipe, latest_series(ws, loaded.name))
    return replace(loaded, recipe=recipe)


def latest_series(ws: Workspace, model: str) -> pd.Series | None:
    """The model's current series (declared and ingested files), or None when it cannot be read
    (the version then forecasts after its own history; the reason is logged)."""
    settings = ws.settings(model)
    if settings.time is None:
        return None
    try:
        frame = ws.dataset(model).frame
        return model_series(frame, settings.time, settings.target, settings.frequency).series
    except ChampionError as exc:
        log.warning("%s: the current series cannot be read (%s); forecasting after the model's own history",
                    model, exc)
        return None


def _forecast_after(recipe: Forecaster, series: pd.Series | None) -> None:
    """Forecast after `series` when it goes on past the history the recipe has."""
    if series is not None and len(series) and series.index[-1] > recipe.history_.index[-1]:
        recipe.extend_history(series)
