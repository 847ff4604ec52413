#!/usr/bin/env bash
# `make bench`: measure the hot paths against their targets (exit 1 if one is missed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
cargo run --quiet --release -p kitty-origin-host --example bench -- \
    "$TARGET/wasm32-wasip2/guest/spec_kitty_origin.wasm" "$TARGET/release/kitty-origin" "$TARGET/release/kitty-origin-dev-saas"
