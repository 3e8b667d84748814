"""A user's own recipe (`module:Class` in the project folder): its source travels with each
model, so every version loads anywhere, keeps loading after the module is edited, and two
versions of one module live side by side; a model that cannot be loaded back is never
registered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import cli, cli_process

RECIPE = '''
import numpy as np
from champion.recipes import Classifier
from words import tokens

class KeywordClassifier(Classifier):
    """Naive log-odds of tokens; the scale is a parameter so versions can differ."""

    def __init__(self, *, scale: float = 1.0):
        self.scale = scale

    def fit(self, X, y):
        self.classes_ = np.unique(y.to_numpy())
        counts = {}
        for text, label in zip(X.iloc[:, 0], y):
            for token in tokens(text):
                counts.setdefault(token, [1, 1])[int(label == self.classes_[-1])] += 1
        self.weights_ = {t: np.log(c[1] / c[0]) for t, c in counts.items()}
        return self

    def predict_proba(self, X):
        score = np.array([sum(self.weights_.get(t, 0.0) for t in tokens(x)) for x in X.iloc[:, 0]])
        p = 1 / (1 + np.exp(-np.clip(self.scale * score, -30, 30)))
        return np.column_stack([1 - p, p])
'''

BROKEN_LOAD = '''
import json
import numpy as np
from champion.recipes import Classifier

class ForgetfulClassifier(Classifier):
    def fit(self, X, y):
        self.classes_ = np.unique(y.to_numpy())
        self.share_ = float(np.mean(y.to_numpy() == self.classes_[-1]))
        return self

    def predict_proba(self, X):
        return np.tile([1 - self.share_, self.share_], (len(X), 1))

    def save(self, folder):
        (folder / "share.json").write_text(json.dumps(self.share_))

    @classmethod
    def load(cls, folder):
        raise RuntimeError("this recipe cannot read what it saved")
'''


def _user_project(make_project, recipe: str, spec: str, helper: str | None = None) -> Path:  # type: ignore[no-untyped-def]
    project = make_project()
    module = spec.partition(":")[0]
    (project / f"{module}.py").write_text(recipe, encoding="utf-8")
    if helper is not None:
        (project / "words.py").write_text(helper, encoding="utf-8")
    toml = project / "champion.toml"
    text = toml.read_text(encoding="utf-8").replace('recipe = "text-classifier"', f'recipe = "{spec}"')
    toml.write_text(text.replace("C = 10.0\n", ""), encoding="utf-8")
    return project


def test_a_model_that_cannot_be_loaded_back_is_never_registered(make_project) -> None:  # type: ignore[no-untyped-def]
    project = _user_project(make_project, BROKEN_LOAD, "forgetful:ForgetfulClassifier")
    result = cli("build", "--project", str(project), "--json", "-q")
    assert result.code == 1
    message = result.json()["error"]["message"]
    assert "was not registered" in message and "cannot read what it saved" in message
    log = project / ".champion" / "logs" / "champion-errors.log"
    assert "Traceback" in log.read_text(encoding="utf-8") and str(log) in message
    status = cli("status", "--project", str(project), "--json").json()["models"][0]
    assert status["versions"] == 0 and status["aliases"] == {}


def test_a_user_recipe_travels_with_its_model(make_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = _user_project(make_project, RECIPE, "keywords:KeywordClassifier",
                            "def tokens(text):\n    return str(text).lower().split()\n")
    first = cli("build", "--project", str(project), "--json", "-q")
    assert first.code == 0, first.stdout
    v1_metrics = first.json()["challenger"]["metrics"]

    # The user edits both modules: another class name, another tokenizer.
    (project / "keywords.py").write_text(RECIPE.replace("class KeywordClassifier", "class Renamed")
                                         + "\nKeywordClassifier = Renamed\n", encoding="utf-8")
    (project / "words.py").write_text("def tokens(text):\n    return list(str(text).lower())\n", encoding="utf-8")
    # A new process, as a user's next command is (this one imported the old modules).
    second = cli_process("build", "--project", str(project), "--json", "-q")
    assert second.code in (0, 3), second.stdout
    document = second.json()
    # The champion was scored with its own copy of the old source: the same metrics as when trained.
    assert document["champion"]["metrics"] == v1_metrics
    assert document["challenger"]["metrics"] != v1_metrics

    # Version 1 loads with MLflow alone, in a process that does not have the project on its path.
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri({'sqlite:///' + str(project / '.champion' / 'mlflow.db')!r})\n"
        "model = mlflow.pyfunc.load_model('models:/spam/1')\n"
        "out = model.predict(pd.DataFrame({'CONTENT': ['check out my channel', 'great song']}))\n"
        "print(json.dumps(out['label'].tolist()))\n"
        "print('keywords' in sys.modules, 'words' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    labels, modules = done.stdout.strip().splitlines()[-2:]
    assert len(json.loads(labels)) == 2
    assert modules == "False False"  # loaded from the model's copy, then put away


def test_two_versions_of_one_module_load_side_by_side(make_project) -> None:  # type: ignore[no-untyped-def]
    from champion.project import Project
    from champion.workspace import Workspace

    project = _user_project(make_project, RECIPE, "keywords:KeywordClassifier",
                            "def tokens(text):\n    return str(text).lower().split()\n")
    assert cli("build", "--project", str(project), "-q").code == 0
    (project / "words.py").write_text("def tokens(text):\n    return list(str(text).lower())\n", encoding="utf-8")
    run_v2 = cli_process("train", "--project", str(project), "--json", "-q").json()["run_id"]

    ws = Workspace(Project.open(project))
    v1 = ws.registry.load_recipe(ws.registry.run(ws.registry.version("spam", 1).run_id))
    v2 = ws.registry.load_recipe(ws.registry.run(run_v2))
    import pandas as pd

    frame = pd.DataFrame({"CONTENT": ["subscribe to my channel"]})
    # Each keeps its own tokenizer: words for version 1, characters for the new run.
    assert set(v1.weights_) != set(v2.weights_)
    assert all(len(token) == 1 for token in v2.weights_)
    assert v1.predict_proba(frame).shape == v2.predict_proba(frame).shape == (1, 2)


def test_status_shows_the_recipe_each_version_was_trained_with(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project()
    assert cli("build", "--project", str(project), "-q").code == 0
    (project / "keywords.py").write_text(RECIPE, encoding="utf-8")
    (project / "words.py").write_text("def tokens(text):\n    return str(text).split()\n", encoding="utf-8")
    toml = project / "champion.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('recipe = "text-classifier"',
                                                             'recipe = "keywords:KeywordClassifier"')
                    .replace("C = 10.0\n", ""), encoding="utf-8")
    status = cli("status", "--project", str(project), "--json").json()["models"][0]
    assert status["recipe"] == "keywords:KeywordClassifier"  # what the next build trains
    assert status["aliases"]["champion"]["recipe"] == "text-classifier"  # what version 1 is
    assert status["aliases"]["champion"]["params"]["C"] == "10.0"
    shown = cli("status", "--project", str(project))
    assert "text-classifier" in shown.stdout and "keywords:KeywordClassifier" in shown.stdout
