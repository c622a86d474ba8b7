"""The app in-process for `contract verify` and `contract handoff --scenario`, set up as `backbone profile` sets it up.

The `--setup module:function` hook's module is imported first (its top-level code may point
the app's settings at a scratch database), then the app; the hook runs with the app (a
generator's code after `yield` runs as teardown when the work is done).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from backbone.contract.live import import_app, on_path
from backbone.contract.spec import SpecError

# The name AnyIO gives the threads it runs sync code in, and how long one may take to leave once told.
_ANYIO_WORKER = "AnyIO worker thread"
_WORKER_EXIT_SECONDS = 2.0


@contextlib.contextmanager
def running_app(target: str, directory: Path, setup: str | None) -> Iterator[object]:
    """The imported app, set up; its directory importable and its prints kept off stdout meanwhile."""
    from backbone.runtime.driver import ProfileError, setup_hook

    with on_path(directory):
        try:
            hook = setup_hook(setup)
        except ProfileError as error:
            raise SpecError(str(error)) from None
        app = import_app(target, directory)
        if not callable(app):
            raise SpecError(f"{target} is a {type(app).__name__}, not an ASGI or WSGI application")
        if hook is not None:
            try:
                if hook.is_async:
                    asyncio.run(hook.run_async(app))
                else:
                    hook.run_sync(app)
            except ProfileError as error:
                raise SpecError(str(error)) from None
        try:
            yield app
        finally:
            _stop_asgi_transport()
            if hook is not None:
                with contextlib.suppress(Exception):  # a failing teardown does not lose the report
                    if hook.is_async:
                        asyncio.run(hook.teardown_async())
                    else:
                        hook.teardown_sync()


def _stop_asgi_transport() -> None:
    """The app's lifespan shut down and schemathesis's event-loop thread for ASGI apps stopped.

    schemathesis keeps both until the interpreter exits; backbone stops them when its work with
    the app is done, so the app shuts down before the setup hook's teardown and no thread is
    left behind (the review's worker processes are forked only when no other thread runs).
    """
    from schemathesis.python import asgi

    shutdown = getattr(asgi, "_shutdown", None)
    if callable(shutdown):
        with contextlib.suppress(Exception):
            shutdown()
    # The threads the app's sync endpoints ran in (AnyIO's worker threads) are told to stop when
    # the event loop's root task ends, and leave a moment later: wait for them.
    for thread in threading.enumerate():
        if thread.name == _ANYIO_WORKER and thread is not threading.current_thread():
            thread.join(timeout=_WORKER_EXIT_SECONDS)
