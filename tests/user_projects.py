"""Projects a user could bring: other labels, columns, file formats, recipes, tasks and series.

Each `Scenario` writes one model's files into a project folder and says how to drive it
through the whole loop (initial data, a later file to ingest, rows to score, their actual
values as feedback). Text scenarios reuse the shipped YouTube comments under other names
and formats; tabular data and series are generated with a fixed seed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TEMPLATE_DATA = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates" / "youtube-spam" / "data"
VIDEOS = {"Youtube01-Psy.csv": "Psy", "Youtube02-KatyPerry.csv": "Katy Perry", "Youtube03-LMFAO.csv": "LMFAO",
          "Youtube04-Eminem.csv": "Eminem", "Youtube05-Shakira.csv": "Shakira"}


@dataclass
class Scenario:
    """One model of a user's project and the data that drives it through the loop."""

    model: str
    toml: str
    """The `[models.NAME]` tables."""
    later: list[Path]
    """Files to ingest after the first build."""
    task: str
    """classification, regression or forecasting."""
    score_rows: list[dict[str, Any]] = field(default_factory=list)
    """Rows sent to `/score` (features, plus id columns where the model has them)."""
    actual: list[Any] = field(default_factory=list)
    """The true values of `score_rows` (or of the forecast dates), in order."""
    labels: list[Any] = field(default_factory=list)
    write_feedback: Callable[[Path, list[str]], Path] | None = None
    """Writes the feedback file into a folder, given the request ids of the scored rows (a
    forecaster: the dates it forecast)."""
    forecast_dates: list[str] = field(default_factory=list)
    horizon: int = 0


def write_project(root: Path, migrated_db: Path, scenarios: list[Scenario]) -> Path:
    """A project of these models in `root` (staging on 1 worker, production on 2, each on a
    free port), with a copy of the session's migrated MLflow database."""
    import shutil

    from serving_support import free_port

    text = '[project]\nname = "a user\'s project"\n' + "".join(s.toml for s in scenarios)
    for env in ("staging", "production"):
        workers = 2 if env == "production" else 1
        text += f"\n[environments.{env}]\nport = {free_port()}\nworkers = {workers}\npoll_seconds = 0.2\n"
    (root / "champion.toml").write_text(text, encoding="utf-8")
    (root / ".champion").mkdir()
    shutil.copyfile(migrated_db, root / ".champion" / "mlflow.db")
    return root


def _comments() -> pd.DataFrame:
    frames = []
    for name, video in VIDEOS.items():
        folder = "initial" if name < "Youtube04" else "retraining"
        frame = pd.read_csv(TEMPLATE_DATA / folder / name, dtype=str, keep_default_na=False)
        frames.append(frame.assign(VIDEO=video))
    return pd.concat(frames, ignore_index=True)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_MINIMAL)
    else:
        frame.to_csv(path, index=False)
    return path


def _half(frame: pd.DataFrame, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stable split by a hash of `key` (not the golden split: it uses another salt)."""
    bucket = pd.util.hash_pandas_object(frame[key], index=False) % 4
    return frame[bucket.to_numpy() != 0], frame[bucket.to_numpy() == 0]


# ---- text ----------------------------------------------------------------------------------------
def string_labels_tsv(root: Path, model: str = "moderation") -> Scenario:
    """ham/spam as strings, tab-separated files, column names with spaces and umlauts."""
    comments = _comments()
    frame = pd.DataFrame({"Kommentar-ID": comments["COMMENT_ID"], "Kommentar Text": comments["CONTENT"],
                          "Klasse": np.where(comments["CLASS"] == "1", "spam", "ham")})
    early, late = frame[comments["VIDEO"].isin(["Psy", "Katy Perry", "LMFAO"]).to_numpy()], \
        frame[comments["VIDEO"].isin(["Eminem", "Shakira"]).to_numpy()]
    _write(early, root / "data" / model / "kommentare.tsv")
    later = _write(late, root / "new" / model / "neue kommentare.tsv")
    scored = late.head(60)
    toml = f'''
[models.{model}]
recipe = "text-classifier"
data = ["data/{model}/*.tsv"]
features = ["Kommentar Text"]
target = "Klasse"
labels = ["ham", "spam"]
positive_label = "spam"
id = ["Kommentar-ID"]
split_by = ["Kommentar Text"]

[models.{model}.columns]
"Kommentar-ID" = "string"
"Kommentar Text" = "text"
Klasse = "label"
'''

    def feedback(folder: Path, request_ids: list[str]) -> Path:
        return _write(scored[["Kommentar-ID", "Klasse"]], folder / f"{model}-feedback.tsv")

    return Scenario(model, toml, [later], "classification",
                    [{"Kommentar Text": t, "Kommentar-ID": i} for t, i in zip(scored["Kommentar Text"],
                                                                                scored["Kommentar-ID"], strict=True)],
                    scored["Klasse"].tolist(), ["ham", "spam"], feedback)


def integer_labels_parquet(root: Path, model: str = "comments") -> Scenario:
    """Labels -1 and 1 (not 0/1), Parquet files, a non-ASCII feature name."""
    comments = _comments()
    frame = pd.DataFrame({"id": comments["COMMENT_ID"], "texte du commentaire": comments["CONTENT"],
                          "étiquette": np.where(comments["CLASS"] == "1", 1, -1).astype("int64")})
    early, late = _half(frame, "id")
    _write(early, root / "data" / model / "initial.parquet")
    later = _write(late, root / "new" / model / "later.parquet")
    scored = late.head(60)
    toml = f'''
[models.{model}]
recipe = "text-classifier"
data = ["data/{model}/*.parquet"]
features = ["texte du commentaire"]
target = "étiquette"
labels = [-1, 1]
id = ["id"]

[models.{model}.columns]
id = "string"
"texte du commentaire" = "text"
"étiquette" = "label"
'''

    def feedback(folder: Path, request_ids: list[str]) -> Path:
        # By request id and row: what a client that kept the answers' ids sends back.
        rows = pd.DataFrame({"request_id": request_ids, "row": range(len(request_ids)),
                             "étiquette": scored["étiquette"].to_numpy()})
        return _write(rows, folder / f"{model}-feedback.parquet")

    return Scenario(model, toml, [later], "classification",
                    [{"texte du commentaire": t} for t in scored["texte du commentaire"]],
                    scored["étiquette"].tolist(), [-1, 1], feedback)


def video_multiclass(root: Path, model: str = "video") -> Scenario:
    """Which of five videos a comment belongs to: five string classes."""
    comments = _comments()
    frame = pd.DataFrame({"COMMENT_ID": comments["COMMENT_ID"], "CONTENT": comments["CONTENT"],
                          "VIDEO": comments["VIDEO"]})
    early, late = _half(frame, "COMMENT_ID")
    _write(early, root / "data" / model / "videos.csv")
    later = _write(late, root / "new" / model / "more-videos.csv")
    scored = late.head(60)
    labels = sorted(VIDEOS.values())
    toml = f'''
[models.{model}]
recipe = "text-classifier"
data = ["data/{model}/*.csv"]
features = ["CONTENT"]
target = "VIDEO"
labels = {labels!r}
id = ["COMMENT_ID"]

[models.{model}.columns]
COMMENT_ID = "string"
CONTENT = "text"
VIDEO = "label"
'''.replace("'", '"')

    def feedback(folder: Path, request_ids: list[str]) -> Path:
        return _write(scored[["CONTENT", "VIDEO"]], folder / f"{model}-feedback.csv")  # by the features

    return Scenario(model, toml, [later], "classification", [{"CONTENT": t} for t in scored["CONTENT"]],
                    scored["VIDEO"].tolist(), labels, feedback)


USER_RECIPE = '''
"""A user's own recipe: a nearest-centroid classifier over word counts."""
import numpy as np
from champion.recipes import Classifier
from vocab import tokens


class CentroidClassifier(Classifier):
    def __init__(self, *, temperature: float = 4.0):
        self.temperature = temperature

    def fit(self, X, y):
        self.classes_ = np.unique(y.to_numpy())
        words = sorted({t for text in X.iloc[:, 0] for t in tokens(text)})
        self.index_ = {w: i for i, w in enumerate(words)}
        counts = self._counts(X)
        labels = y.to_numpy()
        self.centroids_ = np.vstack([counts[labels == c].mean(axis=0) for c in self.classes_])
        return self

    def _counts(self, X):
        out = np.zeros((len(X), len(self.index_)))
        for row, text in enumerate(X.iloc[:, 0]):
            for t in tokens(text):
                if t in self.index_:
                    out[row, self.index_[t]] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1)

    def predict_proba(self, X):
        similarity = self._counts(X) @ self.centroids_.T
        scores = np.exp(self.temperature * (similarity - similarity.max(axis=1, keepdims=True)))
        return scores / scores.sum(axis=1, keepdims=True)
'''


def user_recipe(root: Path, model: str = "custom") -> Scenario:
    """A recipe of the user's own in the project folder (and a helper module it imports)."""
    (root / "centroid.py").write_text(USER_RECIPE, encoding="utf-8")
    (root / "vocab.py").write_text("def tokens(text):\n    return str(text).lower().split()\n", encoding="utf-8")
    comments = _comments()
    frame = pd.DataFrame({"COMMENT_ID": comments["COMMENT_ID"], "CONTENT": comments["CONTENT"],
                          "CLASS": comments["CLASS"].astype(int)})
    early, late = _half(frame, "COMMENT_ID")
    _write(early, root / "data" / model / "initial.csv")
    later = _write(late, root / "new" / model / "later.csv")
    scored = late.head(60)
    toml = f'''
[models.{model}]
recipe = "centroid:CentroidClassifier"
data = ["data/{model}/*.csv"]
features = ["CONTENT"]
target = "CLASS"
labels = [0, 1]
id = ["COMMENT_ID"]

[models.{model}.columns]
COMMENT_ID = "string"
CONTENT = "text"
CLASS = "label"
'''

    def feedback(folder: Path, request_ids: list[str]) -> Path:
        return _write(scored[["COMMENT_ID", "CLASS"]], folder / f"{model}-feedback.csv")

    return Scenario(model, toml, [later], "classification",
                    [{"CONTENT": t, "COMMENT_ID": i} for t, i in zip(scored["CONTENT"], scored["COMMENT_ID"],
                                                                     strict=True)],
                    scored["CLASS"].tolist(), [0, 1], feedback)


# ---- tabular -------------------------------------------------------------------------------------
def _customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cities = np.array(["Berlin", "München", "Köln", "Hamburg", "Leipzig", "Bremen"])
    city = rng.choice(cities, n, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    age = rng.integers(18, 80, n)
    income = np.round(rng.lognormal(10.5, 0.4, n), 2)
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    tenure = (pd.Timestamp("2024-06-01") - signup).days.to_numpy()
    logit = -1.0 + 0.9 * (city == "Köln") - 0.02 * (age - 45) - 0.0015 * tenure + 0.4 * (income < 30000)
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame({"customer": [f"c{seed}-{i:05d}" for i in range(n)], "age": age,
                          "income (€)": income, "city": city, "signed up": signup.strftime("%Y-%m-%d"),
                          "outcome": np.where(churn, "churned", "stayed")})
    frame.loc[rng.random(n) < 0.05, "income (€)"] = np.nan  # a nullable column with gaps
    return frame


def tabular_classifier(root: Path, model: str = "churn") -> Scenario:
    """Numbers, a category, a date and a nullable column; string labels."""
    _write(_customers(1500, 1), root / "data" / model / "customers.csv")
    late = _customers(600, 2)
    later = _write(late, root / "new" / model / "customers-2.csv")
    scored = late.head(60)
    features = ["age", "income (€)", "city", "signed up"]
    toml = f'''
[models.{model}]
recipe = "tabular-classifier"
data = ["data/{model}/*.csv"]
features = ["age", "income (€)", "city", "signed up"]
target = "outcome"
labels = ["churned", "stayed"]
positive_label = "churned"
id = ["customer"]

[models.{model}.columns]
customer = "string"
age = "integer"
"income (€)" = {{ type = "number", nullable = true }}
city = "string"
"signed up" = "date"
outcome = "label"
'''

    def feedback(folder: Path, request_ids: list[str]) -> Path:
        return _write(scored[["customer", "outcome"]], folder / f"{model}-feedback.csv")

    rows = [{**{f: (None if pd.isna(r[f]) else r[f]) for f in features}, "customer": r["customer"]}
            for r in scored.to_dict("records")]
    return Scenario(model, toml, [later], "classification", _plain_rows(rows), scored["outcome"].tolist(),
                    ["churned", "stayed"], feedback)


def _flats(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    district = rng.choice(["Mitte", "Nord", "Süd", "Ost", "West"], n)
    area = np.round(rng.uniform(25, 160, n), 1)
    built = rng.integers(1900, 2024, n)
    listed = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    premium = pd.Series(district).map({"Mitte": 1.5, "Nord": 1.0, "Süd": 1.2, "Ost": 0.9, "West": 1.1}).to_numpy()
    price = area * 3000 * premium + (built - 1960) * 400 + rng.normal(0, 15000, n)
    return pd.DataFrame({"listing": [f"l{seed}-{i:05d}" for i in range(n)], "area m²": area, "district": district,
                         "built": built, "listed on": listed.strftime("%Y-%m-%d"),
                         "price (€)": np.round(price, 2)})


def tabular_regressor(root: Path, model: str = "rent") -> Scenario:
    """A number predicted from numbers, a category and a date."""
    _write(_flats(1200, 3), root / "data" / model / "flats.csv")
    late = _flats(500, 4)
    later = _write(late, root / "new" / model / "flats-2.csv")
    scored = late.head(60)
    features = ["area m²", "district", "built", "listed on"]
    toml = f'''
[models.{model}]
recipe = "tabular-regressor"
data = ["data/{model}/*.csv"]
features = ["area m²", "district", "built", "listed on"]
target = "price (€)"
id = ["listing"]

[models.{model}.columns]
listing = "string"
"area m²" = "number"
district = "string"
built = "integer"
"listed on" = "date"
"price (€)" = "number"
'''

    def feedback(folder: Path, request_ids: list[str]) -> Path:
        return _write(scored[["listing", "price (€)"]], folder / f"{model}-feedback.csv")

    rows = [{**{f: r[f] for f in features}, "listing": r["listing"]} for r in scored.to_dict("records")]
    return Scenario(model, toml, [later], "regression", _plain_rows(rows), scored["price (€)"].tolist(), [],
                    feedback)


def _plain_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """numpy scalars as JSON-ready Python values."""
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in rows]


# ---- series --------------------------------------------------------------------------------------
def _series(frequency: str, periods: int, season: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2015-01-01", periods=periods, freq=frequency)
    t = np.arange(periods)
    seasonal = 10 * np.sin(2 * np.pi * t / season) if season > 1 else 0
    values = 100 + 0.2 * t + seasonal + rng.normal(0, 2, periods)
    frame = pd.DataFrame({"period": dates.strftime("%Y-%m-%d"), "value": np.round(values, 3)})
    if missing:
        gaps = rng.random(periods) < missing
        gaps[:3] = False  # the first values are known,
        gaps[int(periods * 0.7):] = False  # and the recent ones (the golden set and the future)
        frame.loc[gaps, "value"] = np.nan
    return frame


def series(root: Path, model: str, frequency: str, periods: int, season: int, seed: int,
           golden: int, horizon: int, missing: float = 0.0) -> Scenario:
    """A regular series: the first part to start with, a later part to ingest, and the next
    `horizon` periods as the actual values of the served forecast."""
    frame = _series(frequency, periods + horizon, season, seed, missing)
    cut = periods - max(golden // 2, horizon)
    _write(frame.iloc[:cut], root / "data" / model / "history.csv")
    later = _write(frame.iloc[cut:periods], root / "new" / model / "recent.csv")
    future = frame.iloc[periods:]
    nullable = ", nullable = true" if missing else ""
    toml = f'''
[models.{model}]
recipe = "forecaster"
data = ["data/{model}/*.csv"]
time = "period"
target = "value"
frequency = "{frequency}"

[models.{model}.columns]
period = "date"
value = {{ type = "number"{nullable} }}

[models.{model}.golden]
periods = {golden}
horizon = {horizon}
'''

    def feedback(folder: Path, dates: list[str]) -> Path:
        """The actual values of the periods the endpoint forecast (by date)."""
        return _write(frame[frame["period"].isin(dates)], folder / f"{model}-feedback.csv")

    return Scenario(model, toml, [later], "forecasting", [], future["value"].tolist(), [], feedback,
                    future["period"].tolist(), horizon)
