# GovSocial developer commands.
#
#   make run     set up .venv, migrate, create the demo login, start web + worker + beat
#   make test    ruff, ruff format --check, mypy, then pytest (what CI runs)
#   make bench NAME=audit    run one benchmark (`make bench` lists them)
#   make messages / make compilemessages    translations (compiling needs Debian's gettext)
#   make screenshots    PNGs of the everyday screens at 1366x900 and 390x844 in var/screenshots/
#
# Everything runs from the project's own virtualenv (.venv), made on first use.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Touched after a successful install; a newer pyproject.toml installs again.
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.package-lock.json
PORT ?= 8000
NAME ?=

# Browser tests drive Debian's Chromium; Playwright never downloads a browser here.
export PLAYWRIGHT_CHROMIUM_EXECUTABLE ?= /usr/bin/chromium

# Translation catalogues anywhere in the project (app locale/ folders and the root locale/).
PO_FILES = $(shell find . \( -path ./$(VENV) -o -path ./node_modules -o -path ./var \) -prune \
	-o -name '*.po' -print)

.PHONY: help install run test lint bench screenshots messages compilemessages clean-venv

help:
	@echo "make run                 start GovSocial on http://localhost:$(PORT) (web, worker, beat)"
	@echo "make test                lint, type-check and run the test suite"
	@echo "make bench NAME=<name>   run a benchmark; 'make bench' lists them"
	@echo "make screenshots         PNGs of the everyday screens (desktop and phone) in var/screenshots/"
	@echo "make messages            extract translatable strings into locale/*/LC_MESSAGES/django.po"
	@echo "make compilemessages     compile .po files to .mo (needs gettext's msgfmt)"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@

install: $(INSTALLED)

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

compilemessages: $(INSTALLED)
	@if [ -n "$(strip $(PO_FILES))" ]; then \
		command -v msgfmt >/dev/null || { \
			echo "msgfmt not found: install gettext (apt-get install gettext)" >&2; exit 1; }; \
		$(PY) manage.py compilemessages -v 0 --ignore=$(VENV) --ignore=node_modules --ignore=var; \
	fi

# Extract strings for every language in settings.LANGUAGES except the source language.
messages: $(INSTALLED)
	@langs=$$($(PY) manage.py shell -v 0 -c "from django.conf import settings; \
		print(' '.join(f'-l {c}' for c, _ in settings.LANGUAGES if c != settings.LANGUAGE_CODE))"); \
	mkdir -p locale; \
	$(PY) manage.py makemessages $$langs --no-obsolete \
		--ignore=$(VENV) --ignore=node_modules --ignore=var --ignore=bench

run: $(INSTALLED) compilemessages
	$(PY) manage.py migrate --noinput
	SITE_URL="$${SITE_URL:-http://localhost:$(PORT)}" $(PY) manage.py bootstrap_demo
	$(PY) manage.py collectstatic --noinput -v 0
	SITE_URL="$${SITE_URL:-http://localhost:$(PORT)}" PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/honcho -f Procfile.dev start -p $(PORT)

# Every check runs even when an earlier one fails, so one run shows everything;
# pytest runs last and the target fails if any step failed. The local Bluesky network
# the connector tests run against is installed first (idempotent; seconds when current).
test: $(INSTALLED) $(NODE_INSTALLED) compilemessages
	@failed=""; \
	if [ -f scripts/setup_bsky.sh ]; then \
		echo "==> scripts/setup_bsky.sh"; bash scripts/setup_bsky.sh || failed="$$failed setup-bsky"; \
	fi; \
	echo "==> ruff check ."; $(BIN)/ruff check . || failed="$$failed ruff-check"; \
	echo "==> ruff format --check ."; $(BIN)/ruff format --check . || failed="$$failed ruff-format"; \
	echo "==> mypy ."; $(BIN)/mypy . || failed="$$failed mypy"; \
	if [ -n "$$failed" ]; then echo "==> failed so far:$$failed (pytest runs anyway)"; fi; \
	echo "==> pytest"; $(BIN)/pytest || failed="$$failed pytest"; \
	[ -z "$$failed" ]

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(INSTALLED)
	$(PY) -m bench $(NAME)

# A demo organization in a database of its own, the app on a loopback port, Chromium.
screenshots: $(INSTALLED) compilemessages
	$(PY) scripts/screenshots.py $(ARGS)

clean-venv:
	rm -rf $(VENV)
