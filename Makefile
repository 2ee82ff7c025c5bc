# Pianke: two commands do everything on a fresh machine that has Python 3.11.
#   make run    venv + install + (embedded PostgreSQL/Redis if DATABASE_URL/REDIS_URL unset)
#               + migrate + demo data + serve :8000 with a Celery worker and beat. Ctrl-C stops all.
#   make test   the whole suite, the same way.
#   make lint   ruff (lint and format check) and import-linter's layer contracts.
#   make bench  the benchmarks, printing JSON.
# `make install` installs the locked versions from requirements/dev.txt (see requirements/README.md).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
WITH_SERVICES := $(PY) scripts/devservices.py --
TEST_WORKERS ?= 2
PYTEST_ARGS ?=
LOCK := requirements/dev.txt

.PHONY: install messages run test test-fast lint bench bench-smoke check-deploy clean

# The dependencies come from the lock (exact versions, hash-checked); the project itself is
# installed on top without resolving anything (--no-deps).
$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed messages

# Compiled translations are built from the .po sources (Babel, so no system gettext is needed).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po */locale/*/LC_MESSAGES/*.po))
messages: $(MO_FILES)

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --input-file $< --output-file $@

run: install
	$(WITH_SERVICES) $(PY) scripts/serve.py

test: install
	$(WITH_SERVICES) $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# While iterating: skip the browser tests.
test-fast: install
	$(WITH_SERVICES) $(PY) -m pytest -n $(TEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)

# All three checks run; the target fails if any of them did.
lint: install
	@status=0; \
	echo "ruff check ."; $(VENV)/bin/ruff check . || status=1; \
	echo "ruff format --check ."; $(VENV)/bin/ruff format --check . || status=1; \
	echo "lint-imports .importlinter"; $(VENV)/bin/lint-imports --no-logo .importlinter || status=1; \
	exit $$status

# `make bench` runs them all; `make bench BENCH=slot_search` one of them.
bench: install
	@$(WITH_SERVICES) $(PY) -m bench $(BENCH)

# The quick gate (about 3 minutes): the four benchmarks at a fraction of their size, exit 1 on a
# lost message, a missing offer or a figure under half its goal; appends to bench/history.jsonl.
bench-smoke: install
	@$(WITH_SERVICES) $(PY) -m bench smoke

check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=$$(openssl rand -hex 32) \
	ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	DATABASE_URL=postgres://localhost/pianke REDIS_URL=redis://localhost:6379/0 ALLOWED_HOSTS=pianke.example \
	PIANKE_SITE_URL=https://pianke.example \
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) .local staticfiles
