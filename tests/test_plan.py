"""`backbone plan` on the example service: a decision record from the code, the logs and a profile."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from backbone import api
from backbone.cli import main
from backbone.plan import EvidenceError

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("plan-logs") / "logs"
    runpy.run_path(str(SHOP / "scripts" / "generate_logs.py"))["generate"](directory, seed=7, rate=6.0, minutes=120)
    return directory


@pytest.fixture(scope="module")
def code_only() -> str:
    plan = api.plan(SHOP)
    from backbone.plan.render import markdown

    return markdown(plan)


def test_record_names_routes_writes_outbound_queue_and_questions(code_only: str) -> None:
    record = code_only
    assert record.startswith("# Design decision record: shop")
    # Routes from the handler registry, with the file:line of their handler.
    assert "`POST /orders`" in record and "shop/routers/orders.py:22" in record
    assert "`GET /orders/shipping-quote`" in record
    write_section = record.split("### Write-heavy routes", 1)[1].split("###", 1)[0]
    # place_order writes through the service layer the handler calls.
    assert "`POST /orders`: `db.execute(...)` (shop/services/orders.py:42)" in write_section
    # A GET whose code commits is a write route, and said so.
    assert "`GET /orders/{order_id}/status`" in write_section and "answers GET, yet changes data" in write_section
    assert "`GET /products`" not in write_section
    outbound = record.split("### Outbound calls handlers wait on", 1)[1].split("###", 1)[0]
    assert "`GET /orders/shipping-quote` waits on `requests.get()` (requests) at shop/routers/orders.py:66: **no timeout**" in outbound
    # The httpx client built with a timeout is bounded.
    assert "`POST /payments` waits on `_client().post()` (httpx) at shop/services/payments.py:67: has a timeout" in outbound
    queues = record.split("### Queues", 1)[1].split("##", 1)[0]
    assert "BackgroundTasks (in-process, lost on restart) (shop/routers/orders.py:32)" in queues
    assert "No task queue" in queues
    questions = record.split("## Open questions", 1)[1]
    for topic in ("peak rps", "acceptable p99", "consistency across regions", "cost vs latency", "timeout", "queue"):
        assert f"**{topic}**" in questions
    assert "No logs or profile given" in record
    assert "### Scale tier: unknown" in record
    assert "### API style: REST" in record and "| tRPC |" in record.replace("| tRPC | Evidence |", "| tRPC |")


def test_logs_give_observed_rates_with_their_source(logs: Path, tmp_path: Path) -> None:
    output = tmp_path / "plan.md"
    assert main(["plan", str(SHOP), "--logs", str(logs), "-o", str(output)]) == 0
    record = output.read_text()
    access = str(logs / "access.log.gz")
    traffic = record.split("### Traffic", 1)[1].split("###", 1)[0]
    assert f"requests/s on average (source: {access})" in traffic
    assert "Peak: " in traffic and "requests/s, averaged over the busiest 30 s window" in traffic
    assert "p99: up to" in traffic and "Server error rate:" in traffic
    # Per route: the logged /orders/{id} matches the code's /orders/{order_id}.
    row = next(line for line in record.splitlines() if line.startswith("| `GET /orders/{order_id}` |"))
    assert "rps mean, p99 " in row and access in row
    row = next(line for line in record.splitlines() if line.startswith("| `POST /orders` |"))
    assert "% 5xx" in row and "0.0% 5xx" not in row  # the double submits answered 500
    assert "## Open questions" in record and "**peak rps**" not in record and "**growth**" in record
    assert "### Scale tier: T0 single instance" in record
    assert "### Read/write balance: read-heavy" in record


def test_json_shape(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(SHOP), "--logs", str(logs), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == 1
    assert set(document) >= {"routes", "queues", "traffic", "balance", "api_matrix", "decisions", "questions", "problems"}
    routes = {f"{' '.join(route['methods'])} {route['route']}": route for route in document["routes"]}
    quote = routes["GET /orders/shipping-quote"]
    assert quote["outbound"] == [{
        "library": "requests", "call": "requests.get()", "source": "shop/routers/orders.py:66",
        "timeout": False, "problem": "has no timeout",
    }]
    assert quote["observed"]["p99_ms"] > 1000 and quote["observed"]["source"].endswith("access.log.gz")
    assert routes["POST /orders"]["balance"] == "write-heavy"
    assert routes["GET /products"]["balance"] == "read-heavy"
    assert document["traffic"]["peak_rps"] >= document["traffic"]["mean_rps"] > 0
    assert {decision["name"] for decision in document["decisions"]} == {"API style", "Scale tier", "Read/write balance"}
    assert all(set(row["scores"]) == {"REST", "gRPC", "GraphQL", "tRPC"} for row in document["api_matrix"])
    assert {question["topic"] for question in document["questions"]} >= {"acceptable p99", "consistency across regions"}


def test_profile_gives_p99_per_route(tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"version": 1, "routes": [
        {"method": "GET", "route": "/products/{product_id}", "count": 40, "p99_ms": 12.5, "errors": 2},
        {"method": "GET", "count": 3},
    ], "findings": []}))
    plan = api.plan(SHOP, profile=profile)
    observed = next(route.observed for route in plan.routes if route.route == "/products/{product_id}")
    assert observed is not None and observed.p99_ms == 12.5 and observed.rate_rps is None
    assert observed.error_rate == pytest.approx(0.05) and observed.source == str(profile)
    assert any("1 route entries" in problem for problem in plan.problems)


@pytest.mark.parametrize("arguments, message", [
    (["plan", "does/not/exist"], "does/not/exist: no such file or directory"),
    (["plan", str(SHOP), "--logs", "missing.log"], "missing.log: no such file or directory"),
    (["plan", str(SHOP), "--profile", "missing.json"], "missing.json: no such file"),
])
def test_missing_input_is_a_clear_error(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert f"backbone: error: {message}" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_profile_that_is_not_a_report_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert main(["plan", str(SHOP), "--profile", str(bad)]) == 2
    assert "not JSON" in capsys.readouterr().err
    bad.write_text('{"findings": []}')
    with pytest.raises(EvidenceError, match="not a backbone profile report"):
        api.plan(SHOP, profile=bad)


def test_a_project_with_a_lock_and_a_queue(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from celery import shared_task\n"
        "from fastapi import FastAPI\n"
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import Session\n"
        "from models import Account\n"
        "app = FastAPI()\n"
        "\n"
        "@app.post('/accounts/{account_id}/debit')\n"
        "def debit(account_id: int, db: Session) -> None:\n"
        "    account = db.scalars(select(Account).where(Account.id == account_id).with_for_update()).one()\n"
        "    account.balance -= 1\n"
        "    db.commit()\n"
    )
    (tmp_path / "models.py").write_text(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "class Base(DeclarativeBase):\n    pass\n"
        "class Account(Base):\n"
        "    __tablename__ = 'account'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    balance: Mapped[int]\n"
    )
    plan = api.plan(tmp_path)
    [route] = plan.routes
    assert [str(source) for source in route.locks] == ["app.py:9"]
    assert [access.text for access in route.transactions] == ["db.commit()"]
    assert [(queue.library, str(queue.source)) for queue in plan.queues] == [("Celery", "app.py")]
    assert not any(question.topic == "queue" for question in plan.questions)


def test_mcp_plan_tool(logs: Path) -> None:
    import anyio
    from mcp import Client

    from backbone.mcp_server import build_server

    async def run() -> None:
        async with Client(build_server()) as client:
            result = await client.call_tool("plan", {"path": str(SHOP), "logs": [str(logs)]})
            assert not result.is_error, result.content
            document = json.loads(result.content[0].text)  # type: ignore[union-attr]
            cli = api.plan(SHOP, logs=[logs])
            assert [route["route"] for route in document["routes"]] == [route.route for route in cli.routes]
            assert document["traffic"]["requests"] == cli.traffic.requests if cli.traffic else False
            missing = await client.call_tool("plan", {"path": str(SHOP / "nowhere")})
            assert missing.is_error
            text = missing.content[0].text  # type: ignore[union-attr]
            assert "no such file or directory" in text and "Traceback" not in text

    anyio.run(run)


def test_unreadable_logs_keep_the_record_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(bytes(range(256)) * 8)
    assert main(["plan", str(SHOP), "--logs", str(garbage)]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("# Design decision record: shop") and "`POST /orders`" in captured.out
    assert "no readable input in the logs given" in captured.err and "Traceback" not in captured.err
    assert "**peak rps**" in captured.out


def test_readable_logs_without_access_lines_leave_the_rates_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app_log = tmp_path / "app.log"
    app_log.write_text("2024-06-04 09:00:01,000 INFO shop.main: started\n2024-06-04 09:00:02,000 INFO shop.main: ready\n")
    assert main(["plan", str(SHOP), "--logs", str(app_log), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["traffic"] is None
    assert "the logs hold no access log: no request rates, p99 or error rates" in document["problems"]
    assert "peak rps" in {question["topic"] for question in document["questions"]}
