#!/usr/bin/env bash
# `make bench`: measure the hot paths against their targets (exit 1 if one is missed).
# Usage: bench.sh PREFIX, where `make install PREFIX=PREFIX` installed kitty-origin.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PREFIX=${1:?"usage: bench.sh PREFIX (where make install put kitty-origin; make bench does both)"}
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RELEASE="$TARGET/$(rustc -vV | sed -n 's/^host: //p')/release"
cargo run --quiet --release -p kitty-origin-host --example bench -- \
    "$TARGET/wasm32-wasip2/guest/spec_kitty_origin.wasm" "$PREFIX/bin/kitty-origin" "$RELEASE/kitty-origin" \
    "$RELEASE/kitty-origin-dev-saas"
