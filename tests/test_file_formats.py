"""Data files of any reasonable shape: separators, Parquet, names, and what a bad file looks like."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import TEMPLATES, cli

from champion.config import ModelSettings, load_config
from champion.data.dataset import assemble
from champion.data.validation import FileProblems, read_data_file, read_header
from champion.errors import ConfigError, DataError
from champion.workspace.feedback import read_feedback_file

SPAM_HEADER = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"]
SPAM_ROWS = [
    ["c1", "Ann", "2014-01-01T10:00:00", 'she said "hello", then left', "0"],
    ["c2", "Bob", "", "check out my channel\nsecond line", "1"],
    ["c3", "Cy", "2014-01-02T11:30:00", "fine", "0"],
]


@pytest.fixture(scope="module")
def spam() -> ModelSettings:
    return load_config(TEMPLATES / "youtube-spam" / "champion.toml").models["spam"]


def delimited(rows: list[list[str]], delimiter: str) -> str:
    """Rows written as the csv module (and so Excel and pandas) writes them."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def fail(path: Path, model: ModelSettings, name: str | None = "spam") -> DataError:
    with pytest.raises(DataError) as caught:
        read_data_file(path, model, name)
    assert caught.value.file == str(path)
    return caught.value


def with_settings(model: ModelSettings, **changes: Any) -> ModelSettings:
    return ModelSettings.model_validate({**model.model_dump(), **changes})


# ---- separators ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["data.tsv", "data.tab", "DATA.TSV"])
def test_tab_separated_by_extension(tmp_path: Path, spam: ModelSettings, name: str) -> None:
    csv_frame = read_data_file(write(tmp_path, "data.csv", delimited([SPAM_HEADER, *SPAM_ROWS], ",")), spam).frame
    tsv = read_data_file(write(tmp_path, name, delimited([SPAM_HEADER, *SPAM_ROWS], "\t")), spam)
    pd.testing.assert_frame_equal(tsv.frame, csv_frame)
    assert tsv.frame["CONTENT"].iloc[0] == 'she said "hello", then left'


@pytest.mark.parametrize(("setting", "name"), [(";", "data.csv"), ("|", "data.txt"), ("\t", "data"), (",", "x.tsv")])
def test_delimiter_setting_wins_over_the_extension(tmp_path: Path, spam: ModelSettings, setting: str,
                                                   name: str) -> None:
    model = with_settings(spam, delimiter=setting)
    result = read_data_file(write(tmp_path, name, delimited([SPAM_HEADER, *SPAM_ROWS], setting)), model)
    assert list(result.frame["COMMENT_ID"]) == ["c1", "c2", "c3"]
    assert result.frame.attrs["line"] == (2, 3, 5)


@pytest.mark.parametrize("name", ["data.txt", "data"])
def test_unknown_extensions_are_comma_separated(tmp_path: Path, spam: ModelSettings, name: str) -> None:
    result = read_data_file(write(tmp_path, name, delimited([SPAM_HEADER, *SPAM_ROWS], ",")), spam)
    assert result.rows == 3


def test_a_tab_written_in_toml_is_a_tab(tmp_path: Path) -> None:
    source = (TEMPLATES / "youtube-spam" / "champion.toml").read_text(encoding="utf-8")
    config = tmp_path / "champion.toml"
    config.write_text(source.replace('recipe = "text-classifier"', 'recipe = "text-classifier"\ndelimiter = "\\t"'),
                      encoding="utf-8")
    model = load_config(config).models["spam"]
    assert model.delimiter == "\t"
    result = read_data_file(write(tmp_path, "data.csv", delimited([SPAM_HEADER, *SPAM_ROWS], "\t")), model)
    assert result.rows == 3


@pytest.mark.parametrize("bad", ["", ",;", '"', "\n", "\r", "tab"])
def test_a_delimiter_that_is_not_one_plain_character_is_a_config_error(tmp_path: Path, bad: str) -> None:
    source = (TEMPLATES / "youtube-spam" / "champion.toml").read_text(encoding="utf-8")
    config = tmp_path / "champion.toml"
    escaped = bad.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    config.write_text(source.replace('recipe = "text-classifier"',
                                     f'recipe = "text-classifier"\ndelimiter = "{escaped}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "models.spam.delimiter" in str(caught.value)
    assert "one character" in str(caught.value)


# ---- what a file that does not parse looks like -------------------------------------------------
def test_a_tab_separated_file_read_as_csv_says_so(tmp_path: Path, spam: ModelSettings) -> None:
    # The reported case: quoted text in a TSV, read as CSV, broke with "',' expected after '"'".
    rows = [SPAM_HEADER, ["c1", "Ann", "", "fine", "0"], ["c2", "Bob", "", "x", "1"]]
    text = delimited(rows, "\t") + '"c3"\t"Cy"\t""\t"she said ""hi"""\t"0"\n'  # as QUOTE_ALL writes
    error = fail(write(tmp_path, "comments.csv", text), spam)
    assert error.reason.startswith("broken comma-separated text: ',' expected after '\"'")
    assert (error.row, error.line) == (3, 4)
    assert "the file looks tab-separated" in error.reason
    assert 'set delimiter = "\\t" in [models.spam] (or name it .tsv)' in error.reason


def test_a_tab_separated_header_in_one_cell_says_so(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(write(tmp_path, "comments.csv", delimited([SPAM_HEADER, *SPAM_ROWS], "\t")), spam)
    assert error.column == "COMMENT_ID"
    assert "required columns missing" in error.reason
    assert "'COMMENT_ID\\tAUTHOR" in error.reason  # the one header cell, its tabs shown
    assert "looks tab-separated" in error.reason and "(or name it .tsv)" in error.reason


def test_a_semicolon_separated_file_says_so(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(write(tmp_path, "europe.csv", delimited([SPAM_HEADER, *SPAM_ROWS], ";")), spam)
    assert "looks semicolon-separated" in error.reason
    assert 'set delimiter = ";" in [models.spam]' in error.reason
    assert ".tsv" not in error.reason


def test_only_the_header_in_another_separator_is_recognized(tmp_path: Path, spam: ModelSettings) -> None:
    text = "|".join(SPAM_HEADER) + "\n" + delimited(SPAM_ROWS, ",")
    error = fail(write(tmp_path, "odd.csv", text), spam)
    assert 'looks pipe-separated: set delimiter = "|"' in error.reason


def test_a_comma_separated_file_named_tsv_says_so(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(write(tmp_path, "comments.tsv", delimited([SPAM_HEADER, *SPAM_ROWS], ",")), spam)
    assert "looks comma-separated: name it .csv" in error.reason


def test_without_a_model_name_the_hint_points_at_the_settings(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(write(tmp_path, "europe.csv", delimited([SPAM_HEADER, *SPAM_ROWS], ";")), spam, name=None)
    assert "the model's settings in champion.toml" in error.reason


def test_a_missing_column_gets_no_separator_hint(tmp_path: Path, spam: ModelSettings) -> None:
    error = fail(write(tmp_path, "short.csv", delimited([SPAM_HEADER[:-1], *[r[:-1] for r in SPAM_ROWS]], ",")), spam)
    assert error.reason.startswith("required column missing: CLASS")
    assert "looks" not in error.reason


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", delimited([SPAM_HEADER, *SPAM_ROWS], ","))
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"COMMENT_ID": ["c1"]}), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "expected"), [
    (_parquet_bytes, "a Parquet file: name it .parquet (or .pq)"),
    (_xlsx, "an Excel workbook (.xlsx): save the sheet as CSV UTF-8 or as Parquet"),
    (_zip, "a ZIP archive"),
    (lambda: gzip.compress(delimited([SPAM_HEADER, *SPAM_ROWS], ",").encode()), "gzip-compressed"),
    (lambda: delimited([SPAM_HEADER, *SPAM_ROWS], "\t").encode("utf-16"), "UTF-16 text"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "an Excel 97-2003 workbook"),
], ids=["parquet", "xlsx", "zip", "gzip", "utf-16", "xls"])
def test_a_file_of_another_kind_is_named_by_its_first_bytes(tmp_path: Path, spam: ModelSettings,
                                                             content: Any, expected: str) -> None:
    error = fail(write(tmp_path, "data.csv", content()), spam)
    assert error.reason.startswith("not comma-separated text: this is ")
    assert expected in error.reason


def test_text_that_starts_like_parquet_is_still_text(tmp_path: Path) -> None:
    model = ModelSettings.model_validate({"recipe": "text-classifier", "data": ["*"], "target": "y",
                                          "labels": [0, 1], "columns": {"PAR1": "text", "y": "label"}})
    assert read_data_file(write(tmp_path, "par.csv", "PAR1,y\nfirst,0\n"), model).rows == 1


# ---- Parquet ------------------------------------------------------------------------------------
def parquet(folder: Path, name: str, columns: dict[str, Any]) -> Path:
    path = folder / name
    pq.write_table(pa.table(columns), path)
    return path


def rich_model(**changes: Any) -> ModelSettings:
    """Every column type, with names that have spaces, symbols and non-ASCII letters."""
    settings: dict[str, Any] = {
        "recipe": "text-classifier", "data": ["data/*"], "features": ["comment text"], "target": "Klasse",
        "labels": ["ham", "spam"], "id": ["Straße"],
        "columns": {"Straße": "string", "comment text": "text", "Prix (€)": "number", "Anzahl": "integer",
                    "Tag": {"type": "date", "nullable": True}, "Zeit": {"type": "datetime", "nullable": True},
                    "Klasse": "label", "Note": {"type": "integer", "nullable": True}},
        **changes,
    }
    return ModelSettings.model_validate(settings)


RICH_ROWS = [
    ["s1", "Grüße, \"Freunde\"\nzweite Zeile", "12.5", "3", "2014-01-01", "2014-01-01T10:00:00", "ham", "7"],
    ["s2", "ça va", "-0.25", "-4", "", "", "spam", ""],
    ["s3", "日本語のテキスト", "1e3", "0", "2015-12-31", "2015-12-31T23:59:59.123456", "ham", "-2"],
]


def rich_parquet(folder: Path, name: str = "data.parquet") -> Path:
    return parquet(folder, name, {
        "Straße": ["s1", "s2", "s3"],
        "comment text": [RICH_ROWS[0][1], "ça va", "日本語のテキスト"],
        "Prix (€)": [12.5, -0.25, 1000.0],
        "Anzahl": pa.array([3, -4, 0], pa.int32()),
        "Tag": pa.array([date(2014, 1, 1), None, date(2015, 12, 31)], pa.date32()),
        "Zeit": pa.array([datetime(2014, 1, 1, 10), None, datetime(2015, 12, 31, 23, 59, 59, 123456)],
                         pa.timestamp("ns")),
        "Klasse": pa.array(["ham", "spam", "ham"]).dictionary_encode(),
        "Note": pa.array([7.0, None, -2.0], pa.float64()),
        "ignored extra": [[1], [2], [3]],
    })


def test_parquet_gives_the_frame_a_csv_of_the_same_content_gives(tmp_path: Path) -> None:
    model = rich_model()
    header = list(model.columns)
    from_csv = read_data_file(write(tmp_path, "data.csv", "\ufeff" + delimited([header, *RICH_ROWS], ",")), model)
    from_tsv = read_data_file(write(tmp_path, "data.tsv", delimited([header, *RICH_ROWS], "\t")), model)
    path = rich_parquet(tmp_path)
    from_parquet = read_data_file(path, model)
    pd.testing.assert_frame_equal(from_parquet.frame, from_csv.frame)
    pd.testing.assert_frame_equal(from_tsv.frame, from_csv.frame)
    assert dict(from_parquet.frame.dtypes) == dict(from_csv.frame.dtypes)
    assert from_parquet.frame.attrs["row"] == (1, 2, 3)
    assert from_parquet.frame.attrs["line"] == (None, None, None)
    assert from_parquet.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_parquet_written_by_pandas_reads(tmp_path: Path) -> None:
    model = rich_model()
    header = list(model.columns)
    from_csv = read_data_file(write(tmp_path, "data.csv", delimited([header, *RICH_ROWS], ",")), model).frame
    frame = from_csv.copy()
    frame["Klasse"] = frame["Klasse"].astype("category")
    frame["Tag"] = frame["Tag"].astype("datetime64[ns]")  # pandas writes dates as midnight timestamps
    frame.to_parquet(tmp_path / "pandas.pq")
    pd.testing.assert_frame_equal(read_data_file(tmp_path / "pandas.pq", model).frame, from_csv)


def test_parquet_type_problems_name_row_and_column(tmp_path: Path) -> None:
    model = rich_model()
    path = parquet(tmp_path, "bad.parquet", {
        "Straße": ["s1", None, "s3"],                      # row 2: empty
        "comment text": ["a", "b", "c\x00"],                # row 3: NUL
        "Prix (€)": [1.0, float("inf"), float("nan")],      # row 2: not finite; row 3: empty
        "Anzahl": [1.0, 2.5, 3.0],                          # row 2: not whole
        "Tag": pa.array([datetime(2014, 1, 1, 10), None, None], pa.timestamp("s")),  # row 1: a time of day
        "Zeit": ["2014-01-01", "not a time", None],         # row 2: ISO text expected
        "Klasse": ["ham", "spam", "eggs"],                  # row 3: not a label
        "Note": pa.array([2**64 - 1, 1, None], pa.uint64()),  # row 1: out of range
    })
    error = fail(path, model)
    assert isinstance(error, FileProblems)
    found = {(p.row, p.column) for p in error.problems}
    assert found == {(1, "Tag"), (1, "Note"), (2, "Straße"), (2, "Prix (€)"), (2, "Anzahl"), (2, "Zeit"),
                     (3, "comment text"), (3, "Prix (€)"), (3, "Klasse")}
    assert all(p.line is None for p in error.problems)
    assert (error.row, error.line) == (1, None)
    messages = {(p.row, p.column): p.message for p in error.problems}
    assert "time of day" in messages[1, "Tag"]
    assert "not a finite number" in messages[2, "Prix (€)"]
    assert messages[3, "Prix (€)"] == "empty value"
    assert "2.5 is not an integer" in messages[2, "Anzahl"]
    assert "'not a time' is not a date-time" in messages[2, "Zeit"]
    assert "label 'eggs'" in messages[3, "Klasse"]


@pytest.mark.parametrize(("column", "values", "expected"), [
    ("Anzahl", pa.array([True, False, True]), "holds bool values; an integer column needs integers"),
    ("Straße", pa.array([1.5, 2.5, 3.5]), "holds double values; a string column needs text (or integers)"),
    ("Tag", pa.array([1, 2, 3]), "holds int64 values; a date column needs dates"),
    ("comment text", pa.array([[1], [2], [3]]), "holds list<element: int64> values"),
])
def test_a_parquet_column_of_the_wrong_type_is_named(tmp_path: Path, column: str, values: pa.Array,
                                                      expected: str) -> None:
    columns = read_data_file(rich_parquet(tmp_path), rich_model()).frame
    table = pa.Table.from_pandas(columns, preserve_index=False)
    table = table.set_column(table.schema.get_field_index(column), column, values)
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    error = fail(path, rich_model())
    assert (error.row, error.column) == (None, column)
    assert expected in error.reason


def test_parquet_values_that_read_as_the_declared_type(tmp_path: Path) -> None:
    model = rich_model(labels=[0, 1], columns={"Straße": "string", "comment text": "text", "Klasse": "label",
                                               "Anzahl": "integer", "Prix (€)": "number", "Zeit": "datetime"})
    path = parquet(tmp_path, "loose.parquet", {
        "Straße": pa.array([10, 20], pa.int16()),            # integers as identity strings
        "comment text": ["x", "y"],
        "Klasse": pa.array([1.0, 0.0]),                     # whole floats as integer labels
        "Anzahl": ["12", " 7 "],                            # text read as a text file's cells
        "Prix (€)": pa.array([3, 4], pa.uint8()),
        "Zeit": pa.array([date(2014, 1, 1), date(2014, 1, 2)], pa.date32()),
    })
    frame = read_data_file(path, model).frame
    assert list(frame["Straße"]) == ["10", "20"]
    assert list(frame["Klasse"]) == [1, 0]
    assert list(frame["Anzahl"]) == [12, 7] and frame["Anzahl"].dtype == "int64"
    assert list(frame["Prix (€)"]) == [3.0, 4.0] and frame["Prix (€)"].dtype == "float64"
    assert list(frame["Zeit"]) == [pd.Timestamp("2014-01-01"), pd.Timestamp("2014-01-02")]


def test_parquet_missing_and_repeated_columns(tmp_path: Path, spam: ModelSettings) -> None:
    missing = parquet(tmp_path, "missing.parquet", {"COMMENT_ID": ["c1"], "CONTENT": ["x"]})
    error = fail(missing, spam)
    assert error.column == "AUTHOR" and "required columns missing: AUTHOR, DATE, CLASS" in error.reason
    assert "the file has: COMMENT_ID, CONTENT" in error.reason
    table = pa.Table.from_arrays([pa.array(["c1"])] * 6, names=[*SPAM_HEADER, "CLASS "])
    pq.write_table(table, tmp_path / "twice.parquet")
    assert "appears twice" in fail(tmp_path / "twice.parquet", spam).reason


def test_parquet_without_rows(tmp_path: Path, spam: ModelSettings) -> None:
    empty = pa.table({name: pa.array([], pa.string()) for name in SPAM_HEADER})
    pq.write_table(empty, tmp_path / "empty.parquet")
    assert "no data rows" in fail(tmp_path / "empty.parquet", spam).reason


def test_a_damaged_parquet_file(tmp_path: Path, spam: ModelSettings) -> None:
    raw = _parquet_bytes()
    damaged = raw[:4] + bytes(len(raw) - 8) + raw[-4:]
    error = fail(write(tmp_path, "damaged.parquet", damaged), spam)
    assert error.reason.startswith("not a readable Parquet file")


@pytest.mark.parametrize(("content", "expected"), [
    (delimited([SPAM_HEADER, *SPAM_ROWS], ","), "it looks like comma-separated text: name it .csv"),
    (delimited([SPAM_HEADER, *SPAM_ROWS], "\t"), "it looks like tab-separated text: name it .tsv"),
    (delimited([SPAM_HEADER, *SPAM_ROWS], ";"), 'name it .csv and set delimiter = ";" in [models.spam]'),
    (gzip.compress(b"x"), "it looks like gzip-compressed"),
], ids=["csv", "tsv", "semicolons", "gzip"])
def test_a_file_named_parquet_that_is_not(tmp_path: Path, spam: ModelSettings, content: str | bytes,
                                          expected: str) -> None:
    error = fail(write(tmp_path, "data.parquet", content), spam)
    assert error.reason.startswith("not a Parquet file: ")
    assert expected in error.reason


# ---- names, headers, feedback --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["data.csv", "data.tsv", "data.parquet"])
def test_read_header_in_every_format(tmp_path: Path, spam: ModelSettings, name: str) -> None:
    model = rich_model()
    header = list(model.columns)
    if name.endswith(".parquet"):
        path = rich_parquet(tmp_path, name)
        header.append("ignored extra")
    else:
        path = write(tmp_path, name, "\ufeff" + delimited([header, *RICH_ROWS], "\t" if name.endswith("tsv") else ","))
    assert read_header(path, model) == header
    assert read_header(tmp_path / "absent.csv", model) == []


@pytest.mark.parametrize("kind", ["csv", "tsv", "parquet"])
def test_feedback_files_in_every_format(tmp_path: Path, spam: ModelSettings, kind: str) -> None:
    rows = [["request_id", "row", "CLASS"], ["r1", "0", "1"], ["r1", "1", "0"], ["r2", "", "1"]]
    if kind == "parquet":
        path = parquet(tmp_path, "feedback.parquet", {"request_id": ["r1", "r1", "r2"],
                                                      "row": pa.array([0, 1, None]), "CLASS": [1, 0, 1]})
    else:
        path = write(tmp_path, f"feedback.{kind}", delimited(rows, "\t" if kind == "tsv" else ","))
    items = read_feedback_file(spam, path)
    assert [(f.request_id, f.row, f.actual) for f in items] == [("r1", 0, 1), ("r1", 1, 0), ("r2", None, 1)]


def test_feedback_tsv_named_csv_says_what_it_looks_like(tmp_path: Path, spam: ModelSettings) -> None:
    rows = [["COMMENT_ID", "CLASS"], ["c1", "1"]]
    with pytest.raises(DataError) as caught:
        read_feedback_file(spam, write(tmp_path, "feedback.csv", delimited(rows, "\t")))
    assert "looks tab-separated" in caught.value.reason


# ---- duplicates on the terminal -------------------------------------------------------------------
def test_assemble_lists_every_skipped_row_with_its_first_sighting(tmp_path: Path, spam: ModelSettings) -> None:
    a = write(tmp_path, "a.csv", delimited([SPAM_HEADER, *SPAM_ROWS, SPAM_ROWS[0]], ","))
    b = parquet(tmp_path, "b.parquet", {"COMMENT_ID": ["c9", "c2"], "AUTHOR": ["x", "Bob"], "DATE": [None, None],
                                        "CONTENT": ["new", "check out my channel\nsecond line"], "CLASS": [1, 1]})
    dataset = assemble([read_data_file(a, spam), read_data_file(b, spam)], spam, tmp_path)
    assert dataset.duplicates_dropped == 2
    assert [(s.file, s.row, s.line, s.identity, s.first_file, s.first_row) for s in dataset.skipped] == [
        ("a.csv", 4, 6, "c1", "a.csv", 1), ("b.parquet", 2, None, "c2", "a.csv", 2)]
    assert dataset.duplicates_document()["duplicates_by_file"] == {"a.csv": 1, "b.parquet": 1}


def test_ingest_shows_counts_and_the_first_few_duplicates(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)
    psy = project / "data" / "initial" / "Youtube01-Psy.csv"
    copy = write(project, "psy-again.tsv", delimited(list(csv.reader(io.StringIO(psy.read_text("utf-8")))), "\t"))
    result = cli("ingest", "spam", str(copy), "--project", str(project))
    assert result.code == 0, result.stdout + result.stderr
    assert "350 duplicate rows skipped" in result.stdout
    assert result.stdout.count("  skipped row ") == 5
    assert "... and 345 more (--json lists them all)" in result.stdout
    document = cli("ingest", "spam", str(copy), "--project", str(project), "--json").json()
    assert document["files"][0]["status"] == "already in the dataset"


def test_build_shows_the_duplicates_of_declared_files(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    eminem = project / "data" / "retraining" / "Youtube04-Eminem.csv"  # two rows repeat an identity
    frame = pd.read_csv(eminem)
    frame.to_parquet(project / "data" / "initial" / "eminem.parquet", index=False)
    config = project / "champion.toml"
    config.write_text(config.read_text().replace('data = ["data/initial/*.csv"]',
                                                 'data = ["data/initial/*.csv", "data/initial/*.parquet"]'))
    result = cli("build", "--project", str(project), "--json", "-q")
    assert result.code == 0, result.stdout
    data = result.json()["data"]
    assert data["duplicates_dropped"] == 2 and data["duplicates_by_file"] == {"data/initial/eminem.parquet": 2}
    assert [d["line"] for d in data["duplicates"]] == [None, None]
    shown = cli("train", "--project", str(project), "-q")
    assert "2 duplicate rows skipped" in shown.stdout
    assert "eminem.parquet row 284 repeats its row 283" in shown.stdout


def test_retrain_shows_what_its_ingest_skipped(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    psy = (project / "data" / "initial" / "Youtube01-Psy.csv").read_text(encoding="utf-8")
    again = write(project, "psy-again.csv", psy + "fresh-id,someone,,a brand new comment,0\n")
    result = cli("retrain", "--new-data", str(again), "--no-release", "--project", str(project), "-q")
    assert result.code in (0, 3), result.stdout + result.stderr
    assert "added: " in result.stdout and "350 duplicate rows skipped" in result.stdout
    assert "... and 345 more" in result.stdout
    assert "data: 1,139 rows from 4 files; 350 duplicate rows skipped" in result.stdout


def test_an_ingested_file_gone_from_a_local_project_is_named(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)
    eminem = project / "data" / "retraining" / "Youtube04-Eminem.csv"
    stored = cli("ingest", "spam", str(eminem), "--project", str(project), "--json").json()["files"][0]["stored_as"]
    (project / stored).unlink()
    result = cli("train", "--project", str(project), "-q")
    assert result.code == 2, result.stdout + result.stderr
    assert f"{project / stored}: this file was ingested for spam but is gone from the project" in result.stderr
    assert "Traceback" not in result.stderr
