"""Monitoring's documents as typed models: the reference profile a version carries
(`profile.json`) and the monitor report (`champion monitor --json`, the report's `.json`).
Both are checked where they are made; their JSON Schemas are published in `docs/schemas/`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from champion.contract import Document

Evidence = Literal["enough", "low"]
Task = Literal["classification", "regression", "forecasting"]


# ---- the reference profile ----------------------------------------------------------------
class NumericColumnProfile(Document):
    type: Literal["numeric"]
    rows: int
    nulls: int
    sample: list[float]
    """A uniform sample of the values (what the distribution tests are fitted on)."""
    distinct: int
    min: float | None
    max: float | None
    mean: float | None
    std: float | None


class CategoricalColumnProfile(Document):
    type: Literal["categorical"]
    rows: int
    nulls: int
    counts: dict[str, int]
    """The most frequent categories; the rest are counted as `(other)`."""
    total: int
    distinct: int


class TextColumnProfile(Document):
    type: Literal["text"]
    rows: int
    nulls: int
    vocabulary: list[str]
    stats: dict[str, float]
    """Mean length (characters), mean tokens, share of empty texts."""
    oov_rate: float
    """The reference's own out-of-vocabulary rate (half the texts against the other half)."""
    sample: list[str]


ColumnProfile = NumericColumnProfile | CategoricalColumnProfile | TextColumnProfile


class ReliabilityBin(Document):
    predicted: float
    observed: float
    count: int


class CalibrationCheck(Document):
    """Expected calibration error of the top-class confidence, with its reliability bins."""

    ece: float
    labelled: int
    bins: list[ReliabilityBin]


class ClassifierPredictions(Document):
    """A classifier on the golden set."""

    classes: list[Any]
    positive: Any
    rows: int
    scores: list[float]
    """The positive class's probability (a sample)."""
    confidence: list[float] = Field(default_factory=list)
    """The top class's probability (a sample)."""
    class_share: dict[str, float]
    class_counts: dict[str, int] = Field(default_factory=dict)
    expected: dict[str, float] = Field(default_factory=dict)
    """Accuracy and F1 as the confidence-based estimate gives them on the golden set."""
    calibration: CalibrationCheck | None = None


class RegressionPredictions(Document):
    """A regressor on the golden set: one joint sample."""

    rows: int
    values: list[float]
    actual: list[float]
    residuals: list[float]
    """actual - predicted."""


class ForecastPredictions(Document):
    """A forecaster's forecasts on the golden set's origins (a sample)."""

    rows: int
    values: list[float]


class GoldenMetrics(Document):
    metrics: dict[str, float]


class ReferenceProfile(Document):
    """What monitoring keeps of a version's training data and predictions."""

    format: Literal[1]
    task: Task
    columns: dict[str, ColumnProfile]
    predictions: ClassifierPredictions | RegressionPredictions | ForecastPredictions
    golden: GoldenMetrics


# ---- the monitor report -------------------------------------------------------------------
class Histogram(Document):
    kind: Literal["histogram"]
    title: str
    edges: list[float]
    reference: list[float]
    """Shares of the reference per bin."""
    current: list[float]


class Bars(Document):
    kind: Literal["bars"]
    categories: list[str]
    reference: list[float]
    current: list[float]
    title: str | None = None


Plot = Histogram | Bars


class Pair(Document):
    """One quantity in the reference and in the window."""

    reference: Any
    current: Any


class DriftTestResult(Document):
    method: str
    statistic: float | None
    """The distance, or the statistic of a test with a p-value."""
    p_value: float | None
    threshold: float
    drifted: bool


class ColumnDrift(DriftTestResult):
    column: str
    type: Literal["numeric", "categorical", "text"]
    plot: Plot
    stats: dict[str, Pair] | None = None
    """Text columns: length, tokens, empty share and out-of-vocabulary rate."""
    top_terms: dict[str, list[str]] | None = None
    """Text columns tested by a domain classifier: the terms that mark each side."""
    evidence: Literal["low"] | None = None
    """Present when the column was tested on too few values to vote."""
    rows: int | None = None


class DataDrift(Document):
    share: float
    """The share of voting columns that drifted."""
    threshold: float
    detected: bool
    drifted: int
    columns: list[ColumnDrift]
    evidence: Evidence


class ConfidenceDrift(DriftTestResult):
    subject: str
    plot: Plot


class PredictionDrift(DriftTestResult):
    subject: str
    plot: Plot
    class_share: Pair | None = None
    confidence: ConfidenceDrift | None = None
    """Three or more classes: the top-class probability, tested beside the class shares."""
    evidence: Evidence | None = None


class QualityIssue(Document):
    column: str
    kind: Literal["nulls", "type_errors", "out_of_range", "unseen_categories"]
    count: int
    share: float
    message: str


class ColumnQuality(Document):
    column: str
    null_share: Pair


class DataQuality(Document):
    rows: int
    issues: list[QualityIssue]
    columns: list[ColumnQuality]
    evidence: Evidence


class UnknownLabels(Document):
    rows: int
    examples: list[str]


class Residuals(Document):
    mean: Pair
    plot: Plot


class Realized(Document):
    """Metrics on the rows whose labels (actual values) came back."""

    labelled: int
    metrics: dict[str, float]
    drop: dict[str, float]
    """Golden - realized (classifiers), or the relative rise of an error (regressors)."""
    degraded: bool
    evidence: Evidence
    unknown_labels: UnknownLabels | None = None
    residuals: Residuals | None = None


class Interval(Document):
    value: float
    low: float
    high: float


class Estimated(Document):
    """Accuracy and F1 estimated from the probabilities of every row (no labels needed)."""

    rows: int
    metrics: dict[str, Interval]
    baseline: dict[str, float]
    drop: dict[str, float]
    degraded: bool
    evidence: Evidence


class Calibration(CalibrationCheck):
    tolerance: float
    holds: bool
    evidence: Evidence


class Segment(Document):
    """A stretch of the history served by one version."""

    start: str
    end: str
    rows: int
    versions: list[int]
    labelled: int
    realized: dict[str, float] | None
    estimated: dict[str, Interval] | None
    drift_share: float | None


class Performance(Document):
    metrics: list[str]
    golden: dict[str, float]
    names: dict[str, str]
    """How each metric is shown (for example `F1 of spam`)."""
    realized: Realized | None
    estimated: Estimated | None
    estimated_reason: str | None = None
    """Why there is no estimate (regressors and forecasters)."""
    calibration: Calibration | None
    history: list[Segment] = Field(default_factory=list)


class ReportWindow(Document):
    spec: str
    rows: int
    start: str | None
    end: str | None
    versions: list[int]
    rows_of_version: int | None = None
    """Rows of the newest version in the window: the rows judged."""


class ReferenceUsed(Document):
    version: int
    rows: int | None


class Alert(Document):
    kind: str
    message: str
    retrain: bool
    """Whether this kind starts a retraining (`monitoring.alerts.retrain_on`)."""


class Warning(Document):
    kind: str
    message: str
    evidence: Literal["low"]
    rows: int


class Delivery(Document):
    sink: Literal["log", "webhook", "command"]
    kind: str
    ok: bool
    error: str | None
    attempts: int
    message_id: str | None = None
    status: int | None = None


class LogCounts(Document):
    logged: int
    labelled: int
    dropped: int
    oldest: float | None
    newest: float | None


class MonitorReport(Document):
    """One window of production traffic against the served version's reference profile."""

    model: str
    environment: str
    generated_at: str
    status: Literal["ok", "insufficient_data"]
    message: str | None = None
    task: Task | None
    window: ReportWindow
    reference: ReferenceUsed | None
    drift_detected: bool
    data_drift: DataDrift | None
    prediction_drift: PredictionDrift | None
    data_quality: DataQuality | None
    performance: Performance | None
    alerts: list[Alert]
    warnings: list[Warning]
    log: LogCounts
    dropped_log_rows: int
    report: str
    """The HTML report."""
    json_file: str = Field(alias="json")
    """This document's file."""
    deliveries: list[Delivery] | None = None
