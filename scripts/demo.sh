#!/usr/bin/env bash
# `make demo`: the whole job end to end on the embedded dev control plane,
# in a scratch repo and a scratch state directory. Touches nothing else.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RELEASE="$TARGET/$(rustc -vV | sed -n 's/^host: //p')/release"
BIN="$RELEASE/kitty-origin"
DEV_SAAS="$RELEASE/kitty-origin-dev-saas"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kitty-origin-demo.XXXXXX")

export KITTY_ORIGIN_HOME="$WORK/home"
export KITTY_ORIGIN_COMPONENT="$TARGET/wasm32-wasip2/guest/spec_kitty_origin.wasm"
export SPEC_KITTY_TOKEN="demo-token" SPEC_KITTY_TEAM_SLUG="acme"

# shellcheck source=scripts/dev-saas.sh
. "$ROOT/scripts/dev-saas.sh"
trap 'stop_saas; rm -rf "$WORK"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ kitty-origin %s\n' "$*"; "$BIN" "$@"; }

step "Start the dev control plane (a local stand-in of Spec Kitty SaaS)"
start_saas 127.0.0.1:0
head -n 1 "$WORK/saas.log"
ADDR=${SPEC_KITTY_SAAS_URL#http://}

step "A scratch git repo bound to the Linear team acme-web"
REPO="$WORK/acme-web"
mkdir -p "$REPO/.kittify"
git -C "$REPO" init -q -b main
git -C "$REPO" config user.name "Demo Developer"
git -C "$REPO" config user.email "dev@acme.example"
git -C "$REPO" config commit.gpgsign false
printf 'agents:\n  available: [claude]\ntracker:\n  provider: linear\n  project_slug: acme-web\n  display_label: Acme Web\n' > "$REPO/.kittify/config.yaml"
git -C "$REPO" add -A && git -C "$REPO" commit -q -m "Bind the tracker"
cat "$REPO/.kittify/config.yaml"
cd "$REPO"

step "Scenario 1: search by free text"
run search --text "Clerk auth"

step "Scenario 2: search by exact key (an agent reads --json)"
run --json search --key WEB-123

step "Spec Kitty's rule: no mission is planned on a protected branch (nothing is sent)"
run start --key WEB-123 --yes || true

step "Scenario 5: start a mission from the confirmed ticket, on a new feature branch"
run start --key WEB-123 --yes --start-branch feature/clerk-auth
MISSION=$(ls -d kitty-specs/web-123-*)
git log --format='  %h %s' -3

step "The mission's meta.json: the origin ticket, readable offline"
cat "$MISSION/meta.json"

step "Offline path: the control plane's event intake is down"
stop_saas
start_saas "$ADDR" --fail-events server-error
run start --key WEB-127 --yes
run events list

step "The control plane is back: deliver the outbox"
stop_saas
start_saas "$ADDR"
run events flush
run events list

step "Stop the dev control plane"
stop_saas
echo "Demo complete."
