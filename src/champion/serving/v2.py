"""The Open Inference Protocol (KServe v2) over REST: tensors in, tensors out.

Supports JSON tensors and the binary tensor data extension (a JSON header followed by raw
tensors, its length in `Inference-Header-Content-Length`), which `tritonclient` uses by
default. Strings travel as BYTES: in binary form each element is a 4-byte little-endian
length followed by its UTF-8 bytes.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from champion import __version__
from champion.errors import InputError
from champion.serving.inputs import check_steps, check_value, show
from champion.serving.loaded import LoadedModel, Rows

HEADER_LENGTH = "inference-header-content-length"
_NUMERIC = {"BOOL": "?", "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "UINT8": "<u1",
            "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}
_INTEGER_TYPES = {"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}


@dataclass
class InferRequest:
    """A parsed v2 inference request."""

    id: str | None
    inputs: dict[str, list[Any]]
    outputs: list[str] = field(default_factory=list)
    binary_outputs: set[str] = field(default_factory=set)
    all_binary: bool = False


@dataclass
class Tensor:
    name: str
    datatype: str
    shape: list[int]
    data: list[Any]


def server_metadata() -> dict[str, Any]:
    return {"name": "champion", "version": __version__, "extensions": ["binary_tensor_data"]}


def model_metadata(model: LoadedModel) -> dict[str, Any]:
    """`GET /v2/models/{name}`: the model's input and output tensors."""
    if model.task == "forecasting":
        inputs = [{"name": "steps", "datatype": "INT64", "shape": [1]}]
        outputs = [{"name": "forecast", "datatype": "FP64", "shape": [-1]},
                   {"name": "time", "datatype": "BYTES", "shape": [-1]}]
    else:
        inputs = [{"name": c.name, "datatype": _datatype_of(c.kind), "shape": [-1]} for c in model.columns]
        outputs = ([{"name": "prediction", "datatype": "FP64", "shape": [-1]}] if model.task == "regression" else
                   [{"name": "label", "datatype": _label_datatype(model), "shape": [-1]},
                    {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(model.classes)]}])
    return {"name": model.name, "versions": [str(model.version)], "platform": f"champion/{model.recipe_spec}",
            "inputs": inputs, "outputs": outputs,
            "parameters": {"classes": model.classes} if model.classes else {}}


def parse_request(body: bytes, header_length: str | None) -> InferRequest:
    """Parse a JSON or binary-extension inference request."""
    if header_length is not None:
        try:
            size = int(header_length)
        except ValueError:
            raise InputError(f"Inference-Header-Content-Length: not a number: {show(header_length)}") from None
        if not 0 < size <= len(body):
            raise InputError(f"Inference-Header-Content-Length {size} does not fit a body of {len(body)} bytes")
        header, blob = body[:size], body[size:]
    else:
        header, blob = body, b""
    try:
        document = orjson.loads(header)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"the inference request is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list) or not document["inputs"]:
        raise InputError("an inference request is an object with a non-empty 'inputs' list")
    inputs: dict[str, list[Any]] = {}
    offset = 0
    for i, tensor in enumerate(document["inputs"]):
        name, values, used = _input_tensor(tensor, i, blob, offset)
        offset += used
        if name in inputs:
            raise InputError(f"inputs[{i}]: input {name!r} given twice")
        inputs[name] = values
    if offset != len(blob):
        raise InputError(f"{len(blob) - offset} bytes of binary data follow the last input tensor")
    parameters = document.get("parameters") or {}
    request = InferRequest(id=_optional_str(document.get("id")), inputs=inputs,
                           all_binary=bool(isinstance(parameters, dict) and parameters.get("binary_data_output")))
    outputs = document.get("outputs") or []
    if not isinstance(outputs, list):
        raise InputError("'outputs' must be a list of objects with a 'name'")
    for j, wanted in enumerate(outputs):
        if not isinstance(wanted, dict) or not isinstance(wanted.get("name"), str):
            raise InputError(f"outputs[{j}]: expected an object with a 'name'")
        request.outputs.append(wanted["name"])
        if _parameters(wanted, f"outputs[{j}]").get("binary_data"):
            request.binary_outputs.add(wanted["name"])
    return request


def classifier_rows(model: LoadedModel, request: InferRequest, max_rows: int) -> Rows:
    names = [c.name for c in model.columns]
    unknown = sorted(set(request.inputs) - set(names))
    if unknown:
        raise InputError(f"unknown input(s) {unknown}; {model.name} takes {names}")
    missing = [n for n in names if n not in request.inputs]
    if missing:
        raise InputError(f"missing input(s) {missing}; {model.name} takes {names}")
    lengths = {len(request.inputs[n]) for n in names}
    if len(lengths) != 1:
        raise InputError(f"inputs have different lengths {sorted(lengths)}; send one element per row in each")
    count = lengths.pop()
    if count == 0:
        raise InputError("inputs are empty; send at least one row")
    if count > max_rows:
        raise InputError(f"{count} rows in one request; the limit is {max_rows}", too_large=True)
    return {c.name: [check_value(c, v, f"{c.name}[{k}]") for k, v in enumerate(request.inputs[c.name])]
            for c in model.columns}


def forecast_steps(request: InferRequest) -> int:
    if set(request.inputs) != {"steps"}:
        raise InputError(f"a forecaster takes one input named 'steps'; got {sorted(request.inputs)}")
    values = request.inputs["steps"]
    if len(values) != 1:
        raise InputError(f"steps: expected one element, got {len(values)}")
    return check_steps(values[0], "steps[0]")


def classifier_outputs(model: LoadedModel, labels: np.ndarray, proba: np.ndarray) -> list[Tensor]:
    label_type = _label_datatype(model)
    label_values = [str(v) for v in labels] if label_type == "BYTES" else [int(v) for v in labels]
    return [Tensor("label", label_type, [len(labels)], label_values),
            Tensor("probabilities", "FP64", [len(labels), proba.shape[1]], proba.ravel().tolist())]


def regression_outputs(values: np.ndarray) -> list[Tensor]:
    return [Tensor("prediction", "FP64", [len(values)], np.asarray(values, dtype=float).tolist())]


def forecast_outputs(times: list[str], values: np.ndarray) -> list[Tensor]:
    return [Tensor("forecast", "FP64", [len(values)], values.tolist()),
            Tensor("time", "BYTES", [len(times)], times)]


def response(model: LoadedModel, request: InferRequest, tensors: list[Tensor]) -> tuple[bytes, int | None]:
    """The response body, and the JSON header's length when binary tensors follow it."""
    if request.outputs:
        known = {t.name for t in tensors}
        unknown = [n for n in request.outputs if n not in known]
        if unknown:
            raise InputError(f"unknown output(s) {unknown}; {model.name} returns {sorted(known)}")
        tensors = [t for t in tensors if t.name in request.outputs]
    outputs, blobs = [], []
    for t in tensors:
        entry: dict[str, Any] = {"name": t.name, "datatype": t.datatype, "shape": t.shape}
        if request.all_binary or t.name in request.binary_outputs:
            blob = _to_binary(t)
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = t.data
        outputs.append(entry)
    document: dict[str, Any] = {"model_name": model.name, "model_version": str(model.version), "outputs": outputs}
    if request.id is not None:
        document["id"] = request.id
    header = orjson.dumps(document)
    if not blobs:
        return header, None
    return header + b"".join(blobs), len(header)


def _input_tensor(tensor: Any, i: int, blob: bytes, offset: int) -> tuple[str, list[Any], int]:
    if not isinstance(tensor, dict):
        raise InputError(f"inputs[{i}]: expected an object with name, shape, datatype and data")
    name, datatype, shape = tensor.get("name"), tensor.get("datatype"), tensor.get("shape")
    if not isinstance(name, str) or not name:
        raise InputError(f"inputs[{i}]: missing 'name'")
    if not isinstance(datatype, str) or (datatype != "BYTES" and datatype not in _NUMERIC):
        raise InputError(f"inputs[{i}] ({name}): unknown datatype {show(datatype)}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise InputError(f"inputs[{i}] ({name}): 'shape' must be a list of non-negative integers")
    count = math.prod(shape)
    if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        raise InputError(f"inputs[{i}] ({name}): shape {show(shape)}; send one element per row, shape [n] or [n, 1]")
    size = _parameters(tensor, f"inputs[{i}] ({name})").get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(blob):
            raise InputError(f"inputs[{i}] ({name}): binary_data_size {show(size)} runs past the end of the body")
        values = _from_binary(blob[offset:offset + size], datatype, count, f"inputs[{i}] ({name})")
        return name, values, size
    if "data" not in tensor:
        raise InputError(f"inputs[{i}] ({name}): missing 'data'")
    values = _flatten(tensor["data"])
    if len(values) != count:
        raise InputError(f"inputs[{i}] ({name}): shape {shape} holds {count} elements, data has {len(values)}")
    if datatype in _INTEGER_TYPES or datatype in ("FP16", "FP32", "FP64"):
        for k, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise InputError(f"inputs[{i}] ({name})[{k}]: expected a number for {datatype}, got {show(v)}")
    return name, values, 0


def _from_binary(raw: bytes, datatype: str, count: int, where: str) -> list[Any]:
    if datatype != "BYTES":
        dtype = np.dtype(_NUMERIC[datatype])
        if len(raw) != count * dtype.itemsize:
            raise InputError(f"{where}: {len(raw)} bytes do not hold {count} {datatype} elements")
        return np.frombuffer(raw, dtype=dtype).tolist()
    values: list[Any] = []
    pos = 0
    while pos < len(raw):
        if pos + 4 > len(raw):
            raise InputError(f"{where}: truncated BYTES element at byte {pos}")
        (length,) = struct.unpack_from("<I", raw, pos)
        pos += 4
        if pos + length > len(raw):
            raise InputError(f"{where}: BYTES element {len(values)} runs past the end of its tensor")
        try:
            values.append(raw[pos:pos + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"{where}[{len(values)}]: not valid UTF-8 text") from None
        pos += length
    if len(values) != count:
        raise InputError(f"{where}: shape holds {count} elements, the binary data has {len(values)}")
    return values


def _to_binary(t: Tensor) -> bytes:
    if t.datatype == "BYTES":
        parts = []
        for value in t.data:
            encoded = str(value).encode("utf-8")
            parts.append(struct.pack("<I", len(encoded)) + encoded)
        return b"".join(parts)
    return np.asarray(t.data, dtype=_NUMERIC[t.datatype]).tobytes()


def _flatten(data: Any) -> list[Any]:
    """Nested lists as one list, in order (without recursion: JSON may nest 1,024 deep)."""
    if not isinstance(data, list):
        return [data]
    if all(not isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for v in stack[-1]:
            if isinstance(v, list):
                stack.append(iter(v))
                break
            flat.append(v)
        else:
            stack.pop()
    return flat


def _parameters(entry: dict[str, Any], where: str) -> dict[str, Any]:
    parameters = entry.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError(f"{where}: 'parameters' must be an object")
    return parameters


def _datatype_of(kind: str) -> str:
    return {"integer": "INT64", "number": "FP64"}.get(kind, "BYTES")


def _label_datatype(model: LoadedModel) -> str:
    return "INT64" if all(isinstance(c, int) and not isinstance(c, bool) for c in model.classes) else "BYTES"


MAX_ID_CHARS = 128
"""Longest request `id` (it is echoed and logged)."""


def _optional_str(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        return value
    if not isinstance(value, str):
        raise InputError(f"'id' must be a string, got {_json_kind(value)}")
    if len(value) > MAX_ID_CHARS:
        raise InputError(f"'id' holds {len(value):,} characters; the limit is {MAX_ID_CHARS}")
    return value


def _json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (never its Python repr)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__
