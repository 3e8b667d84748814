"""MLflow behind one adapter: runs, logged models, versions and aliases.

This package is the only one that imports mlflow. MLflow errors are translated into
`RegistryError` / `NotFoundError` here, so nothing above ever sees an MLflow exception.
Telemetry is switched off before mlflow is imported.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
# With a tracking server MLflow prints "View run ... at: URL" to stdout: it would corrupt --json.
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
# A tracking server that is away: MLflow retries ~4 minutes by default. Ours ride over a
# restart (1+2+4+8 s) and then fail with a clear message; set these to choose otherwise.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "4")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
# A server that accepts the connection but hangs (its database away) is waited on per request
# for this long, not MLflow's 120 s: each of the retries above waits again.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.models import ModelSignature  # noqa: E402
from mlflow.types import ColSpec, Schema  # noqa: E402

from champion.credentials import redact  # noqa: E402
from champion.errors import ChampionError, NotFoundError, RegistryError, RegistryUnreachableError  # noqa: E402
from champion.locks import file_lock  # noqa: E402
from champion.recipes.base import Recipe  # noqa: E402
from champion.recipes.source import load_saved, save_with_source  # noqa: E402
from champion.registry.artifacts import folder_sha256  # noqa: E402
from champion.registry.records import VERDICT_TAG, RunRecord, VersionRecord  # noqa: E402

for _name in ("mlflow", "alembic"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# Our pyfunc model has an explicit signature, so MLflow's type-hint advice does not apply.
warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")

_ENTRY = Path(__file__).with_name("pyfunc_entry.py")
TAG = "champion."
DATA_FOLDER = "ingested"
"""Where a data run keeps the ingested files of its model."""


class ModelRegistry:
    """Runs, model versions and aliases of one project, in one MLflow tracking store."""

    def __init__(self, tracking_uri: str, artifact_root: Path, lock_dir: Path, project_root: Path | None = None,
                 names: dict[str, str] | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self.project_root = project_root
        """The project folder: a user's recipe source is copied from it into each model."""
        self.names = dict(names or {})
        """Model -> its name in MLflow (registered model and experiment), when they differ."""
        self._models = {registered: model for model, registered in self.names.items()}
        self._init_lock = lock_dir / "mlflow-init.lock"
        lock_dir.mkdir(parents=True, exist_ok=True)
        _use_uri(tracking_uri)
        # Several processes may open a brand-new project at once: only one may run the
        # migrations, and creating the client (or any first call) is what runs them.
        with file_lock(self._init_lock, what="opening the MLflow store"), _translated("opening the MLflow store"):
            _create_sqlite_whole(tracking_uri, artifact_root)
            self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
            self.client.search_experiments(max_results=1)
            self.client.search_registered_models(max_results=1)

    @property
    def embedded(self) -> bool:
        """A SQLite store of this machine (artifacts in a local folder), not a server."""
        return self.tracking_uri.startswith("sqlite:///")

    def registered_name(self, model: str) -> str:
        """`model`'s name in MLflow: `models:/<this>@production` loads its production version."""
        return self.names.get(model, model)

    def _model_of(self, registered: str) -> str:
        return self._models.get(registered, registered)

    # ---- runs ---------------------------------------------------------------------------
    def experiment_id(self, model: str) -> str:
        name = self.registered_name(model)
        with _translated("reading the experiment"):
            experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        with file_lock(self._init_lock, what="creating the experiment"), _translated("creating the experiment"):
            experiment = self.client.get_experiment_by_name(name)
            if experiment is not None:
                return str(experiment.experiment_id)
            if not self.embedded:  # the server chooses where artifacts go (proxied through it)
                try:
                    return str(self.client.create_experiment(name))
                except MlflowException:  # another machine created it first
                    experiment = self.client.get_experiment_by_name(name)
                    if experiment is None:
                        raise
                    return str(experiment.experiment_id)
            location = (self.artifact_root / model).resolve().as_uri()
            return str(self.client.create_experiment(name, artifact_location=location))

    def log_training(
        self,
        model: str,
        recipe: Recipe,
        recipe_spec: str,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        input_columns: list[tuple[str, str, bool]],
        input_example: Any,
        documents: dict[str, Any],
    ) -> RunRecord:
        """One MLflow run: parameters, metrics, tags, JSON documents and the model itself."""
        experiment_id = self.experiment_id(model)
        with _translated("logging the training run"), tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "recipe"
            folder.mkdir()
            save_with_source(recipe, recipe_spec, folder, self.project_root)
            digest = folder_sha256(folder)
            signature = ModelSignature(inputs=Schema([ColSpec(kind, name, required=required)
                                                      for name, kind, required in input_columns]))
            # Which process logs it: a run left RUNNING by a killed process can be told apart
            # from one still being logged (`running_runs`).
            tags = {**tags, TAG + "host": socket.gethostname(), TAG + "pid": str(os.getpid())}
            with mlflow.start_run(experiment_id=experiment_id, tags=tags) as run:
                run_id = run.info.run_id
                mlflow.log_params({k: _param(v) for k, v in params.items()})
                mlflow.log_metrics({k: v for k, v in metrics.items() if _finite(v)})
                for name, document in documents.items():
                    mlflow.log_dict(document, name)
                info = mlflow.pyfunc.log_model(
                    name="model",
                    python_model=str(_ENTRY),
                    artifacts={"recipe": str(folder)},
                    code_paths=[str(_loading_code(Path(tmp) / "code"))],
                    pip_requirements=_requirements(recipe),
                    signature=signature,
                    input_example=input_example,
                )
                logged = self.client.get_logged_model(info.model_id)
                mlflow.set_tags({TAG + "model_uri": info.model_uri, TAG + "artifact_sha256": digest,
                                 TAG + "model_id": info.model_id or "",
                                 TAG + "model_artifacts": logged.artifact_location})
        return self.run(run_id)

    def run(self, run_id: str) -> RunRecord:
        with _translated(f"reading run {run_id}", not_found=f"no run {run_id!r} in this project"):
            run = self.client.get_run(run_id)
        experiment = self.client.get_experiment(run.info.experiment_id)
        return RunRecord(
            run_id=run.info.run_id,
            model=self._model_of(experiment.name),
            status=run.info.status,
            params=dict(run.data.params),
            metrics=dict(run.data.metrics),
            tags={k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
            start_time=run.info.start_time,
        )

    def running_runs(self, model: str) -> list[RunRecord]:
        """Runs of `model`'s experiment that MLflow still marks RUNNING."""
        with _translated(f"listing the running runs of {model}"):
            experiment = self.client.get_experiment_by_name(self.registered_name(model))
            if experiment is None:
                return []
            found = self.client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'",
                                            max_results=1000)
        return [self.run(r.info.run_id) for r in found]

    def evaluated_runs(self, model: str, limit: int = 20) -> list[RunRecord]:
        """The newest runs of `model` that the gate judged (registered or not), newest first."""
        with _translated(f"listing the evaluated runs of {model}"):
            experiment = self.client.get_experiment_by_name(self.registered_name(model))
            if experiment is None:
                return []
            found = self.client.search_runs([experiment.experiment_id], f"tags.`{VERDICT_TAG}` LIKE '%'",
                                            max_results=limit, order_by=["attributes.start_time DESC"])
        return [RunRecord(run_id=r.info.run_id, model=model, status=r.info.status, params=dict(r.data.params),
                          metrics=dict(r.data.metrics),
                          tags={k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")},
                          start_time=r.info.start_time) for r in found]

    def end_run(self, run_id: str, status: str) -> None:
        """Mark a run ended (`KILLED`, `FAILED`, `FINISHED`)."""
        with _translated(f"ending run {run_id}"):
            self.client.set_terminated(run_id, status)

    # ---- ingested data files (a shared registry's copy) ------------------------------------
    def store_data_file(self, model: str, path: Path) -> None:
        """Keep a copy of an ingested data file with the registry (under `ingested/` of the
        model's data run), for the machines that share it."""
        with _translated(f"storing {path.name} with the registry"):
            runs = self._data_runs(model)
            if not runs:
                run = self.client.create_run(self.experiment_id(model), tags={TAG + "kind": "data"},
                                             run_name="ingested data")
                # Not RUNNING: a RUNNING run is one a killed build left behind (`running_runs`).
                self.client.set_terminated(run.info.run_id, "FINISHED")
                runs = [run.info.run_id]
            self.client.log_artifact(runs[0], str(path), DATA_FOLDER)

    def fetch_data_file(self, model: str, name: str, destination: Path) -> bool:
        """Download the ingested file `name` of `model` to `destination`; False when the
        registry has no such file."""
        with _translated(f"downloading {name} from the registry"), tempfile.TemporaryDirectory() as tmp:
            for run_id in self._data_runs(model):  # machines that made one at once made several
                try:
                    local = Path(self.client.download_artifacts(run_id, f"{DATA_FOLDER}/{name}", tmp))
                except MlflowException as exc:
                    if _is_not_found(exc):
                        continue
                    raise
                if local.is_file():  # a missing file can come back as an empty folder
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(local, destination)
                    return True
        return False

    def _data_runs(self, model: str) -> list[str]:
        """The runs that hold `model`'s ingested files, oldest first."""
        found = self.client.search_runs([self.experiment_id(model)], f"tags.`{TAG}kind` = 'data'",
                                        order_by=["attributes.start_time ASC"], max_results=100)
        return [r.info.run_id for r in found]

    def set_version_tag(self, model: str, version: int, key: str, value: str) -> None:
        with _translated(f"tagging {model} version {version}"):
            self.client.set_model_version_tag(self.registered_name(model), str(version), key, value)

    def delete_version(self, model: str, version: int) -> None:
        """Delete a model version from the registry (its run and artifacts stay)."""
        with _translated(f"deleting {model} version {version}"):
            self.client.delete_model_version(self.registered_name(model), str(version))

    def log_document(self, run_id: str, name: str, document: dict[str, Any]) -> None:
        with _translated(f"writing {name} to run {run_id}"):
            self.client.log_dict(run_id, document, name)

    def set_run_tags(self, run_id: str, tags: dict[str, str]) -> None:
        with _translated(f"tagging run {run_id}"):
            for key, value in tags.items():
                self.client.set_tag(run_id, key, value)

    def read_document(self, run_id: str, name: str) -> dict[str, Any] | None:
        with _translated(f"reading {name} of run {run_id}"), tempfile.TemporaryDirectory() as tmp:
            try:
                path = self.client.download_artifacts(run_id, name, tmp)
            except (MlflowException, OSError):
                return None
            return json.loads(Path(path).read_text(encoding="utf-8"))

    def load_recipe(self, run: RunRecord) -> Recipe:
        """The fitted recipe of a run, after checking its artifact hash (downloads only the
        recipe folder: what evaluation needs)."""
        return self._checked_recipe(run, self._download(run, "/artifacts/recipe"))

    def load_model(self, run: RunRecord) -> tuple[Recipe, Any]:
        """The fitted recipe of a run (hash-checked) and the input example logged with it
        (a DataFrame, or None when the run has none)."""
        local = self._download(run, "")
        return self._checked_recipe(run, local / "artifacts" / "recipe"), _input_example(local)

    def _download(self, run: RunRecord, subpath: str) -> Path:
        location = run.tags.get(TAG + "model_artifacts")
        if not location:
            raise RegistryError(f"run {run.run_id} has no champion model (was it logged by champion?)")
        with _translated(f"downloading the model of run {run.run_id}"):
            return Path(mlflow.artifacts.download_artifacts(artifact_uri=location + subpath))

    def _checked_recipe(self, run: RunRecord, recipe_dir: Path) -> Recipe:
        if not recipe_dir.is_dir():
            raise RegistryError(f"the model of run {run.run_id} has no recipe folder: refusing to load it")
        expected = run.tags.get(TAG + "artifact_sha256")
        actual = folder_sha256(recipe_dir)
        if expected != actual:
            raise RegistryError(
                f"the model artifact of run {run.run_id} changed since training "
                f"(sha256 {actual[:12]}..., recorded {str(expected)[:12]}...): refusing to load it"
            )
        try:
            return load_saved(recipe_dir, self.project_root)
        except ChampionError as exc:
            raise RegistryError(f"the model of run {run.run_id} does not load: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a user's load() may raise anything
            raise RegistryError(f"the model of run {run.run_id} does not load: "
                                f"{type(exc).__name__}: {exc}") from None

    # ---- versions and aliases -------------------------------------------------------------
    def register(self, model: str, run: RunRecord, tags: dict[str, str]) -> VersionRecord:
        """Create a model version from a run's model (the registered model if needed)."""
        name = self.registered_name(model)
        with _translated(f"registering run {run.run_id} as a version of {model}"):
            try:
                self.client.get_registered_model(name)
            except MlflowException:
                try:
                    self.client.create_registered_model(name, description="Managed by champion.")
                except MlflowException:  # another machine created it first
                    self.client.get_registered_model(name)
            version = self.client.create_model_version(
                name,
                source=run.tags[TAG + "model_uri"],
                run_id=run.run_id,
                tags=tags,
                model_id=run.tags.get(TAG + "model_id") or None,
            )
        return self.version(model, int(version.version))

    def version(self, model: str, version: int) -> VersionRecord:
        with _translated(f"reading {model} version {version}",
                         not_found=f"model {model!r} has no version {version}"):
            mv = self.client.get_model_version(self.registered_name(model), str(version))
        return _version_record(mv, model)

    def versions(self, model: str) -> list[VersionRecord]:
        with _translated(f"listing versions of {model}"):
            found = self.client.search_model_versions(f"name='{self.registered_name(model)}'")
        return sorted((_version_record(mv, model) for mv in found), key=lambda v: v.version)

    def change_token(self) -> tuple[int, ...] | None:
        """Something that changes whenever the store may have changed: the size and mtime of
        a SQLite store's files (cheap to poll), or None for a server (always ask it)."""
        if not self.embedded:
            return None
        database = Path(self.tracking_uri.removeprefix("sqlite:///"))
        token: list[int] = []
        for path in (database, database.with_name(database.name + "-wal")):
            try:
                stat = path.stat()
                token += [stat.st_mtime_ns, stat.st_size]
            except OSError:
                token += [0, 0]
        return tuple(token)

    def aliases(self, model: str) -> dict[str, int]:
        """Alias -> version for one registered model ({} if it has none yet)."""
        try:
            registered = self.client.get_registered_model(self.registered_name(model))
        except MlflowException as exc:
            if _is_not_found(exc):
                return {}
            raise RegistryError(f"reading aliases of {model}: {exc.message}") from None
        return {alias: int(version) for alias, version in registered.aliases.items()}

    def set_alias(self, model: str, alias: str, version: int | None) -> None:
        """Point `alias` at `version`, or remove it when `version` is None (no checks here:
        compare-and-set and history live in `champion.pipelines.aliases`)."""
        name = self.registered_name(model)
        with _translated(f"moving alias {alias} of {model}"):
            if version is None:
                self.client.delete_registered_model_alias(name, alias)
            else:
                self.client.set_registered_model_alias(name, alias, str(version))


def _use_uri(tracking_uri: str) -> None:
    """Point MLflow's fluent API (start_run, log_model, download_artifacts) at `tracking_uri`.
    MLflow also writes it into this process's environment for its subprocesses; we put the
    environment back, so a process we start (an endpoint, an agent's job) resolves its own
    project's URI instead of inheriting this one as if the user had set it."""
    saved = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _input_example(model_dir: Path) -> Any:
    from mlflow.models import Model

    try:
        return Model.load(str(model_dir / "MLmodel")).load_input_example(str(model_dir))
    except (OSError, ValueError, MlflowException):
        return None


def _version_record(mv: Any, model: str) -> VersionRecord:
    return VersionRecord(
        model=model,
        version=int(mv.version),
        run_id=mv.run_id or "",
        tags=dict(mv.tags or {}),
        aliases=list(getattr(mv, "aliases", []) or []),
        created=int(mv.creation_timestamp or 0),
    )


_LOADING_CODE = ("__init__.py", "errors.py", "recipes", "evaluation/__init__.py", "evaluation/paired_tests.py")
"""What of champion a registered model needs to load: the recipes and what they import. No
templates, stores or servers (and no module named like a standard one: MLflow drops modules
of a code path's file names from `sys.modules`)."""


def _loading_code(folder: Path) -> Path:
    """A copy of champion's loading code (`folder/champion`): the model carries it in
    `code/`, so `mlflow.pyfunc.load_model` works where champion is not installed."""
    package = Path(__file__).resolve().parents[1]
    target = folder / "champion"
    for entry in _LOADING_CODE:
        source = package / entry
        if source.is_dir():
            shutil.copytree(source, target / entry, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (target / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / entry)
    return target


def _requirements(recipe: Recipe) -> list[str]:
    """Pinned: MLflow, and the recipe's own packages (numpy, pandas, scikit-learn, ...)."""
    from importlib.metadata import version

    pinned = [f"mlflow=={version('mlflow')}", *recipe.pip_requirements()]
    named = {r.split("==")[0].lower() for r in pinned}
    return pinned + [f"{name}=={version(name)}" for name in ("numpy", "pandas") if name not in named]


def _param(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and value == value and abs(value) != float("inf")


def _is_not_found(exc: MlflowException) -> bool:
    return exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND") or "not found" in exc.message.lower()


def _create_sqlite_whole(tracking_uri: str, artifact_root: Path) -> None:
    """A new SQLite tracking database appears whole or not at all: MLflow's migrations run
    on a file beside it, which is then moved into place. (Migrating in place, a process
    killed mid-way left a database every later command failed on: "table
    _alembic_tmp_experiments already exists".) The caller holds the init lock."""
    if not tracking_uri.startswith("sqlite:///"):
        return
    path = Path(tracking_uri.removeprefix("sqlite:///"))
    if path.exists():
        return
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)  # what a killed first use left
    partial_uri = f"sqlite:///{partial}"
    client = MlflowClient(tracking_uri=partial_uri, registry_uri=partial_uri)
    client.search_experiments(max_results=1)  # the tracking store migrates the database
    client.search_registered_models(max_results=1)
    _forget_engine(partial_uri)
    os.replace(partial, path)


def _forget_engine(db_uri: str) -> None:
    """Close the connections MLflow keeps to a database file that is about to be renamed."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    engines = getattr(SqlAlchemyStore, "_engine_map", {})
    engine = engines.pop(db_uri, None)
    if engine is not None:
        engine.dispose()


@contextmanager
def _translated(action: str, not_found: str | None = None) -> Iterator[None]:
    try:
        yield
    except MlflowException as exc:
        if not_found and _is_not_found(exc):
            raise NotFoundError(not_found) from None
        unreachable = _unreachable(exc.message)
        if unreachable:
            raise RegistryUnreachableError(f"{action}: {unreachable}") from None
        raise RegistryError(f"{action}: {_shortened(exc.message)}") from None


def _shortened(message: str, limit: int = 800) -> str:
    """MLflow lists every file of a failed download: the first of them say enough."""
    return message if len(message) <= limit else message[:limit].rstrip() + f" ... ({len(message) - limit} more characters)"


_FAILED_REQUEST = re.compile(r"API request to (?:endpoint )?(?P<url>\S+?) failed with (?P<how>[^\n]*)")
_WHY = [("Connection refused", "connection refused"), ("timed out", "timed out"),
        ("Connection reset", "connection reset"), ("Connection aborted", "connection reset"),
        ("Name or service not known", "unknown host"), ("RemoteDisconnected", "connection closed")]


def _unreachable(message: str) -> str | None:
    """A readable sentence when MLflow's message says the server did not answer, or answered
    5xx after its retries, to every request it names (a download names one per file); None
    when any failure is of another kind."""
    failures = list(_FAILED_REQUEST.finditer(message))
    if not failures:
        return None
    reasons = []
    for found in failures:
        status = re.search(r"error code (5\d\d)|too many (5\d\d) error responses", found["how"])
        if status is not None:
            reasons.append(f"it answered {status[1] or status[2]}")
        elif found["how"].startswith("exception"):
            reasons.append(next((w for k, w in _WHY if k in found["how"]), "no answer"))
        else:
            return None
    server = re.sub(r"/(?:api|ajax-api)/.*", "", failures[0]["url"])
    at = f" at {redact(server)}" if server.startswith("http") else ""
    return f"the tracking server{at} could not be reached ({reasons[0]}); is it running and healthy?"
