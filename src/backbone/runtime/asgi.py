"""ASGI middleware: times each HTTP request and records method, status, route template and queries.

Fail-open: when backbone's own bookkeeping fails, the request goes to the app
untouched; exceptions from the app pass through unchanged. A response whose
body the app does not finish (it raises, or returns, after the start) is
recorded with its status and the aborted-stream outcome.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import FrameType
from typing import Any

from backbone.runtime import capture as capture_state
from backbone.runtime.capture import (
    RequestCapture,
    RequestTicket,
    note_error,
    ticket_variable,
)
from backbone.runtime.events import CallSite, Outcome, RequestRecord
from backbone.runtime.recorder import Recorder
from backbone.runtime.routes import matcher_for, starlette_route
from backbone.runtime.stalls import (
    LoopMonitor,
    register_request_frame,
    unregister_request_frame,
    watchdog,
)

# The ASGI interface as the spec defines it: messages are dicts of arbitrary values.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_STALL_THRESHOLD_S = 0.1
_Token = contextvars.Token[RequestCapture | None]


class _Status:
    __slots__ = ("code", "started", "complete")

    def __init__(self) -> None:
        self.code = 0
        # The response start went out (the client has the status), then the last body message
        # (or a pathsend): the client has the whole response.
        self.started = False
        self.complete = False

    def outcome(self) -> Outcome:
        return Outcome.ABORTED_STREAM if self.started and not self.complete else Outcome.COMPLETE


class BackboneASGIMiddleware:
    """Wrap an ASGI app: `app = BackboneASGIMiddleware(app, recorder)`.

    `route_app` is the framework app to ask for route templates when it is not
    `app` itself (a Django ASGIHandler wrapped in other middleware, say).
    `stall_threshold_s=None` turns the event-loop monitor off.
    """

    def __init__(
        self,
        app: ASGIApp,
        recorder: Recorder | None = None,
        *,
        stall_threshold_s: float | None = DEFAULT_STALL_THRESHOLD_S,
        route_app: object | None = None,
    ) -> None:
        self.app = app
        self.recorder = recorder if recorder is not None else Recorder()
        self.stall_threshold_s = stall_threshold_s
        self._matcher = matcher_for(route_app if route_app is not None else app)
        self._monitors: dict[int, LoopMonitor] = {}
        # id(route) -> (route, (template, handler)); the route is kept so that its id stays its own.
        self._templates: dict[int, tuple[object, tuple[str, CallSite | None]]] = {}
        self._last_monitor: LoopMonitor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        frame = sys._getframe()
        started = self._begin(scope, frame)
        if started is None:
            await self.app(scope, receive, send)
            return
        capture, token, root_path, monitor, ticket = started
        status = _Status()

        async def send_recording(message: Message) -> None:
            if not status.complete:
                try:
                    kind = message["type"]
                    if kind == "http.response.start":
                        status.code = int(message["status"])
                        status.started = True
                    elif kind == "http.response.body":
                        status.complete = not message.get("more_body", False)
                    elif kind == "http.response.pathsend":
                        status.complete = True
                except Exception as error:  # noqa: BLE001 - the message goes to the server as it is
                    note_error(error)
            await send(message)

        if ticket is not None:
            ticket.on_timeout = lambda: self._record(scope, capture, root_path, status.code, Outcome.TIMED_OUT)
        try:
            await self.app(scope, receive, send_recording)
        except BaseException:
            if status.code == 0:
                status.code = 500
            raise
        finally:
            self._finish(scope, frame, capture, token, root_path, monitor, status, ticket)

    def _begin(
        self, scope: Scope, frame: FrameType
    ) -> tuple[RequestCapture, _Token, str, LoopMonitor | None, RequestTicket | None] | None:
        try:
            capture = RequestCapture()
            root_path = scope.get("root_path", "") or ""
            monitor = self._monitor() if self.stall_threshold_s is not None else None
            register_request_frame(frame, capture)
            token = capture_state.activate(capture)
            return capture, token, str(root_path), monitor, ticket_variable.get()
        except Exception as error:  # noqa: BLE001 - fail open: serve the request uninstrumented
            note_error(error)
            unregister_request_frame(frame)
            return None

    def _monitor(self) -> LoopMonitor | None:
        loop = asyncio.get_running_loop()
        last = self._last_monitor
        if last is not None and last.loop is loop and not last.stopped:
            return last
        monitor = watchdog.monitor(loop, threshold_s=self.stall_threshold_s or DEFAULT_STALL_THRESHOLD_S)
        self._monitors[id(monitor)] = monitor
        self._last_monitor = monitor
        return monitor

    def _finish(
        self,
        scope: Scope,
        frame: FrameType,
        capture: RequestCapture,
        token: _Token,
        root_path: str,
        monitor: LoopMonitor | None,
        status: _Status,
        ticket: RequestTicket | None,
    ) -> None:
        try:
            capture_state.deactivate(token)
            unregister_request_frame(frame)
            if ticket is not None and not ticket.settle():
                return  # recorded as timed out already
            if monitor is not None:
                monitor.settle(capture)
            self._record(scope, capture, root_path, status.code, status.outcome())
        except Exception as error:  # noqa: BLE001 - fail open: the response is already on its way
            note_error(error)

    def _record(self, scope: Scope, capture: RequestCapture, root_path: str, status: int, outcome: Outcome) -> None:
        duration = time.perf_counter() - capture.started
        method = str(scope.get("method", "GET"))
        path = str(scope.get("path", ""))
        route, handler = self._route(scope, method, path, root_path)
        self.recorder.add(
            RequestRecord(
                method, route, path, status, duration, tuple(capture.queries), tuple(capture.stalls), handler, outcome
            )
        )

    def _route(self, scope: Scope, method: str, path: str, root_path: str) -> tuple[str, CallSite | None]:
        route = scope.get("route")
        if route is not None and scope.get("root_path", "") == root_path:
            # Outside mounts a route object always gives the same template: asked once per route.
            cached = self._templates.get(id(route))
            if cached is not None and cached[0] is route:
                return cached[1]
            found = starlette_route(scope, root_path)
            if found is not None:
                self._templates[id(route)] = (route, found)
                return found
        found = starlette_route(scope, root_path)
        if found is None and self._matcher is not None:
            app_path = path[len(root_path) :] if root_path and path.startswith(root_path) else path
            found = self._matcher(method, app_path)
        if found is None:
            return path, None
        return found

    def close(self) -> None:
        """Stop the loop monitors; stalls seen outside any request go to the recorder."""
        for monitor in self._monitors.values():
            self.recorder.unattributed_stalls.extend(monitor.unattributed)
            self.recorder.loop_lags.extend(monitor.lags)
            watchdog.forget(monitor)
        self._monitors.clear()
        self._last_monitor = None
