"""`text-classifier` on a real multi-class text task: which video is a comment from?

The five videos of the youtube-spam template (Psy, KatyPerry, LMFAO, Eminem, Shakira; the
label is the file's video), split as champion splits them: a stable hash of the comment text,
20% golden (`champion.data.golden.golden_mask`), so copies of one comment stay on one side.
Rows with an id seen before are dropped, as ingest drops them.

Compared on the same golden rows:
- `text-classifier` with its defaults (char 1-5-gram TF-IDF, multinomial logistic
  regression C=10, temperature scaling on out-of-fold scores folded into the weights);
- a plain scikit-learn baseline of the same family: TfidfVectorizer() (word unigrams, its
  defaults) + LogisticRegression, C tuned by 5-fold grid search (log loss) on the training rows;
- the same baseline with the features tuned too (word 1-1 and 1-2, char_wb 1-5, char 1-5);
- the recipe's own features without the temperature (C tuned likewise), and the recipe at
  C=1 and C=100 with and without its temperature, to show what the calibration step does.

    python benchmarks/recipes/text_multiclass.py      # ~2-4 min on 2 cores
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.special import softmax  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, log_loss  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from common import ece_floor, expected_calibration_error, machine  # noqa: E402

from champion.data.golden import golden_mask  # noqa: E402
from champion.recipes.text_classifier import TextClassifier  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "champion" / "templates" / "youtube-spam" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "text_multiclass.json"
C_GRID = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0]


def load() -> pd.DataFrame:
    frames = []
    for path in sorted(DATA.glob("*/*.csv")):
        frame = pd.read_csv(path)
        frame["VIDEO"] = path.stem.split("-", 1)[1]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).drop_duplicates("COMMENT_ID")


def scores(name: str, proba: np.ndarray, codes: np.ndarray, seconds: float, note: str) -> dict[str, Any]:
    predicted = proba.argmax(axis=1)
    return {
        "model": name, "note": note, "accuracy": accuracy_score(codes, predicted),
        "macro_f1": f1_score(codes, predicted, average="macro"),
        "log_loss": log_loss(codes, proba, labels=range(proba.shape[1])),
        "ece": expected_calibration_error(proba, codes), "ece_floor": ece_floor(proba),
        "mean_confidence": float(proba.max(axis=1).mean()), "fit_seconds": seconds,
    }


def tuned(grid: Any, train: pd.DataFrame, codes: np.ndarray) -> tuple[GridSearchCV, float]:
    started = time.perf_counter()
    pipeline = Pipeline([("tfidf", TfidfVectorizer()), ("lr", LogisticRegression(max_iter=2000))])
    search = GridSearchCV(pipeline, grid, scoring="neg_log_loss",
                          cv=StratifiedKFold(5, shuffle=True, random_state=0), n_jobs=1)
    search.fit(train["CONTENT"], codes)
    return search, time.perf_counter() - started


def main() -> None:
    frame = load()
    golden = golden_mask(frame, ["CONTENT"], 0.2)
    train, test = frame[~golden], frame[golden]
    classes = np.unique(frame["VIDEO"])
    train_codes, test_codes = np.searchsorted(classes, train["VIDEO"]), np.searchsorted(classes, test["VIDEO"])
    print(f"{machine()}\n{len(frame)} comments, {len(classes)} videos; train {len(train)}, golden {len(test)}")
    rows = []

    started = time.perf_counter()
    ours = TextClassifier().fit(train[["CONTENT"]], train["VIDEO"])
    seconds = time.perf_counter() - started
    assert list(ours.classes_) == list(classes)
    rows.append(scores("text-classifier (defaults)", ours.predict_proba(test[["CONTENT"]]), test_codes, seconds,
                       f"C=10, T={ours.temperature_:.2f}"))

    searches: dict[str, Any] = {
        "TF-IDF + LogisticRegression, C tuned": {"lr__C": C_GRID},
        "TF-IDF + LogisticRegression, features and C tuned": [
            {"tfidf__analyzer": ["word"], "tfidf__ngram_range": [(1, 1), (1, 2)], "lr__C": C_GRID},
            {"tfidf__analyzer": ["char_wb", "char"], "tfidf__ngram_range": [(1, 5)], "lr__C": C_GRID},
        ],
    }
    for name, grid in searches.items():
        search, seconds = tuned(grid, train, train_codes)
        best = {k.split("__")[1]: v for k, v in search.best_params_.items()}
        rows.append(scores(name, search.predict_proba(test["CONTENT"]), test_codes, seconds, str(best)))

    recipe = TextClassifier()
    features = recipe._vectorizer()
    train_x, test_x = features.fit_transform(train["CONTENT"]), features.transform(test["CONTENT"])
    started = time.perf_counter()
    search = GridSearchCV(recipe._linear(len(classes)), {"C": C_GRID}, scoring="neg_log_loss",
                          cv=StratifiedKFold(5, shuffle=True, random_state=0)).fit(train_x, train_codes)
    rows.append(scores("recipe's features, no temperature, C tuned", search.predict_proba(test_x), test_codes,
                       time.perf_counter() - started, f"C={search.best_params_['C']}"))

    for C in (1.0, 100.0):  # the temperature's work when C is far from the default
        started = time.perf_counter()
        other = TextClassifier(C=C).fit(train[["CONTENT"]], train["VIDEO"])
        seconds = time.perf_counter() - started
        proba = other.predict_proba(test[["CONTENT"]])
        rows.append(scores(f"text-classifier C={C:g}", proba, test_codes, seconds, f"T={other.temperature_:.2f}"))
        # softmax(T log p) = softmax(z): the same model without its temperature
        rows.append(scores(f"text-classifier C={C:g}, temperature removed",
                           softmax(other.temperature_ * np.log(proba), axis=1), test_codes, seconds, "T=1"))

    print("\n| model | accuracy | macro F1 | log loss | ECE (floor) | mean confidence | fit s | chosen |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['log_loss']:.3f} | "
              f"{r['ece']:.3f} ({r['ece_floor']:.3f}) | {r['mean_confidence']:.3f} | {r['fit_seconds']:.1f} | {r['note']} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "train": len(train), "golden": len(test), "rows": rows},
                                  indent=2) + "\n")


if __name__ == "__main__":
    main()
