"""Round trip of `vmaf_score` over MCP stdio, with the official Python SDK as the client.

    python3 scripts/mcp_bench.py VMAFX_MCP REF DIST RUNS

Starts the server once, initializes, makes one warm-up call, then RUNS timed calls. Prints
JSON: the session start (spawn + initialize) and the call wall times in seconds.
"""

import asyncio
import json
import os
import statistics
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main():
    server, ref, dist, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    root = os.path.dirname(os.path.abspath(ref))
    params = StdioServerParameters(command=server, args=["--allow-root", root, "--threads", "2"])
    t0 = time.perf_counter()
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            start = time.perf_counter() - t0
            args = {"reference": ref, "distorted": dist}
            await session.call_tool("vmaf_score", args)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                result = await session.call_tool("vmaf_score", args)
                times.append(time.perf_counter() - t)
                assert not result.is_error, result.content
    print(json.dumps({"session_start_s": start, "median_s": statistics.median(times), "times": times,
                      "vmaf": result.structured_content["vmaf"]}))


asyncio.run(main())
