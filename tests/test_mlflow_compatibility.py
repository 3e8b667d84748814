"""Users keep their MLflow: `models:/NAME@champion` loads and predicts with plain MLflow."""

from __future__ import annotations

import pandas as pd
from conftest import cli


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
