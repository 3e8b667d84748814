"""The monitoring report: checks of the current window, metrics over time, alerts and warnings.

The current window holds the rows served by the newest version in it (a swap starts a fresh
verdict); the history covers a longer span, cut into segments at version changes, so the
report shows performance and drift before and after each swap.

The document (JSON-ready): `model`, `environment`, `generated_at`, `status` (`ok`, or
`insufficient_data` with a `message`), `task`, `window`, `reference`, `drift_detected`,
`data_drift`, `prediction_drift`, `data_quality`, `performance` (`metrics`, `names`, `golden`,
`realized`, `estimated` or `estimated_reason`, `calibration`, `history`), `alerts` (`kind`,
`message`, `retrain`) and `warnings` (`kind`, `message`, `evidence`: "low", `rows`). Every
check section says its `evidence`: "enough", or "low" when it rests on fewer rows than
`min_rows` (labelled rows than `min_labelled`); what a low-evidence check finds is a warning,
never an alert, so it starts no retraining.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from champion.config import ResolvedMonitoring
from champion.monitoring import checks
from champion.monitoring.checks import MIN_EVIDENCE_ROWS, Rows, Window

MAX_SEGMENTS = 24
MIN_SEGMENT_ROWS = 10
"""A history segment needs this many rows for its performance to be shown."""
TRANSITION_SECONDS = 30.0
ProfileLookup = Callable[[int], dict[str, Any] | None]


@dataclass(frozen=True)
class Finding:
    """Something a check found past its threshold: an alert, or a warning on low evidence."""

    kind: str
    message: str
    rows: int
    low: bool


def build_report(model: str, environment: str, window: Window, history: Window, profile_of: ProfileLookup,
                 settings: ResolvedMonitoring, window_spec: str) -> dict[str, Any]:
    """The report document (JSON-ready); `alerts` lists what crossed a threshold on enough
    evidence, `warnings` what crossed one on too little."""
    document: dict[str, Any] = {
        "model": model, "environment": environment, "generated_at": _iso(datetime.now(UTC).timestamp()),
        "status": "ok", "task": None, "window": _describe(window, window_spec), "reference": None,
        "drift_detected": False, "data_drift": None, "prediction_drift": None, "data_quality": None,
        "performance": None, "alerts": [], "warnings": []}
    if not len(window.times):
        return {**document, "status": "insufficient_data",
                "message": f"no predictions of {model} were logged in {environment} in this window"}
    version = int(window.versions[-1])
    profile = profile_of(version)
    if profile is None:
        return {**document, "status": "insufficient_data",
                "message": f"version {version} has no reference profile (it was trained before monitoring "
                           "existed); retrain it to monitor it"}
    document["task"] = profile["task"]
    mask = np.asarray(window.versions) == version
    rows = Rows.of(window, mask)
    document["window"]["rows_of_version"] = int(mask.sum())
    document["reference"] = {"version": version, "rows": _reference_rows(profile)}
    document["performance"] = _performance(profile, rows, settings)
    document["performance"]["history"] = segments(history, profile_of, settings, len(rows))
    enough = len(rows) >= settings.min_rows
    if not enough:  # the whole window is thin: whatever the checks find is a warning
        for key in ("realized", "estimated", "calibration"):
            if document["performance"].get(key):
                document["performance"][key]["evidence"] = "low"
        document["status"] = "insufficient_data"
        document["message"] = (f"{len(rows)} rows of version {version} in the window; alerts need at least "
                               f"{settings.min_rows} (monitoring.min_rows), so what the checks find is shown "
                               "as low-evidence warnings")
    if len(rows) >= MIN_EVIDENCE_ROWS:
        document["data_drift"] = checks.data_drift(profile, rows, settings)
        prediction = checks.prediction_drift(profile, rows, settings)
        if prediction is not None:
            prediction["evidence"] = "enough" if enough else "low"
        document["prediction_drift"] = prediction
    document["data_quality"] = checks.data_quality(profile, rows, settings)
    if enough:
        document["drift_detected"] = bool((document["data_drift"] or {}).get("detected")
                                          or (document["prediction_drift"] or {}).get("drifted"))
    found = findings(document, settings)
    document["alerts"] = _alerts(found, settings)
    document["warnings"] = [{"kind": f.kind, "message": f.message, "evidence": "low", "rows": f.rows}
                            for f in found if f.low]
    return document


def alerts(document: dict[str, Any], settings: ResolvedMonitoring) -> list[dict[str, Any]]:
    """One alert per kind that crossed its threshold on enough evidence; `retrain` says
    whether it starts one."""
    return _alerts(findings(document, settings), settings)


def _alerts(found: list[Finding], settings: ResolvedMonitoring) -> list[dict[str, Any]]:
    retrain = set(settings.alerts.retrain_on)
    return [{"kind": f.kind, "message": f.message, "retrain": f.kind in retrain} for f in found if not f.low]


def findings(document: dict[str, Any], settings: ResolvedMonitoring) -> list[Finding]:
    """What crossed a threshold, each marked `low` when its check had too little evidence."""
    found: list[Finding] = []
    window_rows = int((document.get("window") or {}).get("rows_of_version") or 0)
    drift = document.get("data_drift")
    if drift:
        low = _low(drift)
        voting = [c for c in drift["columns"] if c.get("evidence") != "low"]
        if drift["detected"]:
            named = "; ".join(f"{c['column']}: {_method(c)} {_number(c)}" for c in voting if c["drifted"])
            found.append(Finding("data_drift", f"{drift['drifted']} of {len(voting)} input columns drifted "
                                 f"({named})", window_rows, low))
        for column in drift["columns"]:
            if column.get("evidence") == "low" and column["drifted"]:
                found.append(Finding("data_drift", f"{column['column']}: {_method(column)} {_number(column)}, on "
                                     f"{column['rows']} values", int(column["rows"]), True))
    prediction = document.get("prediction_drift")
    if prediction and prediction["drifted"]:
        subject = prediction.get("subject") or "predictions"
        found.append(Finding("prediction_drift", f"the {subject} drifted: {_method(prediction)} {_number(prediction)}",
                             window_rows, _low(prediction)))
    quality = document.get("data_quality")
    if quality and quality["issues"]:
        found.append(Finding("data_quality", "; ".join(i["message"] for i in quality["issues"]),
                             int(quality["rows"]), _low(quality)))
    perf = document.get("performance") or {}
    realized, golden = perf.get("realized"), perf.get("golden") or {}
    if realized and realized["degraded"]:
        worst = [f"{k} {v:.3f} vs {golden[k]:.3f} on the golden set" for k, v in realized["metrics"].items()
                 if k in realized["drop"] and realized["drop"][k] > settings.max_drop.get(k, np.inf)]
        found.append(Finding("performance", f"on {realized['labelled']} labelled rows: " + ", ".join(worst)
                             + f" (allowed drop: {_allowed(settings, realized['drop'])})",
                             int(realized["labelled"]), _low(realized)))
    unknown = (realized or {}).get("unknown_labels")
    if unknown:
        examples = ", ".join(repr(v) for v in unknown["examples"])
        found.append(Finding("data_quality", f"{unknown['rows']} labelled rows carry labels the model does not "
                             f"know (e.g. {examples}); they count as misses", int(unknown["rows"]), _low(realized)))
    estimated, calibration = perf.get("estimated"), perf.get("calibration") or {}
    off = bool(calibration) and not calibration["holds"]
    if off:
        found.append(Finding("calibration", f"the probabilities are off by {calibration['ece']:.3f} on "
                             f"{calibration['labelled']} labelled rows (tolerance {calibration['tolerance']}), so "
                             "the estimated performance cannot be trusted", int(calibration["labelled"]),
                             _low(calibration)))
    # A calibration failure on enough labels discredits the estimate; on too few it does not.
    if estimated and estimated["degraded"] and (not off or _low(calibration)):
        baseline = estimated.get("baseline") or golden
        worst = [f"{k} about {v['value']:.3f} ({v['low']:.3f}-{v['high']:.3f}) vs {baseline[k]:.3f} on the golden set"
                 for k, v in estimated["metrics"].items() if k in baseline
                 and baseline[k] - v["value"] > settings.max_drop.get(k, np.inf)]
        found.append(Finding("estimated_performance", f"estimated from the probabilities of {estimated['rows']} rows "
                             "(no labels needed): " + ", ".join(worst), int(estimated["rows"]), _low(estimated)))
    return found


def segments(history: Window, profile_of: ProfileLookup, settings: ResolvedMonitoring,
             window_rows: int) -> list[dict[str, Any]]:
    """Metrics over time: the history cut at version changes into chunks of about a quarter
    of the current window (at least `min_rows`)."""
    size = max(settings.min_rows, window_rows // 4, 1)
    out = []
    for version, picked in _chunks(version_epochs(history), size)[-MAX_SEGMENTS:]:
        mask = np.zeros(len(history.times), dtype=bool)
        mask[picked] = True
        rows = Rows.of(history, mask)
        times = np.asarray(history.times)[picked]
        profile = profile_of(version)
        entry: dict[str, Any] = {"start": _iso(times.min()), "end": _iso(times.max()), "rows": len(picked),
                                 "versions": [version], "labelled": int(rows.labelled().sum()),
                                 "realized": None, "estimated": None, "drift_share": None}
        if profile is not None and len(picked) >= min(settings.min_rows, MIN_SEGMENT_ROWS):
            quiet = settings.model_copy(update={"min_labelled": min(settings.min_labelled, MIN_SEGMENT_ROWS)})
            perf = _performance(profile, rows, quiet)
            entry["realized"] = (perf.get("realized") or {}).get("metrics")
            entry["estimated"] = (perf.get("estimated") or {}).get("metrics")
            if len(picked) >= settings.min_rows:
                drift = checks.data_drift(profile, rows, settings, detail=False)
                entry["drift_share"] = drift["share"] if drift else None
        out.append(entry)
    return out


def version_epochs(history: Window) -> list[tuple[int, list[int]]]:
    """Row positions grouped into runs of one served version, in time order.

    While an endpoint with several workers switches versions, the old and the new version
    answer side by side for a moment; rows of the previous version that arrive within
    `TRANSITION_SECONDS` of the switch belong to its run, so a swap is one change, not a
    flicker. A version coming back later (a rollback) starts a run of its own."""
    versions = np.asarray(history.versions)
    times = np.asarray(history.times)
    epochs: list[tuple[int, list[int]]] = []
    started = 0.0
    # Runs of one version, row ranges [begin, end): a million rows are a handful of runs.
    changes = np.flatnonzero(np.diff(versions)) + 1
    for begin, end in zip([0, *changes.tolist()], [*changes.tolist(), len(versions)], strict=True):
        version = int(versions[begin])
        if epochs and epochs[-1][0] == version:
            epochs[-1][1].extend(range(begin, end))
            continue
        if len(epochs) >= 2 and epochs[-2][0] == version:  # back to the previous version
            within = times[begin:end] - started <= TRANSITION_SECONDS  # a prefix: times ascend
            late = end if within.all() else begin + int(np.argmin(within))
            epochs[-2][1].extend(range(begin, late))  # still the switch: its run
            if late == end:
                continue
            begin = late
        epochs.append((version, list(range(begin, end))))
        started = float(times[begin])
    return epochs


def _chunks(epochs: list[tuple[int, list[int]]], size: int) -> list[tuple[int, list[int]]]:
    return [(version, rows[start:start + size]) for version, rows in epochs for start in range(0, len(rows), size)]


def _performance(profile: dict[str, Any], rows: Rows, settings: ResolvedMonitoring) -> dict[str, Any]:
    if profile["task"] == "classification":
        return checks.classifier_performance(profile, rows, settings)
    return checks.error_performance(profile, rows, settings)


def _low(section: dict[str, Any] | None) -> bool:
    return bool(section) and section.get("evidence") == "low"  # type: ignore[union-attr]



def _describe(window: Window, spec: str) -> dict[str, Any]:
    times = np.asarray(window.times)
    return {"spec": spec, "rows": int(len(times)),
            "start": _iso(times[0]) if len(times) else None, "end": _iso(times[-1]) if len(times) else None,
            "versions": sorted({int(v) for v in np.asarray(window.versions)})}


def _reference_rows(profile: dict[str, Any]) -> int | None:
    rows = [c.get("rows") for c in profile["columns"].values()]
    return max((r for r in rows if r is not None), default=None)


def _method(entry: dict[str, Any]) -> str:
    return {"ks": "K-S", "chi2": "chi-square", "wasserstein": "normalized Wasserstein", "psi": "PSI",
            "jensenshannon": "Jensen-Shannon", "domain_classifier": "domain classifier ROC AUC"}.get(
        entry["method"], entry["method"])


def _number(entry: dict[str, Any]) -> str:
    if entry.get("p_value") is not None:
        return f"p = {entry['p_value']:.3g} < {entry['threshold']}"
    statistic = entry.get("statistic")
    return f"{statistic:.3f} >= {entry['threshold']}" if statistic is not None else "undefined"


def _allowed(settings: ResolvedMonitoring, drop: dict[str, float]) -> str:
    return ", ".join(f"{k} {settings.max_drop[k]}" for k in drop if k in settings.max_drop)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="seconds")


__all__ = ["Finding", "alerts", "build_report", "findings", "segments"]
