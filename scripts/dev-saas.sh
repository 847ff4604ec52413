# Sourced by the scripts that run the dev control plane as its own process
# (`make demo`, `make symbol-order`). Needs DEV_SAAS (its binary), WORK (a
# scratch directory), SPEC_KITTY_TOKEN and SPEC_KITTY_TEAM_SLUG.
SAAS_PID=""

# stop_saas: stop the dev control plane, if it runs.
stop_saas() {
    if [ -n "$SAAS_PID" ]; then kill "$SAAS_PID" 2>/dev/null || true; wait "$SAAS_PID" 2>/dev/null || true; SAAS_PID=""; fi
}

# start_saas ADDR [FLAGS...]: start the dev control plane and export its URL.
start_saas() {
    local addr=$1; shift
    : > "$WORK/saas.log"
    "$DEV_SAAS" --addr "$addr" --token "$SPEC_KITTY_TOKEN" --team "$SPEC_KITTY_TEAM_SLUG" "$@" > "$WORK/saas.log" 2>&1 &
    SAAS_PID=$!
    for _ in $(seq 100); do
        if grep -q '^export SPEC_KITTY_SAAS_URL=' "$WORK/saas.log"; then break; fi
        if ! kill -0 "$SAAS_PID" 2>/dev/null; then cat "$WORK/saas.log" >&2; exit 1; fi
        sleep 0.1
    done
    SPEC_KITTY_SAAS_URL=$(sed -n 's/^export SPEC_KITTY_SAAS_URL=//p' "$WORK/saas.log")
    [ -n "$SPEC_KITTY_SAAS_URL" ] || { echo "the dev control plane did not say where it listens:" >&2; cat "$WORK/saas.log" >&2; exit 1; }
    export SPEC_KITTY_SAAS_URL
}
