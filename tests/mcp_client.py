"""Drives vmafx-mcp with the official MCP Python SDK (PyPI `mcp`), as an agent would.

    python3 mcp_client.py stdio SCENARIO.json -- vmafx-mcp ARGS...
    python3 mcp_client.py http  SCENARIO.json URL TOKEN CA.pem

SCENARIO is a list of {"tool": NAME, "arguments": {...}} calls, made in order on one session
after `initialize` and `tools/list`; a call with "cancel_after": SECONDS is abandoned after
that long (the SDK then sends notifications/cancelled). Prints one JSON object: the server's name, the tool
names, and per call the structured result (or the error text), whether it was an error, and
the progress notifications received.
"""

import asyncio

import anyio
import json
import ssl
import sys

import httpx2

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def drive(read, write, calls):
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        tools = await session.list_tools()
        out = {
            "server": init.server_info.name,
            "protocol": init.protocol_version,
            "tools": sorted(t.name for t in tools.tools),
            "schemas": {t.name: t.input_schema for t in tools.tools},
            "calls": [],
        }
        for call in calls:
            progress = []

            async def on_progress(done, total, message, progress=progress):
                progress.append({"done": done, "total": total, "message": message})

            if "cancel_after" in call:
                with anyio.move_on_after(call["cancel_after"]):
                    await session.call_tool(call["tool"], call.get("arguments", {}), progress_callback=on_progress)
                    raise RuntimeError(f"{call['tool']} finished before it could be cancelled")
                out["calls"].append({"tool": call["tool"], "cancelled": True, "progress": progress})
                await anyio.sleep(1.0)  # let the server act on the cancellation
                continue
            result = await session.call_tool(call["tool"], call.get("arguments", {}), progress_callback=on_progress)
            text = " ".join(getattr(c, "text", "") for c in result.content)
            out["calls"].append(
                {
                    "tool": call["tool"],
                    "is_error": bool(result.is_error),
                    "result": result.structured_content,
                    "text": text,
                    "progress": progress,
                }
            )
        return out


async def main():
    mode, scenario = sys.argv[1], json.load(open(sys.argv[2]))
    if mode == "stdio":
        command = sys.argv[sys.argv.index("--") + 1 :]
        params = StdioServerParameters(command=command[0], args=command[1:])
        async with stdio_client(params) as (read, write):
            out = await drive(read, write, scenario)
    else:
        url, token, ca = sys.argv[3], sys.argv[4], sys.argv[5]
        client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        # The server's certificate is signed by its own private CA: trust that one only.
        client = httpx2.AsyncClient(headers=client.headers, timeout=client.timeout, verify=ssl.create_default_context(cafile=ca))
        async with client:
            async with streamable_http_client(url, http_client=client) as streams:
                out = await drive(streams[0], streams[1], scenario)
    print(json.dumps(out))


asyncio.run(main())
