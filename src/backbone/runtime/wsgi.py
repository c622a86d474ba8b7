"""WSGI middleware: times each request (body iteration included) and records method, status, route and queries.

The request's capture stays current until the server closes the response body,
so queries run while a streamed body is produced still count. Fail-open like
the ASGI middleware. An app that raises before returning its body is recorded
as a 500 (what a server sends then); a body that raises while it is iterated is
recorded with its status and the aborted-stream outcome.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from backbone.runtime import capture as capture_state
from backbone.runtime.capture import (
    RequestCapture,
    RequestTicket,
    note_error,
    ticket_variable,
)
from backbone.runtime.events import CallSite, Outcome, RequestRecord
from backbone.runtime.recorder import Recorder
from backbone.runtime.routes import matcher_for

# PEP 3333's types: the environ holds arbitrary values.
Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
Headers = list[tuple[str, str]]


if TYPE_CHECKING:
    # typeshed's PEP 3333 protocol (wsgiref.types exists at run time only from Python 3.11).
    from _typeshed.wsgi import StartResponse

WSGIApp = Callable[[Environ, "StartResponse"], Iterable[bytes]]
_Token = contextvars.Token[RequestCapture | None]


class _ClosingBody:
    """The app's response body, with `close()` also finishing the request's record."""

    __slots__ = ("_body", "_finish", "_finished", "_iterator", "aborted")

    def __init__(self, body: Iterable[bytes], finish: Callable[[bool], None]) -> None:
        self._body = body
        self._finish = finish
        self._finished = False
        self._iterator: Iterator[bytes] | None = None
        # The body raised while it was iterated: the client got a cut-off response.
        self.aborted = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            self._iterator = iter(self._body)
        except BaseException:
            self.aborted = True
            raise
        return self

    def __next__(self) -> bytes:
        iterator = self._iterator if self._iterator is not None else iter(self)
        try:
            return next(iterator)
        except StopIteration:
            raise
        except BaseException:
            self.aborted = True
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._finished:
                self._finished = True
                self._finish(self.aborted)


class BackboneWSGIMiddleware:
    """Wrap a WSGI app: `app = BackboneWSGIMiddleware(app, recorder)`."""

    def __init__(self, app: WSGIApp, recorder: Recorder | None = None, *, route_app: object | None = None) -> None:
        self.app = app
        self.recorder = recorder if recorder is not None else Recorder()
        self._matcher = matcher_for(route_app if route_app is not None else app)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = self._begin()
        if started is None:
            return self.app(environ, start_response)
        capture, token, ticket = started
        status = [0]

        def start_recording(
            status_line: str, headers: Headers, exc_info: ExcInfo | None = None, /
        ) -> Callable[[bytes], object]:
            try:
                status[0] = int(status_line.split(" ", 1)[0])
            except Exception as error:  # noqa: BLE001 - the status goes to the server as it is
                note_error(error)
            if exc_info is None:
                return start_response(status_line, headers)
            return start_response(status_line, headers, exc_info)

        if ticket is not None:
            ticket.on_timeout = lambda: self._record(environ, capture, status[0], Outcome.TIMED_OUT)
        try:
            body = self.app(environ, start_recording)
        except BaseException:
            # Nothing was sent yet (WSGI headers go out with the first body bytes): a server answers 500.
            self._finish(environ, capture, token, ticket, 500, Outcome.COMPLETE)
            raise

        def finish(aborted: bool) -> None:
            outcome = Outcome.ABORTED_STREAM if aborted else Outcome.COMPLETE
            self._finish(environ, capture, token, ticket, status[0], outcome)

        return _ClosingBody(body, finish)

    def _begin(self) -> tuple[RequestCapture, _Token, RequestTicket | None] | None:
        try:
            capture = RequestCapture()
            return capture, capture_state.activate(capture), ticket_variable.get()
        except Exception as error:  # noqa: BLE001 - fail open: serve the request uninstrumented
            note_error(error)
            return None

    def _finish(
        self, environ: Environ, capture: RequestCapture, token: _Token, ticket: RequestTicket | None, status: int, outcome: Outcome
    ) -> None:
        try:
            capture_state.deactivate(token)
            if ticket is not None and not ticket.settle():
                return  # recorded as timed out already
            self._record(environ, capture, status, outcome)
        except Exception as error:  # noqa: BLE001 - fail open: the response is already on its way
            note_error(error)

    def _record(self, environ: Environ, capture: RequestCapture, status: int, outcome: Outcome) -> None:
        duration = time.perf_counter() - capture.started
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        route, handler = self._route(method, path)
        self.recorder.add(RequestRecord(method, route, path, status, duration, tuple(capture.queries), (), handler, outcome))

    def _route(self, method: str, path: str) -> tuple[str, CallSite | None]:
        found = self._matcher(method, path) if self._matcher is not None else None
        return found if found is not None else (path, None)
