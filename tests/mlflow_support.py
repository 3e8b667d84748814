"""Plain MLflow, away from champion: a Python that cannot import champion."""

from __future__ import annotations

from typing import Any


def without_champion(code: str) -> Any:
    """Run `code` in a Python that has MLflow and the scientific stack but cannot import
    champion: no `site` (so the editable install's path file is not read), site-packages on
    PYTHONPATH, the working folder outside the repository."""
    import json
    import os
    import site
    import subprocess
    import sys
    import tempfile

    packages = os.pathsep.join(site.getsitepackages())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CHAMPION_", "MLFLOW_TRACKING"))}
    env.update(PYTHONPATH=packages, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    prologue = ("import json, sys\ntry:\n    import champion\nexcept ImportError:\n    pass\nelse:\n"
                "    sys.exit('champion is importable: ' + champion.__file__)\n")
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run([sys.executable, "-S", "-c", prologue + code], capture_output=True, text=True,
                              env=env, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])

