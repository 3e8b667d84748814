"""Monitoring a classifier of three or more classes: class shares as the prediction drift,
the top-class probability beside them, macro F1 named as such, labels of any type."""

from __future__ import annotations

import numpy as np
import pytest
from monitoring_support import Classifier, report
from sklearn.metrics import f1_score

from champion.config import DriftTestSettings, MonitoringSettings, resolve_monitoring
from champion.monitoring.performance import realized_classifier

CLASSES = ["ham", "spam", "eggs"]


@pytest.fixture(scope="module")
def model() -> Classifier:
    return Classifier(CLASSES, seed=4)


@pytest.fixture(scope="module")
def reference(model: Classifier) -> dict:  # type: ignore[type-arg]
    return model.profile(np.random.default_rng(0))


def test_the_profile_keeps_what_the_multiclass_checks_need(reference: dict) -> None:  # type: ignore[type-arg]
    predictions = reference["predictions"]
    assert predictions["classes"] == CLASSES and predictions["rows"] == 1000
    assert set(predictions["class_counts"]) <= set(CLASSES) and sum(predictions["class_counts"].values()) == 1000
    assert sum(predictions["class_share"].values()) == pytest.approx(1.0)
    assert len(predictions["confidence"]) == 1000 and min(predictions["confidence"]) >= 1 / 3
    assert set(predictions["expected"]) == {"accuracy", "f1"} and predictions["calibration"]["labelled"] == 1000


def test_traffic_like_the_golden_set_raises_nothing(model: Classifier, reference: dict) -> None:  # type: ignore[type-arg]
    document = report(reference, model.window(np.random.default_rng(1), 1000))
    assert document["status"] == "ok" and document["alerts"] == [] and document["warnings"] == []
    prediction = document["prediction_drift"]
    assert prediction["subject"] == "predicted class" and prediction["method"] == "chi2" and not prediction["drifted"]
    assert set(prediction["class_share"]["current"]) == set(CLASSES)
    assert prediction["plot"]["kind"] == "bars" and prediction["confidence"]["method"] == "ks"
    estimated = document["performance"]["estimated"]
    assert not estimated["degraded"] and estimated["baseline"] == reference["predictions"]["expected"]
    assert document["performance"]["names"]["f1"] == "macro F1 over 3 classes"


def test_a_shift_in_the_predicted_classes_is_prediction_drift(model: Classifier, reference: dict) -> None:  # type: ignore[type-arg]
    shifted = model.window(np.random.default_rng(2), 1000, colours=(0.05, 0.15, 0.8))
    document = report(reference, shifted)
    prediction = document["prediction_drift"]
    assert prediction["drifted"] and prediction["p_value"] < 1e-6
    reference_share = prediction["class_share"]["reference"]
    current_share = prediction["class_share"]["current"]
    assert max(abs(current_share.get(c, 0) - reference_share.get(c, 0)) for c in CLASSES) > 0.1
    kinds = {a["kind"] for a in document["alerts"]}
    assert {"prediction_drift", "data_drift"} <= kinds
    assert "the predicted class drifted: chi-square" in next(
        a["message"] for a in document["alerts"] if a["kind"] == "prediction_drift")


def test_a_numeric_prediction_method_tests_the_confidence_and_the_classes_still_decide(
        model: Classifier, reference: dict) -> None:  # type: ignore[type-arg]
    settings = resolve_monitoring(MonitoringSettings(prediction=DriftTestSettings(method="wasserstein")),
                                  "classification")
    document = report(reference, model.window(np.random.default_rng(3), 1000), settings)
    assert document["prediction_drift"]["method"] == "chi2"
    assert document["prediction_drift"]["confidence"]["method"] == "wasserstein"


def test_labels_that_come_back_as_text_are_the_same_classes() -> None:
    model = Classifier([0, 1, 2], seed=5)
    reference = model.profile(np.random.default_rng(0))
    as_ints = report(reference, model.window(np.random.default_rng(6), 600, labelled=600))
    as_text = report(reference, model.window(np.random.default_rng(6), 600, labelled=600, labels_as=str))
    assert as_ints["performance"]["realized"]["metrics"] == as_text["performance"]["realized"]["metrics"]
    assert as_ints["performance"]["calibration"]["ece"] == as_text["performance"]["calibration"]["ece"]
    assert "unknown_labels" not in as_text["performance"]["realized"]
    assert set(as_ints["prediction_drift"]["class_share"]["current"]) == {"0", "1", "2"}


def test_the_estimate_and_the_realized_accuracy_agree_and_a_real_drop_alerts(model: Classifier,
                                                                             reference: dict) -> None:  # type: ignore[type-arg]
    calm = report(reference, model.window(np.random.default_rng(7), 1000, labelled=1000))
    realized, estimated = calm["performance"]["realized"], calm["performance"]["estimated"]["metrics"]
    assert estimated["accuracy"]["low"] <= realized["metrics"]["accuracy"] <= estimated["accuracy"]["high"]
    assert calm["performance"]["calibration"]["holds"]
    # The same traffic, but the labels no longer follow the model: realized accuracy falls.
    broken = model.window(np.random.default_rng(7), 1000, labelled=1000)
    broken.actual = list(np.random.default_rng(8).choice(CLASSES, 1000))
    document = report(reference, broken)
    kinds = {a["kind"]: a for a in document["alerts"]}
    assert document["performance"]["realized"]["degraded"] and kinds["performance"]["retrain"]
    assert "calibration" in kinds  # the probabilities no longer say how often the model is right


def test_a_label_the_model_does_not_know_is_a_miss_and_said_so(model: Classifier, reference: dict) -> None:  # type: ignore[type-arg]
    current = model.window(np.random.default_rng(9), 300, labelled=300)
    current.actual[:20] = ["bacon"] * 20
    document = report(reference, current)
    realized = document["performance"]["realized"]
    assert realized["unknown_labels"] == {"rows": 20, "examples": ["bacon"]}
    assert any("labels the model does not know (e.g. 'bacon')" in a["message"] for a in document["alerts"])
    truth = np.array(current.actual, dtype=object)
    predicted = np.asarray(current.outputs, dtype=object)
    assert realized["metrics"]["accuracy"] == pytest.approx(float((truth == predicted).mean()))


def test_realized_f1_is_macro_f1_for_three_classes() -> None:
    """As on the golden set (`champion.evaluation.metrics`): scikit-learn's macro F1, an
    unknown label counted as a class that is never predicted."""
    rng = np.random.default_rng(11)
    proba = rng.dirichlet(np.ones(3), 200)
    labels = rng.choice(np.array(["a", "b", "c", "z"], dtype=object), 200, p=[0.3, 0.3, 0.3, 0.1])
    predicted = np.array(["a", "b", "c"], dtype=object)[proba.argmax(axis=1)]
    assert realized_classifier(labels, proba, ["a", "b", "c"], "c")["f1"] == pytest.approx(
        f1_score(labels, predicted, average="macro"))
