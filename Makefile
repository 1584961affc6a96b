# `make demo` (set up, index the sample store, print a summary), `make test` (CI) and `make test-fast`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast bench notebook clean

TEST_STAMP := $(VENV)/.installed-test

# The demo needs only the runtime (`pip install -e .`); the test extra (pyspark, moto, selenium,
# scipy...) is installed by `make test` alone.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(TEST_STAMP)

# git resets file mtimes, which are the sample's generation times: put them back first (data/mtimes.tsv).
demo: $(STAMP)
	$(BIN)/python -m gensql.synth restore-mtimes data
	$(BIN)/gensql refresh --data-root data
	$(BIN)/gensql summary --data-root data

# `make test` is the one CI command (.ci/run): lint, format check, types, then the whole suite on
# every core with the full Hypothesis example counts. `make test-fast` is the development loop: the
# tests not marked slow and a tenth of the examples (aim: a minute on two idle cores; measured ~210 CPU-s). Both accept
# PY=/path/to/python to use an environment that exists (nothing is installed then).
PY ?=
ifeq ($(PY),)
PY := $(BIN)/python
DEPS := $(TEST_STAMP)
endif
# --dist loadfile: a file's tests share one worker, so module fixtures (stores, servers) are built once.
XDIST := -n auto --dist loadfile

test: $(DEPS)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q $(XDIST)

test-fast: $(DEPS)
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest -q $(XDIST) -m "not slow"

# Benchmarks (not tests): refresh vs DuckDB read_json / a Python loop / the cat floor at 100k
# generations, then `gensql sql` and `gensql report tokens` on a 1,000,000-row index, texts and
# search vs SQLite FTS5 and grep, and `gensql serve` pages on a 1,000,000-row index.
bench: $(TEST_STAMP)
	$(BIN)/python bench/bench_refresh.py
	$(BIN)/python bench/bench_sql.py
	$(BIN)/python bench/bench_report.py
	$(BIN)/python bench/bench_search.py
	$(BIN)/python bench/bench_serve.py
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_watch.py

# JupyterLab on notebooks/ (installs the `notebooks` extra once per pyproject.toml change; as root,
# e.g. in a container, Jupyter needs --allow-root).
$(VENV)/.notebooks-installed: $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[notebooks]'
	touch $@

notebook: $(VENV)/.notebooks-installed
	$(BIN)/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) data/index bench/out
