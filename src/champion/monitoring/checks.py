"""One window of production rows against a version's reference profile.

Pure functions from (profile, window, settings) to the report's sections: data drift per
column, prediction drift, data quality, and performance (realized and estimated). Each
section is a JSON-ready dict (the schema is in `champion.monitoring.report`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from champion.config import DriftTestSettings, MonitoringSettings
from champion.monitoring import performance, text
from champion.monitoring.drift import CategoryCounts, DriftTest, detector_for, distinct_count
from champion.monitoring.profile import OTHER, reference_values

HISTOGRAM_BINS = 20
TOP_CATEGORIES = 12
QUALITY_SHARE = 0.05
"""Unseen categories, out-of-range numbers, or a rise in nulls above this share of the window
is a data-quality issue (type errors are issues from the first one)."""


class Window(Protocol):
    """Logged production rows (`champion.state.predictions.LoggedWindow` has this shape)."""

    times: np.ndarray
    versions: np.ndarray
    inputs: dict[str, list[Any]]
    outputs: list[Any]
    proba: np.ndarray | None
    classes: list[Any]
    actual: list[Any]


@dataclass(frozen=True)
class Rows:
    """A slice of a window as plain arrays (what every check reads)."""

    inputs: dict[str, list[Any]]
    outputs: list[Any]
    proba: np.ndarray | None
    actual: list[Any]
    classes: list[Any]

    @classmethod
    def of(cls, window: Window, mask: np.ndarray | None = None) -> Rows:
        if mask is None:
            mask = np.ones(len(window.times), dtype=bool)
        picked = np.flatnonzero(mask)
        return cls({k: [v[i] for i in picked] for k, v in window.inputs.items()},
                   [window.outputs[i] for i in picked],
                   None if window.proba is None else np.asarray(window.proba)[picked],
                   [window.actual[i] for i in picked], list(window.classes))

    def __len__(self) -> int:
        return len(self.outputs)

    def labelled(self) -> np.ndarray:
        return np.array([a is not None for a in self.actual], dtype=bool)


# ---- data drift ---------------------------------------------------------------------------
def data_drift(profile: dict[str, Any], rows: Rows, settings: MonitoringSettings) -> dict[str, Any] | None:
    """Every profiled input column tested; `detected` when the drifted share reaches
    `drift_share` (Evidently's dataset drift)."""
    columns = []
    for name, reference in profile["columns"].items():
        if name in rows.inputs:
            values = rows.inputs[name]
        elif profile["task"] == "forecasting":  # a forecaster's data is the series itself
            values = [a for a in rows.actual if a is not None]
            if len(values) < settings.min_labelled:
                continue
        else:
            continue
        test = settings.columns.get(name, DriftTestSettings())
        if test.method == "none":
            continue
        columns.append(column_drift(name, reference, values, test))
    if not columns:
        return None
    drifted = sum(c["drifted"] for c in columns)
    share = drifted / len(columns)
    return {"share": share, "threshold": settings.drift_share, "detected": share >= settings.drift_share,
            "drifted": drifted, "columns": columns}


def column_drift(name: str, reference: dict[str, Any], values: list[Any], test: DriftTestSettings) -> dict[str, Any]:
    kind = reference["type"]
    current = [v for v in values if v is not None]
    if kind == "numeric":
        current = [float(v) for v in current if _is_number(v)]
    detector = _detector(kind, test, reference)
    result = detector.test(current)
    entry: dict[str, Any] = {"column": name, "type": kind, **result.as_dict()}
    if kind == "numeric":
        entry["plot"] = histogram(reference_values(reference), np.asarray(current, dtype=float))
    elif kind == "categorical":
        entry["plot"] = bars(CategoryCounts.of(reference), CategoryCounts.of([str(v) for v in current]))
    else:
        entry["plot"] = histogram(np.asarray([len(t) for t in reference["sample"]], dtype=float),
                                  text.lengths(current), title="length (characters)")
        stats_now = text.text_stats(current)
        stats_now["oov_rate"] = text.oov_rate(current, set(reference["vocabulary"]))
        stats_ref = {**reference["stats"], "oov_rate": reference["oov_rate"]}
        entry["stats"] = {k: {"reference": stats_ref.get(k), "current": v} for k, v in stats_now.items()}
        entry["top_terms"] = getattr(detector, "top_terms_", None)
    return entry


def _detector(kind: str, test: DriftTestSettings, reference: dict[str, Any]) -> DriftTest:
    distinct = reference.get("distinct") if kind == "numeric" else None
    detector = detector_for(kind, test.method, test.threshold, reference_rows=reference.get("rows"),  # type: ignore[arg-type]
                            distinct_values=distinct)
    fitted = reference_values(reference)
    if detector.method in ("chi2", "jensenshannon") and kind == "numeric":
        fitted = [str(v) for v in fitted]  # few distinct numbers: tested as categories
    return detector.fit(fitted)


# ---- predictions --------------------------------------------------------------------------
def prediction_drift(profile: dict[str, Any], rows: Rows, settings: MonitoringSettings) -> dict[str, Any] | None:
    """Scores of the positive class (classifiers) or forecast values, against the golden set's."""
    reference = profile.get("predictions") or {}
    test = settings.prediction
    if test.method == "none":
        return None
    if profile["task"] == "classification":
        if rows.proba is None or not len(rows) or "scores" not in reference:
            return None
        classes = rows.classes
        positive = reference.get("positive")
        column = classes.index(positive) if positive in classes else len(classes) - 1
        ref_values, cur_values = np.asarray(reference["scores"], dtype=float), rows.proba[:, column]
        title = f"probability of class {positive}"
    else:
        ref_values = np.asarray(reference.get("values", []), dtype=float)
        cur_values = np.asarray([v for v in rows.outputs if _is_number(v)], dtype=float)
        title = "forecast value"
    if not len(ref_values) or not len(cur_values):
        return None
    distinct = distinct_count(ref_values.tolist())
    detector = detector_for("numeric", test.method, test.threshold, reference_rows=int(reference.get("rows", 0)),
                            distinct_values=distinct)
    if detector.method in ("chi2", "jensenshannon"):
        result = detector.fit([str(v) for v in ref_values]).test([str(v) for v in cur_values])
    else:
        result = detector.fit(ref_values).test(cur_values)
    entry: dict[str, Any] = {**result.as_dict(), "plot": histogram(ref_values, cur_values, title=title,
                                                                   bounds=(0.0, 1.0) if profile["task"] == "classification" else None)}
    if profile["task"] == "classification":
        entry["class_share"] = {"reference": reference.get("class_share", {}), "current": _share(rows.outputs)}
    return entry


# ---- data quality -------------------------------------------------------------------------
def data_quality(profile: dict[str, Any], rows: Rows) -> dict[str, Any]:
    """Nulls, type errors, unseen categories and out-of-range numbers per input column."""
    issues: list[dict[str, Any]] = []
    columns = []
    n = max(len(rows), 1)
    for name, reference in profile["columns"].items():
        if name not in rows.inputs:
            continue
        values = rows.inputs[name]
        kind = reference["type"]
        nulls = sum(v is None or (isinstance(v, str) and kind != "text" and not v.strip()) for v in values)
        ref_null = reference["nulls"] / max(reference["rows"], 1)
        columns.append({"column": name, "null_share": {"reference": ref_null, "current": nulls / n}})
        if nulls / n > ref_null + QUALITY_SHARE:
            issues.append(_issue(name, "nulls", nulls, n, f"{nulls} empty values ({nulls / n:.1%}; "
                                                          f"{ref_null:.1%} in the reference)"))
        present = [v for v in values if v is not None]
        if kind == "numeric":
            bad = sum(not _is_number(v) for v in present)
            if bad:
                issues.append(_issue(name, "type_errors", bad, n, f"{bad} values are not numbers"))
            low, high = reference.get("min"), reference.get("max")
            if low is not None and high is not None:
                outside = sum(_is_number(v) and not low <= float(v) <= high for v in present)
                if outside / n > QUALITY_SHARE:
                    issues.append(_issue(name, "out_of_range", outside, n,
                                         f"{outside} values ({outside / n:.1%}) outside the reference range "
                                         f"[{low:g}, {high:g}]"))
        elif kind == "categorical":
            known = set(reference["counts"]) - {OTHER}
            unseen = [v for v in present if str(v) not in known]
            if OTHER not in reference["counts"] and len(unseen) / n > QUALITY_SHARE:
                examples = ", ".join(repr(v) for v, _ in Counter(map(str, unseen)).most_common(3))
                issues.append(_issue(name, "unseen_categories", len(unseen), n,
                                     f"{len(unseen)} values ({len(unseen) / n:.1%}) never seen in training, e.g. {examples}"))
        else:
            bad = sum(not isinstance(v, str) for v in present)
            if bad:
                issues.append(_issue(name, "type_errors", bad, n, f"{bad} values are not text"))
    return {"rows": len(rows), "issues": issues, "columns": columns}


def _issue(column: str, kind: str, count: int, n: int, message: str) -> dict[str, Any]:
    return {"column": column, "kind": kind, "count": count, "share": count / n, "message": f"{column}: {message}"}


# ---- performance --------------------------------------------------------------------------
def classifier_performance(profile: dict[str, Any], rows: Rows, settings: MonitoringSettings) -> dict[str, Any]:
    golden = {k: v for k, v in profile["golden"]["metrics"].items() if k in performance.CLASSIFIER_METRICS}
    positive = profile["predictions"].get("positive")
    section: dict[str, Any] = {"metrics": performance.CLASSIFIER_METRICS, "golden": golden,
                               "realized": None, "estimated": None, "calibration": None}
    if rows.proba is None or not len(rows):
        return section
    labelled = rows.labelled()
    classes = rows.classes
    if labelled.sum() >= settings.min_labelled:
        labels = np.array([rows.actual[i] for i in np.flatnonzero(labelled)], dtype=object)
        proba = rows.proba[labelled]
        realized = performance.realized_classifier(labels, proba, classes, positive)
        drop = {k: golden[k] - v for k, v in realized.items() if k in golden}
        section["realized"] = {"labelled": int(labelled.sum()), "metrics": realized, "drop": drop,
                               "degraded": any(drop[k] > settings.max_drop.get(k, np.inf) for k in drop)}
        check = performance.calibration(proba, labels, classes)
        check.update({"tolerance": settings.calibration_tolerance,
                      "holds": check["ece"] <= settings.calibration_tolerance})
        section["calibration"] = check
    estimate = performance.estimate_classifier(rows.proba, classes, positive)
    degraded = any(golden[k] - v["value"] > settings.max_drop.get(k, np.inf) for k, v in estimate.items() if k in golden)
    section["estimated"] = {"rows": len(rows), "metrics": estimate, "degraded": degraded}
    return section


def forecast_performance(profile: dict[str, Any], rows: Rows, settings: MonitoringSettings) -> dict[str, Any]:
    golden = {k: v for k, v in profile["golden"]["metrics"].items() if k in performance.FORECAST_METRICS}
    section: dict[str, Any] = {"metrics": performance.FORECAST_METRICS, "golden": golden, "realized": None,
                               "estimated": None, "calibration": None}
    pairs = [(a, p) for a, p in zip(rows.actual, rows.outputs, strict=True) if a is not None and _is_number(p)]
    if len(pairs) >= settings.min_labelled:
        actual, predicted = np.array(pairs, dtype=float).T
        realized = performance.realized_forecast(actual, predicted)
        # Error metrics: a relative rise, so one setting fits series of any scale.
        drop = {k: (realized[k] - golden[k]) / golden[k] for k in realized if golden.get(k)}
        section["realized"] = {"labelled": len(pairs), "metrics": realized, "drop": drop,
                               "degraded": any(drop[k] > settings.max_drop.get(k, np.inf) for k in drop)}
    return section


# ---- plots --------------------------------------------------------------------------------
def histogram(reference: np.ndarray, current: np.ndarray, title: str = "",
              bounds: tuple[float, float] | None = None) -> dict[str, Any]:
    both = np.concatenate([reference, current]) if len(current) else reference
    if bounds is None:
        finite = both[np.isfinite(both)]
        bounds = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if bounds[0] == bounds[1]:
        bounds = (bounds[0] - 0.5, bounds[1] + 0.5)
    edges = np.linspace(bounds[0], bounds[1], HISTOGRAM_BINS + 1)
    return {"kind": "histogram", "title": title, "edges": [float(e) for e in edges],
            "reference": _fractions(np.histogram(reference, edges)[0]),
            "current": _fractions(np.histogram(current, edges)[0])}


def bars(reference: CategoryCounts, current: CategoryCounts) -> dict[str, Any]:
    order = sorted(set(reference.counts) | set(current.counts),
                   key=lambda k: -(reference.counts.get(k, 0) / max(reference.total, 1)
                                   + current.counts.get(k, 0) / max(current.total, 1)))
    shown = order[:TOP_CATEGORIES]
    ref = [reference.counts.get(k, 0) / max(reference.total, 1) for k in shown]
    cur = [current.counts.get(k, 0) / max(current.total, 1) for k in shown]
    if len(order) > TOP_CATEGORIES:
        shown = [*shown, "(rest)"]
        ref.append(max(0.0, 1 - sum(ref)))
        cur.append(max(0.0, 1 - sum(cur)))
    return {"kind": "bars", "categories": [str(k) for k in shown], "reference": ref, "current": cur}


def _fractions(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]


def _share(values: list[Any]) -> dict[str, float]:
    counts = Counter(str(v) for v in values)
    total = max(len(values), 1)
    return {k: counts[k] / total for k in sorted(counts)}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
