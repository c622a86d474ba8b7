"""`backbone mcp`, driven by the MCP SDK's own client: in-process (the SDK's in-memory
transport) for a scripted session on the example service, and over stdio for the command."""

from __future__ import annotations

import json
import runpy
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

from backbone import api
from backbone.mcp_server import build_server
from backbone.report.command_codes import all_entries
from backbone.review.rules import all_rules
from helpers import review_json

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop"


@pytest.fixture()
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".backbone_cache", "__pycache__"))
    monkeypatch.chdir(copy)
    return copy


def session(script: Callable[[Client], Awaitable[None]]) -> None:
    async def run() -> None:
        async with Client(build_server()) as client:
            await script(client)

    anyio.run(run)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    text = result.content[0].text  # type: ignore[union-attr]
    document: dict[str, Any] = json.loads(text)
    return document


async def tool_error(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text
    return text


def test_a_scripted_session_on_the_example_service(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = review_json(capsys, ".", "--exit-zero", "--no-cache").json()

    async def script(client: Client) -> None:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"review", "rule", "profile", "debug", "plan", "explain", "contract", "migrations_trace"}
        assert {"paths", "select", "changed_only", "min_confidence"} <= set(tools["review"].input_schema["properties"])

        # The whole service: the CLI's JSON document, with the page counts added.
        whole = await call(client, "review", {})
        assert whole.pop("page") == {"offset": 0, "limit": 100, "returned": len(cli["findings"]),
                                     "total": len(cli["findings"]), "next_offset": None}
        assert whole == cli

        # One router: its cross-file N+1 is found (the project is indexed whole).
        orders = await call(client, "review", {"paths": ["shop/routers/orders.py"]})
        assert ("BB203", 51) in [(item["code"], item["line"]) for item in orders["findings"]]
        assert orders["summary"]["files_reviewed"] == 1

        # Paging: every finding exactly once, with the counts.
        pages: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            page = await call(client, "review", {"offset": offset, "limit": 3})
            assert page["page"]["total"] == len(cli["findings"]) and page["page"]["returned"] <= 3
            assert {**page["summary"], "files_from_cache": 0} == cli["summary"]
            pages.extend(page["findings"])
            offset = page["page"]["next_offset"]
        assert pages == cli["findings"]

        # Selection and confidence.
        selected = await call(client, "review", {"select": ["BB2"], "min_confidence": "high"})
        assert selected["findings"] and all(
            item["code"].startswith("BB2") and item["confidence"] == "high" for item in selected["findings"]
        )

        # A rule's documentation, by code and by name.
        rule = await call(client, "rule", {"code": "BB203"})
        assert rule["code"] == "BB203" and rule["documentation"].startswith("# BB203 lazy-relation-in-loop")
        assert (await call(client, "rule", {"code": "lazy-relation-in-loop"})) == rule

        # The catalog as resources.
        listed = await client.list_resources()
        uris = {str(resource.uri) for resource in listed.resources}
        assert uris == {"backbone://rules", *(f"backbone://rules/{entry.code}" for entry in all_entries())}
        # Every command's codes, as `backbone rule` prints them.
        for code, command in (("RT101", "profile"), ("LG101", "debug"), ("EX110", "explain"), ("CT1001", "contract"),
                              ("MT701", "migrations"), ("BB000", "review")):
            document = await call(client, "rule", {"code": code})
            assert document["command"] == command and document["documentation"] == api.rule_markdown(code)
        page = await client.read_resource("backbone://rules/BB203")
        assert page.contents[0].text == rule["documentation"]  # type: ignore[union-attr]
        catalog = await client.read_resource("backbone://rules")
        assert all(code in catalog.contents[0].text for code in all_rules())  # type: ignore[union-attr]

    session(script)


def test_errors_are_mcp_errors_never_tracebacks(shop: Path) -> None:
    async def script(client: Client) -> None:
        for arguments in ({"select": ["ZZ9"]}, {"min_confidence": "certain"}, {"limit": 0}, {"offset": -1},
                          {"base": "main"}):
            with pytest.raises(MCPError) as raised:
                await client.call_tool("review", arguments)
            assert "Traceback" not in str(raised.value)
        with pytest.raises(MCPError, match="unknown rule"):
            await client.call_tool("rule", {"code": "BB999"})
        assert "no such file or directory: nowhere" in await tool_error(client, "review", {"paths": ["nowhere"]})
        (shop / "backbone.toml").write_text("selekt = []\n")
        assert "unknown key" in await tool_error(client, "review", {})
        (shop / "backbone.toml").unlink()
        assert "git" in await tool_error(client, "review", {"changed_only": True})
        assert "no readable input" in await tool_error(client, "debug", {"logs": [str(shop / "README.md")]})
        assert "No module named" in await tool_error(client, "profile", {"app": "no_such_module:app"})

    session(script)


def test_changed_only_reviews_the_change(shop: Path) -> None:
    from test_changed_lines import NEW_CALL, git

    git(shop, "init", "-q", "-b", "main")
    git(shop, "add", "-A")
    git(shop, "commit", "-q", "-m", "shop")
    orders = shop / "shop" / "routers" / "orders.py"
    orders.write_text(orders.read_text() + NEW_CALL)

    async def script(client: Client) -> None:
        changed = await call(client, "review", {"changed_only": True})
        assert [item["code"] for item in changed["findings"]] == ["BB102"]
        assert (await call(client, "review", {"changed_only": True, "base": "HEAD"}))["findings"] == [
            changed["findings"][0]
        ]

    session(script)


def test_debug_and_profile_tools(shop: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    runpy.run_path(str(shop / "scripts" / "generate_logs.py"))["generate"](logs, seed=7, rate=6.0, minutes=120)

    async def script(client: Client) -> None:
        debugged = await call(client, "debug", {"logs": [str(logs)]})
        assert debugged["version"] == 1 and debugged["causes"]
        profiled = await call(client, "profile", {
            "app": "shop.main:app", "app_dir": ".", "setup": "shop_profile_setup:setup", "scenario": "scenario.yaml",
        })
        assert profiled["requests"] > 0 and profiled["routes"]
        assert "RT101" in {finding["code"] for finding in profiled["findings"]}

    session(script)


def test_the_mcp_command_serves_over_stdio(shop: Path) -> None:
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "backbone", "mcp", "--directory", str(shop)],
                                       cwd=str(shop.parent))

    async def run() -> None:
        with anyio.fail_after(120):
            async with Client(parameters) as client:
                tools = {tool.name for tool in (await client.list_tools()).tools}
                assert tools == {"review", "rule", "profile", "debug", "plan", "explain", "contract", "migrations_trace"}
                result = await call(client, "review", {"paths": ["shop/routers/orders.py"], "limit": 1})
                assert result["page"]["returned"] == 1 and result["page"]["total"] > 1

    anyio.run(run)


def test_an_unexpected_failure_is_a_masked_one_line_tool_error(shop: Path, monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from backbone import api

    def broken(request: api.ReviewRequest) -> None:
        raise RuntimeError("connect failed postgresql://app:Sup3rS3cretPassw0rd@db/shop")

    monkeypatch.setattr(api, "review", broken)

    async def script(client: Client) -> None:
        message = await tool_error(client, "review", {})
        assert "internal error: RuntimeError: connect failed" in message and "please report" in message
        assert "Sup3rS3cretPassw0rd" not in message and "\n" not in message
        wrong_type = await client.call_tool("review", {"limit": "many"})
        assert wrong_type.is_error and "Traceback" not in wrong_type.content[0].text  # type: ignore[union-attr]

    session(script)
    assert "Traceback" not in caplog.text and "Sup3rS3cretPassw0rd" not in caplog.text


def test_explain_contract_and_migrations_tools(shop: Path, tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "orders.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total INTEGER)")
        connection.executemany("INSERT INTO orders (customer_id, total) VALUES (?, ?)",
                               [(index % 500, index) for index in range(20_000)])
    changed = tmp_path / "changed.json"

    async def script(client: Client) -> None:
        explained = await call(client, "explain", {
            "database": f"sqlite:///{database}", "sql": "SELECT total FROM orders WHERE customer_id = 7",
        })
        assert explained["queries"] and explained["dialect"] == "sqlite"
        spec = await call(client, "contract", {"action": "extract", "target": "."})
        assert "/orders" in spec["paths"]
        del spec["paths"]["/orders"]
        changed.write_text(json.dumps(spec))
        extracted = tmp_path / "head.json"
        extracted.write_text(json.dumps(await call(client, "contract", {"action": "extract", "target": "."})))
        diff = await call(client, "contract", {"action": "diff", "target": str(extracted), "head": str(changed)})
        assert any("/orders" in finding["message"] for finding in diff["findings"])
        linted = await call(client, "contract", {"action": "lint", "target": "."})
        assert linted["version"] == 1
        with pytest.raises(MCPError, match="is not a path"):
            await client.call_tool("contract", {"action": "lint", "target": "--help"})
        with pytest.raises(MCPError, match="expected extract, diff, lint or verify"):
            await client.call_tool("contract", {"action": "drop"})
        missing = await tool_error(client, "explain", {"database": f"sqlite:///{tmp_path / 'absent.db'}",
                                                       "sql": "SELECT 1"})
        assert "no such SQLite file" in missing
        traced = await call(client, "migrations_trace", {"project": "."})
        assert "MT701" in {finding["code"] for finding in traced["findings"]}

    session(script)


def test_an_answer_over_the_size_bound_is_a_tool_error(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import backbone.mcp_server as server_module

    monkeypatch.setattr(server_module, "MAX_RESULT_CHARS", 200)

    async def script(client: Client) -> None:
        assert "narrow the request" in await tool_error(client, "rule", {"code": "BB201"})

    session(script)
