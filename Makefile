# pgconform - thin calls of the runner, with the old lab's vocabulary.
# Orchestration lives in the runner's fixtures; these targets only build and call it.
BUILD ?= build
PGC := $(BUILD)/pgconform
RESULTS ?= results
HISTORY ?= history
JOBS ?= 2

.PHONY: all deps build conformance check test unit lint format nightly \
	postgres15 postgres16 postgres17 pgpass pgclient status stop \
	patroni-up patroni-status patroni-down test-patroni \
	pgpool-up pgpool-status pgpool-down test-pgpool test-all reap

all: build

deps:
	@bash ctest/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: every reference topology, every suite, reports in $(RESULTS)/.
conformance: build
	$(PGC) run all --results $(RESULTS)

# The project's tests: unit tests, CLI tests, every topology's suites and the negative variants.
check: build
	cd $(BUILD) && ctest --output-on-failure --timeout 1800

test: check

unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure

# Full conformance appended to a history, then the regression report over it.
nightly: build
	$(PGC) run all --results $(RESULTS) || true
	@mkdir -p $(HISTORY)
	@cp $(RESULTS)/results.json $(HISTORY)/results-$$(date -u +%Y%m%dT%H%M%SZ).json
	$(PGC) report --history $(HISTORY) --out $(RESULTS)/report

postgres15: build
	$(PGC) up standalone-15
postgres16: build
	$(PGC) up standalone-16
postgres17: build
	$(PGC) up standalone-17
pgclient:
	psql "host=127.0.0.1 port=5432 user=postgres"
pgpass:
	@test -n "$$DB_ROOT_PASSWORD" || { echo "set DB_ROOT_PASSWORD first"; exit 2; }
	@umask 077; echo "127.0.0.1:5432:*:postgres:$$DB_ROOT_PASSWORD" >> $$HOME/.pgpass
	@echo "added 127.0.0.1:5432 to ~/.pgpass"
status: build
	-$(PGC) status standalone-15 standalone-16 standalone-17 patroni pgpool
stop: build
	$(PGC) down all

patroni-up: build
	$(PGC) up patroni
patroni-status: build
	$(PGC) status patroni
patroni-down: build
	$(PGC) down patroni
test-patroni: build
	$(PGC) run patroni --results $(RESULTS)

pgpool-up: build
	$(PGC) up pgpool
pgpool-status: build
	$(PGC) status pgpool
pgpool-down: build
	$(PGC) down pgpool
test-pgpool: build
	$(PGC) run pgpool --results $(RESULTS)

test-all: conformance

reap: build
	$(PGC) reap

format:
	clang-format -i fixtures/*.[ch] reports/*.[ch] runner/*.[ch] suites/*.[ch] suites/*/*.c tests/*.c

lint:
	clang-format --dry-run --Werror fixtures/*.[ch] reports/*.[ch] runner/*.[ch] suites/*.[ch] suites/*/*.c tests/*.c
