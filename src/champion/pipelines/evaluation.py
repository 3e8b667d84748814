"""`evaluate`: challenger vs champion on the same current golden set, with a verdict.

Writes `evaluation.json`: both models' metrics, deltas, intervals, p-values, the verdict and
its reasons. The champion is scored as it is (a forecaster is applied, never refitted).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from champion.errors import BrokenChampionError, NotFoundError, RegistryError, UsageError
from champion.evaluation.document import EvaluationDocument
from champion.evaluation.policy import Evidence, Verdict, decide, resolve_policy
from champion.pipelines import golden_set
from champion.pipelines.aliases import CHAMPION
from champion.pipelines.golden_set import Answers, Split
from champion.pipelines.progress import Progress, silent
from champion.pipelines.training import TrainResult
from champion.registry.records import EVALUATION_DIGEST_TAG, VERDICT_TAG
from champion.workspace import Workspace
from champion.workspace.documents import write_json

EVALUATION_FILE = "evaluation.json"


def record_evaluation(ws: Workspace, run_id: str, document: dict[str, Any], out_dir: Path | None,
                      tags: dict[str, str] | None = None) -> Path:
    """Write the run's evaluation.json (in its run folder, and into `out_dir`) and log it to the
    registry, tagged with its digest (and `tags`); the file written.

    The document goes first: if tagging then fails, the command fails and the old digest
    still names a document that existed, so a reader's cache can only be behind until the
    run is evaluated again, never show one that was not written."""
    file = write_json(ws.project.run_dir(run_id) / EVALUATION_FILE, document, out_dir)
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[:16]
    ws.registry.log_document(run_id, EVALUATION_FILE, document)
    ws.registry.set_run_tags(run_id, {**(tags or {}), EVALUATION_DIGEST_TAG: digest})
    return file


@dataclass
class EvaluationResult:
    verdict: Verdict
    champion_version: int | None
    document: dict[str, Any]
    file: Path


def evaluate(
    ws: Workspace,
    model: str,
    run_id: str,
    trained: TrainResult | None = None,
    progress: Progress = silent,
    out_dir: Path | None = None,
    replace_broken_champion: bool = False,
) -> EvaluationResult:
    """Compare run `run_id` with the current champion of `model` and decide.

    A champion that cannot be loaded (a deleted or changed artifact, a recipe that no longer
    imports) is `BrokenChampionError`, unless `replace_broken_champion`: then the challenger
    is judged as a first model and the reasons say why."""
    settings = ws.settings(model)
    cls = ws.recipe_class(model)
    policy = resolve_policy(settings.policy, cls.task, model)
    run = ws.registry.run(run_id)
    if run.model != model:
        raise UsageError(f"run {run_id} belongs to model {run.model!r}, not {model!r}")
    if trained is not None and trained.run_id == run_id:
        data: Split = trained.data
        challenger: Answers = trained.answers
    else:
        with progress.step("reading data and the challenger"):
            data = golden_set.split(ws.dataset(model), settings, cls)
            challenger = golden_set.answers(ws.registry.load_recipe(run), data)
    champion_version = ws.registry.aliases(model).get(CHAMPION)
    champion_doc: dict[str, Any] | None = None
    champion: Answers | None = None
    same_run = False
    broken: str | None = None
    if champion_version is not None:
        version = ws.registry.version(model, champion_version)
        same_run = version.run_id == run_id
        champion_doc = {"version": champion_version, "run_id": version.run_id}
        with progress.step(f"scoring the champion (version {champion_version}) on the golden set"):
            try:
                recipe = ws.registry.load_recipe(ws.registry.run(version.run_id))
                if recipe.task != cls.task:
                    raise RegistryError(f"it is a {recipe.task} model and {settings.recipe} trains "
                                        f"{cls.task}: they cannot be compared on one golden set")
            except (RegistryError, NotFoundError) as exc:
                if not replace_broken_champion:
                    raise BrokenChampionError(_broken_message(model, champion_version, str(exc))) from exc
                broken = str(exc)
                champion_doc["unloadable"] = broken
            else:
                champion = golden_set.answers(recipe, data)
    with progress.step("comparing"):
        evidence = golden_set.compare(policy, data, challenger, champion)
        verdict, reasons = decide(policy, evidence)
    if broken is not None:
        reasons = [f"the champion (version {champion_version}) cannot be loaded ({broken}); with "
                   f"--replace-broken-champion the challenger replaces it as a first model "
                   f"({policy.primary} {evidence.challenger[policy.primary]:.4f} on the golden set)"]
    if same_run:
        verdict, reasons = Verdict.REJECT, [f"run {run_id} is already the champion (version {champion_version})"]
    document = EvaluationDocument.checked(_document(model, run_id, policy.as_dict(), data, evidence, champion_doc, verdict, reasons))
    file = record_evaluation(ws, run_id, document, out_dir, {VERDICT_TAG: verdict.value})
    return EvaluationResult(verdict, champion_version, document, file)


def _broken_message(model: str, version: int, cause: str) -> str:
    return (f"the champion of {model} (version {version}) cannot be loaded, so no challenger can be "
            f"compared with it: {cause}. Nothing was registered. To replace it, run the command again "
            f"with --replace-broken-champion: the challenger is then judged as a first model (it must "
            f"still load and pass as one), and the history records why the champion was replaced")


def _document(model: str, run_id: str, policy: dict[str, Any], data: Split, evidence: Evidence,
              champion: dict[str, Any] | None, verdict: Verdict, reasons: list[str]) -> dict[str, Any]:
    if champion is not None:
        champion = {**champion, "metrics": evidence.champion}  # None: the champion could not be loaded
    return {
        "model": model,
        "run_id": run_id,
        "verdict": verdict.value,
        "reasons": reasons,
        "version": None,
        "challenger": {"run_id": run_id, "metrics": evidence.challenger},
        "champion": champion,
        **evidence.as_document(),  # deltas, intervals (with their method and level), p_values, decision
        "policy": policy,
        "golden_set": data.describe(),
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
