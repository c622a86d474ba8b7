"""A Flask + Flask-SQLAlchemy service for the runtime tests."""

from __future__ import annotations

import os
import threading
import time

from collections.abc import Iterator

from flask import Flask, jsonify, stream_with_context
from flask.typing import ResponseReturnValue
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

AUTHORS = 6
STALL_SECONDS = 0.3


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Writer(db.Model):  # type: ignore[name-defined]
    __tablename__ = "writers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    novels: Mapped[list[Novel]] = relationship(back_populates="writer")


class Novel(db.Model):  # type: ignore[name-defined]
    __tablename__ = "novels"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    writer_id: Mapped[int] = mapped_column(ForeignKey("writers.id"))
    writer: Mapped[Writer] = relationship(back_populates="novels")


def create_app(database: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database or os.environ['RT_FLASK_DB']}"
    db.init_app(app)
    barrier = threading.Barrier(2, timeout=10)

    @app.get("/writers")
    def list_writers() -> ResponseReturnValue:
        writers = db.session.scalars(select(Writer)).all()
        return jsonify([{"name": w.name, "novels": [n.title for n in w.novels]} for w in writers])  # rt: flask-lazy

    @app.get("/writers/eager")
    def list_writers_eager() -> ResponseReturnValue:
        writers = db.session.scalars(select(Writer).options(selectinload(Writer.novels))).all()
        return jsonify([{"name": w.name, "novels": [n.title for n in w.novels]} for w in writers])

    @app.get("/writers/<int:writer_id>")
    def get_writer(writer_id: int) -> ResponseReturnValue:
        writer = db.session.get(Writer, writer_id)
        return jsonify({"name": writer.name if writer else None})

    @app.get("/async/sleep")
    async def blocking_async_view() -> ResponseReturnValue:
        time.sleep(STALL_SECONDS)
        return jsonify({"slept": "yes"})

    @app.get("/streamed")
    def streamed() -> ResponseReturnValue:
        def rows() -> Iterator[str]:
            for writer_id in range(1, 4):
                writer = db.session.get(Writer, writer_id)
                yield f"{writer.name if writer else ''}\n"

        return app.response_class(stream_with_context(rows()), mimetype="text/plain")

    @app.get("/concurrent/<table>")
    def concurrent(table: str) -> ResponseReturnValue:
        model = Writer if table == "writers" else Novel
        first = len(db.session.scalars(select(model)).all())
        barrier.wait()
        second = len(db.session.scalars(select(model)).all())
        return jsonify({"rows": first + second})

    with app.app_context():
        db.create_all()
        for number in range(AUTHORS):
            writer = Writer(name=f"writer {number}")
            db.session.add(writer)
            db.session.add_all([Novel(title=f"novel {number}.{i}", writer=writer) for i in range(2)])
        db.session.commit()
    return app
