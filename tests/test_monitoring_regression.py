"""Monitoring a regressor: feature drift and quality as for a classifier, drift of the predicted
values, realized RMSE and MAE as a relative rise, and plainly no estimate without labels."""

from __future__ import annotations

import numpy as np
import pytest
from monitoring_support import Regressor, report

from champion.monitoring import profile as profiles
from champion.monitoring.performance import NO_ESTIMATE


@pytest.fixture(scope="module")
def reference() -> dict:  # type: ignore[type-arg]
    return Regressor().profile(np.random.default_rng(0))


def test_the_regression_profile_keeps_one_joint_sample() -> None:
    predicted = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    actual = np.array([1.5, 1.0, 3.0, np.inf, 6.0])
    kept = profiles.regression_predictions(predicted, actual, sample_size=10)
    assert kept == {"rows": 3, "values": [1.0, 2.0, 5.0], "actual": [1.5, 1.0, 6.0], "residuals": [0.5, -1.0, 1.0]}
    big = profiles.regression_predictions(np.arange(5000.0), np.arange(5000.0) + 2, sample_size=100)
    assert big["rows"] == 5000 and len(big["values"]) == 100
    assert np.allclose(np.array(big["actual"]) - np.array(big["values"]), 2.0)  # pairs stay pairs
    with pytest.raises(ValueError):
        profiles.regression_predictions(np.arange(3.0), np.arange(4.0), 10)


def test_calm_traffic_with_labels_raises_nothing_and_says_why_there_is_no_estimate(reference: dict) -> None:  # type: ignore[type-arg]
    document = report(reference, Regressor().window(np.random.default_rng(1), 1000, labelled=400))
    assert document["status"] == "ok" and document["alerts"] == [] and document["warnings"] == []
    assert {c["column"] for c in document["data_drift"]["columns"]} == {"x1", "x2"}
    assert document["prediction_drift"]["subject"] == "predicted value" and not document["prediction_drift"]["drifted"]
    performance = document["performance"]
    assert performance["metrics"] == ["rmse", "mae"] and set(performance["golden"]) == {"rmse", "mae"}
    realized = performance["realized"]
    assert realized["labelled"] == 400 and abs(realized["drop"]["rmse"]) < 0.15 and not realized["degraded"]
    assert performance["estimated"] is None and performance["calibration"] is None
    assert performance["estimated_reason"] == NO_ESTIMATE["regression"]
    assert "cannot be estimated without labels" in performance["estimated_reason"]
    residuals = realized["residuals"]
    assert abs(residuals["mean"]["current"]) < 0.2 and residuals["plot"]["kind"] == "histogram"


def test_errors_that_grow_are_a_performance_alert_as_a_relative_rise(reference: dict) -> None:  # type: ignore[type-arg]
    document = report(reference, Regressor().window(np.random.default_rng(2), 1000, labelled=500, noise=1.6))
    realized = document["performance"]["realized"]
    golden = document["performance"]["golden"]
    assert realized["drop"]["rmse"] == pytest.approx(realized["metrics"]["rmse"] / golden["rmse"] - 1)
    assert 0.4 < realized["drop"]["rmse"] < 0.8 and realized["degraded"]
    alert = next(a for a in document["alerts"] if a["kind"] == "performance")
    assert alert["retrain"] and "rmse" in alert["message"] and "allowed drop: rmse 0.25, mae 0.25" in alert["message"]
    # Without labels, the same rows raise nothing: the error cannot be seen without them.
    unlabelled = report(reference, Regressor().window(np.random.default_rng(2), 1000, noise=1.6))
    assert unlabelled["alerts"] == [] and unlabelled["performance"]["realized"] is None


def test_shifted_inputs_drift_and_so_do_the_predictions(reference: dict) -> None:  # type: ignore[type-arg]
    document = report(reference, Regressor().window(np.random.default_rng(3), 1000, shift=1.0))
    drifted = {c["column"]: c["drifted"] for c in document["data_drift"]["columns"]}
    assert drifted == {"x1": True, "x2": False}
    assert document["prediction_drift"]["drifted"]
    assert {"data_drift", "prediction_drift"} <= {a["kind"] for a in document["alerts"]}
    assert document["drift_detected"]
