"""`backbone profile` against apps that misbehave: a report always, and a truthful one.

Hanging routes time out (RT105) and the run goes on; Ctrl-C gives a partial report;
SystemExit in a route is that request's failure; a stream that breaks mid-body and a
statement that raises are recorded as what they are.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import rt_hostile_app
from backbone.runtime import DetectionSettings, ProfileOptions, ProfileReport, profile
from backbone.runtime.command import profile_command
from backbone.runtime.detectors import RouteSummary
from rt_lines import HERE, marked_line

FASTAPI = "rt_hostile_app:create_fastapi"
FLASK = "rt_hostile_app:create_flask"


@pytest.fixture(autouse=True)
def hostile_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RT_HOSTILE_DB", str(tmp_path / "hostile.sqlite"))
    monkeypatch.chdir(HERE)
    rt_hostile_app.release.clear()
    # Ctrl-C reaches Python as KeyboardInterrupt only under its own SIGINT handler, which a process
    # started with SIGINT ignored (nohup, a background job) does not get: set it, as a terminal has it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    # Lets the threads of sync handlers that were given up on end.
    rt_hostile_app.release.set()


def run(tmp_path: Path, app: str, scenario: str, **detection: Any) -> ProfileReport:
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario, encoding="utf-8")
    options = ProfileOptions(app=app, factory=True, scenario=str(path), detection=DetectionSettings(**detection))
    try:
        return profile(options)
    except (KeyboardInterrupt, SystemExit) as error:
        pytest.fail(f"profile() raised {type(error).__name__} instead of returning a report")


def route(report: ProfileReport, path: str) -> RouteSummary:
    return next(found for found in report.routes if found.route == path)


APPS = pytest.mark.parametrize(("app", "hang_path"), [(FASTAPI, "/hang/async"), (FASTAPI, "/hang/sync"), (FLASK, "/hang")])


@APPS
def test_a_route_that_never_answers_times_out_and_the_run_goes_on(tmp_path: Path, app: str, hang_path: str) -> None:
    started = time.perf_counter()
    report = run(
        tmp_path,
        app,
        f"requests: [{{path: /ok}}, {{path: {hang_path}, repeat: 2}}, {{path: /ok, repeat: 2}}]\n",
        request_timeout_s=0.4,
    )
    # Two timeouts of 0.4 s, not two hangs of HANG_SECONDS.
    assert time.perf_counter() - started < rt_hostile_app.HANG_SECONDS
    assert report.partial_reason is None and report.requests == 5
    assert dict(route(report, hang_path).statuses) == {"timed out": 2}
    assert route(report, hang_path).errors == 2
    assert dict(route(report, "/ok").statuses) == {"200": 3}
    [timeout] = [finding for finding in report.findings if finding.code == "RT105"]
    assert timeout.scope == f"GET {hang_path}"
    assert "had no answer within 0.4 s (in 2 of 2 requests)" in timeout.message
    assert Path(timeout.location.path).name == "rt_hostile_app.py"


def test_the_request_timeout_option_reaches_the_report(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("requests: [{path: /hang/async}, {path: /ok}]\n", encoding="utf-8")
    result = CliRunner().invoke(
        profile_command,
        [FASTAPI, "--factory", "--scenario", str(scenario), "--no-progress", "--format", "json", "--request-timeout", "0.3"],
        standalone_mode=False,
    )
    document = json.loads(result.stdout)
    assert result.return_value == 1
    assert document["summary"]["settings"]["request_timeout_s"] == 0.3
    assert [(finding["code"], finding["route"]) for finding in document["findings"]] == [("RT105", "GET /hang/async")]
    assert {entry["route"]: entry["statuses"] for entry in document["routes"]} == {
        "/hang/async": {"timed out": 1},
        "/ok": {"200": 1},
    }


@pytest.mark.parametrize("app", [FASTAPI, FLASK])
def test_ctrl_c_gives_the_report_of_what_was_measured_marked_partial(tmp_path: Path, app: str) -> None:
    report = run(tmp_path, app, "requests: [{path: /ok, repeat: 3}, {path: /interrupt}, {path: /ok, repeat: 5}]\n")
    assert report.partial_reason is not None and report.partial_reason.startswith("interrupted (Ctrl-C)")
    assert "of 9 requests" in report.partial_reason
    assert dict(route(report, "/ok").statuses) == {"200": 3}
    assert report.requests == 3


def test_ctrl_c_exits_130_after_writing_the_partial_report(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("requests: [{path: /ok}, {path: /interrupt}]\n", encoding="utf-8")
    result = CliRunner().invoke(
        profile_command, [FASTAPI, "--factory", "--scenario", str(scenario), "--no-progress"], standalone_mode=False
    )
    assert result.return_value == 130
    assert result.stdout.splitlines()[1].startswith("PARTIAL REPORT: interrupted (Ctrl-C) after 1 of 2 requests")
    assert "GET /ok" in result.stdout


@pytest.mark.parametrize(("app", "paths"), [(FASTAPI, ("/exit", "/exit/sync")), (FLASK, ("/exit",))])
def test_system_exit_in_a_route_is_a_failed_request_and_the_run_goes_on(
    tmp_path: Path, app: str, paths: tuple[str, ...]
) -> None:
    requests = ", ".join(f"{{path: {path}, repeat: 2}}" for path in paths)
    report = run(tmp_path, app, f"requests: [{requests}, {{path: /ok}}]\n")
    assert report.partial_reason is None
    for path in paths:
        assert dict(route(report, path).statuses) == {"500": 2}
    assert dict(route(report, "/ok").statuses) == {"200": 1}
    assert any("raised SystemExit" in note and "the run went on" in note for note in report.notes)


@pytest.mark.parametrize("app", [FASTAPI, FLASK])
def test_a_stream_that_breaks_mid_body_is_an_error_marked_aborted(tmp_path: Path, app: str) -> None:
    report = run(tmp_path, app, "requests: [{path: /stream/crash, repeat: 2}, {path: /ok}]\n")
    crashed = route(report, "/stream/crash")
    assert dict(crashed.statuses) == {"200 aborted stream": 2}
    assert crashed.errors == 2
    assert route(report, "/ok").errors == 0


@pytest.mark.parametrize("app", [FASTAPI, FLASK])
def test_statements_that_raise_are_counted_and_marked_failed(tmp_path: Path, app: str) -> None:
    report = run(tmp_path, app, "requests: [{path: /queries/failing, repeat: 2}]\n")
    failing = route(report, "/queries/failing")
    assert failing.queries_per_request == rt_hostile_app.FAILING_QUERIES
    assert failing.failed_queries == 2 * rt_hostile_app.FAILING_QUERIES
    [group] = [finding for finding in report.findings if finding.code == "RT101"]
    assert group.location.line == marked_line("rt_hostile_app.py", "failing-query")[1]
    assert f"{rt_hostile_app.FAILING_QUERIES} of the repeats failed" in group.message


def test_the_text_report_shows_aborted_and_timed_out_requests(tmp_path: Path) -> None:
    from backbone.report import OutputFormat, render
    from backbone.runtime import profile_document

    report = run(tmp_path, FASTAPI, "requests: [{path: /stream/crash}, {path: /hang/async}]\n", request_timeout_s=0.3)
    text = render(profile_document(report), OutputFormat.TEXT)
    assert "GET /stream/crash: 200 aborted stream x1." in text
    assert "GET /hang/async: timed out x1." in text



def test_a_loop_late_under_load_on_a_plain_def_route_is_no_stall(tmp_path: Path) -> None:
    # 500 requests at once to a sync handler: the handlers run on the thread pool, and the loop
    # runs late scheduling them and waiting for the GIL. No line of the app blocked it: no RT103,
    # least of all one without a stack; the lateness is a note.
    report = run(tmp_path, FASTAPI, "requests: [{path: /plain, repeat: 500, concurrency: 500}]\n", stall_ms=10)
    assert [finding.message for finding in report.findings if finding.code == "RT103"] == []
    assert dict(route(report, "/plain").statuses) == {"200": 500}
    assert any(note.startswith("The event loop ran late") and "not reported as RT103" in note for note in report.notes)


def test_a_real_stall_is_still_reported_with_its_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_FASTAPI_DB", str(tmp_path / "stall.sqlite"))
    report = run(tmp_path, "rt_fastapi_app:create_app", "requests: [{path: /async/stall}]\n", stall_ms=100)
    [stall] = [issue for issue in report.issues if issue.code == "RT103"]
    assert stall.stack and stall.call_site == stall.stack[0]
    assert stall.call_site is not None and stall.call_site.line == marked_line("rt_fastapi_app.py", "stall")[1]


STUCK_APP = """\
import threading
from fastapi import FastAPI

app = FastAPI()
never = threading.Event()


@app.get("/stuck")
def stuck() -> dict[str, bool]:
    never.wait()
    return {"ok": True}


@app.get("/ok")
def ok() -> dict[str, bool]:
    return {"ok": True}
"""


def test_the_command_ends_after_the_report_though_a_handler_is_stuck_for_good(tmp_path: Path) -> None:
    # The stuck handler holds one of the framework's (non-daemon) worker threads forever.
    (tmp_path / "stuck_app.py").write_text(STUCK_APP, encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("requests: [{path: /stuck}, {path: /ok}]\n", encoding="utf-8")
    command = "from backbone.cli import entrypoint; entrypoint()"
    arguments = ["profile", "stuck_app:app", "--app-dir", str(tmp_path), "--scenario", str(scenario)]
    result = subprocess.run(
        [sys.executable, "-c", command, *arguments, "--no-progress", "--format", "json", "--request-timeout", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    document = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr
    assert [finding["code"] for finding in document["findings"]] == ["RT105"]
    assert any("still running when the run ended" in note for note in document["notes"])


def test_a_handler_that_holds_the_event_loop_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    """`while True` in an `async def` never yields: no await can time it out, so backbone's guard
    stops it (SIGALRM into the main thread, where the loop runs) and the run goes on."""
    started = time.perf_counter()
    report = run(tmp_path, FASTAPI, "requests: [{path: /hang/loop}, {path: /ok, repeat: 2}]\n", request_timeout_s=0.5)
    assert time.perf_counter() - started < rt_hostile_app.HANG_SECONDS
    assert report.partial_reason is None and report.requests == 3
    assert dict(route(report, "/hang/loop").statuses) == {"timed out": 1}
    assert dict(route(report, "/ok").statuses) == {"200": 2}
    [timeout] = [finding for finding in report.findings if finding.code == "RT105"]
    assert timeout.scope == "GET /hang/loop"
