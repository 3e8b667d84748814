"""Team settings without servers: URIs from the environment, no password in champion.toml,
credentials hidden in everything champion prints or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import cli

from champion.credentials import ScrubbingFilter, redact, scrub
from champion.project import Project


def _set(root: Path, key: str, value: str) -> None:
    toml = root / "champion.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('name = "youtube-spam"\n', f'name = "youtube-spam"\n{key} = "{value}"\n', 1),
                    encoding="utf-8")


def test_the_environment_overrides_the_settings_and_names_carry_the_project(make_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = make_project(registry=False)
    _set(root, "tracking_uri", "http://mlflow.from-the-file:5000")
    project = Project.open(root)
    assert project.tracking_uri == "http://mlflow.from-the-file:5000"
    assert project.registered_name("spam") == "youtube-spam.spam" and project.state_schema is None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.from-mlflow:5000")
    assert project.tracking_uri == "http://mlflow.from-mlflow:5000"
    monkeypatch.setenv("CHAMPION_TRACKING_URI", "http://mlflow.from-champion:5000")
    monkeypatch.setenv("CHAMPION_STATE_URI", "postgresql://champion@db.internal/champion")
    assert project.tracking_uri == "http://mlflow.from-champion:5000"
    assert project.state_uri == "postgresql://champion@db.internal/champion"
    assert project.state_schema == "champion_youtube_spam"


def test_the_embedded_registry_keeps_plain_names(make_project) -> None:  # type: ignore[no-untyped-def]
    project = Project.open(make_project(registry=False))
    assert not project.shared_registry and project.registered_name("spam") == "spam"


@pytest.mark.parametrize("key", ["tracking_uri", "state_uri"])
def test_a_password_in_the_settings_is_refused_without_echoing_it(make_project, key: str) -> None:  # type: ignore[no-untyped-def]
    root = make_project(registry=False)
    _set(root, key, "postgresql://champion:hunter2secret@db.internal/champion")
    result = cli("status", "--project", str(root), "--json")
    assert result.code == 2
    assert f"project.{key}" in result.stdout and "PGPASSWORD" in result.stdout
    assert "hunter2secret" not in result.stdout + result.stderr


def test_credentials_are_hidden_in_messages_and_logs(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    assert redact("postgresql://bob:s3cret@db/x") == "postgresql://bob:***@db/x"
    assert redact("http://mlflow:5000/x") == "http://mlflow:5000/x"
    monkeypatch.setenv("PGPASSWORD", "pg-secret-value")
    assert scrub("connecting with pg-secret-value to postgresql://a:b@c/d") == "connecting with *** to postgresql://a:***@c/d"
    logger = logging.getLogger("champion.test.credentials")
    handler = logging.StreamHandler()
    handler.addFilter(ScrubbingFilter())
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        logger.warning("failed: %s", "password pg-secret-value refused")
        try:
            raise RuntimeError("postgresql://u:pg-secret-value@h/db is down")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    assert records and all("pg-secret-value" not in r for r in records), records
