# kefu 客服 — two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
KEFU := $(BIN)/kefu
HOST ?= 127.0.0.1
PORT ?= 8000
# Where kefu is reached: printed by the demo, used in the links of notification mails.
KEFU_BASE_URL ?= http://$(HOST):$(PORT)
export KEFU_BASE_URL

.PHONY: run test install lint types pytest messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# The chat widget clients embed (kefu/chat/widget/src, TypeScript) bundled by esbuild into
# one script that /chat/widget.js serves; built here, never committed.
WIDGET_JS := kefu/chat/static/chat/widget.js
$(WIDGET_JS): $(wildcard kefu/chat/widget/src/*.ts) kefu/chat/widget/tsconfig.json package.json node_modules/.package-lock.json
	npm run --silent build:widget

install: $(VENV)/.installed node_modules/.package-lock.json $(WIDGET_JS)

run: install
	$(KEFU) migrate --noinput
	$(KEFU) demo
	$(KEFU) serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	npm run --silent check:widget

types: install
	$(BIN)/mypy kefu

pytest: install
	$(BIN)/pytest -n 2 --dist loadfile -q

test: lint types pytest

messages: install
	cd kefu && ../$(KEFU) makemessages -l en --no-obsolete -i "*/tests/*" -i "demo/*" && msgfmt -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po && msgfmt -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) node_modules
