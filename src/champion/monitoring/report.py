"""The monitoring report: checks of the current window, metrics over time, and alerts.

The current window holds the rows served by the newest version in it (a swap starts a fresh
verdict); the history covers a longer span, cut into segments at version changes, so the
report shows performance and drift before and after each swap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from champion.config import MonitoringSettings
from champion.monitoring import checks
from champion.monitoring.checks import Rows, Window

MAX_SEGMENTS = 24
MIN_SEGMENT_ROWS = 10
"""A history segment needs this many rows for its performance to be shown."""
TRANSITION_SECONDS = 30.0
ProfileLookup = Callable[[int], dict[str, Any] | None]


def build_report(model: str, environment: str, window: Window, history: Window, profile_of: ProfileLookup,
                 settings: MonitoringSettings, window_spec: str) -> dict[str, Any]:
    """The report document (JSON-ready); `alerts` lists what crossed a threshold."""
    document: dict[str, Any] = {
        "model": model, "environment": environment, "generated_at": _iso(datetime.now(UTC).timestamp()),
        "status": "ok", "task": None, "window": _describe(window, window_spec), "reference": None,
        "drift_detected": False, "data_drift": None, "prediction_drift": None, "data_quality": None,
        "performance": None, "alerts": []}
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
    if len(rows) < settings.min_rows:
        return {**document, "status": "insufficient_data",
                "message": f"{len(rows)} rows of version {version} in the window; drift needs at least "
                           f"{settings.min_rows} (monitoring.min_rows)"}
    document["data_drift"] = checks.data_drift(profile, rows, settings)
    document["prediction_drift"] = checks.prediction_drift(profile, rows, settings)
    document["data_quality"] = checks.data_quality(profile, rows)
    document["drift_detected"] = bool((document["data_drift"] or {}).get("detected")
                                      or (document["prediction_drift"] or {}).get("drifted"))
    document["alerts"] = alerts(document, settings)
    return document


def alerts(document: dict[str, Any], settings: MonitoringSettings) -> list[dict[str, Any]]:
    """One alert per kind that crossed its threshold; `retrain` says whether it starts one."""
    found: list[tuple[str, str]] = []
    drift = document.get("data_drift")
    if drift and drift["detected"]:
        named = "; ".join(f"{c['column']}: {_method(c)} {_number(c)}" for c in drift["columns"] if c["drifted"])
        found.append(("data_drift", f"{drift['drifted']} of {len(drift['columns'])} input columns drifted ({named})"))
    prediction = document.get("prediction_drift")
    if prediction and prediction["drifted"]:
        found.append(("prediction_drift", f"the predictions drifted: {_method(prediction)} {_number(prediction)}"))
    quality = document.get("data_quality")
    if quality and quality["issues"]:
        found.append(("data_quality", "; ".join(i["message"] for i in quality["issues"])))
    perf = document.get("performance") or {}
    realized, golden = perf.get("realized"), perf.get("golden") or {}
    if realized and realized["degraded"]:
        worst = [f"{k} {v:.3f} vs {golden[k]:.3f} on the golden set" for k, v in realized["metrics"].items()
                 if k in realized["drop"] and realized["drop"][k] > settings.max_drop.get(k, np.inf)]
        found.append(("performance", f"on {realized['labelled']} labelled rows: " + ", ".join(worst)
                      + f" (allowed drop: {_allowed(settings, realized['drop'])})"))
    estimated, calibration = perf.get("estimated"), perf.get("calibration")
    if calibration and not calibration["holds"]:
        found.append(("calibration", f"the probabilities are off by {calibration['ece']:.3f} on "
                      f"{calibration['labelled']} labelled rows (tolerance {calibration['tolerance']}), so the "
                      "estimated performance cannot be trusted"))
    elif estimated and estimated["degraded"]:
        worst = [f"{k} about {v['value']:.3f} ({v['low']:.3f}-{v['high']:.3f}) vs {golden[k]:.3f}"
                 for k, v in estimated["metrics"].items() if k in golden
                 and golden[k] - v["value"] > settings.max_drop.get(k, np.inf)]
        found.append(("estimated_performance", f"estimated from the probabilities of {estimated['rows']} "
                      "unlabelled rows: " + ", ".join(worst)))
    retrain = set(settings.alerts.retrain_on)
    return [{"kind": kind, "message": message, "retrain": kind in retrain} for kind, message in found]


def segments(history: Window, profile_of: ProfileLookup, settings: MonitoringSettings, window_rows: int) -> list[dict[str, Any]]:
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
                drift = checks.data_drift(profile, rows, settings)
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
    for i, version in enumerate(versions.tolist()):
        if epochs and epochs[-1][0] == version:
            epochs[-1][1].append(i)
        elif len(epochs) >= 2 and epochs[-2][0] == version and times[i] - started <= TRANSITION_SECONDS:
            epochs[-2][1].append(i)
        else:
            epochs.append((version, [i]))
            started = float(times[i])
    return epochs


def _chunks(epochs: list[tuple[int, list[int]]], size: int) -> list[tuple[int, list[int]]]:
    return [(version, rows[start:start + size]) for version, rows in epochs for start in range(0, len(rows), size)]


def _performance(profile: dict[str, Any], rows: Rows, settings: MonitoringSettings) -> dict[str, Any]:
    if profile["task"] == "classification":
        return checks.classifier_performance(profile, rows, settings)
    return checks.forecast_performance(profile, rows, settings)


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


def _allowed(settings: MonitoringSettings, drop: dict[str, float]) -> str:
    return ", ".join(f"{k} {settings.max_drop[k]}" for k in drop if k in settings.max_drop)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="seconds")


__all__ = ["alerts", "build_report", "segments"]
