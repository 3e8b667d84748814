"""Reading champion.toml: every problem is a ConfigError that says where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from champion.config import ChampionConfig, load_config
from champion.errors import ConfigError

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates"

MINIMAL = """\
[project]
name = "demo"

[models.spam]
recipe = "text-classifier"
data = ["data/*.csv"]
features = ["CONTENT"]
target = "CLASS"
labels = [0, 1]
id = ["COMMENT_ID"]

[models.spam.columns]
COMMENT_ID = "string"
CONTENT = "text"
CLASS = "label"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "champion.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    model = config.models["spam"]
    assert model.columns["CONTENT"].type == "text"
    assert model.columns["CLASS"].nullable is False
    assert model.split_columns == ["COMMENT_ID"]
    assert model.golden.fraction == 0.2
    assert model.policy.primary is None
    assert config.environments == {}


def test_missing_file(tmp_path: Path) -> None:
    message = config_error(tmp_path / "champion.toml")
    assert "not found" in message


@pytest.mark.parametrize("text", ["[project\nname = 'x'\n", "name = \n", "[project]\nname = \"unterminated\n"])
def test_invalid_toml(tmp_path: Path, text: str) -> None:
    assert "not valid TOML" in config_error(write(tmp_path, text))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "champion.toml"
    path.write_bytes(b'[project]\nname = "caf\xe9"\n')
    assert "not valid TOML" in config_error(path)


@pytest.mark.parametrize(
    ("before", "after", "dotted"),
    [
        ('target = "CLASS"', 'target = "CLASS"\ntarge = "CLASS"', "models.spam.targe"),
        ('name = "demo"', 'name = "demo"\nnmae = "x"', "project.nmae"),
        ('CLASS = "label"', 'CLASS = "label"\n\n[models.spam.golden]\nfractoin = 0.3', "models.spam.golden.fractoin"),
        ('CLASS = "label"', 'CLASS = "label"\n\n[models.spam.policy]\nalpah = 0.1', "models.spam.policy.alpah"),
        ('CLASS = "label"', 'CLASS = { type = "label", nulable = true }', "models.spam.columns.CLASS.nulable"),
    ],
)
def test_unknown_key_is_rejected_with_dotted_path(tmp_path: Path, before: str, after: str, dotted: str) -> None:
    assert before in MINIMAL
    message = config_error(write(tmp_path, MINIMAL.replace(before, after, 1)))
    assert dotted in message


@pytest.mark.parametrize(
    ("before", "after", "fragment"),
    [
        ('CLASS = "label"', 'CLASS = "lable"', "models.spam.columns.CLASS"),
        ('CLASS = "label"', 'CLASS = "label"\n\n[models.spam.golden]\nfraction = 1.5', "models.spam.golden.fraction"),
        ('CLASS = "label"', 'CLASS = "label"\n\n[models.spam.policy]\ntest = "t-test"', "models.spam.policy.test"),
        ('recipe = "text-classifier"\n', "", "models.spam.recipe"),
    ],
)
def test_wrong_values_name_their_key(tmp_path: Path, before: str, after: str, fragment: str) -> None:
    assert before in MINIMAL
    assert fragment in config_error(write(tmp_path, MINIMAL.replace(before, after, 1)))


def test_feature_column_not_declared(tmp_path: Path) -> None:
    text = MINIMAL.replace('features = ["CONTENT"]', 'features = ["CONTENT", "AUTHOR"]')
    message = config_error(write(tmp_path, text))
    assert "AUTHOR" in message and "not declared" in message
    assert "models.spam" in message


def test_positive_label_not_in_labels(tmp_path: Path) -> None:
    text = MINIMAL.replace("labels = [0, 1]", "labels = [0, 1]\npositive_label = 2")
    assert "positive_label" in config_error(write(tmp_path, text))


def test_empty_columns_rejected(tmp_path: Path) -> None:
    text = MINIMAL.split("[models.spam.columns]")[0].replace('features = ["CONTENT"]\n', "")
    text = text.replace('target = "CLASS"', 'target = "CLASS"\ncolumns = {}').replace('id = ["COMMENT_ID"]\n', "")
    assert "at least one column" in config_error(write(tmp_path, text))


def test_bad_default_model(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "demo"', 'name = "demo"\ndefault_model = "ham"')
    message = config_error(write(tmp_path, text))
    assert "default_model" in message and "ham" in message


def test_good_default_model(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "demo"', 'name = "demo"\ndefault_model = "spam"')
    assert load_config(write(tmp_path, text)).project.default_model == "spam"


@pytest.mark.parametrize("name", ["my model", "spam/v2", "naïve.model", "a:b"])
def test_invalid_model_name(tmp_path: Path, name: str) -> None:
    text = MINIMAL.replace("models.spam", f'models."{name}"')
    message = config_error(write(tmp_path, text))
    assert "model name" in message and repr(name) in message


@pytest.mark.parametrize("name", ["spam-v2", "spam_v2", "Spam2"])
def test_valid_model_names(tmp_path: Path, name: str) -> None:
    text = MINIMAL.replace("models.spam", f"models.{name}")
    assert list(load_config(write(tmp_path, text)).models) == [name]


def test_no_models(tmp_path: Path) -> None:
    assert "at least one model" in config_error(write(tmp_path, '[project]\nname = "x"\n[models]\n'))


def test_environment_port_range(tmp_path: Path) -> None:
    text = MINIMAL + "\n[environments.staging]\nport = 70000\n"
    assert "environments.staging.port" in config_error(write(tmp_path, text))


@pytest.mark.parametrize("template", ["youtube-spam", "transactions"])
def test_shipped_templates_load(template: str) -> None:
    config = load_config(TEMPLATES / template / "champion.toml")
    assert isinstance(config, ChampionConfig)
    assert config.project.name == template
    assert len(config.models) == 1
    assert {"staging", "production"} <= set(config.environments)
    model = next(iter(config.models.values()))
    assert model.target in model.columns


def test_spam_template_details() -> None:
    model = load_config(TEMPLATES / "youtube-spam" / "champion.toml").models["spam"]
    assert model.labels == [0, 1] and model.positive_label == 1
    assert model.split_columns == ["CONTENT"]
    assert model.columns["DATE"].nullable is True and model.columns["DATE"].type == "datetime"
    assert model.policy.guardrails == {"f1": 0.02, "roc_auc": 0.02}


def test_transactions_template_details() -> None:
    model = load_config(TEMPLATES / "transactions" / "champion.toml").models["transactions"]
    assert (model.time, model.target, model.frequency) == ("TransactionDate", "PaidAmount", "D")
    assert (model.golden.days, model.golden.horizon) == (42, 7)
    assert model.columns["TransactionDate"].type == "date"


def test_golden_days_must_exceed_the_horizon() -> None:
    from pydantic import ValidationError

    from champion.config import GoldenSettings

    assert GoldenSettings(days=8, horizon=7).days == 8
    with pytest.raises(ValidationError, match="must exceed horizon"):
        GoldenSettings(days=7, horizon=7)


def test_golden_periods_with_days_as_its_older_name() -> None:
    from pydantic import ValidationError

    from champion.config import GoldenSettings

    assert GoldenSettings(periods=30, horizon=4).periods == 30
    assert GoldenSettings.model_validate({"days": 30, "horizon": 4}).periods == 30
    with pytest.raises(ValidationError, match="not both"):
        GoldenSettings.model_validate({"days": 30, "periods": 30})


def test_delimiter_is_a_model_setting() -> None:
    from champion.config import ModelSettings

    model = ModelSettings.model_validate({"recipe": "text-classifier", "data": ["d.csv"], "target": "y",
                                         "columns": {"y": "label", "x": "text"}, "delimiter": ";"})
    assert model.delimiter == ";"


def test_a_forecast_gate_that_cannot_work_on_its_golden_window_is_refused(make_project) -> None:  # type: ignore[no-untyped-def]
    from conftest import cli

    project = make_project("transactions", registry=False)
    toml = project / "champion.toml"
    original = toml.read_text(encoding="utf-8")
    toml.write_text(original.replace("periods = 42", "periods = 10"), encoding="utf-8")
    few = cli("train", "--project", str(project), "--json")
    assert few.code == 2
    assert "golden.periods" in few.json()["error"]["message"] and "at least 14" in few.json()["error"]["message"]
    toml.write_text(original.replace('test = "diebold-mariano"', 'test = "bootstrap"'), encoding="utf-8")
    naive = cli("train", "--project", str(project), "--json")
    assert naive.code == 2 and "use diebold-mariano" in naive.json()["error"]["message"]
