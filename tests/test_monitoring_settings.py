"""Monitoring defaults per task: a project written by hand is watched like a template's."""

from __future__ import annotations

from pathlib import Path

import pytest

from champion.config import (
    MonitoringSettings,
    load_config,
    parse_window,
    period_days,
    resolve_monitoring,
)
from champion.errors import ConfigError

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates"
FIELDS = ("window", "min_rows", "min_labelled", "max_drop")


def _resolved_fields(settings: MonitoringSettings, task: str, frequency: str = "D") -> dict[str, object]:
    resolved = resolve_monitoring(settings, task, frequency)
    return {name: getattr(resolved, name) for name in FIELDS}


@pytest.mark.parametrize(("template", "model", "task"), [("youtube-spam", "spam", "classification"),
                                                          ("transactions", "transactions", "forecasting")])
def test_a_project_without_a_monitoring_table_gets_what_the_template_sets(template: str, model: str,
                                                                          task: str) -> None:
    declared = load_config(TEMPLATES / template / "champion.toml").models[model]
    assert declared.monitoring.window is not None  # the template says it explicitly
    assert _resolved_fields(MonitoringSettings(), task, declared.frequency) == \
        _resolved_fields(declared.monitoring, task, declared.frequency)


def test_defaults_follow_the_task() -> None:
    classifier = resolve_monitoring(MonitoringSettings(), "classification")
    assert (classifier.window, classifier.min_rows, classifier.min_labelled) == ("1000", 50, 30)
    assert classifier.max_drop == {"accuracy": 0.01, "f1": 0.01}
    regressor = resolve_monitoring(MonitoringSettings(), "regression")
    assert regressor.window == "1000" and regressor.max_drop == {"rmse": 0.25, "mae": 0.25}
    forecaster = resolve_monitoring(MonitoringSettings(), "forecasting", "D")
    assert (forecaster.window, forecaster.min_rows, forecaster.min_labelled) == ("90d", 28, 14)


@pytest.mark.parametrize(("frequency", "window", "days"), [
    ("D", "90d", 90.0), ("W", "90w", 630.0), ("W-SUN", "90w", 630.0), ("h", "90h", 3.75),
    ("MS", "2740d", 2739.375), ("QE", "8219d", 8218.125), ("YS", "32873d", 32872.5), ("not-an-alias", "90d", 90.0)])
def test_a_forecasters_window_spans_90_periods_of_its_series(frequency: str, window: str, days: float) -> None:
    resolved = resolve_monitoring(MonitoringSettings(), "forecasting", frequency)
    assert resolved.window == window
    assert 90 * period_days(frequency) == pytest.approx(days)
    _, seconds = parse_window(resolved.window)
    assert seconds is not None and seconds >= days * 86400 - 1


def test_settings_given_win_and_max_drop_merges_over_the_defaults() -> None:
    given = MonitoringSettings(window="24h", min_rows=10, max_drop={"accuracy": 0.05})
    resolved = resolve_monitoring(given, "classification")
    assert (resolved.window, resolved.min_rows, resolved.min_labelled) == ("24h", 10, 30)
    assert resolved.max_drop == {"accuracy": 0.05, "f1": 0.01}
    assert resolved.alerts == given.alerts and resolved.prediction == given.prediction


def test_an_unknown_max_drop_metric_is_a_config_error(tmp_path: Path) -> None:
    text = (TEMPLATES / "youtube-spam" / "champion.toml").read_text()
    path = tmp_path / "champion.toml"
    path.write_text(text.replace("max_drop = { accuracy = 0.01, f1 = 0.01 }", "max_drop = { acuracy = 0.01 }"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "acuracy" in str(caught.value) and "monitored metric" in str(caught.value)
