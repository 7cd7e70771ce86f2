# Set-up and everyday commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgres lint migrate demo run-async demo-message flower \
	browser screenshots

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite; DATABASE_URL picks the database (SQLite when unset). PYTEST_ARGS adds
# pytest options (.ci/run's second pass).
test: install browser
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

# Debian's chromium (and a CJK font) for the browser tests: installed as root, else the command.
browser:
	@bash devtools/ensure_browser.sh

# The browser tests again, saving their screenshots where README shows them.
screenshots: install browser
	BROWSER_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -p no:xdist \
		apps/operations/tests/test_browser.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Async mode on this machine: Redis (started if not answering), the platforms stand-in with the
# demo chat apps, gunicorn, Celery workers (chat, reports) and beat, all in the foreground; Ctrl-C
# stops them.
PLATFORMS_PORT ?= 9100
ASYNC_ENV := CELERY_BROKER_URL=redis://127.0.0.1:6379/0 AI_ASSISTANT_USE_ASYNC=true \
	AI_ASSISTANT_PLATFORMS_STAND_IN=http://127.0.0.1:$(PLATFORMS_PORT)

run-async: demo
	$(BIN)/python manage.py demo_channels
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	$(ASYNC_ENV) $(BIN)/python -m devtools.run_async --host $(HOST) --port $(PORT) \
		--platforms-port $(PLATFORMS_PORT)

# With `make run-async` running: a signed "NZ-S1.5 库存" from the demo WeChat account bound to
# wh1; prints the webhook's notice and the reply the worker sent. CHANNEL=wecom|dingtalk|telegram.
CHANNEL ?= wechat
demo-message: install
	$(BIN)/python -m devtools.demo send --channel $(CHANNEL) --server http://$(HOST):$(PORT) \
		--platforms http://127.0.0.1:$(PLATFORMS_PORT)

# Flower, Celery's dashboard, on 127.0.0.1:5555 for the broker of `make run-async` (which starts
# it too). Log in with FLOWER_BASIC_AUTH (user:password). Workers send task events with -E.
FLOWER_BASIC_AUTH ?= admin:demo-flower-2026
flower: install
	$(ASYNC_ENV) FLOWER_BASIC_AUTH=$(FLOWER_BASIC_AUTH) $(BIN)/celery -A better_laser_erp flower \
		--address=127.0.0.1 --port=5555
