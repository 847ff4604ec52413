"""Drives `kitty-origin mcp` with the official MCP Python SDK (PyPI `mcp`) over stdio.

Run by host/cli/tests/mcp.rs with the venv `make test` builds. Usage:

    mcp_client.py PLAN_JSON

PLAN_JSON is an object:

    server       the server's argv, e.g. ["kitty-origin", "--repo", "/r", "mcp"]; it inherits
                 this process's environment
    client       "session" (default: ClientSession and the initialize handshake) or "auto"
                 (the high-level Client, which probes server/discover first)
    elicitation  null (the client declares no elicitation capability), or how the
                 "developer" answers every elicitation request: "accept" (confirm: true),
                 "reject" (accept with confirm: false), "decline" or "cancel"
    timeout      seconds each step may take (default 60)
    steps        a list of {"list_tools": true} or {"call": NAME, "arguments": {...}}; an
                 argument "$TOKEN" stands for the confirmation_token of the latest result
                 that returned one (the agent passing it back once the developer agreed)

It prints one JSON object on stdout: the negotiated protocol_version, whether the
server declared tools, every elicitation request it received (message and
requestedSchema), and each step's result (tools, or isError / structuredContent /
the text content). A step that times out or fails is reported and ends the run
with exit status 1.
"""

import json
import os
import sys
import traceback

import anyio
import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.client import Client
from mcp.client.stdio import stdio_client

ANSWERS = {
    "accept": lambda: types.ElicitResult(action="accept", content={"confirm": True}),
    "reject": lambda: types.ElicitResult(action="accept", content={"confirm": False}),
    "decline": lambda: types.ElicitResult(action="decline"),
    "cancel": lambda: types.ElicitResult(action="cancel"),
}


def dump(model):
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def with_token(arguments, token):
    return {name: (token if value == "$TOKEN" else value) for name, value in arguments.items()}


async def run_steps(session, steps, timeout, transcript):
    token = None
    for step in steps:
        with anyio.fail_after(timeout):
            if step.get("list_tools"):
                listed = await session.list_tools()
                transcript["steps"].append({"tools": [dump(tool) for tool in listed.tools]})
            else:
                result = await session.call_tool(step["call"], with_token(step.get("arguments", {}), token))
                if not result.is_error and "confirmation_token" in (result.structured_content or {}):
                    token = result.structured_content["confirmation_token"]
                transcript["steps"].append(
                    {
                        "isError": bool(result.is_error),
                        "structuredContent": result.structured_content,
                        "text": [c.text for c in result.content if isinstance(c, types.TextContent)],
                    }
                )


async def run(plan):
    timeout = float(plan.get("timeout", 60))
    # Each step is bounded by `timeout`, and so is the whole run (connecting included).
    with anyio.fail_after(timeout * (len(plan["steps"]) + 2)):
        return await run_bounded(plan, timeout)


async def run_bounded(plan, timeout):
    transcript = {"elicitations": [], "steps": []}
    answer = plan.get("elicitation")
    callback = None
    if answer is not None:
        make_answer = ANSWERS[answer]

        async def callback(context, params):
            transcript["elicitations"].append(dump(params))
            return make_answer()

    command, *args = plan["server"]
    server = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    if plan.get("client") == "auto":
        # The high-level client: it probes server/discover first and falls back to initialize.
        async with Client(server, read_timeout_seconds=timeout, elicitation_callback=callback) as client:
            transcript["protocol_version"] = client.protocol_version
            transcript["tools_capability"] = client.server_capabilities.tools is not None
            await run_steps(client, plan["steps"], timeout, transcript)
        return transcript
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=timeout, elicitation_callback=callback) as session:
            with anyio.fail_after(timeout):
                init = await session.initialize()
            transcript["protocol_version"] = init.protocol_version
            transcript["tools_capability"] = init.capabilities.tools is not None
            await run_steps(session, plan["steps"], timeout, transcript)
    return transcript


def main():
    plan = json.loads(sys.argv[1])
    try:
        transcript = anyio.run(run, plan)
    except BaseException as err:  # noqa: BLE001 - reported to the Rust test, which fails on it
        traceback.print_exc()
        print(json.dumps({"failed": f"{type(err).__name__}: {err}"}))
        sys.exit(1)
    print(json.dumps(transcript))


if __name__ == "__main__":
    main()
