"""Decision quality of the gate: how often it promotes equivalent and truly better challengers.

Scenarios, each over --trials trials on the spam data (all five videos, golden set = the
template's hash split, about 390 rows):

- equivalent:  champion and challenger trained on two bootstrap resamples of the same rows;
- noisy-10%:   champion trained with 10% of its labels flipped (truly worse);
- three-videos: champion trained only on the rows of the three initial videos (truly worse);
- one-third:   champion trained on a random third of the rows (a gap below what ~400 golden
               rows can resolve: shows where the gate's resolution ends).

In every non-equivalent scenario the challenger is trained on a bootstrap resample of all
training rows. Each policy is applied to the very same trials, beside the seeds' rule
"new >= old" (promote when the challenger's accuracy is at least the champion's).

    python benchmarks/gate_decisions.py --trials 100
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from champion.config import PolicySettings, load_config  # noqa: E402
from champion.data.dataset import assemble  # noqa: E402
from champion.data.golden import golden_mask  # noqa: E402
from champion.data.validation import read_data_file  # noqa: E402
from champion.evaluation.compare import compare_classifiers  # noqa: E402
from champion.evaluation.metrics import ClassifierScores  # noqa: E402
from champion.evaluation.policy import decide, resolve_policy  # noqa: E402
from champion.recipes.text_classifier import TextClassifier  # noqa: E402

TEMPLATE = Path(__file__).resolve().parents[1] / "src" / "champion" / "templates" / "youtube-spam"
SCENARIOS = ["equivalent", "noisy-10%", "three-videos", "one-third"]
POLICIES = {
    "accuracy + McNemar, a=0.05": {"primary": "accuracy", "test": "mcnemar"},
    "log_loss + bootstrap, a=0.05": {"primary": "log_loss", "test": "bootstrap"},
    "brier + bootstrap, a=0.05": {"primary": "brier", "test": "bootstrap"},
    "brier + bootstrap, a=0.025 (default)": {"primary": "brier", "test": "bootstrap", "alpha": 0.025},
}


def load_data() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """All five videos, deduplicated as champion does; golden mask; initial-video mask."""
    model = load_config(TEMPLATE / "champion.toml").models["spam"]
    files = sorted((TEMPLATE / "data").glob("*/*.csv"))
    validated = [read_data_file(f, model) for f in files]
    frame = assemble(validated, model, TEMPLATE).frame
    initial_ids = set()
    for v in validated:
        if "initial" in str(v.path):
            initial_ids.update(v.frame["COMMENT_ID"])
    golden = golden_mask(frame, model.split_columns, model.golden.fraction, model.golden.salt)
    return frame, golden, frame["COMMENT_ID"].isin(initial_ids).to_numpy()


def _fit_scores(train: pd.DataFrame, golden: pd.DataFrame, seed: int) -> ClassifierScores:
    recipe = TextClassifier(random_state=seed).fit(train[["CONTENT"]], train["CLASS"])
    proba = recipe.predict_proba(golden[["CONTENT"]])
    return ClassifierScores(golden["CLASS"].to_numpy(), proba, recipe.classes_, 1)


def run_trial(trial: int) -> dict[str, object]:
    frame, golden_rows, initial = load_data()
    rng = np.random.default_rng(10_000 + trial)
    train, golden = frame[~golden_rows].reset_index(drop=True), frame[golden_rows]
    train_initial = initial[~golden_rows]
    n = len(train)

    def boot(rows: np.ndarray) -> pd.DataFrame:
        return train.iloc[rng.choice(rows, size=len(rows), replace=True)]

    everything = np.arange(n)
    challenger = _fit_scores(boot(everything), golden, trial)
    flipped = boot(everything).copy()
    flip = rng.random(len(flipped)) < 0.10
    flipped.loc[flip, "CLASS"] = 1 - flipped.loc[flip, "CLASS"]
    champions = {
        "equivalent": _fit_scores(boot(everything), golden, trial + 50_000),
        "noisy-10%": _fit_scores(flipped, golden, trial),
        "three-videos": _fit_scores(boot(np.flatnonzero(train_initial)), golden, trial),
        "one-third": _fit_scores(train.iloc[rng.choice(n, size=n // 3, replace=False)], golden, trial),
    }
    outcome: dict[str, object] = {"trial": trial, "golden_rows": int(golden_rows.sum())}
    for scenario, champion in champions.items():
        row: dict[str, object] = {
            "accuracy_gap": float(challenger.correct.mean() - champion.correct.mean()),
            "seeds_rule": bool(challenger.correct.mean() >= champion.correct.mean()),
        }
        for name, settings in POLICIES.items():
            policy = resolve_policy(PolicySettings(**settings, seed=trial), "classification")
            verdict, _ = decide(policy, compare_classifiers(policy, challenger, champion))
            row[name] = verdict.promotes
        outcome[scenario] = row
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "gate_decisions.json")
    args = parser.parse_args()
    start = time.perf_counter()
    results = []
    with ProcessPoolExecutor(args.workers) as pool:
        for i, result in enumerate(pool.map(run_trial, range(args.trials)), 1):
            results.append(result)
            if i % 10 == 0:
                print(f"  {i}/{args.trials} trials ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    rules = ["seeds_rule", *POLICIES]
    table = {scenario: {rule: float(np.mean([r[scenario][rule] for r in results])) for rule in rules}
             for scenario in SCENARIOS}
    gaps = {scenario: float(np.mean([r[scenario]["accuracy_gap"] for r in results])) for scenario in SCENARIOS}
    print(f"\nPromotion rates over {args.trials} trials (golden set: {results[0]['golden_rows']} rows); "
          f"target: equivalent <= 5%, noisy-10% and three-videos >= 80%\n")
    header = f"{'rule':32s}" + "".join(f"{s:>14s}" for s in SCENARIOS)
    print(header)
    print(f"{'(mean accuracy gap)':32s}" + "".join(f"{gaps[s] * 100:>+13.2f}p" for s in SCENARIOS))
    for rule in rules:
        label = "seeds' rule new >= old" if rule == "seeds_rule" else rule
        print(f"{label:32s}" + "".join(f"{table[s][rule] * 100:>13.0f}%" for s in SCENARIOS))
    for rule in POLICIES:
        ok = table["equivalent"][rule] <= 0.05 and min(table["noisy-10%"][rule], table["three-videos"][rule]) >= 0.8
        print(f"  {rule}: {'PASSES' if ok else 'fails'} the decision-quality targets")
    print(f"\n{time.perf_counter() - start:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"trials": args.trials, "rates": table, "mean_accuracy_gap": gaps,
                                    "results": results}, indent=1))


if __name__ == "__main__":
    main()
