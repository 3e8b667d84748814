"""Recipes: how models are trained. Built-ins and the base classes for your own."""

from champion.recipes.base import Classifier, Forecaster, Recipe, Regressor
from champion.recipes.loader import BUILT_IN, build_recipe, recipe_class

__all__ = ["BUILT_IN", "Classifier", "Forecaster", "Recipe", "Regressor", "build_recipe", "recipe_class"]
