"""Warm review latency through `backbone mcp` against the CLI, on one tree.

Usage: python bench/mcp_latency.py TREE [--repeat N] [--paths P ...]

- CLI warm: `backbone review PATHS --format json --exit-zero` in TREE, as a subprocess, with
  the cache of a first run in place (so the time includes the interpreter's start, as a user
  or an agent shelling out to the CLI pays it).
- MCP warm: one `backbone mcp --directory TREE` server over stdio (the SDK's client), a first
  `review` call to warm it, then the same `review` call timed (the default page of findings).

Medians of --repeat runs; the target is MCP within 20% of the CLI (ratio <= 1.2).
Prints one JSON object. Exit status 0 when the target is met, 1 when missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters


def cli_times(tree: Path, paths: list[str], repeat: int) -> list[float]:
    command = [sys.executable, "-m", "backbone", "review", *paths, "--format", "json", "--exit-zero"]
    subprocess.run(command, cwd=tree, capture_output=True, check=True)  # fills the cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=tree, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


async def mcp_times(tree: Path, paths: list[str], repeat: int) -> tuple[list[float], int]:
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "backbone", "mcp", "--directory", str(tree)])
    times = []
    total = 0
    async with Client(parameters, read_timeout_seconds=600) as client:
        await client.call_tool("review", {"paths": paths})
        for _ in range(repeat):
            start = time.perf_counter()
            result = await client.call_tool("review", {"paths": paths})
            times.append(time.perf_counter() - start)
            assert not result.is_error, result.content
            total = json.loads(result.content[0].text)["page"]["total"]  # type: ignore[union-attr]
    return times, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--paths", nargs="*", default=["."])
    arguments = parser.parse_args()
    tree = arguments.tree.resolve()
    cli = cli_times(tree, arguments.paths, arguments.repeat)
    mcp, findings = anyio.run(mcp_times, tree, arguments.paths, arguments.repeat)
    ratio = statistics.median(mcp) / statistics.median(cli)
    print(json.dumps({
        "tree": str(tree), "paths": arguments.paths, "findings": findings,
        "cli_warm_median_s": round(statistics.median(cli), 3), "mcp_warm_median_s": round(statistics.median(mcp), 3),
        "cli_warm_s": [round(value, 3) for value in cli], "mcp_warm_s": [round(value, 3) for value in mcp],
        "ratio": round(ratio, 3), "target": 1.2,
    }, indent=2))
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
