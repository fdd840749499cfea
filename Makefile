# Two commands matter: `make serve` (build and serve the site) and `make test` (the whole suite).
# Both bootstrap what they need: a virtualenv, the pinned npm runtime, a Chromium for the browser tests.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

.PHONY: all build serve test test-core test-e2e bench browser clean

all: build

$(VENV)/.installed: requirements-dev.txt requirements-build.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Debian's /usr/bin/chromium is used when present; otherwise Playwright's own download.
browser: $(VENV)/.installed
	@$(PY) tests/browser.py || $(PY) -m playwright install chromium

build: $(VENV)/.installed node_modules/.installed
	$(PY) build.py

serve: build
	$(PY) build.py --serve --port $(PORT)

test: build browser
	$(PY) -m pytest -n 2 --dist loadfile

test-core: $(VENV)/.installed
	$(PY) -m pytest -n 2 --dist loadfile -m "not e2e"

test-e2e: build browser
	$(PY) -m pytest -m e2e

bench: build browser
	$(PY) bench/core.py
	$(PY) bench/page.py
	$(PY) bench/floor.py
	$(PY) bench/import.py

clean:
	rm -rf site .pytest_cache .hypothesis
