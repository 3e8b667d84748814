"""Ground truth for logged predictions: `champion feedback MODEL FILE` and `POST /feedback`.

Both edges validate everything first (an error names the file, row and column, or the
item of the JSON body) and then call `add_feedback`, which stores the actual values in the
prediction log's feedback table. Feedback finds its predictions when a window is read, by
one of three keys:

- the request id (and the row within the request; no row: every row of the request),
- the row's identity: the model's `id` columns (a forecaster: its date column),
- the row's features (the same feature values were scored).

So feedback may arrive before its prediction is written; it is counted as pending until then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from champion.config import ColumnSpec, ModelSettings
from champion.data.cells import is_iso_time
from champion.data.validation import read_data_file, read_header, refuse_links
from champion.errors import DataError, InputError
from champion.state.predictions import FeedbackRecord, row_key
from champion.workspace import Workspace

REQUEST_ID, ROW = "request_id", "row"
_BODY_EXAMPLE = '{"feedback": [{"request_id": "...", "row": 0, "actual": 1}]}'


@dataclass(frozen=True)
class Feedback:
    """One validated actual value and the key that finds its prediction(s)."""

    actual: Any
    request_id: str | None = None
    row: int | None = None
    identity_key: str | None = None
    feature_key: str | None = None

    @property
    def matched_by(self) -> str:
        if self.request_id is not None:
            return REQUEST_ID
        return "id" if self.identity_key is not None else "features"


@dataclass(frozen=True)
class FeedbackReport:
    """What `add_feedback` stored."""

    model: str
    environment: str
    source: str
    matched_by: list[str]
    received: int
    matched: int
    """Feedback rows that match at least one logged prediction now."""
    pending: int
    """Feedback rows that match none yet (their predictions may still be on their way)."""

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "environment": self.environment, "source": self.source,
                "matched_by": self.matched_by, "received": self.received, "matched": self.matched,
                "pending": self.pending}


def add_feedback(ws: Workspace, model: str, environment: str, items: list[Feedback], source: str) -> FeedbackReport:
    """Store validated feedback for `model` in `environment`; report matched and pending."""
    ws.project.environment(environment)  # NotFoundError naming the known ones
    records = [FeedbackRecord(model, environment, f.actual, request_id=f.request_id, row=f.row,
                              identity_key=f.identity_key, feature_key=f.feature_key) for f in items]
    result = ws.predictions.add_feedback(records)
    return FeedbackReport(model, environment, source, sorted({f.matched_by for f in items}), result.received,
                          result.matched, result.pending)


def is_forecaster(settings: ModelSettings) -> bool:
    return not settings.features


# ---- files -----------------------------------------------------------------------------------
def read_feedback_file(settings: ModelSettings, path: Path) -> list[Feedback]:
    """Validate a feedback file (CSV, TSV, Parquet: as data files); `DataError` naming file, row
    and column otherwise.

    Matches by `request_id` (+ optional `row`) when the header has it, else by the model's
    `id` columns (forecasters: its date column), else by its feature columns; the actual
    value is in the model's target column."""
    refuse_links([path])
    way, keys = _key_columns(settings, read_header(path, settings), path)
    columns = {name: ColumnSpec(type=spec.type, nullable=name == ROW) for name, spec in keys.items()}
    columns[settings.target] = ColumnSpec(type=settings.columns[settings.target].type)
    # The file is read as a dataset of just these columns: the same parsing and messages as
    # `champion ingest` (no identity or time-series checks: feedback rows may repeat or skip).
    narrowed = settings.model_copy(update={"columns": columns, "id": [], "split_by": [], "features": [],
                                           "time": None})
    frame = read_data_file(path, narrowed).frame
    values = {name: frame[name].tolist() for name in columns}
    numbers = frame.attrs["row"]
    actual = values[settings.target]
    if REQUEST_ID in keys:
        rows = values.get(ROW, [None] * len(frame))
        for i, row in enumerate(rows):
            if row is not None and row < 0:
                raise DataError(f"row {row}: a row within a request counts from 0", file=path, row=numbers[i],
                                line=frame.attrs["line"][i], column=ROW)
        return [Feedback(a, request_id=str(r), row=None if n is None or n != n else int(n))  # NaN: no row
                for a, r, n in zip(actual, values[REQUEST_ID], rows, strict=True)]
    kinds = [spec.type for spec in keys.values()]
    keyed = zip(actual, zip(*(values[name] for name in keys), strict=True), strict=True)
    if way == "features":
        return [Feedback(a, feature_key=row_key(v, kinds)) for a, v in keyed]
    return [Feedback(a, identity_key=row_key(v, kinds)) for a, v in keyed]


def _key_columns(settings: ModelSettings, header: list[str], path: Path) -> tuple[str, dict[str, ColumnSpec]]:
    """How the rows find their predictions (request_id, id, features), chosen by what the
    header holds, and the columns that say it."""
    if REQUEST_ID in header:
        keys = {REQUEST_ID: ColumnSpec(type="string")}
        if ROW in header:
            keys[ROW] = ColumnSpec(type="integer")
        return REQUEST_ID, keys
    if is_forecaster(settings):
        if settings.time is None:
            raise DataError(f"the model has no time column; name the predictions by {REQUEST_ID}", file=path)
        return "id", {settings.time: settings.columns[settings.time]}
    if settings.id and all(c in header for c in settings.id):
        return "id", {c: settings.columns[c] for c in settings.id}
    if all(c in header for c in settings.features) or len(header) <= 1:
        # No header, or one name (another separator?): reading the file reports what it looks like.
        return "features", {c: settings.columns[c] for c in settings.features}
    ways = [f"{REQUEST_ID} (+ optional {ROW})"]
    if settings.id:
        ways.append(f"the id column(s) {', '.join(settings.id)}")
    ways.append(f"the feature column(s) {', '.join(settings.features)}")
    missing = next((c for c in settings.id if c not in header), None) or \
        next(c for c in settings.features if c not in header)
    raise DataError(f"cannot tell which predictions the rows are for: the header needs {' or '.join(ways)}, "
                    f"plus {settings.target} (header has: {', '.join(header)})", file=path, column=missing)



# ---- JSON bodies ------------------------------------------------------------------------------
def parse_feedback_body(settings: ModelSettings, payload: Any) -> list[Feedback]:
    """Validate a `POST /feedback` body; `InputError` naming the item and field otherwise.

    `{"feedback": [{"request_id": "...", "row": 0, "actual": 1}, {"id": {"COMMENT_ID": "x"},
    "actual": 0}, {"features": {"CONTENT": "..."}, "actual": 1}]}`; a forecaster's items may
    name the date instead: `{"time": "2014-01-31", "actual": 1234.5}`."""
    if not isinstance(payload, dict) or not isinstance(payload.get("feedback"), list):
        raise InputError(f"the body must be a JSON object like {_BODY_EXAMPLE}")
    unknown = sorted(set(payload) - {"feedback"})
    if unknown:
        raise InputError(f"unknown field(s) {unknown}; the body holds only 'feedback'")
    if not payload["feedback"]:
        raise InputError("feedback: the list is empty; send at least one item")
    return [_item(settings, item, f"feedback[{i}]") for i, item in enumerate(payload["feedback"])]


def _item(settings: ModelSettings, item: Any, where: str) -> Feedback:
    forecaster = is_forecaster(settings)
    ways = [REQUEST_ID, "time"] if forecaster else [REQUEST_ID, "id", "features"]
    if not isinstance(item, dict):
        raise InputError(f"{where}: expected an object with 'actual' and one of {ways}")
    unknown = sorted(set(item) - {*ways, ROW, "actual"})
    if unknown:
        raise InputError(f"{where}: unknown field(s) {unknown}; an item has 'actual' and one of {ways}")
    given = [w for w in ways if w in item]
    if len(given) != 1:
        raise InputError(f"{where}: give exactly one of {ways} (got {given or 'none'})")
    if "actual" not in item:
        raise InputError(f"{where}: missing field 'actual'")
    actual = _actual(settings, item["actual"], f"{where}.actual")
    if ROW in item and given[0] != REQUEST_ID:
        raise InputError(f"{where}.row: 'row' goes with 'request_id' only")
    if given[0] == REQUEST_ID:
        request_id, row = item[REQUEST_ID], item.get(ROW)
        if not isinstance(request_id, str) or not request_id:
            raise InputError(f"{where}.request_id: expected a non-empty string, got {request_id!r}")
        if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 0):
            raise InputError(f"{where}.row: expected a whole number >= 0 (the row within the request), got {row!r}")
        return Feedback(actual, request_id=request_id, row=row)
    if given[0] == "time":
        time = settings.time or ""
        kind = settings.columns[time].type if time in settings.columns else "date"
        return Feedback(actual, identity_key=row_key([_typed(item["time"], kind, f"{where}.time")], [kind]))
    columns = settings.id if given[0] == "id" else settings.features
    if not columns:
        raise InputError(f"{where}.id: the model declares no id columns; send 'request_id' or 'features'")
    values = item[given[0]]
    if not isinstance(values, dict) or set(values) != set(columns):
        raise InputError(f"{where}.{given[0]}: expected an object with exactly the fields {columns}, got "
                         f"{sorted(values) if isinstance(values, dict) else values!r}")
    kinds = [settings.columns[c].type for c in columns]
    typed = [_typed(values[c], k, f"{where}.{given[0]}.{c}") for c, k in zip(columns, kinds, strict=True)]
    key = row_key(typed, kinds)
    return Feedback(actual, identity_key=key) if given[0] == "id" else Feedback(actual, feature_key=key)


def _actual(settings: ModelSettings, value: Any, where: str) -> Any:
    if settings.columns[settings.target].type != "label":  # a forecast or a regression target
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InputError(f"{where}: expected a finite number for {settings.target}, got {value!r}")
        return value
    for label in settings.labels:
        if value == label and isinstance(value, bool) == isinstance(label, bool):
            return label
    raise InputError(f"{where}: label {value!r} is not one of {list(settings.labels)}")


def _typed(value: Any, kind: str, where: str) -> Any:
    """`value` if it is a JSON value of column type `kind`, else an `InputError`."""
    if kind in ("string", "text"):
        if isinstance(value, str):
            return value
    elif kind in ("date", "datetime"):
        if is_iso_time(value):
            return value
        raise InputError(f"{where}: expected an ISO {kind} (YYYY-MM-DD), got {value!r}")
    elif kind == "label":
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
    elif not isinstance(value, bool) and isinstance(value, int | float):
        if kind == "number" and math.isfinite(value):
            return value
        if kind == "integer" and float(value).is_integer():
            return int(value)
    raise InputError(f"{where}: expected a {'string' if kind in ('text', 'label') else kind} value, got {value!r}")
