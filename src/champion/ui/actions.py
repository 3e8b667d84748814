"""The control room's actions: deploy, rollback, retrain now, acknowledge an alert.

Each action has a preview (the sentence its confirmation shows: what will change, from what to
what) and a run that goes through the same pipeline function as the CLI, with the person as
the actor (`ui:<name>`) and their reason in the history. Inputs come from a browser: every
field is checked here and a bad one is a `UsageError` naming it, before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from champion.errors import ChampionError, NotFoundError, UsageError
from champion.pipelines import endpoints, release
from champion.pipelines.aliases import CHAMPION
from champion.pipelines.status import agent_status
from champion.state.jobs import JobStore
from champion.ui.documents.monitoring import alerts
from champion.workspace import Workspace

KINDS = ("deploy", "rollback", "retrain", "acknowledge")
MAX_REASON = 500


@dataclass(frozen=True)
class Preview:
    """What an action will do, before it is confirmed."""

    kind: str
    title: str
    effect: str
    fields: dict[str, str]
    """The form's hidden fields (what the POST must send back)."""
    possible: bool = True
    """False: the action cannot be done now (`effect` says why); no confirm button."""


def preview(ws: Workspace, kind: str, form: dict[str, str]) -> Preview:
    """The confirmation of `kind` with the browser's `form` fields; `UsageError` for bad ones."""
    if kind == "deploy":
        return _preview_deploy(ws, form)
    if kind == "rollback":
        return _preview_rollback(ws, form)
    if kind == "retrain":
        return _preview_retrain(ws, form)
    if kind == "acknowledge":
        return _preview_acknowledge(ws, form)
    raise NotFoundError(f"no action {kind!r}: the actions are {', '.join(KINDS)}")


def run(ws: Workspace, kind: str, form: dict[str, str], actor: str) -> dict[str, Any]:
    """Do the confirmed action; a result document with a `message` sentence."""
    reason = _reason(form)
    if kind == "deploy":
        model, environment, version = _model(ws, form), _environment(ws, form), _version(ws, form)
        result = release.deploy(ws, environment, model, version, reason=f"deploy to {environment}: {reason}", by=actor)
        return {**result.as_dict(), "message": f"{environment} serves {model} version {result.version} "
                                               f"(was {result.previous or 'none'}); {result.state}"}
    if kind == "rollback":
        model, environment = _model(ws, form), _environment(ws, form)
        result = release.rollback(ws, environment, model, reason=reason, by=actor)
        return {**result.as_dict(), "message": f"{environment} is back on {model} version {result.version} "
                                               f"(was {result.previous}); {result.state}"}
    if kind == "retrain":
        model = _model(ws, form)
        job, merged = JobStore(ws.state).enqueue(model, "manual", f"{actor}: {reason}", [])
        waiting = "" if agent_status(ws, limit=0)["running"] else (
            "; the agent is not running: it starts when `champion agent` runs")
        message = (f"joined the queued retraining of {model} ({job.id})" if merged
                   else f"queued a retraining of {model} ({job.id})")
        return {"job": job.as_dict(), "merged": merged, "message": message + waiting}
    if kind == "acknowledge":
        alert = _open_alert(ws, form)
        acknowledged = ws.state.acknowledge(alert["model"], alert["environment"], alert["kind"], actor, reason)
        return {"acknowledgement": acknowledged,
                "message": f"acknowledged the {alert['kind']} alert of {alert['model']} in {alert['environment']}"}
    raise NotFoundError(f"no action {kind!r}: the actions are {', '.join(KINDS)}")


def _preview_deploy(ws: Workspace, form: dict[str, str]) -> Preview:
    model, environment, version = _model(ws, form), _environment(ws, form), _version(ws, form)
    alias = release.alias_of(ws, environment)
    current = ws.registry.aliases(model).get(alias)
    fields = {"model": model, "environment": environment, "version": str(version)}
    title = f"Deploy {model} version {version} to {environment}"
    if current == version:
        return Preview("deploy", title, f"{environment} already points at version {version}: nothing to do.",
                       fields, possible=False)
    running = endpoints.info(ws, environment).pid is not None
    served = (f"The {environment} endpoint loads version {version} and switches to it once it is ready; "
              "requests keep being answered by version "
              f"{current} until then." if running and current is not None else
              f"The {environment} endpoint loads version {version}." if running else
              f"The {environment} endpoint is not running: it is started and serves version {version}.")
    champion = ws.registry.aliases(model).get(CHAMPION)
    caveat = "" if champion in (None, version) else f" Note: the champion is version {champion}, not {version}."
    return Preview("deploy", title, f"The {alias} alias moves from {_v(current)} to version {version}. "
                   f"{served} If it cannot serve version {version}, the alias goes back to {_v(current)}.{caveat}",
                   fields)


def _preview_rollback(ws: Workspace, form: dict[str, str]) -> Preview:
    model, environment = _model(ws, form), _environment(ws, form)
    fields = {"model": model, "environment": environment}
    title = f"Roll back {model} in {environment}"
    try:
        target, current, _ = release.rollback_target(ws, environment, model)
    except NotFoundError as exc:
        return Preview("rollback", title, f"Nothing to roll back: {exc}.", fields, possible=False)
    return Preview("rollback", title, f"The {release.alias_of(ws, environment)} alias returns from {_v(current)} to "
                   f"version {target}, the version it pointed at before its last move; the endpoint switches "
                   "without dropping requests.", fields)


def _preview_retrain(ws: Workspace, form: dict[str, str]) -> Preview:
    model = _model(ws, form)
    running = agent_status(ws, limit=0)["running"]
    agent = ("The agent runs it when nothing else of this model runs." if running else
             "The agent is not running: the job waits in the queue until `champion agent` starts.")
    return Preview("retrain", f"Retrain {model} now",
                   f"Queues a retraining of {model} on its data (a job of the agent, like a scheduled one). "
                   "The new model is compared with the champion on the golden set and registered only if the "
                   f"gate passes. {agent}", {"model": model})


def _preview_acknowledge(ws: Workspace, form: dict[str, str]) -> Preview:
    alert = _open_alert(ws, form)
    fields = {"model": alert["model"], "environment": alert["environment"], "kind": alert["kind"]}
    title = f"Acknowledge the {alert['kind']} alert of {alert['model']} in {alert['environment']}"
    if alert["acknowledged"]:
        ack = alert["acknowledged"]
        return Preview("acknowledge", title, f"Already acknowledged by {ack['actor']}: {ack['reason']}", fields,
                       possible=False)
    return Preview("acknowledge", title, f"\u201c{alert['message']}\u201d stops showing as open until a monitor run "
                   "no longer raises it; if it comes back after that, it is open again. Nothing else changes: "
                   "the agent still acts on it as configured.", fields)


def _open_alert(ws: Workspace, form: dict[str, str]) -> dict[str, Any]:
    model, environment, kind = _model(ws, form), _environment(ws, form), form.get("kind", "")
    for alert in alerts(ws, model, environment):
        if alert["kind"] == kind:
            return alert
    raise UsageError(f"kind: the newest monitor report of {model} in {environment} raises no {kind!r} alert")


def _model(ws: Workspace, form: dict[str, str]) -> str:
    return _one_of(form, "model", list(ws.project.config.models), "a model")


def _environment(ws: Workspace, form: dict[str, str]) -> str:
    return _one_of(form, "environment", list(ws.project.config.environments), "an environment")


def _one_of(form: dict[str, str], field: str, names: list[str], what: str) -> str:
    """The form's `field` if it names one of `names`; else a `UsageError` naming the field."""
    name = form.get(field, "")
    if name not in names:
        raise UsageError(f"{field}: {name!r} is not {what} of this project ({', '.join(names) or 'none'})")
    return name


def _version(ws: Workspace, form: dict[str, str]) -> int:
    text = form.get("version", "").strip().removeprefix("v")
    if not text.isdigit():
        raise UsageError(f"version: {form.get('version', '')!r} is not a version number")
    version = int(text)
    model = _model(ws, form)
    try:
        ws.registry.version(model, version)
    except ChampionError:
        raise UsageError(f"version: {model} has no version {version}") from None
    return version


def _reason(form: dict[str, str]) -> str:
    reason = " ".join(form.get("reason", "").split())
    if not reason:
        raise UsageError("reason: say why (it is written in the history with your name)")
    if len(reason) > MAX_REASON:
        raise UsageError(f"reason: at most {MAX_REASON} characters")
    return reason


def _v(version: int | None) -> str:
    return "no version" if version is None else f"version {version}"
