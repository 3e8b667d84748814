"""`text-classifier`: TF-IDF over character n-grams, logistic regression, calibrated.

Chosen by measurement on the seeds' cross-video split (train on three videos, test on two
others): character 1-5-grams with sublinear TF reach 0.966 accuracy where the seeds'
CountVectorizer(1,5) + MultinomialNB reaches 0.884 (see docs/benchmarks.md).

Plain logistic regression is underconfident here (mean confidence six points below
accuracy), and monitoring later estimates accuracy from these probabilities, so the scores
are calibrated on out-of-fold predictions and the calibration is folded into the model's own
coefficients: calibrated probabilities at the cost of one linear model. Two classes: a
sigmoid (Platt) calibration. Three or more: multinomial logistic regression with temperature
scaling (the scores divided by one fitted T), which kept the expected calibration error near
its floor whatever C on the video task of docs/benchmarks.md, where per-class (vector)
scaling did no better.

Labels may be ints, strings or both; they are saved as JSON (see `labels.py`). Saved
without pickle: the vocabulary, parameters and classes as JSON, the weights as numpy `.npz`.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from champion.errors import RecipeError
from champion.recipes.base import Classifier
from champion.recipes.calibration import fit_temperature
from champion.recipes.labels import class_array, classes_to_json, encode_labels

_VOCABULARY = "vocabulary.json"
_WEIGHTS = "weights.npz"


class TextClassifier(Classifier):
    """Classifies one text column (the first feature) with calibrated probabilities."""

    def __init__(
        self,
        *,
        C: float = 10.0,
        ngram_min: int = 1,
        ngram_max: int = 5,
        min_df: int = 2,
        calibration_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.ngram_min = ngram_min
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer="char", ngram_range=(self.ngram_min, self.ngram_max), lowercase=True,
                               sublinear_tf=True, min_df=self.min_df if vocabulary is None else 1,
                               vocabulary=vocabulary, dtype=np.float32)

    def _linear(self, classes: int) -> LogisticRegression:
        if classes == 2:
            return LogisticRegression(C=self.C, solver="liblinear", dual=True, max_iter=1000,
                                      random_state=self.random_state)
        return LogisticRegression(C=self.C, solver="newton-cg", max_iter=1000, random_state=self.random_state)

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Self:
        classes, codes = encode_labels(y, "text-classifier")
        if len(classes) < 2:
            raise RecipeError(f"text-classifier needs two classes or more; the training data has {classes.tolist()}")
        self.vectorizer_ = self._vectorizer()
        try:
            features = self.vectorizer_.fit_transform(_texts(X))
        except ValueError as exc:  # e.g. every text empty: nothing to learn from
            raise RecipeError(f"text-classifier: {exc}") from None
        folds = min(self.calibration_folds, int(np.bincount(codes).min()))
        split = StratifiedKFold(folds, shuffle=True, random_state=self.random_state) if folds >= 2 else None
        self.linear_ = self._fit_binary(features, codes, split) if len(classes) == 2 \
            else self._fit_multiclass(features, codes, split)
        self.classes_ = classes
        return self

    def _fit_binary(self, features: object, codes: np.ndarray, split: StratifiedKFold | None) -> LogisticRegression:
        if split is None:
            return self._linear(2).fit(features, codes)
        calibrated = CalibratedClassifierCV(self._linear(2), method="sigmoid", ensemble=False, cv=split)
        fitted = calibrated.fit(features, codes).calibrated_classifiers_[0]
        linear, a, b = fitted.estimator, fitted.calibrators[0].a_, fitted.calibrators[0].b_
        # p = expit(-(a * f + b)) with f = x.w + w0, folded: w' = -a w, w0' = -(a w0 + b)
        linear.coef_ = -a * linear.coef_
        linear.intercept_ = -(a * linear.intercept_ + b)
        return linear

    def _fit_multiclass(self, features: object, codes: np.ndarray, split: StratifiedKFold | None) -> LogisticRegression:
        linear = self._linear(int(codes.max()) + 1)
        temperature = 1.0
        if split is not None:
            scores = cross_val_predict(linear, features, codes, cv=split, method="decision_function")
            temperature = fit_temperature(scores, codes)
        linear.fit(features, codes)
        # softmax(f / T) with f = x.W + w0, folded: W' = W / T, w0' = w0 / T
        linear.coef_ = linear.coef_ / temperature
        linear.intercept_ = linear.intercept_ / temperature
        self.temperature_ = temperature  # already folded in; kept to be reported
        return linear

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        # LogisticRegression.predict_proba without its input validation (a third of the time
        # of a one-row request): expit (two classes) or softmax of the same decision function.
        features = self.vectorizer_.transform(_texts(X))
        if len(self.classes_) == 2:
            decision = np.asarray(features @ self.linear_.coef_.T).ravel() + self.linear_.intercept_[0]
            positive = expit(decision)
            return np.column_stack([1.0 - positive, positive])
        scores = np.asarray(features @ self.linear_.coef_.T, dtype=np.float64) + self.linear_.intercept_
        return softmax(scores, axis=1)

    def save(self, folder: Path) -> None:
        vocabulary = self.vectorizer_.vocabulary_
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        stored = {"params": self.get_params(), "classes": classes_to_json(self.classes_),
                  "temperature": getattr(self, "temperature_", None), "terms": terms}
        (folder / _VOCABULARY).write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        np.savez(folder / _WEIGHTS, idf=self.vectorizer_.idf_, coef=self.linear_.coef_,
                 intercept=self.linear_.intercept_)

    @classmethod
    def load(cls, folder: Path) -> Self:
        stored = json.loads((folder / _VOCABULARY).read_text(encoding="utf-8"))
        with np.load(folder / _WEIGHTS, allow_pickle=False) as weights:
            # Models saved before the classes moved to JSON hold them in the npz (ints only).
            classes = class_array(stored["classes"]) if "classes" in stored else weights["classes"]
            recipe = cls(**stored["params"])
            vectorizer = recipe._vectorizer({term: i for i, term in enumerate(stored["terms"])})
            vectorizer.idf_ = weights["idf"]  # the setter builds the fitted TF-IDF transformer
            linear = recipe._linear(len(classes))
            linear.coef_, linear.intercept_ = weights["coef"], weights["intercept"]
            linear.classes_ = np.arange(len(classes))
        recipe.vectorizer_, recipe.linear_, recipe.classes_ = vectorizer, linear, classes
        if stored.get("temperature") is not None:
            recipe.temperature_ = stored["temperature"]
        return recipe

    @classmethod
    def pip_requirements(cls) -> list[str]:
        return [f"{name}=={version(name)}" for name in ("scikit-learn", "numpy", "pandas", "scipy")]


def _texts(X: pd.DataFrame) -> list[str]:
    column = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else pd.Series(X)
    # Missing values read as empty text; a plain loop is 3x faster than fillna + astype here.
    return ["" if value is None or value != value else str(value) for value in column.tolist()]
