# Two commands: `make run` serves the demo, `make test` passes the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app portal
HTMX_VERSION := 2.0.4
AXE_VERSION := 4.11.0
HOST ?= 127.0.0.1
PORT ?= 5000
SCALE ?= city
# The fuzz tests' budget (tests/fuzz/harness.py): a tenth for `make test`, in full on CI (.ci/run).
FUZZ_EXAMPLES ?= 0.1

.PHONY: setup run test check-migrations lint translations bench clean

setup: $(VENV)/.installed static/vendor/htmx.min.js .cache/npm/axe.min.js translations.stamp

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

# axe-core (accessibility checks) for the browser tests only, from the npm registry; never served.
.cache/npm/axe.min.js:
	mkdir -p .cache/npm
	cd .cache/npm && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	tar -xzf .cache/npm/axe-core-$(AXE_VERSION).tgz -C .cache/npm package/axe.min.js
	cp .cache/npm/package/axe.min.js $@

# Compile every module's English catalogue (Chinese is the source language).
translations.stamp: $(VENV)/.installed $(wildcard translations/*/en/LC_MESSAGES/messages.po)
	for d in translations/*/; do $(VENV)/bin/pybabel compile -f -d $$d >/dev/null; done
	@touch $@

# English catalogues, one per module (Chinese is the source language): `make translations`
# extracts each catalogue's sources with pybabel (babel.cfg: Python and Jinja2), merges the
# strings into translations/<catalogue>/en/LC_MESSAGES/messages.po keeping every translation
# (new strings come in with an empty msgstr, strings no longer used go), then compiles.
# Catalogue X reads portal/X and templates/portal/X unless a TRANSLATION_SOURCES_X line says
# otherwise (one line each: tests/test_translations.py reads them too).
TRANSLATION_SOURCES_core := portal/core portal/accounts templates/macros templates/portal/core templates/portal/accounts templates/portal/base.html templates/portal/bare.html templates/portal/error.html
TRANSLATION_SOURCES_public_site := public_site templates/public_site
CATALOGUES := $(notdir $(patsubst %/,%,$(wildcard translations/*/)))
catalogue_sources = $(or $(TRANSLATION_SOURCES_$(1)),$(wildcard portal/$(1) templates/portal/$(1)))
PYBABEL := $(VENV)/bin/pybabel

translations: $(VENV)/.installed
	mkdir -p .cache/i18n
	$(foreach c,$(CATALOGUES),\
	  $(PYBABEL) -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --no-wrap --sort-output \
	    -o .cache/i18n/$(c).pot $(call catalogue_sources,$(c)) && \
	  $(PYBABEL) -q update -N --ignore-obsolete --no-wrap -l en -i .cache/i18n/$(c).pot -d translations/$(c) &&) true
	for d in translations/*/; do $(PYBABEL) compile -f -d $$d >/dev/null; done
	@touch translations.stamp

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(PY) -m portal.devserver --host $(HOST) --port $(PORT)

# Prints the slowest tests and the suite's wall-clock time (target: under 3 minutes on an idle
# 2-core machine; docs in tests/transactions.py for how each test's writes are undone). Python
# keeps its compiled modules (__pycache__, ignored by git) even where the environment says not to
# (PYTHONDONTWRITEBYTECODE): every worker and subprocess would compile the sources again.
test: setup
	@start=$$(date +%s); status=0; \
	PYTHONDONTWRITEBYTECODE= FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -n 2 --dist worksteal --durations=15 $(PYTEST_ARGS) || status=$$?; \
	end=$$(date +%s); echo "make test: $$((end - start)) s wall clock ($$(cut -d' ' -f1-3 /proc/loadavg) load)"; \
	exit $$status

check-migrations: setup
	$(FLASK) check-migrations

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) -m bench.run --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache static/vendor translations.stamp
