# Zhipei — the two commands a new user types are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test check install messages messages-check clean-venv

$(STAMP): pyproject.toml setup.py zhipei/lrs/_ingest.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

.env:
	$(PYTHON) scripts/make_dev_env.py .env

run: $(STAMP) .env
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py load_demo
	bash scripts/run_all.sh

test: $(STAMP)
	$(PY) -m pytest -n 2 -q $(PYTEST_ARGS)

check: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

# Translations: English msgids, zh_Hans primary, en near-identity. Needs GNU gettext.
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

messages-check: $(STAMP)
	$(PY) scripts/check_messages.py
