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

from champion.config import DriftTestSettings, ResolvedMonitoring
from champion.monitoring import performance, text
from champion.monitoring.drift import (
    CategoryCounts,
    DriftResult,
    DriftTest,
    check_columns,
    detector_for,
    distinct_count,
)
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
        if len(picked) == len(window.times):  # all of them (the usual case): copies, not lookups
            return cls({k: list(v) for k, v in window.inputs.items()}, list(window.outputs),
                       None if window.proba is None else np.asarray(window.proba),
                       list(window.actual), list(window.classes))
        return cls({k: [v[i] for i in picked] for k, v in window.inputs.items()},
                   [window.outputs[i] for i in picked],
                   None if window.proba is None else np.asarray(window.proba)[picked],
                   [window.actual[i] for i in picked], list(window.classes))

    def __len__(self) -> int:
        return len(self.outputs)

    def labelled(self) -> np.ndarray:
        return np.array([a is not None for a in self.actual], dtype=bool)


# ---- data drift ---------------------------------------------------------------------------
def data_drift(profile: dict[str, Any], rows: Rows, settings: ResolvedMonitoring,
               detail: bool = True) -> dict[str, Any] | None:
    """Every profiled input column tested; `detected` when the drifted share reaches
    `drift_share` (Evidently's dataset drift). `detail=False`: the verdicts only, without
    plots and text statistics (the history's segments need no more)."""
    tested: list[tuple[str, dict[str, Any], list[Any], DriftTest, Any, bool]] = []
    for name, reference in profile["columns"].items():
        low = False
        if name in rows.inputs:
            values = rows.inputs[name]
        elif profile["task"] == "forecasting":  # a forecaster's data is the series itself
            values = [a for a in rows.actual if a is not None]
            evidence = _evidence(len(values), settings.min_labelled)
            if not evidence:
                continue
            low = evidence == "low"
        else:
            continue
        test = settings.columns.get(name, DriftTestSettings())
        if test.method == "none":
            continue
        current = _current_values(reference["type"], values)
        detector, fitted = _detector(reference["type"], test, reference)
        tested.append((name, reference, current, detector, fitted, low))
    # Every column at once (threads: numpy and scikit-learn release the GIL), the same call
    # benchmarks/monitoring/drift_vs_evidently.py measures.
    results = check_columns([(detector, fitted, current) for _, _, current, detector, fitted, _ in tested])
    columns = []
    for (name, reference, current, detector, _, low), result in zip(tested, results, strict=True):
        entry = _column_entry(name, reference, current, detector, result) if detail else \
            {"column": name, "type": reference["type"], **result.as_dict()}
        columns.append(entry | {"evidence": "low", "rows": len(current)} if low else entry)
    if not columns:
        return None
    # A column tested on too few values is shown (a warning if it drifted) but has no vote.
    voting = [c for c in columns if c.get("evidence") != "low"]
    drifted = sum(c["drifted"] for c in voting)
    share = drifted / len(voting) if voting else 0.0
    return {"share": share, "threshold": settings.drift_share,
            "detected": bool(voting) and share >= settings.drift_share, "drifted": drifted, "columns": columns,
            "evidence": _evidence(len(rows), settings.min_rows) or "low"}


def _current_values(kind: str, values: list[Any]) -> list[Any]:
    current = [v for v in values if v is not None]
    return [float(v) for v in current if _is_number(v)] if kind == "numeric" else current


def _column_entry(name: str, reference: dict[str, Any], current: list[Any], detector: DriftTest,
                  result: DriftResult) -> dict[str, Any]:
    kind = reference["type"]
    entry: dict[str, Any] = {"column": name, "type": kind, **result.as_dict()}
    if kind == "numeric":
        entry["plot"] = histogram(reference_values(reference), np.asarray(current, dtype=float))
    elif kind == "categorical":
        entry["plot"] = bars(CategoryCounts.of(reference), CategoryCounts.of([str(v) for v in current]))
    else:
        entry["plot"] = histogram(np.asarray([len(t) for t in reference["sample"]], dtype=float),
                                  text.lengths(current), title="length (characters)")
        # Means over texts: a uniform sample is as good as all of them, and tokenizing a
        # million texts took seconds.
        sample = text.sample(current, TEXT_STATS_SAMPLE)
        stats_now = text.text_stats(sample)
        stats_now["oov_rate"] = text.oov_rate(sample, set(reference["vocabulary"]))
        stats_ref = {**reference["stats"], "oov_rate": reference["oov_rate"]}
        entry["stats"] = {k: {"reference": stats_ref.get(k), "current": v} for k, v in stats_now.items()}
        entry["top_terms"] = getattr(detector, "top_terms_", None)
    return entry


TEXT_STATS_SAMPLE = 20_000
"""Texts the window's text statistics (length, tokens, out-of-vocabulary rate) are read on."""


def _detector(kind: str, test: DriftTestSettings, reference: dict[str, Any]) -> tuple[DriftTest, Any]:
    """The column's detector (not fitted yet) and the reference values it is fitted on."""
    distinct = reference.get("distinct") if kind == "numeric" else None
    detector = detector_for(kind, test.method, test.threshold, reference_rows=reference.get("rows"),  # type: ignore[arg-type]
                            distinct_values=distinct)
    fitted = reference_values(reference)
    if detector.method in ("chi2", "jensenshannon") and kind == "numeric":
        fitted = [str(v) for v in fitted]  # few distinct numbers: tested as categories
    return detector, fitted


# ---- predictions --------------------------------------------------------------------------
CLASS_METHODS = ("chi2", "jensenshannon")


def prediction_drift(profile: dict[str, Any], rows: Rows, settings: ResolvedMonitoring) -> dict[str, Any] | None:
    """The predictions against the golden set's: the positive class's probability (two
    classes), the predicted class shares (three or more, with the top-class probability
    beside them), the predicted values (regressors, forecasters)."""
    test = settings.prediction
    if test.method == "none" or not len(rows):
        return None
    reference = profile.get("predictions") or {}
    if profile["task"] == "classification":
        if rows.proba is None:
            return None
        if len(rows.classes) > 2:
            return _class_drift(reference, rows, test)
        return _score_drift(reference, rows, test)
    title = "forecast value" if profile["task"] == "forecasting" else "predicted value"
    ref_values = np.asarray(reference.get("values", []), dtype=float)
    cur_values = np.asarray([v for v in rows.outputs if _is_number(v)], dtype=float)
    if not len(ref_values) or not len(cur_values):
        return None
    entry = _numeric_test(ref_values, cur_values, test, int(reference.get("rows", 0)))
    return {**entry, "subject": title, "plot": histogram(ref_values, cur_values, title=title)}


def _score_drift(reference: dict[str, Any], rows: Rows, test: DriftTestSettings) -> dict[str, Any] | None:
    """Two classes: the positive class's probability, and the class shares for the eye."""
    assert rows.proba is not None
    if "scores" not in reference:
        return None
    positive = reference.get("positive")
    column = _column(rows.classes, positive)
    ref_values, cur_values = np.asarray(reference["scores"], dtype=float), rows.proba[:, column]
    if not len(ref_values):
        return None
    title = f"probability of class {positive}"
    entry = _numeric_test(ref_values, cur_values, test, int(reference.get("rows", 0)))
    return {**entry, "subject": title, "plot": histogram(ref_values, cur_values, title=title, bounds=(0.0, 1.0)),
            "class_share": {"reference": reference.get("class_share", {}), "current": _share(rows.outputs)}}


def _class_drift(reference: dict[str, Any], rows: Rows, test: DriftTestSettings) -> dict[str, Any] | None:
    """Three or more classes: the predicted class shares decide (chi-square or Jensen-Shannon
    as for a categorical column, as Evidently tests a predicted label); the top-class
    probability is tested beside them (a numeric `prediction.method` applies to it)."""
    assert rows.proba is not None
    counts = _class_counts(reference)
    if counts is None:
        return None
    current = CategoryCounts.of(list(map(str, rows.outputs)))
    method = test.method if test.method in CLASS_METHODS else "auto"
    threshold = test.threshold if method != "auto" else None
    detector = detector_for("categorical", method, threshold, reference_rows=int(reference.get("rows", 0)))
    result = detector.fit(counts).test(current)
    entry: dict[str, Any] = {**result.as_dict(), "subject": "predicted class",
                             "plot": {**bars(counts, current), "title": "predicted class share"},
                             "class_share": {"reference": reference.get("class_share") or _shares_of(counts),
                                             "current": _share(rows.outputs)}}
    confidence = np.asarray(reference.get("confidence") or [], dtype=float)
    if len(confidence):
        numeric = test if test.method not in CLASS_METHODS else DriftTestSettings()
        current_confidence = rows.proba.max(axis=1)
        entry["confidence"] = {
            **_numeric_test(confidence, current_confidence, numeric, int(reference.get("rows", 0))),
            "subject": "top-class probability",
            "plot": histogram(confidence, current_confidence, title="top-class probability", bounds=(0.0, 1.0))}
    return entry


def _numeric_test(reference: np.ndarray, current: np.ndarray, test: DriftTestSettings,
                  reference_rows: int) -> dict[str, Any]:
    distinct = distinct_count(reference.tolist())
    detector = detector_for("numeric", test.method, test.threshold, reference_rows=reference_rows,
                            distinct_values=distinct)
    if detector.method in CLASS_METHODS:
        result = detector.fit([str(v) for v in reference]).test([str(v) for v in current])
    else:
        result = detector.fit(reference).test(current)
    return result.as_dict()


def _class_counts(reference: dict[str, Any]) -> CategoryCounts | None:
    """The golden set's predicted class counts (from the shares in profiles that lack them)."""
    counts = reference.get("class_counts")
    if counts:
        return CategoryCounts({str(k): int(v) for k, v in counts.items()}, sum(int(v) for v in counts.values()))
    share, total = reference.get("class_share"), int(reference.get("rows", 0))
    if not share or not total:
        return None
    derived = {str(k): round(float(v) * total) for k, v in share.items()}
    return CategoryCounts(derived, sum(derived.values()))


def _shares_of(counts: CategoryCounts) -> dict[str, float]:
    return {str(k): v / max(counts.total, 1) for k, v in sorted(counts.counts.items(), key=lambda kv: str(kv[0]))}


def _column(classes: list[Any], label: Any) -> int:
    """The column of `label` among `classes` (compared as the same type or as text; the last
    column when it is not there)."""
    aligned = performance.align_labels([label], classes)[0]
    for i, c in enumerate(classes):
        if type(c) is type(aligned) and c == aligned:
            return i
    return len(classes) - 1


# ---- data quality -------------------------------------------------------------------------
def data_quality(profile: dict[str, Any], rows: Rows, settings: ResolvedMonitoring) -> dict[str, Any]:
    """Nulls, type errors, unseen categories and out-of-range numbers per input column."""
    issues: list[dict[str, Any]] = []
    columns = []
    n = max(len(rows), 1)
    for name, reference in profile["columns"].items():
        if name not in rows.inputs:
            continue
        values = rows.inputs[name]
        kind = reference["type"]
        if kind == "text":  # only a missing text is empty (counted in C: a million texts)
            nulls = values.count(None)
        else:
            nulls = sum(v is None or (isinstance(v, str) and not v.strip()) for v in values)
        ref_null = reference["nulls"] / max(reference["rows"], 1)
        columns.append({"column": name, "null_share": {"reference": ref_null, "current": nulls / n}})
        if nulls / n > ref_null + QUALITY_SHARE:
            issues.append(_issue(name, "nulls", nulls, n, f"{nulls} empty values ({nulls / n:.1%}; "
                                                          f"{ref_null:.1%} in the reference)"))
        present = [v for v in values if v is not None] if kind != "text" else []
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
            kinds = set(map(type, values)) - {type(None)}  # in C; a slow look only when not all text
            bad = 0 if kinds <= {str} else sum(v is not None and not isinstance(v, str) for v in values)
            if bad:
                issues.append(_issue(name, "type_errors", bad, n, f"{bad} values are not text"))
    return {"rows": len(rows), "issues": issues, "columns": columns,
            "evidence": "enough" if len(rows) >= settings.min_rows else "low"}


def _issue(column: str, kind: str, count: int, n: int, message: str) -> dict[str, Any]:
    return {"column": column, "kind": kind, "count": count, "share": count / n, "message": f"{column}: {message}"}


# ---- performance --------------------------------------------------------------------------
MIN_EVIDENCE_ROWS = 10
"""Fewest rows (labelled rows for realized performance) on which anything is judged at all;
between this and `min_rows` (`min_labelled`) a finding is a low-evidence warning."""


def classifier_performance(profile: dict[str, Any], rows: Rows, settings: ResolvedMonitoring) -> dict[str, Any]:
    """Realized accuracy and F1 on labelled rows, calibration there, and the estimate from the
    probabilities of every row (compared with the same estimate on the golden set)."""
    golden = {k: v for k, v in profile["golden"]["metrics"].items() if k in performance.CLASSIFIER_METRICS}
    reference = profile["predictions"]
    positive = reference.get("positive")
    classes = rows.classes or reference.get("classes") or []
    section: dict[str, Any] = {"metrics": performance.CLASSIFIER_METRICS, "golden": golden,
                               "names": {"accuracy": "accuracy", "f1": performance.f1_name(classes, positive)},
                               "realized": None, "estimated": None, "calibration": None}
    if rows.proba is None or not len(rows):
        return section
    labelled = rows.labelled()
    evidence = _evidence(int(labelled.sum()), settings.min_labelled)
    if evidence:
        labels = np.array([rows.actual[i] for i in np.flatnonzero(labelled)], dtype=object)
        proba = rows.proba[labelled]
        realized = performance.realized_classifier(labels, proba, classes, positive)
        drop = {k: golden[k] - v for k, v in realized.items() if k in golden}
        section["realized"] = {"labelled": int(labelled.sum()), "metrics": realized, "drop": drop,
                               "degraded": _exceeds(drop, settings), "evidence": evidence}
        unknown = performance.unknown_labels(labels, classes)
        if unknown:
            known = set(map(str, unknown))
            section["realized"]["unknown_labels"] = {
                "rows": sum(str(v) in known for v in performance.align_labels(list(labels), classes)),
                "examples": [str(v) for v in unknown[:5]]}
        check = performance.calibration(proba, labels, classes)
        check.update({"tolerance": settings.calibration_tolerance,
                      "holds": check["ece"] <= settings.calibration_tolerance, "evidence": evidence})
        section["calibration"] = check
    evidence = _evidence(len(rows), settings.min_rows)
    if not evidence:
        return section
    estimate = performance.estimate_classifier(rows.proba, classes, positive)
    # The golden set's own estimate is the baseline: an offset of the probabilities there
    # (say slightly underconfident) then cancels out instead of reading as a drop.
    baseline = {k: v for k, v in (reference.get("expected") or golden).items() if k in estimate}
    drop = {k: baseline[k] - v["value"] for k, v in estimate.items() if k in baseline}
    section["estimated"] = {"rows": len(rows), "metrics": estimate, "baseline": baseline, "drop": drop,
                            "degraded": _exceeds(drop, settings), "evidence": evidence}
    return section


def error_performance(profile: dict[str, Any], rows: Rows, settings: ResolvedMonitoring) -> dict[str, Any]:
    """Regressors and forecasters: realized RMSE and MAE on rows whose actual values came
    back, as a relative rise over the golden set's (so one setting fits any scale); no
    estimate without them (`estimated_reason` says why)."""
    task = profile["task"]
    golden = {k: v for k, v in profile["golden"]["metrics"].items() if k in performance.ERROR_METRICS}
    section: dict[str, Any] = {"metrics": performance.ERROR_METRICS, "golden": golden,
                               "names": {"rmse": "RMSE", "mae": "MAE"}, "realized": None, "estimated": None,
                               "estimated_reason": performance.NO_ESTIMATE.get(task), "calibration": None}
    pairs = [(a, p) for a, p in zip(rows.actual, rows.outputs, strict=True) if _is_number(a) and _is_number(p)]
    evidence = _evidence(len(pairs), settings.min_labelled)
    if evidence:
        actual, predicted = np.array(pairs, dtype=float).T
        realized = performance.realized_errors(actual, predicted)
        drop = {k: (realized[k] - golden[k]) / golden[k] for k in realized if golden.get(k)}
        section["realized"] = {"labelled": len(pairs), "metrics": realized, "drop": drop,
                               "degraded": _exceeds(drop, settings), "evidence": evidence}
        residuals = np.asarray((profile.get("predictions") or {}).get("residuals") or [], dtype=float)
        if task == "regression" and len(residuals):
            current = actual - predicted
            section["realized"]["residuals"] = {
                "mean": {"reference": float(residuals.mean()), "current": float(current.mean())},
                "plot": histogram(residuals, current, title="residual (actual - predicted)")}
    return section


def _evidence(rows: int, enough: int) -> str | None:
    """`enough`, `low` (a warning at most), or None (too few rows to judge anything)."""
    if rows >= enough:
        return "enough"
    return "low" if rows >= MIN_EVIDENCE_ROWS else None


def _exceeds(drop: dict[str, float], settings: ResolvedMonitoring) -> bool:
    return any(drop[k] > settings.max_drop.get(k, np.inf) for k in drop)


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
    counts = Counter(map(str, values))
    total = max(len(values), 1)
    return {k: counts[k] / total for k in sorted(counts)}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
