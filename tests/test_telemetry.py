"""MLflow telemetry is off in everything champion ships, even if the user's shell enabled it."""

from __future__ import annotations

import os
import subprocess
import sys


def test_registry_switches_mlflow_telemetry_off_in_a_fresh_process() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")}
    env["MLFLOW_DISABLE_TELEMETRY"] = "false"  # a user who turned it on: champion overrides
    code = (
        "import champion.registry.mlflow_registry\n"
        "from mlflow.telemetry.utils import is_telemetry_disabled\n"
        "print(is_telemetry_disabled())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "True"


def test_cli_switches_telemetry_off_before_anything_imports_mlflow() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")}
    code = "import champion.cli.app, os; print(os.environ['MLFLOW_DISABLE_TELEMETRY'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "true"
