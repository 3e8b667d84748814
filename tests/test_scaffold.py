"""`champion init DIR --data FILE --target COLUMN`: a project read off a user's own file, which
builds at once; and clear refusals that leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli
from user_projects import (
    integer_labels_parquet,
    series,
    string_labels_tsv,
    tabular_classifier,
    tabular_regressor,
)


def _init(tmp_path: Path, migrated_db: Path, file: Path, *options: str) -> tuple[Path, dict]:  # type: ignore[type-arg]
    import shutil

    project = tmp_path / "project"
    created = cli("init", str(project), "--data", str(file), *options, "--json")
    assert created.code == 0, created.stdout + created.stderr
    (project / ".champion").mkdir(exist_ok=True)
    shutil.copyfile(migrated_db, project / ".champion" / "mlflow.db")
    return project, created.json()


@pytest.mark.parametrize(("make", "target", "task", "recipe"), [
    (string_labels_tsv, "Klasse", "classification", "text-classifier"),
    (integer_labels_parquet, "étiquette", "classification", "text-classifier"),
    (tabular_classifier, "outcome", "classification", "tabular-classifier"),
    (tabular_regressor, "price (€)", "regression", "tabular-regressor"),
])
def test_a_project_read_off_a_file_builds(make, target: str, task: str, recipe: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          migrated_mlflow_db: Path) -> None:
    source = tmp_path / "source"
    scenario = make(source)
    file = next(p for p in (source / "data").rglob("*") if p.is_file())
    project, found = _init(tmp_path, migrated_mlflow_db, file, "--target", target)
    assert (found["task"], found["recipe"]) == (task, recipe)
    if task == "classification":
        assert found["labels"] == scenario.labels  # typed as the file holds them: -1 and 1 stay numbers
    assert found["rows"] > 100
    built = cli("build", found["model"], "-p", str(project), "--json", "-q")
    assert built.code == 0, built.stdout + built.stderr
    assert built.json()["verdict"] == "FIRST_MODEL"


def test_a_series_read_off_a_file_builds(tmp_path: Path, migrated_mlflow_db: Path) -> None:
    source = tmp_path / "source"
    series(source, "sales", "W-SUN", 200, 52, seed=1, golden=26, horizon=4)
    project, found = _init(tmp_path, migrated_mlflow_db, source / "data" / "sales" / "history.csv",
                           "--target", "value", "--time", "period", "--model", "sales")
    assert (found["task"], found["frequency"], found["model"]) == ("forecasting", "W-SUN", "sales")
    text = (project / "champion.toml").read_text(encoding="utf-8")
    assert "horizon = 4" in text and "frequency = \"W-SUN\"" in text
    built = cli("build", "sales", "-p", str(project), "--json", "-q")
    assert built.code == 0, built.stdout + built.stderr


def test_guesses_are_written_where_the_user_checks_them(tmp_path: Path) -> None:
    source = tmp_path / "source"
    tabular_classifier(source)
    semicolons = tmp_path / "kunden.csv"  # a European CSV: semicolons
    import pandas as pd

    pd.read_csv(source / "data" / "churn" / "customers.csv").to_csv(semicolons, sep=";", index=False)
    created = cli("init", str(tmp_path / "p"), "--data", str(semicolons), "--target", "outcome")
    assert created.code == 0, created.stderr
    text = (tmp_path / "p" / "champion.toml").read_text(encoding="utf-8")
    assert 'delimiter = ";"' in text and 'id = ["customer"]' in text
    assert '"income (€)" = { type = "number", nullable = true }' in text
    assert "identity" in created.stdout and "feature" in created.stdout


@pytest.mark.parametrize(("content", "options", "fragment"), [
    ("a,b\n1,x\n2,y\n", ["--target", "c"], "no column 'c'"),
    ("a,b\n1,x\n2,x\n", ["--target", "b"], "one value"),
    ("a,b\n1,x\n2,\n", ["--target", "b"], "empty values"),
    ("a,b\n1,x\n", [], "needs --target"),
    ("d,v\n2024-01-01,1\n2024-01-05,2\n2024-01-06,3\n", ["--target", "v", "--time", "d"], "no regular frequency"),
])
def test_a_file_that_cannot_be_modelled_is_refused_and_nothing_is_left(tmp_path: Path, content: str,
                                                                       options: list[str], fragment: str) -> None:
    file = tmp_path / "data.csv"
    file.write_text(content, encoding="utf-8")
    refused = cli("init", str(tmp_path / "p"), "--data", str(file), *options, "--json")
    assert refused.code == 2
    assert fragment in refused.json()["error"]["message"]
    assert not (tmp_path / "p").exists()


def test_template_options_and_data_options_do_not_mix(tmp_path: Path) -> None:
    refused = cli("init", str(tmp_path / "p"), "--target", "x")
    assert refused.code == 2 and "go with --data" in refused.stderr
