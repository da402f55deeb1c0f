# Two commands matter: `make demo` and `make test`. Both create .venv when it is missing and
# install the locked dependencies (requirements.lock), then the project itself in editable mode.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test reliability bench install lock clean docs

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/export-finder demo

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

reliability: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

docs: $(STAMP)
	$(BIN)/cog -r docs/cli-reference.md

# Re-resolve the lock from pyproject.toml ranges (needs the package registry).
lock:
	rm -rf /tmp/ef-lock-venv && $(PYTHON) -m venv /tmp/ef-lock-venv
	/tmp/ef-lock-venv/bin/pip install --quiet -e '.[test]'
	/tmp/ef-lock-venv/bin/pip freeze --exclude-editable | sed 's/+cpu$$//' > requirements.lock

clean:
	rm -rf var
