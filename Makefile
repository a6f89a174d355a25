# The two commands a newcomer needs: `make run` and `make test`. Everything else is theirs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Reinstall whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
export MAILY_DATA_DIR ?= $(CURDIR)/var
export MAILY_TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/maily_test

.PHONY: run test install postgres bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

run: install
	$(VENV)/bin/maily migrate
	$(VENV)/bin/maily seed-demo
	$(VENV)/bin/maily serve

postgres:
	@bash scripts/ensure-postgres.sh

test: install postgres
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) var
