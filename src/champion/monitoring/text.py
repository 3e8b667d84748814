"""Text drift: descriptive statistics and a domain classifier.

The domain classifier learns to tell reference texts from current ones (TF-IDF and a linear
model, as Evidently's text content drift); a ROC AUC near 0.5 means it cannot, so the texts
look alike. Each side is sampled down to `max_rows` first: the AUC of 5,000 against 5,000
texts is already known to about +-0.01, and the cost stays flat as windows grow.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from champion.monitoring.drift import DriftResult, DriftTest

TOKEN = re.compile(r"(?u)\b\w\w+\b")
"""scikit-learn's default token pattern."""


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


class DomainClassifierTest(DriftTest):
    """Drift when a classifier separates current from reference texts with ROC AUC >= threshold."""

    method = "domain_classifier"

    def __init__(self, threshold: float | None = None, max_rows: int = 5000, seed: int = 42) -> None:
        super().__init__(threshold)
        self.max_rows = max_rows
        self.seed = seed

    def fit(self, reference: Any) -> Self:
        self.reference_ = _texts(sample(list(reference), self.max_rows, self.seed))
        return self

    def test(self, current: Any) -> DriftResult:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import SGDClassifier
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import Pipeline

        texts = _texts(sample(list(current), self.max_rows, self.seed + 1))
        if len(self.reference_) < 2 or len(texts) < 2:
            return DriftResult(self.method, float("nan"), None, self.threshold_, False)
        everything = self.reference_ + texts
        labels = np.r_[np.zeros(len(self.reference_)), np.ones(len(texts))]
        train_x, test_x, train_y, test_y = train_test_split(
            everything, labels, test_size=0.5, random_state=self.seed, shuffle=True)
        pipeline = Pipeline([
            ("vectorize", TfidfVectorizer(sublinear_tf=True, max_df=0.5, stop_words="english")),
            ("classify", SGDClassifier(alpha=0.0001, max_iter=50, penalty="l1", loss="modified_huber",
                                       random_state=self.seed)),
        ])
        try:
            pipeline.fit(train_x, train_y)
        except ValueError:  # an empty vocabulary: nothing tells the sides apart
            return self._distance(0.5)
        if len(set(test_y)) < 2:
            return self._distance(0.5)
        auc = float(roc_auc_score(test_y, pipeline.predict_proba(test_x)[:, 1]))
        self.top_terms_ = _top_terms(pipeline)
        # Evidently's verdict is strictly above the threshold for this test.
        return DriftResult(self.method, auc, None, self.threshold_, auc > self.threshold_)


def text_profile(texts: Sequence[Any], vocabulary_size: int = 20_000, seed: int = 0) -> dict[str, Any]:
    """Statistics of a reference text column: lengths, tokens, vocabulary (for out-of-vocabulary
    rates) and the reference's own out-of-vocabulary rate (a vocabulary from half the texts,
    measured on the other half, so current and reference rates compare like with like)."""
    values = _texts(texts)
    counts: Counter[str] = Counter()
    half: Counter[str] = Counter()
    order = np.random.default_rng(seed).permutation(len(values))
    heldout = set(order[: len(values) // 2].tolist())
    for i, text in enumerate(values):
        words = tokens(text)
        counts.update(words)
        if i not in heldout:
            half.update(words)
    held_texts = [values[i] for i in sorted(heldout)]
    return {"vocabulary": [w for w, _ in counts.most_common(vocabulary_size)],
            "stats": text_stats(values),
            "oov_rate": oov_rate(held_texts, set(w for w, _ in half.most_common(vocabulary_size)))}


def text_stats(texts: Sequence[Any]) -> dict[str, float]:
    """Mean length (characters), mean tokens, share of empty texts."""
    values = _texts(texts)
    if not values:
        return {"length_mean": float("nan"), "tokens_mean": float("nan"), "empty_share": float("nan")}
    lengths = np.array([len(t) for t in values], dtype=float)
    words = np.array([len(tokens(t)) for t in values], dtype=float)
    return {"length_mean": float(lengths.mean()), "tokens_mean": float(words.mean()),
            "empty_share": float(np.mean([not t.strip() for t in values]))}


def oov_rate(texts: Sequence[Any], vocabulary: set[str]) -> float:
    """Share of tokens of `texts` not in `vocabulary`."""
    total = unknown = 0
    for text in _texts(texts):
        for word in tokens(text):
            total += 1
            unknown += word not in vocabulary
    return unknown / total if total else 0.0


def lengths(texts: Sequence[Any]) -> np.ndarray:
    """Characters per text (0 for a missing one)."""
    if set(map(type, texts)) <= {str}:  # all texts: len in C, a million in milliseconds
        return np.fromiter(map(len, texts), dtype=float, count=len(texts))
    return np.array([len(t) for t in _texts(texts)], dtype=float)


def _top_terms(pipeline: Any, count: int = 10) -> dict[str, list[str]]:
    """The terms that most mark a text as current (or as reference)."""
    words = pipeline.named_steps["vectorize"].get_feature_names_out()
    weights = pipeline.named_steps["classify"].coef_[0]
    order = np.argsort(weights)
    return {"current": [str(words[i]) for i in order[::-1][:count] if weights[i] > 0],
            "reference": [str(words[i]) for i in order[:count] if weights[i] < 0]}


def _texts(values: Any) -> list[str]:
    return [v if isinstance(v, str) else "" for v in values]


def sample(values: list[Any], size: int, seed: int = 0) -> list[Any]:
    """A uniform sample of at most `size` of `values`, in their order (seeded)."""
    if len(values) <= size:
        return values
    chosen = np.random.default_rng(seed).choice(len(values), size=size, replace=False)
    return [values[i] for i in np.sort(chosen)]
