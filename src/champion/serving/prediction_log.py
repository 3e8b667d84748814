"""Log rows from spooled requests: what the log loader writes for each scored row.

A spooled request (`log_spool.py`) holds what the endpoint answered, as it answered it;
here it becomes one `EncodedRow` per scored row (inputs, output and probabilities as JSON
text, the identity key of the model's `id` columns when sent, the feature key), in the
order of `champion.state.predictions.LOGGED_COLUMNS`. This runs for every logged row in
the loader process, so it goes straight to the final tuples (no record object per row).
"""

from __future__ import annotations

from hashlib import sha256
from typing import Any

import orjson

from champion.config import ModelSettings
from champion.state.predictions import EncodedRow, row_key


class VersionShape:
    """What every logged row of one model version shares: input names and types, classes,
    and the identity columns (typed as feedback types them, so the keys agree)."""

    def __init__(self, names: list[str], kinds: list[str], classes: list[Any], settings: ModelSettings) -> None:
        self.names = names
        self.kinds = kinds
        self.classes = classes
        self.label_json = {_key(label): _json(label) for label in classes}
        # One text feature: its key is the sha256 of the text itself (`row_key` of one string).
        self.text_column = names[0] if len(names) == 1 and kinds[0] in ("text", "string") else None
        self.id_names = list(settings.id) if settings.features else []
        self.id_kinds = [settings.columns[c].type for c in self.id_names]
        self.ids_in_features = all(c in settings.features for c in self.id_names)


def classifier_rows(environment: str, request: list[Any], shape: VersionShape) -> list[EncodedRow]:
    """Rows of a spooled `["c", request_id, at, model, version, latency_ms, rows, ids,
    labels, proba]` request."""
    _, rid, at, name, version, latency, rows, sent_ids, labels, proba = request
    label_json = shape.label_json
    env = environment
    ids = _id_values(rows, sent_ids, shape) if shape.id_names else None
    if proba is None:  # a regressor: values, no probabilities
        proba = [None] * len(labels)
    if shape.text_column is not None and ids is None:  # one text feature, no identity: most traffic
        column = shape.text_column
        texts = rows[column]
        if len(texts) == 1:  # one comment a request: no zip or list (saves ~0.5 of ~6 us a row)
            text, label = texts[0], labels[0]
            first = proba[0]
            return [(name, env, at, rid, 0, version, _json({column: text}),
                     label_json.get((type(label), label)) or _json(label),
                     None if first is None else _json(first), latency, None,
                     sha256(text.encode("utf-8")).hexdigest())]
        return [(name, env, at, rid, i, version, _json({column: text}),
                 label_json.get((type(label), label)) or _json(label), None if p is None else _json(p), latency,
                 None, sha256(text.encode("utf-8")).hexdigest())
                for i, (text, label, p) in enumerate(zip(texts, labels, proba, strict=True))]
    outputs = [label_json.get(_key(label)) or _json(label) for label in labels]
    probabilities = [None if p is None else _json(p) for p in proba]  # a regressor's rows have none
    columns = [rows[n] for n in shape.names]
    encoded: list[EncodedRow] = []
    for i in range(len(labels)):
        values = [column[i] for column in columns]
        identity = None
        if ids is not None and all(column[i] is not None for column in ids):
            identity = row_key([column[i] for column in ids], shape.id_kinds)
        encoded.append((name, env, at, rid, i, version, _json(dict(zip(shape.names, values, strict=True))),
                        outputs[i], probabilities[i], latency, identity, row_key(values, shape.kinds)))
    return encoded


def forecast_rows(environment: str, request: list[Any]) -> list[EncodedRow]:
    """Rows of a spooled `["f", request_id, at, model, version, latency_ms, times, values]`
    request: one per step, keyed by its date."""
    _, rid, at, name, version, latency, times, values = request
    keys = [row_key([t], ["datetime"]) for t in times]
    return [(name, environment, at, rid, i, version, _json({"time": t}), _json(values[i]), None, latency, keys[i],
             keys[i]) for i, t in enumerate(times)]


def identity_kinds(settings: ModelSettings) -> list[tuple[str, str]]:
    """The model's `id` columns a `/score` row may carry (besides its features), with types."""
    if settings.time or not settings.features:
        return []
    return [(c, settings.columns[c].type) for c in settings.id if c not in settings.features]


def _id_values(rows: dict[str, list[Any]], sent: dict[str, list[Any]] | None,
               shape: VersionShape) -> list[list[Any]] | None:
    """One list per id column (None where a row came without), or None: no identity."""
    if not shape.id_names or (sent is None and not shape.ids_in_features):
        return None
    sent = sent or {}
    found = [rows.get(n) if n in rows else sent.get(n) for n in shape.id_names]
    ids = [column for column in found if column is not None]
    return ids if len(ids) == len(found) else None


def _key(label: Any) -> Any:
    # 1 and True (or 1.0) are one dict key in Python but different JSON: keep them apart.
    return (type(label), label)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")
