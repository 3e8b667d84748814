"""The prediction log's spool and loader without a server: what a worker spools is what the
loader writes, once; the loader resumes where it stopped; full spools drop and count;
segments rotate and go once loaded; broken lines and dead workers' leftovers are handled.
Real files, a real state store on SQLite, a real model version (the tests' keyword recipe)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli
from fixtures.keyword_recipe import KeywordClassifier

from champion.config import ModelSettings
from champion.project import Project
from champion.serving.loaded import InputColumn, LoadedModel
from champion.serving.log_loader import SpoolLoader
from champion.serving.log_spool import LOADED_SUFFIX, SEGMENT_SUFFIX, SpoolWriter, encode
from champion.serving.metrics import ServingMetrics
from champion.state.predictions import FeedbackRecord, PredictionLog, row_key

TEXTS = ["buy cheap pills now", "nice song", "cheap pills here", "love it"]


@pytest.fixture(scope="module")
def spam_settings(tmp_path_factory: pytest.TempPathFactory) -> ModelSettings:
    root = tmp_path_factory.mktemp("spool") / "spam"
    assert cli("init", str(root), "--template", "youtube-spam").code == 0
    return Project.open(root).config.models["spam"]


@pytest.fixture
def model() -> LoadedModel:
    recipe = KeywordClassifier(top=2).fit(pd.DataFrame({"CONTENT": TEXTS}), pd.Series([1, 0, 1, 0]))
    return LoadedModel("spam", 3, "run", recipe, [InputColumn("CONTENT", "text")], "sha", "keyword")


@pytest.fixture
def store(tmp_path: Path) -> PredictionLog:
    return PredictionLog(f"sqlite:///{tmp_path / 'state.db'}")


def writer(folder: Path, max_rows: int = 1_000_000, segment_bytes: int = 64 << 20) -> SpoolWriter:
    return SpoolWriter(folder, max_rows, ServingMetrics(), segment_bytes)


def loader(folder: Path, store: PredictionLog, settings: ModelSettings, write_rows: int = 5_000) -> SpoolLoader:
    return SpoolLoader(folder, store, "production", {"spam": settings}, 30.0, write_rows)


def score(spool: SpoolWriter, model: LoadedModel, request_id: str, texts: list[str],
          ids: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    labels, proba = model.predict_rows({"CONTENT": texts})
    spool.scored(model, request_id, 1_700_000_000.0, 0.0, {"CONTENT": texts},
                 None if ids is None else {"COMMENT_ID": ids}, labels, proba)
    return labels, proba


def segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("*" + SEGMENT_SUFFIX))


def test_what_a_worker_spools_is_what_the_loader_writes(tmp_path: Path, model: LoadedModel, store: PredictionLog,
                                                        spam_settings: ModelSettings) -> None:
    spool = writer(tmp_path / "spool")
    first = score(spool, model, "r-1", TEXTS[:3])
    second = score(spool, model, "r-2", TEXTS[3:] + ["cheap song"], ids=["c-7", "c-8"])
    spool.flush()
    assert store.counts("spam", "production")["logged"] == 0  # spooled, not yet loaded
    assert loader(tmp_path / "spool", store, spam_settings).load() == 5

    window = store.window("spam", "production", rows=10)
    assert window.request_ids == ["r-1"] * 3 + ["r-2"] * 2 and window.rows.tolist() == [0, 1, 2, 0, 1]
    assert window.inputs == {"CONTENT": TEXTS + ["cheap song"]} and window.versions.tolist() == [3] * 5
    assert window.outputs == first[0].tolist() + second[0].tolist() and window.classes == model.classes
    assert np.array_equal(window.proba, np.vstack([first[1], second[1]]))
    assert window.times.tolist() == [1_700_000_000.0] * 5 and np.all(window.latency_ms > 0)
    # Keys that feedback matches on: the id column where sent, the features always.
    result = store.add_feedback([
        FeedbackRecord("spam", "production", 1, identity_key=row_key(["c-8"], ["string"])),
        FeedbackRecord("spam", "production", 0, feature_key=row_key(["nice song"], ["text"])),
    ])
    assert (result.matched, result.pending) == (2, 0)
    assert store.window("spam", "production", rows=10).actual == [None, 0, None, None, 1]
    # The segment is loaded but open (its worker lives and has not ended it): it stays, and
    # the worker learns how much of it is loaded.
    [segment] = segments(tmp_path / "spool")
    assert segment.with_suffix(LOADED_SUFFIX).read_text() == "5"
    spool.flush()
    assert spool.pending == 0


def test_a_new_loader_resumes_where_the_last_stopped_and_writes_each_row_once(
        tmp_path: Path, model: LoadedModel, store: PredictionLog, spam_settings: ModelSettings) -> None:
    folder = tmp_path / "spool"
    spool = writer(folder)
    for i in range(7):
        score(spool, model, f"a-{i}", TEXTS[: 1 + i % 4])
    spool.flush()
    first = loader(folder, store, spam_settings, write_rows=4)
    assert first.load() == sum(1 + i % 4 for i in range(7))
    for i in range(3):
        score(spool, model, f"b-{i}", TEXTS[:2])
    spool.close()  # ends the segment
    # A second loader (the first one died) knows only what the store says: it starts after
    # the last committed line, and still knows the version described before it.
    second = loader(folder, store, spam_settings, write_rows=4)
    assert second.load() == 6
    window = store.window("spam", "production", rows=100)
    assert len(window) == 22 and len(set(zip(window.request_ids, window.rows.tolist(), strict=True))) == 22
    assert window.request_ids[-6:] == ["b-0", "b-0", "b-1", "b-1", "b-2", "b-2"]
    assert window.classes == model.classes
    # Loaded whole and ended: the segment, its progress file and its progress row are gone.
    assert segments(folder) == [] and list(folder.glob("*" + LOADED_SUFFIX)) == []
    assert store.spool_progress() == {} and second.idle()


def test_a_full_spool_drops_and_counts_until_the_loader_catches_up(
        tmp_path: Path, model: LoadedModel, store: PredictionLog, spam_settings: ModelSettings) -> None:
    async def scenario() -> None:
        folder = tmp_path / "spool"
        spool = writer(folder, max_rows=3)
        load = loader(folder, store, spam_settings)
        score(spool, model, "big", TEXTS)  # 4 rows never fit in 3
        score(spool, model, "one", TEXTS[:2])
        score(spool, model, "two", TEXTS[:1])
        score(spool, model, "three", TEXTS[:1])  # 2 + 1 spooled already: dropped
        assert spool.pending == 3
        spool.flush()
        assert load.load() == 3
        await asyncio.sleep(0.15)  # past the refresh interval: the writer looks again
        score(spool, model, "four", TEXTS[:3])
        spool.close()
        load.load()
        counts = store.counts("spam", "production")
        assert (counts["logged"], counts["dropped"]) == (6, 5)
        assert sorted(set(store.window("spam", "production", rows=10).request_ids)) == ["four", "one", "two"]
        exposed = spool.metrics.exposition().decode()  # what /metrics shows
        assert 'champion_prediction_log_dropped_total{model="spam"} 5.0' in exposed

    asyncio.run(scenario())


def test_segments_rotate_and_are_deleted_once_loaded(tmp_path: Path, model: LoadedModel, store: PredictionLog,
                                                     spam_settings: ModelSettings) -> None:
    folder = tmp_path / "spool"
    spool = writer(folder, segment_bytes=1)  # every write ends its segment
    load = loader(folder, store, spam_settings)
    for i in range(6):
        score(spool, model, f"r-{i}", TEXTS)
        spool.flush()
    assert len(segments(folder)) == 7  # six ended, one open
    assert load.load() == 24
    assert len(segments(folder)) == 1  # ended and loaded: deleted; the open one stays
    spool.flush()
    assert spool.pending == 0
    window = store.window("spam", "production", rows=100)
    assert window.request_ids == [f"r-{i}" for i in range(6) for _ in TEXTS]
    assert window.versions.tolist() == [3] * 24  # each segment describes the version again


def test_a_broken_line_is_skipped_and_a_dead_workers_partial_line_is_dropped(
        tmp_path: Path, model: LoadedModel, store: PredictionLog, spam_settings: ModelSettings,
        caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    shape = encode(["v", "spam", 3, ["CONTENT"], ["text"], model.classes])
    good = encode(["c", "ok", 1.0, "spam", 3, 2.0, {"CONTENT": ["nice song"]}, None, [0], [[0.9, 0.1]]])
    segment = folder / f"1-{pid}-00000{SEGMENT_SUFFIX}"
    segment.write_bytes(shape + b'["c", not json\n' + good + b'["c", "cut off by a cra')
    load = loader(folder, store, spam_settings)
    assert load.load() == 1
    assert "could not load a line" in caplog.text
    assert store.window("spam", "production", rows=10).request_ids == ["ok"]
    assert segments(folder) == [] and load.idle()  # its worker is gone: nothing more will come
    # The unfinished line is not deleted unread: it is kept, and counted as a dropped request.
    [kept] = (folder / "quarantine").iterdir()
    assert kept.read_bytes() == b'["c", "cut off by a cra'
    assert store.counts("spam", "production")["dropped"] == 1


def dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


@pytest.mark.parametrize("worker", ["alive", "dead"])
def test_a_request_line_longer_than_a_read_is_loaded_with_everything_after_it(
        tmp_path: Path, model: LoadedModel, store: PredictionLog, spam_settings: ModelSettings, worker: str) -> None:
    """One 5 MB comment (its spool line is longer than the loader reads at once) and then
    100 ordinary requests: all 101 reach the log, whether the worker still runs or is gone."""
    folder = tmp_path / "spool"
    huge = "cheap " * 900_000  # 5.4 MB
    if worker == "alive":
        spool = writer(folder)
        score(spool, model, "huge", [huge])
        for i in range(100):
            score(spool, model, f"r-{i}", TEXTS[i % 4:i % 4 + 1])
        spool.close()
    else:
        folder.mkdir()
        lines = [encode(["v", "spam", 3, ["CONTENT"], ["text"], model.classes]),
                 encode(["c", "huge", 1.0, "spam", 3, 2.0, {"CONTENT": [huge]}, None, [1], [[0.1, 0.9]]])]
        lines += [encode(["c", f"r-{i}", 1.0, "spam", 3, 2.0, {"CONTENT": ["nice song"]}, None, [0], [[0.9, 0.1]]])
                  for i in range(100)]
        (folder / f"1-{dead_pid()}-00000{SEGMENT_SUFFIX}").write_bytes(b"".join(lines))
    load = loader(folder, store, spam_settings)
    assert load.load() == 101
    window = store.window("spam", "production", rows=200)
    assert window.request_ids == ["huge"] + [f"r-{i}" for i in range(100)]
    assert window.inputs["CONTENT"][0] == huge
    assert store.counts("spam", "production")["dropped"] == 0
    assert segments(folder) == [] and not (folder / "quarantine").exists()


def test_rows_of_a_model_the_project_no_longer_has_are_skipped(
        tmp_path: Path, model: LoadedModel, store: PredictionLog, spam_settings: ModelSettings) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    lines = [encode(["v", "gone", 1, ["x"], ["text"], [0, 1]]),
             encode(["c", "g", 1.0, "gone", 1, 2.0, {"x": ["a"]}, None, [0], [[0.5, 0.5]]]),
             encode(["v", "spam", 3, ["CONTENT"], ["text"], [0, 1]]),
             encode(["c", "s", 1.0, "spam", 3, 2.0, {"CONTENT": ["a"]}, None, [1], [[0.2, 0.8]]]),
             b'["end"]\n']
    (folder / f"1-{os.getpid()}-00000{SEGMENT_SUFFIX}").write_bytes(b"".join(lines))
    assert loader(folder, store, spam_settings).load() == 1
    assert store.window("spam", "production", rows=10).request_ids == ["s"]


def test_forecasts_are_logged_one_row_per_step_keyed_by_date(tmp_path: Path, store: PredictionLog,
                                                             spam_settings: ModelSettings) -> None:
    root = tmp_path / "transactions"
    assert cli("init", str(root), "--template", "transactions").code == 0
    settings = Project.open(root).config.models["transactions"]
    folder = tmp_path / "spool"
    folder.mkdir()
    lines = [encode(["v", "transactions", 2, ["steps"], ["integer"], []]),
             encode(["f", "f-1", 5.0, "transactions", 2, 3.0, ["2014-12-01", "2014-12-02"], np.array([10.5, 11.0])]),
             b'["end"]\n']
    (folder / f"1-{os.getpid()}-00000{SEGMENT_SUFFIX}").write_bytes(b"".join(lines))
    load = SpoolLoader(folder, store, "production", {"transactions": settings}, 30.0)
    assert load.load() == 2
    window = store.window("transactions", "production", rows=10)
    assert window.inputs == {"time": ["2014-12-01", "2014-12-02"]} and window.outputs == [10.5, 11.0]
    matched = store.add_feedback([FeedbackRecord("transactions", "production", 12.0,
                                                 identity_key=row_key(["2014-12-02"], ["datetime"]))])
    assert matched.matched == 1
