"""WSGI middleware: times each request (body iteration included) and records method, status, route and queries.

The request's capture stays current until the server closes the response body,
so queries run while a streamed body is produced still count. Fail-open like
the ASGI middleware.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from backbone.runtime import capture as capture_state
from backbone.runtime.capture import RequestCapture, note_error
from backbone.runtime.events import CallSite, RequestRecord
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

    __slots__ = ("_body", "_finish", "_finished")

    def __init__(self, body: Iterable[bytes], finish: Callable[[], None]) -> None:
        self._body = body
        self._finish = finish
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._finished:
                self._finished = True
                self._finish()


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
        capture, token = started
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

        try:
            body = self.app(environ, start_recording)
        except BaseException:
            self._finish(environ, capture, token, status[0] or 500)
            raise
        return _ClosingBody(body, lambda: self._finish(environ, capture, token, status[0]))

    def _begin(self) -> tuple[RequestCapture, _Token] | None:
        try:
            capture = RequestCapture()
            return capture, capture_state.activate(capture)
        except Exception as error:  # noqa: BLE001 - fail open: serve the request uninstrumented
            note_error(error)
            return None

    def _finish(self, environ: Environ, capture: RequestCapture, token: _Token, status: int) -> None:
        try:
            duration = time.perf_counter() - capture.started
            capture_state.deactivate(token)
            method = str(environ.get("REQUEST_METHOD", "GET"))
            path = str(environ.get("PATH_INFO", ""))
            route, handler = self._route(method, path)
            self.recorder.add(RequestRecord(method, route, path, status, duration, tuple(capture.queries), (), handler))
        except Exception as error:  # noqa: BLE001 - fail open: the response is already on its way
            note_error(error)

    def _route(self, method: str, path: str) -> tuple[str, CallSite | None]:
        found = self._matcher(method, path) if self._matcher is not None else None
        return found if found is not None else (path, None)
