"""A FastAPI + SQLAlchemy service traced by the OpenTelemetry SDK's own instrumentation, for `backbone debug`'s
OTLP tests: its spans are written as OTLP JSON by the SDK's file exporter, as a collector's file exporter would."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.context import Context
from sqlalchemy import ForeignKey, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

CUSTOMERS = 6


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(80))


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship()


class CodeLocation(SpanProcessor):
    """Puts the application line that opened a database span on it (`code.filepath`, `code.lineno`,
    `code.function`), as some OpenTelemetry distributions do: the first frame in this file."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        scope = span.instrumentation_scope
        if scope is None or scope.name != "opentelemetry.instrumentation.sqlalchemy":
            return
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == __file__:
                span.set_attribute("code.filepath", frame.f_code.co_filename)
                span.set_attribute("code.lineno", frame.f_lineno)
                span.set_attribute("code.function", frame.f_code.co_name)
                return
            frame = frame.f_back  # type: ignore[assignment]

    def on_end(self, span: ReadableSpan) -> None:
        return None


def create_app(database: Path, exporter_path: Path, *, with_code_location: bool) -> tuple[FastAPI, TracerProvider]:
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    if with_code_location:
        provider.add_span_processor(CodeLocation())
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(exporter_path)))
    engine = create_engine(f"sqlite:///{database}")
    # skip_dep_check: the instrumentation declares sqlalchemy < 2.1, and works with 2.1.
    SQLAlchemyInstrumentor().instrument(engine=engine, tracer_provider=provider, skip_dep_check=True)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        customers = [Customer(id=number, email=f"c{number}@example.com") for number in range(1, CUSTOMERS + 1)]
        session.add_all(customers)
        session.add_all(Order(id=number, customer_id=number) for number in range(1, CUSTOMERS + 1))
        session.commit()
    app = FastAPI()

    @app.get("/orders")
    def list_orders() -> list[dict[str, object]]:
        with Session(engine) as session:
            orders = session.scalars(select(Order)).all()
            return [{"id": order.id, "email": order.customer.email} for order in orders]  # otel: lazy-customer

    @app.get("/orders/{order_id}")
    def get_order(order_id: int) -> dict[str, object]:
        with Session(engine) as session:
            order = session.get(Order, order_id)
            if order is None:
                raise HTTPException(404)
            return {"id": order.id}

    @app.get("/checkout")
    def checkout() -> dict[str, object]:
        raise ValueError("card declined for order 7")

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    return app, provider


def finish(app: FastAPI, provider: TracerProvider) -> None:
    """Flush the exporter and take the instrumentation off (SQLAlchemy's instrumentor is process-wide)."""
    provider.shutdown()
    FastAPIInstrumentor.uninstrument_app(app)
    SQLAlchemyInstrumentor().uninstrument()


def run_traffic(app: FastAPI, requests: int = 3) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    for number in range(requests):
        client.get("/orders")
        client.get(f"/orders/{number + 1}")
        client.get("/checkout")
