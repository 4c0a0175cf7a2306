# Funnel CRM — everyday commands. Only Python 3.11+ is needed on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test test-fast lint bench install migrate demo messages clean backup restore

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py seed_demo --if-empty

## make run: venv, install, migrate, demo data if empty, web + worker + beat on :8000
run: demo
	@$(BIN)/python manage.py demo_logins
	$(BIN)/honcho start -f Procfile

## make test: every test (SQLite + embedded broker unless DATABASE_URL/REDIS_URL are set)
test: install
	DJANGO_ENV=test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make test-fast: the everyday loop, every test but those marked slow (browser journeys, the 20,000-row
## import, the benchmark in miniature, fuzzing, drills); `make test` and CI still run them all
test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

## make bench [BENCH_ARGS=--reuse]: the speed at scale on PostgreSQL (DATABASE_URL): generates the
## large organisation into an empty database, measures, writes bench/results/<timestamp>.md
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## make lint: ruff format (checked) and ruff, bandit (fails on high severity) and pip-audit (fails on any known
## vulnerability; only an unreachable vulnerability service is a warning, not a failure)
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/bandit -c bandit.yaml -r core crm funnel activities reports config -lll -q
	$(BIN)/python .ci/dependency_audit.py

## make backup: a timestamped backup in var/backups/ (pg_dump -Fc, or SQLite's online backup;
## 0600, encrypted with BACKUP_ENCRYPTION_KEY if set), then the audit chain checked (its head hash printed)
backup: install
	$(BIN)/python manage.py backup_db
	$(BIN)/python manage.py verify_audit

## make restore [BACKUP=var/backups/funnel-….dump]: restore that backup (default: the newest)
restore: install
	$(BIN)/python manage.py restore_db $(BACKUP)

## make messages: refresh and compile the translations (needs GNU gettext)
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=e2e
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) var db.sqlite3
