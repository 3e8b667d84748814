"""`smoke-test ENV`: is the endpoint healthy, and does it answer as the version should?

Checks health and metadata (version and artifact hash as registered), scores golden-set
rows through `/score` and compares every answer with the same version's predictions made
here, offline; then an accuracy floor and a p95 latency budget for one-row requests.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from champion.config import SmokeSettings
from champion.pipelines import endpoints, golden_set
from champion.pipelines.documents import SmokeDocument
from champion.serving.client import EndpointClient
from champion.serving.loaded import LoadedModel
from champion.serving.loading import load_version
from champion.workspace import Workspace
from champion.workspace.documents import write_json

SMOKE_FILE = "smoke-test.json"
_CHUNK = 100
_TOLERANCE = 1e-9


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class SmokeReport:
    environment: str
    model: str
    version: int | None
    url: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failures(self) -> str:
        return "; ".join(f"{c.name}: {c.detail}" for c in self.checks if not c.ok)

    def as_dict(self) -> dict[str, Any]:
        return SmokeDocument.checked({**asdict(self), "ok": self.ok})


def smoke_test(ws: Workspace, environment: str, model: str, out_dir: Path | None = None) -> SmokeReport:
    settings = ws.project.environment(environment).smoke
    where = endpoints.info(ws, environment)
    report = SmokeReport(environment, model, None, where.url)
    if where.pid is None:
        report.checks.append(Check("health", False, f"the {environment} endpoint is not running "
                                                    f"(start it with `champion up {environment}`)"))
        return _saved(ws, report, out_dir)
    with endpoints.client(ws, environment) as http:
        health = _settled_health(http, model)
        entry = (health.get("models") or {}).get(model) or {}
        version = entry.get("version")
        report.version = version
        report.checks.append(Check("health", entry.get("state") == "Healthy" and version is not None,
                                   f"{model} {entry.get('state', 'no answer')}, serving version {version}"))
        if version is None:
            return _saved(ws, report, out_dir)
        offline = load_version(ws, model, int(version))
        status, metadata = http.get("/metadata")
        served = ((metadata or {}).get("models") or {}).get(model) or {} if status == 200 else {}
        expected_hash = offline.sha256  # as registered: load_version checked the artifact against it
        report.checks.append(Check(
            "metadata", served.get("version") == version and served.get("sha256") == expected_hash,
            f"version {served.get('version')}, sha256 {str(served.get('sha256'))[:12]}... "
            f"(registered {str(expected_hash)[:12]}...)"))
        # The model's own readiness: the server's is "every model ready", and a project's other
        # models may have no version in this environment yet.
        ready_path = f"/v2/models/{model}/ready"
        ready_status, _ = http.get(ready_path)
        report.checks.append(Check("v2 ready", ready_status == 200, f"GET {ready_path} -> {ready_status}"))
        if offline.task == "forecasting":
            _check_forecast(ws, http, offline, settings, report)
        else:
            _check_rows(ws, http, offline, settings, report)
    return _saved(ws, report, out_dir)


def _settled_health(http: EndpointClient, model: str, patience: float = 10.0) -> dict[str, Any]:
    """The endpoint's health once `model` is not switching versions (a swap takes a moment)."""
    deadline = time.monotonic() + patience

    def state(health: dict[str, Any]) -> Any:
        return ((health.get("models") or {}).get(model) or {}).get("state")

    health = http.health() or {}
    while state(health) == "Transitioning" and time.monotonic() < deadline:
        time.sleep(0.2)
        health = http.health() or {}
    return health


def _check_rows(ws: Workspace, http: EndpointClient, offline: LoadedModel, settings: SmokeSettings,
               report: SmokeReport) -> None:
    """Golden rows through `/score` (as JSON, like any client) against the offline answers."""
    model = offline.name
    data = golden_set.split(ws.dataset(model), ws.settings(model), type(offline.recipe))
    if not isinstance(data, golden_set.ClassificationSplit | golden_set.RegressionSplit):
        raise TypeError(f"{model}: the golden set of a model that reads rows is a row split")
    rows = data.golden_X.head(settings.rows).reset_index(drop=True)
    truth = data.golden_y.head(settings.rows).to_numpy()
    names = [c.name for c in offline.columns]
    records = json.loads(rows[names].to_json(orient="records", date_format="iso", double_precision=15))
    items: list[Any] = [r[names[0]] for r in records] if len(names) == 1 else records
    columns = {n: [r[n] for r in records] for n in names}
    labels, proba = offline.predict_rows(columns)
    got_labels: list[Any] = []
    got_proba: list[list[float]] = []
    for start in range(0, len(items), _CHUNK):
        status, answer, _ = http.score(items[start:start + _CHUNK], model, synthetic=True)
        if status != 200:
            report.checks.append(Check("golden answers", False, f"POST /score -> {status}: {answer}"))
            return
        got_labels += answer["result"]
        got_proba += answer.get("probabilities") or []
    if offline.task == "regression":
        gap = float(np.max(np.abs(np.asarray(got_labels, dtype=float) - labels))) if len(labels) else 0.0
        scale = max(1.0, float(np.max(np.abs(labels)))) if len(labels) else 1.0
        report.checks.append(Check("golden answers", len(got_labels) == len(labels) and gap <= 1e-9 * scale,
                                   f"{len(items)} golden rows: largest gap to the offline prediction {gap:.1e}"))
        rmse = float(np.sqrt(np.mean((np.asarray(got_labels, dtype=float) - truth.astype(float)) ** 2)))
        report.checks.append(Check("error", True, f"RMSE {rmse:.4g} on {len(items)} golden rows"))
        _check_latency(http, items[:1], model, settings, report)
        return
    same_labels = [str(a) for a in got_labels] == [str(b) for b in labels.tolist()]
    gap = float(np.max(np.abs(np.asarray(got_proba) - proba))) if len(got_proba) else 0.0
    report.checks.append(Check("golden answers", same_labels and gap <= _TOLERANCE,
                               f"{len(items)} golden rows: labels {'equal' if same_labels else 'DIFFER'}, "
                               f"largest probability gap {gap:.1e}"))
    accuracy = float(np.mean(np.asarray([str(v) for v in got_labels]) == np.asarray([str(v) for v in truth])))
    floor = settings.min_accuracy
    report.checks.append(Check("accuracy", floor is None or accuracy >= floor,
                               f"{accuracy:.3f} on {len(items)} golden rows "
                               + (f"(floor {floor})" if floor is not None else "(no floor set: smoke.min_accuracy)")))
    _check_latency(http, items[:1], model, settings, report)


def _check_forecast(ws: Workspace, http: EndpointClient, offline: LoadedModel, settings: SmokeSettings,
                    report: SmokeReport) -> None:
    horizon = ws.settings(offline.name).golden.horizon
    _, expected = offline.forecast(horizon)
    status, answer, _ = http.score([horizon], offline.name, synthetic=True)
    if status != 200:
        report.checks.append(Check("forecast", False, f"POST /score -> {status}: {answer}"))
        return
    gap = float(np.max(np.abs(np.asarray(answer["result"]) - expected)))
    report.checks.append(Check("forecast", len(answer["result"]) == horizon and gap <= 1e-6 * max(1.0, float(np.max(np.abs(expected)))),
                               f"{horizon} steps, largest gap to the offline forecast {gap:.1e}"))
    _check_latency(http, [1], offline.name, settings, report)


def _check_latency(http: EndpointClient, item: list[Any], model: str, settings: SmokeSettings, report: SmokeReport) -> None:
    seconds = []
    for _ in range(settings.requests):
        status, answer, took = http.score(item, model, synthetic=True)
        if status != 200:
            report.checks.append(Check("latency", False, f"POST /score -> {status}: {answer}"))
            return
        seconds.append(took)
    p95 = float(np.percentile(np.asarray(seconds) * 1000, 95))
    report.checks.append(Check("latency", p95 <= settings.p95_ms,
                               f"p95 {p95:.1f} ms over {settings.requests} one-row requests "
                               f"(budget {settings.p95_ms:.0f} ms)"))


def _saved(ws: Workspace, report: SmokeReport, out_dir: Path | None) -> SmokeReport:
    folder = ws.project.state_dir / "smoke-tests"
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / f"{report.environment}-{SMOKE_FILE}", report.as_dict(), out_dir)
    return report

