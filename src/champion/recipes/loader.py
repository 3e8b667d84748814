"""Find a recipe class by built-in name or `module:Class` import path."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from champion.errors import RecipeError
from champion.recipes.base import Classifier, Forecaster, Recipe, Regressor

BUILT_IN = {
    "text-classifier": "champion.recipes.text_classifier:TextClassifier",
    "forecaster": "champion.recipes.forecaster:ArimaForecaster",
    "tabular-classifier": "champion.recipes.tabular:TabularClassifier",
    "tabular-regressor": "champion.recipes.tabular:TabularRegressor",
}


def recipe_class(spec: str, project_root: Path | None = None) -> type[Recipe]:
    """Resolve `spec` to a recipe class; the project folder is importable for user recipes."""
    path = BUILT_IN.get(spec, spec)
    if ":" not in path:
        raise RecipeError(
            f"recipe {spec!r}: not a built-in ({', '.join(BUILT_IN)}) nor an import path 'module:Class'"
        )
    module_name, _, class_name = path.partition(":")
    if project_root is not None and str(project_root) not in sys.path:
        sys.path.insert(0, str(project_root))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of user code is a recipe problem
        raise RecipeError(f"recipe {spec!r}: cannot import module {module_name!r}: {exc}") from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise RecipeError(f"recipe {spec!r}: module {module_name!r} has no class {class_name!r}")
    missing = _missing_methods(cls)
    if missing:
        raise RecipeError(f"recipe {spec!r}: class {class_name} lacks {', '.join(missing)}")
    return cls  # type: ignore[return-value]


def build_recipe(cls: type[Recipe], params: dict[str, Any]) -> Recipe:
    """Instantiate with parameters, naming any the recipe does not take."""
    known = set(cls.param_names())
    unknown = sorted(set(params) - known)
    if unknown:
        raise RecipeError(
            f"recipe {cls.__name__} has no parameter {', '.join(unknown)} "
            f"(it takes: {', '.join(sorted(known)) or 'none'})"
        )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"recipe {cls.__name__}: bad parameters: {exc}") from None


def _missing_methods(cls: type) -> list[str]:
    if issubclass(cls, Classifier):
        base: type[Recipe] = Classifier
        needed = ["fit", "predict_proba"]
    elif issubclass(cls, Regressor):
        base, needed = Regressor, ["fit", "predict"]
    elif issubclass(cls, Forecaster):
        base, needed = Forecaster, ["fit", "forecast"]
    else:
        return ["a base class: subclass champion.recipes.Classifier, Regressor or Forecaster"]
    return [f"method {m}()" for m in needed if getattr(cls, m) is getattr(base, m)]
