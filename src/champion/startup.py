"""Process-wide settings: what the CLI sets before anything heavy is imported, and how
champion's processes log and treat library warnings."""

from __future__ import annotations

import gc
import logging
import os
import sys


def configure_process() -> None:
    """Telemetry off, one BLAS thread, a collector tuned for a big import graph."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"  # before anything can import mlflow
    os.environ["DO_NOT_TRACK"] = "true"
    # Two BLAS threads made small dense products ~60x slower on 2-core machines (measured);
    # our models are small and sparse. Set OPENBLAS_NUM_THREADS yourself to override.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    # A build imports ~3,000 modules (MLflow alone ~2,000); at the default thresholds the
    # collector made 7 full passes over that growing heap, 0.6 s of a 3 s build (measured).
    # Young collections every 50,000 allocations keep cyclic garbage bounded all the same.
    gc.set_threshold(50_000, 20, 10)


def quiet_library_warnings() -> None:
    """Library warnings (MLflow's advice on type hints, scikit-learn's convergence notes)
    are not for our users' terminals: they go to logging, where nothing prints them."""
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.ERROR)


def log_to_stderr() -> None:
    """Log INFO and up to stderr, each line with its time and process (an endpoint's
    processes share one `endpoint.log`)."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    hide_credentials()


def hide_credentials() -> None:
    """Every handler of the root logger hides credentials (`champion.credentials.scrub`)."""
    from champion.credentials import ScrubbingFilter

    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ScrubbingFilter) for f in handler.filters):
            handler.addFilter(ScrubbingFilter())
