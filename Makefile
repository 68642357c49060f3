# Fieldline: the two set-up commands (`make demo`, `make test`) and a few helpers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) backend/manage.py
export PYTHONDONTWRITEBYTECODE := 1
# Two workers: the machines this runs on have two cores. Tests of one xdist group run on
# one worker (the replica tests share one temporary primary and standby).
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: demo test test-fast install lint format schema bench clean browser pgbouncer test-replica fuzz

# Runtime (requirements.lock) and development/test tools (requirements-dev.lock, which
# includes the runtime set) are locked apart; the production image installs the first only.
$(VENV)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

# The demo runs with DEBUG on (the settings default to off): its built-in key, its
# inline jobs and runserver's static files are for trying Fieldline out only.
demo: export DEBUG := true
# The demo's stores are in Hamburg and Munich: its pages show their local time.
demo: export TIME_ZONE ?= Europe/Berlin
demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --if-empty
	$(MANAGE) runserver 127.0.0.1:8000

# Headless Chromium for the browser tests (tests/hq/test_browser.py): Debian's package,
# installed when missing and we are root; otherwise those tests skip (fail under CI).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; \
	else echo "chromium not found and not root: the browser tests will be skipped"; fi

# PgBouncer for the replica tests (tests/replicas/: a temporary primary, its hot standby
# and a transaction-mode pool in front): Debian's package, installed when missing and we
# are root; otherwise those tests run without the pool (and fail under CI).
pgbouncer:
	@if command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's pgbouncer for the replica tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null; }; \
	else echo "pgbouncer not found and not root: the replica tests run without the pool"; fi

# Only the hot standby tests (a real primary, standby, pool and two app servers).
test-replica: install pgbouncer
	$(VENV)/bin/pytest -p no:xdist -m replica tests/replicas

test: install browser pgbouncer
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		npm ci --prefix tests/clients --no-audit --no-fund; \
	else echo "node not found: skipping WatermelonDB client tests"; fi
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		npm ci --prefix tests/fieldapp --no-audit --no-fund && node --test tests/fieldapp/; \
	elif [ -n "$$CI" ]; then echo "node and npm are required under CI for the app's sync client tests"; exit 1; \
	else echo "node not found: skipping the app's sync client tests"; fi
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The edit-test loop: the whole suite but the tests that start a server, a browser, a
# worker or a Node client (marked `live`); `make test` runs those too.
test-fast: install
	$(VENV)/bin/pytest $(PYTEST_ARGS) -m "not live"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Generating the schema reads the code only; the demo settings do for it.
schema: export DEBUG := true
schema: install
	$(MANAGE) spectacular --file api_schema/openapi.yaml --validate

clean:
	rm -rf $(VENV) var

bench: install
	$(PY) -m tests.bench.run --size $(or $(SIZE),small)

# The input fuzz suite at length (CI runs it with 2 examples per door as part of `test`).
fuzz: install
	FIELDLINE_FUZZ_EXAMPLES=$(or $(EXAMPLES),25) $(VENV)/bin/pytest -p no:xdist -s tests/test_input_fuzz.py
