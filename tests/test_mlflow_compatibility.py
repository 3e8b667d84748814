"""Users keep their MLflow: `models:/NAME@champion` loads and predicts with plain MLflow."""

from __future__ import annotations

import pandas as pd
from conftest import cli
from mlflow_support import without_champion


def test_champion_loads_with_plain_mlflow_pyfunc(make_project) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    project = make_project()
    assert cli("build", "--project", str(project), "-q").code == 0
    mlflow.set_tracking_uri(f"sqlite:///{project / '.champion' / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model("models:/spam@champion")
    comments = pd.DataFrame({"CONTENT": ["Check out my channel and subscribe!!! http://spam.example",
                                        "This song reminds me of summer 2010"]})
    answer = model.predict(comments)
    assert list(answer["label"]) == [1, 0]
    assert ((answer["proba_0"] + answer["proba_1"]).round(6) == 1).all()
    assert model.metadata.get_input_schema().input_names() == ["CONTENT"]


def test_forecaster_loads_with_plain_mlflow_pyfunc(make_project) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    project = make_project("transactions")
    assert cli("build", "transactions", "--project", str(project), "-q").code == 0
    mlflow.set_tracking_uri(f"sqlite:///{project / '.champion' / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model("models:/transactions@champion")
    answer = model.predict(pd.DataFrame({"steps": [5]}))
    assert len(answer) == 5
    assert str(answer["time"].iloc[0].date()) == "2014-01-01"  # the day after the 2013 data
    assert answer["forecast"].notna().all()


def test_a_registered_version_loads_where_champion_is_not_installed(make_project) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    project = make_project()
    assert cli("build", "--project", str(project), "-q").code == 0
    uri = f"sqlite:///{project / '.champion' / 'mlflow.db'}"
    comments = ["Check out my channel and subscribe!!! http://spam.example", "This song reminds me of summer 2010",
                "free gift cards here >>> click", "love this video"]
    found = without_champion(
        "import mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri({uri!r})\n"
        "model = mlflow.pyfunc.load_model('models:/spam@champion')\n"
        f"out = model.predict(pd.DataFrame({{'CONTENT': {comments!r}}}))\n"
        "import champion\n"
        "print(json.dumps({'labels': out['label'].tolist(), 'spam': out['proba_1'].round(9).tolist(),"
        " 'champion': champion.__file__}))\n")
    mlflow.set_tracking_uri(uri)
    here = mlflow.pyfunc.load_model("models:/spam@champion").predict(pd.DataFrame({"CONTENT": comments}))
    assert found["labels"] == here["label"].tolist() and found["spam"] == here["proba_1"].round(9).tolist()
    assert "/code/champion/" in found["champion"] and "src/champion" not in found["champion"]


def test_a_forecaster_loads_where_champion_is_not_installed(make_project) -> None:  # type: ignore[no-untyped-def]
    project = make_project("transactions")
    assert cli("build", "transactions", "--project", str(project), "-q").code == 0
    uri = f"sqlite:///{project / '.champion' / 'mlflow.db'}"
    found = without_champion(
        "import mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri({uri!r})\n"
        "out = mlflow.pyfunc.load_model('models:/transactions@champion').predict(pd.DataFrame({'steps': [3]}))\n"
        "print(json.dumps({'forecast': out['forecast'].round(6).tolist()}))\n")
    assert len(found["forecast"]) == 3 and all(v == v for v in found["forecast"])
