"""Build overhead: wall time of `champion build` minus the raw fit + predict it wraps.

A spam project with a warm registry (migrated MLflow DB, a champion already registered) runs
`champion build spam` as a real process, --repeat times. Two baselines for "raw":

- in-process: the same recipe fitted on the same training rows and predicting the same
  golden rows, imports already done (what the model itself costs);
- as a script: a bare `python train.py` equivalent as its own process (imports pandas and
  scikit-learn, reads the CSVs, fits, predicts): what a user would run without champion.

Overhead = median build wall time - median raw time, for each; target <= 3 s.

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
    from champion.workspace import Workspace
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


RAW_SCRIPT = """
import glob, sys
import pandas as pd
from champion.data.golden import golden_mask
from champion.recipes.text_classifier import TextClassifier
frame = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(sys.argv[1] + "/data/initial/*.csv"))])
frame = frame.drop_duplicates("COMMENT_ID")
golden = golden_mask(frame, ["CONTENT"], 0.2)
model = TextClassifier().fit(frame[~golden][["CONTENT"]], frame[~golden]["CLASS"])
model.predict_proba(frame[golden][["CONTENT"]])
"""


def raw_script(project: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", RAW_SCRIPT, str(project)], check=True)
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
        scripts = [raw_script(project) for _ in range(args.repeat)]
        raws = [raw_fit_predict(project) for _ in range(args.repeat)]
    build, raw, script = statistics.median(builds), statistics.median(raws), statistics.median(scripts)
    print(f"champion build (warm registry), median of {args.repeat}: {build:.2f} s")
    print(f"raw fit + predict, in process (imports done), median: {raw:.2f} s"
          f"  -> overhead {build - raw:.2f} s")
    print(f"raw fit + predict, as a script (imports included), median: {script:.2f} s"
          f"  -> overhead {build - script:.2f} s")
    print("target: overhead <= 3 s")


if __name__ == "__main__":
    main()
