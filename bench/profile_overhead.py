"""Runtime instrumentation overhead: backbone against no instrumentation and against OpenTelemetry;
N+1 detection: backbone against nplusone (nplus1), on the same scenarios.

Overhead. One FastAPI + SQLAlchemy (sync engine, SQLite file) endpoint that runs 10 queries,
measured in three variants, each in its own process so that no instrumentation leaks into
another variant:

- baseline: the app as it is;
- backbone: `backbone profile`'s instrumentation (the ASGI middleware with its event-loop
  monitor, SQL capture on SQLAlchemy, Django and DB-API, and the batch analyzer);
- opentelemetry: OpenTelemetry's ASGI middleware and SQLAlchemy instrumentation, spans to an
  in-memory exporter through a simple (synchronous) span processor.

Each request is timed around the ASGI call itself (no HTTP client in the measurement). The
variants run in rounds, in rotating order; the overhead of a round is its median against the
baseline median of the same round, and the figure reported is the median over the rounds.
Targets: backbone at most 5% over the baseline, and under OpenTelemetry.

Detection. The same N+1 scenarios under backbone's capture (threshold 5) and under
nplusone's Profiler: lazy loading in a loop, a query per row written by hand, the same with
the async engine, sqlite3 used directly, the eager-loaded twin, and two cases on which the
tools differ by design (a small loop under the threshold, an eager load left unused).

    .venv/bin/python bench/profile_overhead.py                      # 5 rounds x 3000 requests
    .venv/bin/python bench/profile_overhead.py --rounds 3 --requests 1000

Needs the bench extra (opentelemetry-sdk, opentelemetry-instrumentation-asgi,
opentelemetry-instrumentation-sqlalchemy, nplus1). Exit status: 0 targets met, 1 a target
missed, 2 the benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Module level: the models below are declared inside functions, and SQLAlchemy resolves their
# (postponed) annotations in this module's namespace.
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload

VARIANTS = ("baseline", "backbone", "opentelemetry")
QUERIES_PER_REQUEST = 10
ITEMS = 50


# --- the app -------------------------------------------------------------------------------------


def build_app(database: Path) -> tuple[Any, Any]:
    from fastapi import FastAPI

    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "items"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        price_cents: Mapped[int]

    engine = create_engine(f"sqlite:///{database}", connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Item(name=f"item {number}", price_cents=100 + number) for number in range(ITEMS))
        session.commit()

    app = FastAPI()

    @app.get("/items/{first_id}")
    def ten_items(first_id: int) -> dict[str, int]:
        total = 0
        with Session(engine) as session:
            for offset in range(QUERIES_PER_REQUEST):
                item = session.execute(select(Item).where(Item.id == first_id + offset)).scalar_one()
                total += item.price_cents
        return {"total": total}

    return app, engine


async def timed_requests(app: Any, count: int) -> list[tuple[float, float]]:
    """(wall, CPU) microseconds per request, timed around the ASGI call.

    CPU time is the process's (the threadpool and backbone's watchdog included): it is what
    the instrumentation costs, and it moves less than the wall clock when other processes
    share the machine.
    """

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"status {message['status']}")

    latencies: list[tuple[float, float]] = []
    for number in range(count):
        first_id = 1 + number % (ITEMS - QUERIES_PER_REQUEST)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/items/{first_id}",
            "raw_path": f"/items/{first_id}".encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"bench")],
            "client": ("127.0.0.1", 50000),
            "server": ("bench", 80),
        }
        started, cpu_started = time.perf_counter(), time.process_time()
        await app(scope, receive, send)
        latencies.append(((time.perf_counter() - started) * 1e6, (time.process_time() - cpu_started) * 1e6))
    return latencies


def run_variant(variant: str, requests: int, warmup: int) -> list[tuple[float, float]]:
    with tempfile.TemporaryDirectory(prefix="backbone-bench-") as directory:
        app, engine = build_app(Path(directory) / "bench.sqlite")
        wrapped, clear = instrument(variant, app, engine)

        async def main() -> list[tuple[float, float]]:
            await timed_requests(wrapped, warmup)
            clear()
            latencies: list[tuple[float, float]] = []
            # Spans and records are dropped between batches, outside the timing.
            for _ in range(0, requests, 500):
                latencies.extend(await timed_requests(wrapped, min(500, requests - len(latencies))))
                clear()
            return latencies

        latencies = asyncio.run(main())
        engine.dispose()
        return latencies


def instrument(variant: str, app: Any, engine: Any) -> tuple[Any, Callable[[], None]]:
    if variant == "baseline":
        return app, lambda: None
    if variant == "backbone":
        from backbone.runtime import Analyzer, BackboneASGIMiddleware, Recorder, instrumented

        # Installed for the process; the process ends with the variant.
        instrumented().__enter__()
        analyzer = Analyzer()
        return BackboneASGIMiddleware(app, Recorder(analyzer.add)), lambda: None
    if variant == "opentelemetry":
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        SQLAlchemyInstrumentor().instrument(engine=engine, tracer_provider=provider)
        return OpenTelemetryMiddleware(app, tracer_provider=provider), exporter.clear
    raise SystemExit(f"unknown variant {variant}")


# --- detection -----------------------------------------------------------------------------------


def detection_scenarios(directory: Path) -> dict[str, Callable[[], None]]:
    import sqlite3

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from sqlalchemy.pool import NullPool

    class Base(DeclarativeBase):
        pass

    class Author(Base):
        __tablename__ = "authors"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        books: Mapped[list[Book]] = relationship(back_populates="author")

    class Book(Base):
        __tablename__ = "books"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
        author: Mapped[Author] = relationship(back_populates="books")

    database = directory / "detect.sqlite"
    engine = create_engine(f"sqlite:///{database}")
    async_engine = create_async_engine(f"sqlite+aiosqlite:///{database}", poolclass=NullPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for number in range(8):
            author = Author(name=f"author {number}")
            session.add(author)
            session.add_all([Book(title=f"book {number}.{index}", author=author) for index in range(2)])
        session.commit()

    def lazy_loading_loop() -> None:
        with Session(engine) as session:
            for author in session.scalars(select(Author)).all():
                _ = [book.title for book in author.books]

    def lazy_loading_loop_legacy_query() -> None:
        with Session(engine) as session:
            for author in session.query(Author).all():
                _ = [book.title for book in author.books]

    def query_per_row_by_hand() -> None:
        with Session(engine) as session:
            for author in session.scalars(select(Author)).all():
                session.scalars(select(Book).where(Book.author_id == author.id)).all()

    def async_query_per_row() -> None:
        async def run() -> None:
            async with AsyncSession(async_engine) as session:
                for author in (await session.scalars(select(Author))).all():
                    (await session.scalars(select(Book).where(Book.author_id == author.id))).all()

        asyncio.run(run())

    def sqlite3_query_per_row() -> None:
        connection = sqlite3.connect(database)
        for (author_id,) in connection.execute("SELECT id FROM authors").fetchall():
            connection.execute("SELECT title FROM books WHERE author_id = ?", (author_id,)).fetchall()
        connection.close()

    def eager_twin() -> None:
        with Session(engine) as session:
            for author in session.scalars(select(Author).options(selectinload(Author.books))).all():
                _ = [book.title for book in author.books]

    def small_loop_under_threshold() -> None:
        with Session(engine) as session:
            for author in session.query(Author).limit(3).all():
                _ = [book.title for book in author.books]

    def unused_eager_load() -> None:
        with Session(engine) as session:
            for author in session.query(Author).options(selectinload(Author.books)).all():
                _ = author.name

    return {
        "lazy loading in a loop (2.0 select)": lazy_loading_loop,
        "lazy loading in a loop (legacy query)": lazy_loading_loop_legacy_query,
        "a query per row, by hand (sync)": query_per_row_by_hand,
        "a query per row, by hand (async engine)": async_query_per_row,
        "sqlite3 used directly, a query per row": sqlite3_query_per_row,
        "eager-loaded twin (selectinload)": eager_twin,
        "3 lazy loads, legacy query (under threshold 5)": small_loop_under_threshold,
        "eager load never used (legacy query)": unused_eager_load,
    }


def detect_with_backbone(scenario: Callable[[], None]) -> str:
    from backbone.runtime import capturing, instrumented, repeated_queries

    with instrumented(), capturing(ambient=True) as capture:
        scenario()
    groups = repeated_queries(capture.queries, threshold=5)
    if not groups:
        return "-"
    group = groups[0]
    site = f"line {group.call_site.line}" if group.call_site else "no line"
    return f"N+1: {group.count}x, {site}"


def patch_with_nplusone() -> None:
    """Apply nplusone's SQLAlchemy patches; before any model is mapped, or they miss its loaders."""
    from sqlalchemy.orm import strategies

    if not hasattr(strategies, "LazyLoader"):
        # nplus1 1.1.5 patches `LazyLoader`, which SQLAlchemy 2.1 renamed `_LazyLoader`.
        strategies.LazyLoader = strategies._LazyLoader  # type: ignore[attr-defined]
    import nplusone.ext.sqlalchemy  # noqa: F401 - importing applies nplusone's SQLAlchemy patches


def detect_with_nplusone(scenario: Callable[[], None]) -> str:
    from nplusone.core import exceptions, profiler

    try:
        with profiler.Profiler():
            scenario()
    except exceptions.NPlusOneError as error:
        text = str(error)
        return "eager load unused" if "Unused eager load" in text else "N+1 (lazy load)"
    return "-"


def run_detection(tool: str) -> dict[str, str]:
    detect = detect_with_backbone if tool == "backbone" else detect_with_nplusone
    if tool == "nplusone":
        patch_with_nplusone()
    with tempfile.TemporaryDirectory(prefix="backbone-bench-") as directory:
        return {name: detect(scenario) for name, scenario in detection_scenarios(Path(directory)).items()}


# --- the parent process --------------------------------------------------------------------------


def child(*arguments: str) -> Any:
    completed = subprocess.run(
        [sys.executable, __file__, *arguments], capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per variant and round")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--detect", choices=("backbone", "nplusone"), help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.variant:
        print(json.dumps(run_variant(options.variant, options.requests, options.warmup)))
        return 0
    if options.detect:
        print(json.dumps(run_detection(options.detect)))
        return 0

    try:
        import nplusone  # noqa: F401
        import opentelemetry.instrumentation.asgi  # noqa: F401
        import opentelemetry.instrumentation.sqlalchemy  # noqa: F401
        import opentelemetry.sdk  # noqa: F401
    except ImportError as error:
        print(f"profile_overhead: {error}; install the bench extra: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    samples: dict[str, dict[str, list[float]]] = {variant: {"wall": [], "cpu": []} for variant in VARIANTS}
    round_medians: dict[str, dict[str, list[float]]] = {variant: {"wall": [], "cpu": []} for variant in VARIANTS}
    for number in range(options.rounds):
        order = VARIANTS[number % len(VARIANTS) :] + VARIANTS[: number % len(VARIANTS)]
        for variant in order:
            pairs = child("--variant", variant, "--requests", str(options.requests), "--warmup", str(options.warmup))
            for index, clock in enumerate(("wall", "cpu")):
                values = [pair[index] for pair in pairs]
                samples[variant][clock].extend(values)
                round_medians[variant][clock].append(statistics.median(values))
        print(f"round {number + 1}/{options.rounds}: " + ", ".join(
            f"{variant} {round_medians[variant]['wall'][-1]:.0f} µs" for variant in VARIANTS), file=sys.stderr)

    def overhead(variant: str, clock: str) -> float:
        pairs = zip(round_medians[variant][clock], round_medians["baseline"][clock])
        return statistics.median(mine / base - 1 for mine, base in pairs) * 100

    print(f"\nOverhead on a FastAPI + SQLAlchemy endpoint running {QUERIES_PER_REQUEST} queries "
          f"({options.rounds} rounds x {options.requests} requests per variant, Python {sys.version.split()[0]})\n")
    print(f"{'variant':<15} {'median µs':>10} {'p95 µs':>8} {'overhead':>9} {'CPU µs':>8} {'CPU overhead':>13}")
    for variant in VARIANTS:
        wall = sorted(samples[variant]["wall"])
        p95 = wall[int(0.95 * (len(wall) - 1))]
        cpu = statistics.median(samples[variant]["cpu"])
        wall_extra = "" if variant == "baseline" else f"{overhead(variant, 'wall'):+.1f}%"
        cpu_extra = "" if variant == "baseline" else f"{overhead(variant, 'cpu'):+.1f}%"
        print(f"{variant:<15} {statistics.median(wall):>10.0f} {p95:>8.0f} {wall_extra:>9} {cpu:>8.0f} {cpu_extra:>13}")
    print("(overhead: the median over rounds of each round's median against the baseline's in that round)")

    backbone_detections = child("--detect", "backbone")
    nplusone_detections = child("--detect", "nplusone")
    print("\nN+1 detection on the same scenarios (backbone threshold 5; nplusone's Profiler)\n")
    width = max(len(name) for name in backbone_detections)
    print(f"{'scenario':<{width}}  {'backbone':<22} nplusone")
    for name, found in backbone_detections.items():
        print(f"{name:<{width}}  {found:<22} {nplusone_detections.get(name, '?')}")

    backbone_overhead, otel_overhead = overhead("backbone", "wall"), overhead("opentelemetry", "wall")
    met = backbone_overhead <= 5.0 and backbone_overhead < otel_overhead
    print(f"\nTargets: backbone <= 5% ({backbone_overhead:+.1f}%) and under OpenTelemetry ({otel_overhead:+.1f}%): "
          f"{'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
