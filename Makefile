# newsdesk: `make run` sets up and runs the offline job; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
DB     ?= sqlite:///$(CURDIR)/var/newsdesk.db

export NEWSDESK_DATABASE_URL ?= $(DB)
export AIRFLOW_HOME ?= $(CURDIR)/var/airflow
export AIRFLOW__CORE__LOAD_EXAMPLES = False
export AIRFLOW__CORE__DAGS_FOLDER = $(CURDIR)/dags

.PHONY: install browser compose run lint test test-fast migrate airflow bench clean

install: $(STAMP)

# requirements.txt is what a deployment runs; requirements-dev.txt adds the test and lint tools.
$(STAMP): requirements.txt requirements-dev.txt requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt -c requirements.lock
	$(PIP) install --quiet --no-deps -e .
	touch $(STAMP)

migrate: install
	$(VENV)/bin/newsdesk db upgrade

# the warehouse's init step first (migrations, search index, views), as a deployment runs it
run: install
	mkdir -p var
	$(VENV)/bin/newsdesk db upgrade
	$(VENV)/bin/newsdesk run

# Debian's Chromium for the report's browser test (skipped with a message if it cannot be installed).
browser:
	bash scripts/install-chromium.sh || echo "warning: chromium not installed; the browser test will be skipped"

# Debian's docker-compose, to validate docker-compose.yml without an engine (the test is
# skipped with a message if it cannot be installed).
compose:
	bash scripts/install-compose.sh || echo "warning: docker-compose not installed; the compose validation test will be skipped"

# ruff and the import-layer contract (pyproject.toml: [tool.ruff], [tool.importlinter])
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: install browser compose lint
	$(VENV)/bin/pytest -q

# the quick loop: SQLite only, without the tests marked slow (end-to-end Airflow and Celery
# runs, CLI subprocesses, long imports), in 3 processes; `make test` runs everything
test-fast: install lint
	$(VENV)/bin/pytest -q -n 3 -m "not slow" -k "not postgres"

# Airflow standalone on this machine (SQLite warehouse var/newsdesk.db): DAGs, pool and
# connection in place; prints where the admin password is. http://localhost:8080
airflow: install
	mkdir -p var
	$(PY) scripts/airflow_stack.py standalone

bench: install
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf var .pytest_cache
