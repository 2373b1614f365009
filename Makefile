# conference — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app
CHECKERS := tests/a11y/node_modules

.PHONY: run test setup setup-dev translations extract-messages db lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

setup: $(VENV)/.installed translations instance/config.py

setup-dev: $(VENV)/.installed-dev translations $(CHECKERS)/.installed

## The accessibility checkers the tests run (axe-core, vnu.jar), from the npm registry: tests only, never served.
$(CHECKERS)/.installed: tests/a11y/package.json tests/a11y/package-lock.json
	cd tests/a11y && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## Compile the committed .po catalogues into the .mo files Flask-Babel reads.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d translations --statistics 2>&1 | grep -v "^$$" || true
	@ls translations/*/LC_MESSAGES/messages.mo > /dev/null

## Refresh messages.pot and the .po catalogues from the code and templates (developers).
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --sort-by-file --no-wrap .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete

## A random SECRET_KEY for this installation, written once.
instance/config.py:
	@mkdir -p instance
	@$(PYTHON) -c "import secrets; print('SECRET_KEY = ' + repr(secrets.token_hex(32)))" > $@
	@echo "instance/config.py: new SECRET_KEY written"

db: setup
	$(FLASK) init-db

run: db
	$(FLASK) seed-demo --if-empty
	@echo "http://127.0.0.1:$(PORT)  (coordinator / conference-demo)"
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - app:app

test: setup-dev
	$(BIN)/pytest -n auto --dist worksteal --durations=15

## Every benchmark (pages at 1,000, 50,000 and 500,000 households on SQLite and on PostgreSQL, gunicorn throughput,
## Word files); writes docs/PERFORMANCE.md. One database only: `make bench DATABASE=postgresql` (or sqlite). Needs wrk
## (installed with apt-get when missing and run as root) and, for PostgreSQL, a local server (started when it is not
## running and this runs as root, as .ci/run does; BENCH_POSTGRES_URL names another).
DATABASE ?= sqlite,postgresql
bench: setup-dev
	@command -v wrk > /dev/null || { [ "$$(id -u)" = 0 ] && apt-get -qq install -y --no-install-recommends wrk > /dev/null; } \
		|| { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/run.py --databases $(DATABASE)

## Style and bug checks (ruff), then static security checks (bandit); a false positive gets a
## `# nosec BXXX  # reason` comment where it stands, never a blanket skip.
lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r conference app.py

clean:
	rm -rf $(VENV) .pytest_cache translations/*/LC_MESSAGES/*.mo $(CHECKERS)
