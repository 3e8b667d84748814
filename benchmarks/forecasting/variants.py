"""The forecaster benchmark (`frequencies.py`) with one of the forecaster's choices changed, to
measure what each one is worth (docs/benchmarks.md, "what was tried").

    python benchmarks/forecasting/variants.py VARIANT [frequencies.py options]

Variants: `argmin` (the lowest validation RMSE wins, no default kept), `searched-default`
(the searched models are the default on every series, as they are on seasonal ones: a shape
must forecast significantly better), `no-guard` (models at the edge of their space compete
like the others),
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

VARIANTS = ("argmin", "searched-default", "no-guard", "one-fold", "no-regression-start")


def apply(variant: str) -> None:
    winner = validation.winner
    if variant == "argmin":
        validation.winner = lambda trials, horizon, seasonal: min(
            [t for t in trials if not t.edge] or trials, key=lambda t: t.rmse)
    elif variant == "searched-default":
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
