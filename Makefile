# postlens: `make test` runs everything CI runs; it installs what it needs.
SHELL := bash
VENV := .venv
MOTO := $(VENV)/bin/moto_server

.PHONY: test venv fmt-check clippy unit bench lambda-build

test: venv fmt-check clippy unit

venv: $(MOTO)

$(MOTO): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(MOTO)

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

unit: venv
	cargo test --workspace

# Benchmarks pinned to one core, as the budgets are stated for one vCPU.
bench:
	taskset -c 0 cargo bench -p postlens-analysis -p caption-parser

lambda-build:
	cargo lambda build --release --arm64 -p caption-parser
