"""Deterministic data for drift_vs_evidently.py: a 1M-row x 20-column tabular case and a
100k-row text case, written to parquet so both sides read the same bytes.

Every column draws from its own child of one `SeedSequence`, so a column's values do not
depend on the others. Each column declares its type, the method both sides run (ours and
Evidently's name for it) and what is shifted in the current window.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20240607
ROWS = 1_000_000
TEXT_ROWS = 100_000
WORD_DROP = 0.15
"""Share of words dropped at random from each resampled comment (so rows are not all copies)."""

EVIDENTLY_NAME = {"ks": "ks", "wasserstein": "wasserstein", "psi": "psi", "jensenshannon": "jensenshannon",
                  "chi2": "chisquare", "domain_classifier": "abs_text_content_drift"}
THRESHOLD = {"ks": 0.05, "wasserstein": 0.1, "psi": 0.1, "jensenshannon": 0.1, "chi2": 0.05,
             "domain_classifier": 0.55}

Draw = Callable[[np.random.Generator, int], np.ndarray]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    method: str
    reference: Draw
    current: Draw
    shift: str

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "evidently_method": EVIDENTLY_NAME[self.method],
                "threshold": THRESHOLD[self.method], "shift": self.shift}


def _with_nan(draw: Draw, share: float) -> Draw:
    def drawn(rng: np.random.Generator, n: int) -> np.ndarray:
        values = draw(rng, n)
        values[rng.random(n) < share] = np.nan
        return values
    return drawn


def _mixture(weight: float) -> Draw:
    def drawn(rng: np.random.Generator, n: int) -> np.ndarray:
        first = rng.random(n) < weight
        return np.where(first, rng.normal(-2.0, 0.7, n), rng.normal(2.0, 1.0, n))
    return drawn


def _ratings(p: list[float]) -> Draw:
    return lambda rng, n: rng.choice(np.arange(1.0, len(p) + 1.0), size=n, p=np.asarray(p) / sum(p))


def _categories(labels: list[str], weights: np.ndarray, missing: float = 0.0) -> Draw:
    values = np.array(labels, dtype=object)
    p = np.asarray(weights, dtype=float) / np.sum(weights)

    def drawn(rng: np.random.Generator, n: int) -> np.ndarray:
        out = values[rng.choice(len(values), size=n, p=p)]
        if missing:
            out[rng.random(n) < missing] = None
        return out
    return drawn


def _zipf_weights(k: int, s: float) -> np.ndarray:
    return 1.0 / np.arange(1, k + 1) ** s


def tabular_columns() -> list[Column]:
    """15 numeric and 5 categorical columns; about half shift, some only slightly."""
    n = [
        Column("n01_normal", "numeric", "ks", lambda r, k: r.normal(0, 1, k), lambda r, k: r.normal(0, 1, k),
               "none"),
        Column("n02_normal_shift", "numeric", "ks", lambda r, k: r.normal(0, 1, k),
               lambda r, k: r.normal(0.01, 1, k), "mean +0.01 sd"),
        Column("n03_lognormal", "numeric", "wasserstein", lambda r, k: r.lognormal(0, 0.5, k),
               lambda r, k: r.lognormal(0, 0.5, k), "none"),
        Column("n04_exponential", "numeric", "wasserstein", lambda r, k: r.exponential(1.0, k),
               lambda r, k: r.exponential(1.2, k), "scale x1.2"),
        Column("n05_uniform", "numeric", "psi", lambda r, k: r.uniform(0, 10, k), lambda r, k: r.uniform(0, 10, k),
               "none"),
        Column("n06_gamma", "numeric", "psi", lambda r, k: r.gamma(2.0, 2.0, k), lambda r, k: r.gamma(2.4, 2.0, k),
               "shape 2 -> 2.4"),
        Column("n07_beta", "numeric", "jensenshannon", lambda r, k: r.beta(2, 5, k), lambda r, k: r.beta(2.5, 5, k),
               "a 2 -> 2.5"),
        Column("n08_student_t", "numeric", "jensenshannon", lambda r, k: r.standard_t(5, k),
               lambda r, k: r.standard_t(5, k), "none"),
        Column("n09_bimodal", "numeric", "ks", _mixture(0.5), _mixture(0.45), "mode weights 50/50 -> 45/55"),
        Column("n10_poisson_int", "numeric", "psi", lambda r, k: r.poisson(30, k), lambda r, k: r.poisson(30, k),
               "none (int64)"),
        Column("n11_rating_8_values", "numeric", "jensenshannon",
               _ratings([1, 2, 4, 8, 8, 4, 2, 1]), _ratings([1, 2, 3, 7, 8, 5, 3, 2]), "rating shares shift"),
        Column("n12_normal_nan", "numeric", "wasserstein", _with_nan(lambda r, k: r.normal(5, 2, k), 0.02),
               _with_nan(lambda r, k: r.normal(5, 2.4, k), 0.05), "sd x1.2; NaN 2% -> 5%"),
        Column("n13_pareto", "numeric", "wasserstein", lambda r, k: r.pareto(3.0, k), lambda r, k: r.pareto(3.0, k),
               "none (heavy tail)"),
        Column("n14_weibull", "numeric", "ks", lambda r, k: r.weibull(1.5, k), lambda r, k: r.weibull(1.45, k),
               "shape 1.5 -> 1.45"),
        Column("n15_laplace_nan", "numeric", "psi", _with_nan(lambda r, k: r.laplace(0, 1, k), 0.01),
               _with_nan(lambda r, k: r.laplace(0, 1, k), 0.01), "none (1% NaN)"),
    ]
    c = [
        Column("c1_binary", "categorical", "chi2", _categories(["no", "yes"], np.array([0.7, 0.3])),
               _categories(["no", "yes"], np.array([0.69, 0.31])), "yes 30% -> 31%"),
        Column("c2_five", "categorical", "jensenshannon", _categories(list("ABCDE"), np.array([5, 4, 3, 2, 1])),
               _categories(list("ABCDE"), np.array([5, 4, 3, 2, 1])), "none"),
        Column("c3_twelve", "categorical", "chi2", _categories([f"m{i:02d}" for i in range(12)], np.ones(12)),
               _categories([f"m{i:02d}" for i in range(12)], np.r_[np.full(6, 1.1), np.full(6, 0.9)]),
               "half the months +10%"),
        Column("c4_fifty_missing", "categorical", "jensenshannon",
               _categories([f"s{i:02d}" for i in range(50)], _zipf_weights(50, 0.8), missing=0.01),
               _categories([f"s{i:02d}" for i in range(50)], _zipf_weights(50, 0.8), missing=0.01),
               "none (1% missing)"),
        Column("c5_300_new_values", "categorical", "jensenshannon",
               _categories([f"p{i:03d}" for i in range(300)], _zipf_weights(300, 1.1)),
               _categories([f"p{i:03d}" for i in range(305)], _zipf_weights(305, 1.0)),
               "flatter zipf, 5 new values"),
    ]
    return n + c


def write_tabular(folder: Path, rows: int = ROWS, seed: int = SEED) -> dict[str, Any]:
    columns = tabular_columns()
    children = np.random.SeedSequence(seed).spawn(len(columns))
    paths = {}
    for side in ("reference", "current"):
        arrays = {}
        for column, child in zip(columns, children, strict=True):
            rng = np.random.default_rng(child.spawn(2)[0 if side == "reference" else 1])
            values = (column.reference if side == "reference" else column.current)(rng, rows)
            arrays[column.name] = pa.array(values, type=pa.string() if column.kind == "categorical" else None,
                                           from_pandas=True)
        paths[side] = str(folder / f"tabular_{side}.parquet")
        pq.write_table(pa.table(arrays), paths[side])
        del arrays
    return {"name": "tabular", **paths, "columns": {c.name: c.spec() for c in columns}}


def auto_case(tabular: dict[str, Any]) -> dict[str, Any]:
    """The same files with every method left to `auto` on both sides (what each picks by default:
    at 1M reference rows, normalized Wasserstein for numbers and Jensen-Shannon for categories)."""
    columns = {name: {**spec, "method": "auto", "evidently_method": None, "threshold": None}
               for name, spec in tabular["columns"].items()}
    return {**tabular, "name": "tabular_auto", "columns": columns}


def _comments(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            texts += [row["CONTENT"] for row in csv.DictReader(f)]
    return texts


def _resample(texts: list[str], rows: int, rng: np.random.Generator) -> list[str]:
    out = []
    for i in rng.integers(0, len(texts), size=rows):
        words = texts[i].split()
        kept = [w for w, drop in zip(words, rng.random(len(words)) < WORD_DROP, strict=True) if not drop]
        out.append(" ".join(kept or words[:1]))
    return out


def write_text(folder: Path, data: Path, rows: int = TEXT_ROWS, seed: int = SEED) -> dict[str, Any]:
    """Reference: the three initial videos' comments; current: Eminem and Shakira (the seeds'
    drift story), each resampled to `rows` with random word drops."""
    ref_rng, cur_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed + 1).spawn(2))
    sides = {"reference": _resample(_comments(data / "initial"), rows, ref_rng),
             "current": _resample(_comments(data / "retraining"), rows, cur_rng)}
    paths = {}
    for side, texts in sides.items():
        paths[side] = str(folder / f"text_{side}.parquet")
        pq.write_table(pa.table({"text": pa.array(texts, type=pa.string())}), paths[side])
    spec = {"kind": "text", "method": "domain_classifier", "evidently_method": EVIDENTLY_NAME["domain_classifier"],
            "threshold": THRESHOLD["domain_classifier"], "shift": "other videos' comments"}
    return {"name": "text", **paths, "columns": {"text": spec},
            "distinct": {side: len(set(t)) for side, t in sides.items()}}
