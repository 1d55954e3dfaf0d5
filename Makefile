# The README's Quickstart: `make scan` and `make test` on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: scan test test-fast lint venv clean

$(BIN)/iacguard: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

venv: $(BIN)/iacguard

# Exit 1 means "findings" (examples/ holds a failing configuration on purpose); 2 means broken input.
scan: venv
	$(BIN)/iacguard scan examples/ || test $$? -eq 1

$(VENV)/.test-extras: pyproject.toml $(BIN)/iacguard
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

lint: $(VENV)/.test-extras
	$(BIN)/ruff check iacguard tests $(wildcard bench)
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Local iteration: the whole suite but the Terraform oracle (real `terraform plan` per configuration,
# the slowest part by far). CI runs `make test`.
test-fast: lint
	$(BIN)/python -m pytest -q -m "not oracle" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
