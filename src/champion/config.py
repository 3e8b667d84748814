"""Typed settings of a project, read from its `champion.toml`.

Built once at the composition root (`champion.project.Project`) and passed down. Every
field has a docstring; unknown keys are rejected so that a typo never silently does nothing.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from champion.credentials import has_password
from champion.errors import ConfigError

CONFIG_FILE = "champion.toml"

ColumnType = Literal["string", "text", "integer", "number", "date", "datetime", "label"]
Task = Literal["classification", "regression", "forecasting"]
Direction = Literal["higher", "lower"]
TestName = Literal["mcnemar", "bootstrap", "diebold-mariano", "none"]
DriftMethod = Literal["auto", "ks", "wasserstein", "psi", "chi2", "jensenshannon", "domain_classifier", "none"]
AlertKind = Literal["data_drift", "prediction_drift", "data_quality", "performance", "estimated_performance",
                    "calibration"]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Settings):
    """One column every data file of the model must have."""

    type: ColumnType = "string"
    """Value type: string, text (free UTF-8 text), integer, number, date, datetime, or
    label (one of the model's `labels`)."""
    nullable: bool = False
    """Whether an empty cell is allowed."""


class GoldenSettings(_Settings):
    """How the golden set (held-out rows, never trained on) is chosen."""

    fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    """Classification: share of rows sent to the golden set by a stable hash of `split_by`."""
    salt: str = ""
    """Mixed into the hash; change it only to draw a brand-new golden set."""
    periods: Annotated[int, Field(ge=2, validation_alias=AliasChoices("periods", "days"))] = 42
    """Forecasting: the golden set is the last `periods` periods of the series (days of a
    daily series, weeks of a weekly one). `days` is accepted as the older name."""
    horizon: Annotated[int, Field(ge=1)] = 7
    """Forecasting: steps forecast from each rolling origin inside the golden set."""

    @model_validator(mode="before")
    @classmethod
    def _one_name(cls, data: object) -> object:
        if isinstance(data, dict) and "periods" in data and "days" in data:
            raise ValueError("give `periods` or its older name `days`, not both")
        return data

    @model_validator(mode="after")
    def _origins_exist(self) -> GoldenSettings:
        if self.periods <= self.horizon:
            raise ValueError(f"periods ({self.periods}) must exceed horizon ({self.horizon}): no forecast would fit")
        return self

    @property
    def days(self) -> int:
        """The older name of `periods`."""
        return self.periods


class PolicySettings(_Settings):
    """When a challenger replaces the champion. Unset fields take the task's defaults."""

    primary: str | None = None
    """Metric that decides (classification: brier; forecasting: rmse)."""
    direction: Direction | None = None
    """Whether higher or lower is better for `primary` (known metrics need not say)."""
    min_improvement: Annotated[float, Field(ge=0)] = 0.0
    """Smallest improvement of `primary` (in its own units) worth a promotion."""
    test: TestName | None = None
    """Paired test on the golden set: bootstrap (classification default), mcnemar (accuracy
    only), diebold-mariano (forecasting default), none."""
    alpha: Annotated[float, Field(gt=0, lt=1)] | None = None
    """Level of the one-sided test that the challenger is better (classification: 0.025,
    forecasting: 0.05)."""
    guardrails: dict[str, Annotated[float, Field(ge=0)]] | None = None
    """Metric -> largest drop allowed (in the metric's units) while `primary` improves."""
    bootstrap_samples: Annotated[int, Field(ge=100, le=100_000)] = 2000
    """Resamples for paired bootstrap intervals."""
    seed: int = 0
    """Seed of the bootstrap, so a verdict can be reproduced."""


class DriftTestSettings(_Settings):
    """How one column (or the predictions) is tested for drift."""

    method: DriftMethod = "auto"
    """`auto` picks as Evidently does: numbers K-S (p-value) up to 1,000 reference rows, else
    normalized Wasserstein; categories chi-square up to 1,000 rows, else Jensen-Shannon; text a
    domain classifier's ROC AUC. Or name one: ks, wasserstein, psi, chi2, jensenshannon,
    domain_classifier, none (not tested)."""
    threshold: Annotated[float, Field(gt=0)] | None = None
    """Drift when a p-value (ks, chi2) falls below it or a distance (wasserstein 0.1, psi 0.1,
    jensenshannon 0.1, domain_classifier ROC AUC 0.55) reaches it. Unset: those defaults."""


class AlertSettings(_Settings):
    """Where alerts go and which of them start a retraining."""

    log: bool = True
    """Append every alert to `.champion/alerts.log` (JSON lines)."""
    webhook_url: str | None = None
    """POST each alert as JSON here, the Standard Webhooks way: `webhook-id` (the same for
    every retry of one alert), `webhook-timestamp` and `webhook-signature` (`v1,` + base64
    HMAC-SHA256 of `id.timestamp.body`), so a receiver can verify it and refuse replays."""
    webhook_secret_env: str = "CHAMPION_WEBHOOK_SECRET"
    """Environment variable holding the webhook's key: `whsec_` + base64 (Standard Webhooks),
    or any other text, used as its UTF-8 bytes. Unsigned when unset or empty."""
    webhook_attempts: Annotated[int, Field(ge=1, le=10)] = 4
    """Tries per alert: a connection error, a timeout, a 429 or a 5xx is tried again after
    `webhook_backoff_seconds`, then twice as long each time; another 4xx is not."""
    webhook_backoff_seconds: Annotated[float, Field(ge=0, le=300)] = 1.0
    command: list[str] | None = None
    """Run this command for each alert, the alert's JSON on its standard input."""
    retrain_on: list[AlertKind] = Field(default_factory=lambda: list[AlertKind](["performance", "estimated_performance"]))
    """Alert kinds that start a retraining when `champion agent` runs the monitor."""


class MonitoringSettings(_Settings):
    """How `champion monitor` watches the model in an environment. Fields left unset take the
    task's defaults (`resolve_monitoring`), so a project written by hand is watched as
    sensibly as one made from a template."""

    environment: str = "production"
    """Environment whose prediction log is watched."""
    window: str | None = None
    """Current window: a row count (`1000`) or a duration (`30m`, `24h`, `7d`). Unset:
    classifiers and regressors the last 1000 rows; forecasters 90 periods of the series'
    frequency (`90d` for a daily series, `90w` for a weekly one)."""
    min_rows: Annotated[int, Field(ge=1)] | None = None
    """Fewer logged rows of the served version than this in the window: no alert; what the
    checks find is shown as low-evidence warnings. Unset: 50 rows (classifiers, regressors),
    28 forecast periods (forecasters)."""
    drift_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Share of tested feature columns that must drift for a `data_drift` alert, as
    Evidently's dataset drift (with one feature column, that column decides)."""
    columns: dict[str, DriftTestSettings] = Field(default_factory=dict)
    """Per input column: its drift test (default `auto`)."""
    prediction: DriftTestSettings = DriftTestSettings()
    """Test of the predictions: the positive class's probability (two classes), the share of
    each predicted class (three or more; a numeric method here tests the top-class
    probability instead, shown beside it), the predicted values (regressors, forecasters)."""
    max_drop: dict[str, Annotated[float, Field(ge=0)]] | None = None
    """Largest drop from the version's golden-set metrics before a performance alert: for
    accuracy and f1 in metric units, for the error metrics rmse and mae the largest relative
    rise (0.25: a quarter worse). Merged over the task's defaults: classifiers accuracy 0.01
    and f1 0.01 (macro F1 for three or more classes); regressors and forecasters rmse 0.25 and
    mae 0.25."""
    calibration_tolerance: Annotated[float, Field(gt=0, lt=1)] = 0.05
    """Largest expected calibration error on labelled rows before the estimate is not trusted."""
    min_labelled: Annotated[int, Field(ge=1)] | None = None
    """Fewest labelled rows in a window for realized performance to be judged (with fewer,
    from 10 on, it is shown as a low-evidence warning). Unset: 30 rows (classifiers,
    regressors), 14 forecast periods (forecasters)."""
    profile_sample: Annotated[int, Field(ge=100, le=1_000_000)] = 10_000
    """Values kept per column in a version's reference profile (a uniform sample)."""
    alerts: AlertSettings = AlertSettings()

    @field_validator("window")
    @classmethod
    def _window_form(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value)
        return value

    @field_validator("max_drop")
    @classmethod
    def _monitored_metrics(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        unknown = sorted(set(value or {}) - set(MONITORED_METRICS))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a monitored metric ({', '.join(MONITORED_METRICS)})")
        return value


MONITORED_METRICS = ("accuracy", "f1", "rmse", "mae")
"""Metrics the monitor compares with the golden set (`max_drop` keys)."""


class ResolvedMonitoring(MonitoringSettings):
    """`MonitoringSettings` with every task default filled in: what the monitor reads."""

    window: str
    min_rows: int
    min_labelled: int
    max_drop: dict[str, float]


class _TaskDefaults(NamedTuple):
    window: str | None  # None: FORECAST_WINDOW_PERIODS periods of the series
    min_rows: int
    min_labelled: int
    max_drop: dict[str, float]


_MONITORING_DEFAULTS = {
    "classification": _TaskDefaults("1000", 50, 30, {"accuracy": 0.01, "f1": 0.01}),
    "regression": _TaskDefaults("1000", 50, 30, {"rmse": 0.25, "mae": 0.25}),
    "forecasting": _TaskDefaults(None, 28, 14, {"rmse": 0.25, "mae": 0.25}),
}
FORECAST_WINDOW_PERIODS = 90
"""A forecaster's default window spans this many periods of its series."""


def resolve_monitoring(settings: MonitoringSettings, task: str, frequency: str | None = "D") -> ResolvedMonitoring:
    """Fill the task's defaults into the fields `settings` leaves unset (see each field's
    docstring); `frequency` (a pandas offset alias) sizes a forecaster's window."""
    defaults = _MONITORING_DEFAULTS.get(task, _MONITORING_DEFAULTS["classification"])
    window = settings.window or defaults.window or _periods_window(FORECAST_WINDOW_PERIODS, frequency or "D")
    values = settings.model_dump(exclude={"window", "min_rows", "min_labelled", "max_drop"})
    return ResolvedMonitoring(
        **values, window=window,
        min_rows=settings.min_rows if settings.min_rows is not None else defaults.min_rows,
        min_labelled=settings.min_labelled if settings.min_labelled is not None else defaults.min_labelled,
        max_drop={**defaults.max_drop, **(settings.max_drop or {})})


# Days in one period of each pandas offset alias (without its anchor, e.g. W-SUN -> W);
# calendar periods at their mean length.
_PERIOD_DAYS = {"S": 1 / 86400, "T": 1 / 1440, "MIN": 1 / 1440, "H": 1 / 24, "BH": 1 / 24, "D": 1.0,
                "B": 7 / 5, "C": 7 / 5, "W": 7.0, "SM": 365.25 / 24, "M": 365.25 / 12, "Q": 365.25 / 4,
                "A": 365.25, "Y": 365.25}


def period_days(frequency: str) -> float:
    """Length in days of one period of a pandas offset alias (`D`, `2h`, `W-SUN`, `MS`, `QE`,
    `YS`); a daily period when the alias is not known."""
    match = re.fullmatch(r"\s*(\d*)\s*([A-Za-z]+)(?:-[A-Za-z]+)?\s*", frequency)
    if not match:
        return 1.0
    count = int(match.group(1) or 1)
    alias = match.group(2).upper()
    def unanchored(name: str) -> str:  # MS, ME, QS, YE: month/quarter/year start or end
        return name.removesuffix("S").removesuffix("E")

    # BMS, CBMS: business-day variants of the calendar periods
    for name in (alias, unanchored(alias), unanchored(alias.removeprefix("B")), unanchored(alias.removeprefix("CB"))):
        if name in _PERIOD_DAYS:
            return count * _PERIOD_DAYS[name]
    return float(count)


def _periods_window(periods: int, frequency: str) -> str:
    days = periods * period_days(frequency)
    if (days / 7).is_integer():
        return f"{int(days // 7)}w"
    if days.is_integer():
        return f"{int(days)}d"
    if days < 7:
        return f"{math.ceil(days * 24)}h"
    return f"{math.ceil(days)}d"


# Spellings pandas 3 no longer reads, and the ones that replaced them.
_OLDER_FREQUENCIES = {"M": "ME", "Q": "QE", "A": "YE", "Y": "YE", "AS": "YS", "BM": "BME",
                      "BQ": "BQE", "BA": "BYE", "BY": "BYE", "BAS": "BYS", "H": "h", "BH": "bh",
                      "T": "min", "S": "s", "L": "ms", "U": "us", "N": "ns"}


def pandas_frequency(alias: str) -> str:
    """`alias` as this pandas spells it (`M` -> `ME`, `Q-DEC` -> `QE-DEC`, `H` -> `h`);
    `ValueError` when it is no offset alias at all."""
    from pandas.tseries.frequencies import to_offset

    text = alias.strip()
    try:
        to_offset(text)
        return text
    except ValueError:
        count = text[: len(text) - len(text.lstrip("0123456789"))]
        name, dash, anchor = text[len(count):].partition("-")
        newer = _OLDER_FREQUENCIES.get(name)
        if newer is not None:
            candidate = f"{count}{newer}{dash}{anchor}"
            try:
                to_offset(candidate)
                return candidate
            except ValueError:
                pass
        raise ValueError(f"frequency {alias!r} is not a pandas offset alias "
                         "(e.g. h, D, B, W, MS, QS, YS)") from None


def parse_window(text: str) -> tuple[int | None, float | None]:
    """`"1000"` -> (1000, None) rows; `"24h"` -> (None, 86400.0) seconds. `ValueError` otherwise."""
    raw = text.strip().lower()
    if raw.isdigit() and int(raw) > 0:
        return int(raw), None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = raw[:-1], raw[-1:]
    try:
        amount = float(number)
    except ValueError:
        amount = -1.0
    if unit not in units or amount <= 0:
        raise ValueError(f"window {text!r}: write a row count (1000) or a duration (30m, 24h, 7d)")
    return None, amount * units[unit]


class TriggerSettings(_Settings):
    """When `champion agent` retrains the model."""

    schedule: str | None = None
    """Cron expression (5 fields, local time), e.g. `0 3 * * 1` for Mondays at 03:00."""
    watch_incoming: bool = True
    """A new file in the model's `incoming` folder: validate, ingest, retrain."""
    monitor_minutes: Annotated[float, Field(ge=0)] = 60.0
    """Run the monitor this often; alerts named in `monitoring.alerts.retrain_on` retrain.
    0: no monitor checks."""
    release: bool = True
    """Release a promoted model through staging to production (else only register it)."""


class ModelSettings(_Settings):
    """A model the project keeps improving."""

    recipe: str
    """Built-in recipe name (`text-classifier`, `forecaster`) or `module:Class` import path."""
    registry_name: str | None = None
    """The registered model's and experiment's name in MLflow. Default: the model's name in
    the embedded registry; `PROJECT.MODEL` (the `[project]` name, a dot, this model's name) on
    a shared tracking server, so two projects with a model `spam` never meet there."""
    data: list[str]
    """Initial data files or glob patterns, relative to the project folder."""
    incoming: str = "data/incoming"
    """Folder where new data files land (watched by the agent)."""
    columns: dict[str, ColumnSpec]
    """Columns every data file must have, with their types (`NAME = "text"` is short for
    `NAME = { type = "text" }`)."""
    id: list[str] = Field(default_factory=list)
    """Columns that identify a row (duplicates, feedback). Forecasting: the time column."""
    split_by: list[str] = Field(default_factory=list)
    """Columns hashed to choose the golden set (default: `id`). Using the text itself keeps
    copies of one comment on the same side of the split."""
    features: list[str] = Field(default_factory=list)
    """Classification: the columns the model reads."""
    target: str
    """Column the model predicts."""
    labels: list[int | str] = Field(default_factory=list)
    """Classification: the allowed labels."""
    positive_label: int | str | None = None
    """Classification: the label precision, recall and F1 are about (default: the last)."""
    time: str | None = None
    """Forecasting: the date column."""
    frequency: str = "D"
    """Forecasting: the series' period, a pandas offset alias: h (hourly), D (daily), B
    (business days), W or W-SUN (weekly), MS or ME (monthly), QS or QE (quarterly), YS or YE
    (yearly). Older spellings (H, M, Q, A, Y, T, S) are accepted. The forecaster's season
    follows it (hourly 24, daily 7, weekly 52.18, monthly 12, quarterly 4, yearly none)."""
    delimiter: str | None = None
    """Field separator of the model's text data files (one character, e.g. `";"` or `"\\t"`).
    Unset: a tab for `.tsv` and `.tab` files, `,` for others (`.csv`, `.txt`). Parquet files
    (`.parquet`, `.pq`) carry their own types and need none."""
    params: dict[str, int | float | str | bool | None] = Field(default_factory=dict)
    """Recipe parameters (overridden per run by `--param KEY=VALUE`)."""
    golden: GoldenSettings = GoldenSettings()
    policy: PolicySettings = PolicySettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    triggers: TriggerSettings = TriggerSettings()

    @field_validator("frequency")
    @classmethod
    def _pandas_frequency(cls, value: str) -> str:
        return pandas_frequency(value)

    @field_validator("columns", mode="before")
    @classmethod
    def _short_column_form(cls, value: object) -> object:
        if isinstance(value, dict):
            if not value:
                raise ValueError("declare at least one column")
            return {k: {"type": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 1 or value in "\"\r\n"):
            raise ValueError(f"{value!r}: the field separator is one character other than a quote or a line "
                             "break, e.g. \",\", \";\", \"|\" or \"\\t\" (a tab)")
        return value

    @model_validator(mode="after")
    def _columns_known(self) -> ModelSettings:
        named = [self.target, *self.id, *self.split_by, *self.features]
        if self.time:
            named.append(self.time)
        unknown = sorted({c for c in named if c not in self.columns})
        if unknown:
            raise ValueError(f"columns {unknown} are used but not declared in `columns`")
        if self.positive_label is not None and self.labels and self.positive_label not in self.labels:
            raise ValueError(f"positive_label {self.positive_label!r} is not in labels")
        unknown = sorted(c for c in self.monitoring.columns if c not in self.columns)
        if unknown:
            raise ValueError(f"monitoring.columns {unknown} are not declared in `columns`")
        return self

    @property
    def split_columns(self) -> list[str]:
        return self.split_by or self.id


class SmokeSettings(_Settings):
    """What `champion smoke-test ENV` demands of an endpoint."""

    rows: Annotated[int, Field(ge=1, le=100_000)] = 200
    """Golden-set rows scored through the endpoint (classifiers)."""
    min_accuracy: Annotated[float, Field(ge=0, le=1)] | None = None
    """Accuracy floor on those rows (classifiers). Unset: no floor (the endpoint's answers must
    still equal the version's own offline answers, row by row); what accuracy is good enough
    depends on the task, so a project states it (the spam template asks for 0.8)."""
    p95_ms: Annotated[float, Field(gt=0)] = 250.0
    """Budget for the 95th percentile latency of one-row requests, in milliseconds."""
    requests: Annotated[int, Field(ge=1, le=10_000)] = 50
    """One-row requests timed for the latency check."""


class EnvironmentSettings(_Settings):
    """A scoring endpoint that serves one alias (`staging`, `production`) of every model."""

    host: str = "127.0.0.1"
    """Address to bind; loopback unless a team decides otherwise."""
    port: Annotated[int, Field(ge=1, le=65535)]
    """TCP port of the endpoint."""
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    """Worker processes (each binds the port with SO_REUSEPORT and batches its own requests)."""
    alias: str | None = None
    """Registry alias served (default: the environment's name)."""
    api_key_env: str = "CHAMPION_API_KEY"
    """Environment variable holding the scoring API key (header `X-API-Key` or
    `Authorization: Bearer`); scoring is open when the variable is unset or empty."""
    admin_key_env: str = "CHAMPION_ADMIN_KEY"
    """Environment variable holding the key of the admin routes (`/admin/*`); they are
    disabled when it is unset or empty."""
    open_metadata: bool | None = None
    """Whether `/metadata`, `/metrics`, `/openapi.json`, `/docs` and `/v2/models/...`
    metadata answer without the scoring key (they show run ids, hashes and the model's
    contract). Unset: open when no scoring key is set, closed when one is. Health and
    readiness routes are always open (probes)."""
    poll_seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0
    """How often each worker checks whether its alias moved."""
    retry_refused_seconds: Annotated[float, Field(gt=0, le=86400)] = 30.0
    """A version the endpoint refused (its artifact failed to load or verify) is tried again
    after this long, then after twice as long each time, up to ten minutes (a repaired
    artifact is picked up without a restart). `deploy` and `/admin/reload` retry at once."""
    max_body_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    """Largest request body accepted (413 above)."""
    max_batch_rows: Annotated[int, Field(ge=1)] = 10_000
    """Most rows in one request (413 above)."""
    max_row_chars: Annotated[int, Field(ge=1)] = 100_000
    """Most characters of text in one row of a request, all columns together (413 above):
    the work of one row is bounded (a text's features cost time in proportion to its length)."""
    max_request_chars: Annotated[int, Field(ge=1)] = 2_000_000
    """Most characters of text in one request (413 above). A large request is predicted in
    pieces, and other requests are answered between them."""
    read_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """Longest wait for a request's headers, and for its body once the headers came (408,
    and the connection closed): a client that sends slowly, declares more bytes than it
    sends, or opens a connection and sends nothing, does not hold it for ever."""
    batch_rows: Annotated[int, Field(ge=1)] = 2_048
    """Most rows that concurrent requests are merged into for one predict call."""
    startup_seconds: Annotated[float, Field(gt=0)] = 120.0
    """How long `deploy` and `up` wait for the endpoint to report Healthy."""
    smoke: SmokeSettings = Field(default_factory=SmokeSettings)
    """Checks of `champion smoke-test`."""
    log_predictions: bool = True
    """Record every scored row in the prediction log (spooled by the workers, loaded into the
    state store by the endpoint's log loader process)."""
    log_queue_rows: Annotated[int, Field(ge=1)] = 1_000_000
    """Rows a worker may have spooled but not yet loaded before it drops (and counts) new ones
    (the spool is on disk: about 200 bytes a one-comment row)."""
    log_retention_days: Annotated[float, Field(gt=0)] = 30.0
    """Logged predictions and their feedback older than this are deleted."""


class ProjectSettings(_Settings):
    """The `[project]` table."""

    name: str
    """Project name, shown in reports."""
    default_model: str | None = None
    """Model used when a command omits MODEL (default: the only model)."""
    tracking_uri: str | None = None
    """MLflow tracking and registry URI (default: SQLite under `.champion/`). A team's is an
    MLflow server, `http://mlflow.internal:5000`. `CHAMPION_TRACKING_URI`, then
    `MLFLOW_TRACKING_URI`, override it. Never a password here: MLflow's variables hold it."""
    state_uri: str | None = None
    """SQLAlchemy URL of champion's own tables (default: SQLite under `.champion/`). A team's
    is PostgreSQL, `postgresql://champion@db.internal/champion`. `CHAMPION_STATE_URI`
    overrides it. Never a password here: `PGPASSWORD`, `~/.pgpass` or a service file hold it."""

    @field_validator("tracking_uri", "state_uri")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value and has_password(value):
            raise ValueError("holds a password; remove it from champion.toml and give it through the "
                             "environment (PGPASSWORD or ~/.pgpass for PostgreSQL, MLFLOW_TRACKING_PASSWORD or "
                             "MLFLOW_TRACKING_TOKEN for an MLflow server)")
        return value


class ChampionConfig(_Settings):
    """The whole `champion.toml`."""

    project: ProjectSettings
    models: dict[str, ModelSettings]
    environments: dict[str, EnvironmentSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _models_present(self) -> ChampionConfig:
        if not self.models:
            raise ValueError("declare at least one model under [models.NAME]")
        for name in self.models:
            if not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"model name {name!r}: use letters, digits, '-' and '_' only")
        if self.project.default_model and self.project.default_model not in self.models:
            raise ValueError(f"default_model {self.project.default_model!r} is not a declared model")
        return self


def load_config(path: Path) -> ChampionConfig:
    """Read and validate a `champion.toml`; every problem becomes a `ConfigError`."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (run `champion init DIR` to create a project)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return ChampionConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid settings:\n{_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)
