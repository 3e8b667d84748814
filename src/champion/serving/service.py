"""The scoring service of one environment: what every HTTP route calls.

Holds the served version of each model and swaps versions with no downtime: a new version
is loaded and verified beside the old one (artifact hash, self-test on its input example),
then switched in with one assignment; requests already accepted keep the version they
captured. A version that fails is refused, the old one keeps serving, `/health` says why.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from champion import __version__
from champion.config import EnvironmentSettings
from champion.errors import ChampionError, NotFoundError, RegistryUnreachableError, UnavailableError
from champion.project import Project
from champion.serving import inputs, v2
from champion.serving.batching import Batcher
from champion.serving.health import HealthDocument
from champion.serving.loaded import InputColumn, LoadedModel, Rows, text_lengths
from champion.serving.loading import load_version, refreshed
from champion.serving.log_spool import SpoolWriter, spool_dir
from champion.serving.metrics import ServingMetrics
from champion.serving.prediction_log import identity_kinds
from champion.serving.workers import WorkerBoard, endpoint_dir, reload_stamp
from champion.state.predictions import new_request_id
from champion.workspace import Workspace
from champion.workspace.feedback import add_feedback, parse_feedback_body

log = logging.getLogger("champion.serving")

HEALTHY, TRANSITIONING, UNHEALTHY = "Healthy", "Transitioning", "Unhealthy"


RETRY_CAP_SECONDS = 600.0


@dataclass
class ModelRequest:
    """A scoring request once a codec (`/score` or v2) decoded it: rows for a classifier or a
    regressor (with the identity columns sent beside them), steps for a forecaster."""

    model: LoadedModel
    request_id: str | None
    rows: Rows | None = None
    ids: Rows | None = None
    steps: int | None = None
    log: bool = True


@dataclass
class ModelAnswer:
    """The model's answer, for a codec to encode: labels (classifier), values (regressor,
    forecaster), probabilities (classifier), dates (forecaster)."""

    request_id: str
    values: np.ndarray
    proba: np.ndarray | None
    times: list[str] | None


@dataclass
class Refusal:
    version: int
    reason: str
    at: float
    attempts: int = 1
    retry_at: float = 0.0


@dataclass
class ModelSlot:
    """What one model's alias points at and what is actually served."""

    current: LoadedModel | None = None
    target: int | None = None
    loading: int | None = None
    refused: Refusal | None = None
    error: str | None = None


class ScoringService:
    """Serves the `alias` of every model of a project."""

    def __init__(self, project: Project, environment: str, settings: EnvironmentSettings) -> None:
        self.project = project
        self.environment = environment
        self.settings = settings
        self.alias = settings.alias or environment
        self.workspace = Workspace(project)
        self.metrics = ServingMetrics(self._stored_drops)
        self.batcher = Batcher(settings.batch_rows, observe=self.metrics.batch_rows.observe)
        self.slots = {name: ModelSlot() for name in project.config.models}
        self.board = WorkerBoard(project, environment)
        self.started = time.time()
        self._refresh_lock = asyncio.Lock()
        self._seen_token: tuple[int, ...] | None = None
        self._data_tokens: dict[str, tuple[str, ...]] = {}  # a forecaster's data when last extended
        self._default = project.default_model()
        self._reload_seen = reload_stamp(project, environment)
        models = project.config.models
        self._id_columns = {name: [InputColumn(c, kind) for c, kind in identity_kinds(m)] for name, m in models.items()}
        # Workers spool; the endpoint's log loader process writes the store (serve() runs it).
        self.prediction_log = SpoolWriter(spool_dir(endpoint_dir(project, environment)), settings.log_queue_rows,
                                          self.metrics) if settings.log_predictions else None

    def _stored_drops(self) -> dict[str, int]:
        return {model: rows for (model, environment), rows in self.workspace.predictions.dropped().items()
                if environment == self.environment}

    # ---- model lookup -----------------------------------------------------------------------
    def model_name(self, name: str | None) -> str:
        if name is None:
            if self._default is None:
                raise NotFoundError(f"this project serves several models ({', '.join(self.slots)}): "
                                    "use /v2/models/NAME/infer")
            return self._default
        if name not in self.slots:
            raise NotFoundError(f"no model {name!r} here (models: {', '.join(self.slots)})")
        return name

    def metric_label(self, name: str | None) -> str:
        """A bounded label for metrics: a known model's name, else `-`."""
        if name is None:
            return self._default or "-"
        return name if name in self.slots else "-"

    def served(self, name: str | None) -> LoadedModel:
        """The version serving `name` right now (captured once per request)."""
        name = self.model_name(name)
        current = self.slots[name].current
        if current is None:
            raise UnavailableError(f"no version of {name} is served: {self._why_empty(name)}")
        return current

    # ---- scoring: one path, two codecs ---------------------------------------------------------
    async def score(self, name: str | None, payload: Any, request_id: str | None = None,
                    log: bool = True) -> dict[str, Any]:
        """The seeds' contract: `{"data": [...]}` -> `{"result": [...], ...}`. `log=False` keeps
        synthetic traffic (smoke tests, load tests) out of the prediction log."""
        started, at = time.perf_counter(), time.time()
        model = self.served(name)
        if model.task == "forecasting":
            request = ModelRequest(model, request_id, steps=inputs.score_steps(payload), log=log)
        else:
            rows, ids = inputs.score_rows_with_ids(model, payload, self.settings.max_batch_rows,
                                                   self._id_columns[model.name])
            request = ModelRequest(model, request_id, rows=rows, ids=ids, log=log)
        answer = await self.predict(request, started, at)
        document: dict[str, Any] = {"model": model.name, "version": model.version, "request_id": answer.request_id}
        if answer.times is not None:
            return {**document, "result": answer.values.tolist(), "time": answer.times}
        if answer.proba is None:
            return {**document, "result": answer.values.tolist()}
        return {**document, "result": answer.values.tolist(), "classes": model.classes,
                "probabilities": answer.proba.tolist()}

    async def infer(self, name: str, body: bytes, header_length: str | None,
                    request_id: str | None = None) -> tuple[bytes, int | None, str]:
        """`POST /v2/models/{name}/infer`: the response body, its JSON header length, and the
        request id it was logged under (the request's `id`, else `request_id`, else a new one)."""
        started, at = time.perf_counter(), time.time()
        model = self.served(name)
        decoded = v2.parse_request(body, header_length)
        request_id = decoded.id or request_id
        if model.task == "forecasting":
            request = ModelRequest(model, request_id, steps=v2.forecast_steps(decoded))
        else:
            request = ModelRequest(model, request_id, rows=v2.classifier_rows(model, decoded, self.settings.max_batch_rows))
        answer = await self.predict(request, started, at)
        if answer.times is not None:
            tensors = v2.forecast_outputs(answer.times, answer.values)
        elif answer.proba is None:
            tensors = v2.regression_outputs(answer.values)
        else:
            tensors = v2.classifier_outputs(model, answer.values, answer.proba)
        out, length = v2.response(model, decoded, tensors)
        return out, length, answer.request_id

    async def predict(self, request: ModelRequest, started: float, at: float) -> ModelAnswer:
        """What both protocols share once decoded: the limits, the model's work (batched, in
        pieces when large), the metrics, the prediction log."""
        model = request.model
        request_id = request.request_id or new_request_id()
        log = self.prediction_log if request.log else None
        if request.steps is not None:
            times, values = await self.batcher.run(model.forecast, request.steps)
            self.metrics.rows.labels(model.name).inc(request.steps)
            if log is not None:
                log.forecasted(model, request_id, at, started, times, values)
            return ModelAnswer(request_id, values, None, times)
        rows = request.rows or {}
        chars = text_lengths(rows)  # measured once: for the limits and for the batcher's pieces
        inputs.check_text_size(chars, self.settings.max_row_chars, self.settings.max_request_chars)
        labels, proba = await self.batcher.predict(model, rows, chars)
        self.metrics.rows.labels(model.name).inc(len(labels))
        regression = model.task == "regression"
        if log is not None:
            log.scored(model, request_id, at, started, rows, request.ids, labels, None if regression else proba)
        return ModelAnswer(request_id, labels, None if regression else proba, None)

    def failed(self, model: str, status: int, at: float) -> None:
        """Count a scoring request of `model` (a served model's name) that arrived at `at` and
        was answered `status` (4xx/5xx) into the traffic rollup, under the version served
        now (0: none yet). A counter in memory: the answer never waits for it."""
        if self.prediction_log is not None:
            current = self.slots[model].current
            self.prediction_log.failed(model, current.version if current is not None else 0, at, status)

    async def feedback(self, name: str | None, payload: Any) -> dict[str, Any]:
        """`POST /feedback`: actual values for logged predictions of this environment (see
        `champion.workspace.feedback`; the same service as `champion feedback`)."""
        model = self.model_name(name)

        def store() -> dict[str, Any]:
            items = parse_feedback_body(self.project.config.models[model], payload)
            return add_feedback(self.workspace, model, self.environment, items, source="http").as_dict()

        return await asyncio.to_thread(store)

    # ---- health and metadata ------------------------------------------------------------------
    def model_state(self, name: str) -> str:
        slot = self.slots[name]
        if slot.current is None:
            return TRANSITIONING if slot.loading is not None else UNHEALTHY
        if slot.loading is not None or (slot.target is not None and slot.target != slot.current.version
                                         and not _refused(slot, slot.target)):
            return TRANSITIONING
        return HEALTHY

    def health(self) -> dict[str, Any]:
        """`GET /health`: Healthy, Transitioning or Unhealthy, per model and for the endpoint
        (across every worker process of it)."""
        models = {}
        for name, slot in self.slots.items():
            entry: dict[str, Any] = {"state": self.model_state(name), "alias": self.alias,
                                     "version": slot.current.version if slot.current else None,
                                     "alias_version": slot.target}
            if slot.loading is not None:
                entry["loading"] = slot.loading
            if slot.refused is not None:
                entry["refused"] = {"version": slot.refused.version, "reason": slot.refused.reason,
                                    "at": slot.refused.at, "attempts": slot.refused.attempts,
                                    "retry_at": slot.refused.retry_at}
            if slot.current is not None and slot.target is not None and slot.current.version != slot.target:
                entry["note"] = (f"serves version {slot.current.version}, but the {self.alias} alias points at "
                                 f"{slot.target}" + (f", which was refused: {slot.refused.reason}"
                                                     if _refused(slot, slot.target) and slot.refused else "")
                                 + (f"; fetching it failed, retried at the next poll: {slot.error}"
                                    if slot.error else ""))
            if slot.current is None:
                entry["reason"] = self._why_empty(name)
            models[name] = entry
        own = _overall(entry["state"] for entry in models.values())
        workers = self.board.read()
        # The endpoint has switched only when every worker is Healthy on the same version of
        # each model.
        split = any(len({((w.get("models") or {}).get(n) or {}).get("version") for w in workers}) > 1
                    for n in self.slots)
        settled = not split and all(w.get("status") == HEALTHY for w in workers)
        status = TRANSITIONING if own == HEALTHY and not settled else own
        return HealthDocument.checked({"status": status, "environment": self.environment, "alias": self.alias,
                               "models": models, "workers": workers, "pid": self.board.pid,
                               "uptime_seconds": round(time.time() - self.started, 1)})

    def metadata(self) -> dict[str, Any]:
        """`GET /metadata`: what is served, with the contract of each model."""
        models: dict[str, dict[str, Any]] = {}
        for name, slot in self.slots.items():
            model = slot.current
            if model is None:
                models[name] = {"version": None, "state": self.model_state(name)}
                continue
            models[name] = {"version": model.version, "run_id": model.run_id, "recipe": model.recipe_spec,
                            "task": model.task, "sha256": model.sha256, "loaded_at": model.loaded_at,
                            "inputs": [{"name": c.name, "type": c.kind} for c in model.columns],
                            "classes": model.classes, "v2": v2.model_metadata(model)}
        return {"service": "champion", "version": __version__, "environment": self.environment,
                "alias": self.alias, "default_model": self._default, "models": models}

    # ---- swapping -------------------------------------------------------------------------
    async def refresh(self, force: bool = False) -> dict[str, Any]:
        """Read the alias of every model; load, verify and switch in versions that moved.

        `force` retries a version that was refused before (the admin reload)."""
        async with self._refresh_lock:
            await self._follow_data()
            force = force or self._reload_requested()
            token = self.workspace.registry.change_token()
            retry_due = any(s.refused is not None and time.time() >= s.refused.retry_at for s in self.slots.values())
            if not force and not retry_due and token is not None and token == self._seen_token:
                return self.health()  # nothing was written to the registry since the last look
            try:
                targets = await asyncio.to_thread(self._alias_targets)
            except ChampionError as exc:
                log.warning("reading the %s alias failed: %s", self.alias, exc)
                for slot in self.slots.values():
                    slot.error = str(exc)
                return self.health()
            settled = True
            for name, target in targets.items():
                slot = self.slots[name]
                slot.target, slot.error = target, None
                if target is None or (slot.current is not None and slot.current.version == target):
                    continue
                if _refused(slot, target) and not force and time.time() < slot.refused.retry_at:  # type: ignore[union-attr]
                    continue
                settled = await self._swap(name, target) and settled
            if settled:  # else the same token must not hide the store from the next poll
                self._seen_token = token
            self.board.write(self._worker_status())
            return self.health()

    async def watch(self) -> None:
        """Poll the alias until cancelled (after the first `refresh`, done at start-up)."""
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            await self.refresh()

    def close(self) -> None:
        """Stop: write what the prediction log still holds, free the predict thread."""
        if self.prediction_log is not None:
            self.prediction_log.close()
        self.batcher.close()
        self.board.remove()

    async def _follow_data(self) -> None:
        """Served forecasters forecast after the latest data: when files were ingested since a
        version was loaded, switch in a copy that forecasts after the grown series."""
        for name, slot in self.slots.items():
            current = slot.current
            if current is None or current.task != "forecasting":
                continue
            token = await asyncio.to_thread(self._data_token, name)
            if token == self._data_tokens.get(name):
                continue
            try:
                slot.current = await asyncio.to_thread(refreshed, self.workspace, current)
            except Exception:  # noqa: BLE001 - the version keeps serving as it was
                log.exception("%s: could not extend the served forecaster to the new data", name)
            self._data_tokens[name] = token

    def _data_token(self, name: str) -> tuple[str, ...]:
        return tuple(f.sha256 for f in self.workspace.state.ingested(name))

    async def _swap(self, name: str, version: int) -> bool:
        """Load `version` and switch to it, or refuse it; False when it could not be fetched
        (the tracking server away): nothing is decided, the next poll tries again."""
        slot = self.slots[name]
        slot.loading = version
        self.board.write(self._worker_status())
        try:
            if self.project.config.models[name].time is not None:
                self._data_tokens[name] = await asyncio.to_thread(self._data_token, name)
            loaded = await asyncio.to_thread(load_version, self.workspace, name, version)
        except RegistryUnreachableError as exc:  # the server's fault, not the version's: next poll
            log.warning("%s: could not fetch version %s yet: %s", name, version, exc)
            slot.error = str(exc)
            return False
        except ChampionError as exc:
            self._refuse(slot, name, version, str(exc))
            return True
        except Exception as exc:  # noqa: BLE001 - a broken version must never stop the service
            log.exception("refused %s version %s", name, version)
            self._refuse(slot, name, version, f"{type(exc).__name__}: {exc}")
            return True
        finally:
            slot.loading = None
        old, slot.current, slot.refused = slot.current, loaded, None
        # Long-lived objects (MLflow, the model) leave the cycle collector's view, so its full
        # collections under load stay short. Reference counting still frees the old model.
        gc.freeze()
        self.metrics.version.labels(name).set(version)
        self.metrics.swaps.labels(name).inc()
        log.info("%s: serving version %s (was %s)", name, version, old.version if old else None)
        # `old` is dropped here; requests that captured it finish with it and release it.
        return True

    def _refuse(self, slot: ModelSlot, name: str, version: int, reason: str) -> None:
        """Keep the old version serving; try `version` again later, waiting twice as long each time."""
        attempts = slot.refused.attempts + 1 if slot.refused is not None and slot.refused.version == version else 1
        wait = min(self.settings.retry_refused_seconds * 2 ** (attempts - 1), RETRY_CAP_SECONDS)
        now = time.time()
        slot.refused = Refusal(version, reason, now, attempts, now + wait)
        self.metrics.refusals.labels(name).inc()
        log.error("refused %s version %s (attempt %d; next try in %.0f s): %s", name, version, attempts, wait, reason)

    def _reload_requested(self) -> bool:
        """`champion deploy` asks every worker to retry refused versions through a file (the
        admin route needs a key the CLI may not have)."""
        stamp = reload_stamp(self.project, self.environment)
        if stamp == self._reload_seen:
            return False
        self._reload_seen = stamp
        return True

    def _alias_targets(self) -> dict[str, int | None]:
        return {name: self.workspace.registry.aliases(name).get(self.alias) for name in self.slots}

    def _worker_status(self) -> dict[str, Any]:
        return {"status": _overall(self.model_state(n) for n in self.slots),
                "models": {n: {"version": s.current.version if s.current else None, "state": self.model_state(n)}
                           for n, s in self.slots.items()}}

    def _why_empty(self, name: str) -> str:
        slot = self.slots[name]
        if slot.error:
            return f"the registry could not be read: {slot.error}"
        if slot.loading is not None:
            return f"version {slot.loading} is loading"
        if slot.refused is not None:
            return f"version {slot.refused.version} was refused: {slot.refused.reason}"
        if slot.target is None:
            return f"no version of {name} has the alias {self.alias!r} yet (run `champion deploy {self.environment}`)"
        return "not loaded yet"


def _refused(slot: ModelSlot, version: int) -> bool:
    return slot.refused is not None and slot.refused.version == version


def _overall(states: Any) -> str:
    states = list(states)
    if UNHEALTHY in states:
        return UNHEALTHY
    if TRANSITIONING in states:
        return TRANSITIONING
    return HEALTHY
