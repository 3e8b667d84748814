"""Build overhead: wall time of `champion build` minus the raw fit + predict it wraps.

A spam project with a warm registry (migrated MLflow DB, a champion already registered) runs
`champion build spam` as a real process, --repeat times. The raw cost is the same recipe
fitted on the same training rows and predicting the same golden rows, in one process with
its imports already done. Overhead = median build wall time - median raw time; target <= 3 s.

    python benchmarks/build_overhead.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"


def champion(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "champion", *args], capture_output=True, text=True, check=False)


def raw_fit_predict(project: Path) -> float:
    """Fit + predict of the build's own recipe on the build's own rows, imports excluded."""
    from champion.pipelines import golden_set
    from champion.pipelines.workspace import Workspace
    from champion.project import Project
    from champion.recipes.loader import build_recipe

    ws = Workspace(Project.open(project))
    settings = ws.settings("spam")
    cls = ws.recipe_class("spam")
    data = golden_set.split(ws.dataset("spam"), settings, cls)
    recipe = build_recipe(cls, dict(settings.params))
    start = time.perf_counter()
    golden_set.fit(recipe, data)
    golden_set.answers(recipe, data)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "spam"
        assert champion("init", str(project), "--template", "youtube-spam").returncode == 0
        warm = champion("build", "spam", "--project", str(project), "-q")  # migrations + first champion
        if warm.returncode != 0:
            sys.exit(f"warm-up build failed: {warm.stderr}")
        builds = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = champion("build", "spam", "--project", str(project), "-q")
            builds.append(time.perf_counter() - start)
            if done.returncode not in (0, 3):
                sys.exit(f"build failed: {done.stderr}")
        raws = [raw_fit_predict(project) for _ in range(args.repeat)]
    build, raw = statistics.median(builds), statistics.median(raws)
    print(f"champion build (warm registry), median of {args.repeat}: {build:.2f} s")
    print(f"raw fit + predict of the same pipeline, median of {args.repeat}: {raw:.2f} s")
    print(f"overhead: {build - raw:.2f} s (target <= 3 s); build / raw = {build / raw:.2f}x")


if __name__ == "__main__":
    main()
