# The two commands: `make demo` runs the demo story, `make test` runs the tests.
# Both create .venv with Python 3.11+ and install champion into it on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

.PHONY: demo test install benchmarks clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("champion needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

# Two workers (pytest-xdist), each module whole on one of them, the slowest first (tests/conftest.py).
test: install
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

benchmarks: install
	$(BIN)/python benchmarks/gate_decisions.py
	$(BIN)/python benchmarks/build_overhead.py
	$(BIN)/python benchmarks/serving/run.py   # needs wrk (apt install wrk)

clean:
	rm -rf $(VENV) demo .pytest_cache
