# The two commands of the README, and the pieces they are made of.
#   make demo  - a living demo on the embedded default (SQLite, in-memory channels)
#   make test  - the whole suite against PostgreSQL and Redis
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test install install-test system-deps vision-data lint serve migrate messages clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

# The test extra and the vision extra: Ultralytics and PyTorch (several GB), so that the
# YOLO backend is tested too (tests/test_vision_yolo.py).
$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install -q -e '.[test,vision]'
	touch $@

install: $(VENV)/.base
install-test: $(VENV)/.test

# Debian packages the browser tests need: Chromium (Playwright drives it; it cannot
# download its own here) and CJK fonts for screenshots of Chinese pages.
system-deps:
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk; \
		else sudo apt-get update -q && sudo apt-get install -y -q chromium fonts-noto-cjk; fi; \
	fi

# Real footage of pedestrians for the vision tests: Debian's opencv-doc ships it; it is
# fetched, never committed (the tests fetch it themselves too when it is missing).
VTEST := var/test-cache/vtest.avi
$(VTEST):
	mkdir -p $(@D)
	tmp=$$(mktemp -d) && (cd $$tmp && apt-get download -q opencv-doc && dpkg-deb -x opencv-doc_*.deb x) \
		&& mv $$tmp/x/usr/share/doc/opencv-doc/examples/data/vtest.avi $@ && rm -rf $$tmp
vision-data: $(VTEST)

# The demo is the embedded default whatever the shell exports: SQLite in var/, no Redis.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL -u EMBEDDED_SCHEDULER PORT=$(PORT)

migrate: install
	mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput

# scripts/demo.sh: load_demo (prints the address and the logins; running it again
# changes nothing), then daphne and the hall simulator (simulate_halls --live) together.
# DEMO_SPEED=3: simulated seconds per second.
DEMO_SPEED ?= 3
demo: install migrate
	$(DEMO_ENV) DEMO_SPEED=$(DEMO_SPEED) PY=$(PY) scripts/demo.sh

serve: install
	$(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) hall_ops.asgi:application

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

test: install-test system-deps vision-data lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

messages: install-test
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
