"""Turn request payloads into model inputs, checked against the model's signature.

Every problem raises `InputError` naming the field and the position at fault; the HTTP
edge turns it into a 4xx.
"""

from __future__ import annotations

import math
import reprlib
import sys
from collections.abc import Sequence
from typing import Any

from champion.data.cells import is_iso_time
from champion.errors import InputError
from champion.serving.loaded import MAX_STEPS, InputColumn, LoadedModel, Rows

_STRING_KINDS = ("text", "string", "label")
_INT64 = (-(2**63), 2**63 - 1)
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 3


def score_rows(model: LoadedModel, payload: Any, max_rows: int) -> Rows:
    """Rows of a classifier from the seeds' contract `{"data": [...]}`.

    Each item is either a value (when the model has one input column) or an object with
    one key per input column.
    """
    return score_rows_with_ids(model, payload, max_rows, ())[0]


def score_rows_with_ids(model: LoadedModel, payload: Any, max_rows: int,
                        id_columns: Sequence[InputColumn]) -> tuple[Rows, Rows | None]:
    """Like `score_rows`, but a row object may also carry the model's identity columns
    (`id_columns`, e.g. COMMENT_ID), all of them or none; they are not model input, they let
    feedback find the row later. Returns the rows and, when any row carried them, the
    identity values (None for rows without)."""
    data = _data_list(payload)
    if len(data) > max_rows:
        raise InputError(f"data: {len(data)} rows in one request; the limit is {max_rows}", too_large=True)
    columns = model.columns
    names = [c.name for c in columns]
    allowed = set(names).union(c.name for c in id_columns)
    values: dict[str, list[Any]] = {name: [] for name in names}
    ids: dict[str, list[Any]] | None = None
    for i, item in enumerate(data):
        if isinstance(item, dict):
            unknown = sorted(set(item) - allowed)
            if unknown:
                also = f" (and the row identity {[c.name for c in id_columns]})" if id_columns else ""
                raise InputError(f"data[{i}]: unknown field(s) {unknown}; the model takes {names}{also}")
            for column in columns:
                if column.name not in item:
                    raise InputError(f"data[{i}]: missing field {column.name!r}")
                values[column.name].append(check_value(column, item[column.name], f"data[{i}].{column.name}"))
            if len(item) > len(columns):  # identity fields came along
                if ids is None:
                    ids = {c.name: [None] * i for c in id_columns}
                for column in id_columns:
                    if column.name not in item:
                        raise InputError(f"data[{i}]: missing identity field {column.name!r} (send all of "
                                         f"{[c.name for c in id_columns]} or none)")
                    ids[column.name].append(_check_identity(column, item[column.name], f"data[{i}].{column.name}"))
                continue
        elif len(columns) == 1:
            values[names[0]].append(check_value(columns[0], item, f"data[{i}]"))
        else:
            raise InputError(f"data[{i}]: expected an object with fields {names}, got {_kind(item)}")
        if ids is not None:
            for column_values in ids.values():
                column_values.append(None)
    return values, ids


def score_steps(payload: Any) -> int:
    """Forecast length from `{"data": [steps]}`."""
    data = _data_list(payload)
    if len(data) != 1:
        raise InputError(f"data: a forecaster takes one number, the steps to forecast; got {len(data)} items")
    return check_steps(data[0], "data[0]")


def check_steps(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not _whole(value):
        raise InputError(f"{where}: steps must be a whole number, got {show(value)}")
    steps = int(value)
    if not 1 <= steps <= MAX_STEPS:
        raise InputError(f"{where}: steps must be between 1 and {MAX_STEPS}, got {steps}")
    return steps


def check_value(column: InputColumn, value: Any, where: str) -> Any:
    """`value` if it fits `column`, else an `InputError` naming `where`."""
    if value is None and column.nullable:
        return None
    if column.kind in _STRING_KINDS:
        if not isinstance(value, str):
            raise InputError(f"{where}: expected a string for {column.name}, got {_kind(value)}")
        return value
    if column.kind in ("date", "datetime"):
        if is_iso_time(value):
            return value
        raise InputError(f"{where}: expected an ISO {column.kind} (e.g. 2024-05-31) for {column.name}, "
                         f"got {_kind(value) if not isinstance(value, str) else show(value)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number for {column.name}, got {_kind(value)}")
    if not (math.isfinite(value) if isinstance(value, float) else abs(value) <= sys.float_info.max):
        raise InputError(f"{where}: expected a finite number for {column.name}, got {show(value)}")
    if column.kind == "integer" and (not _whole(value) or not _INT64[0] <= value <= _INT64[1]):
        raise InputError(f"{where}: expected a whole number (64 bits) for {column.name}, got {show(value)}")
    return value


def show(value: Any) -> str:
    """A request value for a message: shortened, and safe however deeply it nests."""
    return _REPR.repr(value)


def _whole(value: int | float) -> bool:
    return isinstance(value, int) or (math.isfinite(value) and value.is_integer())


def _check_identity(column: InputColumn, value: Any, where: str) -> Any:
    if column.kind == "label":
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise InputError(f"{where}: expected a string or whole number for {column.name}, got {_kind(value)}")
    return check_value(column, value, where)


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


def check_text_size(lengths: list[int], max_row_chars: int, max_request_chars: int) -> None:
    """`InputError` (413) when a row or the request holds more characters of text than
    allowed (`lengths`: the rows' `text_lengths`)."""
    if not lengths:
        return
    longest = max(lengths)
    if longest > max_row_chars:
        raise InputError(f"row {lengths.index(longest)} holds {longest:,} characters of text; the limit is "
                         f"{max_row_chars:,} a row (max_row_chars)", too_large=True)
    total = sum(lengths)
    if total > max_request_chars:
        raise InputError(f"the request holds {total:,} characters of text; the limit is {max_request_chars:,} "
                         "(max_request_chars): send fewer rows per request", too_large=True)
