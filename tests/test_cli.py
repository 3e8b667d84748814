"""The CLI contract: help, --json, exit codes, and bad input that changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli

COMMANDS = ["init", "ingest", "train", "evaluate", "register", "build", "status", "history"]
SPAM_HEADER = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    assert "Usage" in result.stdout
    assert len(result.stdout.splitlines()) > 5


def test_version_and_top_level_help() -> None:
    assert cli("--version").stdout.startswith("champion ")
    top = cli("--help")
    assert top.code == 0
    assert all(command in top.stdout for command in COMMANDS)
    assert "Exit codes" in top.stdout


def test_init_refuses_unknown_template_and_non_empty_folder(tmp_path: Path) -> None:
    bad = cli("init", str(tmp_path / "x"), "--template", "nope", "--json")
    assert bad.code == 2
    assert "unknown template" in bad.json()["error"]["message"]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    refused = cli("init", str(tmp_path / "full"))
    assert refused.code == 2 and "not empty" in refused.stderr
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


def test_a_folder_without_project_is_a_clear_error(tmp_path: Path) -> None:
    result = cli("build", "--project", str(tmp_path))
    assert result.code == 2
    assert "champion.toml" in result.stderr and "Traceback" not in result.stderr


def test_a_typo_in_champion_toml_names_the_key(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)
    config = project / "champion.toml"
    config.write_text(config.read_text().replace("alpha =", "alpah =", 1))
    assert "alpah" in config.read_text()
    result = cli("status", "--project", str(project), "--json")
    assert result.code == 2
    assert "models.spam.policy.alpah" in result.json()["error"]["message"]


def test_unknown_model_parameter_and_malformed_param(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)
    p = str(project)
    assert "no model 'ham'" in cli("train", "ham", "--project", p).stderr
    unknown = cli("train", "--project", p, "--param", "gamma=3")
    assert unknown.code == 2 and "no parameter gamma" in unknown.stderr
    malformed = cli("train", "--project", p, "--param", "C")
    assert malformed.code == 2 and "KEY=VALUE" in malformed.stderr
    assert cli("evaluate", "--run", "0" * 32, "--project", p).code == 2


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


BAD_SPAM_FILES = {
    "missing-column": (SPAM_HEADER.replace(",CLASS", "") + "id1,a,,hello\n", "CLASS", None),
    "unknown-label": (SPAM_HEADER + "id1,a,,hello,1\nid2,b,,world,7\n", "CLASS", 2),
    "not-utf8": (SPAM_HEADER.encode() + b"id1,a,,caf\xe9,1\n", None, None),
    "empty": ("", None, None),
    "header-only": (SPAM_HEADER, None, None),
    "bad-date": (SPAM_HEADER + "id1,a,yesterday,hello,1\n", "DATE", 1),
    "empty-text": (SPAM_HEADER + "id1,a,,,1\n", "CONTENT", 1),
    "conflicting-duplicate": (SPAM_HEADER + "id1,a,,hello,1\nid1,a,,hello,0\n", "CLASS", 2),
}


@pytest.mark.parametrize("kind", sorted(BAD_SPAM_FILES))
def test_bad_data_exits_2_names_the_place_and_stores_nothing(make_project, kind: str) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)
    text, column, row = BAD_SPAM_FILES[kind]
    bad = _write(project / f"{kind}.csv", text)
    good = project / "data" / "retraining" / "Youtube04-Eminem.csv"
    result = cli("ingest", "spam", str(good), str(bad), "--project", str(project), "--json")
    assert result.code == 2, result.stdout
    error = result.json()["error"]
    assert error["file"].endswith(f"{kind}.csv")
    if column:
        assert error["column"] == column
    if row:
        assert error["row"] == row
    assert "Traceback" not in result.stderr
    # nothing stored: not even the good file given in the same command
    stored = project / ".champion" / "data" / "spam"
    assert not stored.exists() or not any(stored.iterdir())
    history = cli("history", "spam", "--project", str(project), "--json")
    assert history.code == 0 and history.json() == []


def test_gap_in_time_series_is_rejected(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project("transactions", registry=False)
    lines = (project / "data/retraining/transactions-2014.csv").read_text().splitlines()
    gapped = _write(project / "gapped.csv", "\n".join(lines[:10] + lines[12:]) + "\n")
    result = cli("ingest", "transactions", str(gapped), "--project", str(project), "--json")
    assert result.code == 2
    error = result.json()["error"]
    assert error["column"] == "TransactionDate" and "gap" in error["message"]
    late = _write(project / "late.csv", "\n".join(lines[:1] + lines[20:]) + "\n")
    across = cli("ingest", "transactions", str(late), "--project", str(project), "--json")
    assert across.code == 2 and "gap" in across.json()["error"]["message"]


def test_exact_duplicates_are_reported_not_fatal(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)
    eminem = project / "data" / "retraining" / "Youtube04-Eminem.csv"
    result = cli("ingest", "spam", str(eminem), "--project", str(project), "--json")
    assert result.code == 0
    report = result.json()["files"][0]
    assert report["status"] == "added" and len(report["duplicate_rows"]) == 2
    assert (project / report["stored_as"]).read_bytes() == eminem.read_bytes()


def test_a_crashing_user_recipe_is_a_recipe_error(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    (project / "broken.py").write_text(
        "from champion.recipes import Classifier\n"
        "class Broken(Classifier):\n"
        "    def fit(self, X, y):\n        raise RuntimeError('boom')\n"
        "    def predict_proba(self, X):\n        return None\n"
    )
    config = project / "champion.toml"
    config.write_text(config.read_text().replace('"text-classifier"', '"broken:Broken"').replace("C = 10.0", ""))
    result = cli("build", "--project", str(project), "--json")
    assert result.code == 2
    assert "Broken.fit failed: RuntimeError: boom" in result.json()["error"]["message"]


def test_internal_errors_exit_1_without_traceback(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    (project / ".champion" / "mlflow.db").write_bytes(b"this is not a database" * 100)
    result = cli("build", "--project", str(project), "--json")
    assert result.code == 1
    assert "Traceback" not in result.stderr + result.stdout
    log = project / ".champion" / "logs" / "champion-errors.log"
    assert "Traceback" in log.read_text()
    assert str(log) in result.json()["error"]["message"]


def test_a_tampered_champion_artifact_is_refused(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    assert cli("build", "--project", str(project), "-q").code == 0
    weights = next((project / ".champion" / "artifacts").rglob("weights.npz"))
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    result = cli("build", "--project", str(project), "--json", "-q")
    assert result.code == 2  # the user's state, not a bug of ours: plain words and the way out
    message = result.json()["error"]["message"]
    assert "changed since training" in message and "--replace-broken-champion" in message
    status = cli("status", "--project", str(project), "--json").json()
    assert status["models"][0]["aliases"]["champion"]["version"] == 1
    assert status["models"][0]["versions"] == 1  # nothing registered

    replaced = cli("build", "--project", str(project), "--json", "-q", "--replace-broken-champion")
    assert replaced.code == 0, replaced.stdout
    document = replaced.json()
    assert (document["verdict"], document["version"]) == ("FIRST_MODEL", 2)
    assert document["champion"]["version"] == 1 and "changed since training" in document["champion"]["unloadable"]
    moves = cli("history", "--project", str(project), "--json").json()
    assert (moves[-1]["from_version"], moves[-1]["to_version"]) == (1, 2)
    assert "cannot be loaded" in moves[-1]["reason"] and "--replace-broken-champion" in moves[-1]["reason"]


def test_rows_already_in_the_dataset_are_reported_with_their_file(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project(registry=False)
    psy = (project / "data" / "initial" / "Youtube01-Psy.csv").read_text(encoding="utf-8")
    again = _write(project / "psy-again.csv", psy + "fresh-id,someone,,a brand new comment,0\n")
    result = cli("ingest", "spam", str(again), "--project", str(project), "--json")
    assert result.code == 0, result.stdout
    report = result.json()["files"][0]
    assert len(report["duplicate_rows"]) == 350
    assert {d["first_seen"] for d in report["duplicate_rows"]} == {"Youtube01-Psy.csv"}
    assert result.json()["rows_after"] == result.json()["rows_before"] + 1
