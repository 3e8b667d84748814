"""Parquet files, checked as strictly as text files and turned into the same values.

Each declared column is checked against its Parquet type, or against its values where the
type allows several readings: integers for `integer` (floats too, when every one is whole),
numbers for `number`, text for string, text and label columns (integers too, as their
digits), dates or timestamps for date and datetime columns; text columns of any declared
type are read as a text file's cells are. Rows are numbered from 1; a Parquet file has no
lines. pyarrow is imported only when a Parquet file is read, and its errors stop here.
"""

from __future__ import annotations

import math
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from champion.config import ColumnSpec, ModelSettings
from champion.data import formats
from champion.data.cells import convert_column
from champion.data.columns import FileProblems, Problem, ReadColumns, RowNumbers, check_header
from champion.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

MAGIC = b"PAR1"
_INT64_MAX = 2**63 - 1
_NEEDS = {"integer": "integers (or floats that are all whole, or text)", "number": "numbers (or text)",
          "string": "text (or integers)", "text": "text (or integers)", "label": "text or integers",
          "date": "dates, timestamps or ISO 8601 text", "datetime": "timestamps, dates or ISO 8601 text"}


class _Mismatch(Exception):
    """A whole column of a type the declared type cannot be read from."""


def read_parquet(path: Path, raw: bytes, model: ModelSettings, model_name: str | None = None) -> ReadColumns:
    """The model's columns from a Parquet file; `DataError` naming file, row and column."""
    if len(raw) < 12 or not (raw.startswith(MAGIC) and raw.endswith(MAGIC)):
        raise DataError(f"not a Parquet file: {formats.text_hint(raw, path, model_name)}", file=path)
    pa, pq = _pyarrow(path)
    try:
        parquet_file = pq.ParquetFile(pa.BufferReader(raw))
        stored = list(parquet_file.schema_arrow.names)
    except _ERRORS as exc:
        raise DataError(f"not a readable Parquet file: {_reason(exc)}", file=path) from None
    names = [name.strip() for name in stored]
    check_header(path, names, model, "the file", lambda: None)
    wanted = {name: stored[names.index(name)] for name in model.columns}
    try:
        table = parquet_file.read(columns=list(wanted.values()), use_threads=False)
    except _ERRORS as exc:
        raise DataError(f"not a readable Parquet file: {_reason(exc)}", file=path) from None
    count = table.num_rows
    if count == 0:
        raise DataError("the file has columns but no data rows", file=path)
    values: dict[str, Any] = {}
    problems: list[tuple[int, int, Problem]] = []
    for order, (name, spec) in enumerate(model.columns.items()):
        try:
            column, failed = _convert(pa, table.column(wanted[name]), spec, model)
        except _Mismatch as exc:
            problems.append((0, order, Problem(None, None, name, str(exc))))
            continue
        except _ERRORS as exc:
            problems.append((0, order, Problem(None, None, name, f"cannot be read: {_reason(exc)}")))
            continue
        problems.extend((position + 1, order, Problem(position + 1, None, name, message))
                        for position, message in failed)
        values[name] = column
    if problems:
        problems.sort(key=lambda p: p[:2])
        raise FileProblems(path, [p for _, _, p in problems])
    return ReadColumns(values, RowNumbers(range(1, count + 1)), RowNumbers([None] * count))


def column_names(raw: bytes) -> list[str]:
    """The column names of a Parquet file, or [] when it cannot be read."""
    if not (raw.startswith(MAGIC) and raw.endswith(MAGIC)):
        return []
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return []
    try:
        return [name.strip() for name in pq.ParquetFile(pa.BufferReader(raw)).schema_arrow.names]
    except _ERRORS:
        return []


def _convert(pa: Any, chunked: pa.ChunkedArray, spec: ColumnSpec,
             model: ModelSettings) -> tuple[Any, list[tuple[int, str]]]:
    array = chunked.combine_chunks()
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    if pa.types.is_null(kind):
        return convert_column([None] * len(array), spec, model)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_string_view(pa, kind):
        return convert_column(array.to_pylist(), spec, model)
    integers, floats = pa.types.is_integer(kind), pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    timestamps, dates = pa.types.is_timestamp(kind), pa.types.is_date(kind)
    match spec.type:
        case "string" | "text" if integers:
            return convert_column([None if v is None else str(v) for v in array.to_pylist()], spec, model)
        case "label" if integers or floats:
            return convert_column([_label_text(v) for v in array.to_pylist()], spec, model)
        case "integer" if integers or floats:
            if integers and array.null_count == 0 and (kind != pa.uint64() or _fits_int64(pa, array)):
                return array.to_numpy(zero_copy_only=False).astype("int64"), []
            return _numbers(array.to_pylist(), spec, whole=True)
        case "number" if integers or floats:
            if array.null_count == 0 and not pa.types.is_decimal(kind):
                numbers = array.to_numpy(zero_copy_only=False).astype("float64")
                if np.isfinite(numbers).all():
                    return numbers, []
            return _numbers(array.to_pylist(), spec, whole=False)
        case "date" | "datetime" if timestamps or dates:
            if timestamps:
                array = array.cast(pa.timestamp("us", kind.tz), safe=False)  # Python's precision
            return _times(array.to_pylist(), spec)
    article = "an" if spec.type == "integer" else "a"
    raise _Mismatch(f"the Parquet column holds {kind} values; {article} {spec.type} column needs {_NEEDS[spec.type]}")


def _numbers(items: list[Any], spec: ColumnSpec, whole: bool) -> tuple[list[Any], list[tuple[int, str]]]:
    values: list[Any] = []
    problems: list[tuple[int, str]] = []
    for position, item in enumerate(items):
        value: Any = None
        if item is None or (isinstance(item, float) and math.isnan(item)) or _is_nan_decimal(item):
            if not spec.nullable:
                problems.append((position, "empty value"))
        elif whole:
            value = _whole(item)
            if value is None:
                problems.append((position, f"{item} is not an integer (or out of the 64-bit range)"))
        else:
            number = float(item)
            if math.isfinite(number):
                value = number
            else:
                problems.append((position, f"{item} is not a finite number"))
        values.append(value)
    return values, problems


def _whole(item: Any) -> int | None:
    """`item` as an integer when it is a whole number within 64 bits, else None."""
    if not isinstance(item, int):
        if not math.isfinite(item) or item != int(item):
            return None
        item = int(item)
    return item if -_INT64_MAX - 1 <= item <= _INT64_MAX else None


def _times(items: list[Any], spec: ColumnSpec) -> tuple[list[Any], list[tuple[int, str]]]:
    values: list[Any] = []
    problems: list[tuple[int, str]] = []
    for position, item in enumerate(items):
        value: Any = None
        if item is None:
            if not spec.nullable:
                problems.append((position, "empty value"))
        elif spec.type == "datetime":
            value = item if isinstance(item, datetime) else datetime.combine(item, time())
        elif not isinstance(item, datetime):
            value = item
        elif item.tzinfo is None and item.time() == time():
            value = item.date()
        else:
            why = "a time of day" if item.time() != time() else "a time zone"
            problems.append((position, f"{item.isoformat()} is not a date (YYYY-MM-DD): it has {why}"))
        values.append(value)
    return values, problems


def _label_text(value: Any) -> str | None:
    """An integer or float label as a text file would spell it (None stays missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_nan_decimal(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_nan_decimal(value: Any) -> bool:
    return type(value).__name__ == "Decimal" and value.is_nan()


def _fits_int64(pa: Any, array: pa.Array) -> bool:
    import pyarrow.compute as pc

    largest = pc.max(array).as_py()
    return largest is None or largest <= _INT64_MAX


def _is_string_view(pa: Any, kind: pa.DataType) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(kind))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _pyarrow(path: Path) -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError("reading Parquet files needs pyarrow: pip install pyarrow", file=path) from None
    return pa, pq


_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, OverflowError, NotImplementedError, MemoryError,
                                            KeyError, IndexError)
"""What pyarrow raises on a damaged file or a value Python cannot hold (ArrowInvalid is a
ValueError, ArrowIOError an OSError, ArrowNotImplementedError a NotImplementedError)."""
