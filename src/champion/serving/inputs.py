"""Turn request payloads into model inputs, checked against the model's signature.

Every problem raises `InputError` naming the field and the position at fault; the HTTP
edge turns it into a 4xx.
"""

from __future__ import annotations

from typing import Any

from champion.errors import InputError
from champion.serving.loaded import MAX_STEPS, InputColumn, LoadedModel, Rows

_STRING_KINDS = ("text", "string")


def score_rows(model: LoadedModel, payload: Any, max_rows: int) -> Rows:
    """Rows of a classifier from the seeds' contract `{"data": [...]}`.

    Each item is either a value (when the model has one input column) or an object with
    one key per input column.
    """
    data = _data_list(payload)
    if len(data) > max_rows:
        raise InputError(f"data: {len(data)} rows in one request; the limit is {max_rows}", too_large=True)
    columns = model.columns
    names = [c.name for c in columns]
    values: dict[str, list[Any]] = {name: [] for name in names}
    for i, item in enumerate(data):
        if isinstance(item, dict):
            unknown = sorted(set(item) - set(names))
            if unknown:
                raise InputError(f"data[{i}]: unknown field(s) {unknown}; the model takes {names}")
            for column in columns:
                if column.name not in item:
                    raise InputError(f"data[{i}]: missing field {column.name!r}")
                values[column.name].append(check_value(column, item[column.name], f"data[{i}].{column.name}"))
        elif len(columns) == 1:
            values[names[0]].append(check_value(columns[0], item, f"data[{i}]"))
        else:
            raise InputError(f"data[{i}]: expected an object with fields {names}, got {_kind(item)}")
    return values


def score_steps(payload: Any) -> int:
    """Forecast length from `{"data": [steps]}`."""
    data = _data_list(payload)
    if len(data) != 1:
        raise InputError(f"data: a forecaster takes one number, the steps to forecast; got {len(data)} items")
    return check_steps(data[0], "data[0]")


def check_steps(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise InputError(f"{where}: steps must be a whole number, got {value!r}")
    steps = int(value)
    if not 1 <= steps <= MAX_STEPS:
        raise InputError(f"{where}: steps must be between 1 and {MAX_STEPS}, got {steps}")
    return steps


def check_value(column: InputColumn, value: Any, where: str) -> Any:
    """`value` if it fits `column`, else an `InputError` naming `where`."""
    if column.kind in _STRING_KINDS:
        if not isinstance(value, str):
            raise InputError(f"{where}: expected a string for {column.name}, got {_kind(value)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number for {column.name}, got {_kind(value)}")
    if column.kind == "integer" and int(value) != value:
        raise InputError(f"{where}: expected a whole number for {column.name}, got {value!r}")
    return value


def _data_list(payload: Any) -> list[Any]:
    if not isinstance(payload, dict):
        raise InputError(f"the body must be a JSON object like {{\"data\": [...]}}, got {_kind(payload)}")
    if "data" not in payload:
        raise InputError("missing field 'data' (expected {\"data\": [...]})")
    unknown = sorted(set(payload) - {"data"})
    if unknown:
        raise InputError(f"unknown field(s) {unknown}; the body holds only 'data'")
    data = payload["data"]
    if not isinstance(data, list):
        raise InputError(f"data: expected a list, got {_kind(data)}")
    if not data:
        raise InputError("data: the list is empty; send at least one row")
    return data


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", int: "a number", float: "a number", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)
