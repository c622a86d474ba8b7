"""The profile driver: load an app in-process, drive requests through it under instrumentation, report.

Order of a run:
1. the setup module is imported (its top-level code may set environment
   variables the app reads at import time, such as its database URL);
2. SQL capture is installed, then the app is imported (so connections it opens
   at import time are captured) and, with `factory`, called;
3. the setup function runs (it may take the app as its one argument; a generator
   function's code after `yield` runs as teardown at the end);
4. an ASGI app's lifespan starts; the scenario (or OpenAPI-generated GETs) is
   sent through the instrumented app, `repeat` times per request with up to
   `concurrency` in flight (asyncio tasks for ASGI, threads for WSGI);
5. lifespan shutdown, teardown, and the report.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import queue
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, cast

import msgspec

from backbone.records import Record
from backbone.runtime import instrument
from backbone.runtime.asgi import (
    ASGIApp,
    BackboneASGIMiddleware,
    Message,
    Receive,
    Scope,
    Send,
)
from backbone.runtime.capture import (
    RequestTicket,
    instrumentation_errors,
    note_error,
    ticket_variable,
)
from backbone.runtime.detectors import Analyzer, DetectionSettings
from backbone.runtime.events import AppInterface, Outcome, QueryLayer, RequestRecord
from backbone.runtime.recorder import Recorder
from backbone.runtime.report import ProfileReport
from backbone.runtime.scenario import (
    Scenario,
    ScenarioError,
    ScenarioStep,
    load_scenario,
    scenario_from_openapi,
)
from backbone.runtime.wsgi import BackboneWSGIMiddleware, WSGIApp

BASE_URL = "http://testserver"


class ProfileError(Exception):
    """The run could not start or could not go on (bad import string, failed setup, no requests to send)."""


ProgressCallback = Callable[[int, int, str], None]
"""Called with (requests done, requests in all, label of the request being sent)."""


class ProfileOptions(Record, frozen=True):
    app: str
    factory: bool = False
    setup: str | None = None
    scenario: str | None = None
    # Repeat and concurrency of the requests generated from OpenAPI (a scenario file sets its own).
    repeat: int = 20
    concurrency: int = 1
    interface: AppInterface | None = None
    # Put on sys.path before importing the app, like uvicorn's --app-dir.
    app_dir: str = "."
    detection: DetectionSettings = msgspec.field(default_factory=DetectionSettings)
    layers: tuple[QueryLayer, ...] = instrument.ALL_LAYERS
    # Findings paths are relative to this directory.
    root: str = "."


def _import_attribute(spec: str, what: str) -> object:
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise ProfileError(f"{what} '{spec}' must look like 'package.module:name'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ProfileError(f"cannot import {what} module '{module_name}': {error}") from error
    except Exception as error:  # noqa: BLE001 - the module's own failure, reported as the user's to fix
        raise ProfileError(f"importing {what} module '{module_name}' failed: {type(error).__name__}: {error}") from error
    names = attribute.split(".") if attribute else []
    if not names:
        for default in ("app", "application"):
            if hasattr(module, default):
                names = [default]
                break
        else:
            raise ProfileError(f"{what} '{spec}' names no attribute and '{module_name}' has no 'app' or 'application'")
    found: object = module
    for name in names:
        try:
            found = getattr(found, name)
        except AttributeError:
            raise ProfileError(f"{what} '{spec}': '{module_name}' has no attribute '{attribute}'") from None
    return found


def detect_interface(app: object) -> AppInterface:
    """ASGI when the app (or its __call__) is a coroutine function, else WSGI."""
    if inspect.iscoroutinefunction(app):
        return AppInterface.ASGI
    call = getattr(app, "__call__", None)  # noqa: B004 - the method itself is inspected
    if call is not None and inspect.iscoroutinefunction(call):
        return AppInterface.ASGI
    return AppInterface.WSGI


def _put_app_dir_on_path(app_dir: str) -> None:
    directory = str(Path(app_dir).resolve())
    if directory not in sys.path:
        sys.path.insert(0, directory)


def load_app(options: ProfileOptions) -> object:
    _put_app_dir_on_path(options.app_dir)
    app = _import_attribute(options.app, "app")
    if options.factory:
        if not callable(app):
            raise ProfileError(f"--factory: '{options.app}' is not callable")
        try:
            app = app()
        except Exception as error:  # noqa: BLE001 - the factory's own failure
            raise ProfileError(f"--factory: '{options.app}' failed: {type(error).__name__}: {error}") from error
        if inspect.isawaitable(app):
            raise ProfileError(f"--factory: '{options.app}' returned an awaitable; the factory must be a plain function")
    if not callable(app):
        raise ProfileError(f"'{options.app}' is a {type(app).__name__}, not an ASGI or WSGI application")
    return app


# --- the setup hook -------------------------------------------------------------------------------


class _SetupHook:
    def __init__(self, function: Callable[..., object]) -> None:
        self.function = function
        self._generator: Iterator[object] | None = None
        self._async_generator: AsyncIterator[object] | None = None

    def _arguments(self, app: object) -> tuple[object, ...]:
        try:
            parameters = inspect.signature(self.function).parameters
        except (TypeError, ValueError):
            return ()
        return (app,) if parameters else ()

    def run_sync(self, app: object) -> None:
        try:
            result = self.function(*self._arguments(app))
            if inspect.isgenerator(result):
                self._generator = result
                next(result, None)
        except Exception as error:  # noqa: BLE001 - the hook's own failure, reported as the user's to fix
            raise self._failed(error) from error

    async def run_async(self, app: object) -> None:
        try:
            result = self.function(*self._arguments(app))
            if inspect.isasyncgen(result):
                self._async_generator = result
                await anext_or_none(result)
            elif inspect.isawaitable(result):
                await result
            elif inspect.isgenerator(result):
                self._generator = result
                next(result, None)
        except Exception as error:  # noqa: BLE001 - the hook's own failure, reported as the user's to fix
            raise self._failed(error) from error

    def _failed(self, error: Exception) -> ProfileError:
        name = getattr(self.function, "__qualname__", repr(self.function))
        return ProfileError(f"the setup hook {name}() failed: {type(error).__name__}: {error}")

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function) or inspect.isasyncgenfunction(self.function)

    def teardown_sync(self) -> None:
        if self._generator is not None:
            next(self._generator, None)

    async def teardown_async(self) -> None:
        self.teardown_sync()
        if self._async_generator is not None:
            await anext_or_none(self._async_generator)


async def anext_or_none(iterator: AsyncIterator[object]) -> object:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return None


def setup_hook(spec: str | None) -> _SetupHook | None:
    """The `--setup module:function` hook (its module imported now), or None; also used by `backbone contract`."""
    if spec is None:
        return None
    if ":" not in spec:
        raise ProfileError(f"--setup '{spec}' must look like 'package.module:function'")
    function = _import_attribute(spec, "setup")
    if not callable(function):
        raise ProfileError(f"--setup '{spec}' is not a function")
    return _SetupHook(function)


# --- ASGI lifespan ---------------------------------------------------------------------------------


class _Lifespan:
    """Runs an ASGI app's lifespan protocol, as a server would; apps without lifespan support are fine."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, object] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True
        # Whether the app asked for the startup message, and what it raised: an app that raises
        # without asking does not support lifespan (the ASGI spec); one that asked, failed to start.
        self._received = False
        self.error: Exception | None = None

    async def _run(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}

        async def receive() -> Message:
            self._received = True
            return await self._to_app.get()

        async def send(message: Message) -> None:
            await self._from_app.put(message)

        try:
            await self.app(scope, receive, send)
        except Exception as error:  # noqa: BLE001 - kept: startup() decides what it means
            self.error = error

    async def _next(self) -> Message | None:
        assert self._task is not None
        getter = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        return None

    async def startup(self) -> None:
        self._task = asyncio.ensure_future(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._next()
        if message is None:
            if self._received and self.error is not None:
                error = self.error
                raise ProfileError(f"the app's lifespan startup raised {type(error).__name__}: {error}") from error
            self.supported = False
            return
        if message.get("type") == "lifespan.startup.failed":
            raise ProfileError(f"the app's lifespan startup failed: {message.get('message') or 'no message'}")

    async def shutdown(self) -> None:
        if not self.supported or self._task is None or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._next()
        await asyncio.wait({self._task}, timeout=5)


def _with_lifespan_state(app: ASGIApp, state: Mapping[str, object]) -> ASGIApp:
    """Give every request a copy of the lifespan state, as servers do (Starlette's `request.state`)."""

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        if state and scope.get("type") in ("http", "websocket") and "state" not in scope:
            scope["state"] = dict(state)
        await app(scope, receive, send)

    return with_state


# --- driving ---------------------------------------------------------------------------------------


class _Progress:
    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.first_failure = ""
        self._callback = callback
        self._lock = threading.Lock()

    def step(self, label: str, failure: BaseException | None = None) -> None:
        with self._lock:
            self.done += 1
            if failure is not None:
                self.failed += 1
                if not self.first_failure:
                    self.first_failure = f"{label}: {_describe(failure)}"
            if self._callback is not None:
                self._callback(self.done, self.total, label)


def _describe(error: BaseException) -> str:
    try:
        return f"{type(error).__name__}: {error}"
    except Exception:  # noqa: BLE001 - an exception of the app's whose str() fails
        return type(error).__name__


class _AppExit(Exception):
    """The app raised SystemExit (or another BaseException that is not Ctrl-C) while serving a request."""


class _RunState(msgspec.Struct):
    """What a run has gathered so far: enough for a report when the run is cut short."""

    recorder: Recorder
    timeout_s: float | None
    scenario: Scenario | None = None
    progress: _Progress | None = None
    notes: list[str] = msgspec.field(default_factory=list)
    # The app's SystemExit and kin, by request: each was recorded as a 500 and the run went on.
    app_exits: dict[str, int] = msgspec.field(default_factory=dict)
    first_app_exit: str = ""
    # Requests given up on at their timeout, and those whose code was still running when the run ended.
    timeouts: int = 0
    left_running: int = 0
    # Handlers stopped because they held the event loop itself past the timeout.
    loop_interrupts: int = 0
    lock: threading.Lock = msgspec.field(default_factory=threading.Lock)

    def app_exited(self, label: str, error: BaseException) -> None:
        with self.lock:
            self.app_exits[label] = self.app_exits.get(label, 0) + 1
            if not self.first_app_exit:
                self.first_app_exit = f"{label}: {_describe(error)}"

    def blocked_loop_timed_out(self, ticket: RequestTicket) -> None:
        """Record the request whose handler held the event loop past the timeout (see _LoopGuard)."""
        if not ticket.settle():
            return
        with self.lock:
            self.timeouts += 1
            self.loop_interrupts += 1
        try:
            if ticket.on_timeout is not None:
                ticket.on_timeout()
        except Exception as error:  # noqa: BLE001 - counted above; the route is then not named
            note_error(error)

    def timed_out(self, ticket: RequestTicket, step: ScenarioStep) -> None:
        """Record a request that had no answer in time (unless it ended meanwhile)."""
        if not ticket.settle():
            return
        with self.lock:
            self.timeouts += 1
        try:
            if ticket.on_timeout is not None:
                ticket.on_timeout()
                return
        except Exception as error:  # noqa: BLE001 - recorded below without its route template
            note_error(error)
        assert self.timeout_s is not None
        path = step.path.split("?", 1)[0]
        self.recorder.add(RequestRecord(step.method, path, path, 0, self.timeout_s, (), (), None, Outcome.TIMED_OUT))


def _request_arguments(step: ScenarioStep) -> dict[str, Any]:
    arguments: dict[str, Any] = {"params": list(step.query), "headers": list(step.headers)}
    if step.has_body:
        arguments["json"] = step.body
    return arguments


async def _fetch_openapi_async(app: ASGIApp) -> Mapping[str, object] | None:
    import httpx

    openapi = getattr(app, "openapi", None)
    if callable(openapi):
        document = openapi()
        if isinstance(document, Mapping):
            return document
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/openapi.json")
    return _openapi_from(response.status_code, response.content)


def _fetch_openapi_sync(app: WSGIApp) -> Mapping[str, object] | None:
    import httpx

    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL) as client:
        try:
            response = client.get("/openapi.json")
        except Exception as error:  # noqa: BLE001 - the app's own failure, reported as the user's to fix
            raise ProfileError(f"GET /openapi.json raised {type(error).__name__}: {error}; pass --scenario") from error
    return _openapi_from(response.status_code, response.content)


def _openapi_from(status: int, content: bytes) -> Mapping[str, object] | None:
    import json

    if status != 200:
        return None
    try:
        document = json.loads(content)
    except ValueError:
        return None
    return document if isinstance(document, Mapping) and "paths" in document else None


def _scenario(options: ProfileOptions, openapi: Mapping[str, object] | None) -> Scenario:
    if options.scenario is not None:
        return load_scenario(Path(options.scenario))
    if openapi is None:
        raise ProfileError("no --scenario given and the app serves no OpenAPI document at /openapi.json")
    return scenario_from_openapi(openapi, repeat=options.repeat, concurrency=options.concurrency)


def _is_interrupt(error: BaseException) -> bool:
    """Ctrl-C, or a group of exceptions that holds one (anyio task groups wrap what they catch)."""
    if isinstance(error, KeyboardInterrupt):
        return True
    split = getattr(error, "split", None)
    if callable(split) and hasattr(error, "exceptions"):
        return any(_is_interrupt(inner) for inner in error.exceptions)
    return False


def _contained_asgi(app: ASGIApp, state: _RunState) -> ASGIApp:
    """The app, with a SystemExit (or kin) from a request turned into an error of that request.

    Ctrl-C and cancellation pass through: they stop the run, or the request, as they should.
    """

    async def contained(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except (Exception, asyncio.CancelledError, GeneratorExit):
            raise
        except BaseException as error:
            if _is_interrupt(error):
                raise
            state.app_exited(f"{scope.get('method', 'GET')} {scope.get('path', '')}", error)
            raise _AppExit(_describe(error)) from error

    return contained


# After Ctrl-C, or at the end of a run, how long the app's tasks get to finish once cancelled.
_GRACE_S = 2.0


class LoopHeldPastTimeout(BaseException):
    """Raised into a handler that held the event loop past the request timeout.

    A BaseException, so that the app's own `except Exception` cannot swallow it; asyncio
    sets it on the request's task like any other failure.
    """


class _LoopGuard:
    """Stops a handler that holds the event loop itself past the request timeout.

    A request that awaits forever is given up on by `asyncio.wait`; one that never yields
    (`while True: ...` or a blocking call in an `async def`) stops the loop, and nothing on
    the loop can run again. A heartbeat on the loop and a thread beside it see that; the
    thread then sends SIGALRM to the main thread (where the loop runs), whose handler
    records the request as timed out and raises LoopHeldPastTimeout in the handler's code.
    Only when the loop runs on the main thread; an alarm that is not the guard's goes on to
    the SIGALRM handler that was there before (pytest-timeout's, the app's).
    """

    _BEAT_S = 0.05

    def __init__(self, loop: asyncio.AbstractEventLoop, state: _RunState, timeout_s: float) -> None:
        self.loop, self.state, self.timeout_s = loop, state, timeout_s
        self.last_beat = time.monotonic()
        self.stopped = threading.Event()
        self.previous: Any = signal.signal(signal.SIGALRM, self._on_alarm)
        loop.call_soon(self._beat)
        self.thread = threading.Thread(target=self._watch, name="backbone-loop-guard", daemon=True)
        self.thread.start()

    @classmethod
    def start(cls, loop: asyncio.AbstractEventLoop, state: _RunState) -> _LoopGuard | None:
        if (
            state.timeout_s is None
            or not hasattr(signal, "SIGALRM")
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGALRM) is signal.SIG_IGN
        ):
            return None
        return cls(loop, state, state.timeout_s)

    def _beat(self) -> None:
        self.last_beat = time.monotonic()
        if not self.stopped.is_set():
            self.loop.call_later(self._BEAT_S, self._beat)

    def _held(self) -> bool:
        return time.monotonic() - self.last_beat > self.timeout_s

    def _watch(self) -> None:
        main = threading.main_thread().ident
        while not self.stopped.wait(self._BEAT_S):
            if self._held() and main is not None and not self.stopped.is_set():
                signal.pthread_kill(main, signal.SIGALRM)
                # One alarm per timeout: the stopped handler gets the time to unwind.
                self.stopped.wait(self.timeout_s)

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        ticket = ticket_variable.get()
        if not self._held() or ticket is None:
            # Not the guard's alarm, the loop moved on meanwhile, or what holds it is not a request.
            if callable(self.previous):
                self.previous(signum, frame)
            return
        self.state.blocked_loop_timed_out(ticket)
        raise LoopHeldPastTimeout()

    def stop(self) -> None:
        self.stopped.set()
        # The thread must be done before the old handler is back: an alarm after that could
        # reach a default disposition, which ends the process.
        self.thread.join(timeout=2 * self._BEAT_S + 1)
        signal.signal(signal.SIGALRM, self.previous)


def _run_loop(main: Coroutine[Any, Any, None], state: _RunState) -> None:
    """Run `main` on a new event loop, as asyncio.run does, except that:

    - the first Ctrl-C cancels `main` (its clean-up runs: lifespan shutdown, teardown), then
      KeyboardInterrupt is raised for the partial report; a second Ctrl-C raises at once;
    - requests given up on at their timeout are cancelled and waited for a moment only:
      a handler stuck on a thread cannot be stopped, and must not hold the run forever.
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(main)
    interrupted = [False]
    previous_handler: Any = None

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if interrupted[0] or task.done():
            raise KeyboardInterrupt()
        interrupted[0] = True
        task.cancel()
        loop.call_soon_threadsafe(lambda: None)

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous_handler = signal.signal(signal.SIGINT, on_sigint)
    guard = _LoopGuard.start(loop, state)
    try:
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            if interrupted[0]:
                raise KeyboardInterrupt() from None
            raise
        except BaseException:
            if not task.done():
                task.cancel()
                loop.run_until_complete(asyncio.wait({task}, timeout=_GRACE_S))
            raise
    finally:
        if guard is not None:
            guard.stop()
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        _close_loop(loop, state)


def _close_loop(loop: asyncio.AbstractEventLoop, state: _RunState) -> None:
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=_GRACE_S))
        stuck = [task for task in pending if not task.done()]
        state.left_running += len(stuck)
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_asyncgens(), timeout=_GRACE_S))
        if not stuck:
            loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), timeout=_GRACE_S))
    except (Exception, asyncio.CancelledError) as error:  # noqa: BLE001 - the report matters more than a tidy loop
        note_error(error)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


async def _send_asgi(client: Any, step: ScenarioStep, arguments: dict[str, Any], state: _RunState) -> BaseException | None:
    """Send one request; None when it was answered (or timed out), else the client's error."""
    ticket = RequestTicket()

    async def request() -> None:
        ticket_variable.set(ticket)
        await client.request(step.method, step.path, **arguments)

    task = asyncio.ensure_future(request())
    try:
        done, _ = await asyncio.wait({task}, timeout=state.timeout_s)
    except BaseException:
        task.cancel()
        raise
    if task in done:
        return None if task.cancelled() else task.exception()
    state.timed_out(ticket, step)
    task.cancel()
    return None


async def _drive_asgi(
    app: ASGIApp,
    options: ProfileOptions,
    hook: _SetupHook | None,
    state: _RunState,
    progress_callback: ProgressCallback | None,
    instrumentation: instrument.Instrumentation,
) -> None:
    import httpx

    if hook is not None:
        await hook.run_async(app)
    lifespan = _Lifespan(app)
    await lifespan.startup()
    # The hook or the startup may have imported a database library the app imports lazily.
    instrumentation.refresh()
    if not lifespan.supported:
        state.notes.append("The app does not support the ASGI lifespan protocol; it was not started or shut down.")
    middleware = BackboneASGIMiddleware(
        _with_lifespan_state(app, lifespan.state),
        state.recorder,
        stall_threshold_s=options.detection.stall_ms / 1000,
        route_app=app,
    )
    try:
        scenario = state.scenario = _scenario(options, None if options.scenario else await _fetch_openapi_async(app))
        progress = state.progress = _Progress(scenario.total_requests, progress_callback)
        transport = httpx.ASGITransport(app=_contained_asgi(middleware, state), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=None) as client:
            for step in scenario.steps:
                remaining = [step.repeat]
                arguments = _request_arguments(step)

                async def worker(
                    step: ScenarioStep = step, remaining: list[int] = remaining, arguments: dict[str, Any] = arguments
                ) -> None:
                    while remaining[0] > 0:
                        remaining[0] -= 1
                        try:
                            failure = await _send_asgi(client, step, arguments, state)
                        except Exception as error:  # noqa: BLE001 - a failing request is counted, the run goes on
                            failure = error
                        progress.step(step.label, failure)

                await asyncio.gather(*(worker() for _ in range(min(step.concurrency, step.repeat))))
    finally:
        middleware.close()
        await lifespan.shutdown()
        if hook is not None:
            await hook.teardown_async()


class _Caller:
    """A daemon thread that sends one lane's requests, one at a time.

    A request that overruns its timeout keeps this thread (the app's code cannot be
    stopped from outside); the lane then goes on with a new caller. Daemon threads, so
    that a handler stuck for good does not keep the process alive after the report.
    """

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="backbone-profile-request", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            if call is None:
                return
            call()

    def call(self, function: Callable[[], None], timeout_s: float | None) -> bool:
        """Run `function` on the caller's thread; False when it has not returned within `timeout_s`."""
        done = threading.Event()

        def run() -> None:
            try:
                function()
            finally:
                done.set()

        self._calls.put(run)
        # Waited for in slices: a signal that reached another thread (Ctrl-C) is handled
        # by the main thread only when it wakes.
        deadline = None if timeout_s is None else time.perf_counter() + timeout_s
        while not done.wait(0.05 if deadline is None else max(0.0, min(0.05, deadline - time.perf_counter()))):
            if deadline is not None and time.perf_counter() >= deadline:
                return False
        return True

    def stop(self) -> None:
        self._calls.put(None)


def _drive_wsgi(
    app: WSGIApp,
    options: ProfileOptions,
    hook: _SetupHook | None,
    state: _RunState,
    progress_callback: ProgressCallback | None,
    instrumentation: instrument.Instrumentation,
) -> None:
    import httpx

    if hook is not None:
        if hook.is_async:
            asyncio.run(hook.run_async(app))
        else:
            hook.run_sync(app)
    instrumentation.refresh()
    middleware = BackboneWSGIMiddleware(app, state.recorder)
    clients: list[httpx.Client] = []
    local = threading.local()
    clients_lock = threading.Lock()
    stopping = threading.Event()
    # Set by a lane whose request raised KeyboardInterrupt: the run stops as on Ctrl-C.
    interrupted: list[BaseException] = []

    def client() -> httpx.Client:
        # One client per thread: the WSGI transport runs the app on the calling thread.
        found = getattr(local, "client", None)
        if found is None:
            found = local.client = httpx.Client(transport=httpx.WSGITransport(app=middleware), base_url=BASE_URL)
            with clients_lock:
                clients.append(found)
        return cast(httpx.Client, found)

    def lane(step: ScenarioStep, arguments: dict[str, Any], remaining: list[int], progress: _Progress) -> None:
        caller = _Caller()
        try:
            while not stopping.is_set():
                with clients_lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                ticket = RequestTicket()
                failures: list[BaseException] = []

                def send() -> None:
                    ticket_variable.set(ticket)
                    try:
                        client().request(step.method, step.path, **arguments)
                    except BaseException as error:  # noqa: BLE001 - the app's SystemExit too: counted, the run goes on
                        failures.append(error)

                if not caller.call(send, state.timeout_s):
                    state.timed_out(ticket, step)
                    progress.step(step.label)
                    caller.stop()
                    caller = _Caller()
                    continue
                failure = failures[0] if failures else None
                if failure is not None and _is_interrupt(failure):
                    interrupted.append(failure)
                    stopping.set()
                    return
                if failure is not None and not isinstance(failure, Exception):
                    state.app_exited(f"{step.method} {step.path}", failure)
                progress.step(step.label, failure)
        finally:
            caller.stop()

    try:
        scenario = state.scenario = _scenario(options, None if options.scenario else _fetch_openapi_sync(app))
        progress = state.progress = _Progress(scenario.total_requests, progress_callback)
        for step in scenario.steps:
            arguments = _request_arguments(step)
            remaining = [step.repeat]
            if step.concurrency == 1:
                lane(step, arguments, remaining, progress)
            else:
                lanes = [
                    threading.Thread(target=lane, args=(step, arguments, remaining, progress), daemon=True)
                    for _ in range(min(step.concurrency, step.repeat))
                ]
                for thread in lanes:
                    thread.start()
                for thread in lanes:
                    # Joined in slices: a wait without a timeout would hold off Ctrl-C on some platforms.
                    while thread.is_alive():
                        thread.join(0.1)
            if interrupted:
                raise KeyboardInterrupt() from interrupted[0]
    finally:
        stopping.set()
        for http in clients:
            http.close()
        if hook is not None:
            if hook.is_async:
                asyncio.run(hook.teardown_async())
            else:
                hook.teardown_sync()


def profile(options: ProfileOptions, *, progress: ProgressCallback | None = None) -> ProfileReport:
    """Run `options.app` under instrumentation and return what it did, per route, with findings.

    Ctrl-C (KeyboardInterrupt) during the requests ends the run early: the report of what
    was measured until then comes back with `partial_reason` set.
    """
    started = time.perf_counter()
    errors_before = instrumentation_errors.count
    # The setup module may sit next to the app, and is imported first.
    _put_app_dir_on_path(options.app_dir)
    hook = setup_hook(options.setup)
    analyzer = Analyzer(options.detection)
    recorder = Recorder(analyzer.add)
    state = _RunState(recorder, options.detection.request_timeout_s)
    threads_before = set(threading.enumerate())
    partial_reason: str | None = None
    # sqlite3 is instrumented before the app is imported, so that connections it opens at import
    # time are seen; the ORM layers once the app has imported their library.
    instrumentation = instrument.Instrumentation(options.layers)
    try:
        instrumentation.refresh()
        app = load_app(options)
        instrumentation.refresh()
        interface = options.interface or detect_interface(app)
        try:
            if interface is AppInterface.ASGI:
                _run_loop(_drive_asgi(cast(ASGIApp, app), options, hook, state, progress, instrumentation), state)
            else:
                _drive_wsgi(cast(WSGIApp, app), options, hook, state, progress, instrumentation)
        except KeyboardInterrupt:
            partial_reason = "interrupted (Ctrl-C)"
        if state.timeouts:
            state.left_running += len(_stuck_threads(threads_before))
        layers = tuple(instrumentation.installed)
    except ScenarioError as error:
        raise ProfileError(str(error)) from error
    finally:
        instrumentation.close()
    recorder.flush()
    analyzer.unattributed_stalls.extend(recorder.unattributed_stalls)
    return _report(options, interface, analyzer, state, layers, partial_reason, started, errors_before)


def _stuck_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started during the run that are still busy: handlers given up on at their timeout.

    Idle worker threads (the framework's, backbone's callers) end once the run is over; a
    moment is given to them.
    """
    deadline = time.perf_counter() + 0.5
    started = [thread for thread in threading.enumerate() if thread not in before]
    for thread in started:
        thread.join(max(0.0, deadline - time.perf_counter()))
    return [thread for thread in started if thread.is_alive()]


def _report(
    options: ProfileOptions,
    interface: AppInterface,
    analyzer: Analyzer,
    state: _RunState,
    layers: tuple[QueryLayer, ...],
    partial_reason: str | None,
    started: float,
    errors_before: int,
) -> ProfileReport:
    notes = list(state.notes)
    scenario, progress_state = state.scenario, state.progress
    if scenario is not None and scenario.skipped:
        notes.append(f"Skipped {len(scenario.skipped)} OpenAPI operations: " + "; ".join(scenario.skipped))
    if progress_state is not None and progress_state.failed:
        notes.append(f"{progress_state.failed} requests failed in the client: {progress_state.first_failure}")
    if state.app_exits:
        total = sum(state.app_exits.values())
        notes.append(
            f"The app raised SystemExit or another exception that is not an error in {_count(total, 'request')} "
            f"({state.first_app_exit}); each was recorded as a failed request and the run went on."
        )
    if state.left_running:
        notes.append(
            f"{_count(state.left_running, 'timed-out request')} still running when the run ended; "
            "their code could not be stopped and was left behind."
        )
    lags = state.recorder.loop_lags
    if lags:
        notes.append(
            f"The event loop ran late {_count(len(lags), 'time')} (up to {max(lags) * 1000:.0f} ms) with no application "
            "code on it: load on the loop or on the GIL, not a blocking call; not reported as RT103."
        )
    if partial_reason is not None and progress_state is not None:
        partial_reason += f" after {progress_state.done} of {progress_state.total} requests"
    return ProfileReport(
        app=options.app,
        interface=interface,
        scenario_source=scenario.source if scenario is not None else "",
        routes=analyzer.routes(),
        issues=analyzer.issues(),
        requests=progress_state.done if progress_state is not None else 0,
        failed_requests=progress_state.failed if progress_state is not None else 0,
        duration_s=time.perf_counter() - started,
        instrumentation_errors=instrumentation_errors.count - errors_before,
        layers=layers,
        settings=options.detection,
        root=str(Path(options.root).resolve()),
        notes=tuple(notes),
        partial_reason=partial_reason,
        left_running=state.left_running,
    )


def _count(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"
