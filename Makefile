# The two commands a newcomer needs: `make run` and `make test`. Everything else is theirs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Reinstall whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# Rebuild the editor whenever its sources or lockfile change.
EDITOR_SRC := $(shell find editor -path editor/node_modules -prune -o -path editor/dist -prune -o -type f -print 2>/dev/null)
export MAILY_DATA_DIR ?= $(CURDIR)/var
export MAILY_TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/maily_test

.PHONY: run test install editor chromium postgres bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

# The browser editor: npm ci from the committed lockfile, then a Vite build the app serves at /.
editor/dist/index.html: $(EDITOR_SRC)
	@if [ -f editor/package.json ]; then \
	  cd editor && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	else echo "editor/ has no package.json yet: the app serves a how-to page at /"; fi

editor: editor/dist/index.html

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install editor
	$(VENV)/bin/maily migrate
	$(VENV)/bin/maily seed-demo
	MAILY_METRICS_PUBLIC=$${MAILY_METRICS_PUBLIC:-true} $(VENV)/bin/maily serve   # local demo: /metrics open

postgres:
	@bash scripts/ensure-postgres.sh

# Two pytest-xdist workers; loadgroup keeps each xdist_group (tests/conftest.py) on one worker.
# PYTEST_WORKERS=0 runs in this process, as a single-file run does.
PYTEST_WORKERS ?= 2
test: install editor chromium postgres
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: install
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) var editor/node_modules editor/dist
