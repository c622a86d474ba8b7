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
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from backbone.runtime import instrument
from backbone.runtime.asgi import ASGIApp, BackboneASGIMiddleware, Message, Receive, Scope, Send
from backbone.runtime.capture import instrumentation_errors
from backbone.runtime.detectors import Analyzer, DetectionSettings
from backbone.runtime.events import AppInterface, QueryLayer
from backbone.runtime.recorder import Recorder
from backbone.runtime.report import ProfileReport
from backbone.runtime.scenario import Scenario, ScenarioError, ScenarioStep, load_scenario, scenario_from_openapi
from backbone.runtime.wsgi import BackboneWSGIMiddleware, WSGIApp

BASE_URL = "http://testserver"


class ProfileError(Exception):
    """The run could not start or could not go on (bad import string, failed setup, no requests to send)."""


ProgressCallback = Callable[[int, int, str], None]
"""Called with (requests done, requests in all, label of the request being sent)."""


@dataclass(frozen=True, slots=True)
class ProfileOptions:
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
    detection: DetectionSettings = field(default_factory=DetectionSettings)
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


def _setup_hook(spec: str | None) -> _SetupHook | None:
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
                    self.first_failure = f"{label}: {type(failure).__name__}: {failure}"
            if self._callback is not None:
                self._callback(self.done, self.total, label)


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


async def _drive_asgi(
    app: ASGIApp,
    options: ProfileOptions,
    hook: _SetupHook | None,
    recorder: Recorder,
    progress_callback: ProgressCallback | None,
    instrumentation: instrument.Instrumentation,
) -> tuple[Scenario, _Progress, list[str]]:
    import httpx

    notes: list[str] = []
    if hook is not None:
        await hook.run_async(app)
    lifespan = _Lifespan(app)
    await lifespan.startup()
    # The hook or the startup may have imported a database library the app imports lazily.
    instrumentation.refresh()
    if not lifespan.supported:
        notes.append("The app does not support the ASGI lifespan protocol; it was not started or shut down.")
    middleware = BackboneASGIMiddleware(
        _with_lifespan_state(app, lifespan.state),
        recorder,
        stall_threshold_s=options.detection.stall_ms / 1000,
        route_app=app,
    )
    try:
        scenario = _scenario(options, None if options.scenario else await _fetch_openapi_async(app))
        progress = _Progress(scenario.total_requests, progress_callback)
        transport = httpx.ASGITransport(app=middleware, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for step in scenario.steps:
                remaining = [step.repeat]
                arguments = _request_arguments(step)

                async def worker(
                    step: ScenarioStep = step, remaining: list[int] = remaining, arguments: dict[str, Any] = arguments
                ) -> None:
                    while remaining[0] > 0:
                        remaining[0] -= 1
                        try:
                            await client.request(step.method, step.path, **arguments)
                        except Exception as error:  # noqa: BLE001 - a failing request is counted, the run goes on
                            progress.step(step.label, error)
                        else:
                            progress.step(step.label)

                await asyncio.gather(*(worker() for _ in range(min(step.concurrency, step.repeat))))
    finally:
        middleware.close()
        await lifespan.shutdown()
        if hook is not None:
            await hook.teardown_async()
    return scenario, progress, notes


def _drive_wsgi(
    app: WSGIApp,
    options: ProfileOptions,
    hook: _SetupHook | None,
    recorder: Recorder,
    progress_callback: ProgressCallback | None,
    instrumentation: instrument.Instrumentation,
) -> tuple[Scenario, _Progress, list[str]]:
    import httpx

    if hook is not None:
        if hook.is_async:
            asyncio.run(hook.run_async(app))
        else:
            hook.run_sync(app)
    instrumentation.refresh()
    middleware = BackboneWSGIMiddleware(app, recorder)
    clients: list[httpx.Client] = []
    try:
        scenario = _scenario(options, None if options.scenario else _fetch_openapi_sync(app))
        progress = _Progress(scenario.total_requests, progress_callback)
        local = threading.local()
        clients_lock = threading.Lock()

        def client() -> httpx.Client:
            # One client per thread: the WSGI transport runs the app on the calling thread.
            found = getattr(local, "client", None)
            if found is None:
                found = local.client = httpx.Client(transport=httpx.WSGITransport(app=middleware), base_url=BASE_URL)
                with clients_lock:
                    clients.append(found)
            return cast(httpx.Client, found)

        for step in scenario.steps:
            arguments = _request_arguments(step)

            def send_one(step: ScenarioStep = step, arguments: dict[str, Any] = arguments) -> None:
                http = client()
                try:
                    http.request(step.method, step.path, **arguments)
                except Exception as error:  # noqa: BLE001 - a failing request is counted, the run goes on
                    progress.step(step.label, error)
                else:
                    progress.step(step.label)

            if step.concurrency == 1:
                for _ in range(step.repeat):
                    send_one()
            else:
                with ThreadPoolExecutor(max_workers=step.concurrency, thread_name_prefix="backbone-profile") as pool:
                    for future in [pool.submit(send_one) for _ in range(step.repeat)]:
                        future.result()
    finally:
        for http in clients:
            http.close()
        if hook is not None:
            if hook.is_async:
                asyncio.run(hook.teardown_async())
            else:
                hook.teardown_sync()
    return scenario, progress, []


def profile(options: ProfileOptions, *, progress: ProgressCallback | None = None) -> ProfileReport:
    """Run `options.app` under instrumentation and return what it did, per route, with findings."""
    started = time.perf_counter()
    errors_before = instrumentation_errors.count
    # The setup module may sit next to the app, and is imported first.
    _put_app_dir_on_path(options.app_dir)
    hook = _setup_hook(options.setup)
    analyzer = Analyzer(options.detection)
    recorder = Recorder(analyzer.add)
    # sqlite3 is instrumented before the app is imported, so that connections it opens at import
    # time are seen; the ORM layers once the app has imported their library.
    instrumentation = instrument.Instrumentation(options.layers)
    try:
        instrumentation.refresh()
        app = load_app(options)
        instrumentation.refresh()
        interface = options.interface or detect_interface(app)
        if interface is AppInterface.ASGI:
            scenario, progress_state, notes = asyncio.run(
                _drive_asgi(cast(ASGIApp, app), options, hook, recorder, progress, instrumentation)
            )
        else:
            scenario, progress_state, notes = _drive_wsgi(
                cast(WSGIApp, app), options, hook, recorder, progress, instrumentation
            )
        layers = tuple(instrumentation.installed)
    except ScenarioError as error:
        raise ProfileError(str(error)) from error
    finally:
        instrumentation.close()
    recorder.flush()
    analyzer.unattributed_stalls.extend(recorder.unattributed_stalls)
    if scenario.skipped:
        notes.append(f"Skipped {len(scenario.skipped)} OpenAPI operations: " + "; ".join(scenario.skipped))
    if progress_state.failed:
        notes.append(f"{progress_state.failed} requests failed in the client: {progress_state.first_failure}")
    return ProfileReport(
        app=options.app,
        interface=interface,
        scenario_source=scenario.source,
        routes=analyzer.routes(),
        issues=analyzer.issues(),
        requests=progress_state.done,
        failed_requests=progress_state.failed,
        duration_s=time.perf_counter() - started,
        instrumentation_errors=instrumentation_errors.count - errors_before,
        layers=layers,
        settings=options.detection,
        root=str(Path(options.root).resolve()),
        notes=tuple(notes),
    )
