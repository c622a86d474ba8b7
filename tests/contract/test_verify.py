"""`backbone contract verify`: real FastAPI, Flask and Django apps driven in-process, with deliberate contract breaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from contract_support import PROJECTS, imported_from

from backbone.cli import main
from backbone.contract.handler_findings import findings_in, handler_span
from backbone.contract.verify import VERIFY_RULES
from backbone.findings import Confidence, Finding, Location, Severity


def verify(capsys: pytest.CaptureFixture[str], project: str, target: str, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    root = PROJECTS / project
    with imported_from(root, target.split(".")[0].split(":")[0]):
        code = main(["contract", "verify", target, "--app-dir", str(root), "--format", "json", "--max-examples", "10", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out)["findings"], captured.err


def by_code(findings: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(finding["code"]): finding for finding in findings}


def test_the_rules_have_stable_codes() -> None:
    assert [rule.code for rule in VERIFY_RULES.values()] == [f"CT{3001 + n}" for n in range(len(VERIFY_RULES))]
    assert VERIFY_RULES["server-error"].code == "CT3001"
    assert VERIFY_RULES["invalid-input-accepted"].code == "CT3007"


def test_fastapi_breaks_are_found_at_their_handlers(capsys: pytest.CaptureFixture[str]) -> None:
    code, findings, err = verify(capsys, "verify_fastapi", "verify_fastapi_app:app")
    assert code == 1
    assert "Traceback" not in err
    found = by_code(findings)
    assert set(found) == {"CT3002", "CT3004", "CT3005"}
    crash = found["CT3002"]
    # The handler's def line, the line that raised, the review's finding of the same handler, and the curl.
    assert (crash["path"], crash["line"]) == ("verify_fastapi_app.py", 30)
    message = str(crash["message"])
    assert message.startswith("GET /reports/{report_id} the app raised TypeError")
    assert "at verify_fastapi_app.py:35" in message
    assert "the handler also has BB101 silent-except (line 33)" in message
    assert "reproduce: curl -X GET http://localhost:8000/reports/" in message
    assert found["CT3005"]["line"] == 39 and "answered 409" in str(found["CT3005"]["message"])
    assert found["CT3004"]["line"] == 44 and '"ten" is not of type "integer"' in str(found["CT3004"]["message"])
    # GET /items/{item_id} answers only what it documents: no finding there.
    assert all("/items/" not in str(finding["message"]) for finding in findings)


def test_the_same_seed_sends_the_same_requests(capsys: pytest.CaptureFixture[str]) -> None:
    first = verify(capsys, "verify_fastapi", "verify_fastapi_app:app", "--seed", "7", "--no-review")
    second = verify(capsys, "verify_fastapi", "verify_fastapi_app:app", "--seed", "7", "--no-review")
    assert first[1] == second[1]
    assert all("the handler also has" not in str(finding["message"]) for finding in first[1])


def test_a_conforming_app_gives_no_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, findings, _ = verify(capsys, "verify_conforming", "verify_conforming_app:app", "--max-examples", "25")
    assert (code, findings) == (0, [])


def test_flask_against_its_extracted_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, findings, err = verify(capsys, "verify_flask", "verify_flask_app:app")
    assert code == 1 and "Traceback" not in err
    found = by_code(findings)
    assert set(found) == {"CT3002", "CT3005"}
    assert "the app raised KeyError" in str(found["CT3002"]["message"])
    assert "at verify_flask_app.py:15" in str(found["CT3002"]["message"])
    # The extracted contract documents 200; the handler answers 201.
    assert (found["CT3005"]["line"], "answered 201" in str(found["CT3005"]["message"])) == (19, True)


def test_flask_against_a_written_contract_accepting_invalid_input(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(PROJECTS / "verify_flask" / "openapi.yaml")
    code, findings, _ = verify(capsys, "verify_flask", "verify_flask_app:app", "--spec", spec)
    found = by_code(findings)
    assert code == 1 and set(found) == {"CT3002", "CT3007"}
    accepted = found["CT3007"]
    # Placed at the handler through the extracted contract, though the written one names no source.
    assert (accepted["path"], accepted["line"]) == ("verify_flask_app.py", 19)
    assert "answered 201 to a request that breaks the contract" in str(accepted["message"])
    assert "curl -X POST" in str(accepted["message"])


def test_django_server_error_joins_the_handlers_review_finding(tmp_path: Path) -> None:
    # Django's configuration is process-global: the run gets a process of its own.
    root = PROJECTS / "verify_django"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "backbone", "contract", "verify", "verify_django_site.wsgi:application",
         "--app-dir", str(root), "--format", "json", "--max-examples", "10"],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path, check=False,
    )
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [finding["code"] for finding in findings] == ["CT3001"]  # the 500, reported once (not also as undocumented)
    finding = findings[0]
    assert (finding["path"], finding["line"]) == ("verify_django_site/views.py", 12)
    assert "GET /stock/{sku} answered 500 to a valid request" in finding["message"]
    assert "the handler also has BB101 silent-except (line 15)" in finding["message"]
    assert "Traceback" not in done.stderr


def _write_app(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(body))
    (directory / "backbone.toml").write_text("")


def test_a_handler_that_never_answers_is_reported_at_the_time_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_app(tmp_path, "slow_app", """
        import time
        from flask import Flask

        app = Flask("slow")

        @app.get("/report")
        def report():
            time.sleep(4)
            return "late"

        @app.get("/status")
        def status():
            return "up"
        """)
    started = time.monotonic()
    with imported_from(tmp_path, "slow_app"):
        code = main(["contract", "verify", "slow_app:app", "--app-dir", str(tmp_path), "--format", "json",
                     "--time-limit", "0.5", "--no-review"])
    elapsed = time.monotonic() - started
    document = json.loads(capsys.readouterr().out)
    findings = document["findings"]
    assert code == 1 and elapsed < 4
    assert [finding["code"] for finding in findings] == ["CT3003"]
    assert "GET /report no answer within the time limit (0.5 s)" in findings[0]["message"]
    run = document["run"]
    assert (run["operations"], run["operations_tested"], run["operations_not_tested"]) == (2, 1, ["GET /status"])
    assert run["stopped_at_time_limit"] is True and run["time_limit_s"] == 0.5 and run["requests"] == 1


def test_the_run_is_summed_up_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    root = PROJECTS / "verify_conforming"
    arguments = ["contract", "verify", "verify_conforming_app:app", "--app-dir", str(root), "--max-examples", "3", "--seed", "11"]
    with imported_from(root, "verify_conforming_app"):
        assert main([*arguments, "--format", "json"]) == 0
        run = json.loads(capsys.readouterr().out)["run"]
        assert main([*arguments, "--format", "markdown"]) == 0
        markdown = capsys.readouterr().out
    assert run["seed"] == 11 and run["max_examples"] == 3 and run["operations_not_tested"] == []
    assert run["operations"] == run["operations_tested"] > 0 and run["requests"] >= run["operations"]
    assert run["stopped_at_time_limit"] is False
    assert f"| requests sent | {run['requests']} |" in markdown and "| seed | 11 |" in markdown


def test_secrets_in_the_reproducing_request_are_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    _write_app(tmp_path, "keyed_app", f"""
        from typing import Literal

        from fastapi import FastAPI
        from pydantic import BaseModel

        app = FastAPI()

        class Transfer(BaseModel):
            note: Literal["{secret}"]

        @app.post("/transfers")
        def transfer(body: Transfer) -> dict[str, int]:
            raise RuntimeError("ledger offline")
        """)
    with imported_from(tmp_path, "keyed_app"):
        code = main(["contract", "verify", "keyed_app:app", "--app-dir", str(tmp_path), "--no-review", "--max-examples", "3"])
    out = capsys.readouterr().out
    assert code == 1
    assert "CT3002" in out and "RuntimeError: ledger offline" in out and '"note": "sk_l***' in out
    assert secret not in out


def test_bad_targets_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "verify", str(tmp_path)]) == 2
    assert "give the app as module:attribute" in capsys.readouterr().err
    _write_app(tmp_path, "broken_app", "raise RuntimeError('no database configured')\n")
    with imported_from(tmp_path, "broken_app"):
        assert main(["contract", "verify", "broken_app:app", "--app-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "importing broken_app failed: RuntimeError: no database configured" in err and "Traceback" not in err
    _write_app(tmp_path, "plain_app", "app = 42\n")
    (tmp_path / "notes.yaml").write_text("- just a list\n")
    with imported_from(tmp_path, "plain_app"):
        assert main(["contract", "verify", "plain_app:app", "--app-dir", str(tmp_path)]) == 2
        assert "not an ASGI or WSGI application" in capsys.readouterr().err


def test_a_written_contract_that_is_not_openapi_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "notes.yaml"
    spec.write_text("- just a list\n")
    root = PROJECTS / "verify_conforming"
    with imported_from(root, "verify_conforming_app"):
        assert main(["contract", "verify", "verify_conforming_app:app", "--app-dir", str(root), "--spec", str(spec)]) == 2
    assert "an OpenAPI document is a mapping" in capsys.readouterr().err


def test_the_handler_span_takes_in_decorators_and_nothing_past_the_function(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(textwrap.dedent("""\
        import functools


        @functools.lru_cache
        def first():
            return 1


        def second():
            return 2
        """))
    span = handler_span("views.py:5", tmp_path)
    assert span == ((tmp_path / "views.py").resolve(), 4, 6)

    def at(line: int) -> Finding:
        return Finding("BB101", "silent-except", Severity.WARNING, Confidence.HIGH, Location("views.py", line), "m")

    assert [finding.line for finding in findings_in(span, [at(4), at(6), at(10)], tmp_path)] == [4, 6]
    assert findings_in(handler_span("missing.py:3", tmp_path), [at(3)], tmp_path) == ()


def test_the_setup_hook_prepares_the_app_and_tears_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_app(tmp_path, "store_app", """
        from flask import Flask, jsonify

        app = Flask("store")
        ITEMS = None

        @app.get("/items")
        def items():
            return jsonify(sorted(ITEMS))
        """)
    _write_app(tmp_path, "store_setup", """
        import store_app

        def setup(app):
            store_app.ITEMS = {"mug": 1}
            yield
            store_app.ITEMS = None
        """)
    arguments = ["contract", "verify", "store_app:app", "--app-dir", str(tmp_path), "--format", "json", "--no-review"]
    with imported_from(tmp_path, "store_app", "store_setup"):
        assert main(arguments) == 1
        assert "the app raised TypeError" in json.loads(capsys.readouterr().out)["findings"][0]["message"]
        assert main([*arguments, "--setup", "store_setup:setup"]) == 0
        assert json.loads(capsys.readouterr().out)["findings"] == []
        assert sys.modules["store_app"].ITEMS is None  # the hook's teardown ran
        assert main([*arguments, "--setup", "store_setup:missing"]) == 2
        assert "has no attribute 'missing'" in capsys.readouterr().err


def test_no_thread_is_left_behind(capsys: pytest.CaptureFixture[str]) -> None:
    # schemathesis drives ASGI apps from an event-loop thread of its own; it is stopped (and the
    # app's lifespan shut down) when verify is done, so the review's workers can still be forked.
    before = set(threading.enumerate())
    code, _, _ = verify(capsys, "verify_fastapi", "verify_fastapi_app:app", "--max-examples", "2")
    assert code == 1
    assert [thread for thread in threading.enumerate() if thread not in before] == []


def test_an_operation_the_contract_describes_badly_is_listed_as_not_tested(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = PROJECTS / "verify_conforming"
    spec = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/orders/{order_id}": {"get": {"parameters": [{"$ref": "#/components/parameters/Missing"}],
                                       "responses": {"200": {"description": "ok"}}}},
        "/orders": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                             "responses": {"201": {"description": "ok"}, "422": {"description": "bad"}}}}}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    with imported_from(root, "verify_conforming_app"):
        main(["contract", "verify", "verify_conforming_app:app", "--app-dir", str(root), "--spec", str(tmp_path / "spec.json"),
              "--max-examples", "2", "--format", "json", "--no-review"])
    run = json.loads(capsys.readouterr().out)["run"]
    assert (run["operations"], run["operations_tested"], run["operations_not_tested"]) == (2, 1, ["GET /orders/{order_id}"])
    assert run["stopped_at_time_limit"] is False
