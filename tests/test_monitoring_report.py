"""The report: how the history is cut at version changes, and how findings on too little
evidence become warnings instead of disappearing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from monitoring_support import Classifier, report, window

from champion.config import AlertSettings, MonitoringSettings, resolve_monitoring
from champion.monitoring import profile as profiles
from champion.monitoring.checks import MIN_EVIDENCE_ROWS
from champion.monitoring.report import TRANSITION_SECONDS, version_epochs


def test_a_swap_with_workers_answering_side_by_side_is_one_change() -> None:
    history = SimpleNamespace(versions=np.array([1, 1, 1, 2, 1, 2, 1, 2, 2, 2]),
                              times=np.array([0, 1, 2, 3, 3.1, 3.2, 3.3, 4, 5, 6.0]))
    assert version_epochs(history) == [(1, [0, 1, 2, 4, 6]), (2, [3, 5, 7, 8, 9])]  # type: ignore[arg-type]


def test_a_rollback_later_is_a_change_of_its_own() -> None:
    later = 10 + TRANSITION_SECONDS + 1
    history = SimpleNamespace(versions=np.array([1, 1, 2, 2, 1, 1]),
                              times=np.array([0, 1, 10, 11, later, later + 1]))
    assert [v for v, _ in version_epochs(history)] == [1, 2, 1]  # type: ignore[arg-type]


def _epochs_row_by_row(versions: np.ndarray, times: np.ndarray) -> list[tuple[int, list[int]]]:
    """The rule of `version_epochs`, applied one row at a time."""
    epochs: list[tuple[int, list[int]]] = []
    started = 0.0
    for i, version in enumerate(versions.tolist()):
        if epochs and epochs[-1][0] == version:
            epochs[-1][1].append(i)
        elif len(epochs) >= 2 and epochs[-2][0] == version and times[i] - started <= TRANSITION_SECONDS:
            epochs[-2][1].append(i)
        else:
            epochs.append((version, [i]))
            started = float(times[i])
    return epochs


def test_cutting_runs_of_rows_agrees_with_the_rule_row_by_row() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 60))
        versions = np.cumsum(rng.random(n) < 0.2) % 3 + 1  # runs of 1..3, flickers included
        flicker = rng.random(n) < 0.15
        versions = np.where(flicker, np.roll(versions, 1), versions)
        times = np.cumsum(rng.exponential(TRANSITION_SECONDS / 3, n))
        history = SimpleNamespace(versions=versions, times=times)
        assert version_epochs(history) == _epochs_row_by_row(versions, times)  # type: ignore[arg-type]


# ---- evidence: what a check finds on too few rows is a warning, never hidden ---------------
def _binary() -> tuple[Classifier, dict[str, Any]]:
    model = Classifier([0, 1], seed=1)
    return model, model.profile(np.random.default_rng(0))


def test_48_labelled_rows_that_look_degraded_are_a_warning_not_hidden() -> None:
    model, reference = _binary()
    current = model.window(np.random.default_rng(1), 48, labelled=48)
    current.actual = [1 - p for p in current.outputs]  # every prediction wrong
    document = report(reference, current)
    assert document["status"] == "insufficient_data" and "low-evidence warnings" in document["message"]
    assert document["alerts"] == [] and not document["drift_detected"]
    realized = document["performance"]["realized"]
    assert realized["degraded"] and realized["evidence"] == "low"  # 48 labels >= min_labelled, but < min_rows
    warning = next(w for w in document["warnings"] if w["kind"] == "performance")
    assert warning == {"kind": "performance", "evidence": "low", "rows": 48, "message": warning["message"]}
    assert "on 48 labelled rows: accuracy 0.000" in warning["message"]
    # The checks that need min_rows ran too, marked as resting on little evidence.
    assert document["data_drift"]["evidence"] == "low" and document["prediction_drift"]["evidence"] == "low"
    assert document["data_quality"]["evidence"] == "low"


def test_enough_rows_but_few_labels_make_the_realized_drop_a_warning() -> None:
    model, reference = _binary()
    current = model.window(np.random.default_rng(2), 400, labelled=15)
    current.actual[-15:] = [1 - p for p in current.outputs[-15:]]
    document = report(reference, current)
    assert document["status"] == "ok"
    realized = document["performance"]["realized"]
    assert realized["labelled"] == 15 and realized["evidence"] == "low" and realized["degraded"]
    assert "performance" not in {a["kind"] for a in document["alerts"]}
    assert [w["kind"] for w in document["warnings"]] == ["performance", "calibration"]
    assert document["performance"]["calibration"]["evidence"] == "low"
    # Fewer labels than MIN_EVIDENCE_ROWS: nothing is judged at all.
    few = model.window(np.random.default_rng(2), 400, labelled=MIN_EVIDENCE_ROWS - 1)
    assert report(reference, few)["performance"]["realized"] is None


def test_drift_on_a_small_window_is_a_warning_and_starts_no_retraining() -> None:
    model, reference = _binary()
    shifted = model.window(np.random.default_rng(3), 40, shift=3.0, colours=(0.0, 0.0, 1.0))
    settings = resolve_monitoring(MonitoringSettings(alerts=AlertSettings(retrain_on=[
        "data_drift", "prediction_drift", "data_quality", "performance", "estimated_performance",
        "calibration"])), "classification")
    document = report(reference, shifted, settings)
    assert document["alerts"] == [] and not document["drift_detected"]
    kinds = {w["kind"] for w in document["warnings"]}
    assert {"data_drift", "prediction_drift"} <= kinds
    assert all(w["evidence"] == "low" and w["rows"] == 40 and "retrain" not in w for w in document["warnings"])
    assert document["data_drift"]["detected"]  # what the test found is there to read


def test_the_same_findings_on_enough_rows_are_alerts() -> None:
    model, reference = _binary()
    document = report(reference, model.window(np.random.default_rng(3), 400, shift=3.0, colours=(0.0, 0.0, 1.0)))
    assert document["warnings"] == [] and {"data_drift", "prediction_drift"} <= {a["kind"] for a in document["alerts"]}


def test_a_forecasters_actual_values_on_few_labels_are_shown_without_a_vote() -> None:
    rng = np.random.default_rng(4)
    series = pd.Series(rng.normal(100, 10, 400))
    reference = profiles.build_profile("forecasting", {"amount": ("numeric", series)},
                                       profiles.forecast_predictions(rng.normal(100, 5, 200), 1000),
                                       {"rmse": 10.0, "mae": 8.0})
    n, labelled = 60, 12  # min_rows 28, min_labelled 14
    outputs = rng.normal(100, 5, n).tolist()
    actual: list[Any] = [None] * (n - labelled) + rng.normal(160, 10, labelled).tolist()  # far off
    dates = [f"2026-01-{1 + i % 28:02d}" for i in range(n)]
    document = report(reference, window({"time": dates}, outputs, actual))
    column = document["data_drift"]["columns"][0]
    assert column["column"] == "amount" and column["drifted"] and column["evidence"] == "low" and column["rows"] == 12
    assert not document["data_drift"]["detected"] and "data_drift" not in {a["kind"] for a in document["alerts"]}
    assert {"data_drift", "performance"} <= {w["kind"] for w in document["warnings"]}
    realized = document["performance"]["realized"]
    assert realized["evidence"] == "low" and realized["drop"]["rmse"] > 1
    assert document["performance"]["estimated_reason"].startswith("forecast error cannot be estimated")
