#!/usr/bin/env bash
# Create the isolated Evidently environment used by drift_vs_evidently.py.
# Evidently 0.7 fails to import with pandas 3, so it lives in its own venv with pandas<3
# and never touches champion's .venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-evidently"
python="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "evidently==0.7.*" "pandas<3" pyarrow
"$venv/bin/python" -c "import evidently, pandas; print('evidently', evidently.__version__, 'pandas', pandas.__version__)"
