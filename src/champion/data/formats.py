"""Which format a data file is read as, and, when it does not read, what it looks like instead.

The format follows the file name: `.parquet` and `.pq` are Parquet; every other file is
delimited text, separated by the model's `delimiter`, else by a tab for `.tsv` and `.tab`,
else by a comma. Nothing is guessed silently: the guesses below only go into messages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from champion.config import ModelSettings

PARQUET_SUFFIXES = (".parquet", ".pq")
TAB_SUFFIXES = (".tsv", ".tab")
CANDIDATES = (",", "\t", ";", "|")
"""Separators a file is checked for when it does not read with its own."""
_SNIFF_CHARS = 65_536
_SNIFF_ROWS = 20

Hint = Callable[[], "str | None"]
"""Computes, only when a message needs it, what a file looks like instead."""

_NAMES = {",": "comma-separated", "\t": "tab-separated", ";": "semicolon-separated", "|": "pipe-separated"}

# First bytes of formats that are not text (or not UTF-8 text), and what to do about each.
PARQUET = "a Parquet file: name it .parquet (or .pq) and it is read as Parquet"
_MAGIC: list[tuple[bytes, str]] = [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook: save the sheet as CSV UTF-8 or Parquet"),
    (b"\x1f\x8b", "gzip-compressed: decompress it first (gunzip FILE)"),
    (b"BZh", "bzip2-compressed: decompress it first (bunzip2 FILE)"),
    (b"\xfd7zXZ\x00", "xz-compressed: decompress it first (unxz FILE)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed: decompress it first (unzstd FILE)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract the data file from it"),
    (b"SQLite format 3\x00", "an SQLite database: export the table as CSV or Parquet"),
    (b"%PDF", "a PDF document, not a data table"),
    (b"\xff\xfe", "UTF-16 text (as Excel's \"Unicode Text\" saves it): save it as UTF-8"),
    (b"\xfe\xff", "UTF-16 text: save it as UTF-8"),
]


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def text_delimiter(path: Path, model: ModelSettings) -> str:
    """The field separator of a text data file of `model`."""
    if model.delimiter is not None:
        return model.delimiter
    return "\t" if path.suffix.lower() in TAB_SUFFIXES else ","


def describe_delimiter(delimiter: str) -> str:
    """`"comma-separated"`, `"tab-separated"`, or `"separated by '#'"`."""
    return _NAMES.get(delimiter) or f"separated by {delimiter!r}"


def settings_place(model_name: str | None) -> str:
    """Where a model's settings are, for messages that say what to change."""
    return f"[models.{model_name}]" if model_name else "the model's settings in champion.toml"


def recognize(raw: bytes) -> str | None:
    """What a file that is not delimited UTF-8 text is, by its first bytes, and what to do."""
    if len(raw) >= 12 and raw.startswith(b"PAR1") and raw.endswith(b"PAR1"):
        return PARQUET
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            return what
    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        head = raw[:4096]
        if b"[Content_Types].xml" in head or b"xl/" in head:
            return "an Excel workbook (.xlsx): save the sheet as CSV UTF-8 or as Parquet"
        return "a ZIP archive: extract the data file from it"
    head = raw[:1024]
    if len(head) >= 16 and head.count(b"\x00") * 4 >= len(head):
        return "binary data or UTF-16 text, not UTF-8 text"
    return None


def delimiter_hint(text: str, current: str, required: list[str], path: Path, model_name: str | None) -> str | None:
    """When `text` reads better with another separator than `current`, say which and how to set
    it: better means the header then holds every required column, or else that the first rows
    all have as many fields as the header (and more than one)."""
    if _has_all(text, current, required):
        return None  # the header reads with the file's own separator: what is wrong is elsewhere
    best: tuple[int, int, str] | None = None
    for candidate in CANDIDATES:
        if candidate == current:
            continue
        score = _fit(text, candidate, required)
        if score is not None and (best is None or score > best[:2]):
            best = (*score, candidate)
    if best is None:
        return None
    delimiter = best[2]
    advice = f"set delimiter = {_toml(delimiter)} in {settings_place(model_name)}"
    suffix = path.suffix.lower()
    if delimiter == "\t" and suffix not in TAB_SUFFIXES:
        advice += " (or name it .tsv)"
    elif delimiter == "," and suffix in TAB_SUFFIXES and current == "\t":
        advice = f"name it .csv, or {advice}"
    looks = describe_delimiter(delimiter)
    if delimiter == ";":
        looks += " (as spreadsheets save CSV where the comma is the decimal mark)"
    return f"the file looks {looks}: {advice}"


def _fit(text: str, delimiter: str, required: list[str]) -> tuple[int, int] | None:
    """(2 if the header has every required column else 1, number of header fields), or None
    when the text does not look separated by `delimiter` at all."""
    sample = text[:_SNIFF_CHARS]
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
        rows = [row for _, row in zip(range(_SNIFF_ROWS), reader, strict=False) if row]
    except (StopIteration, csv.Error):
        return None
    if len(header) < 2:
        return None
    if len(sample) == _SNIFF_CHARS and rows:
        rows = rows[:-1]  # the last row may be cut short by the sample
    if required and all(name in header for name in required):
        return 2, len(header)
    if rows and all(len(row) == len(header) for row in rows):
        return 1, len(header)
    return None


def _has_all(text: str, delimiter: str, required: list[str]) -> bool:
    try:
        header = next(csv.reader(io.StringIO(text[:_SNIFF_CHARS], newline=""), delimiter=delimiter))
    except (StopIteration, csv.Error):
        return False
    names = {name.strip() for name in header}
    return bool(required) and all(name in names for name in required)


def _toml(delimiter: str) -> str:
    """The delimiter as a TOML string (a tab as "\\t")."""
    escaped = {"\t": "\\t", "\\": "\\\\"}.get(delimiter, delimiter)
    return f'"{escaped}"'


def text_hint(raw: bytes, path: Path, model_name: str | None) -> str:
    """For a file named as Parquet that is not: what it seems to be instead."""
    what = recognize(raw)
    if what is not None and what != PARQUET:
        return f"it looks like {what}"
    try:
        text = raw[:_SNIFF_CHARS].decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < _SNIFF_CHARS - 4:
            return "it is neither Parquet nor UTF-8 text"
        text = raw[: exc.start].decode("utf-8-sig")
    for delimiter in CANDIDATES:
        if _fit(text, delimiter, []) is not None:
            suffix = ".tsv" if delimiter == "\t" else ".csv"
            extra = "" if delimiter in (",", "\t") else f" and set delimiter = {_toml(delimiter)} in " \
                                                          f"{settings_place(model_name)}"
            return f"it looks like {describe_delimiter(delimiter)} text: name it {suffix}{extra}"
    return "it looks like text, not Parquet"
