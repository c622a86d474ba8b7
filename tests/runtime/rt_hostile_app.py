"""Apps that misbehave the ways a profiled app can: routes that hang, exit, crash mid-stream, fail queries, press Ctrl-C.

A FastAPI app (`create_fastapi`) and a Flask app (`create_flask`) with the same routes.
Each hang is bounded (HANG_SECONDS, or until `release` is set) so that a test run ends
even when backbone does not time the request out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rt_sa_models import seed

HANG_SECONDS = 8.0
FAILING_QUERIES = 6
# Set by a test once it has its report: lets the stuck threads of the sync hangs end.
release = threading.Event()


def _failing_queries(database: str) -> int:
    engine = create_engine(f"sqlite:///{database}")
    failed = 0
    with Session(engine) as session:
        for number in range(FAILING_QUERIES):
            try:
                session.execute(text("SELECT id FROM no_such_table WHERE id = :id"), {"id": number})  # rt: failing-query
            except OperationalError:
                failed += 1
                session.rollback()
    engine.dispose()
    return failed


def _interrupt() -> None:
    # What Ctrl-C does: SIGINT to the process, whichever thread runs.
    signal.raise_signal(signal.SIGINT)


def create_fastapi(database: str | None = None) -> object:
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    path = database or os.environ["RT_HOSTILE_DB"]
    app = FastAPI()

    @app.get("/ok")
    def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/plain")
    def plain(number: int = 0) -> dict[str, int]:
        return {"square": number * number}

    @app.get("/hang/async")
    async def hang_async() -> dict[str, bool]:
        await asyncio.sleep(HANG_SECONDS)
        return {"ok": True}

    @app.get("/hang/loop")
    async def hang_loop() -> dict[str, bool]:
        # Never yields: holds the event loop itself (bounded, so that a run without the guard ends).
        deadline = time.monotonic() + HANG_SECONDS
        while time.monotonic() < deadline:
            pass
        return {"ok": True}

    @app.get("/hang/sync")
    def hang_sync() -> dict[str, bool]:
        release.wait(HANG_SECONDS)
        return {"ok": True}

    @app.get("/exit")
    async def exit_async() -> dict[str, bool]:
        raise SystemExit(3)

    @app.get("/exit/sync")
    def exit_sync() -> dict[str, bool]:
        raise SystemExit(4)

    @app.get("/stream/crash")
    def stream_crash() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first chunk\n"
            raise RuntimeError("the stream broke")

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/queries/failing")
    def queries_failing() -> dict[str, int]:
        return {"failed": _failing_queries(path)}

    @app.get("/interrupt")
    async def interrupt() -> dict[str, bool]:
        _interrupt()
        await asyncio.sleep(HANG_SECONDS)
        return {"ok": True}

    return app


def create_flask(database: str | None = None) -> object:
    from flask import Flask, Response, jsonify
    from flask.typing import ResponseReturnValue

    path = database or os.environ["RT_HOSTILE_DB"]
    app = Flask(__name__)

    @app.get("/ok")
    def ok() -> ResponseReturnValue:
        return jsonify({"ok": True})

    @app.get("/hang")
    def hang() -> ResponseReturnValue:
        release.wait(HANG_SECONDS)
        return jsonify({"ok": True})

    @app.get("/exit")
    def exit_now() -> ResponseReturnValue:
        raise SystemExit(3)

    @app.get("/stream/crash")
    def stream_crash() -> ResponseReturnValue:
        def chunks() -> Iterator[bytes]:
            yield b"first chunk\n"
            raise RuntimeError("the stream broke")

        return Response(chunks(), mimetype="text/plain")

    @app.get("/queries/failing")
    def queries_failing() -> ResponseReturnValue:
        return jsonify({"failed": _failing_queries(path)})

    @app.get("/interrupt")
    def interrupt() -> ResponseReturnValue:
        _interrupt()
        release.wait(HANG_SECONDS)
        return jsonify({"ok": True})

    return app


def setup() -> None:
    """The --setup hook: a database with tables (none of them `no_such_table`)."""
    seed(create_engine(f"sqlite:///{os.environ['RT_HOSTILE_DB']}"))
