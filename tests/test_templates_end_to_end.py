"""Both templates through the seeds' story: build, new data arrives, build again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import cli

FIXTURES = Path(__file__).parent / "fixtures"


def test_youtube_spam_story(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project("youtube-spam")
    p = str(project)
    first = cli("build", "--project", p, "--json", "-q")
    assert first.code == 0, first.stderr
    first_doc = first.json()
    assert first_doc["verdict"] == "FIRST_MODEL"
    golden_before = first_doc["golden_set"]["golden_rows"]

    ingested = cli("ingest", "spam", *(str(f) for f in sorted((project / "data/retraining").glob("*.csv"))),
                   "--project", p, "--json", "-q")
    assert ingested.code == 0, ingested.stderr
    report = ingested.json()
    assert [f["status"] for f in report["files"]] == ["added", "added"]
    assert report["rows_after"] > report["rows_before"]

    second = cli("build", "--project", p, "--json", "-q")
    assert second.code in (0, 3), second.stderr
    doc = second.json()
    assert doc["verdict"] in ("PROMOTE", "REJECT")
    assert doc["champion"]["version"] == 1
    # same golden set for both models, and it grew with the new videos
    assert doc["golden_set"]["golden_rows"] > golden_before
    assert doc["challenger"]["metrics"]["accuracy"] >= doc["champion"]["metrics"]["accuracy"]
    assert (second.code == 0) == (doc["verdict"] == "PROMOTE")
    assert doc["reasons"]

    # ingesting the same files again changes nothing
    again = cli("ingest", "spam", *(str(f) for f in sorted((project / "data/retraining").glob("*.csv"))),
                "--project", p, "--json", "-q")
    assert again.code == 0
    assert {f["status"] for f in again.json()["files"]} == {"already in the dataset"}
    assert again.json()["rows_after"] == report["rows_after"]


def test_transactions_story(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project("transactions")
    p = str(project)
    first = cli("build", "transactions", "--project", p, "--json", "-q")
    assert first.code == 0, first.stderr
    doc = first.json()
    assert doc["verdict"] == "FIRST_MODEL"
    assert set(doc["challenger"]["metrics"]) >= {"rmse", "mae", "mape", "r2"}
    assert doc["golden_set"]["golden_end"] == "2013-12-31"

    ingested = cli("ingest", "transactions", str(project / "data/retraining/transactions-2014.csv"),
                   "--project", p, "--json", "-q")
    assert ingested.code == 0, ingested.stderr
    assert ingested.json()["rows_after"] == 305

    second = cli("build", "transactions", "--project", p, "--json", "-q")
    assert second.code in (0, 3), second.stderr
    doc = second.json()
    assert doc["golden_set"]["golden_end"] == "2014-05-31"
    assert doc["champion"]["version"] == 1  # the 2013 champion, applied to 2014 history, not refitted
    assert "diebold-mariano" in " ".join(doc["reasons"])
    assert "rmse" in doc["p_values"]


def test_user_recipe_by_import_path(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project("youtube-spam")
    shutil.copy(FIXTURES / "keyword_recipe.py", project / "keyword_recipe.py")
    config = project / "champion.toml"
    text = config.read_text().replace('recipe = "text-classifier"', 'recipe = "keyword_recipe:KeywordClassifier"')
    text = text.replace("C = 10.0", "top = 40")
    config.write_text(text)
    built = cli("build", "--project", str(project), "--json", "-q")
    assert built.code == 0, built.stderr
    doc = built.json()
    assert doc["verdict"] == "FIRST_MODEL"
    assert 0.6 < doc["challenger"]["metrics"]["accuracy"] < 1.0
    # a second build loads the champion back through the recipe's own load()
    again = cli("build", "--project", str(project), "--json", "-q")
    assert again.code == 3
    assert again.json()["champion"]["metrics"] == again.json()["challenger"]["metrics"]
    metric = json.loads((project / ".champion" / "runs" / doc["run_id"] / "metric.json").read_text())
    assert metric["recipe"] == "keyword_recipe:KeywordClassifier"
