# Funnel CRM — everyday commands. Only Python 3.11+ is needed on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test lint bench install migrate demo messages clean

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

lint: install
	$(BIN)/ruff check .

## make messages: refresh and compile the translations (needs GNU gettext)
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=e2e
	$(BIN)/python manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var db.sqlite3
