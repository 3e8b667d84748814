"""Drift detectors against scipy on known distributions, and their error rates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from champion.monitoring.drift import (
    CategoryCounts,
    ChiSquareTest,
    JensenShannonTest,
    KSTest,
    PSITest,
    WassersteinTest,
    detector_for,
)
from champion.monitoring.text import DomainClassifierTest, oov_rate, text_profile

RNG = np.random.default_rng(7)
REF = RNG.normal(10, 2, 3000)
SHIFTED = RNG.normal(11, 2, 2000)


def test_ks_matches_scipy() -> None:
    result = KSTest().fit(REF).test(SHIFTED)
    expected = stats.ks_2samp(REF, SHIFTED)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.drifted and result.threshold == 0.05


def test_wasserstein_is_normalized_by_the_reference_std() -> None:
    result = WassersteinTest().fit(REF).test(SHIFTED)
    assert result.statistic == pytest.approx(stats.wasserstein_distance(REF, SHIFTED) / np.std(REF), rel=1e-9)
    assert result.p_value is None and result.drifted  # a 0.5 std shift is far above 0.1


def test_wasserstein_on_ties_and_unequal_sizes() -> None:
    ref = RNG.integers(0, 50, 777).astype(float)
    cur = RNG.integers(5, 60, 1234).astype(float)
    result = WassersteinTest().fit(ref).test(cur)
    assert result.statistic == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-9)


def test_wasserstein_on_equal_sizes_with_ties() -> None:
    ref = RNG.integers(0, 30, 5000).astype(float)
    cur = RNG.integers(3, 40, 5000).astype(float)
    result = WassersteinTest().fit(ref).test(cur)
    assert result.statistic == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-9)


def test_category_counts_agree_on_small_and_large_inputs() -> None:
    values = list(RNG.choice(["a", "b", "c", None], 30_000))  # large lists are counted by pandas
    large = CategoryCounts.of(values)
    small = CategoryCounts.of(values[:5000])
    from collections import Counter

    assert large.counts == dict(Counter(v for v in values if v is not None)) and large.total == 30_000
    assert small.counts == dict(Counter(v for v in values[:5000] if v is not None))


def test_psi_by_its_definition() -> None:
    ref = np.array([0.0] * 50 + [1.0] * 50)  # few values: one bin per value
    cur = np.array([0.0] * 90 + [1.0] * 10)
    expected = (0.5 - 0.9) * np.log(0.5 / 0.9) + (0.5 - 0.1) * np.log(0.5 / 0.1)
    assert PSITest().fit(ref).test(cur).statistic == pytest.approx(expected, rel=1e-12)


def test_psi_on_binned_numbers_is_small_without_drift_and_large_with_it() -> None:
    same = PSITest().fit(REF).test(RNG.normal(10, 2, 3000))
    moved = PSITest().fit(REF).test(SHIFTED)
    assert same.statistic < 0.1 <= moved.statistic
    assert not same.drifted and moved.drifted


def test_chi_square_matches_scipy_homogeneity_test() -> None:
    ref = ["a"] * 500 + ["b"] * 300 + ["c"] * 200
    cur = ["a"] * 100 + ["b"] * 150 + ["c"] * 50
    result = ChiSquareTest().fit(ref).test(cur)
    expected = stats.chi2_contingency([[500, 300, 200], [100, 150, 50]], correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.drifted


def test_chi_square_with_an_unseen_category_is_drift() -> None:
    result = ChiSquareTest().fit(["a", "b"] * 100).test(["a", "b", "z"] * 30)
    assert result.p_value < 1e-6 and result.drifted


def test_jensen_shannon_matches_scipy_for_categories() -> None:
    ref = ["x"] * 70 + ["y"] * 30
    cur = ["x"] * 40 + ["y"] * 40 + ["w"] * 20
    result = JensenShannonTest().fit(ref).test(cur)
    expected = distance.jensenshannon([0, 0.7, 0.3], [0.2, 0.4, 0.4])
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.drifted


def test_auto_follows_the_reference_size_and_kind() -> None:
    assert detector_for("numeric", reference_rows=800).method == "ks"
    assert detector_for("numeric", reference_rows=5000).method == "wasserstein"
    assert detector_for("numeric", reference_rows=5000, distinct_values=3).method == "jensenshannon"
    assert detector_for("categorical", reference_rows=800).method == "chi2"
    assert detector_for("categorical", reference_rows=5000).method == "jensenshannon"
    assert detector_for("text").method == "domain_classifier"
    assert detector_for("numeric", "psi", threshold=0.2).threshold_ == 0.2
    with pytest.raises(ValueError, match="tests numbers"):
        detector_for("categorical", "ks")


@pytest.mark.parametrize("kind, method, draw", [
    ("numeric", "ks", lambda rng, n: rng.normal(0, 1, n)),
    ("numeric", "wasserstein", lambda rng, n: rng.gamma(2.0, 1.0, n)),
    ("numeric", "psi", lambda rng, n: rng.normal(0, 1, n)),
    ("categorical", "chi2", lambda rng, n: rng.choice(list("abcde"), n, p=[.4, .3, .15, .1, .05])),
    ("categorical", "jensenshannon", lambda rng, n: rng.choice(list("abcde"), n, p=[.4, .3, .15, .1, .05])),
])
def test_no_alert_on_the_reference_distribution_and_alert_on_a_shift(kind, method, draw) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    reference = draw(rng, 5000 if method != "ks" and method != "chi2" else 1000)
    detector = detector_for(kind, method).fit(reference)
    trials = 400  # windows of 1,000 rows, the default window
    alarms = sum(detector.test(draw(rng, 1000)).drifted for _ in range(trials))
    if method in ("ks", "chi2"):
        # A level-0.05 test alarms on 5% of null windows by design; allow two binomial
        # standard errors of sampling noise around that rate.
        assert alarms / trials <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / trials)
    else:
        assert alarms / trials <= 0.05
    if kind == "numeric":
        shifted = draw(rng, 500) + 0.6 * np.std(reference)
    else:
        shifted = rng.choice(list("abcde"), 500, p=[.1, .2, .2, .2, .3])
    assert detector.test(shifted).drifted


SPAM = ["check out my channel", "subscribe to me for free gift cards", "click this link to win",
        "visit my page for cheap followers", "free iphone giveaway subscribe now"]
MUSIC = ["this song is amazing", "love the beat of this track", "best music video ever",
         "the chorus is so catchy", "i listen to this every day"]


def _corpus(templates: list[str], n: int, rng: np.random.Generator) -> list[str]:
    extra = ["really", "so", "wow", "yes", "today", "again", "now"]
    return [f"{templates[i % len(templates)]} {rng.choice(extra)} {rng.choice(extra)}"
            for i in rng.integers(0, len(templates), n)]


def test_domain_classifier_tells_topics_apart_and_not_a_resample() -> None:
    rng = np.random.default_rng(3)
    reference = _corpus(SPAM + MUSIC, 1500, rng)
    same = DomainClassifierTest().fit(reference).test(_corpus(SPAM + MUSIC, 800, rng))
    moved = DomainClassifierTest().fit(reference).test(_corpus(MUSIC, 800, rng) + ["eminem rap god"] * 400)
    assert same.statistic < 0.55 and not same.drifted
    assert moved.statistic > 0.6 and moved.drifted


def test_text_profile_and_out_of_vocabulary_rate() -> None:
    profile = text_profile(["hello world", "hello there", "brave new world", ""])
    assert "hello" in profile["vocabulary"] and profile["stats"]["empty_share"] == 0.25
    assert oov_rate(["hello unknownword"], set(profile["vocabulary"])) == 0.5


@pytest.mark.parametrize("draw", [
    lambda rng, n: rng.normal(size=n),                            # many values: Sturges bins
    lambda rng, n: rng.integers(0, 100, n).astype(float),
    lambda rng, n: rng.integers(0, 8, n).astype(float),           # few values: one bin each
])
def test_binned_shares_equal_numpys_histogram(draw) -> None:  # type: ignore[no-untyped-def]
    from champion.monitoring.drift import binned_shares

    rng = np.random.default_rng(2)
    ref, cur = draw(rng, 700), draw(rng, 1900) + 1
    if len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        expected = (np.histogram(ref, edges)[0] / 700, np.histogram(cur, edges)[0] / 1900)
    else:
        keys = np.union1d(ref, cur)
        expected = (np.array([np.sum(ref == k) for k in keys]) / 700, np.array([np.sum(cur == k) for k in keys]) / 1900)
    got = binned_shares(np.sort(ref), np.sort(cur), fill_zeroes=False)
    assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])


def test_infinite_and_missing_values_are_left_out() -> None:
    clean = WassersteinTest().fit(REF).test(SHIFTED)
    dirty = WassersteinTest().fit(np.r_[REF, np.inf, np.nan]).test(np.r_[SHIFTED, -np.inf, np.nan])
    assert dirty.statistic == clean.statistic
    assert PSITest().fit(np.r_[REF, np.inf]).test(SHIFTED).statistic == PSITest().fit(REF).test(SHIFTED).statistic
