"""The forecaster benchmark (`frequencies.py`) with one of the forecaster's choices changed, to
measure what each one is worth (docs/benchmarks.md, "what was tried").

    python benchmarks/forecasting/variants.py VARIANT [frequencies.py options]

Variants: `argmin` (the lowest validation RMSE wins on every series, no preference for the
plain shapes), `no-guard` (models at the edge of their space compete like the others),
`one-fold` (each candidate fitted once, before the window, as the gate does), `no-regression-
start` (fits start from statsmodels' starting values only). The criterion alone is
`frequencies.py --param validation_periods=0`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import frequencies  # noqa: E402

from champion.recipes import arima_models, validation  # noqa: E402

VARIANTS = ("argmin", "no-guard", "one-fold", "no-regression-start")


def apply(variant: str) -> None:
    if variant == "argmin":
        winner = validation.winner
        validation.winner = lambda trials, horizon, seasonal: winner(trials, horizon, True)
    elif variant == "no-guard":
        validation.Trial.edge = property(lambda self: False)  # type: ignore[assignment]
    elif variant == "one-fold":
        validation.MAX_FOLDS = 1
    elif variant == "no-regression-start":
        arima_models.regression_start = lambda *args, **kwargs: None
    else:
        raise SystemExit(f"unknown variant {variant!r}: one of {', '.join(VARIANTS)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    apply(sys.argv.pop(1))
    frequencies.main()
