# The two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install lint bench clean chromium

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	DEBUG=true $(BIN)/python manage.py runall

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# The browser tests drive Debian's Chromium; Playwright never downloads a browser here.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "Chromium is not installed and this is not root: browser tests will be skipped."; \
	  fi; }

# Two pytest runs: the suite on SQLite, then tests/postgres/ with the database on PostgreSQL
# (skipped with a message when none is running, mandatory under CI=true). Both always run;
# the target fails if either did. Each runs in parallel on pytest-xdist's workers (one per
# CPU), every worker on its own databases and files (tests/var_dir.py); TEST_WORKERS=0 runs
# them in one process, and -n in PYTEST_ARGS overrides it for one run.
TEST_WORKERS ?= auto
test: lint chromium
	@status=0; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	$(BIN)/python -m tests.postgres -n $(TEST_WORKERS) $(POSTGRES_PYTEST_ARGS) || status=$$?; \
	exit $$status

bench: install
	for script in bench/*_bench.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
