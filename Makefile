# postlens: `make test` runs everything CI runs; it installs what it needs.
SHELL := bash
VENV := .venv
MOTO := $(VENV)/bin/moto_server

.PHONY: demo test venv fmt-check clippy unit infra-check bench lambda-build

# The README's "run it" command: the local fan-out on moto (see `postlens demo --help`).
demo: venv
	cargo run --quiet -p postlens -- demo

test: venv fmt-check clippy infra-check unit

venv: $(MOTO)

$(MOTO): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(MOTO)

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# The SAM template is validated offline: cfn-lint through `sam validate --lint`, then
# checkov (findings are fixed or skipped with a reason next to the resource).
infra-check: venv
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint -t infra/template.yaml
	$(VENV)/bin/checkov -f infra/template.yaml --quiet --compact --skip-download

unit: venv
	cargo test --workspace

# Benchmarks pinned to one core, as the budgets are stated for one vCPU.
bench:
	taskset -c 0 cargo bench -p postlens-analysis -p caption-parser

lambda-build:
	cargo lambda build --release --arm64 -p caption-parser
