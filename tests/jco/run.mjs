// Runs the plain component under jco with the stock preview2-shim: events
// come from this script, WASI from the shim, the control plane through
// `kitty-origin proxy`. Usage:
//   node run.mjs TRANSPILED_DIR REPO SAAS_URL (search KEY | start KEY MISSION_TYPE)
// Prints one JSON line: {"ok": result} or {"error": payload}, and "events".
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { WASIShim } from "@bytecodealliance/preview2-shim/instantiation";

const [dir, repo, saasUrl, action, key, missionType] = process.argv.slice(2);
if (!dir || !repo || !saasUrl || !["search", "start"].includes(action) || !key) {
    console.error("usage: node run.mjs TRANSPILED_DIR REPO SAAS_URL (search KEY | start KEY MISSION_TYPE)");
    process.exit(2);
}

const { instantiate } = await import(join(dir, "origin.js"));
const shim = new WASIShim({
    sandbox: { preopens: { [repo]: repo }, env: { SPEC_KITTY_SAAS_URL: saasUrl }, args: [] },
});
const events = [];
const imports = {
    // jco's instantiate names imports without their versions.
    ...shim.getImportObject(),
    "spec-kitty:origin/events": {
        emit(event) {
            events.push(event);
            return "delivered";
        },
    },
};
const loader = async (path) => WebAssembly.compile(await readFile(join(dir, path)));
const { service } = await instantiate(loader, imports);

function call(run) {
    try {
        return { ok: run() };
    } catch (err) {
        return { error: err.payload ?? String(err) };
    }
}

let answer = call(() => service.searchOriginCandidates(repo, undefined, key, 10));
if (action === "start" && answer.ok) {
    const found = answer.ok;
    const candidate = found.candidates[0];
    answer = call(() =>
        service.startMissionFromTicket(repo, candidate, found.provider, found.resourceType, found.resourceId, missionType),
    );
}
console.log(JSON.stringify({ ...answer, events }));
