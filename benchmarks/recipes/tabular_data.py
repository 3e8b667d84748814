"""Offline tabular data sets for the recipe benchmarks (scikit-learn's and statsmodels' own).

Each loader returns (X, y) with the dtypes champion gives a recipe: float64/int64 numbers,
object strings for categories, datetime64 for dates. Categories are real ones, named as the
data sets document them (not binned numbers).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn import datasets

Loader = Callable[[], tuple[pd.DataFrame, pd.Series]]

_OCCUPATIONS = {1: "student", 2: "farming, semi- or unskilled", 3: "white-collar",
                4: "teacher, nurse, artist, skilled", 5: "managerial", 6: "professional"}
_EDUCATION = {1: "1-8 grades", 2: "some high school", 3: "high school graduate", 4: "some college",
              5: "college degree", 6: "master's degree", 7: "PhD"}


def _sklearn(load: Callable[..., object]) -> Loader:
    def loader() -> tuple[pd.DataFrame, pd.Series]:
        bunch = load(as_frame=True)
        return bunch.data.astype("float64"), bunch.target  # type: ignore[attr-defined]
    return loader


def fair() -> tuple[pd.DataFrame, pd.Series]:
    """Fair (1978): had an affair (time in affairs > 0); the two occupations are categories."""
    data = sm.datasets.fair.load_pandas().data
    X = data.drop(columns=["affairs"]).copy()
    for column in ("occupation", "occupation_husb"):
        X[column] = X[column].astype(int).map(_OCCUPATIONS).astype(object)
    return X, (data["affairs"] > 0).astype("int64").rename("affair")


def anes96() -> tuple[pd.DataFrame, pd.Series]:
    """1996 American National Election Study: expected vote (Clinton, Dole); education is a
    category, the 1-7 scales and the income bracket numbers."""
    data = sm.datasets.anes96.load_pandas().data
    X = data.drop(columns=["vote", "logpopul"]).copy()
    X["educ"] = X["educ"].astype(int).map(_EDUCATION).astype(object)
    return X, data["vote"].map({0.0: "Clinton", 1.0: "Dole"}).astype(object).rename("vote")


def grunfeld() -> tuple[pd.DataFrame, pd.Series]:
    """Grunfeld (1958): a firm's gross investment from its value, capital stock, the firm
    (a category of 11) and the year (a date column)."""
    data = sm.datasets.grunfeld.load_pandas().data
    X = data.drop(columns=["invest"]).copy()
    X["firm"] = X["firm"].astype(object)
    X["year"] = pd.to_datetime(X["year"].astype(int).astype(str) + "-01-01")
    return X, data["invest"].astype("float64")


def randhie() -> tuple[pd.DataFrame, pd.Series]:
    """RAND Health Insurance Experiment: doctor visits; self-rated health (the three dummies
    of one variable, excellent when none is set) as one category."""
    data = sm.datasets.randhie.load_pandas().data
    health = np.select([data["hlthg"] == 1, data["hlthf"] == 1, data["hlthp"] == 1], ["good", "fair", "poor"],
                       default="excellent")
    X = data.drop(columns=["mdvis", "hlthg", "hlthf", "hlthp"]).astype("float64")
    X["health"] = pd.Series(health, index=data.index, dtype=object)
    return X, data["mdvis"].astype("float64")


CLASSIFICATION: dict[str, Loader] = {
    "breast_cancer": _sklearn(datasets.load_breast_cancer),
    "wine": _sklearn(datasets.load_wine),
    "digits": _sklearn(datasets.load_digits),
    "fair (2 categorical)": fair,
    "anes96 (1 categorical)": anes96,
}
REGRESSION: dict[str, Loader] = {
    "diabetes": _sklearn(datasets.load_diabetes),
    "grunfeld (categorical, date)": grunfeld,
    "randhie (1 categorical)": randhie,
}
