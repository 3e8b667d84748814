"""The release half of the loop: deploy, smoke test, release, rollback, retrain.

`deploy` moves an environment's alias (compare-and-set, with history), starts its endpoint
if needed and waits until every worker serves the new version; if that does not happen
the alias goes back. `release` is the seeds' Release pipeline: staging, smoke test,
production, smoke test, and production back where it was on a failed smoke test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from champion.errors import ChampionError, EndpointError, NotFoundError
from champion.pipelines import endpoints
from champion.pipelines.aliases import (
    CHAMPION,
    lock_name,
    move_alias,
    move_alias_locked,
    settle_moves,
)
from champion.pipelines.documents import DeployDocument, ReleaseDocument
from champion.pipelines.progress import Progress, silent
from champion.pipelines.smoke import SmokeReport, smoke_test
from champion.workspace import Workspace


@dataclass
class DeployResult:
    environment: str
    model: str
    version: int
    previous: int | None
    url: str
    state: str

    def as_dict(self) -> dict[str, Any]:
        return DeployDocument.checked(asdict(self))


@dataclass
class ReleaseResult:
    model: str
    version: int
    ok: bool
    steps: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return ReleaseDocument.checked(asdict(self))


def alias_of(ws: Workspace, environment: str) -> str:
    return ws.project.environment(environment).alias or environment


def deploy(ws: Workspace, environment: str, model: str, version: int | None = None,
           progress: Progress = silent, reason: str | None = None, by: str | None = None) -> DeployResult:
    """Point `environment` at `version` (default: the champion) and wait until it serves it.
    `by` names who deploys in the history (default: the user, or `CHAMPION_ACTOR`)."""
    settings = ws.project.environment(environment)
    alias = alias_of(ws, environment)
    aliases = ws.registry.aliases(model)
    if version is None:
        version = aliases.get(CHAMPION)
        if version is None:
            raise NotFoundError(f"{model} has no champion yet: run `champion build {model}` first, "
                                "or pass --version")
    ws.registry.version(model, version)  # NotFoundError for a version that does not exist
    with ws.state.lock(lock_name(model)):
        previous = ws.registry.aliases(model).get(alias)
        if previous != version:
            move_alias_locked(ws, model, alias, version, previous, reason or f"deploy to {environment}", by=by)
    was_running = endpoints.info(ws, environment).pid is not None
    try:
        with progress.step(f"{environment} endpoint up"):
            endpoints.start(ws, environment)
        with progress.step(f"waiting for {environment} to serve {model} version {version}"):
            health = endpoints.wait_for_version(ws, environment, model, version, settings.startup_seconds)
    except (ChampionError, KeyboardInterrupt) as failure:  # Ctrl-C, or SIGTERM as the CLI maps it
        if previous != version:
            _put_back(ws, environment, model, alias, version, previous, failure, by)
        if isinstance(failure, KeyboardInterrupt):
            raise
        if not was_running:  # this deploy started it: leave no endpoint behind that serves nothing
            endpoints.stop(ws, environment)
            raise EndpointError(f"{failure} (the {environment} endpoint this deploy started was stopped)") from None
        raise
    current = endpoints.info(ws, environment)
    return DeployResult(environment, model, version, previous, current.url, str(health.get("status")))


def rollback(ws: Workspace, environment: str, model: str, progress: Progress = silent,
             reason: str | None = None, by: str | None = None) -> DeployResult:
    """Return `environment` to the version it served before its alias last moved. An alias
    moved outside champion (no history row) returns to the version champion last put there."""
    alias = alias_of(ws, environment)
    with ws.state.lock(lock_name(model)):
        settle_moves(ws, model)
        target, current, why = rollback_target(ws, environment, model)
        move_alias_locked(ws, model, alias, target, current, f"{why}: {reason}" if reason else why, by=by)
    endpoint = endpoints.info(ws, environment)
    state = endpoint.state
    if endpoint.pid is not None:
        with progress.step(f"waiting for {environment} to serve {model} version {target}"):
            health = endpoints.wait_for_version(ws, environment, model, target,
                                                ws.project.environment(environment).startup_seconds)
        state = str(health.get("status"))
    return DeployResult(environment, model, target, current, endpoint.url, state)


def rollback_target(ws: Workspace, environment: str, model: str) -> tuple[int, int | None, str]:
    """Where a rollback of `environment` would take `model` now: (target, current, why);
    `NotFoundError` when there is nothing to return to."""
    alias = alias_of(ws, environment)
    moves = ws.state.moves(model, alias)
    current = ws.registry.aliases(model).get(alias)
    if moves and moves[-1].to_version != current and moves[-1].to_version is not None:
        target = moves[-1].to_version
        return target, current, (f"rollback of {environment}: the alias had been moved from {target} to "
                                 f"{current} outside champion")
    if not moves or moves[-1].from_version is None:
        raise NotFoundError(f"{environment} has no previous version of {model} to return to")
    return moves[-1].from_version, current, f"rollback of {environment}"


def release(ws: Workspace, model: str, version: int | None = None, progress: Progress = silent,
            out_dir: Path | None = None) -> ReleaseResult:
    """Staging, smoke test, production, smoke test; production back on a failed test."""
    environments = ws.project.config.environments
    for needed in ("staging", "production"):
        if needed not in environments:
            raise NotFoundError(f"release needs an environment named {needed!r} in champion.toml")
    version = version if version is not None else ws.registry.aliases(model).get(CHAMPION)
    if version is None:
        raise NotFoundError(f"{model} has no champion yet: run `champion build {model}` first")
    result = ReleaseResult(model, version, ok=False)

    staged = deploy(ws, "staging", model, version, progress, reason=f"release of version {version}")
    result.steps.append({"step": "deploy staging", **staged.as_dict()})
    report = _smoke(ws, "staging", model, progress, out_dir)
    result.steps.append({"step": "smoke-test staging", **report.as_dict()})
    if not report.ok:
        result.message = f"staging failed its smoke test ({report.failures()}); production untouched"
        return result

    produced = deploy(ws, "production", model, version, progress, reason=f"release of version {version}")
    result.steps.append({"step": "deploy production", **produced.as_dict()})
    report = _smoke(ws, "production", model, progress, out_dir)
    result.steps.append({"step": "smoke-test production", **report.as_dict()})
    if report.ok:
        result.ok = True
        result.message = f"{model} version {version} is in production"
        return result
    if produced.previous is not None and produced.previous != version:
        back = deploy(ws, "production", model, produced.previous, progress,
                      reason=f"smoke test of version {version} failed")
        result.steps.append({"step": "restore production", **back.as_dict()})
        result.message = (f"production failed its smoke test ({report.failures()}); "
                          f"production is back on version {produced.previous}")
    else:
        result.message = f"production failed its smoke test ({report.failures()}); it had no earlier version"
    return result


def _smoke(ws: Workspace, environment: str, model: str, progress: Progress, out_dir: Path | None) -> SmokeReport:
    with progress.step(f"smoke-testing {environment}"):
        return smoke_test(ws, environment, model, out_dir)


def _put_back(ws: Workspace, environment: str, model: str, alias: str, version: int, previous: int | None,
              failure: ChampionError | KeyboardInterrupt, by: str | None = None) -> None:
    why = str(failure) if isinstance(failure, ChampionError) else "the command was interrupted"
    try:
        move_alias(ws, model, alias, previous, version, f"deploy to {environment} failed: {why}", by=by)
    except ChampionError as exc:  # someone moved it meanwhile: leave their move alone
        raise EndpointError(f"{failure}; and putting {alias} back failed: {exc}") from None
