# Two commands on a fresh machine: `make run` and `make test`. Everything else is bootstrapped.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run` has a database of its own, not the CLI's default ./followup.db: a fake-clock session
# there (the README's first one) would otherwise be sent on the real clock by the next `make run`.
# Its spool too (followup-run-spool). An exported FOLLOWUP_DATABASE_URL is used as given. `make run PORT=8001 HOST=0.0.0.0`.
RUN_DB ?= $(or $(FOLLOWUP_DATABASE_URL),sqlite:///followup-run.db)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint venv migrate bench soak clean triage-eval

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/followup --db '$(RUN_DB)' db upgrade

# Console channels unless Twilio/SMTP settings are present in the environment.
run: migrate
	FOLLOWUP_SPOOL_DIR="$${FOLLOWUP_SPOOL_DIR:-followup-run-spool}" \
	    $(BIN)/followup --db '$(RUN_DB)' run --host '$(HOST)' --port '$(PORT)'

# The suite starts its own throw-away PostgreSQL cluster when initdb/pg_ctl exist (tests/pg.py).
# TEST_JOBS=1 runs it in one process. Each process has its own PostgreSQL cluster and free ports.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_JOBS) $(PYTEST_ARGS)

# ruff (lint and format, settings in pyproject.toml). `ruff format .` fixes the formatting.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The triage corpus (tests/triage/) through the real inbound handler: both halves' figures (docs/CLINICAL.md).
triage-eval: $(STAMP)
	$(BIN)/python tests/triage/evaluate.py

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# 100,000 patients for a simulated week on PostgreSQL (docs/RELIABILITY.md); SOAK_ARGS="--patients 2000 --days 2" for a quick one.
soak: $(STAMP)
	cd bench && ../$(BIN)/python soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info
