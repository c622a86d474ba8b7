"""The pytest plugin: fail or warn a test on N+1 queries or an exceeded query budget.

    @pytest.mark.backbone(max_queries=5)        # the test may run at most 5 queries
    def test_list_orders(client): ...

    pytest --backbone-n-plus-one=fail            # every test: N+1 fails it (or =warn)

Marker arguments: `max_queries` (int), `n_plus_one` ("fail", "warn" or "off", overrides
the command line for that test), `n_plus_one_threshold` (int, default 5).
Queries are captured while the test function runs (not its fixtures): those of
the test body (SQLAlchemy, the Django ORM, sqlite3 or psycopg used directly) and
those of the requests it sends through FastAPI/Starlette's TestClient, Flask's
test client and Django's test clients, each request judged on its own for N+1.
A summary table of the captured tests prints at the end of the session.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from backbone.records import Record
from backbone.redaction import mask
from backbone.runtime import capture as capture_state
from backbone.runtime import instrument
from backbone.runtime.capture import RequestCapture
from backbone.runtime.detectors import RepeatedQuery, relative_path, repeated_queries
from backbone.runtime.hooks_django import attach_to_current_connections

_MODES = ("fail", "warn", "off")
DEFAULT_THRESHOLD = 5


class BackboneQueryWarning(UserWarning):
    """A test showed N+1 queries, reported as a warning (`--backbone-n-plus-one=warn`)."""


class _TestSettings(Record, frozen=True):
    n_plus_one: str
    threshold: int
    max_queries: int | None


class _SummaryRow(msgspec.Struct):
    nodeid: str
    queries: int
    requests: int
    n_plus_one: int
    budget: int | None
    verdict: str


class _PluginState(msgspec.Struct):
    mode: str
    threshold: int
    root: Path
    instrumentation: instrument.Instrumentation | None = None
    rows: list[_SummaryRow] = msgspec.field(default_factory=list)

    def ensure_instrumented(self) -> None:
        """Capture with the layers of the database libraries imported so far (sqlite3 always)."""
        if self.instrumentation is None:
            self.instrumentation = instrument.Instrumentation()
        self.instrumentation.refresh()

    def uninstall(self) -> None:
        if self.instrumentation is not None:
            self.instrumentation.close()
            self.instrumentation = None


_STATE_KEY = pytest.StashKey[_PluginState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backbone", "backbone query checks")
    group.addoption(
        "--backbone-n-plus-one",
        choices=_MODES,
        default=None,
        help="Fail or warn every test whose requests or ORM use show N+1 queries (default: ini backbone_n_plus_one, off).",
    )
    group.addoption(
        "--backbone-n-plus-one-threshold",
        type=int,
        default=None,
        help=f"Repeats of one query from one line in one request that make an N+1 (default {DEFAULT_THRESHOLD}).",
    )
    parser.addini("backbone_n_plus_one", "fail, warn or off: N+1 check for every test", default="off")
    parser.addini("backbone_n_plus_one_threshold", "repeats that make an N+1", default=str(DEFAULT_THRESHOLD))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backbone(max_queries=None, n_plus_one=None, n_plus_one_threshold=None): check the queries this test runs "
        "(a query budget, and N+1 detection with fail/warn/off).",
    )
    mode = config.getoption("--backbone-n-plus-one") or str(config.getini("backbone_n_plus_one"))
    if mode not in _MODES:
        raise pytest.UsageError(f"backbone_n_plus_one must be one of {', '.join(_MODES)}, not {mode!r}")
    threshold = config.getoption("--backbone-n-plus-one-threshold") or int(str(config.getini("backbone_n_plus_one_threshold")))
    if threshold < 2:
        raise pytest.UsageError("the backbone N+1 threshold must be at least 2")
    state = _PluginState(mode, threshold, Path(str(config.rootpath)))
    config.stash[_STATE_KEY] = state
    if mode != "off":
        # Installed before any fixture runs, so that connections opened by fixtures are captured.
        state.ensure_instrumented()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE_KEY, None)
    if state is not None and any(item.get_closest_marker("backbone") for item in items):
        state.ensure_instrumented()


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE_KEY, None)
    if state is not None:
        state.uninstall()


def _settings(state: _PluginState, item: pytest.Item) -> _TestSettings | None:
    marker = item.get_closest_marker("backbone")
    if marker is None:
        return None if state.mode == "off" else _TestSettings(state.mode, state.threshold, None)
    unknown = set(marker.kwargs) - {"max_queries", "n_plus_one", "n_plus_one_threshold"}
    if marker.args or unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.backbone takes only max_queries=, n_plus_one= and n_plus_one_threshold="
        )
    mode = marker.kwargs.get("n_plus_one", state.mode if state.mode != "off" else "fail")
    if mode not in _MODES:
        raise pytest.UsageError(f"{item.nodeid}: n_plus_one must be one of {', '.join(_MODES)}, not {mode!r}")
    max_queries = marker.kwargs.get("max_queries")
    if max_queries is not None and (not isinstance(max_queries, int) or max_queries < 0):
        raise pytest.UsageError(f"{item.nodeid}: max_queries must be a whole number, not {max_queries!r}")
    threshold = marker.kwargs.get("n_plus_one_threshold", state.threshold)
    if not isinstance(threshold, int) or threshold < 2:
        raise pytest.UsageError(f"{item.nodeid}: n_plus_one_threshold must be a whole number of at least 2")
    return _TestSettings(str(mode), threshold, max_queries)


class _TestCapture:
    """The queries of one test: its body's, and one capture per test-client request."""

    def __init__(self, label: str) -> None:
        self.body = RequestCapture(label)
        self.requests: list[RequestCapture] = []
        self._in_request: RequestCapture | None = None

    @contextmanager
    def request(self, label: str) -> Iterator[None]:
        if self._in_request is not None:
            # A redirect followed inside one client call: same request.
            yield
            return
        current = RequestCapture(label)
        self.requests.append(current)
        self._in_request = current
        previous_ambient = capture_state.set_ambient(current)
        token = capture_state.activate(current)
        try:
            yield
        finally:
            capture_state.deactivate(token)
            capture_state.set_ambient(previous_ambient)
            self._in_request = None

    def captures(self) -> list[RequestCapture]:
        return [self.body, *self.requests]

    @property
    def total_queries(self) -> int:
        return sum(len(each.queries) for each in self.captures())


def _label_starlette(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    request = args[0] if args else kwargs.get("request")
    return f"{getattr(request, 'method', '?')} {getattr(getattr(request, 'url', None), 'path', '?')}"


def _label_werkzeug(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "/")
    return f"{kwargs.get('method', 'GET')} {path}"


def _label_django(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return f"{kwargs.get('REQUEST_METHOD', 'GET')} {kwargs.get('PATH_INFO', '/')}"


def _client_entry_points() -> list[tuple[type[Any], str, Callable[[tuple[Any, ...], dict[str, Any]], str], bool]]:
    """(class, method, labeller, is_async) of the test clients that are imported."""
    found: list[tuple[type[Any], str, Callable[[tuple[Any, ...], dict[str, Any]], str], bool]] = []
    starlette_testclient = sys.modules.get("starlette.testclient")
    if starlette_testclient is not None and hasattr(starlette_testclient, "_TestClientTransport"):
        found.append((starlette_testclient._TestClientTransport, "handle_request", _label_starlette, False))
    flask_testing = sys.modules.get("flask.testing")
    if flask_testing is not None:
        found.append((flask_testing.FlaskClient, "open", _label_werkzeug, False))
    django_test_client = sys.modules.get("django.test.client")
    if django_test_client is not None:
        found.append((django_test_client.Client, "request", _label_django, False))
        found.append((django_test_client.AsyncClient, "request", _label_django, True))
    return found


@contextmanager
def _request_boundaries(test: _TestCapture) -> Iterator[None]:
    """While the test runs, each test-client call gets a capture of its own."""
    patched: list[tuple[type[Any], str, object]] = []
    for owner, name, labeller, is_async in _client_entry_points():
        original = owner.__dict__.get(name)
        if original is None:
            continue
        patched.append((owner, name, original))
        setattr(owner, name, _bounded(original, labeller, test, is_async))
    try:
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def _bounded(
    original: Any, labeller: Callable[[tuple[Any, ...], dict[str, Any]], str], test: _TestCapture, is_async: bool
) -> Any:
    if is_async:

        @functools.wraps(original)
        async def bounded_async(self: object, *args: Any, **kwargs: Any) -> Any:
            with test.request(labeller(args, kwargs)):
                return await original(self, *args, **kwargs)

        return bounded_async

    @functools.wraps(original)
    def bounded(self: object, *args: Any, **kwargs: Any) -> Any:
        with test.request(labeller(args, kwargs)):
            return original(self, *args, **kwargs)

    return bounded


@contextmanager
def _capturing_test(nodeid: str) -> Iterator[_TestCapture]:
    test = _TestCapture(nodeid)
    attach_to_current_connections()
    previous_ambient = capture_state.set_ambient(test.body)
    token = capture_state.activate(test.body)
    try:
        with _request_boundaries(test):
            yield test
    finally:
        capture_state.deactivate(token)
        capture_state.set_ambient(previous_ambient)


def _describe(group: RepeatedQuery, where: str, root: Path) -> str:
    site = group.call_site
    line = f"{relative_path(site.path, root)}:{site.line} in {site.function}" if site is not None else "an unknown line"
    return mask(f"{where}: {group.count}× `{group.fingerprint}` from {line}")


def _groups(test: _TestCapture, threshold: int, root: Path) -> list[str]:
    described: list[str] = []
    for each in test.captures():
        where = "the test body" if each is test.body else each.label
        described.extend(_describe(group, where, root) for group in repeated_queries(each.queries, threshold))
    return described


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    state = item.config.stash.get(_STATE_KEY, None)
    settings = _settings(state, item) if state is not None else None
    if state is None or settings is None:
        return (yield)
    state.ensure_instrumented()
    with _capturing_test(item.nodeid) as test:
        try:
            result = yield
        except BaseException:
            state.rows.append(_SummaryRow(item.nodeid, test.total_queries, len(test.requests), 0, settings.max_queries, "error"))
            raise
    problems: list[str] = []
    groups = _groups(test, settings.threshold, state.root) if settings.n_plus_one != "off" else []
    total = test.total_queries
    over_budget = settings.max_queries is not None and total > settings.max_queries
    if over_budget:
        problems.append(f"ran {total} queries, over its budget of {settings.max_queries} (@pytest.mark.backbone)")
    verdict = "ok"
    if over_budget or (groups and settings.n_plus_one == "fail"):
        verdict = "fail"
    elif groups:
        verdict = "warn"
    state.rows.append(_SummaryRow(item.nodeid, total, len(test.requests), len(groups), settings.max_queries, verdict))
    if groups:
        problems.append(f"N+1 queries (threshold {settings.threshold}):\n  " + "\n  ".join(groups))
    if verdict == "fail":
        pytest.fail("backbone: the test " + "; ".join(problems), pytrace=False)
    if verdict == "warn":
        warnings.warn(BackboneQueryWarning("backbone: the test showed " + "; ".join(problems)), stacklevel=1)
    return result


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE_KEY, None)
    if state is None or not state.rows:
        return
    rows = [
        (
            row.nodeid,
            str(row.queries),
            str(row.requests),
            str(row.n_plus_one) if row.n_plus_one else "-",
            str(row.budget) if row.budget is not None else "-",
            row.verdict,
        )
        for row in state.rows
    ]
    headers = ("test", "queries", "requests", "N+1", "budget", "result")
    widths = [max(len(header), *(len(row[index]) for row in rows)) for index, header in enumerate(headers)]
    terminalreporter.write_sep("=", "backbone query summary")
    for cells in (headers, *rows):
        line = cells[0].ljust(widths[0]) + "  " + "  ".join(cell.rjust(width) for cell, width in zip(cells[1:], widths[1:]))
        terminalreporter.write_line(line.rstrip())
