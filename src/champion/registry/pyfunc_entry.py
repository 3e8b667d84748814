"""MLflow "model from code" entry: lets `mlflow.pyfunc.load_model("models:/spam@champion")`
and `mlflow models serve` use a champion recipe without pickling any Python object."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

# MLflow warns when a PythonModel's predict has no type hints; the signature is explicit.
warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")


class RecipeModel(PythonModel):
    """Wraps a fitted champion recipe as a pyfunc model."""

    def load_context(self, context: Any) -> None:
        from champion.recipes.source import load_saved

        self.recipe = load_saved(Path(context.artifacts["recipe"]))

    # No type hints here: MLflow would try (and fail) to derive a signature from them.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        recipe = self.recipe
        if recipe.task == "forecasting":
            steps = int(np.asarray(model_input).ravel()[0])
            values = recipe.forecast(recipe.history_, steps)
            return pd.DataFrame({"time": recipe.future_dates(steps), "forecast": values})
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        if recipe.task == "regression":
            return pd.DataFrame({"prediction": np.asarray(recipe.predict(frame), dtype=float)})
        proba = recipe.predict_proba(frame)
        labels = recipe.classes_[np.argmax(proba, axis=1)]
        out = pd.DataFrame({"label": labels})
        for i, cls in enumerate(recipe.classes_):
            out[f"proba_{cls}"] = proba[:, i]
        return out


set_model(RecipeModel())
