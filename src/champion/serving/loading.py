"""Load one registered version for serving: hash check, input contract, self-test."""

from __future__ import annotations

from typing import TYPE_CHECKING

from champion.recipes.base import Classifier
from champion.registry.mlflow_registry import TAG
from champion.serving.loaded import InputColumn, LoadedModel

if TYPE_CHECKING:
    from champion.pipelines.workspace import Workspace


def load_version(ws: Workspace, model: str, version: int) -> LoadedModel:
    """Version `version` of `model`, verified; `RegistryError`/`NotFoundError` otherwise."""
    record = ws.registry.version(model, version)
    run = ws.registry.run(record.run_id)
    recipe, example = ws.registry.load_model(run)
    settings = ws.settings(model)
    if isinstance(recipe, Classifier):
        columns = [InputColumn(name, settings.columns[name].type) for name in settings.features]
    else:
        columns = [InputColumn("steps", "integer")]
    loaded = LoadedModel(name=model, version=version, run_id=run.run_id, recipe=recipe, columns=columns,
                         sha256=run.tags.get(TAG + "artifact_sha256", ""), recipe_spec=settings.recipe)
    loaded.self_test(example)
    return loaded
