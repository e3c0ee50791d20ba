# diemcau — the two commands of the README, and a few helpers.
#   make run    set up (first time; Debian's janus too), migrate, load the demo, serve on
#               http://127.0.0.1:8000 with this machine's Janus as the demo's MCU node
#   make test   run the whole test suite
#   make fuzz-api  schemathesis against the live API (also in CI)
#   make test-quick  the same without the slow groups (real Janus, Chromium, racing processes,
#               PostgreSQL: pyproject's markers), for the edit-and-test loop

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-quick setup janus-package lint demo messages assets clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml scripts/bootstrap.sh
	PYTHON=$(PYTHON) scripts/bootstrap.sh
	@touch $@

# Installs Debian's janus when missing (root or sudo); without it the site runs, minus media.
janus-package:
	@scripts/bootstrap.sh --janus

run: setup janus-package
	$(BIN)/diemcau migrate --noinput
	$(BIN)/diemcau demo
	@# Django's own checks; the deployment checks (--deploy) only warn about what a
	@# development run on 127.0.0.1 does on purpose, so they belong to production (README).
	@$(BIN)/diemcau check --fail-level ERROR | grep -v "no issues" || true
	@echo "diemcau: http://$(HOST):$(PORT)/  (Ctrl+C to stop; Janus and the worker run alongside)"
	HOST=$(HOST) PORT=$(PORT) BIN=$(BIN) scripts/run.sh

test: setup
	$(BIN)/pytest

QUICK_MARKERS := not janus and not browser and not race and not postgres

test-quick: setup
	$(BIN)/pytest -m "$(QUICK_MARKERS)"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy src/diemcau

demo: setup
	$(BIN)/diemcau migrate --noinput
	$(BIN)/diemcau demo

messages: setup
	cd src/diemcau && ../../$(BIN)/diemcau makemessages -l vi -l en --no-obsolete \
		--ignore 'testing/*' --ignore '*/tests/*'
	cd src/diemcau && ../../$(BIN)/diemcau compilemessages

assets:
	scripts/vendor-assets.sh

clean:
	rm -rf $(VENV) var/static

# Scheduling benchmark (bench/README.md): make bench-scheduling BENCH_ARGS=--quick
.PHONY: bench-scheduling
bench-scheduling: setup
	$(BIN)/python bench/scheduling.py $(BENCH_ARGS)

# The REST API fuzzed by schemathesis on a live server (uvicorn, a fresh database with the
# demo), once with an MCU operator's token and once with a commune technician's, each run at
# most FUZZ_MAX_TIME seconds; fails on any 5xx or any answer the OpenAPI document does not
# describe. FUZZ_DATABASE_URL=postgres://…/NAME fuzzes a database NAME_fuzz on that server.
FUZZ_MAX_TIME ?= 90
.PHONY: fuzz-api
fuzz-api: setup
	FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) $(BIN)/python scripts/fuzz_api.py
# Mixer benchmark (bench/README.md, "Mixer"; root for the delay part): make bench-mixer BENCH_ARGS="--part cpu"
.PHONY: bench-mixer
bench-mixer: setup
	$(BIN)/python bench/mixer.py $(BENCH_ARGS)
# The Monday-morning rush on a real server (bench/README.md; PostgreSQL, Redis, Janus):
# make bench-load BENCH_ARGS="--duration 60"
.PHONY: bench-load
bench-load: setup
	$(BIN)/python bench/load.py $(BENCH_ARGS)
# Reports benchmark (bench/README.md): make bench-reports BENCH_ARGS=--quick
.PHONY: bench-reports
bench-reports: setup
	$(BIN)/python bench/reports.py $(BENCH_ARGS)
