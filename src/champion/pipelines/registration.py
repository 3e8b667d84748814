"""`register`: make a run a model version and, on PROMOTE or FIRST_MODEL, the champion.

Runs under the model's lock. If the champion changed since the run was evaluated (another
build won meanwhile), the run is evaluated again against the new champion first: the alias
moves by compare-and-set, never on stale evidence. A REJECT registers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from champion.errors import ChampionError, UnloadableModelError
from champion.evaluation.document import EvaluationDocument
from champion.evaluation.policy import Verdict
from champion.pipelines.aliases import CHAMPION, lock_name, move_alias_locked
from champion.pipelines.evaluation import (
    EVALUATION_FILE,
    EvaluationResult,
    evaluate,
    record_evaluation,
)
from champion.pipelines.progress import Progress, silent
from champion.pipelines.tidy import tidy_locked
from champion.pipelines.training import TrainResult
from champion.registry.records import VERDICT_TAG, RunRecord
from champion.workspace import Workspace


@dataclass
class RegisterResult:
    verdict: Verdict
    version: int | None
    document: dict[str, Any]
    file: Path


def register(
    ws: Workspace,
    model: str,
    run_id: str,
    evaluation: EvaluationResult | None = None,
    trained: TrainResult | None = None,
    progress: Progress = silent,
    out_dir: Path | None = None,
    replace_broken_champion: bool = False,
) -> RegisterResult:
    """Register `run_id` if its evaluation against the current champion says so (see
    `evaluate` for `replace_broken_champion`)."""
    with ws.state.lock(lock_name(model)):
        tidy_locked(ws, model)  # what killed builds left: half-done alias moves, dead runs, orphans
        current = ws.registry.aliases(model).get(CHAMPION)
        if evaluation is None:
            evaluation = _stored_evaluation(ws, model, run_id)
        if evaluation is None or evaluation.champion_version != current:
            evaluation = evaluate(ws, model, run_id, trained, progress, out_dir, replace_broken_champion)
        document = dict(evaluation.document)
        if not evaluation.verdict.promotes:
            return RegisterResult(evaluation.verdict, None, document, evaluation.file)
        run = ws.registry.run(run_id)
        primary = document["policy"]["primary"]
        with progress.step("loading the model back as an endpoint would"):
            _check_loadable(ws, model, run)
        with progress.step("registering the model version"):
            tags = {VERDICT_TAG: evaluation.verdict.value,
                    f"champion.{primary}": f"{document['challenger']['metrics'][primary]:.6g}",
                    "champion.evaluated_against": str(current) if current is not None else "none"}
            version = ws.registry.register(model, run, tags).version
            reason = f"{evaluation.verdict.value}: {document['reasons'][0]}"
            move_alias_locked(ws, model, CHAMPION, version, current, reason, run_id)
        document["version"] = version
        EvaluationDocument.checked(document)
        file = record_evaluation(ws, run_id, document, out_dir)
        return RegisterResult(evaluation.verdict, version, document, file)


def _check_loadable(ws: Workspace, model: str, run: RunRecord) -> None:
    """Load the logged model from the registry and predict its input example, as an endpoint
    does before it serves a version; `UnloadableModelError` (nothing registered) otherwise."""
    from champion.serving.loading import load_run

    try:
        load_run(ws, model, run, follow_data=False)  # the model as trained: no need to read the data again
    except ChampionError as exc:
        ws.registry.set_run_tags(run.run_id, {VERDICT_TAG: "UNLOADABLE"})
        raise UnloadableModelError(
            f"run {run.run_id} of {model} was not registered: its model, loaded back from the registry "
            f"as an endpoint would load it, fails: {exc}") from exc


def _stored_evaluation(ws: Workspace, model: str, run_id: str) -> EvaluationResult | None:
    """The run's last evaluation.json (from MLflow, so it works on another machine)."""
    document = ws.registry.read_document(run_id, EVALUATION_FILE)
    if not document or document.get("model") != model:
        return None
    champion = document.get("champion") or {}
    return EvaluationResult(Verdict(document["verdict"]), champion.get("version"), document,
                            ws.project.run_dir(run_id) / EVALUATION_FILE)
