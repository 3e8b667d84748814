"""One conformance test over every built-in recipe (scikit-learn's `check_estimator` idea).

Generic checks hold for every built-in: parameters round-trip through `get_params`, `__init__`
stores parameters only, `fit` returns the recipe and leaves learned state, a saved recipe loads
back with the same answers, and the saved folder holds no pickle. Classifiers are also checked
with int, str and mixed labels and three or more classes; regressors for finite floats; both
on one row and many, with missing values and with a request's plain values.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from champion.errors import RecipeError
from champion.recipes import (
    BUILT_IN,
    Classifier,
    Forecaster,
    Recipe,
    Regressor,
    build_recipe,
    recipe_class,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates"
SPAM = TEMPLATES / "youtube-spam" / "data" / "initial"
LABELS = {
    "int": [0, 1],
    "str": ["ham", "spam"],
    "three int": [3, 7, 11],
    "three str": ["Eminem", "KatyPerry", "Psy"],
    "mixed": [2, "ten", 1],
}


def comments(labels: list[Any]) -> tuple[pd.DataFrame, pd.Series]:
    """120 comments of the template's three videos; two labels follow spam, three the video."""
    frames = []
    for path in sorted(SPAM.glob("*.csv")):
        frame = pd.read_csv(path).head(40)
        frame["VIDEO"] = path.stem
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    if len(labels) == 2:
        y = data["CLASS"].map(dict(enumerate(labels)))
    else:
        y = data["VIDEO"].map(dict(zip(sorted(data["VIDEO"].unique()), labels, strict=True)))
    X = data[["CONTENT"]].astype(object)
    X.iloc[3, 0] = None  # a missing text reads as empty
    return X, y.astype(object) if any(isinstance(v, str) for v in labels) else y.astype("int64")


def table(rows: int = 240, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Numbers, an integer, a category, a date and a date-time, each with missing values where
    the type allows; and a signal that depends on all of them."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], rows).astype(object)
    X = pd.DataFrame({
        "size": rng.normal(size=rows),
        "count": rng.integers(0, 10, rows).astype("int64"),
        "colour": colour,
        "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
        "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows), unit="min"),
    })
    signal = 2.0 * (colour == "red") - 2.0 * (colour == "blue") + X["size"].to_numpy() + 0.1 * X["count"].to_numpy()
    X.loc[X.index % 7 == 0, "size"] = np.nan
    X.loc[X.index % 9 == 0, "colour"] = None
    X.loc[X.index % 11 == 0, "day"] = pd.NaT
    return X, signal


def tabular(labels: list[Any]) -> tuple[pd.DataFrame, pd.Series]:
    X, signal = table()
    cuts = np.quantile(signal, np.linspace(0, 1, len(labels) + 1)[1:-1])
    y = pd.Series([labels[i] for i in np.searchsorted(cuts, signal)])
    return X, y.astype(object) if any(isinstance(v, str) for v in labels) else y.astype("int64")


def series() -> pd.Series:
    days = pd.date_range("2024-01-01", periods=84, freq="D")
    rng = np.random.default_rng(0)
    values = 100 + 10 * np.sin(np.arange(84) * 2 * np.pi / 7) + rng.normal(0, 2, 84)
    return pd.Series(values, index=days)


def fitted(spec: str, labels: list[Any] | None = None) -> tuple[Recipe, Any, Any]:
    """(fitted recipe, probe input, training target) for `spec`."""
    cls = recipe_class(spec)
    recipe = build_recipe(cls, {})
    if issubclass(cls, Forecaster):
        s = series()
        assert recipe.fit(s) is recipe  # type: ignore[attr-defined]
        return recipe, s, None
    if issubclass(cls, Regressor):
        X, signal = table()
        y = pd.Series(10.0 * signal + 3.0)
    elif spec == "text-classifier":
        X, y = comments(labels or [0, 1])
    else:
        X, y = tabular(labels or [0, 1])
    assert recipe.fit(X, y) is recipe  # type: ignore[attr-defined]
    return recipe, X, y


def answers(recipe: Recipe, probe: Any) -> np.ndarray:
    if isinstance(recipe, Classifier):
        return recipe.predict_proba(probe)
    if isinstance(recipe, Regressor):
        return recipe.predict(probe)
    assert isinstance(recipe, Forecaster)
    return recipe.forecast(probe, 7)


SPECS = sorted(BUILT_IN)
CLASSIFIERS = [s for s in SPECS if issubclass(recipe_class(s), Classifier)]
REGRESSORS = [s for s in SPECS if issubclass(recipe_class(s), Regressor)]


@pytest.mark.parametrize("spec", SPECS)
def test_parameters_round_trip_and_init_stores_only_them(spec: str) -> None:
    cls = recipe_class(spec)
    recipe = build_recipe(cls, {})
    params = recipe.get_params()
    assert list(params) == cls.param_names() and params
    assert not any(name.endswith("_") for name in vars(recipe))
    assert cls(**params).get_params() == params
    changed = build_recipe(cls, {"random_state": 7} if "random_state" in params else {})
    assert changed.get_params() == {**params, **({"random_state": 7} if "random_state" in params else {})}


@pytest.mark.parametrize("spec", SPECS)
def test_fit_returns_the_recipe_and_save_load_answers_the_same_without_pickle(spec: str, tmp_path: Path) -> None:
    recipe, probe, _ = fitted(spec)
    assert any(name.endswith("_") for name in vars(recipe)), "fit leaves learned state"
    before = answers(recipe, probe)
    recipe.save(tmp_path)
    loaded = type(recipe).load(tmp_path)
    assert loaded.get_params() == recipe.get_params()
    np.testing.assert_array_equal(answers(loaded, probe), before)
    assert _pickles(tmp_path) == [], "built-in recipes save without pickle"
    if isinstance(recipe, Classifier):
        assert isinstance(loaded, Classifier)
        assert loaded.classes_.tolist() == recipe.classes_.tolist()
        assert loaded.classes_.dtype == recipe.classes_.dtype


@pytest.mark.parametrize("kind", list(LABELS))
@pytest.mark.parametrize("spec", CLASSIFIERS)
def test_classifiers_take_labels_of_any_type_and_three_or_more_classes(spec: str, kind: str, tmp_path: Path) -> None:
    labels = LABELS[kind]
    recipe, X, y = fitted(spec, labels)
    assert isinstance(recipe, Classifier)
    expected = sorted(labels, key=lambda v: (isinstance(v, str), v if not isinstance(v, str) else 0, str(v)))
    assert recipe.classes_.tolist() == expected
    assert all(type(c) is type(v) for c, v in zip(recipe.classes_.tolist(), expected, strict=True))
    proba = recipe.predict_proba(X)
    assert proba.shape == (len(X), len(labels))
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    # Columns follow classes_: the true class's column is the most probable on most training rows.
    truth = np.array([recipe.classes_.tolist().index(v) for v in y])
    assert (proba.argmax(axis=1) == truth).mean() > 0.6
    assert recipe.predict(X).tolist() == recipe.classes_[proba.argmax(axis=1)].tolist()
    recipe.save(tmp_path)
    loaded = type(recipe).load(tmp_path)
    assert loaded.classes_.tolist() == recipe.classes_.tolist() and loaded.classes_.dtype == recipe.classes_.dtype
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)


@pytest.mark.parametrize("spec", CLASSIFIERS + REGRESSORS)
def test_one_row_answers_as_in_a_batch_and_requests_plain_values_read_as_typed(spec: str) -> None:
    recipe, X, _ = fitted(spec)
    batch = answers(recipe, X)
    for row in (0, 3, 7, 9, 11):  # rows with missing values among them
        np.testing.assert_allclose(answers(recipe, X.iloc[[row]]), batch[row : row + 1], rtol=1e-12, atol=1e-12)
    # An endpoint builds frames of plain values: objects for strings, ISO text for dates, None for missing.
    plain = pd.DataFrame({c: np.asarray([_plain(v) for v in X[c]], dtype=object) for c in X.columns})
    np.testing.assert_allclose(answers(recipe, plain), batch, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec", REGRESSORS)
def test_regressors_predict_finite_floats_close_to_the_signal(spec: str) -> None:
    recipe, X, y = fitted(spec)
    predicted = answers(recipe, X)
    assert predicted.dtype == np.float64 and predicted.shape == (len(X),)
    assert np.all(np.isfinite(predicted))
    assert np.corrcoef(predicted, y)[0, 1] > 0.8
    fresh, _ = table(rows=30, seed=1)
    fresh.loc[:, "size"] = np.nan  # every number missing: still finite answers
    assert np.all(np.isfinite(answers(recipe, fresh)))


@pytest.mark.parametrize("spec", [s for s in CLASSIFIERS + REGRESSORS if s.startswith("tabular")])
def test_tabular_recipes_read_unseen_categories_and_bad_values_as_missing(spec: str) -> None:
    recipe, X, _ = fitted(spec)
    odd = X.head(5).astype(object)
    odd["colour"] = ["purple", None, 3, "red", ""]
    odd["size"] = ["1.5", "n/a", None, np.inf, 2]
    odd["day"] = ["2024-02-30", "not a date", None, "2024-03-01", pd.Timestamp("2024-03-01", tz="Europe/Paris")]
    got = answers(recipe, odd)
    assert np.all(np.isfinite(got)) and len(got) == 5
    # Dates sent as numbers (JSON's epoch milliseconds) are missing, never read as 1970.
    as_numbers, as_missing = X.head(5).astype(object), X.head(5).astype(object)
    as_numbers["day"] = [1.7e12, 1704067200000, 0, -5, 3.5]
    as_missing["day"] = None
    np.testing.assert_array_equal(answers(recipe, as_numbers), answers(recipe, as_missing))
    with pytest.raises(RecipeError, match="lacks the feature column"):
        answers(recipe, X.drop(columns=["colour"]))


def test_the_tabular_tree_search_takes_smooth_trees_where_the_folds_prefer_them(tmp_path: Path) -> None:
    """A noisy linear signal on few rows: the folds prefer few large leaves; a step-rich
    signal on many rows keeps the trees as set. The choice is saved with the model."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    noisy = pd.Series(x[:, 0] + rng.normal(scale=3.0, size=300))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    smooth = recipe_class("tabular-regressor")().fit(frame, noisy)  # type: ignore[attr-defined]
    assert smooth.trees_ == "smooth"
    big = rng.normal(size=(3000, 4))
    steps = pd.Series(np.sign(big[:, 0]) * np.sign(big[:, 1]) * 3 + np.floor(big[:, 2] * 2) + rng.normal(scale=0.1, size=3000))
    rich = recipe_class("tabular-regressor")().fit(pd.DataFrame(big, columns=["a", "b", "c", "d"]), steps)  # type: ignore[attr-defined]
    assert rich.trees_ == "as set"
    fixed = recipe_class("tabular-regressor")(tree_search=False).fit(frame, noisy)  # type: ignore[attr-defined]
    assert fixed.trees_ == "as set"
    smooth.save(tmp_path)
    loaded = recipe_class("tabular-regressor").load(tmp_path)
    assert loaded.trees_ == "smooth"
    np.testing.assert_array_equal(loaded.predict(frame), smooth.predict(frame))


def test_tabular_recipes_refuse_free_text_and_cap_categories() -> None:
    rng = np.random.default_rng(0)
    words = np.array("the a comment long free text with many words and some more of them".split())
    n = 400
    text = [" ".join(rng.choice(words, 12)) + f" {i}" for i in range(n)]
    y = pd.Series(rng.integers(0, 2, n))
    with pytest.raises(RecipeError, match="looks like free text"):
        recipe_class("tabular-classifier")().fit(pd.DataFrame({"note": text}), y)  # type: ignore[attr-defined]
    codes = pd.DataFrame({"code": [f"c{i % 300}" for i in range(n * 3)]})  # 300 short categories: capped
    target = pd.Series(np.arange(n * 3) % 300, dtype=float)
    model = recipe_class("tabular-regressor")().fit(codes, target)  # type: ignore[attr-defined]
    column = model.columns_.columns[0]
    assert column["other"] and len(column["categories"]) == 254
    assert np.all(np.isfinite(model.predict(pd.DataFrame({"code": ["c1", "c299", "never seen", None]}))))


def test_a_tabular_model_file_holding_other_types_is_not_loaded(tmp_path: Path) -> None:
    """Loading never runs code from the artifact: a trees file naming any callable beyond the
    few HistGradientBoosting needs is refused before skops builds anything."""
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    recipe, _, _ = fitted("tabular-regressor")
    recipe.save(tmp_path)
    sio.dump(FunctionTransformer(func=print), tmp_path / "trees.skops")
    with pytest.raises(RecipeError, match="it is not loaded"):
        type(recipe).load(tmp_path)


def test_classifiers_refuse_a_single_class_and_missing_labels() -> None:
    for spec in CLASSIFIERS:
        recipe, X, y = fitted(spec)
        with pytest.raises(RecipeError, match="two classes"):
            build_recipe(type(recipe), {}).fit(X, pd.Series([y.iloc[0]] * len(y)))  # type: ignore[attr-defined]
        holey = y.astype(object).copy()
        holey.iloc[2] = None
        with pytest.raises(RecipeError, match="missing"):
            build_recipe(type(recipe), {}).fit(X, holey)  # type: ignore[attr-defined]


def test_text_classifier_saved_before_labels_moved_to_json_still_loads(tmp_path: Path) -> None:
    """Older models hold their (integer) classes in weights.npz and none in the JSON."""
    recipe, X, _ = fitted("text-classifier")
    recipe.save(tmp_path)
    stored = json.loads((tmp_path / "vocabulary.json").read_text(encoding="utf-8"))
    del stored["classes"], stored["temperature"]
    (tmp_path / "vocabulary.json").write_text(json.dumps(stored), encoding="utf-8")
    with np.load(tmp_path / "weights.npz") as weights:
        arrays = dict(weights)
    np.savez(tmp_path / "weights.npz", **arrays, classes=np.array([0, 1]))
    loaded = type(recipe).load(tmp_path)
    assert loaded.classes_.tolist() == [0, 1] and loaded.classes_.dtype.kind == "i"
    np.testing.assert_array_equal(loaded.predict_proba(X), answers(recipe, X))


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if isinstance(value, np.generic) else value


def _pickles(folder: Path) -> list[str]:
    """Files (or members of zip files, such as skops') that are pickles or object arrays."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            members = _zip_members(path) if zipfile.is_zipfile(path) else {path.name: path.read_bytes()}
            found += [f"{path.name}:{name}" for name, data in members.items() if _is_pickle(name, data)]
    return found


def _zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _is_pickle(name: str, data: bytes) -> bool:
    if name.endswith((".pkl", ".pickle")) or data[:1] == b"\x80":  # pickle protocol 2+ starts with PROTO
        return True
    return data[:6] == b"\x93NUMPY" and b"'descr': '|O'" in data[:256]  # an object array is pickled
