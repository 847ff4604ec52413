#!/usr/bin/env bash
# `make symbol-order`: lay kitty-origin's start-up code out together. Samples,
# with perf, the built binary's searches against the dev control plane (its own
# process, on loopback) and writes the functions that ran, most sampled first,
# to host/cli/symbol-order.txt, which lld reads when it links kitty-origin
# (host/cli/build.rs): a start then faults in fewer pages of code. Run it again
# after a change of dependencies or compiler, when the names in the file no
# longer match (they are then ignored: the layout falls back to the linker's).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RELEASE="$TARGET/$(rustc -vV | sed -n 's/^host: //p')/release"
OUT="$ROOT/host/cli/symbol-order.txt"
ROUNDS=${ROUNDS:-300}
command -v perf >/dev/null || { echo "symbol-order: needs perf (apt-get install linux-perf)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kitty-origin-symbol-order.XXXXXX")
DEV_SAAS="$RELEASE/kitty-origin-dev-saas"
export SPEC_KITTY_TOKEN=order-token SPEC_KITTY_TEAM_SLUG=acme KITTY_ORIGIN_HOME="$WORK/home"
# shellcheck source=scripts/dev-saas.sh
. "$ROOT/scripts/dev-saas.sh"
trap 'stop_saas; rm -rf "$WORK"' EXIT
start_saas 127.0.0.1:0
export KITTY_ORIGIN_COMPONENT="$TARGET/wasm32-wasip2/guest/spec_kitty_origin.wasm"
mkdir -p "$WORK/repo/.kittify"
printf 'tracker:\n  provider: linear\n  project_slug: acme-web\n' > "$WORK/repo/.kittify/config.yaml"
cp "$RELEASE/kitty-origin" "$WORK/kitty-origin"

echo "symbol-order: sampling $ROUNDS rounds of kitty-origin search (JSON and text)"
perf record -q -F 40000 -e cpu-clock:u -o "$WORK/perf.data" -- bash -c '
    for _ in $(seq "$1"); do
        "$2" --repo "$3" --json search --key WEB-123 > /dev/null
        "$2" --repo "$3" search --text "Clerk auth" > /dev/null
    done' sh "$ROUNDS" "$WORK/kitty-origin" "$WORK/repo"
perf script -i "$WORK/perf.data" --no-demangle -F ip,sym,dso 2>/dev/null \
    | sed -nE "s|^ *[0-9a-f]+ ([^ ]+) \\($WORK/kitty-origin\\)\$|\\1|p" \
    | sed -E 's/\+0x[0-9a-f]+$//' | sort | uniq -c | sort -k1,1nr -k2 | awk '{print $2}' > "$WORK/order.txt"
[ -s "$WORK/order.txt" ] || { echo "symbol-order: perf sampled nothing of kitty-origin" >&2; exit 1; }
mv "$WORK/order.txt" "$OUT"
echo "symbol-order: $(wc -l < "$OUT") functions in ${OUT#"$ROOT"/}; make build relinks kitty-origin with them"
