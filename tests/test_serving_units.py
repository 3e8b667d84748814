"""Serving parts without a server: batching, v2 tensors (binary and JSON), input checks."""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import orjson
import pandas as pd
import pytest
from fixtures.keyword_recipe import KeywordClassifier

from champion.errors import InputError, RegistryError
from champion.recipes.loader import recipe_class
from champion.serving import inputs, v2
from champion.serving.batching import Batcher
from champion.serving.loaded import InputColumn, LoadedModel


def keyword_model(version: int = 1) -> LoadedModel:
    texts = pd.DataFrame({"CONTENT": ["buy cheap pills now", "nice song", "cheap pills here", "love it"]})
    recipe = KeywordClassifier(top=2).fit(texts, pd.Series([1, 0, 1, 0]))
    return LoadedModel("spam", version, "run", recipe, [InputColumn("CONTENT", "text")], "sha", "keyword")


def test_concurrent_requests_are_merged_and_answered_separately() -> None:
    model = keyword_model()
    sizes: list[int] = []
    batcher = Batcher(max_rows=1000, observe=sizes.append)
    texts = [f"cheap pills {i}" if i % 2 else f"song {i}" for i in range(40)]

    async def main() -> list[tuple[np.ndarray, np.ndarray]]:
        return await asyncio.gather(*[batcher.predict(model, {"CONTENT": [t]}) for t in texts])

    answers = asyncio.run(main())
    expected_labels, expected_proba = model.predict_rows({"CONTENT": texts})
    assert [int(a[0][0]) for a in answers] == expected_labels.tolist()
    assert np.allclose(np.vstack([a[1] for a in answers]), expected_proba)
    assert sum(sizes) == 40 and len(sizes) < 40


def test_requests_for_different_versions_never_share_a_batch() -> None:
    old, new = keyword_model(1), keyword_model(2)
    sizes: list[int] = []
    batcher = Batcher(max_rows=1000, observe=sizes.append)

    async def main() -> None:
        await asyncio.gather(*[batcher.predict(old if i % 2 else new, {"CONTENT": ["x"]}) for i in range(10)])

    asyncio.run(main())
    assert sizes == [5, 5]


def test_batches_respect_the_row_limit() -> None:
    model = keyword_model()
    sizes: list[int] = []
    batcher = Batcher(max_rows=3, observe=sizes.append)

    async def main() -> None:
        await asyncio.gather(*[batcher.predict(model, {"CONTENT": ["a", "b"]}) for _ in range(5)])

    asyncio.run(main())
    assert max(sizes) <= 3 and sum(sizes) == 10


def test_a_large_request_is_predicted_in_pieces_with_small_ones_between() -> None:
    model = keyword_model()
    sizes: list[int] = []
    batcher = Batcher(max_rows=1000, observe=sizes.append, piece_chars=200)
    big = [f"cheap pills number {i}" if i % 3 else f"a nice song {i}" for i in range(60)]  # ~1,200 characters
    order: list[str] = []

    async def main() -> tuple[tuple[np.ndarray, np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
        async def one(name: str, rows: list[str]) -> tuple[np.ndarray, np.ndarray]:
            answer = await batcher.predict(model, {"CONTENT": rows})
            order.append(name)
            return answer

        large = asyncio.create_task(one("big", big))
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the large request's first piece is under way
        small = [await one(f"small-{i}", [f"cheap {i}"]) for i in range(3)]
        return await large, small

    (labels, proba), small = asyncio.run(main())
    expected = model.predict_rows({"CONTENT": big})
    assert labels.tolist() == expected[0].tolist() and np.allclose(proba, expected[1])  # pieces put back in order
    assert all(s[0].shape == (1,) for s in small)
    assert order[-1] == "big" and len(sizes) > 5 and max(sizes) <= 12  # ~200 characters a piece


def test_a_failing_model_fails_its_requests_not_the_batcher() -> None:
    model = keyword_model()
    wrong = LoadedModel("transactions", 1, "run", recipe_class("forecaster")(), [InputColumn("steps", "integer")],
                        "sha", "forecaster")
    batcher = Batcher(max_rows=10)

    async def main() -> None:
        with pytest.raises(TypeError, match="is a forecaster"):
            await batcher.predict(wrong, {"steps": [3]})
        labels, _ = await batcher.predict(model, {"CONTENT": ["cheap pills"]})
        assert labels.tolist() == [1]

    asyncio.run(main())


class UnnormalizedClassifier(KeywordClassifier):
    """Probabilities that do not sum to one: a broken model."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.full((len(X), 2), 0.7)


def test_self_test_refuses_a_model_whose_probabilities_are_broken() -> None:
    model = keyword_model()
    model.recipe = UnnormalizedClassifier(top=2).fit(pd.DataFrame({"CONTENT": ["a b", "c"]}), pd.Series([1, 0]))
    with pytest.raises(RegistryError, match="failed its self-test"):
        model.self_test(pd.DataFrame({"CONTENT": ["x", "y"]}))


def binary_request(texts: list[str], binary_output: bool = True) -> tuple[bytes, str]:
    blob = b"".join(struct.pack("<I", len(t.encode())) + t.encode() for t in texts)
    header = orjson.dumps({"inputs": [{"name": "CONTENT", "datatype": "BYTES", "shape": [len(texts)],
                                       "parameters": {"binary_data_size": len(blob)}}],
                           "parameters": {"binary_data_output": binary_output}})
    return header + blob, str(len(header))


def test_binary_tensors_round_trip() -> None:
    model = keyword_model()
    texts = ["cheap pills", "ünïcode song"]
    body, length = binary_request(texts)
    request = v2.parse_request(body, length)
    assert request.inputs == {"CONTENT": texts} and request.all_binary
    rows = v2.classifier_rows(model, request, 100)
    labels, proba = model.predict_rows(rows)
    out, header_length = v2.response(model, request, v2.classifier_outputs(model, labels, proba))
    assert header_length is not None
    header = orjson.loads(out[:header_length])
    sizes = [o["parameters"]["binary_data_size"] for o in header["outputs"]]
    raw = out[header_length:]
    assert np.frombuffer(raw[: sizes[0]], dtype="<i8").tolist() == labels.tolist()
    assert np.allclose(np.frombuffer(raw[sizes[0]:], dtype="<f8").reshape(-1, 2), proba)


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda body, n: (body[:-2], n), "runs past the end"),
    (lambda body, n: (body + b"xx", n), "bytes of binary data follow"),
    (lambda body, n: (body, "abc"), "not a number"),
    (lambda body, n: (body, str(len(body) + 5)), "does not fit"),
])
def test_broken_binary_requests_are_input_errors(mutate, fragment: str) -> None:  # type: ignore[no-untyped-def]
    body, length = mutate(*binary_request(["a", "b"]))
    with pytest.raises(InputError, match=fragment):
        v2.parse_request(body, length)


def test_invalid_utf8_in_bytes_tensor_is_named() -> None:
    blob = struct.pack("<I", 2) + b"\xff\xfe"
    header = orjson.dumps({"inputs": [{"name": "CONTENT", "datatype": "BYTES", "shape": [1],
                                       "parameters": {"binary_data_size": len(blob)}}]})
    with pytest.raises(InputError, match=r"CONTENT.*not valid UTF-8"):
        v2.parse_request(header + blob, str(len(header)))


def test_score_rows_for_a_two_column_model() -> None:
    model = keyword_model()
    model.columns = [InputColumn("CONTENT", "text"), InputColumn("LIKES", "integer")]
    rows = inputs.score_rows(model, {"data": [{"CONTENT": "a", "LIKES": 3}]}, 10)
    assert rows == {"CONTENT": ["a"], "LIKES": [3]}
    with pytest.raises(InputError, match=r"data\[0\]: expected an object"):
        inputs.score_rows(model, {"data": ["a"]}, 10)
    with pytest.raises(InputError, match=r"data\[0\].LIKES: expected a whole number"):
        inputs.score_rows(model, {"data": [{"CONTENT": "a", "LIKES": 1.5}]}, 10)
    with pytest.raises(InputError, match=r"data\[0\].LIKES: expected a number for LIKES, got a boolean"):
        inputs.score_rows(model, {"data": [{"CONTENT": "a", "LIKES": True}]}, 10)
