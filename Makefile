# The two commands of the README: `make demo` and `make test`.  Each sets everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test test-slow bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	VENV=$(VENV) bash scripts/setup.sh

demo: setup
	$(VENV)/bin/exactrelu demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: setup
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

bench: setup
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/regions.py
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/shapley.py
	$(PY) benchmarks/equiv.py --quick

clean:
	rm -rf $(VENV) exactrelu-demo .pytest_cache
