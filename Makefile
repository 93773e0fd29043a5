# The two commands: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck migrations-check check messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up and run the demo county (贾汪区) on http://127.0.0.1:$${PORT:-8000}
demo: $(STAMP)
	$(BIN)/wenming demo

## Set up and run the whole test suite (SQLite, or the database in DATABASE_URL)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports  # the layers (pyproject.toml [tool.importlinter])

typecheck: $(STAMP)
	WENMING_TESTING=1 $(BIN)/mypy src

migrations-check: $(STAMP)
	WENMING_TESTING=1 $(BIN)/wenming makemigrations --check --dry-run

check: lint typecheck migrations-check test

## Recompile translations after editing src/wenming/locale/*/LC_MESSAGES/django.po
messages: $(STAMP)
	cd src/wenming && ../../$(BIN)/django-admin makemessages -l en --no-obsolete --settings=wenming.settings && ../../$(BIN)/django-admin compilemessages --settings=wenming.settings

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
