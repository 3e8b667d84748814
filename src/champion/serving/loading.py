"""Load a model the way an endpoint serves it: hash check, input contract, self-test.

`load_version` serves registered versions; `load_run` is the same load of a run's model, which
registration calls before it registers anything, so no version that cannot be served is ever
registered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from champion.recipes.base import Forecaster
from champion.registry.mlflow_registry import TAG
from champion.registry.records import RunRecord
from champion.serving.loaded import InputColumn, LoadedModel

if TYPE_CHECKING:
    from champion.pipelines.workspace import Workspace


def load_version(ws: Workspace, model: str, version: int) -> LoadedModel:
    """Version `version` of `model`, verified; `RegistryError`/`NotFoundError` otherwise."""
    record = ws.registry.version(model, version)
    return load_run(ws, model, ws.registry.run(record.run_id), version)


def load_run(ws: Workspace, model: str, run: RunRecord, version: int = 0) -> LoadedModel:
    """The model of `run`, downloaded from the registry, hash-checked, loaded and self-tested
    on the input example logged with it (`version` 0: not registered yet)."""
    recipe, example = ws.registry.load_model(run)
    settings = ws.settings(model)
    if isinstance(recipe, Forecaster):
        columns = [InputColumn("steps", "integer")]
    else:
        columns = [InputColumn(name, settings.columns[name].type, settings.columns[name].nullable)
                   for name in settings.features]
    loaded = LoadedModel(name=model, version=version, run_id=run.run_id, recipe=recipe, columns=columns,
                         sha256=run.tags.get(TAG + "artifact_sha256", ""), recipe_spec=run.tags.get(
                             TAG + "recipe", settings.recipe))
    loaded.self_test(example)
    return loaded
