# The project's entry points. Everything installs into .venv; nothing else is needed but Python 3.11.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint docs bench clean vendor-swagger-ui

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: install  ## broker + four services + gateway on embedded defaults, demo loaded
	$(BIN)/zhichan run

test: install  ## the whole suite: unit, integration, end-to-end
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: install  ## without the end-to-end tests
	$(BIN)/python -m pytest -q -m "not e2e"

# Material's notice about MkDocs 2.0 is not a finding of this build.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

lint: install  ## ruff, the import contracts, and the documentation (a broken link fails)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	$(MKDOCS) build --strict --quiet

docs: install  ## serve the documentation on http://127.0.0.1:8010, rebuilt on every change
	$(MKDOCS) serve --dev-addr 127.0.0.1:8010

bench: install
	$(BIN)/python -m bench

vendor-swagger-ui:  ## re-vendor /docs's Swagger UI from npm: make vendor-swagger-ui VERSION=5.x.y
	gateway/vendor/update_swagger_ui.sh $(VERSION)

clean:
	rm -rf var artifacts
