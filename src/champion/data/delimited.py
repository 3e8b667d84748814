"""Delimited text files (CSV, TSV, any one-character separator), read strictly.

UTF-8 (a byte order mark is dropped), parsed by the csv module so that rows and lines are
exact: rows are numbered from 1 after the header, as a spreadsheet user counts records;
`line` is the physical line where the record starts (quoted text may span lines).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from champion.config import ModelSettings
from champion.data import formats
from champion.data.cells import convert_column
from champion.data.columns import FileProblems, Problem, ReadColumns, RowNumbers, check_header
from champion.errors import DataError

Record = tuple[int, int, list[str]]
"""(row number, line number, cells)."""


def read_delimited(path: Path, raw: bytes, model: ModelSettings, model_name: str | None = None) -> ReadColumns:
    """The model's columns from a text file; `DataError` naming file, row, line and column."""
    delimiter = formats.text_delimiter(path, model)
    what = formats.recognize(raw)
    if what is not None:
        raise DataError(f"not {formats.describe_delimiter(delimiter)} text: this is {what}", file=path)
    text = decode(path, raw)

    def hint() -> str | None:
        return formats.delimiter_hint(text, delimiter, list(model.columns), path, model_name)

    header, records = _parse(path, text, delimiter, hint)
    check_header(path, header, model, "the header", hint)
    if not records:
        raise DataError("the file has a header but no data rows", file=path)

    width = len(header)
    problems: list[tuple[int, int, Problem]] = []
    good = records
    if any(len(cells) != width for _, _, cells in records):
        good = []
        for row, line, cells in records:
            if len(cells) == width:
                good.append((row, line, cells))
            else:
                problems.append((row, -1, Problem(row, line, None, f"has {len(cells)} fields, the header has {width}")))
    values = {}
    for order, (name, spec) in enumerate(model.columns.items()):
        index = header.index(name)
        column, failed = convert_column([cells[index] for _, _, cells in good], spec, model)
        for position, message in failed:
            row, line, _ = good[position]
            problems.append((row, order, Problem(row, line, name, message)))
        values[name] = column
    if problems:
        problems.sort(key=lambda p: p[:2])
        raise FileProblems(path, [p for _, _, p in problems])
    nul = text.find("\x00")
    if nul >= 0:  # in a column champion does not read: still not a text file to trust
        raise DataError("contains a NUL character (in a column not declared); a text data file holds none",
                        file=path, line=text.count("\n", 0, nul) + 1)
    return ReadColumns(values, RowNumbers(r for r, _, _ in good), RowNumbers(line for _, line, _ in good))


def decode(path: Path, raw: bytes) -> str:
    """UTF-8 text (without its byte order mark); `DataError` naming the line of a bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise DataError(
            f"not valid UTF-8 text (byte 0x{bad} at offset {exc.start}); save the file as UTF-8",
            file=path,
            line=line,
        ) from None


def header_names(text: str, delimiter: str) -> list[str]:
    """The names in the header line of `text`, or [] when there is none."""
    try:
        return [name.strip() for name in next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))]
    except (StopIteration, csv.Error):
        return []


def _parse(path: Path, text: str, delimiter: str, hint: formats.Hint) -> tuple[list[str], list[Record]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    kind = formats.describe_delimiter(delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DataError(_broken(f"no {kind} header: {exc}", hint), file=path) from None
    records: list[Record] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            # Skip blank lines (and lines of blank cells); the first cell usually settles it.
            if cells and (cells[0].strip() or any(cell.strip() for cell in cells)):
                records.append((len(records) + 1, start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        message = f"broken {kind} text: {exc}"
        if "expected after '\"'" in str(exc):
            message += " (a field that starts with a quote must end with one; a quote inside it is written twice)"
        raise DataError(_broken(message, hint), file=path, row=len(records) + 1, line=start) from None
    return [h.strip() for h in header], records


def _broken(message: str, hint: formats.Hint) -> str:
    advice = hint()
    return f"{message}; {advice}" if advice else message
