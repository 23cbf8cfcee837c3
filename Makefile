# The two commands of the README: `make serve` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp

.PHONY: serve test lint setup bench fuzz

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed: installing python3-venv" >&2; \
	  apt-get update -q && apt-get install -y -q python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/customjobs serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)
	$(BIN)/python -m bench --quick

# The benchmark suite (bench/README.md): every target as a ratio to a baseline of the same run.
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# B1 and B2 with their peers on this machine (bench/README.md, "Peers"): bench/peers.sh up
# installs what is missing and starts a Ray head (GCS on 6380; 6379 is Redis's) and, as root,
# a one-node Slurm; then the benchmarks; then it stops what it started, whatever they gave.
.PHONY: bench-peers
bench-peers: $(BENCH_STAMP)
	BIN=$(BIN) bench/peers.sh up
	$(BIN)/python -m bench --only B1,B2 $(BENCH_ARGS); rc=$$?; BIN=$(BIN) bench/peers.sh down; exit $$rc

# Fuzz the REST API from docs/openapi.yaml: 110 generated requests per operation, over 2,000 in
# all, against a live server; the suite itself runs about 20 per operation.
FUZZ_EXAMPLES ?= 110
fuzz: $(STAMP)
	CUSTOMJOBS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -s -p no:cacheprovider tests/fuzz
