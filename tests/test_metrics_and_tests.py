"""Metrics against scikit-learn and the paired tests against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import metrics as skm

from champion.evaluation.metrics import (
    REGRESSION_METRICS,
    ClassifierScores,
    RegressorScores,
    classification_metrics,
    forecast_metrics,
    regression_metrics,
    scalar,
)
from champion.evaluation.paired_tests import (
    diebold_mariano,
    mcnemar_exact,
    min_periods_for_dm,
    paired_bootstrap,
)

# Scores on a coarse grid (many ties) that never hits 0.5, so the predicted class is unambiguous.
GRID = np.round(np.arange(0.05, 1.0, 0.1), 2)


def random_scores(seed: int, n: int = 300, classes: tuple = (0, 1), positive: object = 1) -> ClassifierScores:
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(classes), size=n)
    informative = rng.random(n) < 0.6
    p_pos = rng.choice(GRID, size=n)
    is_pos = y == positive
    p_pos = np.where(informative & is_pos, np.maximum(p_pos, 0.55), p_pos)
    p_pos = np.where(informative & ~is_pos, np.minimum(p_pos, 0.45), p_pos)
    cls = np.array(classes)
    pos_col = int(np.flatnonzero(cls == positive)[0])
    proba = np.empty((n, 2))
    proba[:, pos_col] = p_pos
    proba[:, 1 - pos_col] = 1 - p_pos
    return ClassifierScores(y=y, proba=proba, classes=cls, positive=positive)


def sklearn_metrics(y: np.ndarray, proba: np.ndarray, classes: np.ndarray, positive: object) -> dict[str, float]:
    pos_col = int(np.flatnonzero(classes == positive)[0])
    neg = classes[1 - pos_col]
    y_pred = np.where(proba[:, pos_col] > 0.5, positive, neg)
    y_bin = (y == positive).astype(int)
    return {
        "accuracy": skm.accuracy_score(y, y_pred),
        "precision": skm.precision_score(y, y_pred, pos_label=positive, zero_division=0),
        "recall": skm.recall_score(y, y_pred, pos_label=positive, zero_division=0),
        "f1": skm.f1_score(y, y_pred, pos_label=positive, zero_division=0),
        "roc_auc": skm.roc_auc_score(y_bin, proba[:, pos_col]),
        "log_loss": skm.log_loss(y, proba, labels=classes),
        "brier": skm.brier_score_loss(y_bin, proba[:, pos_col]),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_metrics_equal_sklearn(seed: int) -> None:
    scores = random_scores(seed)
    assert len(np.unique(scores.positive_score)) < len(scores.y) / 10  # ties are present
    ours = scalar(classification_metrics(scores))
    theirs = sklearn_metrics(scores.y, scores.proba, scores.classes, scores.positive)
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_positive_label_that_is_not_the_last_class() -> None:
    scores = random_scores(5, classes=("ham", "spam"), positive="ham")
    ours = scalar(classification_metrics(scores))
    theirs = sklearn_metrics(scores.y, scores.proba, scores.classes, scores.positive)
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_classification_metrics_on_resamples_equal_sklearn() -> None:
    scores = random_scores(11, n=150)
    rng = np.random.default_rng(3)
    rows = rng.integers(0, len(scores.y), size=(6, len(scores.y)))
    ours = classification_metrics(scores, rows)
    for b in range(rows.shape[0]):
        r = rows[b]
        theirs = sklearn_metrics(scores.y[r], scores.proba[r], scores.classes, scores.positive)
        for name, value in theirs.items():
            assert ours[name].shape == (rows.shape[0],)
            assert ours[name][b] == pytest.approx(value, rel=1e-9, abs=1e-12), (name, b)


def test_roc_auc_is_nan_when_one_class_only() -> None:
    scores = random_scores(4, n=20)
    only_negatives = np.flatnonzero(scores.y != scores.positive)
    rows = np.resize(only_negatives, (1, len(scores.y)))
    assert np.isnan(classification_metrics(scores, rows)["roc_auc"][0])


def test_forecast_metrics_equal_numpy_and_sklearn() -> None:
    rng = np.random.default_rng(8)
    actual = rng.uniform(50, 150, size=(30, 7))
    predicted = actual + rng.normal(0, 10, size=actual.shape)
    ours = scalar(forecast_metrics(actual, predicted))
    a, p = actual.ravel(), predicted.ravel()
    assert ours["rmse"] == pytest.approx(np.sqrt(np.mean((p - a) ** 2)))
    assert ours["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(a, p)))
    assert ours["mae"] == pytest.approx(skm.mean_absolute_error(a, p))
    assert ours["mape"] == pytest.approx(skm.mean_absolute_percentage_error(a, p))
    assert ours["r2"] == pytest.approx(skm.r2_score(a, p))


def test_forecast_metrics_on_resampled_origins() -> None:
    rng = np.random.default_rng(9)
    actual = rng.uniform(50, 150, size=(12, 3))
    predicted = actual + rng.normal(0, 5, size=actual.shape)
    rows = rng.integers(0, 12, size=(4, 12))
    ours = forecast_metrics(actual, predicted, rows)
    for b in range(4):
        a, p = actual[rows[b]].ravel(), predicted[rows[b]].ravel()
        assert ours["rmse"][b] == pytest.approx(np.sqrt(skm.mean_squared_error(a, p)))
        assert ours["mae"][b] == pytest.approx(skm.mean_absolute_error(a, p))
        assert ours["r2"][b] == pytest.approx(skm.r2_score(a, p))


def test_mape_skips_zero_actuals() -> None:
    actual = np.array([[0.0, 10.0], [20.0, 0.0]])
    predicted = np.array([[5.0, 12.0], [15.0, 1.0]])
    expected = np.mean([2 / 10, 5 / 20])
    assert scalar(forecast_metrics(actual, predicted))["mape"] == pytest.approx(expected)


# --- three or more classes ---------------------------------------------------------------


def multiclass_scores(seed: int, n: int = 400, classes: tuple = (0, 1, 2), rounding: int = 1) -> ClassifierScores:
    """Probabilities that lean to the true class, rounded so that scores tie often."""
    rng = np.random.default_rng(seed)
    cls = np.array(sorted(classes), dtype=object if isinstance(classes[0], str) else None)  # as recipes give
    k = len(cls)
    truth = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), truth] += rng.uniform(0, 2)
    proba = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), rounding) + 1e-3
    proba /= proba.sum(axis=1, keepdims=True)
    return ClassifierScores(y=cls[truth], proba=proba, classes=cls, positive=cls[-1])


def sklearn_multiclass(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    y_pred = classes[np.argmax(proba, axis=1)]
    return {
        "accuracy": skm.accuracy_score(y, y_pred),
        "precision": skm.precision_score(y, y_pred, average="macro", zero_division=0),
        "recall": skm.recall_score(y, y_pred, average="macro", zero_division=0),
        "f1": skm.f1_score(y, y_pred, average="macro", zero_division=0),
        "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes),
        "log_loss": skm.log_loss(y, proba, labels=classes),
        "brier": skm.brier_score_loss(y, proba, labels=classes),  # multi-class: not halved, 0-2
    }


@pytest.mark.parametrize(
    ("seed", "classes"),
    [(0, (0, 1, 2)), (1, ("ham", "other", "spam")), (2, (3, 5, 8, 13)), (3, ("a", "b", "c", "d", "e")),
     (4, ("Éclair", "Zürich", "ß", "東京"))],
)
def test_multiclass_metrics_equal_sklearn(seed: int, classes: tuple) -> None:
    scores = multiclass_scores(seed, classes=classes)
    assert len(np.unique(scores.proba[:, 0])) < len(scores.y) / 4  # ties are present
    ours = scalar(classification_metrics(scores))
    theirs = sklearn_multiclass(scores.y, scores.proba, scores.classes)
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_multiclass_metrics_on_resamples_equal_sklearn() -> None:
    scores = multiclass_scores(7, n=120, classes=("x", "y", "z", "w"))
    rng = np.random.default_rng(1)
    rows = rng.integers(0, len(scores.y), size=(8, len(scores.y)))
    ours = classification_metrics(scores, rows)
    for b in range(rows.shape[0]):
        r = rows[b]
        theirs = sklearn_multiclass(scores.y[r], scores.proba[r], scores.classes)
        for name, value in theirs.items():
            assert ours[name].shape == (rows.shape[0],)
            assert ours[name][b] == pytest.approx(value, rel=1e-9, abs=1e-12), (name, b)


def test_macro_averages_over_the_classes_a_resample_holds() -> None:
    """A class absent from both truth and predictions of a resample does not count (as in
    scikit-learn); one-vs-rest ROC AUC averages the classes that have positives."""
    scores = multiclass_scores(9, n=90, classes=(0, 1, 2, 3))
    kept = np.flatnonzero((scores.y != 3) & (scores.predicted != 3))
    rows = np.resize(kept, (1, len(scores.y)))
    ours = scalar(classification_metrics(scores, rows))
    y, proba = scores.y[rows[0]], scores.proba[rows[0]]
    y_pred = scores.classes[np.argmax(proba, axis=1)]
    assert ours["f1"] == pytest.approx(skm.f1_score(y, y_pred, average="macro", zero_division=0))
    assert ours["precision"] == pytest.approx(skm.precision_score(y, y_pred, average="macro", zero_division=0))
    per_class = [skm.roc_auc_score(y == c, proba[:, c]) for c in (0, 1, 2)]
    assert ours["roc_auc"] == pytest.approx(np.mean(per_class))


def test_multiclass_brier_ranges_to_two() -> None:
    classes = np.array(["a", "b", "c"], dtype=object)
    y = np.array(["a", "b", "c"], dtype=object)
    sure_and_wrong = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    ours = scalar(classification_metrics(ClassifierScores(y, sure_and_wrong, classes, "c")))
    assert ours["brier"] == pytest.approx(2.0)
    assert ours["accuracy"] == 0.0 and ours["f1"] == 0.0
    assert ours["roc_auc"] == pytest.approx(skm.roc_auc_score(y, sure_and_wrong, multi_class="ovr", labels=classes))
    right = scalar(classification_metrics(ClassifierScores(y, np.eye(3), classes, "c")))
    assert right["brier"] == 0.0 and right["f1"] == 1.0 and right["roc_auc"] == 1.0


def test_mcnemar_counts_correctness_for_any_number_of_classes() -> None:
    old, new = multiclass_scores(11, classes=(0, 1, 2, 3, 4)), multiclass_scores(12, classes=(0, 1, 2, 3, 4))
    new = ClassifierScores(old.y, new.proba, new.classes, new.positive)
    result = mcnemar_exact(old.correct, new.correct)
    assert result.challenger_only == int(np.sum((new.predicted == old.y) & (old.predicted != old.y)))
    assert result.champion_only == int(np.sum((old.predicted == old.y) & (new.predicted != old.y)))


# --- regression -----------------------------------------------------------------------------


def regression_scores(seed: int, n: int = 200) -> RegressorScores:
    rng = np.random.default_rng(seed)
    y = rng.lognormal(3.0, 0.5, size=n)
    return RegressorScores(y, y + rng.normal(0, 4.0, size=n))


@pytest.mark.parametrize("seed", [0, 1])
def test_regression_metrics_equal_sklearn(seed: int) -> None:
    scores = regression_scores(seed)
    ours = scalar(regression_metrics(scores))
    assert list(ours) == REGRESSION_METRICS
    assert ours["rmse"] == pytest.approx(skm.root_mean_squared_error(scores.y, scores.predicted), rel=1e-12)
    assert ours["mae"] == pytest.approx(skm.mean_absolute_error(scores.y, scores.predicted), rel=1e-12)
    assert ours["r2"] == pytest.approx(skm.r2_score(scores.y, scores.predicted), rel=1e-12)
    assert ours["mape"] == pytest.approx(skm.mean_absolute_percentage_error(scores.y, scores.predicted), rel=1e-12)


def test_regression_metrics_on_resamples_equal_sklearn() -> None:
    scores = regression_scores(3, n=60)
    rows = np.random.default_rng(4).integers(0, 60, size=(5, 60))
    ours = regression_metrics(scores, rows, ["r2", "mae", "rmse"])
    assert list(ours) == ["rmse", "mae", "r2"]
    for b in range(5):
        y, p = scores.y[rows[b]], scores.predicted[rows[b]]
        assert ours["rmse"][b] == pytest.approx(skm.root_mean_squared_error(y, p), rel=1e-12)
        assert ours["mae"][b] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-12)
        assert ours["r2"][b] == pytest.approx(skm.r2_score(y, p), rel=1e-12)


def test_regression_mape_only_where_defined_and_r2_of_a_constant() -> None:
    scores = RegressorScores(np.array([0, 2, 4, 6]), np.array([1.0, 2.5, 3.0, 6.0]))  # ints are fine
    ours = scalar(regression_metrics(scores))
    assert "mape" not in ours and not scores.mape_defined
    assert ours["rmse"] == pytest.approx(np.sqrt((1 + 0.25 + 1) / 4))
    same_row = np.array([[1, 1, 1, 1]])
    assert np.isnan(regression_metrics(scores, same_row)["r2"][0])  # nothing to explain
    with pytest.raises(ValueError, match="3 predictions for 4"):
        RegressorScores(np.arange(4.0), np.arange(3.0))


# --- McNemar ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_mcnemar_equals_scipy_binomtest(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    champion = rng.random(n) < 0.7
    challenger = rng.random(n) < rng.uniform(0.6, 0.85)
    result = mcnemar_exact(champion, challenger)
    b = int(np.sum(challenger & ~champion))
    c = int(np.sum(champion & ~challenger))
    assert (result.challenger_only, result.champion_only) == (b, c)
    expected = stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-10)


def test_mcnemar_without_disagreement() -> None:
    same = np.array([True, False, True, True])
    assert mcnemar_exact(same, same).p_value == 1.0


# --- Diebold-Mariano --------------------------------------------------------------------


def reference_dm(champion_loss: np.ndarray, challenger_loss: np.ndarray, h: int) -> tuple[float, float]:
    """Textbook DM (Newey-West, Bartlett weights, lag h-1) with the HLN correction."""
    d = [float(x) - float(y) for x, y in zip(champion_loss, challenger_loss, strict=True)]
    n = len(d)
    mean = sum(d) / n

    def autocov(k: int) -> float:
        return sum((d[i] - mean) * (d[i - k] - mean) for i in range(k, n)) / n

    lag = h - 1
    long_run = autocov(0) + 2 * sum((1 - k / (lag + 1)) * autocov(k) for k in range(1, lag + 1))
    dm = mean / (long_run / n) ** 0.5
    hln = ((n + 1 - 2 * h + h * (h - 1) / n) / n) ** 0.5
    statistic = dm * hln
    return statistic, float(stats.t.sf(statistic, df=n - 1))


@pytest.mark.parametrize(("seed", "h"), [(0, 1), (1, 3), (2, 7), (3, 7)])
def test_diebold_mariano_equals_reference(seed: int, h: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    base = rng.gamma(2.0, 1.0, size=n)
    champion = base + rng.normal(0, 0.5, size=n) ** 2
    challenger = base + rng.normal(0.1, 0.5, size=n) ** 2
    result = diebold_mariano(champion, challenger, h)
    statistic, p = reference_dm(champion, challenger, h)
    assert result.origins == n
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    assert result.p_value == pytest.approx(p, rel=1e-9)


def test_diebold_mariano_small_p_for_clearly_better_challenger() -> None:
    rng = np.random.default_rng(21)
    champion = rng.gamma(2.0, 1.0, size=35) + 1.0
    challenger = champion * 0.6 + rng.normal(0, 0.05, size=35)
    assert diebold_mariano(champion, challenger, 7).p_value < 0.01
    assert diebold_mariano(challenger, champion, 7).p_value > 0.99  # the other way round


def test_diebold_mariano_is_calibrated_under_the_null() -> None:
    rng = np.random.default_rng(12345)
    trials, n = 300, 40
    p_values = np.array([
        diebold_mariano(rng.normal(1.0, 1.0, n), rng.normal(1.0, 1.0, n), 1).p_value for _ in range(trials)
    ])
    rate = (p_values < 0.05).mean()
    assert 0.02 <= rate <= 0.09
    # roughly uniform: each quarter of [0, 1] holds a fair share
    counts = np.histogram(p_values, bins=4, range=(0, 1))[0]
    assert counts.min() > trials / 4 * 0.6


@pytest.mark.parametrize(("n", "h"), [(8, 7), (10, 7), (13, 7), (5, 4)])
def test_diebold_mariano_keeps_the_small_sample_factor_below_two_horizons(n: int, h: int) -> None:
    """Between h + 1 and 2h origins the HLN factor is defined and matters most."""
    rng = np.random.default_rng(n)
    champion = rng.gamma(2.0, 1.0, size=n) + 0.5
    challenger = champion - 0.3 + rng.normal(0, 0.5, size=n)
    result = diebold_mariano(champion, challenger, h)
    statistic, p = reference_dm(champion, challenger, h)
    assert result.enough_origins
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    assert result.p_value == pytest.approx(p, rel=1e-9)


def test_diebold_mariano_size_with_overlapping_horizons_and_few_origins() -> None:
    """Loss differentials that overlap over 7 steps, 10 and 12 origins, no true difference:
    without the small-sample factor about 30% of these were significant at 0.05."""
    rng = np.random.default_rng(7)
    for n in (10, 12):
        p_values = []
        for _ in range(400):
            d = np.convolve(rng.normal(size=n + 6), np.ones(7), "valid")  # MA(6)
            p_values.append(diebold_mariano(d + 5.0, np.full(n, 5.0), 7).p_value)
        assert np.mean(np.array(p_values) < 0.05) < 0.17, n


@pytest.mark.parametrize(("n", "h"), [(7, 7), (5, 7), (3, 3), (2, 1)])
def test_diebold_mariano_needs_more_origins_than_the_horizon(n: int, h: int) -> None:
    rng = np.random.default_rng(0)
    champion = rng.gamma(2.0, 1.0, size=n) + 10
    result = diebold_mariano(champion, champion - 5, h)  # clearly better, but untestable
    assert not result.enough_origins and result.p_value == 1.0
    assert np.isnan(result.interval(0.05)).all()
    assert min_periods_for_dm(h) - h + 1 > h  # the periods it asks for give enough origins


def test_diebold_mariano_degenerate_inputs() -> None:
    assert diebold_mariano(np.ones(10) * 2, np.ones(10), 1).p_value == 0.0  # always better
    assert diebold_mariano(np.ones(10), np.ones(10), 1).p_value == 1.0  # identical
    assert diebold_mariano(np.array([1.0, 2.0]), np.array([0.0, 0.0]), 1).p_value == 1.0  # too few


# --- paired bootstrap --------------------------------------------------------------------


def mean_metric(champion_rows: np.ndarray, challenger_rows: np.ndarray):  # type: ignore[no-untyped-def]
    def metrics_of(rows: np.ndarray):  # type: ignore[no-untyped-def]
        return {"loss": champion_rows[rows].mean(axis=1)}, {"loss": challenger_rows[rows].mean(axis=1)}

    return metrics_of


def test_bootstrap_interval_contains_known_shift() -> None:
    rng = np.random.default_rng(4)
    n, shift = 400, -0.3
    champion = rng.normal(2.0, 1.0, n)
    challenger = champion + shift + rng.normal(0, 0.2, n)
    result = paired_bootstrap(n, mean_metric(champion, challenger), {"loss": False}, samples=2000, seed=1)
    assert result.delta["loss"] == pytest.approx(challenger.mean() - champion.mean())
    assert result.low["loss"] < shift < result.high["loss"]
    # width close to the normal approximation of the paired difference
    se = np.std(challenger - champion, ddof=1) / np.sqrt(n)
    assert result.high["loss"] - result.low["loss"] == pytest.approx(2 * 1.96 * se, rel=0.15)
    assert result.p_better["loss"] < 0.001


def test_bootstrap_no_improvement_has_large_p() -> None:
    rng = np.random.default_rng(5)
    n = 300
    champion = rng.normal(2.0, 1.0, n)
    same = paired_bootstrap(n, mean_metric(champion, champion.copy()), {"loss": False}, samples=500, seed=2)
    assert same.p_better["loss"] == 1.0
    worse = paired_bootstrap(n, mean_metric(champion, champion + 0.05 + rng.normal(0, 0.3, n)),
                             {"loss": False}, samples=500, seed=2)
    assert worse.p_better["loss"] > 0.5


def test_bootstrap_direction_higher_is_better() -> None:
    rng = np.random.default_rng(6)
    n = 300
    champion = (rng.random(n) < 0.7).astype(float)
    challenger = np.where(rng.random(n) < 0.5, 1.0, champion)  # fixes half of the mistakes
    result = paired_bootstrap(n, mean_metric(champion, challenger), {"loss": True}, samples=1000, seed=0)
    assert result.delta["loss"] > 0
    assert result.p_better["loss"] < 0.01
    flipped = paired_bootstrap(n, mean_metric(champion, challenger), {"loss": False}, samples=1000, seed=0)
    assert flipped.p_better["loss"] > 0.99


def test_bootstrap_deterministic_for_fixed_seed() -> None:
    rng = np.random.default_rng(7)
    n = 100
    champion, challenger = rng.normal(size=n), rng.normal(size=n)
    run = lambda seed: paired_bootstrap(n, mean_metric(champion, challenger), {"loss": False}, 300, seed)  # noqa: E731
    assert run(3) == run(3)
    assert run(3).low != run(4).low


def test_bootstrap_chunks_give_all_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    import champion.evaluation.paired_tests as paired

    seen: list[int] = []
    rng = np.random.default_rng(8)
    values = rng.normal(size=50)

    def metrics_of(rows: np.ndarray):  # type: ignore[no-untyped-def]
        seen.append(rows.shape[0])
        return {"m": values[rows].mean(axis=1)}, {"m": values[rows].mean(axis=1) + 1}

    monkeypatch.setattr(paired, "MAX_CELLS", 50 * 7)  # chunks of 7 resamples
    paired.paired_bootstrap(50, metrics_of, {"m": True}, samples=30, seed=0)
    assert sum(seen[:-1]) == 30  # the last call scores the full golden set
    assert max(seen[:-1]) == 7


# --- intervals that agree with their tests -------------------------------------------------


@pytest.mark.parametrize(("b", "c", "alpha"), [(30, 12, 0.05), (5, 0, 0.025), (0, 4, 0.05), (17, 17, 0.1)])
def test_mcnemar_interval_is_clopper_pearson_of_the_discordant_share(b: int, c: int, alpha: float) -> None:
    champion = np.r_[np.zeros(b, bool), np.ones(c, bool), np.ones(50, bool)]
    challenger = np.r_[np.ones(b, bool), np.zeros(c, bool), np.ones(50, bool)]
    result = mcnemar_exact(champion, challenger)
    rows = len(champion)
    low, high = result.accuracy_interval(alpha, rows)
    share = stats.binomtest(b, b + c, 0.5).proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
    scale = (b + c) / rows
    assert low == pytest.approx((2 * share.low - 1) * scale, abs=1e-12)
    assert high == pytest.approx((2 * share.high - 1) * scale, abs=1e-12)
    assert low <= (b - c) / rows <= high  # the accuracy difference lies inside
    assert (low > 0) == (result.p_value < alpha)


@pytest.mark.parametrize(("b", "c"), [(9, 1), (14, 5), (20, 9), (8, 0), (40, 25)])
def test_mcnemar_interval_and_p_value_agree_at_the_boundary(b: int, c: int) -> None:
    result = mcnemar_exact(np.r_[np.zeros(b, bool), np.ones(c, bool)], np.r_[np.ones(b, bool), np.zeros(c, bool)])
    p = result.p_value
    for alpha in (p, np.nextafter(p, 1.0), np.nextafter(p, 0.0), p * 1.001, p * 0.999):
        if not 0 < alpha < 0.5:
            continue
        low, _ = result.accuracy_interval(alpha, b + c)
        assert (low > 0) == (p < alpha), (b, c, alpha)


def reference_dm_interval(champion_loss: np.ndarray, challenger_loss: np.ndarray, h: int,
                          alpha: float) -> tuple[float, float]:
    """mean(challenger - champion) -/+ t(1 - alpha, n - 1) * HAC standard error / HLN factor."""
    statistic, _ = reference_dm(champion_loss, challenger_loss, h)
    d = np.asarray(champion_loss) - np.asarray(challenger_loss)
    n = len(d)
    std_error = d.mean() / statistic  # the statistic is mean / (HAC se / HLN factor)
    half = stats.t.ppf(1 - alpha, df=n - 1) * std_error
    return -d.mean() - half, -d.mean() + half


@pytest.mark.parametrize(("seed", "h", "alpha"), [(0, 1, 0.05), (1, 3, 0.05), (2, 7, 0.025), (3, 7, 0.1)])
def test_diebold_mariano_interval_equals_direct_computation(seed: int, h: int, alpha: float) -> None:
    rng = np.random.default_rng(seed)
    n = 36
    champion = rng.gamma(2.0, 1.0, size=n) + rng.normal(0, 0.5, size=n) ** 2
    challenger = champion - 0.2 + rng.normal(0, 0.6, size=n)
    result = diebold_mariano(champion, challenger, h)
    low, high = result.interval(alpha)
    ref_low, ref_high = reference_dm_interval(champion, challenger, h, alpha)
    assert low == pytest.approx(ref_low, rel=1e-9)
    assert high == pytest.approx(ref_high, rel=1e-9)
    assert result.mean_difference == pytest.approx(np.mean(challenger - champion))
    assert (high < 0) == (result.p_value < alpha)


@pytest.mark.parametrize("seed", range(6))
def test_diebold_mariano_interval_and_p_value_agree_at_the_boundary(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, h = int(rng.integers(5, 50)), int(rng.integers(1, 8))
    champion = rng.gamma(2.0, 1.0, size=n)
    challenger = champion - rng.uniform(0, 0.5) + rng.normal(0, 0.8, size=n)
    result = diebold_mariano(champion, challenger, h)
    p = result.p_value
    for alpha in (p, np.nextafter(p, 1.0), np.nextafter(p, 0.0), p * (1 + 1e-12), p * (1 - 1e-12)):
        if not 0 < alpha < 0.5:
            continue
        _, high = result.interval(alpha)
        assert (high < 0) == (p < alpha), (seed, alpha)


def test_diebold_mariano_degenerate_intervals() -> None:
    always_better = diebold_mariano(np.ones(10) * 2, np.ones(10), 1)
    assert always_better.interval(0.05) == (-1.0, -1.0)
    assert diebold_mariano(np.ones(10), np.ones(10), 1).interval(0.05) == (0.0, 0.0)
    assert np.isnan(diebold_mariano(np.array([1.0, 2.0]), np.zeros(2), 1).interval(0.05)).all()


@pytest.mark.parametrize("higher", [True, False])
def test_bootstrap_interval_agrees_with_p_value_at_the_plus_one_edge(higher: bool) -> None:
    """p = (not better + 1) / (B + 1) < alpha exactly when the interval's better end passes 0,
    including at alpha = p itself (not significant) and just above it (significant)."""
    rng = np.random.default_rng(10)
    n = 80
    champion = rng.normal(0, 1, n)
    shift = 0.25 if higher else -0.25
    for scale in (0.5, 1.0, 1.5, 2.0):
        challenger = champion + scale * shift + rng.normal(0, 1, n)
        boot = paired_bootstrap(n, mean_metric(champion, challenger), {"loss": higher}, samples=400, seed=3)
        d = boot.samples["loss"]
        not_better = int(np.sum(d <= 0 if higher else d >= 0))
        p_edge = (not_better + 1) / (len(d) + 1)
        for alpha in (p_edge, np.nextafter(p_edge, 1.0), p_edge + 1 / 401, p_edge - 1 / 401, 0.025, 0.05):
            if not 0 < alpha < 0.5:
                continue
            p, (low, high) = boot.one_sided("loss", higher, alpha)
            assert p == p_edge == boot.p_better["loss"]
            better_side = low > 0 if higher else high < 0
            assert better_side == (p < alpha), (scale, alpha)
            assert not low > high  # NaN when alpha < 1 / (B + 1): no resample count can pass


def test_bootstrap_one_sided_interval_is_the_percentile_interval() -> None:
    rng = np.random.default_rng(11)
    champion = rng.normal(0, 1, 300)
    boot = paired_bootstrap(300, mean_metric(champion, champion - 0.1 + rng.normal(0, 1, 300)), {"loss": False},
                            samples=2000, seed=0)
    _, (low, high) = boot.one_sided("loss", False, 0.05)
    d = boot.samples["loss"]
    assert low == pytest.approx(np.quantile(d, 0.05), abs=2 * np.std(d) / 100)
    assert high == pytest.approx(np.quantile(d, 0.95), abs=2 * np.std(d) / 100)
    assert np.mean(d <= low) == pytest.approx(0.05, abs=0.002)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(2, 60), k=st.integers(3, 6), grid=st.integers(1, 3))
def test_one_vs_rest_auc_on_any_resample_equals_sklearn(seed: int, n: int, k: int, grid: int) -> None:
    """Any labels, heavy ties, resamples that miss classes: the macro one-vs-rest AUC is the
    mean of scikit-learn's per-class AUC over the classes with positives and negatives."""
    rng = np.random.default_rng(seed)
    classes = np.arange(k)
    y = rng.integers(0, k, n)
    proba = np.round(rng.dirichlet(np.ones(k), size=n), grid)
    scores = ClassifierScores(y, proba, classes, k - 1)
    rows = rng.integers(0, n, size=(3, n))
    ours = classification_metrics(scores, rows, ["roc_auc"])["roc_auc"]
    for b in range(3):
        r = rows[b]
        per_class = [skm.roc_auc_score(y[r] == c, proba[r, c]) for c in classes if 0 < np.sum(y[r] == c) < n]
        if per_class:
            assert ours[b] == pytest.approx(np.mean(per_class), rel=1e-9, abs=1e-12)
        else:
            assert np.isnan(ours[b])


def test_labels_that_mix_numbers_and_text_are_scored_like_any_others() -> None:
    """`labels = [0, "spam"]` is allowed: the same metrics as with [0, 1] on the same answers."""
    from champion.evaluation.metrics import ClassifierScores, classification_metrics, scalar

    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.5 * y + rng.uniform(0, 0.5, 300), 0, 1)
    proba = np.column_stack([1 - p, p])
    numbers = scalar(classification_metrics(ClassifierScores(y, proba, np.array([0, 1]), 1)))
    mixed_y = np.array([0 if v == 0 else "spam" for v in y], dtype=object)
    mixed = scalar(classification_metrics(ClassifierScores(mixed_y, proba, np.array([0, "spam"], dtype=object),
                                                           "spam")))
    assert mixed == pytest.approx(numbers)
