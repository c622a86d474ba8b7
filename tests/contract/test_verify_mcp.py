"""`contract verify` through MCP: the run in a child process, bounded in time, its summary in the answer."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from contract_support import PROJECTS
from mcp import Client
from mcp.shared.exceptions import MCPError

from backbone.mcp_server import build_server


def ask(arguments: dict[str, Any]) -> tuple[bool, str]:
    answer: list[tuple[bool, str]] = []

    async def run() -> None:
        async with Client(build_server()) as client:
            try:
                result = await client.call_tool("contract", arguments)
            except MCPError as error:
                answer.append((True, str(error)))
                return
            answer.append((bool(result.is_error), result.content[0].text))  # type: ignore[union-attr]

    anyio.run(run)
    return answer[0]


def test_verify_through_mcp_reports_the_breaks_and_the_run() -> None:
    failed, text = ask({"action": "verify", "target": "verify_fastapi_app:app", "app_dir": str(PROJECTS / "verify_fastapi"),
                        "max_examples": 5, "seed": 3, "time_limit_s": 60})
    assert not failed, text
    document = json.loads(text)
    assert "CT3002" in {finding["code"] for finding in document["findings"]}
    run = document["run"]
    assert (run["seed"], run["max_examples"], run["time_limit_s"]) == (3, 5, 60)
    assert run["requests"] > 0 and run["operations_not_tested"] == []


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"time_limit_s": 100_000}, "time_limit_s: between 0.1 and 300"),
    ({"max_examples": 0}, "max_examples: between 1 and 1000"),
    ({"setup": "--help"}, "is not a path"),
])
def test_verify_through_mcp_is_bounded(arguments: dict[str, Any], expected: str) -> None:
    failed, text = ask({"action": "verify", "target": "verify_fastapi_app:app", **arguments})
    assert failed and expected in text and "Traceback" not in text


def test_verify_through_mcp_names_a_target_that_is_no_app(tmp_path: Any) -> None:
    failed, text = ask({"action": "verify", "target": str(tmp_path)})
    assert failed and "give the app as module:attribute" in text
