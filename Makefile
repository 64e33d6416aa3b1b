# The two commands a newcomer needs:  make run   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Unset, LOTSEN_ENV means production (which refuses the development key); make asks for
# development. Set LOTSEN_ENV yourself to override.
export LOTSEN_ENV ?= development

.PHONY: run test install translations lint bench update-translations clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/activate

install: $(BIN)/activate translations

translations: $(BIN)/activate
	$(BIN)/pybabel compile --statistics -d lotsen/translations 2>&1 | grep -v "^compiling" || true

## Set up, migrate, seed the demo region and serve it on http://127.0.0.1:5000
run: install
	$(FLASK) db upgrade
	$(FLASK) lotsen seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

node_modules/axe-core: package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; \
	  else echo "npm not found: the accessibility (axe-core) tests will be skipped"; fi

## Lint and run the whole suite against SQLite and PostgreSQL
test: install node_modules/axe-core
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(BIN)/activate
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/households.py

## After changing user-facing texts: extract, merge into the catalogs, then translate sv
update-translations: $(BIN)/activate
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --omit-header --project Lotsen --ignore-dirs ".venv instance .git" \
	  -o lotsen/translations/messages.pot .
	$(BIN)/pybabel update -N -w 100 -i lotsen/translations/messages.pot -d lotsen/translations

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
