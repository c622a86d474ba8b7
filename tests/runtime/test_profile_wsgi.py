"""Flask + Flask-SQLAlchemy under the WSGI middleware and the profile driver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backbone.runtime import Analyzer, BackboneWSGIMiddleware, DetectionSettings, NPlusOne, ProfileOptions, Recorder, profile
from backbone.runtime.events import AppInterface, CallSite, RequestRecord
from rt_lines import HERE, marked_line

APP_FILE = "rt_flask_app.py"


@pytest.fixture
def flask_app(tmp_path: Path, instrumentation: object) -> Iterator[Any]:
    import rt_flask_app

    app = rt_flask_app.create_app(str(tmp_path / "flask.sqlite"))
    yield app
    with app.app_context():
        rt_flask_app.db.engine.dispose()


def run(app: Any, *paths: str) -> tuple[list[RequestRecord], Analyzer]:
    recorder = Recorder()
    with httpx.Client(transport=httpx.WSGITransport(app=BackboneWSGIMiddleware(app, recorder)), base_url="http://t") as client:
        statuses = [client.get(path).status_code for path in paths]
    assert statuses == [200] * len(paths)
    analyzer = Analyzer(DetectionSettings())
    analyzer.add(recorder.records())
    return recorder.records(), analyzer


def test_lazy_relationship_is_an_n_plus_one_and_the_eager_twin_is_not(flask_app: Any) -> None:
    import rt_flask_app

    records, analyzer = run(flask_app, "/writers", "/writers/eager")

    assert [(record.route, len(record.queries)) for record in records] == [
        ("/writers", 1 + rt_flask_app.AUTHORS),
        ("/writers/eager", 2),
    ]
    [group] = [issue for issue in analyzer.issues() if isinstance(issue, NPlusOne)]
    path, line = marked_line(APP_FILE, "flask-lazy")
    assert (group.route, group.repeat_count) == ("/writers", rt_flask_app.AUTHORS)
    assert (group.call_site.path, group.call_site.line) == (path, line)  # type: ignore[union-attr]


def test_route_template_is_flasks_rule(flask_app: Any) -> None:
    records, analyzer = run(flask_app, "/writers/1", "/writers/2")

    assert [record.route for record in records] == ["/writers/<int:writer_id>"] * 2
    assert records[0].handler is not None and records[0].handler.function == "get_writer"
    [summary] = analyzer.routes()
    assert (summary.count, summary.queries_per_request) == (2, 1.0)


def test_queries_of_a_streamed_body_count_until_the_body_is_closed(flask_app: Any) -> None:
    records, _ = run(flask_app, "/streamed")

    assert len(records[0].queries) == 3


def test_concurrent_requests_on_threads_keep_their_own_queries(flask_app: Any) -> None:
    recorder = Recorder()
    middleware = BackboneWSGIMiddleware(flask_app, recorder)
    statuses: dict[str, int] = {}

    def get(path: str) -> None:
        with httpx.Client(transport=httpx.WSGITransport(app=middleware), base_url="http://t") as client:
            statuses[path] = client.get(path).status_code

    threads = [threading.Thread(target=get, args=(path,)) for path in ("/concurrent/writers", "/concurrent/novels")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert statuses == {"/concurrent/writers": 200, "/concurrent/novels": 200}
    by_path = {record.path: record for record in recorder.records()}
    assert [q.sql.count("FROM writers") for q in by_path["/concurrent/writers"].queries] == [1, 1]
    assert [q.sql.count("FROM novels") for q in by_path["/concurrent/novels"].queries] == [1, 1]


def test_an_async_flask_view_blocks_only_its_own_private_loop(flask_app: Any) -> None:
    # Flask runs an async view on an event loop of its own, per request, inside the WSGI
    # thread: time.sleep there holds up nothing but that request, so it is no loop stall.
    records, analyzer = run(flask_app, "/async/sleep")

    assert records[0].stalls == ()
    assert analyzer.issues() == ()


def test_profile_drives_a_flask_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_FLASK_DB", str(tmp_path / "driver.sqlite"))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "requests:\n"
        "  - {path: /writers, repeat: 3}\n"
        "  - {path: /writers/eager, repeat: 3}\n"
        "  - {path: /writers/4, repeat: 4, concurrency: 2}\n",
        encoding="utf-8",
    )
    report = profile(
        ProfileOptions(app="rt_flask_app:create_app", factory=True, scenario=str(scenario), app_dir=str(HERE), root=str(HERE))
    )

    assert report.interface is AppInterface.WSGI
    assert {(route.route, route.count) for route in report.routes} == {
        ("/writers", 3),
        ("/writers/eager", 3),
        ("/writers/<int:writer_id>", 4),
    }
    [finding] = report.findings
    assert (finding.code, finding.path, finding.line) == ("RT101", APP_FILE, marked_line(APP_FILE, "flask-lazy")[1])
    assert isinstance(report.issues[0], NPlusOne) and report.issues[0].call_site is not None
    assert isinstance(report.issues[0].call_site, CallSite)


def test_a_flask_app_without_openapi_needs_a_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backbone.runtime import ProfileError

    monkeypatch.setenv("RT_FLASK_DB", str(tmp_path / "driver.sqlite"))
    with pytest.raises(ProfileError, match="no --scenario given"):
        profile(ProfileOptions(app="rt_flask_app:create_app", factory=True, app_dir=str(HERE)))
