"""Event-loop stall detection: a heartbeat on the loop and a watchdog thread beside it.

The heartbeat is a callback the loop runs every `interval`; when it runs late by
`threshold` or more, nothing else could run on the loop for that long: a stall.
A late heartbeat alone cannot say who blocked, so a watchdog thread checks the
heartbeats of every monitored loop and, once one is late by half the threshold,
takes the loop thread's stack (`sys._current_frames`). The innermost application
frame of that stack is the blocking call site, and the request it belongs to is
found by walking the stack to a middleware frame registered for that request.

A late heartbeat is a stall only when the watchdog saw application code running on
the loop thread, inside the callback or task step the loop was running (frames below
the loop's dispatch belong to whoever started the loop, not to the work that blocks
it). A loop that was late while it ran only library code (hundreds of
requests being scheduled, the framework's own tasks) or while it waited for the
GIL (a thread pool busy with sync handlers) was not blocked by a line of the app.
Such lateness is counted as loop lag, never reported as a stall without a stack.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, cast

from backbone.records import Record
from backbone.runtime.callsite import is_library_file
from backbone.runtime.capture import RequestCapture, capture_variable, note_error
from backbone.runtime.events import CallSite, LoopStall

# Frames of middleware calls in progress, mapped to their request: how the watchdog tells which
# request a blocked stack belongs to. A frame's identity is stable across the awaits of its coroutine.
_request_frames: dict[FrameType, RequestCapture] = {}


def register_request_frame(frame: FrameType, capture: RequestCapture) -> None:
    _request_frames[frame] = capture


def unregister_request_frame(frame: FrameType) -> None:
    _request_frames.pop(frame, None)


# Tasks started while a request was current (Django runs each view in a task of its own), mapped to
# that request: the watchdog cannot read another thread's contextvars, and Python 3.11's C tasks do
# not expose their context, so the mapping is made when the task is created.
_task_requests: weakref.WeakKeyDictionary[asyncio.Task[object], RequestCapture] = weakref.WeakKeyDictionary()


class _RequestTaskFactory:
    """A task factory that remembers the request each new task belongs to, then defers to the previous one."""

    def __init__(self, previous: Callable[..., asyncio.Task[object]] | None) -> None:
        self.previous = previous

    def __call__(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[object, object, object], **kwargs: object) -> asyncio.Task[object]:
        if self.previous is not None:
            task = self.previous(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)  # type: ignore[arg-type]
        try:
            context = kwargs.get("context")
            owner = context.get(capture_variable) if isinstance(context, contextvars.Context) else capture_variable.get()
            if owner is not None:
                _task_requests[task] = owner
        except Exception as error:  # noqa: BLE001 - the task is created regardless
            note_error(error)
        return task


def _request_of(loop: asyncio.AbstractEventLoop, frame: FrameType | None) -> RequestCapture | None:
    """The request whose code was running on `loop`: by its task, else by a middleware frame on the stack."""
    try:
        task = asyncio.current_task(loop)
        found = _task_requests.get(task) if task is not None else None
        if found is not None:
            return found
    except Exception as error:  # noqa: BLE001 - the frame walk below still has a chance
        note_error(error)
    while frame is not None:
        found = _request_frames.get(frame)
        if found is not None:
            return found
        frame = frame.f_back
    return None


# The frames that run the loop: a callback or task step runs inside `Handle._run`.
_LOOP_FRAMES = frozenset(
    {
        asyncio.events.Handle._run.__code__,
        getattr(asyncio.base_events.BaseEventLoop, "_run_once").__code__,  # noqa: B009 - private, untyped
        asyncio.base_events.BaseEventLoop.run_forever.__code__,
    }
)
_STACK_LIMIT = 20


def loop_work_stack(frame: FrameType | None) -> tuple[CallSite, ...]:
    """The application frames of the work the loop thread is running, innermost first.

    Empty when the thread is not inside a callback or task step (it waits in the selector,
    or runs the loop's own code), and when the work is library code only.
    """
    sites: list[CallSite] = []
    while frame is not None:
        code = frame.f_code
        if code in _LOOP_FRAMES:
            return tuple(sites)
        if len(sites) < _STACK_LIMIT and not is_library_file(code.co_filename):
            sites.append(CallSite(code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return ()


class _Sighting(Record, frozen=True):
    """What the watchdog saw on a loop that was late: the stack and the request running."""

    stack: tuple[CallSite, ...]
    capture: RequestCapture | None


class LoopMonitor:
    def __init__(self, loop: asyncio.AbstractEventLoop, *, threshold_s: float, interval_s: float) -> None:
        self.loop = loop
        self.threshold_s = threshold_s
        self.interval_s = interval_s
        self.thread_id = threading.get_ident()
        self.expected = time.perf_counter() + interval_s
        self.sighting: _Sighting | None = None
        # Stalls that happened while no request was running on the loop (startup, shutdown).
        self.unattributed: list[LoopStall] = []
        # Late heartbeats with no application code seen on the loop thread: load, not a blocking call.
        self.lags: list[float] = []
        self.stopped = False
        self._handle = loop.call_later(interval_s, self._beat)
        # typeshed's task-factory protocol predates the `context` keyword: the factories are held as objects.
        self._previous_factory: Any = cast(Any, loop.get_task_factory())
        self._factory: Any = None
        if not isinstance(self._previous_factory, _RequestTaskFactory):
            self._factory = _RequestTaskFactory(self._previous_factory)
            loop.set_task_factory(self._factory)

    def _beat(self) -> None:
        try:
            now = time.perf_counter()
            lateness = now - self.expected
            sighting, self.sighting = self.sighting, None
            if lateness >= self.threshold_s:
                self._record(lateness, sighting)
            if not self.stopped:
                self.expected = now + self.interval_s
                self._handle = self.loop.call_later(self.interval_s, self._beat)
        except Exception as error:  # noqa: BLE001 - a monitor failure must not disturb the loop
            note_error(error)

    def _record(self, duration_s: float, sighting: _Sighting | None) -> None:
        sites = sighting.stack if sighting is not None else ()
        if not sites:
            self.lags.append(duration_s)
            return
        stall = LoopStall(duration_s, sites[0], sites)
        if sighting is not None and sighting.capture is not None:
            sighting.capture.stalls.append(stall)
        else:
            self.unattributed.append(stall)

    def settle(self, capture: RequestCapture) -> None:
        """Called as a request finishes: record a stall it is causing right now.

        A request that blocks and then completes without yielding to the loop finishes
        before the late heartbeat runs; without this its stall would arrive after its
        record was written.
        """
        sighting = self.sighting
        if sighting is None or sighting.capture is not capture:
            return
        now = time.perf_counter()
        lateness = now - self.expected
        if lateness >= self.threshold_s:
            self.sighting = None
            # The heartbeat that is still due measures from here, so the stall is not counted twice.
            self.expected = now
            self._record(lateness, sighting)

    def watch(self, now: float) -> None:
        """Called by the watchdog thread: take the loop's stack when its heartbeat is late.

        While the heartbeat stays late the stack is taken again at each poll until one shows
        application code: the first look may land on library code around the blocking call.
        """
        sighting = self.sighting
        if (sighting is not None and sighting.stack) or now - self.expected < self.threshold_s / 2:
            return
        frame = sys._current_frames().get(self.thread_id)
        stack = loop_work_stack(frame)
        if sighting is None or stack:
            self.sighting = _Sighting(stack, _request_of(self.loop, frame))

    def stop(self) -> None:
        self.stopped = True
        # Both work on a closed loop too.
        self._handle.cancel()
        if self._factory is not None and self.loop.get_task_factory() is self._factory:
            self.loop.set_task_factory(self._previous_factory)


class _Watchdog:
    """One daemon thread for every monitored loop in the process; it ends when none is left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._monitors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopMonitor] = weakref.WeakKeyDictionary()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._poll_s = 0.025

    def monitor(self, loop: asyncio.AbstractEventLoop, *, threshold_s: float) -> LoopMonitor:
        with self._lock:
            found = self._monitors.get(loop)
            if found is not None and not found.stopped:
                return found
            found = LoopMonitor(loop, threshold_s=threshold_s, interval_s=min(0.025, threshold_s / 4))
            self._monitors[loop] = found
            self._poll_s = min(self._poll_s, threshold_s / 4)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="backbone-loop-watchdog", daemon=True)
                self._thread.start()
            return found

    def forget(self, monitor: LoopMonitor) -> None:
        monitor.stop()
        with self._lock:
            if self._monitors.get(monitor.loop) is monitor:
                del self._monitors[monitor.loop]

    def _run(self) -> None:
        while True:
            with self._lock:
                for loop, monitor in list(self._monitors.items()):
                    if loop.is_closed() or monitor.stopped:
                        del self._monitors[loop]
                monitors = list(self._monitors.values())
                if not monitors:
                    self._thread = None
                    return
                poll = self._poll_s
            now = time.perf_counter()
            for monitor in monitors:
                try:
                    monitor.watch(now)
                except Exception as error:  # noqa: BLE001 - the watchdog keeps watching
                    note_error(error)
            self._wake.wait(poll)


watchdog = _Watchdog()
