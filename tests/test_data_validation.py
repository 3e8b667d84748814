"""Strict reading of data files: every bad input names its file, row, line and column."""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from champion.config import ColumnSpec, ModelSettings, load_config
from champion.data.dataset import assemble
from champion.data.validation import FileProblems, read_data_file, read_header
from champion.errors import DataError

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates"
HEADER = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
GOOD = "c1,Ann,2014-01-01T10:00:00,hello there,0\n"


@pytest.fixture(scope="module")
def spam() -> ModelSettings:
    return load_config(TEMPLATES / "youtube-spam" / "champion.toml").models["spam"]


@pytest.fixture(scope="module")
def series() -> ModelSettings:
    return load_config(TEMPLATES / "transactions" / "champion.toml").models["transactions"]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def fail(path: Path, model: ModelSettings) -> DataError:
    with pytest.raises(DataError) as caught:
        read_data_file(path, model)
    error = caught.value
    assert error.file == str(path)
    assert str(path) in str(error)
    assert error.reason
    return error


def test_valid_file_is_typed(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "ok.csv", HEADER + GOOD + "c2,Bob,,spam spam,1\n")
    result = read_data_file(path, spam)
    assert result.rows == 2
    assert list(result.frame["CLASS"]) == [0, 1]
    assert list(result.frame["COMMENT_ID"]) == ["c1", "c2"]
    assert pd.isna(result.frame["DATE"].iloc[1])
    assert result.frame["DATE"].iloc[0] == pd.Timestamp("2014-01-01T10:00:00")
    assert result.duplicates == []
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_file(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(tmp_path / "nowhere.csv", spam)
    assert "not found" in error.reason
    assert error.row is None and error.column is None


@pytest.mark.parametrize("content", [b"", b"\n  \n"], ids=["zero-bytes", "blank-lines"])
def test_empty_file(tmp_path: Path, spam: ModelSettings, content: bytes) -> None:
    error = fail(write(tmp_path, "empty.csv", content), spam)
    assert "empty" in error.reason
    assert error.row is None and error.column is None


def test_header_only_file(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(write(tmp_path, "header.csv", HEADER), spam)
    assert "no data rows" in error.reason
    assert error.row is None


def test_missing_required_column(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "nocol.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT\nc1,Ann,,hi\n")
    error = fail(path, spam)
    assert error.column == "CLASS"
    assert error.row is None
    assert "missing" in error.reason and "CLASS" in error.reason


def test_bytes_that_are_not_utf8(tmp_path: Path, spam: ModelSettings) -> None:
    raw = (HEADER + GOOD).encode() + b"c2,Bob,,caf\xe9 latin-1,1\n"
    error = fail(write(tmp_path, "latin.csv", raw), spam)
    assert error.line == 3
    assert "UTF-8" in error.reason
    assert "0xe9" in error.reason


def test_empty_non_nullable_cell(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "blank.csv", HEADER + GOOD + "c2,Bob,,some text,\n")
    error = fail(path, spam)
    assert isinstance(error, FileProblems)
    assert (error.row, error.line, error.column) == (2, 3, "CLASS")
    assert "empty" in error.reason


def test_empty_nullable_cell_is_fine(tmp_path: Path, spam: ModelSettings) -> None:
    result = read_data_file(write(tmp_path, "nulldate.csv", HEADER + "c1,Ann,,hi,1\n"), spam)
    assert pd.isna(result.frame["DATE"].iloc[0])


def test_unknown_label(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "label.csv", HEADER + GOOD + GOOD.replace("c1", "c2") + "c3,Cy,,text,2\n")
    error = fail(path, spam)
    assert (error.row, error.line, error.column) == (3, 4, "CLASS")
    assert "'2'" in error.reason


def test_non_integer_label_text(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "labeltext.csv", HEADER + GOOD + "c2,Bob,,text,spam\n")
    error = fail(path, spam)
    assert (error.row, error.column) == (2, "CLASS")
    assert "spam" in error.reason


def test_unparseable_datetime(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "date.csv", HEADER + GOOD + "c2,Bob,last tuesday,text,1\n")
    error = fail(path, spam)
    assert (error.row, error.line, error.column) == (2, 3, "DATE")
    assert "last tuesday" in error.reason


def test_nul_character_in_text(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "nul.csv", HEADER + GOOD + "c2,Bob,,bad\x00text,1\n")
    error = fail(path, spam)
    assert (error.row, error.line, error.column) == (2, 3, "CONTENT")
    assert "NUL" in error.reason


def test_row_with_too_many_fields(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "wide.csv", HEADER + GOOD + "c2,Bob,,text,1,surplus\n")
    error = fail(path, spam)
    assert (error.row, error.line) == (2, 3)
    assert "6 fields" in error.reason and "5" in error.reason


def test_conflicting_duplicate_identity(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "conflict.csv", HEADER + GOOD + "c2,Bob,,other,1\n" + GOOD.replace(",0\n", ",1\n"))
    error = fail(path, spam)
    assert (error.row, error.line, error.column) == (3, 4, "CLASS")
    assert "c1" in error.reason
    assert "row 1" in error.reason  # where the identity was first seen


def test_exact_duplicates_are_reported_not_rejected(tmp_path: Path, spam: ModelSettings) -> None:
    path = write(tmp_path, "dups.csv", HEADER + GOOD + "c2,Bob,,other,1\n" + GOOD + GOOD)
    result = read_data_file(path, spam)
    assert [(d.row, d.line, d.first_row, d.key, d.same_content) for d in result.duplicates] == [
        (3, 4, 1, "c1", True),
        (4, 5, 1, "c1", True),
    ]


def test_multiline_text_keeps_row_and_line_numbers(tmp_path: Path, spam: ModelSettings) -> None:
    content = (
        HEADER  # line 1
        + GOOD  # row 1, line 2
        + 'c2,Bob,,"first line\nsecond, with comma\n\nfourth line",1\n'  # row 2, lines 3-6
        + "c3,Cy,,fine,0\n"  # row 3, line 7
        + "c4,Di,,bad label,7\n"  # row 4, line 8
    )
    error = fail(write(tmp_path, "multi.csv", content), spam)
    assert (error.row, error.line, error.column) == (4, 8, "CLASS")
    assert "row 4 (line 8)" in str(error)


def test_multiline_text_is_kept_whole(tmp_path: Path, spam: ModelSettings) -> None:
    text = "first line\nsecond, with comma"
    result = read_data_file(write(tmp_path, "multiok.csv", HEADER + f'c1,Ann,,"{text}",1\n'), spam)
    assert result.frame["CONTENT"].iloc[0] == text


def test_many_problems_message_counts_the_rest(tmp_path: Path, spam: ModelSettings) -> None:
    bad = 9
    rows = "".join(f"c{i},A,,t,{5 + i}\n" for i in range(bad))
    error = fail(write(tmp_path, "many.csv", HEADER + GOOD + rows), spam)
    assert isinstance(error, FileProblems)
    assert len(error.problems) == bad
    assert (error.row, error.column) == (2, "CLASS")
    assert f"{bad - 1} more" in error.reason
    assert [p.row for p in error.problems] == list(range(2, 2 + bad))


# --- time series -----------------------------------------------------------------------

TS_HEADER = "TransactionDate,PaidAmount\n"


def days(start: date, count: int, skip: frozenset[int] = frozenset()) -> str:
    return "".join(f"{start + timedelta(i)},{100 + i}.5\n" for i in range(count) if i not in skip)


def test_series_valid_file_is_sorted(tmp_path: Path, series: ModelSettings) -> None:
    lines = days(date(2013, 1, 1), 5).splitlines(keepends=True)
    result = read_data_file(write(tmp_path, "ts.csv", TS_HEADER + "".join(reversed(lines))), series)
    assert list(result.frame["TransactionDate"]) == list(pd.date_range("2013-01-01", periods=5, freq="D"))
    assert result.frame["PaidAmount"].dtype == "float64"


@pytest.mark.parametrize("bad", ["2013-13-02", "02/01/2013", "tomorrow"])
def test_series_unparseable_date(tmp_path: Path, series: ModelSettings, bad: str) -> None:
    path = write(tmp_path, "tsdate.csv", TS_HEADER + "2013-01-01,1\n" + f"{bad},2\n")
    error = fail(path, series)
    assert (error.row, error.line, error.column) == (2, 3, "TransactionDate")
    assert bad in error.reason


def test_series_non_numeric_amount(tmp_path: Path, series: ModelSettings) -> None:
    path = write(tmp_path, "tsamount.csv", TS_HEADER + "2013-01-01,1\n2013-01-02,12.5\n2013-01-03,twelve\n")
    error = fail(path, series)
    assert (error.row, error.line, error.column) == (3, 4, "PaidAmount")
    assert "twelve" in error.reason


@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_series_non_finite_amount(tmp_path: Path, series: ModelSettings, bad: str) -> None:
    path = write(tmp_path, "tsnan.csv", TS_HEADER + f"2013-01-01,1\n2013-01-02,{bad}\n2013-01-03,3\n")
    error = fail(path, series)
    assert (error.row, error.line, error.column) == (2, 3, "PaidAmount")


def test_series_gap_names_first_missing_date(tmp_path: Path, series: ModelSettings) -> None:
    start = date(2013, 3, 1)
    path = write(tmp_path, "tsgap.csv", TS_HEADER + days(start, 10, skip=frozenset({4, 5, 8})))
    error = fail(path, series)
    assert error.column == "TransactionDate"
    assert str(start + timedelta(4)) in error.reason
    assert "3 missing" in error.reason
    assert error.row == 4  # the row before the gap (2013-03-04)


# --- assembling several files ----------------------------------------------------------


def test_assemble_drops_duplicates_across_files(tmp_path: Path, spam: ModelSettings) -> None:
    a = write(tmp_path, "a.csv", HEADER + GOOD + "c2,Bob,,two,1\nc3,Cy,,three,0\n")
    b = write(tmp_path, "b.csv", HEADER + "c2,Bob,,two,1\nc4,Di,,four,1\nc3,Cy,,three,0\n")
    dataset = assemble([read_data_file(a, spam), read_data_file(b, spam)], spam, tmp_path)
    assert dataset.duplicates_dropped == 2
    assert dataset.rows == 4
    assert sorted(dataset.frame["COMMENT_ID"]) == ["c1", "c2", "c3", "c4"]
    assert [(f.path, f.rows) for f in dataset.files] == [("a.csv", 3), ("b.csv", 3)]


def test_assemble_rejects_conflicting_targets_across_files(tmp_path: Path, spam: ModelSettings) -> None:
    a = write(tmp_path, "a.csv", HEADER + GOOD + "c2,Bob,,two,1\n")
    b = write(tmp_path, "b.csv", HEADER + "c3,Cy,,three,0\nc2,Bob,,two,0\n")
    with pytest.raises(DataError) as caught:
        assemble([read_data_file(a, spam), read_data_file(b, spam)], spam, tmp_path)
    error = caught.value
    assert error.file in {"a.csv", "b.csv"}
    assert error.column == "CLASS"
    assert "c2" in error.reason


def test_assemble_series_continuing_across_files(tmp_path: Path, series: ModelSettings) -> None:
    a = write(tmp_path, "2013.csv", TS_HEADER + days(date(2013, 12, 20), 12))
    b = write(tmp_path, "2014.csv", TS_HEADER + days(date(2014, 1, 1), 5))
    dataset = assemble([read_data_file(b, series), read_data_file(a, series)], series, tmp_path)
    assert dataset.rows == 17
    assert dataset.frame["TransactionDate"].is_monotonic_increasing


def test_assemble_series_gap_between_files(tmp_path: Path, series: ModelSettings) -> None:
    a = write(tmp_path, "2013.csv", TS_HEADER + days(date(2013, 12, 25), 7))  # ends 2013-12-31
    b = write(tmp_path, "2014.csv", TS_HEADER + days(date(2014, 1, 3), 7))  # starts 2014-01-03
    with pytest.raises(DataError) as caught:
        assemble([read_data_file(a, series), read_data_file(b, series)], series, tmp_path)
    assert caught.value.column == "TransactionDate"
    assert "2014-01-01" in caught.value.reason


def test_assemble_series_gap_after_several_equal_files(tmp_path: Path, series: ModelSettings) -> None:
    # Files of equal length share their per-file row numbers; the combined frame must not
    # index them with its own positions (this once raised IndexError).
    paths = [
        write(tmp_path, "f1.csv", TS_HEADER + days(date(2014, 1, 1), 2)),
        write(tmp_path, "f2.csv", TS_HEADER + days(date(2014, 1, 3), 2)),
        write(tmp_path, "f3.csv", TS_HEADER + days(date(2014, 1, 6), 2)),
    ]
    with pytest.raises(DataError) as caught:
        assemble([read_data_file(p, series) for p in paths], series, tmp_path)
    assert "2014-01-05" in caught.value.reason


# --- values the reader once crashed on ---------------------------------------------------


def test_date_times_with_and_without_a_time_zone_in_one_column(tmp_path: Path, spam: ModelSettings) -> None:
    content = HEADER + "c1,Ann,2014-01-01T10:00:00+00:00,a,0\nc2,Bob,2014-01-01T11:00:00,b,1\n"
    error = fail(write(tmp_path, "tz.csv", content), spam)
    assert (error.row, error.line, error.column) == (2, 3, "DATE")
    assert error.reason == ("2014-01-01T11:00:00: no time zone here, while the column's first value "
                            "(2014-01-01T10:00:00+00:00) has one: give every value a time zone, or none")


def test_date_times_with_different_offsets_are_kept_in_utc(tmp_path: Path, spam: ModelSettings) -> None:
    content = HEADER + "c1,Ann,2014-01-01T10:00:00+01:00,a,0\nc2,Bob,2014-07-01T10:00:00+02:00,b,1\n"
    frame = read_data_file(write(tmp_path, "offsets.csv", content), spam).frame
    assert str(frame["DATE"].dt.tz) == "UTC"
    assert list(frame["DATE"]) == [pd.Timestamp("2014-01-01T09:00:00Z"), pd.Timestamp("2014-07-01T08:00:00Z")]


def test_an_integer_beyond_64_bits(tmp_path: Path) -> None:
    model = ModelSettings.model_validate({
        "recipe": "text-classifier", "data": ["*.csv"], "target": "y", "labels": [0, 1], "features": ["n"],
        "columns": {"n": "integer", "y": "label"}})
    error = fail(write(tmp_path, "big.csv", "n,y\n1,0\n" + "9" * 30 + ",1\n"), model)
    assert (error.row, error.column) == (2, "n")
    assert "out of range" in error.reason


def test_a_long_bad_value_is_shortened_in_the_message(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(write(tmp_path, "long.csv", HEADER + "c1,Ann,,text," + "7" * 10_000 + "\n"), spam)
    assert "(10,000 characters)" in error.reason
    assert len(error.reason) < 300


def test_a_series_with_an_empty_date(tmp_path: Path, series: ModelSettings) -> None:
    nullable = series.model_copy(update={"columns": {**series.columns, "TransactionDate":
                                                     series.columns["TransactionDate"].model_copy(
                                                         update={"nullable": True})}})
    error = fail(write(tmp_path, "nodate.csv", TS_HEADER + "2013-01-01,1\n,2\n2013-01-02,3\n"), nullable)
    assert (error.row, error.column) == (2, "TransactionDate")
    assert "needs a date in every row" in error.reason


# --- properties: no input makes the reader raise anything but DataError ------------------

NICE_NAMES = st.sampled_from(["id", "CLASS", "Prix (€)", "Straße", "comment text", "a,b", 'say "hi"', "tab\there",
                              "日本語", "x;y", "p|q", "when", "n"])
NAMES = st.one_of(NICE_NAMES, NICE_NAMES, NICE_NAMES, st.text(min_size=1, max_size=6))
TYPES = ["string", "text", "integer", "number", "date", "datetime", "label"]
LABELS = st.one_of(
    st.lists(st.integers(-3, 3), min_size=1, max_size=3, unique=True),
    st.lists(st.sampled_from(["ham", "spam", "1", "nan", " x ", "", "ça"]), min_size=1, max_size=3, unique=True),
    st.lists(st.one_of(st.integers(0, 2), st.sampled_from(["0", "a"])), min_size=1, max_size=3, unique=True),
)


def rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in `one_in` draws (hypothesis favours the ends of an integer range)."""
    return draw(st.sampled_from(range(one_in))) == one_in // 2


@st.composite
def models(draw: st.DrawFn) -> ModelSettings:
    """A declared schema of every column type (names, nullability, labels, identity, time)."""
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    kinds = {name: draw(st.sampled_from(TYPES)) for name in names}
    columns = {name: {"type": kind, "nullable": draw(st.booleans())} for name, kind in kinds.items()}
    times = [name for name, kind in kinds.items() if kind in ("date", "datetime")]
    return ModelSettings.model_validate({
        "recipe": "text-classifier", "data": ["*"], "columns": columns, "target": draw(st.sampled_from(names)),
        "labels": draw(LABELS), "id": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)),
        "time": draw(st.sampled_from([None, *times])),
        "delimiter": draw(st.sampled_from([None, ",", "\t", ";", "|", " ", "a", "\x00"])),
    })


AWKWARD = st.one_of(
    st.sampled_from(["", " ", "0", "1", "-7", "3.5", " 12 ", "1e400", "nan", "NULL", "inf", "-Infinity", "1.0",
                     "1_000", "٣", "9" * 30, "2014-01-01", "2014-01-02", "0001-01-01", "9999-12-31T23:59:59",
                     "2014-01-01T10:00:00", "2014-01-01T10:00:00+05:30", "2014-01-01 10:00:00Z", "2014-13-01",
                     "ham", "spam", "ça", '"', '""', '"a""b"', 'x"y', "a,b", "a\tb", "a;b", "a|b", "\n", "\r\n",
                     "\r", "\x00", "\ufeff", "\x1f", "𝔘nicode"]),
    st.text(max_size=12),
    st.integers().map(str),
    st.floats().map(repr),
    st.dates().map(str),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-3))])).map(
        lambda d: d.isoformat()),
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=10)


def good_cells(spec: ColumnSpec, labels: list[Any]) -> st.SearchStrategy[str]:
    """Cells that a column of this type accepts (empty ones only where it is nullable)."""
    strategy = {
        "string": TEXT, "text": TEXT, "integer": st.integers(-(2**63), 2**63 - 1).map(str),
        "number": st.floats(allow_nan=False, allow_infinity=False).map(repr), "date": st.dates().map(str),
        "datetime": st.datetimes().map(lambda d: d.isoformat()), "label": st.sampled_from(labels).map(str),
    }[spec.type]
    return st.one_of(strategy, st.just("")) if spec.nullable else strategy


def cells(spec: ColumnSpec | None, model: ModelSettings) -> st.SearchStrategy[str]:
    if spec is None:
        return AWKWARD
    good = good_cells(spec, list(model.labels))
    return st.one_of(good, good, good, AWKWARD)


@st.composite
def text_files(draw: st.DrawFn, model: ModelSettings) -> bytes:
    """CSV-ish text: a header of (mostly) the declared names, rows of good and awkward cells,
    quoted or not, any separator, line ending, byte order mark, stray bytes, huge fields."""
    header = draw(st.permutations(list(model.columns) + draw(st.lists(NAMES, max_size=1))))
    if rarely(draw, 10):
        header = draw(st.lists(AWKWARD, max_size=4))
    row = st.tuples(*(cells(model.columns.get(name), model) for name in header)).map(list)
    rows = draw(st.lists(row, min_size=0 if rarely(draw, 8) else 1, max_size=8))
    if rarely(draw, 8) and rows:  # a row of the wrong width
        rows[-1] = rows[-1][:-1] if draw(st.booleans()) else [*rows[-1], "surplus"]
    if rarely(draw, 30):
        rows.append(["x" * 140_000] * max(len(header), 1))  # past the csv module's field size limit
    delimiter = model.delimiter or ","
    if rarely(draw, 4):
        delimiter = draw(st.sampled_from([",", "\t", ";", "|", " ", "a", "\x00"]))
    if not rarely(draw, 4):
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
                            quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
        writer.writerows([header, *rows])
        text = buffer.getvalue()
    else:
        text = "\n".join(delimiter.join(row) for row in [header, *rows])
    raw = (draw(st.sampled_from(["", "\ufeff"])) + text).encode("utf-8")
    while rarely(draw, 5):  # stray bytes, often not UTF-8
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at:]
    return raw


def _arrow_values(draw: st.DrawFn, kind: str, count: int, spec: ColumnSpec | None, model: ModelSettings) -> Any:
    import pyarrow as pa

    nulls = spec is None or spec.nullable or rarely(draw, 4)

    def values(strategy: st.SearchStrategy[Any]) -> list[Any]:
        item = st.one_of(st.none(), strategy) if nulls else strategy
        return draw(st.lists(item, min_size=count, max_size=count))

    match kind:
        case "int8":
            return pa.array(values(st.integers(-128, 127)), pa.int8())
        case "int64":
            return pa.array(values(st.integers(-(2**63), 2**63 - 1)), pa.int64())
        case "uint64":
            return pa.array(values(st.integers(0, 2**64 - 1)), pa.uint64())
        case "float32":
            return pa.array(values(st.floats(width=32)), pa.float32())
        case "float64":
            return pa.array(values(st.floats()), pa.float64())
        case "bool":
            return pa.array(values(st.booleans()), pa.bool_())
        case "string" | "large_string":
            return pa.array(values(cells(spec, model)), pa.string() if kind == "string" else pa.large_string())
        case "dictionary":
            return pa.array(values(cells(spec, model)), pa.string()).dictionary_encode()
        case "binary":
            return pa.array(values(st.binary(max_size=5)), pa.binary())
        case "date32":
            return pa.array(values(st.dates()), pa.date32())
        case "timestamp_s":
            return pa.array(values(st.datetimes()), pa.timestamp("s"))
        case "timestamp_ns_utc":
            moments = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
            return pa.array(values(moments), pa.timestamp("ns", tz="UTC"))
        case "decimal":
            return pa.array(values(st.decimals(-1000, 1000, places=2)), pa.decimal128(10, 2))
        case "list":
            return pa.array(values(st.lists(st.integers(0, 9), max_size=2)), pa.list_(pa.int64()))
        case _:
            return pa.nulls(count)


ARROW_KINDS = ["int8", "int64", "uint64", "float32", "float64", "bool", "string", "large_string", "dictionary",
               "binary", "date32", "timestamp_s", "timestamp_ns_utc", "decimal", "list", "null"]
FITTING_KINDS = {"integer": ["int8", "int64", "uint64", "float64", "string"],
                 "number": ["float64", "float32", "int64", "decimal", "string"],
                 "string": ["string", "dictionary", "int64"], "text": ["string", "large_string"],
                 "label": ["string", "dictionary", "int8", "float64"], "date": ["date32", "timestamp_s", "string"],
                 "datetime": ["timestamp_s", "timestamp_ns_utc", "date32", "string"]}


@st.composite
def parquet_files(draw: st.DrawFn, model: ModelSettings) -> bytes:
    """Parquet files of random or fitting types for the declared columns (one may be missing,
    one extra), sometimes cut short or with bytes overwritten."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0 if rarely(draw, 8) else draw(st.integers(1, 6))
    names = draw(st.permutations(list(model.columns) + draw(st.lists(NAMES, max_size=1))))
    if rarely(draw, 8):
        names = names[:-1]
    columns = []
    for name in names:
        spec = model.columns.get(name)
        kinds = FITTING_KINDS[spec.type] if spec is not None and not rarely(draw, 4) else ARROW_KINDS
        columns.append(_arrow_values(draw, draw(st.sampled_from(kinds)), count, spec, model))
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(columns, names=names), buffer)
    raw = buffer.getvalue()
    if rarely(draw, 6):
        raw = raw[: draw(st.integers(0, len(raw)))] + b"PAR1"
    elif rarely(draw, 5):
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at + 1:]
    return raw


@st.composite
def data_files(draw: st.DrawFn) -> tuple[ModelSettings, str, bytes]:
    model = draw(models())
    kind = draw(st.sampled_from(["text", "text", "text", "parquet", "parquet", "bytes"]))
    if kind == "text":
        raw = draw(text_files(model))
    elif kind == "parquet":
        raw = draw(parquet_files(model))
    else:
        raw = draw(st.binary(max_size=200))
    suffixes = [".parquet", ".pq"] if kind == "parquet" else [".csv", ".tsv", ".tab", ".txt", ""]
    if rarely(draw, 6):
        suffixes = [".csv", ".parquet"]
    return model, draw(st.sampled_from(suffixes)), raw


PROPERTY_FOLDER = Path(tempfile.mkdtemp(prefix="champion-reader-properties-"))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data_files())
def test_no_file_makes_the_reader_raise_anything_but_a_data_error(case: tuple[ModelSettings, str, bytes]) -> None:
    model, suffix, raw = case
    path = PROPERTY_FOLDER / f"data{suffix}"
    path.write_bytes(raw)
    assert isinstance(read_header(path, model), list)
    try:
        result = read_data_file(path, model, "fuzzed")
    except DataError as error:
        assert error.file == str(path) and error.reason
        return
    frame = result.frame
    assert set(model.columns) <= set(frame.columns)
    assert result.rows == len(frame) == len(frame.attrs["row"]) == len(frame.attrs["line"]) > 0
    for name, spec in model.columns.items():
        if spec.type == "number":
            assert frame[name].dtype == "float64"
            assert not np.isinf(frame[name]).any()
        elif spec.type == "integer" and not spec.nullable:
            assert frame[name].dtype == "int64"
        elif spec.type in ("date", "datetime"):
            assert pd.api.types.is_datetime64_any_dtype(frame[name])
        if not spec.nullable:
            assert not frame[name].isna().any()
