"""Properties of the request codecs: no /score or v2 input makes them raise anything but InputError.

The models are real `LoadedModel`s around a tiny fitted recipe (no MLflow): the codecs read
only their input columns and task. Random JSON values, well-formed requests with awkward
values, v2 tensors of every datatype in JSON and in the binary extension (random header
lengths and blobs) are all thrown at `score_rows_with_ids`, `score_steps`, `parse_request`,
`classifier_rows` and `forecast_steps`.
"""

from __future__ import annotations

import json
import math
import struct
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from fixtures.keyword_recipe import KeywordClassifier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from champion.errors import InputError
from champion.recipes.loader import recipe_class
from champion.serving import inputs, v2
from champion.serving.loaded import MAX_STEPS, InputColumn, LoadedModel

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ["text", "string", "integer", "number", "date", "datetime", "label"]
NAMES = st.sampled_from(["CONTENT", "AUTHOR", "n", "x", "Prix (€)", "comment text", "steps", "id", "data"])
DATATYPES = ["BYTES", "BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16",
             "FP32", "FP64"]

_TEXTS = pd.DataFrame({"CONTENT": ["buy cheap pills now", "nice song", "cheap pills here", "love it"]})
_RECIPE = KeywordClassifier(top=2).fit(_TEXTS, pd.Series([1, 0, 1, 0]))
_FORECASTER = recipe_class("forecaster")()

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8),
    st.sampled_from(["", "2014-01-01", "2014-01-01T10:00:00+02:00", "nan", "1", "ham", "\x00", "𝔘"]),
)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.one_of(NAMES, st.text(max_size=4)), inner,
                                                                     max_size=4)), max_leaves=12)


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


DEEP = "\x00deep"
"""Stands in a v2 document for lists nested 1,000 deep (orjson parses 1,024 levels but writes 254)."""


def dumps(document: Any) -> bytes:
    """JSON as a client may send it (integers of any size, NaN as the bare word), deep lists in."""
    return json.dumps(document).encode().replace(json.dumps(DEEP).encode(), b"[" * 1000 + b"1" + b"]" * 1000)


@st.composite
def classifiers(draw: st.DrawFn) -> tuple[LoadedModel, list[InputColumn]]:
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    columns = [InputColumn(name, draw(st.sampled_from(KINDS)), draw(st.booleans())) for name in names]
    ids = [InputColumn(name, draw(st.sampled_from(KINDS)))
           for name in draw(st.lists(st.one_of(NAMES, st.just("COMMENT_ID")), max_size=2, unique=True))]
    return LoadedModel("m", 1, "run", _RECIPE, columns, "sha", "keyword"), ids


def value_for(column: InputColumn) -> st.SearchStrategy[Any]:
    """Values that fit the column mostly, and some that do not."""
    fitting = {"text": st.text(max_size=8), "string": st.text(max_size=8), "integer": st.integers(-(2**64), 2**64),
               "number": st.floats(), "date": st.dates().map(str), "datetime": st.datetimes().map(str),
               "label": st.one_of(st.integers(0, 2), st.text(max_size=3))}[column.kind]
    return st.one_of(fitting, fitting, JSON, st.just(deep(1100)))


@st.composite
def score_payloads(draw: st.DrawFn, columns: list[InputColumn], ids: list[InputColumn]) -> Any:
    """`{"data": [...]}` bodies: rows as objects (with or without identity fields, some fields
    missing or unknown), as bare values, or anything JSON."""
    if draw(st.integers(0, 5)) == 5:
        return draw(JSON)

    def row() -> st.SearchStrategy[Any]:
        fields = {c.name: value_for(c) for c in columns}
        if ids and draw(st.booleans()):
            fields.update({c.name: value_for(c) for c in ids})
        whole = st.fixed_dictionaries(fields)
        partial = st.fixed_dictionaries({}, optional={**fields, "extra": JSON})
        return st.one_of(whole, whole, partial, value_for(columns[0]), JSON)

    body: dict[str, Any] = {"data": draw(st.lists(row(), max_size=6))}
    if draw(st.integers(0, 9)) == 0:
        body["extra"] = draw(JSON)
    return body


@FAST
@given(st.data())
def test_score_rows_raise_only_input_errors(data: st.DataObject) -> None:
    model, ids = data.draw(classifiers())
    payload = data.draw(score_payloads(model.columns, ids))
    max_rows = data.draw(st.integers(1, 8))
    try:
        rows, identities = inputs.score_rows_with_ids(model, payload, max_rows, ids)
    except InputError as error:
        assert str(error)
        return
    count = len(payload["data"])
    assert 1 <= count <= max_rows
    assert set(rows) == {c.name for c in model.columns}
    assert all(len(values) == count for values in rows.values())
    for column in model.columns:
        for value in rows[column.name]:
            if value is None:
                assert column.nullable
            elif column.kind in ("text", "string", "label"):
                assert isinstance(value, str)
            elif column.kind in ("date", "datetime"):
                assert isinstance(value, str) and datetime.fromisoformat(value)
            else:
                assert isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if identities is not None:
        assert all(len(values) == count for values in identities.values())


@FAST
@given(st.one_of(JSON, st.fixed_dictionaries({"data": st.lists(st.one_of(SCALARS, JSON), max_size=3)}),
                 st.just({"data": [deep(1100)]})))
def test_score_steps_raise_only_input_errors(payload: Any) -> None:
    try:
        steps = inputs.score_steps(payload)
    except InputError:
        return
    assert isinstance(steps, int) and 1 <= steps <= MAX_STEPS


# ---- v2 -----------------------------------------------------------------------------------------
def encode(datatype: str, values: list[Any]) -> bytes:
    """A tensor's elements in the binary extension (what tritonclient sends)."""
    if datatype == "BYTES":
        parts = []
        for value in values:
            raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
            parts.append(struct.pack("<I", len(raw)) + raw)
        return b"".join(parts)
    return np.asarray(values, dtype=v2._NUMERIC[datatype]).tobytes()


def elements(datatype: str) -> st.SearchStrategy[Any]:
    if datatype == "BYTES":
        return st.one_of(st.text(max_size=6), st.binary(max_size=4))
    if datatype == "BOOL":
        return st.booleans()
    if datatype.startswith("FP"):
        width = {"FP16": 16, "FP32": 32, "FP64": 64}[datatype]
        return st.floats(width=width)  # type: ignore[arg-type]
    info = np.iinfo(np.dtype(v2._NUMERIC[datatype]))
    return st.integers(int(info.min), int(info.max))


@st.composite
def tensors(draw: st.DrawFn, names: list[str]) -> tuple[dict[str, Any], bytes]:
    """One input tensor: JSON data or binary data (a size and the blob), sometimes inconsistent."""
    datatype = draw(st.sampled_from(DATATYPES))
    count = draw(st.integers(0, 5))
    values = draw(st.lists(elements(datatype), min_size=count, max_size=count))
    shape: Any = draw(st.sampled_from([[count], [count, 1], [1, count], [], [count, 2], [-1], [2**40, 2**40],
                                       "x", [count + 1]]))
    entry: dict[str, Any] = {"name": draw(st.one_of(st.sampled_from(names), NAMES, SCALARS)), "datatype": datatype,
                             "shape": shape}
    if draw(st.integers(0, 9)) == 0:
        entry["datatype"] = draw(st.one_of(SCALARS, st.just(["BYTES"]), st.just({"a": 1})))
    blob = b""
    if draw(st.booleans()):
        blob = encode(datatype, values) if draw(st.integers(0, 4)) else draw(st.binary(max_size=24))
        entry["parameters"] = {"binary_data_size": draw(st.one_of(st.just(len(blob)), st.integers(-2, 40), JSON))}
    else:
        data: Any = [v.hex() if isinstance(v, bytes) else v for v in values]
        entry["data"] = draw(st.one_of(st.just(data), st.just([data]), JSON, st.just(DEEP)))
    if draw(st.integers(0, 9)) == 0:
        entry["parameters"] = draw(JSON)
    return entry, blob


@st.composite
def infer_bodies(draw: st.DrawFn, names: list[str]) -> tuple[bytes, str | None]:
    """A v2 body and its Inference-Header-Content-Length (None for plain JSON)."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=64)), draw(st.one_of(st.none(), st.text(max_size=5)))
    if kind == 1:
        return dumps(draw(JSON)), None
    entries = draw(st.lists(tensors(names), min_size=1, max_size=3))
    document: dict[str, Any] = {"inputs": [e for e, _ in entries]}
    if draw(st.booleans()):
        document["id"] = draw(st.one_of(st.text(max_size=5), SCALARS, JSON, st.just(DEEP)))
    if draw(st.booleans()):
        document["outputs"] = draw(st.one_of(
            st.lists(st.fixed_dictionaries({"name": st.sampled_from(["label", "probabilities", "forecast", "x"])},
                                            optional={"parameters": JSON}), max_size=2), JSON))
    if draw(st.booleans()):
        document["parameters"] = draw(st.one_of(st.just({"binary_data_output": True}), JSON))
    header = dumps(document)
    blob = b"".join(b for _, b in entries)
    if not blob and draw(st.booleans()):
        return header, None
    length = draw(st.one_of(st.just(str(len(header))), st.integers(-5, len(header) + len(blob) + 5).map(str),
                            st.sampled_from(["", "abc", " 7", "+7", "٣", "1_0", "1e3", str(2**80)])))
    tail = blob if draw(st.integers(0, 4)) else draw(st.binary(max_size=16))
    return header + tail, length


@pytest.mark.parametrize("task", ["classification", "forecasting"])
def test_v2_requests_raise_only_input_errors(task: str) -> None:
    @FAST
    @given(st.data())
    def check(data: st.DataObject) -> None:
        if task == "forecasting":
            model, names = None, ["steps"]
        else:
            model, _ = data.draw(classifiers())
            names = [c.name for c in model.columns]
        body, length = data.draw(infer_bodies(names))
        try:
            request = v2.parse_request(body, length)
        except InputError as error:
            assert str(error)
            return
        assert request.inputs and all(isinstance(values, list) for values in request.inputs.values())
        assert request.id is None or isinstance(request.id, str)
        try:
            if model is None:
                steps = v2.forecast_steps(request)
                assert isinstance(steps, int) and 1 <= steps <= MAX_STEPS
            else:
                rows = v2.classifier_rows(model, request, data.draw(st.integers(1, 8)))
                assert set(rows) == {c.name for c in model.columns}
                assert len({len(values) for values in rows.values()}) == 1
        except InputError as error:
            assert str(error)

    check()


def test_a_valid_binary_request_round_trips() -> None:
    """The generator's encoding is the extension's: a request built like tritonclient's parses."""
    model = LoadedModel("m", 1, "run", _RECIPE, [InputColumn("CONTENT", "text"), InputColumn("n", "number")],
                        "sha", "keyword")
    texts, numbers = ["ça va", "cheap pills"], [1.5, -2.0]
    blobs = [encode("BYTES", texts), encode("FP32", numbers)]
    header = orjson.dumps({"id": 7, "inputs": [
        {"name": "CONTENT", "datatype": "BYTES", "shape": [2, 1], "parameters": {"binary_data_size": len(blobs[0])}},
        {"name": "n", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": len(blobs[1])}}]})
    request = v2.parse_request(header + b"".join(blobs), str(len(header)))
    assert request.id == "7"
    assert v2.classifier_rows(model, request, 10) == {"CONTENT": texts, "n": numbers}
    forecaster = LoadedModel("t", 1, "run", _FORECASTER, [InputColumn("steps", "integer")], "sha", "forecaster")
    assert forecaster.task == "forecasting"
    steps = v2.parse_request(orjson.dumps({"inputs": [{"name": "steps", "datatype": "FP64", "shape": [1],
                                                       "data": [3.0]}]}), None)
    assert v2.forecast_steps(steps) == 3


@pytest.mark.parametrize(("value", "kind"), [
    (float("nan"), "number"), (float("inf"), "integer"), (2**64, "integer"), (10**400, "number"), (1.5, "integer"),
])
def test_values_a_binary_tensor_or_big_json_number_can_carry_are_refused(value: Any, kind: str) -> None:
    with pytest.raises(InputError):
        inputs.check_value(InputColumn("n", kind), value, "n[0]")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e300, 2.5, True, "3", None])
def test_steps_that_are_not_whole_numbers_in_range_are_refused(value: Any) -> None:
    with pytest.raises(InputError):
        inputs.check_steps(value, "steps[0]")


def _infer(document: dict[str, Any], blob: bytes = b"") -> tuple[bytes, str | None]:
    header = dumps(document)
    return header + blob, (str(len(header)) if blob else None)


TEXT_INPUT = {"name": "CONTENT", "datatype": "BYTES", "shape": [1], "data": ["hello"]}
CRASHED_ONCE = {
    "datatype-not-a-string": _infer({"inputs": [{**TEXT_INPUT, "datatype": ["BYTES"]}]}),
    "tensor-parameters-not-an-object": _infer({"inputs": [{**TEXT_INPUT, "parameters": "binary"}]}),
    "outputs-not-a-list": _infer({"inputs": [TEXT_INPUT], "outputs": 5}),
    "output-parameters-not-an-object": _infer({"inputs": [TEXT_INPUT], "outputs": [{"name": "label",
                                                                                    "parameters": 3}]}),
    "data-nested-1000-deep": _infer({"inputs": [{**TEXT_INPUT, "data": DEEP}]}),
    "id-nested-1000-deep": _infer({"inputs": [TEXT_INPUT], "id": DEEP}),
    "nan-for-an-integer": _infer({"inputs": [TEXT_INPUT, {"name": "n", "datatype": "FP64", "shape": [1],
                                              "parameters": {"binary_data_size": 8}}]}, struct.pack("<d", math.nan)),
}
MESSAGES = {"nan-for-an-integer": "n[0]: expected a finite number for n, got nan"}


@pytest.mark.parametrize("case", sorted(CRASHED_ONCE))
def test_requests_that_once_crashed_the_v2_codec(case: str) -> None:
    model = LoadedModel("m", 1, "run", _RECIPE, [InputColumn("CONTENT", "text"), InputColumn("n", "integer")],
                        "sha", "keyword")
    body, length = CRASHED_ONCE[case]
    with pytest.raises(InputError) as caught:
        v2.classifier_rows(model, v2.parse_request(body, length), 10)
    assert len(str(caught.value)) < 300
    assert MESSAGES.get(case, "") in str(caught.value)


def test_a_deep_identity_value_in_score_rows_is_an_input_error() -> None:
    model = LoadedModel("m", 1, "run", _RECIPE, [InputColumn("CONTENT", "text")], "sha", "keyword")
    payload = {"data": [{"CONTENT": "hi", "DATE": deep(1000)}]}
    with pytest.raises(InputError, match="expected an ISO date"):
        inputs.score_rows_with_ids(model, payload, 10, [InputColumn("DATE", "date")])
