"""Synthetic worlds for the monitoring tests: a reference profile built as training builds it,
and windows of logged rows shaped as the prediction log returns them."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from champion.config import MonitoringSettings, ResolvedMonitoring, resolve_monitoring
from champion.monitoring import profile as profiles
from champion.monitoring.documents import MonitorReport, ReferenceProfile
from champion.monitoring.performance import ERROR_METRICS, macro_f1
from champion.monitoring.report import build_report

START = 1_800_000_000.0
COLOURS = ["red", "green", "blue"]


def window(inputs: dict[str, list[Any]], outputs: list[Any], actual: list[Any] | None = None,
           proba: np.ndarray | None = None, classes: list[Any] | None = None, version: int = 1) -> SimpleNamespace:
    """Logged rows one second apart, all served by `version`."""
    n = len(outputs)
    return SimpleNamespace(times=START + np.arange(n, dtype=float), versions=np.full(n, version),
                           inputs=inputs, outputs=list(outputs), proba=proba, classes=list(classes or []),
                           actual=list(actual) if actual is not None else [None] * n)


def report(profile: dict[str, Any], current: SimpleNamespace, settings: ResolvedMonitoring | None = None,
           task: str | None = None) -> dict[str, Any]:
    """The report of `current` against `profile`, read back from JSON as the monitor reads it."""
    ReferenceProfile.model_validate(profile)
    stored = json.loads(json.dumps(profile))
    settings = settings or resolve_monitoring(MonitoringSettings(), task or profile["task"])
    document = build_report("m", "production", current, current, lambda version: stored, settings,
                            str(len(current.outputs)))
    # Every synthetic world's report keeps the published contract (the monitor adds the rest).
    MonitorReport.model_validate({**document, "dropped_log_rows": 0, "report": "r.html", "json": "r.json",
                                  "log": {"logged": 0, "labelled": 0, "dropped": 0, "oldest": None, "newest": None}})
    return document


# ---- a classifier of k classes over one number and one category ---------------------------
class Classifier:
    """Softmax over a number `x` and a colour, calibrated by construction: labels are drawn
    from the very probabilities the 'model' gives."""

    def __init__(self, classes: list[Any], seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.classes = classes
        self.weights = rng.normal(0, 1.5, len(classes))
        self.colour_weights = rng.normal(0, 1.0, (len(COLOURS), len(classes)))

    def rows(self, rng: np.random.Generator, n: int, shift: float = 0.0, colours: tuple[float, ...] = (0.5, 0.3, 0.2)
             ) -> tuple[dict[str, list[Any]], np.ndarray, np.ndarray]:
        """Inputs, probabilities and true labels (drawn from the probabilities) of `n` rows."""
        x = rng.normal(shift, 1.0, n)
        colour = rng.choice(len(COLOURS), n, p=list(colours))
        logits = x[:, None] * self.weights[None, :] + self.colour_weights[colour]
        proba = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
        drawn = np.minimum((rng.random(n)[:, None] > np.cumsum(proba, axis=1)).sum(axis=1), len(self.classes) - 1)
        labels = np.asarray(self.classes, dtype=object)[drawn]
        return {"x": x.tolist(), "colour": [COLOURS[c] for c in colour]}, proba, labels

    def profile(self, rng: np.random.Generator, n: int = 2000) -> dict[str, Any]:
        inputs, proba, labels = self.rows(rng, n)
        golden = slice(n // 2, n)  # the golden half: scores, labels and metrics
        predicted = np.asarray(self.classes, dtype=object)[proba[golden].argmax(axis=1)]
        metrics = {"accuracy": float((predicted == labels[golden]).mean()),
                   "f1": macro_f1(labels[golden], predicted)}
        columns = {"x": ("numeric", pd.Series(inputs["x"])), "colour": ("categorical", pd.Series(inputs["colour"]))}
        predictions = profiles.classifier_predictions(self.classes, self.classes[-1], proba[golden], labels[golden],
                                                      10_000)
        return profiles.build_profile("classification", columns, predictions, metrics)  # type: ignore[arg-type]

    def window(self, rng: np.random.Generator, n: int, labelled: int = 0, shift: float = 0.0,
               colours: tuple[float, ...] = (0.5, 0.3, 0.2), labels_as: Any = None) -> SimpleNamespace:
        """`n` logged rows, the last `labelled` of them with feedback (`labels_as` maps each
        label as feedback gives it back)."""
        inputs, proba, labels = self.rows(rng, n, shift, colours)
        outputs = [self.classes[i] for i in proba.argmax(axis=1)]
        given = [labels_as(v) if labels_as else v for v in labels.tolist()]
        actual = [None] * (n - labelled) + given[n - labelled:]
        return window(inputs, outputs, actual, proba, self.classes)


# ---- a regressor over two numbers ---------------------------------------------------------
class Regressor:
    """y = 3 x1 - 2 x2 + noise; the 'model' knows the line, so its error is the noise."""

    def rows(self, rng: np.random.Generator, n: int, shift: float = 0.0, noise: float = 1.0
             ) -> tuple[dict[str, list[Any]], np.ndarray, np.ndarray]:
        x1, x2 = rng.normal(shift, 1.0, n), rng.normal(0, 1.0, n)
        predicted = 3 * x1 - 2 * x2
        return {"x1": x1.tolist(), "x2": x2.tolist()}, predicted, predicted + rng.normal(0, noise, n)

    def profile(self, rng: np.random.Generator, n: int = 2000) -> dict[str, Any]:
        inputs, predicted, actual = self.rows(rng, n)
        golden = slice(n // 2, n)
        errors = actual[golden] - predicted[golden]
        metrics = {"rmse": float(np.sqrt(np.mean(errors ** 2))), "mae": float(np.mean(np.abs(errors))),
                   "r2": 0.9, "mape": 0.5}
        assert set(ERROR_METRICS) <= set(metrics)
        columns = {name: ("numeric", pd.Series(values)) for name, values in inputs.items()}
        predictions = profiles.regression_predictions(predicted[golden], actual[golden], 10_000)
        return profiles.build_profile("regression", columns, predictions, metrics)  # type: ignore[arg-type]

    def window(self, rng: np.random.Generator, n: int, labelled: int = 0, shift: float = 0.0,
               noise: float = 1.0) -> SimpleNamespace:
        inputs, predicted, actual = self.rows(rng, n, shift, noise)
        given = [None] * (n - labelled) + actual.tolist()[n - labelled:]
        return window(inputs, predicted.tolist(), given)
