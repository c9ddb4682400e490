# Two commands: `make run` serves the demo, `make test` passes the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app portal
HTMX_VERSION := 2.0.4
HOST ?= 127.0.0.1
PORT ?= 5000
SCALE ?= city

.PHONY: setup run test check-migrations lint i18n bench clean

setup: $(VENV)/.installed static/vendor/htmx.min.js translations.stamp

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# htmx comes from the npm registry at setup time, never from a CDN at page load.
static/vendor/htmx.min.js:
	mkdir -p .cache/npm static/vendor
	cd .cache/npm && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null
	tar -xzf .cache/npm/htmx.org-$(HTMX_VERSION).tgz -C .cache/npm package/dist/htmx.min.js
	cp .cache/npm/package/dist/htmx.min.js $@

# Compile every module's English catalogue (Chinese is the source language).
translations.stamp: $(VENV)/.installed $(wildcard translations/*/en/LC_MESSAGES/messages.po)
	for d in translations/*/; do $(VENV)/bin/pybabel compile -f -d $$d >/dev/null; done
	@touch $@

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(PY) -m portal.devserver --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

check-migrations: setup
	$(FLASK) check-migrations

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) -m bench.run --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache static/vendor translations.stamp
